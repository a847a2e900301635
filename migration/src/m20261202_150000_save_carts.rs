use sea_orm_migration::{
    prelude::*,
    schema::{integer, pk_auto, string_len, timestamp_with_time_zone},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Saved carts: a user's whole cart put aside under a name, and its lines. Lines go with
/// their cart, and with a variant or product the shop deletes (one that nobody ordered).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedCarts::Table)
                    .col(pk_auto(SavedCarts::Id))
                    .col(integer(SavedCarts::UserId))
                    .col(string_len(SavedCarts::Name, 100))
                    .col(timestamp_with_time_zone(SavedCarts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SavedCarts::Table, SavedCarts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_saved_carts_user")
                    .table(SavedCarts::Table)
                    .col(SavedCarts::UserId)
                    .col(SavedCarts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SavedCartItems::Table)
                    .col(pk_auto(SavedCartItems::Id))
                    .col(integer(SavedCartItems::SavedCartId))
                    .col(integer(SavedCartItems::ProductId))
                    .col(integer(SavedCartItems::VariantId))
                    .col(
                        integer(SavedCartItems::Quantity)
                            .check(Expr::col(SavedCartItems::Quantity).between(1, 999)),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SavedCartItems::Table, SavedCartItems::SavedCartId)
                            .to(SavedCarts::Table, SavedCarts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SavedCartItems::Table, SavedCartItems::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SavedCartItems::Table, SavedCartItems::VariantId)
                            .to(ProductVariants::Table, ProductVariants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_saved_cart_items_cart", SavedCartItems::SavedCartId),
            ("idx_saved_cart_items_product", SavedCartItems::ProductId),
            ("idx_saved_cart_items_variant", SavedCartItems::VariantId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SavedCartItems::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SavedCartItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SavedCarts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SavedCarts {
    Table,
    Id,
    UserId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SavedCartItems {
    Table,
    Id,
    SavedCartId,
    ProductId,
    VariantId,
    Quantity,
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
enum ProductVariants {
    Table,
    Id,
}
