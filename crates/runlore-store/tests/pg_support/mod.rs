//! A fresh database in the throwaway PostgreSQL cluster `cargo xtask test`
//! starts (RUNLORE_TEST_POSTGRES_URL), for the PostgreSQL test files.
#![allow(clippy::unwrap_used)] // test helpers panic on failure by design

use tokio_postgres::NoTls;

const URL_VAR: &str = "RUNLORE_TEST_POSTGRES_URL";

/// A fresh database in the test cluster; `None` (with a notice) when no
/// cluster was given.
pub struct FreshDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl FreshDb {
    pub async fn create(tag: &str) -> Option<FreshDb> {
        let Ok(admin_url) = std::env::var(URL_VAR) else {
            // CI always runs through `cargo xtask test`: a missing cluster
            // there is a broken harness, not a reason to pass.
            assert!(
                std::env::var_os("CI").is_none(),
                "{URL_VAR} is not set in CI"
            );
            eprintln!("{URL_VAR} is not set: skipping (cargo xtask test sets it)");
            return None;
        };
        let name = format!("runlore_{tag}_{}", uuid_like());
        let (client, conn) = tokio_postgres::connect(&admin_url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url.rsplit_once('/').unwrap().0;
        let url = format!("{base}/{name}");
        Some(FreshDb {
            admin_url,
            name,
            url,
        })
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }

    pub async fn drop_db(self) {
        let (client, conn) = tokio_postgres::connect(&self.admin_url, NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .await
            .unwrap();
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{nanos}", std::process::id())
}
