use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Carts::Table)
                    .col(pk_auto(Carts::Id))
                    .col(integer_uniq(Carts::UserId))
                    .col(integer_null(Carts::CheckoutOrderId))
                    .col(timestamp_with_time_zone(Carts::CreatedAt))
                    .col(timestamp_with_time_zone(Carts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Carts::Table, Carts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CartItems::Table)
                    .col(pk_auto(CartItems::Id))
                    .col(integer(CartItems::CartId))
                    .col(integer(CartItems::ProductId))
                    .col(
                        integer(CartItems::Quantity)
                            .check(Expr::col(CartItems::Quantity).between(1, 999)),
                    )
                    .col(boolean(CartItems::SavedForLater).default(false))
                    .col(timestamp_with_time_zone(CartItems::CreatedAt))
                    .col(timestamp_with_time_zone(CartItems::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CartItems::Table, CartItems::CartId)
                            .to(Carts::Table, Carts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CartItems::Table, CartItems::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cart_items_cart_product")
                    .table(CartItems::Table)
                    .col(CartItems::CartId)
                    .col(CartItems::ProductId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cart_items_product")
                    .table(CartItems::Table)
                    .col(CartItems::ProductId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(pk_auto(Orders::Id))
                    .col(string_len_uniq(Orders::Number, 32))
                    .col(integer(Orders::UserId))
                    .col(string_len(Orders::Status, 16))
                    .col(
                        big_integer(Orders::TotalCents).check(Expr::col(Orders::TotalCents).gte(0)),
                    )
                    .col(string_len(Orders::Currency, 3))
                    .col(string_len(Orders::ShipFullName, 200))
                    .col(string_len(Orders::ShipLine1, 200))
                    .col(string_len_null(Orders::ShipLine2, 200))
                    .col(string_len(Orders::ShipCity, 100))
                    .col(string_len(Orders::ShipPostalCode, 20))
                    .col(string_len(Orders::ShipCountry, 64))
                    .col(string_len_null(Orders::IdempotencyKey, 255))
                    .col(timestamp_with_time_zone(Orders::ExpiresAt))
                    .col(timestamp_with_time_zone(Orders::PlacedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One order per (user, idempotency key): the database, not a read-then-write
        // check, decides which of two concurrent checkouts with one key goes ahead.
        manager
            .create_index(
                Index::create()
                    .name("idx_orders_idempotency")
                    .table(Orders::Table)
                    .col(Orders::UserId)
                    .col(Orders::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, first, second) in [
            ("idx_orders_user", Orders::UserId, Orders::Id),
            ("idx_orders_status", Orders::Status, Orders::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Orders::Table)
                        .col(first)
                        .col(second)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(OrderItems::Table)
                    .col(pk_auto(OrderItems::Id))
                    .col(integer(OrderItems::OrderId))
                    .col(integer(OrderItems::ProductId))
                    .col(string_len(OrderItems::ProductName, 200))
                    .col(big_integer(OrderItems::UnitPriceCents))
                    .col(integer(OrderItems::Quantity).check(Expr::col(OrderItems::Quantity).gt(0)))
                    .col(big_integer(OrderItems::LineTotalCents))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderItems::Table, OrderItems::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderItems::Table, OrderItems::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_order_items_order", OrderItems::OrderId),
            ("idx_order_items_product", OrderItems::ProductId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(OrderItems::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(pk_auto(Payments::Id))
                    .col(integer(Payments::OrderId))
                    .col(string_len(Payments::Kind, 16))
                    .col(string_len(Payments::Gateway, 32))
                    .col(string_len_null(Payments::Reference, 255))
                    .col(big_integer(Payments::AmountCents))
                    .col(string_len(Payments::Status, 16))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone(Payments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Payments::Table, Payments::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payments_order_kind")
                    .table(Payments::Table)
                    .col(Payments::OrderId)
                    .col(Payments::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Webhook events already handled, so a redelivered event is applied once.
        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .col(string_len(WebhookEvents::Id, 255).primary_key())
                    .col(string_len(WebhookEvents::Kind, 100))
                    .col(timestamp_with_time_zone(WebhookEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookEvents::Table.into_iden(),
            Payments::Table.into_iden(),
            OrderItems::Table.into_iden(),
            Orders::Table.into_iden(),
            CartItems::Table.into_iden(),
            Carts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    Id,
    UserId,
    CheckoutOrderId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CartItems {
    Table,
    Id,
    CartId,
    ProductId,
    Quantity,
    SavedForLater,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    Number,
    UserId,
    Status,
    TotalCents,
    Currency,
    ShipFullName,
    ShipLine1,
    ShipLine2,
    ShipCity,
    ShipPostalCode,
    ShipCountry,
    IdempotencyKey,
    ExpiresAt,
    PlacedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Id,
    OrderId,
    ProductId,
    ProductName,
    UnitPriceCents,
    Quantity,
    LineTotalCents,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    Kind,
    Gateway,
    Reference,
    AmountCents,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Id,
    Kind,
    ReceivedAt,
}
