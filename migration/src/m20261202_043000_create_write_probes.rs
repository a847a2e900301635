use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table `/readyz` writes to (one row, rewritten by every probe): see
/// `entity::write_probe`.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WriteProbes::Table)
                    .col(integer(WriteProbes::Id).primary_key())
                    .col(timestamp_with_time_zone(WriteProbes::ProbedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WriteProbes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WriteProbes {
    Table,
    Id,
    ProbedAt,
}
