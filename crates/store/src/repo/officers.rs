use tongban_domain::{Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp};

use crate::{Store, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    username: String,
    display_name: String,
    jurisdiction_code: String,
    roles: String,
    password_hash: String,
    created_at: i64,
    failed_logins: i32,
    locked_until: Option<i64>,
}

const COLUMNS: &str = "id, username, display_name, jurisdiction_code, roles, password_hash, created_at, \
                       failed_logins, locked_until";

/// What a login needs to know about an officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginState {
    pub officer: Officer,
    pub password_hash: String,
    /// Consecutive failures since the last success or lock.
    pub failed_logins: i32,
    pub locked_until: Option<Timestamp>,
}

impl Row {
    fn into_state(self) -> Result<LoginState, StoreError> {
        let invalid = |what: String| StoreError::InvalidRow(format!("officer {}: {what}", self.id));
        let jurisdiction = Jurisdiction::by_code(&self.jurisdiction_code)
            .ok_or_else(|| invalid(format!("jurisdiction {}", self.jurisdiction_code)))?;
        let roles = self
            .roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| OfficerRole::from_code(r).ok_or_else(|| invalid(format!("role {r}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LoginState {
            officer: Officer {
                id: OfficerId::from_raw(self.id),
                username: self.username,
                display_name: self.display_name,
                jurisdiction,
                roles,
                created_at: Timestamp(self.created_at),
            },
            password_hash: self.password_hash,
            failed_logins: self.failed_logins,
            locked_until: self.locked_until.map(Timestamp),
        })
    }
}

fn role_codes(roles: &[OfficerRole]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

/// Inserts the officer or, when the username is taken, resets its details and password (and
/// clears a lock).
/// Returns the id in effect.
pub async fn upsert_by_username(
    tx: &mut Tx,
    o: &Officer,
    password_hash: &str,
) -> Result<OfficerId, StoreError> {
    let id: String = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO officers (id, username, display_name, jurisdiction_code, roles, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, \
             jurisdiction_code = excluded.jurisdiction_code, roles = excluded.roles, \
             password_hash = excluded.password_hash, failed_logins = 0, locked_until = NULL \
             RETURNING id",
        )
        .bind(o.id.as_str())
        .bind(&o.username)
        .bind(&o.display_name)
        .bind(o.jurisdiction.code)
        .bind(role_codes(&o.roles))
        .bind(password_hash)
        .bind(o.created_at.millis())
        .fetch_one(c)
        .await?
    });
    Ok(OfficerId::from_raw(id))
}

/// The officer with its password hash and lock state, for login.
pub async fn login_state(store: &Store, username: &str) -> Result<Option<LoginState>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM officers WHERE username = $1");
    let row: Option<Row> = on_reader!(store, |e| {
        sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(e)
            .await?
    });
    row.map(Row::into_state).transpose()
}

/// Counts a failed login. The `lock_after`-th consecutive failure locks the account until
/// `lock_until` and starts the count again. Returns the lock's end if this failure locked it.
pub async fn record_failed_login(
    tx: &mut Tx,
    id: &OfficerId,
    lock_after: i32,
    lock_until: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let (locked,): (bool,) = on_tx!(tx, |c| {
        sqlx::query_as(
            "UPDATE officers SET \
             locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
             failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
             WHERE id = $1 RETURNING locked_until = $3 AND failed_logins = 0",
        )
        .bind(id.as_str())
        .bind(lock_after)
        .bind(lock_until.millis())
        .fetch_one(c)
        .await?
    });
    Ok(locked.then_some(lock_until))
}

/// Clears the failure count and any lock after a successful login.
pub async fn record_login(tx: &mut Tx, id: &OfficerId) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("UPDATE officers SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.as_str())
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(())
}

pub async fn by_id(store: &Store, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM officers WHERE id = $1");
    let row: Option<Row> = on_reader!(store, |e| {
        sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(e)
            .await?
    });
    Ok(row.map(Row::into_state).transpose()?.map(|s| s.officer))
}

/// All officers, city first, then by jurisdiction and username.
pub async fn list(store: &Store) -> Result<Vec<Officer>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM officers ORDER BY jurisdiction_code, username");
    let rows: Vec<Row> = on_reader!(store, |e| sqlx::query_as(&sql).fetch_all(e).await?);
    rows.into_iter()
        .map(|r| r.into_state().map(|s| s.officer))
        .collect()
}
