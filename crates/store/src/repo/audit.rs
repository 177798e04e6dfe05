//! The audit log's rows. Appending computes the chained digest (the rule is in
//! `tongban_domain::audit`) inside the caller's transaction, so an action and its audit entry
//! commit together. There is no update or delete here, by design.
use tongban_domain::Timestamp;
use tongban_domain::audit::{AuditRecord, NewAuditEntry, entry_digest};

use crate::{Store, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    object: String,
    detail: String,
    prev_digest: String,
    digest: String,
}

impl From<Row> for AuditRecord {
    fn from(r: Row) -> Self {
        AuditRecord {
            seq: r.seq,
            at: Timestamp(r.at),
            actor: r.actor,
            action: r.action,
            object: r.object,
            detail: r.detail,
            prev_digest: r.prev_digest,
            digest: r.digest,
        }
    }
}

/// Appends `entry` and returns it as stored.
pub async fn append(tx: &mut Tx, entry: &NewAuditEntry) -> Result<AuditRecord, StoreError> {
    // Taking the next number locks the head row until commit: appends queue up here.
    let (seq, prev_digest): (i64, String) = on_tx!(tx, |c| {
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, digest")
            .fetch_one(c)
            .await?
    });
    let at = Timestamp::now();
    let detail = entry.detail.to_string();
    let action = entry.action.code();
    let digest = entry_digest(
        seq,
        at,
        &entry.actor,
        action,
        &entry.object,
        &detail,
        &prev_digest,
    );
    on_tx!(tx, |c| {
        sqlx::query("UPDATE audit_head SET digest = $1 WHERE id = 1")
            .bind(&digest)
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, object, detail, prev_digest, digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(at.millis())
        .bind(&entry.actor)
        .bind(action)
        .bind(&entry.object)
        .bind(&detail)
        .bind(&prev_digest)
        .bind(&digest)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(AuditRecord {
        seq,
        at,
        actor: entry.actor.clone(),
        action: action.to_string(),
        object: entry.object.clone(),
        detail,
        prev_digest,
        digest,
    })
}

/// Up to `limit` entries after `after_seq`, oldest first.
pub async fn page(
    store: &Store,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>, StoreError> {
    let rows: Vec<Row> = on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT seq, at, actor, action, object, detail, prev_digest, digest FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(e)
        .await?
    });
    Ok(rows.into_iter().map(AuditRecord::from).collect())
}

/// The newest entries of one actor, newest first.
pub async fn by_actor(
    store: &Store,
    actor: &str,
    limit: i64,
) -> Result<Vec<AuditRecord>, StoreError> {
    let rows: Vec<Row> = on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT seq, at, actor, action, object, detail, prev_digest, digest FROM audit_log \
             WHERE actor = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(actor)
        .bind(limit)
        .fetch_all(e)
        .await?
    });
    Ok(rows.into_iter().map(AuditRecord::from).collect())
}

/// The last sequence number and digest.
pub async fn head(store: &Store) -> Result<(i64, String), StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as("SELECT seq, digest FROM audit_head WHERE id = 1")
            .fetch_one(e)
            .await?
    }))
}
