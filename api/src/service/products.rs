//! Products: admins create, change and remove them; everyone reads the visible ones.

use chrono::Utc;
use entity::{category, product};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};

use crate::{
    db,
    domain::{IdOrSlug, Money, Sku, Slug, bounded, parse_image_urls, required},
    error::{AppError, AppResult},
    service::{
        Patch,
        slugs::{free_slug, slug_taken},
        viewer::{Viewer, require_admin, viewer_is_admin},
    },
};

/// The most units of one product the shop can hold.
pub const MAX_STOCK: i32 = 1_000_000;

/// A new product as the client sent it.
pub struct ProductInput {
    pub name: String,
    pub description: String,
    pub price: String,
    pub stock: i32,
    pub sku: Option<String>,
    pub slug: Option<String>,
    pub category_id: Option<i32>,
    pub image_urls: Option<Vec<String>>,
}

/// Changes to a product; fields left as `None`/`Keep` stay as they are.
#[derive(Default)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<String>,
    pub stock: Option<i32>,
    pub sku: Patch<String>,
    pub slug: Option<String>,
    pub category_id: Patch<i32>,
    pub image_urls: Option<Vec<String>>,
    pub archived: Option<bool>,
}

fn parse_name(raw: &str) -> AppResult<String> {
    required("name", raw, 200)
}

fn parse_description(raw: &str) -> AppResult<String> {
    bounded("description", raw, 10_000, true)
}

fn parse_stock(stock: i32) -> AppResult<i32> {
    if (0..=MAX_STOCK).contains(&stock) {
        Ok(stock)
    } else {
        Err(AppError::bad_input(
            "stock",
            format!("must be a whole number from 0 to {MAX_STOCK}"),
        ))
    }
}

fn encode_images(urls: &[String]) -> AppResult<String> {
    serde_json::to_string(urls).map_err(AppError::internal)
}

/// The image URLs of a stored product.
pub fn image_urls(product: &product::Model) -> Vec<String> {
    serde_json::from_str(&product.image_urls).unwrap_or_default()
}

async fn ensure_category(db: &impl ConnectionTrait, id: i32) -> AppResult<()> {
    match category::Entity::find_by_id(id).one(db).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound("category")),
    }
}

async fn ensure_sku_free(
    db: &impl ConnectionTrait,
    sku: &Sku,
    except: Option<i32>,
) -> AppResult<()> {
    let mut query = product::Entity::find().filter(product::Column::Sku.eq(sku.to_string()));
    if let Some(id) = except {
        query = query.filter(product::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(AppError::conflict("sku", "another product has this SKU"));
    }
    Ok(())
}

async fn ensure_slug_free(
    db: &impl ConnectionTrait,
    slug: &Slug,
    except: Option<i32>,
) -> AppResult<()> {
    if slug_taken::<product::Entity, _>(
        db,
        product::Column::Slug,
        product::Column::Id,
        slug,
        except,
    )
    .await?
    {
        return Err(AppError::conflict("slug", "another product has this slug"));
    }
    Ok(())
}

/// Creates a product (admin). Every field is checked before anything is written.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &Viewer,
    input: ProductInput,
) -> AppResult<product::Model> {
    require_admin(db, viewer).await?;
    let name = parse_name(&input.name)?;
    let description = parse_description(&input.description)?;
    let price = Money::parse_price(&input.price, "price")?;
    let stock = parse_stock(input.stock)?;
    let sku = input.sku.as_deref().map(Sku::parse).transpose()?;
    let explicit_slug = input
        .slug
        .as_deref()
        .map(|s| Slug::parse(s, "slug"))
        .transpose()?;
    let images = parse_image_urls(input.image_urls.as_deref().unwrap_or_default())?;

    let txn = db::begin_write(db).await?;
    // Another admin creating a product of the same name must not take the slug chosen here.
    db::lock_for_transaction(&txn, "products.create").await?;
    if let Some(category) = input.category_id {
        ensure_category(&txn, category).await?;
    }
    if let Some(sku) = &sku {
        ensure_sku_free(&txn, sku, None).await?;
    }
    let slug = match explicit_slug {
        Some(slug) => {
            ensure_slug_free(&txn, &slug, None).await?;
            slug
        }
        None => {
            let base = Slug::from_name(&name, "product");
            free_slug::<product::Entity, _>(&txn, product::Column::Slug, base).await?
        }
    };
    let now = Utc::now();
    let created = product::ActiveModel {
        name: Set(name),
        slug: Set(slug.to_string()),
        description: Set(description),
        sku: Set(sku.map(|sku| sku.to_string())),
        price_cents: Set(price.cents()),
        stock: Set(stock),
        category_id: Set(input.category_id),
        image_urls: Set(encode_images(&images)?),
        archived: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
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
    let name = changes.name.as_deref().map(parse_name).transpose()?;
    let description = changes
        .description
        .as_deref()
        .map(parse_description)
        .transpose()?;
    let price = changes
        .price
        .as_deref()
        .map(|p| Money::parse_price(p, "price"))
        .transpose()?;
    let stock = changes.stock.map(parse_stock).transpose()?;
    let sku = match &changes.sku {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(raw) => Some(Some(Sku::parse(raw)?)),
    };
    let slug = changes
        .slug
        .as_deref()
        .map(|s| Slug::parse(s, "slug"))
        .transpose()?;
    let images = changes
        .image_urls
        .as_deref()
        .map(parse_image_urls)
        .transpose()?;

    let txn = db::begin_write(db).await?;
    let current = product::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    if let Patch::Set(category) = changes.category_id {
        ensure_category(&txn, category).await?;
    }
    if let Some(Some(sku)) = &sku {
        ensure_sku_free(&txn, sku, Some(id)).await?;
    }
    if let Some(slug) = &slug {
        ensure_slug_free(&txn, slug, Some(id)).await?;
    }

    let mut active = current.into_active_model();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if let Some(description) = description {
        active.description = Set(description);
    }
    if let Some(price) = price {
        active.price_cents = Set(price.cents());
    }
    if let Some(stock) = stock {
        active.stock = Set(stock);
    }
    if let Some(sku) = sku {
        active.sku = Set(sku.map(|sku| sku.to_string()));
    }
    if let Some(slug) = slug {
        active.slug = Set(slug.to_string());
    }
    match changes.category_id {
        Patch::Keep => {}
        Patch::Clear => active.category_id = Set(None),
        Patch::Set(category) => active.category_id = Set(Some(category)),
    }
    if let Some(images) = images {
        active.image_urls = Set(encode_images(&images)?);
    }
    if let Some(archived) = changes.archived {
        active.archived = Set(archived);
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
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

/// One product by id or by slug (exactly one must be given), if the caller may see it:
/// archived products only for admins.
pub async fn find_visible(
    db: &DatabaseConnection,
    viewer: &Viewer,
    key: &IdOrSlug,
) -> AppResult<Option<product::Model>> {
    let query = match key {
        IdOrSlug::Id(id) => product::Entity::find_by_id(*id),
        IdOrSlug::Slug(slug) => product::Entity::find().filter(product::Column::Slug.eq(slug)),
    };
    let Some(product) = query.one(db).await? else {
        return Ok(None);
    };
    if product.archived && !viewer_is_admin(db, viewer).await? {
        return Ok(None);
    }
    Ok(Some(product))
}

/// Products by id, archived or not (for the DataLoader: orders show archived products).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> AppResult<Vec<product::Model>> {
    Ok(product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
