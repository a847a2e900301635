use sea_orm_migration::{
    prelude::*,
    schema::{
        big_integer, big_integer_null, integer, integer_null, pk_auto, string_len, text,
        timestamp_with_time_zone,
    },
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What an order costs beyond its lines: the shipping methods a shop offers and the tax
/// rate of each country it ships to.
///
/// A shipping method's `countries` is a JSON array of upper-case ISO 3166-1 alpha-2
/// codes, sorted and without repeats (`[]`: everywhere), as `domain::Countries` writes
/// it; that one spelling lets `service::shipping` find the methods of a country with a
/// plain `LIKE '%"GB"%'`, the same on SQLite and PostgreSQL. Orders keep the name of the
/// method they were shipped with, not a reference to it, so a method can be deleted.
///
/// The CHECKs hold what the services never write, whatever a bug or a hand-made UPDATE
/// tries: no negative amounts or days, no delivery that ends before it starts, no rate
/// above 100%.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShippingMethods::Table)
                    .col(pk_auto(ShippingMethods::Id))
                    .col(string_len(ShippingMethods::Name, 100))
                    .col(
                        big_integer(ShippingMethods::PriceCents)
                            .check(Expr::col(ShippingMethods::PriceCents).gte(0)),
                    )
                    .col(
                        big_integer_null(ShippingMethods::FreeOverCents)
                            .check(Expr::col(ShippingMethods::FreeOverCents).gte(0)),
                    )
                    .col(text(ShippingMethods::Countries))
                    .col(
                        integer_null(ShippingMethods::MinDays)
                            .check(Expr::col(ShippingMethods::MinDays).gte(0)),
                    )
                    .col(
                        integer_null(ShippingMethods::MaxDays)
                            .check(Expr::col(ShippingMethods::MaxDays).gte(0)),
                    )
                    .check(
                        Expr::col(ShippingMethods::MinDays)
                            .is_null()
                            .or(Expr::col(ShippingMethods::MaxDays).is_null())
                            .or(Expr::col(ShippingMethods::MinDays)
                                .lte(Expr::col(ShippingMethods::MaxDays))),
                    )
                    .col(timestamp_with_time_zone(ShippingMethods::CreatedAt))
                    .col(timestamp_with_time_zone(ShippingMethods::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaxRates::Table)
                    .col(string_len(TaxRates::Country, 2).primary_key())
                    .col(
                        integer(TaxRates::RateBasisPoints)
                            .check(Expr::col(TaxRates::RateBasisPoints).between(0, 10_000)),
                    )
                    .col(timestamp_with_time_zone(TaxRates::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TaxRates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ShippingMethods::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ShippingMethods {
    Table,
    Id,
    Name,
    PriceCents,
    FreeOverCents,
    Countries,
    MinDays,
    MaxDays,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TaxRates {
    Table,
    Country,
    RateBasisPoints,
    UpdatedAt,
}
