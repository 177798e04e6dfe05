//! Rows of 固废链, the verifiable log (`tongban-ledger` holds the tree and the rules): its
//! entries (the leaves, in order), the hashes of its complete subtrees, the state each business
//! key was left in, and the signed checkpoints with the witnesses' cosignatures.
use crate::engine::Pools;
use crate::{Store, StoreError, Tx, dialect};

/// An entry as stored: leaf `seq` of the tree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    pub seq: i64,
    pub contract: String,
    pub version: i32,
    pub business_key: String,
    pub operation: String,
    pub payload: String,
    pub payload_sm3: String,
    pub app_id: String,
    pub app_signature: String,
    pub at: i64,
    /// The key's previous entry under the same contract.
    pub prev_seq: Option<i64>,
    pub leaf_hash: Vec<u8>,
}

const ENTRY_COLUMNS: &str = "seq, contract, version, business_key, operation, payload, \
    payload_sm3, app_id, app_signature, at, prev_seq, leaf_hash";

/// A complete subtree's hash: the `2^level` leaves from `idx << level`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NodeRow {
    pub level: i32,
    pub idx: i64,
    pub hash: Vec<u8>,
}

/// Where a business key stands under its contract.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    pub contract: String,
    pub business_key: String,
    pub state: String,
    /// The 备案号 (or other reference) the key may also be found by.
    pub reference: Option<String>,
    pub last_seq: i64,
    pub entries: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckpointRow {
    pub height: i64,
    pub tree_size: i64,
    pub root: Vec<u8>,
    pub at: i64,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CosignatureRow {
    pub height: i64,
    pub witness: String,
    pub signature: Vec<u8>,
    pub at: i64,
}

/// The log's size and last checkpoint's height, as they stand for `tx`.
pub async fn head(tx: &mut Tx) -> Result<(i64, i64), StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT size, height FROM chain_head WHERE id = 1"
    )
    .fetch_one(c)
    .await?))
}

/// Locks the log's head row for the rest of `tx` (PostgreSQL; SQLite's one writer already
/// excludes others), so the key states the batch is checked against cannot change under it
/// from another instance.
pub async fn lock_head(tx: &mut Tx) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE chain_head SET size = size WHERE id = 1"
    )
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Takes `entries` more leaves and one more checkpoint: returns the first new leaf's index and
/// the new checkpoint's height. On PostgreSQL the row stays locked until `tx` ends, so appenders
/// on several instances take turns.
pub async fn grow(tx: &mut Tx, entries: i64) -> Result<(i64, i64), StoreError> {
    let (size, height): (i64, i64) = on_tx!(tx, |c| {
        sqlx::query_as(
            "UPDATE chain_head SET size = size + $1, height = height + 1 WHERE id = 1 \
             RETURNING size, height",
        )
        .bind(entries)
        .fetch_one(c)
        .await?
    });
    Ok((size - entries, height))
}

/// The log's size as readers see it.
pub async fn size(store: &Store) -> Result<i64, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_scalar(
        "SELECT size FROM chain_head WHERE id = 1"
    )
    .fetch_one(e)
    .await?))
}

/// Rows of at most this many parameters per INSERT.
const MAX_PARAMS: usize = 900;

pub async fn insert_entries(tx: &mut Tx, rows: &[EntryRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_PARAMS / 12) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| dialect::row_placeholders(tx.engine(), i, 12))
            .collect();
        let sql = format!(
            "INSERT INTO chain_entries ({ENTRY_COLUMNS}) VALUES {}",
            values.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(r.seq)
                    .bind(&r.contract)
                    .bind(r.version)
                    .bind(&r.business_key)
                    .bind(&r.operation)
                    .bind(&r.payload)
                    .bind(&r.payload_sm3)
                    .bind(&r.app_id)
                    .bind(&r.app_signature)
                    .bind(r.at)
                    .bind(r.prev_seq)
                    .bind(&r.leaf_hash);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

pub async fn insert_nodes(tx: &mut Tx, rows: &[NodeRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_PARAMS / 3) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| dialect::row_placeholders(tx.engine(), i, 3))
            .collect();
        let sql = format!(
            "INSERT INTO chain_nodes (level, idx, hash) VALUES {}",
            values.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q.bind(r.level).bind(r.idx).bind(&r.hash);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

fn nodes_sql(engine: crate::Engine, wanted: usize) -> String {
    let each: Vec<String> = (0..wanted)
        .map(|i| match engine {
            crate::Engine::Sqlite => "(level = ? AND idx = ?)".to_string(),
            crate::Engine::Postgres => format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2),
        })
        .collect();
    format!(
        "SELECT level, idx, hash FROM chain_nodes WHERE {}",
        each.join(" OR ")
    )
}

/// The stored hashes of the subtrees `wanted` (level, index), in one query; missing ones are
/// left out.
pub async fn nodes(store: &Store, wanted: &[(i32, i64)]) -> Result<Vec<NodeRow>, StoreError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let sql = nodes_sql(store.engine(), wanted.len());
    Ok(on_reader!(store, |e| {
        let mut q = sqlx::query_as(&sql);
        for (level, idx) in wanted {
            q = q.bind(*level).bind(*idx);
        }
        q.fetch_all(e).await?
    }))
}

/// [`nodes`] read through the writing transaction.
pub async fn nodes_in(tx: &mut Tx, wanted: &[(i32, i64)]) -> Result<Vec<NodeRow>, StoreError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let sql = nodes_sql(tx.engine(), wanted.len());
    Ok(on_tx!(tx, |c| {
        let mut q = sqlx::query_as(&sql);
        for (level, idx) in wanted {
            q = q.bind(*level).bind(*idx);
        }
        q.fetch_all(c).await?
    }))
}

const KEY_COLUMNS: &str = "contract, business_key, state, reference, last_seq, entries";

fn key_sql() -> String {
    format!("SELECT {KEY_COLUMNS} FROM chain_keys WHERE contract = $1 AND business_key = $2")
}

pub async fn key_in(
    tx: &mut Tx,
    contract: &str,
    business_key: &str,
) -> Result<Option<KeyRow>, StoreError> {
    let sql = key_sql();
    Ok(on_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(contract)
        .bind(business_key)
        .fetch_optional(c)
        .await?))
}

/// The stored rows of the keys `wanted` (contract, business key), read through the writing
/// transaction in as few queries as the parameter limit allows; missing keys are left out.
pub async fn keys_in(tx: &mut Tx, wanted: &[(&str, &str)]) -> Result<Vec<KeyRow>, StoreError> {
    let mut found = Vec::new();
    for chunk in wanted.chunks(MAX_PARAMS / 2) {
        let each: Vec<String> = (0..chunk.len())
            .map(|i| match tx.engine() {
                crate::Engine::Sqlite => "(contract = ? AND business_key = ?)".to_string(),
                crate::Engine::Postgres => format!(
                    "(contract = ${} AND business_key = ${})",
                    2 * i + 1,
                    2 * i + 2
                ),
            })
            .collect();
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM chain_keys WHERE {}",
            each.join(" OR ")
        );
        let rows: Vec<KeyRow> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(&sql);
            for (contract, key) in chunk {
                q = q.bind(*contract).bind(*key);
            }
            q.fetch_all(c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

pub async fn key(
    store: &Store,
    contract: &str,
    business_key: &str,
) -> Result<Option<KeyRow>, StoreError> {
    let sql = key_sql();
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(contract)
        .bind(business_key)
        .fetch_optional(e)
        .await?))
}

/// The keys of `contract` found by their reference (备案号).
pub async fn keys_by_reference(
    store: &Store,
    contract: &str,
    reference: &str,
) -> Result<Vec<KeyRow>, StoreError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM chain_keys WHERE contract = $1 AND reference = $2 \
         ORDER BY business_key"
    );
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(contract)
        .bind(reference)
        .fetch_all(e)
        .await?))
}

/// Writes the keys' rows (each key at most once), inserting or replacing.
pub async fn put_keys(tx: &mut Tx, rows: &[&KeyRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_PARAMS / 6) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| dialect::row_placeholders(tx.engine(), i, 6))
            .collect();
        let sql = format!(
            "INSERT INTO chain_keys ({KEY_COLUMNS}) VALUES {} \
             ON CONFLICT (contract, business_key) DO UPDATE SET \
             state = excluded.state, reference = excluded.reference, \
             last_seq = excluded.last_seq, entries = excluded.entries",
            values.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for k in chunk {
                q = q
                    .bind(&k.contract)
                    .bind(&k.business_key)
                    .bind(&k.state)
                    .bind(&k.reference)
                    .bind(k.last_seq)
                    .bind(k.entries);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

/// Every entry of a key under `contract`, oldest first.
pub async fn entries_of_key(
    store: &Store,
    contract: &str,
    business_key: &str,
) -> Result<Vec<EntryRow>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM chain_entries WHERE contract = $1 AND business_key = $2 \
         ORDER BY seq"
    );
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(contract)
        .bind(business_key)
        .fetch_all(e)
        .await?))
}

/// Up to `limit` entries from leaf `from` on, in order.
pub async fn entries_from(
    store: &Store,
    from: i64,
    limit: i64,
) -> Result<Vec<EntryRow>, StoreError> {
    map_entries_from(store, from, limit, |row| row).await
}

/// [`entries_from`], each row handed to `each` on a blocking thread as it is read: the audit's
/// hashing runs where the row is, and several pages can be read and hashed at once. On SQLite
/// the rows come through the direct connection (see `direct`).
pub async fn map_entries_from<T, F>(
    store: &Store,
    from: i64,
    limit: i64,
    each: F,
) -> Result<Vec<T>, StoreError>
where
    T: Send + 'static,
    F: Fn(EntryRow) -> T + Send + 'static,
{
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM chain_entries WHERE seq >= $1 ORDER BY seq LIMIT $2");
    match &*store.pools {
        Pools::Sqlite { direct, .. } => direct
            .read(move |conn| {
                let mut query = conn.prepare_cached(&sql)?;
                let rows = query.query_map((from, limit), |r| Ok(scanned_entry(r).map(&each)))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?
            .into_iter()
            .collect(),
        Pools::Postgres { reader, .. } => {
            let rows: Vec<EntryRow> = sqlx::query_as(&sql)
                .bind(from)
                .bind(limit)
                .fetch_all(reader)
                .await?;
            Ok(
                tokio::task::spawn_blocking(move || rows.into_iter().map(each).collect())
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
            )
        }
    }
}

/// A row of the direct read; a field whose type was changed by an edit of the database is
/// refused with the entry it is in, which is what the audit has to report.
fn scanned_entry(r: &rusqlite::Row<'_>) -> Result<EntryRow, StoreError> {
    let fields = || -> rusqlite::Result<EntryRow> {
        Ok(EntryRow {
            seq: r.get(0)?,
            contract: r.get(1)?,
            version: r.get(2)?,
            business_key: r.get(3)?,
            operation: r.get(4)?,
            payload: r.get(5)?,
            payload_sm3: r.get(6)?,
            app_id: r.get(7)?,
            app_signature: r.get(8)?,
            at: r.get(9)?,
            prev_seq: r.get(10)?,
            leaf_hash: r.get(11)?,
        })
    };
    fields().map_err(|e| {
        let seq = r
            .get::<_, i64>(0)
            .map_or_else(|_| "?".to_string(), |s| s.to_string());
        StoreError::InvalidRow(format!("chain_entries seq {seq}: {e}"))
    })
}

pub async fn insert_checkpoint(tx: &mut Tx, cp: &CheckpointRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO chain_checkpoints (height, tree_size, root, at, signature) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(cp.height)
        .bind(cp.tree_size)
        .bind(&cp.root)
        .bind(cp.at)
        .bind(&cp.signature)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

const CHECKPOINT_COLUMNS: &str = "height, tree_size, root, at, signature";

pub async fn latest_checkpoint(store: &Store) -> Result<Option<CheckpointRow>, StoreError> {
    let sql =
        format!("SELECT {CHECKPOINT_COLUMNS} FROM chain_checkpoints ORDER BY height DESC LIMIT 1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .fetch_optional(e)
        .await?))
}

pub async fn checkpoint(store: &Store, height: i64) -> Result<Option<CheckpointRow>, StoreError> {
    let sql = format!("SELECT {CHECKPOINT_COLUMNS} FROM chain_checkpoints WHERE height = $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(height)
        .fetch_optional(e)
        .await?))
}

/// The checkpoints of trees larger than `size`, oldest first: what a hash check that has
/// rebuilt the first `size` leaves has left to compare.
pub async fn checkpoints_beyond(
    store: &Store,
    size: i64,
) -> Result<Vec<CheckpointRow>, StoreError> {
    let sql = format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM chain_checkpoints WHERE tree_size > $1 ORDER BY height"
    );
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(size)
        .fetch_all(e)
        .await?))
}

/// Records a witness's cosignature; false if it had already cosigned that checkpoint.
pub async fn add_cosignature(store: &Store, c: &CosignatureRow) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, |conn| {
        sqlx::query(
            "INSERT INTO chain_cosignatures (height, witness, signature, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (height, witness) DO NOTHING",
        )
        .bind(c.height)
        .bind(&c.witness)
        .bind(&c.signature)
        .bind(c.at)
        .execute(conn)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(n == 1)
}

pub async fn cosignatures(store: &Store, height: i64) -> Result<Vec<CosignatureRow>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT height, witness, signature, at FROM chain_cosignatures WHERE height = $1 \
         ORDER BY witness"
    )
    .bind(height)
    .fetch_all(e)
    .await?))
}

/// The last checkpoint of log `origin` this store's witness cosigned.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WitnessedRow {
    pub origin: String,
    pub height: i64,
    pub tree_size: i64,
    pub root: Vec<u8>,
    pub at: i64,
    pub signature: Vec<u8>,
}

/// Two signed checkpoints that cannot both be true.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EvidenceRow {
    pub id: String,
    pub origin: String,
    pub reason: String,
    pub cosigned_body: String,
    pub cosigned_signature: Vec<u8>,
    pub offered_body: String,
    pub offered_signature: Vec<u8>,
    pub at: i64,
}

pub async fn witnessed(store: &Store, origin: &str) -> Result<Option<WitnessedRow>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT origin, height, tree_size, root, at, signature FROM witness_checkpoints \
         WHERE origin = $1"
    )
    .bind(origin)
    .fetch_optional(e)
    .await?))
}

/// Records `w` as the last cosigned checkpoint of its log, if it is newer than the one
/// recorded; false if another check got there first.
pub async fn advance_witnessed(store: &Store, w: &WitnessedRow) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO witness_checkpoints (origin, height, tree_size, root, at, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (origin) DO UPDATE SET \
             height = excluded.height, tree_size = excluded.tree_size, root = excluded.root, \
             at = excluded.at, signature = excluded.signature \
             WHERE witness_checkpoints.height < excluded.height",
        )
        .bind(&w.origin)
        .bind(w.height)
        .bind(w.tree_size)
        .bind(&w.root)
        .bind(w.at)
        .bind(&w.signature)
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(n == 1)
}

pub async fn add_evidence(store: &Store, e: &EvidenceRow) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO witness_evidence (id, origin, reason, cosigned_body, cosigned_signature, \
             offered_body, offered_signature, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.id)
        .bind(&e.origin)
        .bind(&e.reason)
        .bind(&e.cosigned_body)
        .bind(&e.cosigned_signature)
        .bind(&e.offered_body)
        .bind(&e.offered_signature)
        .bind(e.at)
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(())
}

/// The evidence a witness has kept, newest first.
pub async fn evidence(store: &Store) -> Result<Vec<EvidenceRow>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT id, origin, reason, cosigned_body, cosigned_signature, offered_body, \
         offered_signature, at FROM witness_evidence ORDER BY at DESC, id DESC"
    )
    .fetch_all(e)
    .await?))
}

/// Heights with at least `at_least` cosignatures, highest first, at most `limit`.
pub async fn cosigned_heights(
    store: &Store,
    at_least: i64,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_scalar(
        "SELECT height FROM chain_cosignatures GROUP BY height HAVING COUNT(*) >= $1 \
         ORDER BY height DESC LIMIT $2"
    )
    .bind(at_least)
    .bind(limit)
    .fetch_all(e)
    .await?))
}

/// A registered access application; `secret` as sealed, `grants` as JSON.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppRow {
    pub app_id: String,
    pub name: String,
    pub province: String,
    pub secret: String,
    pub grants: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const APP_COLUMNS: &str = "app_id, name, province, secret, grants, created_at, revoked_at";

/// Registers an application, with the audit-log line that records who granted what, in one
/// transaction.
pub async fn insert_app(
    store: &Store,
    a: &AppRow,
    audit: &tongban_domain::audit::NewAuditEntry,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    crate::audit::append(&mut tx, audit).await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO chain_apps ({APP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&a.app_id)
        .bind(&a.name)
        .bind(&a.province)
        .bind(&a.secret)
        .bind(&a.grants)
        .bind(a.created_at)
        .bind(a.revoked_at)
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(())
}

pub async fn app(store: &Store, app_id: &str) -> Result<Option<AppRow>, StoreError> {
    let sql = format!("SELECT {APP_COLUMNS} FROM chain_apps WHERE app_id = $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(app_id)
        .fetch_optional(e)
        .await?))
}

pub async fn apps(store: &Store) -> Result<Vec<AppRow>, StoreError> {
    let sql = format!("SELECT {APP_COLUMNS} FROM chain_apps ORDER BY created_at, app_id");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .fetch_all(e)
        .await?))
}

/// Stops an application, with its audit-log line; false (and nothing written) if there is no
/// such active application.
pub async fn revoke_app(
    store: &Store,
    app_id: &str,
    at: i64,
    audit: &tongban_domain::audit::NewAuditEntry,
) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE chain_apps SET revoked_at = $2 WHERE app_id = $1 AND revoked_at IS NULL",
        )
        .bind(app_id)
        .bind(at)
        .execute(c)
        .await?
        .rows_affected()
    });
    if n != 1 {
        return Ok(false);
    }
    crate::audit::append(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Records that `app_id` used `nonce`; false if it had used it before.
pub async fn use_nonce(
    store: &Store,
    app_id: &str,
    nonce: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let fresh = use_nonces(&mut tx, &[(app_id.to_string(), nonce.to_string())], at).await?;
    tx.commit().await?;
    Ok(!fresh.is_empty())
}

/// Records the nonces in `tx`; returns the ones not used before (once each).
pub async fn use_nonces(
    tx: &mut Tx,
    nonces: &[(String, String)],
    at: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut fresh = Vec::new();
    for chunk in nonces.chunks(MAX_PARAMS / 3) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| dialect::row_placeholders(tx.engine(), i, 3))
            .collect();
        let sql = format!(
            "INSERT INTO chain_nonces (app_id, nonce, at) VALUES {} \
             ON CONFLICT (app_id, nonce) DO NOTHING RETURNING app_id, nonce",
            values.join(", ")
        );
        let rows: Vec<(String, String)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(&sql);
            for (app, nonce) in chunk {
                q = q.bind(app).bind(nonce).bind(at);
            }
            q.fetch_all(c).await?
        });
        fresh.extend(rows);
    }
    Ok(fresh)
}

/// Forgets nonces used before `before`: calls that old are refused by their timestamp anyway.
pub async fn purge_nonces(store: &Store, before: i64) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, |c| sqlx::query(
        "DELETE FROM chain_nonces WHERE at < $1"
    )
    .bind(before)
    .execute(c)
    .await?
    .rows_affected());
    tx.commit().await?;
    Ok(n)
}

/// A subscription and where its delivery stands; `contracts` as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: String,
    pub app_id: String,
    pub contracts: String,
    pub callback_url: String,
    pub cursor: i64,
    pub delivered: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

const SUBSCRIPTION_COLUMNS: &str = "id, app_id, contracts, callback_url, cursor, delivered, \
    attempts, next_attempt_at, last_error, created_at";

pub async fn insert_subscription(store: &Store, s: &SubscriptionRow) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO chain_subscriptions ({SUBSCRIPTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&s.id)
        .bind(&s.app_id)
        .bind(&s.contracts)
        .bind(&s.callback_url)
        .bind(s.cursor)
        .bind(s.delivered)
        .bind(s.attempts)
        .bind(s.next_attempt_at)
        .bind(&s.last_error)
        .bind(s.created_at)
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(())
}

pub async fn subscription(store: &Store, id: &str) -> Result<Option<SubscriptionRow>, StoreError> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM chain_subscriptions WHERE id = $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(e)
        .await?))
}

/// Subscriptions with entries left to look at and a delivery due by `now`.
pub async fn due_subscriptions(
    store: &Store,
    size: i64,
    now: i64,
) -> Result<Vec<SubscriptionRow>, StoreError> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM chain_subscriptions \
         WHERE cursor < $1 AND next_attempt_at <= $2 ORDER BY created_at, id"
    );
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(size)
        .bind(now)
        .fetch_all(e)
        .await?))
}

/// Moves the cursor on after a delivery (or entries the application may not see).
pub async fn advance_subscription(
    store: &Store,
    id: &str,
    cursor: i64,
    delivered: i64,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE chain_subscriptions SET cursor = $2, delivered = delivered + $3, \
             attempts = 0, last_error = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(cursor)
        .bind(delivered)
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(())
}

/// Records a failed delivery and when to try again.
pub async fn fail_subscription(
    store: &Store,
    id: &str,
    next_attempt_at: i64,
    error: &str,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE chain_subscriptions SET attempts = attempts + 1, next_attempt_at = $2, \
             last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(next_attempt_at)
        .bind(error)
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(())
}

/// A run of the hash check; `findings` and `frontier` as JSON arrays.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub from_size: i64,
    pub to_size: i64,
    pub findings: String,
    pub frontier: String,
}

const AUDIT_COLUMNS: &str = "id, at, from_size, to_size, findings, frontier";

/// Records a run of the hash check, with its audit-log line if it found anything, in one
/// transaction.
pub async fn insert_audit(
    store: &Store,
    a: &AuditRow,
    alert: Option<&tongban_domain::audit::NewAuditEntry>,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO chain_audits ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&a.id)
        .bind(a.at)
        .bind(a.from_size)
        .bind(a.to_size)
        .bind(&a.findings)
        .bind(&a.frontier)
        .execute(c)
        .await?
        .rows_affected()
    });
    if let Some(entry) = alert {
        crate::audit::append(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The newest runs of the hash check, newest first.
pub async fn audits(store: &Store, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    let sql =
        format!("SELECT {AUDIT_COLUMNS} FROM chain_audits ORDER BY at DESC, id DESC LIMIT $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(e)
        .await?))
}

/// Entries per contract: the contracts' executions.
pub async fn contract_counts(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT contract, COUNT(*) FROM chain_entries GROUP BY contract ORDER BY contract"
    )
    .fetch_all(e)
    .await?))
}

/// Business keys per contract.
pub async fn key_counts(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT contract, COUNT(*) FROM chain_keys GROUP BY contract ORDER BY contract"
    )
    .fetch_all(e)
    .await?))
}

/// Each witness's newest cosigned height and when it cosigned it.
pub async fn witness_activity(store: &Store) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT witness, MAX(height), MAX(at) FROM chain_cosignatures GROUP BY witness \
         ORDER BY witness"
    )
    .fetch_all(e)
    .await?))
}

/// The newest entries, newest first.
pub async fn latest_entries(store: &Store, limit: i64) -> Result<Vec<EntryRow>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM chain_entries ORDER BY seq DESC LIMIT $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(e)
        .await?))
}
