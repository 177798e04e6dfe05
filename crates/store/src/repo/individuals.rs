//! Individuals and their SMS codes. Identity and phone numbers arrive sealed with their blind
//! indexes from the identity layer; this module never sees them in the clear.
use tongban_domain::Timestamp;

use crate::error::conflict_on_unique;
use crate::{Store, StoreError, Tx};

/// An individual as stored: `id_number` and `phone` are sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IndividualRow {
    pub id: String,
    pub name: String,
    pub id_number: String,
    pub id_number_index: String,
    pub phone: String,
    pub phone_index: String,
    pub password_hash: String,
    pub failed_logins: i32,
    pub locked_until: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, name, id_number, id_number_index, phone, phone_index, password_hash, failed_logins, locked_until, created_at";

/// Registers an individual; an identity or phone number already registered is a conflict.
pub async fn insert(tx: &mut Tx, r: &IndividualRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO individuals ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    on_tx!(tx, |c| {
        sqlx::query(&sql)
            .bind(&r.id)
            .bind(&r.name)
            .bind(&r.id_number)
            .bind(&r.id_number_index)
            .bind(&r.phone)
            .bind(&r.phone_index)
            .bind(&r.password_hash)
            .bind(r.failed_logins)
            .bind(r.locked_until)
            .bind(r.created_at)
            .execute(c)
            .await
            .map_err(conflict_on_unique("身份证号码或手机号码"))?
            .rows_affected()
    });
    Ok(())
}

/// The individual whose phone or identity number has the blind index `index`.
pub async fn by_login_index(
    store: &Store,
    index: &str,
) -> Result<Option<IndividualRow>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM individuals WHERE phone_index = $1 OR id_number_index = $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(index)
        .fetch_optional(e)
        .await?))
}

pub async fn by_id(store: &Store, id: &str) -> Result<Option<IndividualRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM individuals WHERE id = $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(e)
        .await?))
}

/// Counts a failed login; the `lock_after`-th in a row locks until `lock_until`. Returns the
/// lock's end if this failure locked the account.
pub async fn record_failed_login(
    tx: &mut Tx,
    id: &str,
    lock_after: i32,
    lock_until: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let (locked,): (bool,) = on_tx!(tx, |c| {
        sqlx::query_as(
            "UPDATE individuals SET \
             locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
             failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
             WHERE id = $1 RETURNING locked_until = $3 AND failed_logins = 0",
        )
        .bind(id)
        .bind(lock_after)
        .bind(lock_until.millis())
        .fetch_one(c)
        .await?
    });
    Ok(locked.then_some(lock_until))
}

pub async fn record_login(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("UPDATE individuals SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Stores a new code for (`individual`, `purpose`), replacing none: older codes simply expire.
pub async fn insert_code(
    tx: &mut Tx,
    id: &str,
    individual: &str,
    purpose: &str,
    digest: &str,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO sms_codes (id, individual_id, purpose, code_digest, expires_at, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(id)
        .bind(individual)
        .bind(purpose)
        .bind(digest)
        .bind(expires_at.millis())
        .bind(Timestamp::now().millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The newest live code for (`individual`, `purpose`): (id, digest, attempts so far).
pub async fn latest_code(
    tx: &mut Tx,
    individual: &str,
    purpose: &str,
    now: Timestamp,
) -> Result<Option<(String, String, i32)>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT id, code_digest, attempts FROM sms_codes WHERE individual_id = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(individual)
        .bind(purpose)
        .bind(now.millis())
        .fetch_optional(c)
        .await?
    }))
}

pub async fn count_attempt(tx: &mut Tx, code_id: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("UPDATE sms_codes SET attempts = attempts + 1 WHERE id = $1")
            .bind(code_id)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(())
}

pub async fn spend_code(tx: &mut Tx, code_id: &str, now: Timestamp) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query("UPDATE sms_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
            .bind(code_id)
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Codes sent to an individual in the last `window_ms` (for the sending rate limit).
pub async fn codes_sent_since(
    tx: &mut Tx,
    individual: &str,
    since: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sms_codes WHERE individual_id = $1 AND created_at > $2",
        )
        .bind(individual)
        .bind(since.millis())
        .fetch_one(c)
        .await?
    }))
}
