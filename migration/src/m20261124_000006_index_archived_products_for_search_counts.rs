use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite only: the ids of archived products, so a storefront search can count its matches
/// from the FTS5 index alone and subtract the few archived ones, instead of reading the
/// product row of every match to check its `archived` flag (see `service::browse`).
/// Partial, so it stays as small as the archive, and no query that filters on
/// `archived = 0` can pick it to scan products and probe the FTS index row by row.
const CREATE: &str = "CREATE INDEX idx_products_archived ON products (id) WHERE archived";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(CREATE).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_products_archived")
            .await?;
        Ok(())
    }
}
