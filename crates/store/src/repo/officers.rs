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
}

const COLUMNS: &str =
    "id, username, display_name, jurisdiction_code, roles, password_hash, created_at";

impl Row {
    fn into_officer(self) -> Result<(Officer, String), StoreError> {
        let invalid = |what: String| StoreError::InvalidRow(format!("officer {}: {what}", self.id));
        let jurisdiction = Jurisdiction::by_code(&self.jurisdiction_code)
            .ok_or_else(|| invalid(format!("jurisdiction {}", self.jurisdiction_code)))?;
        let roles = self
            .roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| OfficerRole::from_code(r).ok_or_else(|| invalid(format!("role {r}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            Officer {
                id: OfficerId::from_raw(self.id),
                username: self.username,
                display_name: self.display_name,
                jurisdiction,
                roles,
                created_at: Timestamp(self.created_at),
            },
            self.password_hash,
        ))
    }
}

fn role_codes(roles: &[OfficerRole]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

/// Inserts the officer or, when the username is taken, resets its details and password.
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
             password_hash = excluded.password_hash \
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

/// The officer and its password hash, for login.
pub async fn by_username(
    store: &Store,
    username: &str,
) -> Result<Option<(Officer, String)>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM officers WHERE username = $1");
    let row: Option<Row> = on_reader!(store, |e| {
        sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(e)
            .await?
    });
    row.map(Row::into_officer).transpose()
}

pub async fn by_id(store: &Store, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM officers WHERE id = $1");
    let row: Option<Row> = on_reader!(store, |e| {
        sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(e)
            .await?
    });
    Ok(row.map(Row::into_officer).transpose()?.map(|(o, _)| o))
}

/// All officers, city first, then by jurisdiction and username.
pub async fn list(store: &Store) -> Result<Vec<Officer>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM officers ORDER BY jurisdiction_code, username");
    let rows: Vec<Row> = on_reader!(store, |e| sqlx::query_as(&sql).fetch_all(e).await?);
    rows.into_iter()
        .map(|r| r.into_officer().map(|(o, _)| o))
        .collect()
}
