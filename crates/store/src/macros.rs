//! Dispatch over the two engines. A body is written once and compiled once per engine.

/// Runs `$body` with `$e` bound to the read executor of `$store`: a connection lent by the
/// SQLite readers, or PostgreSQL's read pool.
/// The body is compiled once per engine from one text, which is how queries are written only once.
macro_rules! on_reader {
    ($store:expr, |$e:ident| $body:expr) => {
        match &*$store.pools {
            $crate::engine::Pools::Sqlite { reader, .. } => {
                let mut conn = reader.acquire().await?;
                let $e = &mut *conn;
                $body
            }
            $crate::engine::Pools::Postgres { reader, .. } => {
                let $e = reader;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the connection of the transaction `$tx`.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
