use sea_orm_migration::{
    prelude::*,
    schema::{integer_null, string_len, string_len_null},
    sea_orm::{ConnectionTrait, DbBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Guests shop without an account.
///
/// - A guest's cart has no user: `carts.user_id` may be NULL, and the cart is found by the
///   SHA-256 of its secret id, `carts.secret_hash` (unique; NULL for users' carts).
/// - A guest's order has no user either: `orders.user_id` may be NULL, and every order
///   keeps the address its mails go to, `orders.email` (the user's, copied for the orders
///   placed before this migration).
/// - Every order keeps the cart it was bought from, `orders.cart_id` (filled in for the
///   orders before this migration from their user's cart), so that paying it empties that
///   cart, whoever's it is. A guest's idempotency key is scoped to that cart: unique with
///   it (the users' keys stay unique per user). No foreign key: the cart may be gone
///   (merged, expired) while the order stays.
/// - A mail about a guest's order has no user: `outbox.user_id` may be NULL (its
///   order says where it goes).
///
/// SQLite cannot drop a NOT NULL constraint with ALTER TABLE, and rebuilding `orders` or
/// `carts` would cascade through the tables that refer to them (migrations run in one
/// transaction, with foreign keys on). It documents a narrower procedure for exactly this
/// change, "removing ... NOT NULL constraints": rewrite the table's definition in
/// `sqlite_schema` and bump the schema version. The rows stay as they are.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        drop_not_null(manager, "carts", "user_id").await?;
        drop_not_null(manager, "orders", "user_id").await?;
        drop_not_null(manager, "outbox", "user_id").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Carts::Table)
                    .add_column(string_len_null(Carts::SecretHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_carts_secret_hash")
                    .table(Carts::Table)
                    .col(Carts::SecretHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Carts idle longest are swept first.
        manager
            .create_index(
                Index::create()
                    .name("idx_carts_updated")
                    .table(Carts::Table)
                    .col(Carts::UpdatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(string_len(Orders::Email, 254).default(""))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "UPDATE orders SET email = (SELECT u.email FROM users u WHERE u.id = orders.user_id)",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(integer_null(Orders::CartId))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "UPDATE orders SET cart_id = (SELECT c.id FROM carts c WHERE c.user_id = orders.user_id)",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_orders_cart_idempotency")
                    .table(Orders::Table)
                    .col(Orders::CartId)
                    .col(Orders::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Guest carts and orders would have no owner to go back to.
        Err(DbErr::Migration(
            "guest carts and guest orders cannot be given back an owner; restore a backup".into(),
        ))
    }
}

/// Lets `table.column` (an integer column) hold NULL.
async fn drop_not_null(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" DROP NOT NULL"
        ))
        .await?;
        return Ok(());
    }
    let definition = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
            [table.into()],
        ))
        .await?
        .map(|row| row.try_get::<String>("", "sql"))
        .transpose()?
        .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?;
    let required = format!("\"{column}\" integer NOT NULL");
    if definition.matches(&required).count() != 1 {
        return Err(DbErr::Migration(format!(
            "{table}.{column} is not defined as expected: {definition}"
        )));
    }
    let relaxed = definition.replacen(&required, &format!("\"{column}\" integer"), 1);
    let version: i64 = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA schema_version",
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .ok_or_else(|| DbErr::Migration("no schema version".into()))?;
    db.execute_unprepared("PRAGMA writable_schema = ON").await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?",
        [relaxed.into(), table.into()],
    ))
    .await?;
    db.execute_unprepared(&format!("PRAGMA schema_version = {}", version + 1))
        .await?;
    db.execute_unprepared("PRAGMA writable_schema = OFF")
        .await?;
    Ok(())
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    SecretHash,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Email,
    CartId,
    IdempotencyKey,
}
