//! Drops the schemas the PostgreSQL test pass created (`cwtest_*`) on the server at
//! `CONSENT_TEST_POSTGRES_URL`. `cargo xtask test` runs it before and after that pass.

fn main() -> anyhow::Result<()> {
    let url =
        std::env::var("CONSENT_TEST_POSTGRES_URL").map_err(|_| anyhow::anyhow!("set CONSENT_TEST_POSTGRES_URL"))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await?;
        let schemas: Vec<String> =
            sqlx::query_scalar("SELECT CAST(schema_name AS TEXT) AS schema_name FROM information_schema.schemata WHERE schema_name LIKE 'cwtest\\_%'")
                .fetch_all(&pool)
                .await?;
        for s in &schemas {
            // Only names this suite makes: cwtest_ then hex.
            if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                sqlx::query(&format!("DROP SCHEMA \"{s}\" CASCADE")).execute(&pool).await?;
            }
        }
        println!("    dropped {} test schema(s)", schemas.len());
        pool.close().await;
        Ok(())
    })
}
