//! Variants: the sizes and colours of a product, each with its own price, stock and SKU.
//! What a cart holds and an order buys is a variant.
//!
//! A product's `price_cents`, `stock` and `sku` sum up its active variants and change in
//! the same transaction as they do. Every write that changes a variant's stock or price
//! takes the product's row first ([`lock_product`] here, the conditional stock update of
//! a checkout or a restock), so writers queue on one row and never deadlock over two.

pub(crate) mod admin;
mod options;

pub use admin::{NewVariant, VariantChanges, create, delete, update};
pub use options::set_options;

use chrono::Utc;
use entity::{product, product_variant};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};

use crate::{
    domain::{GlobalId, ImageUrls, NodeKind, Selection},
    error::{AppError, AppResult},
    service::viewer::{Viewer, viewer_is_admin},
};

/// The most active variants one product may have.
pub const MAX_VARIANTS: u64 = 100;

/// What customers read for a variant: its option values joined, or "Default".
pub fn title(variant: &product_variant::Model) -> String {
    selection(variant).title()
}

/// The combination of option values a variant stands for.
pub fn selection(variant: &product_variant::Model) -> Selection {
    Selection::from_stored(&variant.selected_options)
}

/// OUT_OF_STOCK for a variant of which only `available` units are left.
pub fn out_of_stock(variant: &product_variant::Model, available: i32) -> AppError {
    AppError::OutOfStock {
        product_id: GlobalId::new(NodeKind::Product, variant.product_id).to_string(),
        variant_id: GlobalId::new(NodeKind::ProductVariant, variant.id).to_string(),
        available,
    }
}

/// The variant's own image URLs (none: its product's images stand for it).
pub fn image_urls(variant: &product_variant::Model) -> Vec<String> {
    ImageUrls::from_stored(&variant.image_urls)
}

/// The active variants of each product, in display order.
pub async fn of_products(
    db: &impl ConnectionTrait,
    product_ids: &[i32],
) -> AppResult<Vec<product_variant::Model>> {
    Ok(product_variant::Entity::find()
        .filter(product_variant::Column::ProductId.is_in(product_ids.iter().copied()))
        .filter(product_variant::Column::Archived.eq(false))
        .order_by_asc(product_variant::Column::ProductId)
        .order_by_asc(product_variant::Column::Position)
        .order_by_asc(product_variant::Column::Id)
        .all(db)
        .await?)
}

/// Variants by id, archived or not (for the DataLoader: order lines show archived ones).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> AppResult<Vec<product_variant::Model>> {
    Ok(product_variant::Entity::find()
        .filter(product_variant::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// One variant, if the caller may see it: an archived variant, or one of an archived
/// product, only for admins.
pub async fn find_visible(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
) -> AppResult<Option<product_variant::Model>> {
    Ok(visible_by_ids(db, viewer, &[id]).await?.pop())
}

/// Of the variants `ids`, those the caller may see (see [`find_visible`]): one query, and
/// one more for the admin flag when some are archived or of an archived product.
pub async fn visible_by_ids(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> AppResult<Vec<product_variant::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(product_variant::Model, product::Model)> = product_variant::Entity::find()
        .filter(product_variant::Column::Id.is_in(ids.iter().copied()))
        .find_also_related(product::Entity)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(variant, product)| Some((variant, product?)))
        .collect();
    let hidden = |(variant, product): &(product_variant::Model, product::Model)| {
        variant.archived || product.archived
    };
    let admin = found.iter().any(hidden) && viewer_is_admin(db, viewer).await?;
    Ok(found
        .into_iter()
        .filter(|row| admin || !hidden(row))
        .map(|(variant, _)| variant)
        .collect())
}

/// Takes the product's row for the rest of the transaction (see the module's doc), and
/// answers it. NOT_FOUND when there is none.
pub(crate) async fn lock_product(
    txn: &impl ConnectionTrait,
    product_id: i32,
) -> AppResult<product::Model> {
    let touched = product::Entity::update_many()
        .col_expr(product::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(product::Column::Id.eq(product_id))
        .exec(txn)
        .await?
        .rows_affected;
    let product = product::Entity::find_by_id(product_id).one(txn).await?;
    match product {
        Some(product) if touched == 1 => Ok(product),
        _ => Err(AppError::NotFound("product")),
    }
}

/// Brings the product's price, stock and SKU in line with its active variants: the lowest
/// price, the total stock, the first variant's SKU. Called under [`lock_product`].
pub(crate) async fn sync_product(
    txn: &impl ConnectionTrait,
    product_id: i32,
) -> AppResult<product::Model> {
    let active = of_products(txn, &[product_id]).await?;
    let price = active.iter().map(|variant| variant.price_cents).min();
    let stock: i64 = active.iter().map(|variant| i64::from(variant.stock)).sum();
    let stock = i32::try_from(stock).map_err(AppError::internal)?;
    let sku = active.first().and_then(|variant| variant.sku.clone());
    let mut update = product::Entity::update_many()
        .col_expr(product::Column::Stock, Expr::value(stock))
        .col_expr(product::Column::Sku, Expr::value(sku))
        .filter(product::Column::Id.eq(product_id));
    // A product always has an active variant; were it ever without, it keeps its price.
    if let Some(price) = price {
        update = update.col_expr(product::Column::PriceCents, Expr::value(price));
    }
    update.exec(txn).await?;
    product::Entity::find_by_id(product_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("product"))
}
