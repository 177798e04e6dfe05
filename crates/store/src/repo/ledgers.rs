//! Ledger rows of cases. Values arrive as JSON text from the case service.
use crate::{Store, StoreError, Tx};

/// Rows per INSERT statement: 4 parameters each, well under SQLite's and PostgreSQL's limits.
const BATCH: usize = 1000;

/// Replaces every row of `ledger` in `case` with `rows` (JSON arrays), numbered from 1.
pub async fn replace(
    tx: &mut Tx,
    case: &str,
    ledger: &str,
    rows: &[String],
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM case_ledger_rows WHERE case_id = $1 AND ledger_id = $2")
            .bind(case)
            .bind(ledger)
            .execute(c)
            .await?
            .rows_affected()
    });
    for (chunk_no, chunk) in rows.chunks(BATCH).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| crate::dialect::row_placeholders(tx.engine(), i, 4))
            .collect();
        let sql = format!(
            "INSERT INTO case_ledger_rows (case_id, ledger_id, row_no, data) VALUES {}",
            values.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for (i, data) in chunk.iter().enumerate() {
                let row_no = (chunk_no * BATCH + i + 1) as i64;
                q = q.bind(case).bind(ledger).bind(row_no).bind(data);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

/// Appends one row after the last.
pub async fn append(tx: &mut Tx, case: &str, ledger: &str, data: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
            "INSERT INTO case_ledger_rows (case_id, ledger_id, row_no, data) \
             SELECT $1, $2, COALESCE(MAX(row_no), 0) + 1, $3 FROM case_ledger_rows \
             WHERE case_id = $1 AND ledger_id = $2 RETURNING row_no",
        )
        .bind(case)
        .bind(ledger)
        .bind(data)
        .fetch_one(c)
        .await?
    });
    Ok(n)
}

/// Deletes row `row_no`; false if there is none.
pub async fn delete(
    tx: &mut Tx,
    case: &str,
    ledger: &str,
    row_no: i64,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "DELETE FROM case_ledger_rows WHERE case_id = $1 AND ledger_id = $2 AND row_no = $3",
        )
        .bind(case)
        .bind(ledger)
        .bind(row_no)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A page of rows (row number, JSON) in order, and how many rows there are.
pub async fn page(
    store: &Store,
    case: &str,
    ledger: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<(i64, String)>, i64), StoreError> {
    let rows: Vec<(i64, String)> = on_reader!(store, |e| sqlx::query_as(
        "SELECT row_no, data FROM case_ledger_rows WHERE case_id = $1 AND ledger_id = $2 \
         ORDER BY row_no LIMIT $3 OFFSET $4"
    )
    .bind(case)
    .bind(ledger)
    .bind(limit)
    .bind(offset)
    .fetch_all(e)
    .await?);
    let (total,): (i64,) = on_reader!(store, |e| sqlx::query_as(
        "SELECT COUNT(*) FROM case_ledger_rows WHERE case_id = $1 AND ledger_id = $2"
    )
    .bind(case)
    .bind(ledger)
    .fetch_one(e)
    .await?);
    Ok((rows, total))
}
