use sea_orm_migration::{
    prelude::*,
    schema::{
        boolean, integer, integer_null, pk_auto, string_len, timestamp_with_time_zone,
        timestamp_with_time_zone_null,
    },
    sea_orm::DbBackend,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Discount codes, their uses, and the code applied to a cart.
///
/// - `discount_codes`: a code (unique, stored upper case, so that a lookup in any case is
///   an equality), worth either a percentage (basis points) or an amount (cents), never
///   both; CHECKs keep each stored value in range, so no writer can store a code that
///   prices wrongly. `times_used` counts the uses not given back; a checkout takes a use
///   with a conditional update (`times_used < usage_limit`), which the CHECK
///   `times_used <= usage_limit` backs up.
/// - `discount_redemptions`: one row per order that used a code (an order uses at most
///   one: `order_id` is unique). `customer_key` is set only for once-per-customer codes,
///   and the unique index on (code, customer_key) is what holds "once per customer" under
///   concurrent checkouts, across processes: NULLs are distinct on both databases, so
///   rows of other codes never collide.
/// - `carts.discount_code_id`: the code applied to a cart; a code never goes away (it is
///   deactivated), but should one be deleted by hand, the carts simply lose it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DiscountCodes::Table)
                    .col(pk_auto(DiscountCodes::Id))
                    .col(string_len(DiscountCodes::Code, 32).unique_key())
                    .col(integer_null(DiscountCodes::PercentOffBp))
                    .col(
                        ColumnDef::new(DiscountCodes::AmountOffCents)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(DiscountCodes::MinSubtotalCents)
                            .big_integer()
                            .null(),
                    )
                    .col(integer_null(DiscountCodes::UsageLimit))
                    .col(integer(DiscountCodes::TimesUsed).default(0))
                    .col(boolean(DiscountCodes::OncePerCustomer).default(false))
                    .col(timestamp_with_time_zone_null(DiscountCodes::StartsAt))
                    .col(timestamp_with_time_zone_null(DiscountCodes::EndsAt))
                    .col(boolean(DiscountCodes::Active).default(true))
                    .col(timestamp_with_time_zone(DiscountCodes::CreatedAt))
                    .col(timestamp_with_time_zone(DiscountCodes::UpdatedAt))
                    // Exactly one kind of value, each in range.
                    .check(Expr::cust(
                        "(percent_off_bp IS NULL) <> (amount_off_cents IS NULL)",
                    ))
                    .check(Expr::cust(
                        "percent_off_bp IS NULL OR percent_off_bp BETWEEN 1 AND 10000",
                    ))
                    .check(Expr::cust(
                        "amount_off_cents IS NULL OR amount_off_cents > 0",
                    ))
                    .check(Expr::cust(
                        "min_subtotal_cents IS NULL OR min_subtotal_cents >= 0",
                    ))
                    .check(Expr::cust("usage_limit IS NULL OR usage_limit >= 1"))
                    .check(Expr::cust("times_used >= 0"))
                    .check(Expr::cust(
                        "usage_limit IS NULL OR times_used <= usage_limit",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DiscountRedemptions::Table)
                    .col(pk_auto(DiscountRedemptions::Id))
                    .col(integer(DiscountRedemptions::DiscountCodeId))
                    .col(integer(DiscountRedemptions::OrderId).unique_key())
                    .col(
                        ColumnDef::new(DiscountRedemptions::CustomerKey)
                            .string_len(280)
                            .null(),
                    )
                    .col(timestamp_with_time_zone(DiscountRedemptions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                DiscountRedemptions::Table,
                                DiscountRedemptions::DiscountCodeId,
                            )
                            .to(DiscountCodes::Table, DiscountCodes::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DiscountRedemptions::Table, DiscountRedemptions::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_discount_redemptions_code_customer")
                    .table(DiscountRedemptions::Table)
                    .col(DiscountRedemptions::DiscountCodeId)
                    .col(DiscountRedemptions::CustomerKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite cannot add a foreign key with ALTER TABLE ... ADD CONSTRAINT (which is what
        // sea-query writes), but both databases take one declared with the new column.
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE carts ADD COLUMN discount_code_id integer \
                 REFERENCES discount_codes (id) ON DELETE SET NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot drop a column that declares a foreign key, and leaving it would
        // point every cart at a table that is gone.
        if manager.get_database_backend() == DbBackend::Sqlite {
            return Err(DbErr::Migration(
                "SQLite cannot drop carts.discount_code_id; restore a backup".into(),
            ));
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Carts::Table)
                    .drop_column(Carts::DiscountCodeId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(DiscountRedemptions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DiscountCodes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DiscountCodes {
    Table,
    Id,
    Code,
    PercentOffBp,
    AmountOffCents,
    MinSubtotalCents,
    UsageLimit,
    TimesUsed,
    OncePerCustomer,
    StartsAt,
    EndsAt,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DiscountRedemptions {
    Table,
    Id,
    DiscountCodeId,
    OrderId,
    CustomerKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    DiscountCodeId,
}
