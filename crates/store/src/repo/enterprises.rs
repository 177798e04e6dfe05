use tongban_domain::{CreditCode, Enterprise, EnterpriseId, Jurisdiction, Timestamp};

use crate::error::conflict_on_unique;
use crate::{Store, StoreError, Tx};

#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    id: String,
    name: String,
    credit_code: String,
    legal_representative: String,
    registered_address: String,
    district_code: String,
    created_at: i64,
}

const COLUMNS: &str =
    "id, name, credit_code, legal_representative, registered_address, district_code, created_at";

impl Row {
    /// The row from a direct read whose columns from `at` on are `COLUMNS`.
    pub(crate) fn direct(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Row> {
        Ok(Row {
            id: r.get(at)?,
            name: r.get(at + 1)?,
            credit_code: r.get(at + 2)?,
            legal_representative: r.get(at + 3)?,
            registered_address: r.get(at + 4)?,
            district_code: r.get(at + 5)?,
            created_at: r.get(at + 6)?,
        })
    }
}

impl TryFrom<Row> for Enterprise {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Enterprise {
            credit_code: CreditCode::parse(&r.credit_code)
                .map_err(|e| StoreError::InvalidRow(format!("enterprise {}: {e}", r.id)))?,
            district: Jurisdiction::by_code(&r.district_code).ok_or_else(|| {
                StoreError::InvalidRow(format!("enterprise {}: district {}", r.id, r.district_code))
            })?,
            id: EnterpriseId::from_raw(r.id),
            name: r.name,
            legal_representative: r.legal_representative,
            registered_address: r.registered_address,
            created_at: Timestamp(r.created_at),
        })
    }
}

/// Inserts an enterprise; a second one with the same credit code is a conflict.
pub async fn insert(tx: &mut Tx, e: &Enterprise) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO enterprises (id, name, credit_code, legal_representative, registered_address, district_code, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.id.as_str())
        .bind(&e.name)
        .bind(e.credit_code.as_str())
        .bind(&e.legal_representative)
        .bind(&e.registered_address)
        .bind(e.district.code)
        .bind(e.created_at.millis())
        .execute(c)
        .await
        .map_err(conflict_on_unique("统一社会信用代码"))?
        .rows_affected()
    });
    Ok(())
}

/// Inserts the enterprise or, when its credit code is known, resets its details to `e`'s and
/// keeps the existing id. Returns the id in effect.
pub async fn upsert_by_credit_code(
    tx: &mut Tx,
    e: &Enterprise,
) -> Result<EnterpriseId, StoreError> {
    let id: String = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO enterprises (id, name, credit_code, legal_representative, registered_address, district_code, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, \
             legal_representative = excluded.legal_representative, \
             registered_address = excluded.registered_address, district_code = excluded.district_code \
             RETURNING id",
        )
        .bind(e.id.as_str())
        .bind(&e.name)
        .bind(e.credit_code.as_str())
        .bind(&e.legal_representative)
        .bind(&e.registered_address)
        .bind(e.district.code)
        .bind(e.created_at.millis())
        .fetch_one(c)
        .await?
    });
    Ok(EnterpriseId::from_raw(id))
}

pub async fn by_credit_code(
    store: &Store,
    code: &CreditCode,
) -> Result<Option<Enterprise>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM enterprises WHERE credit_code = $1");
    let row: Option<Row> = on_reader!(store, |e| {
        sqlx::query_as(&sql)
            .bind(code.as_str())
            .fetch_optional(e)
            .await?
    });
    row.map(Enterprise::try_from).transpose()
}

/// All enterprises by name.
pub async fn list(store: &Store) -> Result<Vec<Enterprise>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM enterprises ORDER BY name");
    let rows: Vec<Row> = on_reader!(store, |e| sqlx::query_as(&sql).fetch_all(e).await?);
    rows.into_iter().map(Enterprise::try_from).collect()
}

pub async fn count(store: &Store) -> Result<i64, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_scalar("SELECT COUNT(*) FROM enterprises")
            .fetch_one(e)
            .await?
    }))
}

pub async fn by_id(store: &Store, id: &EnterpriseId) -> Result<Option<Enterprise>, StoreError> {
    // On every submission of an enterprise's (its district), see `keyed`.
    let sql = format!("SELECT {COLUMNS} FROM enterprises WHERE id = $1");
    let row = crate::keyed::one(store, &sql, id.as_str(), |r| Row::direct(r, 0)).await?;
    row.map(Enterprise::try_from).transpose()
}
