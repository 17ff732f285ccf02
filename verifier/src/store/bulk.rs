//! Multi-row `INSERT`s with numbered placeholders.
//!
//! `sqlx::QueryBuilder` would be the crate's own tool, but with the `Any` driver it writes
//! `?` placeholders, which PostgreSQL refuses (launchbadge/sqlx#3000, open): the backend is
//! only known once the query runs. This writes `$1, $2, …`, which both backends take.
//! Batches are cut into chunks of 64, 16, 4 and 1 rows, so that each table has at most four
//! statement shapes for the connections' prepared-statement caches.

use sqlx::AnyConnection;

/// One bound value.
#[derive(Debug, Clone)]
pub(super) enum Value {
    /// Text, or NULL.
    Text(Option<String>),
    /// An integer, or NULL.
    Int(Option<i64>),
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(Some(s))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(Some(s.to_string()))
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Value {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(Some(i))
    }
}

impl From<Option<i64>> for Value {
    fn from(i: Option<i64>) -> Value {
        Value::Int(i)
    }
}

/// Inserts `rows` (each one value per column, in order) into `table`.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), sqlx::Error> {
    insert_then(conn, table, columns, rows, "").await
}

/// As [`insert`], with `tail` after the values (an `ON CONFLICT …` clause).
pub(super) async fn insert_then(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    tail: &str,
) -> Result<(), sqlx::Error> {
    let mut rows = rows.into_iter();
    for size in chunk_sizes(rows.len()) {
        let values = placeholders(size, columns.len());
        let sql = format!("INSERT INTO {table} ({}) VALUES {values}{tail}", columns.join(", "));
        let mut q = sqlx::query(&sql);
        for row in rows.by_ref().take(size) {
            debug_assert_eq!(row.len(), columns.len(), "a row of {table} has the wrong width");
            for v in row {
                q = match v {
                    Value::Text(t) => q.bind(t),
                    Value::Int(i) => q.bind(i),
                };
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `$1, $2, …` for an `IN (…)` list of `n` values.
pub(super) fn list(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

fn chunk_sizes(mut n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for size in [64, 16, 4, 1] {
        while n >= size {
            out.push(size);
            n -= size;
        }
    }
    out
}

fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=cols).map(|c| format!("${}", r * cols + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_few_statement_shapes() {
        assert_eq!(chunk_sizes(0), Vec::<usize>::new());
        assert_eq!(chunk_sizes(5), [4, 1]);
        assert_eq!(chunk_sizes(150), [64, 64, 16, 4, 1, 1]);
        assert_eq!(chunk_sizes(150).iter().sum::<usize>(), 150);
    }

    #[test]
    fn placeholders_number_every_parameter() {
        assert_eq!(placeholders(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(list(3), "$1, $2, $3");
    }
}
