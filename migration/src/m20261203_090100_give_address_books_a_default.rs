use sea_orm_migration::{prelude::*, schema::boolean};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each address book gets a default address (`addresses.is_default`): a user with
/// addresses has exactly one, a user without has none.
///
/// "At most one per user" is the database's to keep, whatever requests race: a unique
/// index on `user_id` over the rows that are the default (a partial index, written the
/// same on SQLite and PostgreSQL). "At least one" is the services' rule, kept in the
/// transactions that add, delete and change addresses.
///
/// Existing address books get their newest address as the default: the one a customer
/// added last is the likeliest to be where they live now, and it is the address the
/// service promotes when a default is deleted.
const INDEX: &str = "idx_addresses_one_default_per_user";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table(Addresses::Table)
                    .add_column(boolean(Addresses::IsDefault).default(false))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "UPDATE addresses SET is_default = TRUE \
             WHERE id IN (SELECT MAX(id) FROM addresses GROUP BY user_id)",
        )
        .await?;
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {INDEX} ON addresses (user_id) WHERE is_default"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Addresses::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Addresses::Table)
                    .drop_column(Addresses::IsDefault)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Addresses {
    Table,
    IsDefault,
}
