//! Admins add, change and remove a product's variants.

use chrono::Utc;
use entity::product_variant;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, Set, sea_query::Expr,
};

use super::{MAX_VARIANTS, lock_product, of_products, sync_product};
use crate::{
    db,
    domain::{ImageUrls, Money, ProductOptions, SelectedOption, Selection, Sku, Stock},
    error::{AppError, AppResult, Refusal},
    service::{
        Patch,
        viewer::{Viewer, require_admin},
    },
};

/// A new variant of a product.
pub struct NewVariant {
    /// One value of each of the product's options.
    pub selected_options: Vec<SelectedOption>,
    pub price: Money,
    pub compare_at: Option<Money>,
    pub stock: Stock,
    pub sku: Option<Sku>,
    pub image_urls: ImageUrls,
}

/// Changes to a variant; fields left as `None`/`Keep` stay as they are.
#[derive(Default)]
pub struct VariantChanges {
    pub selected_options: Option<Vec<SelectedOption>>,
    pub price: Option<Money>,
    pub compare_at: Patch<Money>,
    pub stock: Option<Stock>,
    pub sku: Patch<Sku>,
    pub image_urls: Option<ImageUrls>,
}

/// Refused unless no variant but `except` has the SKU.
pub(crate) async fn ensure_sku_free(
    db: &impl ConnectionTrait,
    sku: &Sku,
    except: Option<i32>,
) -> AppResult<()> {
    let mut query =
        product_variant::Entity::find().filter(product_variant::Column::Sku.eq(sku.to_string()));
    if let Some(id) = except {
        query = query.filter(product_variant::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(Refusal::SkuTaken.into());
    }
    Ok(())
}

/// Refused unless a compare-at ("was") price is above the price.
pub(crate) fn ensure_compare_at_above(price: Money, compare_at: Option<Money>) -> AppResult<()> {
    match compare_at {
        Some(was) if was <= price => Err(Refusal::CompareAtNotAbovePrice.into()),
        _ => Ok(()),
    }
}

/// Refused when another active variant of the product has the combination.
async fn ensure_combination_free(
    txn: &impl ConnectionTrait,
    product_id: i32,
    stored: &str,
    except: Option<i32>,
) -> AppResult<()> {
    let taken = of_products(txn, &[product_id])
        .await?
        .iter()
        .any(|variant| variant.selected_options == stored && Some(variant.id) != except);
    if taken {
        return Err(Refusal::CombinationTaken.into());
    }
    Ok(())
}

/// Adds a variant to a product (admin). Every rule is checked before anything is written.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &Viewer,
    product_id: i32,
    input: NewVariant,
) -> AppResult<product_variant::Model> {
    require_admin(db, viewer).await?;
    db::write(db, async |txn| {
        let product = lock_product(txn, product_id).await?;
        if product.archived {
            return Err(AppError::NotFound("product"));
        }
        let selection =
            ProductOptions::from_stored(&product.options).select(&input.selected_options)?;
        let active = of_products(txn, &[product_id]).await?;
        if active.len() as u64 >= MAX_VARIANTS {
            return Err(Refusal::TooManyVariants { max: MAX_VARIANTS }.into());
        }
        ensure_combination_free(txn, product_id, &selection.to_stored(), None).await?;
        ensure_compare_at_above(input.price, input.compare_at)?;
        if let Some(sku) = &input.sku {
            ensure_sku_free(txn, sku, None).await?;
        }
        let position = next_position(txn, product_id).await?;
        let created = insert(txn, product_id, position, &selection, input).await?;
        sync_product(txn, product_id).await?;
        Ok(created)
    })
    .await
}

/// Writes a variant of `product_id` with the combination `selection`, in the caller's
/// transaction, which has checked the rules already.
pub(crate) async fn insert(
    txn: &impl ConnectionTrait,
    product_id: i32,
    position: i32,
    selection: &Selection,
    input: NewVariant,
) -> AppResult<product_variant::Model> {
    let now = Utc::now();
    Ok(product_variant::ActiveModel {
        product_id: Set(product_id),
        position: Set(position),
        selected_options: Set(selection.to_stored()),
        sku: Set(input.sku.map(|sku| sku.to_string())),
        price_cents: Set(input.price.cents()),
        compare_at_cents: Set(input.compare_at.map(Money::cents)),
        stock: Set(input.stock.units()),
        image_urls: Set(input.image_urls.to_stored()),
        archived: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Where a new variant of the product goes: after all the others.
pub(crate) async fn next_position(txn: &impl ConnectionTrait, product_id: i32) -> AppResult<i32> {
    let last: Option<Option<i32>> = product_variant::Entity::find()
        .select_only()
        .column_as(product_variant::Column::Position.max(), "last")
        .filter(product_variant::Column::ProductId.eq(product_id))
        .into_tuple()
        .one(txn)
        .await?;
    Ok(last.flatten().map_or(0, |last| last + 1))
}

/// The active variant `id`, with its product's row taken (see the module's doc).
async fn lock_variant(
    txn: &impl ConnectionTrait,
    id: i32,
) -> AppResult<(entity::product::Model, product_variant::Model)> {
    let found = product_variant::Entity::find_by_id(id)
        .one(txn)
        .await?
        .filter(|variant| !variant.archived)
        .ok_or(AppError::NotFound("variant"))?;
    let product = lock_product(txn, found.product_id).await?;
    // Read again under the lock: it may have changed while we waited for the product.
    let variant = product_variant::Entity::find_by_id(id)
        .one(txn)
        .await?
        .filter(|variant| !variant.archived)
        .ok_or(AppError::NotFound("variant"))?;
    Ok((product, variant))
}

/// Changes a variant (admin).
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    changes: VariantChanges,
) -> AppResult<product_variant::Model> {
    require_admin(db, viewer).await?;
    db::write(db, async |txn| apply(txn, id, changes).await).await
}

/// Applies `changes` to the active variant `id` and brings its product in line, inside
/// the caller's transaction; also what a product's own price, stock and SKU change.
pub(crate) async fn apply(
    txn: &impl ConnectionTrait,
    id: i32,
    changes: VariantChanges,
) -> AppResult<product_variant::Model> {
    let (product, current) = lock_variant(txn, id).await?;
    let selection = match &changes.selected_options {
        Some(chosen) => {
            let selection = ProductOptions::from_stored(&product.options).select(chosen)?;
            ensure_combination_free(txn, product.id, &selection.to_stored(), Some(id)).await?;
            Some(selection)
        }
        None => None,
    };
    let price = changes
        .price
        .unwrap_or_else(|| Money::from_cents(current.price_cents));
    let compare_at = changes
        .compare_at
        .applied_to(current.compare_at_cents.map(Money::from_cents));
    ensure_compare_at_above(price, compare_at)?;
    if let Patch::Set(sku) = &changes.sku {
        ensure_sku_free(txn, sku, Some(id)).await?;
    }

    let mut active = current.into_active_model();
    if let Some(selection) = selection {
        active.selected_options = Set(selection.to_stored());
    }
    active.price_cents = Set(price.cents());
    active.compare_at_cents = Set(compare_at.map(Money::cents));
    if let Some(stock) = changes.stock {
        active.stock = Set(stock.units());
    }
    if let Some(sku) = changes.sku.change() {
        active.sku = Set(sku.map(|sku| sku.to_string()));
    }
    if let Some(images) = changes.image_urls {
        active.image_urls = Set(images.to_stored());
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(txn).await?;
    sync_product(txn, product.id).await?;
    Ok(updated)
}

/// Removes a variant (admin); never a product's last one. One that order lines refer to
/// is archived instead: gone from the product, kept for the orders.
pub async fn delete(db: &DatabaseConnection, viewer: &Viewer, id: i32) -> AppResult<bool> {
    require_admin(db, viewer).await?;
    db::write(db, async |txn| {
        let (product, variant) = lock_variant(txn, id).await?;
        if of_products(txn, &[product.id]).await?.len() <= 1 {
            return Err(AppError::from(Refusal::LastVariant));
        }
        let ordered = entity::order_item::Entity::find()
            .filter(entity::order_item::Column::VariantId.eq(variant.id))
            .one(txn)
            .await?
            .is_some();
        if ordered {
            product_variant::Entity::update_many()
                .col_expr(product_variant::Column::Archived, Expr::value(true))
                .col_expr(product_variant::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(product_variant::Column::Id.eq(id))
                .exec(txn)
                .await?;
        } else {
            product_variant::Entity::delete_by_id(id).exec(txn).await?;
        }
        sync_product(txn, product.id).await?;
        Ok(true)
    })
    .await
}
