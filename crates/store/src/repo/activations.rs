//! Requests to activate a primary certificate. The contact phone arrives sealed (SM4-GCM) from
//! the identity layer and leaves sealed; this module never sees it in the clear.
use chrono::NaiveDate;
use tongban_domain::certificate::{ActivationForm, ActivationState, PrimaryActivation};
use tongban_domain::{EnterpriseId, Timestamp};

use crate::error::conflict_on_unique;
use crate::{Store, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    enterprise_id: String,
    certificate_serial: String,
    legal_representative: String,
    registration_number: String,
    contact: String,
    contact_phone: String,
    media_number: String,
    scan_digest: String,
    state: String,
    submitted_at: i64,
    due_date: String,
    decided_at: Option<i64>,
    decided_by: Option<String>,
    opinion: String,
}

const COLUMNS: &str = "id, enterprise_id, certificate_serial, legal_representative, registration_number, contact, \
                       contact_phone, media_number, scan_digest, state, submitted_at, due_date, decided_at, decided_by, opinion";

/// A request as stored: `form.contact_phone` holds the sealed value.
impl TryFrom<Row> for PrimaryActivation {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let invalid = |what: &str| StoreError::InvalidRow(format!("activation {}: {what}", r.id));
        Ok(PrimaryActivation {
            state: ActivationState::from_code(&r.state).ok_or_else(|| invalid("state"))?,
            due_date: NaiveDate::parse_from_str(&r.due_date, "%Y-%m-%d")
                .map_err(|_| invalid("due_date"))?,
            id: r.id,
            enterprise_id: EnterpriseId::from_raw(r.enterprise_id),
            certificate_serial: r.certificate_serial,
            form: ActivationForm {
                legal_representative: r.legal_representative,
                registration_number: r.registration_number,
                contact: r.contact,
                contact_phone: r.contact_phone,
                media_number: r.media_number,
            },
            scan_digest: r.scan_digest,
            submitted_at: Timestamp(r.submitted_at),
            decided_at: r.decided_at.map(Timestamp),
            decided_by: r.decided_by,
            opinion: r.opinion,
        })
    }
}

/// Stores a request; `a.form.contact_phone` must already be sealed.
pub async fn insert(tx: &mut Tx, a: &PrimaryActivation) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO primary_activations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    on_tx!(tx, |c| {
        sqlx::query(&sql)
            .bind(&a.id)
            .bind(a.enterprise_id.as_str())
            .bind(&a.certificate_serial)
            .bind(&a.form.legal_representative)
            .bind(&a.form.registration_number)
            .bind(&a.form.contact)
            .bind(&a.form.contact_phone)
            .bind(&a.form.media_number)
            .bind(&a.scan_digest)
            .bind(a.state.code())
            .bind(a.submitted_at.millis())
            .bind(a.due_date.format("%Y-%m-%d").to_string())
            .bind(a.decided_at.map(|t| t.millis()))
            .bind(a.decided_by.as_deref())
            .bind(&a.opinion)
            .execute(c)
            .await
            .map_err(conflict_on_unique("待处理的开通申请"))?
            .rows_affected()
    });
    Ok(())
}

pub async fn by_id(store: &Store, id: &str) -> Result<Option<PrimaryActivation>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM primary_activations WHERE id = $1");
    let row: Option<Row> = on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(e)
        .await?);
    row.map(PrimaryActivation::try_from).transpose()
}

/// The enterprise's requests, newest first.
pub async fn of_enterprise(
    store: &Store,
    enterprise: &EnterpriseId,
) -> Result<Vec<PrimaryActivation>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM primary_activations WHERE enterprise_id = $1 ORDER BY submitted_at DESC"
    );
    let rows: Vec<Row> = on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(enterprise.as_str())
        .fetch_all(e)
        .await?);
    rows.into_iter().map(PrimaryActivation::try_from).collect()
}

/// Requests waiting for an officer, oldest first.
pub async fn pending(store: &Store) -> Result<Vec<PrimaryActivation>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM primary_activations WHERE state = 'submitted' ORDER BY submitted_at"
    );
    let rows: Vec<Row> = on_reader!(store, |e| sqlx::query_as(&sql).fetch_all(e).await?);
    rows.into_iter().map(PrimaryActivation::try_from).collect()
}

/// Moves a submitted request to `to`; false if it was no longer submitted (decided or withdrawn
/// meanwhile), so two officers cannot both decide it.
pub async fn decide(
    tx: &mut Tx,
    id: &str,
    to: ActivationState,
    by: Option<&str>,
    opinion: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE primary_activations SET state = $2, decided_at = $3, decided_by = $4, opinion = $5 \
             WHERE id = $1 AND state = 'submitted'",
        )
        .bind(id)
        .bind(to.code())
        .bind(Timestamp::now().millis())
        .bind(by)
        .bind(opinion)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}
