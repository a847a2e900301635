use sea_orm_migration::{
    prelude::*,
    schema::{big_integer, boolean, string_null},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An order keeps how its total came about, as checkout priced it: subtotal, discount,
/// shipping and tax, whether the tax was included in the prices, and the names of the
/// shipping method and discount code (snapshots: renaming or deleting either later does
/// not rewrite what the customer was charged for).
///
/// Orders placed before totals existed were charged the sum of their lines and nothing
/// else, so their subtotal is their total and the rest is zero: their breakdown still
/// adds up.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            Orders::SubtotalCents,
            Orders::DiscountCents,
            Orders::ShippingCents,
            Orders::TaxCents,
        ] {
            add(
                manager,
                big_integer(column)
                    .default(0)
                    .check(Expr::col(column).gte(0))
                    .to_owned(),
            )
            .await?;
        }
        add(
            manager,
            boolean(Orders::TaxIncluded).default(false).to_owned(),
        )
        .await?;
        add(manager, string_null(Orders::ShippingMethod)).await?;
        add(manager, string_null(Orders::DiscountCode)).await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE orders SET subtotal_cents = total_cents")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Orders::DiscountCode,
            Orders::ShippingMethod,
            Orders::TaxIncluded,
            Orders::TaxCents,
            Orders::ShippingCents,
            Orders::DiscountCents,
            Orders::SubtotalCents,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

async fn add(manager: &SchemaManager<'_>, column: ColumnDef) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Orders::Table)
                .add_column(column)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    SubtotalCents,
    DiscountCents,
    ShippingCents,
    TaxCents,
    TaxIncluded,
    ShippingMethod,
    DiscountCode,
}
