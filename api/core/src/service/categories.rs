//! The category tree: admins shape it, everyone walks it.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{category, product};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    db,
    domain::{CategoryDescription, CategoryName, IdOrSlug, Slug},
    error::{AppError, AppResult, Refusal},
    service::{
        Patch,
        slugs::{ensure_slug_free, slug_for_new},
        viewer::{Viewer, require_admin},
    },
};

/// A new category.
pub struct NewCategory {
    pub name: CategoryName,
    /// Made from the name when `None`.
    pub slug: Option<Slug>,
    pub description: Option<CategoryDescription>,
    pub parent_id: Option<i32>,
}

/// Changes to a category; `parent_id: Clear` makes it a root.
#[derive(Default)]
pub struct CategoryChanges {
    pub name: Option<CategoryName>,
    pub slug: Option<Slug>,
    pub description: Patch<CategoryDescription>,
    pub parent_id: Patch<i32>,
}

async fn ensure_exists(db: &impl ConnectionTrait, id: i32) -> AppResult<category::Model> {
    category::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("category"))
}

/// Creates a category (admin). Without a slug, one is made from the name.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &Viewer,
    input: NewCategory,
) -> AppResult<category::Model> {
    require_admin(db, viewer).await?;
    let txn = db::begin_write(db).await?;
    // Another admin creating a category of the same name must not take the slug chosen here.
    db::lock_for_transaction(&txn, "categories.create").await?;
    if let Some(parent) = input.parent_id {
        ensure_exists(&txn, parent).await?;
    }
    let slug = slug_for_new::<category::Entity>(&txn, input.slug, input.name.as_str()).await?;
    let now = Utc::now();
    let created = category::ActiveModel {
        name: Set(input.name.into_string()),
        slug: Set(slug.to_string()),
        // An empty description is none at all.
        description: Set(input.description.and_then(CategoryDescription::non_empty)),
        parent_id: Set(input.parent_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a category (admin). A category cannot move under itself or its descendants.
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    changes: CategoryChanges,
) -> AppResult<category::Model> {
    require_admin(db, viewer).await?;
    let txn = db::begin_write(db).await?;
    let current = ensure_exists(&txn, id).await?;
    if let Some(slug) = &changes.slug {
        ensure_slug_free::<category::Entity>(&txn, slug, Some(id)).await?;
    }
    if let Patch::Set(parent) = changes.parent_id {
        ensure_exists(&txn, parent).await?;
        if ancestors_and_self(&txn, parent).await?.contains(&id) {
            return Err(Refusal::CategoryCycle.into());
        }
    }
    let mut active = current.into_active_model();
    if let Some(name) = changes.name {
        active.name = Set(name.into_string());
    }
    if let Some(slug) = changes.slug {
        active.slug = Set(slug.to_string());
    }
    if let Some(text) = changes.description.change() {
        // Setting an empty description clears it, as null does.
        active.description = Set(text.and_then(|text| text.non_empty()));
    }
    if let Some(parent) = changes.parent_id.change() {
        active.parent_id = Set(parent);
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// `id` and every category above it, walking parent links up to the root.
async fn ancestors_and_self(db: &impl ConnectionTrait, id: i32) -> AppResult<HashSet<i32>> {
    let parents = parent_links(db).await?;
    let mut seen = HashSet::new();
    let mut next = Some(id);
    while let Some(current) = next {
        if !seen.insert(current) {
            break;
        }
        next = parents.get(&current).copied().flatten();
    }
    Ok(seen)
}

async fn parent_links(db: &impl ConnectionTrait) -> AppResult<HashMap<i32, Option<i32>>> {
    let links: Vec<(i32, Option<i32>)> = category::Entity::find()
        .select_only()
        .columns([category::Column::Id, category::Column::ParentId])
        .into_tuple()
        .all(db)
        .await?;
    Ok(links.into_iter().collect())
}

/// Deletes a category (admin); one that still has children or products is CONFLICT.
pub async fn delete(db: &DatabaseConnection, viewer: &Viewer, id: i32) -> AppResult<bool> {
    require_admin(db, viewer).await?;
    let txn = db::begin_write(db).await?;
    ensure_exists(&txn, id).await?;
    let children = category::Entity::find()
        .filter(category::Column::ParentId.eq(id))
        .count(&txn)
        .await?;
    if children > 0 {
        return Err(Refusal::CategoryHasSubcategories.into());
    }
    let products = product::Entity::find()
        .filter(product::Column::CategoryId.eq(id))
        .count(&txn)
        .await?;
    if products > 0 {
        return Err(Refusal::CategoryHasProducts.into());
    }
    category::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(true)
}

/// The root categories, by name.
pub async fn roots(db: &DatabaseConnection) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::ParentId.is_null())
        .order_by_asc(category::Column::Name)
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?)
}

/// One category by id or by slug.
pub async fn find(db: &DatabaseConnection, key: &IdOrSlug) -> AppResult<Option<category::Model>> {
    let query = match key {
        IdOrSlug::Id(id) => category::Entity::find_by_id(*id),
        IdOrSlug::Slug(slug) => category::Entity::find().filter(category::Column::Slug.eq(slug)),
    };
    Ok(query.one(db).await?)
}

/// Categories by id (for the DataLoader).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The direct children of many categories, by name (for the DataLoader).
pub async fn children_of(
    db: &impl ConnectionTrait,
    parent_ids: &[i32],
) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::ParentId.is_in(parent_ids.iter().copied()))
        .order_by_asc(category::Column::Name)
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?)
}

/// `id` and all categories below it.
pub async fn with_descendants(db: &impl ConnectionTrait, id: i32) -> AppResult<Vec<i32>> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (child, parent) in parent_links(db).await? {
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut found = vec![id];
    let mut next = 0;
    while let Some(&current) = found.get(next) {
        if let Some(kids) = children.get(&current) {
            found.extend(
                kids.iter()
                    .filter(|kid| !found.contains(kid))
                    .collect::<Vec<_>>(),
            );
        }
        next += 1;
    }
    Ok(found)
}
