//! A fresh database per test: a temp SQLite file, or with SHOP_TEST_POSTGRES_URL set, a new
//! PostgreSQL database that is dropped again when the test ends.

use sea_orm::{ConnectionTrait, Database};

pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        server_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    pub async fn create() -> Self {
        match std::env::var("SHOP_TEST_POSTGRES_URL") {
            Ok(server_url) if !server_url.is_empty() => Self::create_postgres(server_url).await,
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
                Self::Sqlite { _dir: dir, url }
            }
        }
    }

    async fn create_postgres(server_url: String) -> Self {
        let name = format!("shop_test_{:016x}", rand::random::<u64>());
        let admin = Database::connect(&server_url)
            .await
            .expect("connect to SHOP_TEST_POSTGRES_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let base = server_url
            .split('?')
            .next()
            .and_then(|url| url.rsplit_once('/'))
            .map(|(base, _)| base)
            .expect("a URL with a database path");
        let url = format!("{base}/{name}");
        Self::Postgres {
            server_url,
            name,
            url,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Self::Postgres {
            server_url, name, ..
        } = self
        else {
            return;
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with a
        // runtime of its own does the clean-up.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&server_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await.ok();
                }
            });
        });
        let _ = cleanup.join();
    }
}
