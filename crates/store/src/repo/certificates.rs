//! Enterprise certificates as seen at login and as the primary certificate manages them.
use tongban_domain::certificate::{CertificateRole, EnterpriseCertificate};
use tongban_domain::{EnterpriseId, Timestamp};

use crate::error::conflict_on_unique;
use crate::{Store, StoreError, Tx};

#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    serial: String,
    enterprise_id: String,
    role: String,
    rights: String,
    holder: String,
    not_after: i64,
    revoked_at: Option<i64>,
    first_seen_at: i64,
}

const COLUMNS: &str =
    "serial, enterprise_id, role, rights, holder, not_after, revoked_at, first_seen_at";

impl Row {
    /// The row from a direct read whose columns from `at` on are `COLUMNS`.
    fn direct(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Row> {
        Ok(Row {
            serial: r.get(at)?,
            enterprise_id: r.get(at + 1)?,
            role: r.get(at + 2)?,
            rights: r.get(at + 3)?,
            holder: r.get(at + 4)?,
            not_after: r.get(at + 5)?,
            revoked_at: r.get(at + 6)?,
            first_seen_at: r.get(at + 7)?,
        })
    }
}

impl TryFrom<Row> for EnterpriseCertificate {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let invalid =
            |what: &str| StoreError::InvalidRow(format!("certificate {}: {what}", r.serial));
        Ok(EnterpriseCertificate {
            role: CertificateRole::from_code(&r.role).ok_or_else(|| invalid("role"))?,
            rights: serde_json::from_str(&r.rights).map_err(|_| invalid("rights"))?,
            serial: r.serial,
            enterprise_id: EnterpriseId::from_raw(r.enterprise_id),
            holder: r.holder,
            not_after: Timestamp(r.not_after),
            revoked_at: r.revoked_at.map(Timestamp),
            first_seen_at: Timestamp(r.first_seen_at),
        })
    }
}

/// Records a certificate the first time it logs in, as unregistered; a known one is left as it is.
/// Returns the certificate as stored.
pub async fn record_seen(
    tx: &mut Tx,
    serial: &str,
    enterprise: &EnterpriseId,
    pem: &str,
    not_after: Timestamp,
) -> Result<EnterpriseCertificate, StoreError> {
    let now = Timestamp::now().millis();
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO certificates (serial, enterprise_id, role, rights, holder, pem, not_after, first_seen_at, updated_at) \
             VALUES ($1, $2, 'unregistered', '[]', '', $3, $4, $5, $5) ON CONFLICT (serial) DO NOTHING",
        )
        .bind(serial)
        .bind(enterprise.as_str())
        .bind(pem)
        .bind(not_after.millis())
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    let sql = format!("SELECT {COLUMNS} FROM certificates WHERE serial = $1");
    let row: Row = on_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(serial)
        .fetch_one(c)
        .await?);
    row.try_into()
}

/// The certificate and its enterprise behind the live enterprise session `key`: what every
/// request of a logged-in enterprise needs, in one query instead of three.
pub async fn of_enterprise_session(
    store: &Store,
    key: &str,
    now: Timestamp,
) -> Result<Option<(EnterpriseCertificate, tongban_domain::Enterprise)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Joined {
        #[sqlx(flatten)]
        certificate: Row,
        #[sqlx(flatten)]
        enterprise: crate::repo::enterprises::Row,
    }
    // The columns in the order of `COLUMNS` and `enterprises::COLUMNS`, for the direct read.
    const SQL: &str = "SELECT c.serial, c.enterprise_id, c.role, c.rights, c.holder, c.not_after, \
         c.revoked_at, c.first_seen_at, e.id, e.name, e.credit_code, e.legal_representative, \
         e.registered_address, e.district_code, e.created_at \
         FROM sessions s JOIN certificates c ON c.serial = s.certificate_serial \
         JOIN enterprises e ON e.id = c.enterprise_id \
         WHERE s.id = $1 AND s.expires_at > $2 AND s.enterprise_id IS NOT NULL";
    // On every request of a logged-in enterprise.
    let joined: Option<Joined> = crate::repo::sessions::live_row(store, SQL, key, now, |r| {
        Ok(Joined {
            certificate: Row::direct(r, 0)?,
            enterprise: crate::repo::enterprises::Row::direct(r, 8)?,
        })
    })
    .await?;
    joined
        .map(|j| Ok((j.certificate.try_into()?, j.enterprise.try_into()?)))
        .transpose()
}

pub async fn by_serial(
    store: &Store,
    serial: &str,
) -> Result<Option<EnterpriseCertificate>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM certificates WHERE serial = $1");
    let row: Option<Row> = on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(serial)
        .fetch_optional(e)
        .await?);
    row.map(EnterpriseCertificate::try_from).transpose()
}

/// The enterprise's certificates, primary first.
pub async fn of_enterprise(
    store: &Store,
    enterprise: &EnterpriseId,
) -> Result<Vec<EnterpriseCertificate>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM certificates WHERE enterprise_id = $1 \
         ORDER BY CASE role WHEN 'primary' THEN 0 WHEN 'secondary' THEN 1 ELSE 2 END, first_seen_at"
    );
    let rows: Vec<Row> = on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(enterprise.as_str())
        .fetch_all(e)
        .await?);
    rows.into_iter()
        .map(EnterpriseCertificate::try_from)
        .collect()
}

/// The enterprise's active primary certificate, if it has one.
pub async fn primary_of(
    tx: &mut Tx,
    enterprise: &EnterpriseId,
) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT serial FROM certificates WHERE enterprise_id = $1 AND role = 'primary' AND revoked_at IS NULL",
        )
        .bind(enterprise.as_str())
        .fetch_optional(c)
        .await?
    }))
}

/// Sets a certificate's role, rights and holder (within its enterprise); false if it is not one
/// of `enterprise`'s.
pub async fn set_role(
    tx: &mut Tx,
    enterprise: &EnterpriseId,
    serial: &str,
    role: CertificateRole,
    rights: &[String],
    holder: &str,
) -> Result<bool, StoreError> {
    let rights = serde_json::to_string(rights).expect("strings serialise");
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE certificates SET role = $3, rights = $4, holder = $5, updated_at = $6 \
             WHERE serial = $1 AND enterprise_id = $2 AND revoked_at IS NULL",
        )
        .bind(serial)
        .bind(enterprise.as_str())
        .bind(role.code())
        .bind(&rights)
        .bind(holder)
        .bind(Timestamp::now().millis())
        .execute(c)
        .await
        .map_err(conflict_on_unique("主证书"))?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Revokes a certificate of `enterprise`; false if it is not one of its live ones.
pub async fn revoke(
    tx: &mut Tx,
    enterprise: &EnterpriseId,
    serial: &str,
) -> Result<bool, StoreError> {
    let now = Timestamp::now().millis();
    let n = on_tx!(tx, |c| {
        sqlx::query("UPDATE certificates SET revoked_at = $3, updated_at = $3 WHERE serial = $1 AND enterprise_id = $2 AND revoked_at IS NULL")
            .bind(serial)
            .bind(enterprise.as_str())
            .bind(now)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}
