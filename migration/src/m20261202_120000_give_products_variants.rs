use sea_orm_migration::{
    prelude::*,
    schema::{
        big_integer, big_integer_null, boolean, integer, pk_auto, string_len_null, text,
        timestamp_with_time_zone,
    },
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Products get variants (sizes, colours), each with its own price, stock and SKU; what a
/// cart holds and an order bought is a variant.
///
/// Every existing product becomes a product with one variant, "Default" (no options),
/// with its price, stock and SKU; cart lines (saved ones too) and order lines point at it,
/// and order lines snapshot its title and the product's SKU of today.
///
/// The product keeps `price_cents`, `stock` and `sku` as the sum of its active variants
/// (lowest price, total stock, first SKU), so browsing stays one indexed table.
///
/// `cart_items` is rebuilt rather than altered: SQLite cannot add a NOT NULL column
/// without a default, nor change a unique index's columns in place, and a line without a
/// variant would mean nothing. Its ids are not kept (nothing refers to them); its order is.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table(Products::Table)
                    .add_column(text(Products::Options).default("[]"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductVariants::Table)
                    .col(pk_auto(ProductVariants::Id))
                    .col(integer(ProductVariants::ProductId))
                    .col(integer(ProductVariants::Position))
                    .col(text(ProductVariants::SelectedOptions))
                    .col(string_len_null(ProductVariants::Sku, 64).unique_key())
                    .col(
                        big_integer(ProductVariants::PriceCents)
                            .check(Expr::col(ProductVariants::PriceCents).gte(0)),
                    )
                    .col(big_integer_null(ProductVariants::CompareAtCents))
                    .check(
                        Expr::col(ProductVariants::CompareAtCents)
                            .is_null()
                            .or(Expr::col(ProductVariants::CompareAtCents)
                                .gt(Expr::col(ProductVariants::PriceCents))),
                    )
                    .col(
                        integer(ProductVariants::Stock)
                            .check(Expr::col(ProductVariants::Stock).gte(0)),
                    )
                    .col(text(ProductVariants::ImageUrls))
                    .col(boolean(ProductVariants::Archived).default(false))
                    .col(timestamp_with_time_zone(ProductVariants::CreatedAt))
                    .col(timestamp_with_time_zone(ProductVariants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProductVariants::Table, ProductVariants::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_product_variants_product")
                    .table(ProductVariants::Table)
                    .col(ProductVariants::ProductId)
                    .col(ProductVariants::Position)
                    .to_owned(),
            )
            .await?;
        // Two active variants of a product never share a combination; archived ones keep
        // theirs for history and do not block a new variant with it. Partial indexes are
        // written the same on SQLite and PostgreSQL.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_product_variants_combination \
             ON product_variants (product_id, selected_options) WHERE NOT archived",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO product_variants \
               (product_id, position, selected_options, sku, price_cents, compare_at_cents, \
                stock, image_urls, archived, created_at, updated_at) \
             SELECT id, 0, '[]', sku, price_cents, NULL, stock, '[]', FALSE, created_at, updated_at \
             FROM products ORDER BY id",
        )
        .await?;

        rebuild_cart_items(manager).await?;

        // Order lines: which variant, with its title and SKU as of now. Raw SQL because
        // sea-query cannot add a column with a foreign key on SQLite; the statement is the
        // same on both databases.
        db.execute_unprepared(
            "ALTER TABLE order_items ADD COLUMN variant_id INTEGER NULL \
             REFERENCES product_variants (id) ON DELETE RESTRICT",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrderItems::Table)
                    .add_column(text(OrderItems::VariantTitle).default("Default"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrderItems::Table)
                    .add_column(string_len_null(OrderItems::Sku, 64))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "UPDATE order_items SET \
               variant_id = (SELECT v.id FROM product_variants v \
                             WHERE v.product_id = order_items.product_id), \
               sku = (SELECT p.sku FROM products p WHERE p.id = order_items.product_id)",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_items_variant")
                    .table(OrderItems::Table)
                    .col(OrderItems::VariantId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Going back would merge variants into one price and stock per product, and lose
        // carts and order lines of all but one variant: not something to do silently.
        Err(DbErr::Migration(
            "products with variants cannot be turned back into single products; restore a backup"
                .into(),
        ))
    }
}

async fn rebuild_cart_items(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    manager
        .create_table(
            Table::create()
                .table(CartItemsNext::Table)
                .col(pk_auto(CartItems::Id))
                .col(integer(CartItems::CartId))
                .col(integer(CartItems::ProductId))
                .col(integer(CartItems::VariantId))
                .col(
                    integer(CartItems::Quantity)
                        .check(Expr::col(CartItems::Quantity).between(1, 999)),
                )
                .col(boolean(CartItems::SavedForLater).default(false))
                .col(timestamp_with_time_zone(CartItems::CreatedAt))
                .col(timestamp_with_time_zone(CartItems::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CartItemsNext::Table, CartItems::CartId)
                        .to(Carts::Table, Carts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CartItemsNext::Table, CartItems::ProductId)
                        .to(Products::Table, Products::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CartItemsNext::Table, CartItems::VariantId)
                        .to(ProductVariants::Table, ProductVariants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    db.execute_unprepared(
        "INSERT INTO cart_items_next \
           (cart_id, product_id, variant_id, quantity, saved_for_later, created_at, updated_at) \
         SELECT i.cart_id, i.product_id, v.id, i.quantity, i.saved_for_later, i.created_at, \
                i.updated_at \
         FROM cart_items i JOIN product_variants v ON v.product_id = i.product_id \
         ORDER BY i.id",
    )
    .await?;
    manager
        .drop_table(Table::drop().table(CartItems::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(CartItemsNext::Table, CartItems::Table)
                .to_owned(),
        )
        .await?;
    for (name, columns, unique) in [
        (
            "idx_cart_items_cart_variant",
            vec![CartItems::CartId, CartItems::VariantId],
            true,
        ),
        ("idx_cart_items_product", vec![CartItems::ProductId], false),
        ("idx_cart_items_variant", vec![CartItems::VariantId], false),
    ] {
        let mut index = Index::create();
        index.name(name).table(CartItems::Table);
        for column in columns {
            index.col(column);
        }
        if unique {
            index.unique();
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Options,
}

#[derive(DeriveIden)]
enum ProductVariants {
    Table,
    Id,
    ProductId,
    Position,
    SelectedOptions,
    Sku,
    PriceCents,
    CompareAtCents,
    Stock,
    ImageUrls,
    Archived,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CartItems {
    Table,
    Id,
    CartId,
    ProductId,
    VariantId,
    Quantity,
    SavedForLater,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CartItemsNext {
    Table,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    VariantId,
    VariantTitle,
    Sku,
}
