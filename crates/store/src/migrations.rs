//! One migration history for both engines. Each migration is SQL both engines accept, with the few
//! type names that differ written as placeholders (see [`crate::dialect::render_ddl`]). Applied
//! versions are recorded with the SM3 digest of their source, so an edited migration is refused
//! rather than silently diverging between installations.
use tongban_crypto::sm3;
use tongban_domain::Timestamp;

use crate::{Store, StoreError, dialect};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, oldest first. Append only: never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../migrations/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "audit_and_lockout",
        sql: include_str!("../migrations/0002_audit_and_lockout.sql"),
    },
    Migration {
        version: 3,
        name: "enterprise_certificates",
        sql: include_str!("../migrations/0003_enterprise_certificates.sql"),
    },
    Migration {
        version: 4,
        name: "individuals",
        sql: include_str!("../migrations/0004_individuals.sql"),
    },
    Migration {
        version: 5,
        name: "rate_limits",
        sql: include_str!("../migrations/0005_rate_limits.sql"),
    },
    Migration {
        version: 6,
        name: "one_primary",
        sql: include_str!("../migrations/0006_one_primary.sql"),
    },
    Migration {
        version: 7,
        name: "city_login",
        sql: include_str!("../migrations/0007_city_login.sql"),
    },
    Migration {
        version: 8,
        name: "officer_certificates",
        sql: include_str!("../migrations/0008_officer_certificates.sql"),
    },
    Migration {
        version: 9,
        name: "cases",
        sql: include_str!("../migrations/0009_cases.sql"),
    },
    Migration {
        version: 10,
        name: "case_materials",
        sql: include_str!("../migrations/0010_case_materials.sql"),
    },
    Migration {
        version: 11,
        name: "case_ledgers",
        sql: include_str!("../migrations/0011_case_ledgers.sql"),
    },
    Migration {
        version: 12,
        name: "issued_documents",
        sql: include_str!("../migrations/0012_issued_documents.sql"),
    },
    Migration {
        version: 13,
        name: "signatures",
        sql: include_str!("../migrations/0013_signatures.sql"),
    },
    Migration {
        version: 14,
        name: "document_batches",
        sql: include_str!("../migrations/0014_document_batches.sql"),
    },
    Migration {
        version: 15,
        name: "case_index",
        sql: include_str!("../migrations/0015_case_index.sql"),
    },
    Migration {
        version: 16,
        name: "workflow",
        sql: include_str!("../migrations/0016_workflow.sql"),
    },
    Migration {
        version: 17,
        name: "outbox",
        sql: include_str!("../migrations/0017_outbox.sql"),
    },
    Migration {
        version: 18,
        name: "chain",
        sql: include_str!("../migrations/0018_chain.sql"),
    },
    Migration {
        version: 19,
        name: "chain_apps",
        sql: include_str!("../migrations/0019_chain_apps.sql"),
    },
    Migration {
        version: 20,
        name: "chain_subscriptions",
        sql: include_str!("../migrations/0020_chain_subscriptions.sql"),
    },
    Migration {
        version: 21,
        name: "chain_audits",
        sql: include_str!("../migrations/0021_chain_audits.sql"),
    },
];

const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// The state of one migration on a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub name: &'static str,
    pub applied_at: Option<Timestamp>,
}

fn checksum(m: &Migration) -> String {
    sm3(m.sql.as_bytes()).to_hex()
}

/// Applies every pending migration, each in its own transaction, and returns how many ran.
/// Safe to call from several instances at once.
pub async fn apply(store: &Store) -> Result<usize, StoreError> {
    let engine = store.engine();
    let mut ran = 0;
    let mut tx = store.begin().await?;
    if let Some(lock) = dialect::migration_lock(engine) {
        on_tx!(&mut tx, |c| sqlx::query(lock)
            .execute(c)
            .await?
            .rows_affected());
    }
    on_tx!(&mut tx, |c| sqlx::query(CREATE_HISTORY)
        .execute(c)
        .await?
        .rows_affected());
    tx.commit().await?;

    for m in MIGRATIONS {
        let mut tx = store.begin().await?;
        if let Some(lock) = dialect::migration_lock(engine) {
            on_tx!(&mut tx, |c| sqlx::query(lock)
                .execute(c)
                .await?
                .rows_affected());
        }
        let applied: Option<String> = on_tx!(&mut tx, |c| {
            sqlx::query_scalar("SELECT checksum FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(c)
                .await?
        });
        let current = checksum(m);
        match applied {
            Some(applied) if applied == current => continue,
            Some(applied) => {
                return Err(StoreError::MigrationEdited {
                    version: m.version,
                    applied,
                    current,
                });
            }
            None => {}
        }
        let ddl = dialect::render_ddl(m.sql, engine);
        let fail = |source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        on_tx!(&mut tx, |c| {
            sqlx::raw_sql(&ddl).execute(&mut *c).await.map_err(fail)?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(&current)
            .bind(Timestamp::now().millis())
            .execute(c)
            .await?
            .rows_affected()
        });
        tx.commit().await?;
        tracing::info!(
            version = m.version,
            name = m.name,
            engine = engine.name(),
            "migration applied"
        );
        ran += 1;
    }

    let newest = store.ping().await?;
    let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
    if newest > known {
        return Err(StoreError::SchemaTooNew(newest));
    }
    Ok(ran)
}

/// Which migrations are applied, without applying anything.
pub async fn status(store: &Store) -> Result<Vec<MigrationStatus>, StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| sqlx::query(CREATE_HISTORY)
        .execute(c)
        .await?
        .rows_affected());
    let applied: Vec<(i64, i64)> = on_tx!(&mut tx, |c| {
        sqlx::query_as("SELECT version, applied_at FROM schema_migrations")
            .fetch_all(c)
            .await?
    });
    tx.commit().await?;
    Ok(MIGRATIONS
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            name: m.name,
            applied_at: applied
                .iter()
                .find(|(v, _)| *v == m.version)
                .map(|(_, at)| Timestamp(*at)),
        })
        .collect())
}
