//! Choosing a free slug for a new category or product.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{domain::Slug, error::AppResult};

/// `base` if no row of `E` has it in `column`, else the first free `base-2`, `base-3`, ….
pub async fn free_slug<E, C>(db: &impl ConnectionTrait, column: C, base: Slug) -> AppResult<Slug>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let taken: HashSet<String> = E::find()
        .select_only()
        .column(column)
        .filter(column.starts_with(base.as_str()))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut candidate = base.clone();
    let mut n = 1;
    while taken.contains(candidate.as_str()) {
        n += 1;
        candidate = base.with_suffix(n);
    }
    Ok(candidate)
}

/// Whether another row of `E` (not `except`) already has `slug` in `column`.
pub async fn slug_taken<E, C>(
    db: &impl ConnectionTrait,
    column: C,
    id_column: C,
    slug: &Slug,
    except: Option<i32>,
) -> AppResult<bool>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let mut query = E::find().filter(column.eq(slug.as_str()));
    if let Some(id) = except {
        query = query.filter(id_column.ne(id));
    }
    Ok(query.one(db).await?.is_some())
}
