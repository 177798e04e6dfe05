//! Every difference between the SQL of SQLite and PostgreSQL that Tongban relies on. Nothing outside
//! this module may branch on the engine for SQL text.
use crate::Engine;

/// Replaces the type placeholders used in migrations with the engine's names.
/// `{blob}`: bytes (BLOB / BYTEA).
pub fn render_ddl(sql: &str, engine: Engine) -> String {
    let blob = match engine {
        Engine::Sqlite => "BLOB",
        Engine::Postgres => "BYTEA",
    };
    sql.replace("{blob}", blob)
}

/// Suffix of a row-claiming subquery. PostgreSQL lets several instances claim different rows at once;
/// SQLite has one writer, so the plain subquery is already exclusive.
pub fn skip_locked(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "",
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
    }
}

/// A statement that serialises concurrent migrators for the rest of the transaction, if the engine
/// needs one (PostgreSQL: an advisory lock; SQLite: the `BEGIN IMMEDIATE` write lock already does it).
pub fn migration_lock(engine: Engine) -> Option<&'static str> {
    match engine {
        Engine::Sqlite => None,
        Engine::Postgres => Some("SELECT pg_advisory_xact_lock(7164151521)"),
    }
}

/// The placeholders of row `row` of a multi-row INSERT of `width` columns. SQLite gets anonymous
/// `?`: sqlx looks each numbered `$N` up by name, a scan of the statement's parameter list, which
/// made a 4 000-parameter INSERT quadratic (most of a 100 000-row ledger import's time).
pub fn row_placeholders(engine: Engine, row: usize, width: usize) -> String {
    let each: Vec<String> = (1..=width)
        .map(|col| match engine {
            Engine::Sqlite => "?".to_string(),
            Engine::Postgres => format!("${}", row * width + col),
        })
        .collect();
    format!("({})", each.join(", "))
}

/// INSERTs (at least one) sent as one statement, in their order, so they cost one round trip
/// (PostgreSQL) or one hand-off to the connection's thread (SQLite). Placeholders are numbered
/// `$N` across them all: sqlx binds SQLite's `$N` by its number, whichever statement holds it.
pub fn all_inserts(engine: Engine, inserts: &[&str]) -> String {
    match engine {
        Engine::Sqlite => inserts.join("; "),
        // Data-modifying WITHs run once each whether or not the statement reads them.
        Engine::Postgres => match inserts.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, before)) => {
                let with: Vec<String> = before
                    .iter()
                    .enumerate()
                    .map(|(i, insert)| format!("w{i} AS ({insert})"))
                    .collect();
                format!("WITH {} {last}", with.join(", "))
            }
            None => String::new(),
        },
    }
}

/// `update` followed, in the same statement, by `INSERT INTO {into} SELECT {values}` only if the
/// update changed a row. The statement reports no changed rows when the update matched none.
pub fn insert_if_updated(engine: Engine, update: &str, into: &str, values: &str) -> String {
    match engine {
        // `changes()` is the row count of the last completed statement: the UPDATE.
        Engine::Sqlite => {
            format!("{update}; INSERT INTO {into} SELECT {values} WHERE changes() = 1")
        }
        Engine::Postgres => format!(
            "WITH changed AS ({update} RETURNING 1) INSERT INTO {into} SELECT {values} FROM changed"
        ),
    }
}

/// The statement that draws the next case number for `$1` (a prefix and day) as a transaction
/// of its own whose commit does not wait for its flush, if the engine has such commits
/// (PostgreSQL; SQLite's synchronous setting is per connection). One statement, one round trip:
/// `set_config(.., true)` is `SET LOCAL` for the statement's implicit transaction, and the
/// `INSERT` selects from it so that it runs first.
pub fn unflushed_next_number(engine: Engine) -> Option<&'static str> {
    match engine {
        Engine::Sqlite => None,
        Engine::Postgres => Some(
            "WITH relax AS (SELECT set_config('synchronous_commit', 'off', true)) \
             INSERT INTO case_numbers (prefix_day, last) SELECT $1, 1 FROM relax \
             ON CONFLICT (prefix_day) DO UPDATE SET last = case_numbers.last + 1 RETURNING last",
        ),
    }
}

/// Lists the columns of the application's tables as (table, column, normalised type, not null),
/// so a test can check that both engines got the same schema from the one migration history.
pub fn schema_query(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name, lower(p.type) AS data_type, \
             p.\"notnull\" <> 0 OR p.pk <> 0 AS not_null \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2"
        }
        Engine::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS data_type, is_nullable = 'NO' AS not_null \
             FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2"
        }
    }
}

/// Maps an engine's reported column type to the name used in migrations, for the schema comparison.
pub fn normalise_type(data_type: &str) -> String {
    match data_type.to_ascii_lowercase().as_str() {
        "bytea" | "blob" => "{blob}".into(),
        "character varying" | "text" => "text".into(),
        other => other.into(),
    }
}
