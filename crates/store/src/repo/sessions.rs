//! Login sessions, kept in the store so that any instance can serve any request and a restart
//! logs nobody out.
use tongban_domain::{EnterpriseId, OfficerId, Timestamp};

use rusqlite::OptionalExtension;

use crate::engine::Pools;
use crate::{Store, StoreError, Tx};

/// A live session and whom it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub officer_id: Option<OfficerId>,
    /// For an enterprise login: the enterprise and the certificate it logged in with.
    pub enterprise_id: Option<EnterpriseId>,
    pub certificate_serial: Option<String>,
    pub individual_id: Option<String>,
    pub expires_at: Timestamp,
}

/// Whom a new session belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Officer(&'a OfficerId),
    /// An officer logged in with the certificate `certificate` (its serial).
    OfficerByCertificate {
        id: &'a OfficerId,
        certificate: &'a str,
    },
    /// An enterprise, logged in with the certificate `certificate` (its serial).
    Enterprise {
        id: &'a EnterpriseId,
        certificate: &'a str,
    },
    Individual(&'a str),
}

/// Records a session under `key` (the digest of the cookie secret).
pub async fn insert(
    tx: &mut Tx,
    key: &str,
    owner: Owner<'_>,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    let (officer, enterprise, certificate, individual) = match owner {
        Owner::Officer(id) => (Some(id.as_str()), None, None, None),
        Owner::OfficerByCertificate { id, certificate } => {
            (Some(id.as_str()), None, Some(certificate), None)
        }
        Owner::Enterprise { id, certificate } => (None, Some(id.as_str()), Some(certificate), None),
        Owner::Individual(id) => (None, None, None, Some(id)),
    };
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO sessions (id, officer_id, enterprise_id, certificate_serial, individual_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key)
        .bind(officer)
        .bind(enterprise)
        .bind(certificate)
        .bind(individual)
        .bind(Timestamp::now().millis())
        .bind(expires_at.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The session under `key` if it has not expired at `now`.
pub async fn live(store: &Store, key: &str, now: Timestamp) -> Result<Option<Session>, StoreError> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
    );
    const SQL: &str = "SELECT officer_id, enterprise_id, certificate_serial, individual_id, expires_at \
        FROM sessions WHERE id = $1 AND expires_at > $2";
    // On every request of a logged-in officer or individual.
    let row: Option<Row> = live_row(store, SQL, key, now, |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .await?;
    Ok(row.map(
        |(officer, enterprise, serial, individual, expires)| Session {
            officer_id: officer.map(OfficerId::from_raw),
            enterprise_id: enterprise.map(EnterpriseId::from_raw),
            certificate_serial: serial,
            individual_id: individual,
            expires_at: Timestamp(expires),
        },
    ))
}

/// The row `sql` selects for the session `key` live at `now` (its `$1` and `$2`), read the way
/// a read made on every request is: on SQLite on this thread (see `direct`), decoded by
/// `direct_row`; on PostgreSQL from the read pool.
pub(crate) async fn live_row<T>(
    store: &Store,
    sql: &'static str,
    key: &str,
    now: Timestamp,
    direct_row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + 'static,
{
    Ok(match &*store.pools {
        Pools::Sqlite { direct, .. } => {
            let (key, now) = (key.to_string(), now.millis());
            direct
                .read_here(move |conn| {
                    conn.prepare_cached(sql)?
                        .query_row((&key, now), direct_row)
                        .optional()
                })
                .await?
        }
        Pools::Postgres { reader, .. } => {
            sqlx::query_as(sql)
                .bind(key)
                .bind(now.millis())
                .fetch_optional(reader)
                .await?
        }
    })
}

pub async fn delete(tx: &mut Tx, key: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn purge_expired(tx: &mut Tx, now: Timestamp) -> Result<u64, StoreError> {
    let done = on_tx!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(done)
}
