//! Products: admins create, change and remove them; everyone reads the visible ones.

use chrono::Utc;
use entity::{category, product};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};

use crate::{
    db,
    domain::{
        IdOrSlug, ImageUrls, Money, ProductDescription, ProductName, ProductOptions, Selection,
        Sku, Slug, Stock,
    },
    error::{AppError, AppResult, Refusal, VariantAttribute},
    service::{
        Patch,
        slugs::{ensure_slug_free, slug_for_new},
        variants::{
            self, NewVariant, VariantChanges,
            admin::{ensure_compare_at_above, ensure_sku_free},
        },
        viewer::{Viewer, require_admin, viewer_is_admin},
    },
};

/// A new product, with the price, stock and SKU of its one variant.
pub struct NewProduct {
    pub name: ProductName,
    pub description: ProductDescription,
    pub price: Money,
    pub compare_at: Option<Money>,
    pub stock: Stock,
    pub sku: Option<Sku>,
    /// Made from the name when `None`.
    pub slug: Option<Slug>,
    pub category_id: Option<i32>,
    pub image_urls: ImageUrls,
}

/// Changes to a product; fields left as `None`/`Keep` stay as they are. Price, stock and
/// SKU are those of its only variant; a product with several has none of its own.
#[derive(Default)]
pub struct ProductChanges {
    pub name: Option<ProductName>,
    pub description: Option<ProductDescription>,
    pub price: Option<Money>,
    pub stock: Option<Stock>,
    pub sku: Patch<Sku>,
    pub slug: Option<Slug>,
    pub category_id: Patch<i32>,
    pub image_urls: Option<ImageUrls>,
    pub archived: Option<bool>,
}

async fn ensure_category(db: &impl ConnectionTrait, id: i32) -> AppResult<()> {
    match category::Entity::find_by_id(id).one(db).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound("category")),
    }
}

/// Creates a product (admin) with one variant, "Default". Every rule is checked before
/// anything is written.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &Viewer,
    input: NewProduct,
) -> AppResult<product::Model> {
    require_admin(db, viewer).await?;
    let txn = db::begin_write(db).await?;
    // Another admin creating a product of the same name must not take the slug chosen here.
    db::lock_for_transaction(&txn, "products.create").await?;
    if let Some(category) = input.category_id {
        ensure_category(&txn, category).await?;
    }
    if let Some(sku) = &input.sku {
        ensure_sku_free(&txn, sku, None).await?;
    }
    ensure_compare_at_above(input.price, input.compare_at)?;
    let slug = slug_for_new::<product::Entity>(&txn, input.slug, input.name.as_str()).await?;
    let now = Utc::now();
    let created = product::ActiveModel {
        name: Set(input.name.into_string()),
        slug: Set(slug.to_string()),
        description: Set(input.description.into_string()),
        sku: Set(input.sku.as_ref().map(Sku::to_string)),
        price_cents: Set(input.price.cents()),
        stock: Set(input.stock.units()),
        category_id: Set(input.category_id),
        options: Set(ProductOptions::default().to_stored()),
        image_urls: Set(input.image_urls.to_stored()),
        archived: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // Its one variant, "Default": no options to choose from, the product's images.
    let only = NewVariant {
        selected_options: Vec::new(),
        price: input.price,
        compare_at: input.compare_at,
        stock: input.stock,
        sku: input.sku,
        image_urls: ImageUrls::default(),
    };
    variants::admin::insert(&txn, created.id, 0, &Selection::default(), only).await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a product (admin).
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    changes: ProductChanges,
) -> AppResult<product::Model> {
    require_admin(db, viewer).await?;
    db::write(db, async |txn| {
        let current = variants::lock_product(txn, id).await?;
        if let Patch::Set(category) = changes.category_id {
            ensure_category(txn, category).await?;
        }
        if let Some(slug) = &changes.slug {
            ensure_slug_free::<product::Entity>(txn, slug, Some(id)).await?;
        }
        change_only_variant(txn, id, &changes).await?;
        let current = product::Entity::find_by_id(current.id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound("product"))?;

        let mut active = current.into_active_model();
        if let Some(name) = changes.name {
            active.name = Set(name.into_string());
        }
        if let Some(description) = changes.description {
            active.description = Set(description.into_string());
        }
        if let Some(slug) = changes.slug {
            active.slug = Set(slug.to_string());
        }
        if let Some(category) = changes.category_id.change() {
            active.category_id = Set(category);
        }
        if let Some(images) = changes.image_urls {
            active.image_urls = Set(images.to_stored());
        }
        if let Some(archived) = changes.archived {
            active.archived = Set(archived);
        }
        active.updated_at = Set(Utc::now());
        Ok(active.update(txn).await?)
    })
    .await
}

/// Applies a product's price, stock and SKU changes to its only variant; a product with
/// several variants has none of its own to change.
async fn change_only_variant(
    txn: &impl ConnectionTrait,
    product_id: i32,
    changes: &ProductChanges,
) -> AppResult<()> {
    let touched = [
        (changes.price.is_some(), VariantAttribute::Price),
        (changes.stock.is_some(), VariantAttribute::Stock),
        (changes.sku != Patch::Keep, VariantAttribute::Sku),
    ];
    let Some(&(_, first)) = touched.iter().find(|(given, _)| *given) else {
        return Ok(());
    };
    let variants = variants::of_products(txn, &[product_id]).await?;
    let [only] = variants.as_slice() else {
        return Err(Refusal::ProductHasVariants(first).into());
    };
    let variant_changes = VariantChanges {
        price: changes.price,
        stock: changes.stock,
        sku: changes.sku.clone(),
        ..Default::default()
    };
    variants::admin::apply(txn, only.id, variant_changes).await?;
    Ok(())
}

/// Removes a product (admin). One that orders still refer to cannot be removed without
/// rewriting history, so it is archived instead: hidden from browsing, kept for orders.
pub async fn delete(db: &DatabaseConnection, viewer: &Viewer, id: i32) -> AppResult<bool> {
    require_admin(db, viewer).await?;
    product::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    match product::Entity::delete_by_id(id).exec(db).await {
        Ok(_) => Ok(true),
        Err(err) => match AppError::from(err) {
            // The foreign keys of order lines restrict deletion: archive instead.
            AppError::Conflict { .. } => {
                product::Entity::update_many()
                    .col_expr(product::Column::Archived, true.into())
                    .col_expr(product::Column::UpdatedAt, Utc::now().into())
                    .filter(product::Column::Id.eq(id))
                    .exec(db)
                    .await?;
                Ok(true)
            }
            other => Err(other),
        },
    }
}

/// One product by id or by slug, if the caller may see it: archived products only for
/// admins.
pub async fn find_visible(
    db: &DatabaseConnection,
    viewer: &Viewer,
    key: &IdOrSlug,
) -> AppResult<Option<product::Model>> {
    let query = match key {
        IdOrSlug::Id(id) => product::Entity::find_by_id(*id),
        IdOrSlug::Slug(slug) => product::Entity::find().filter(product::Column::Slug.eq(slug)),
    };
    let found = query.one(db).await?.into_iter().collect();
    Ok(only_visible(db, viewer, found).await?.pop())
}

/// Of the products `ids`, those the caller may see, as [`find_visible`] would answer each:
/// one query, and one more for the admin flag when some are archived.
pub async fn visible_by_ids(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> AppResult<Vec<product::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    only_visible(db, viewer, by_ids(db, ids).await?).await
}

/// `found` without the archived products, unless the caller is an admin.
async fn only_visible(
    db: &DatabaseConnection,
    viewer: &Viewer,
    mut found: Vec<product::Model>,
) -> AppResult<Vec<product::Model>> {
    if found.iter().any(|product| product.archived) && !viewer_is_admin(db, viewer).await? {
        found.retain(|product| !product.archived);
    }
    Ok(found)
}

/// Products by id, archived or not (for the DataLoader: orders show archived products).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> AppResult<Vec<product::Model>> {
    Ok(product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
