//! The slugs of categories and products: choosing a free one, and refusing a taken one.

use std::collections::HashSet;

use entity::{category, product};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    domain::Slug,
    error::{AppResult, Refusal},
};

/// A table whose rows have a unique slug.
pub trait Slugged: EntityTrait {
    /// The column that holds the slug.
    const SLUG: Self::Column;
    /// The primary key, to tell a row's own slug from another's.
    const ID: Self::Column;
    /// What a row is called in a refusal ("another product has this slug").
    const WHAT: &'static str;
}

impl Slugged for product::Entity {
    const SLUG: product::Column = product::Column::Slug;
    const ID: product::Column = product::Column::Id;
    const WHAT: &'static str = "product";
}

impl Slugged for category::Entity {
    const SLUG: category::Column = category::Column::Slug;
    const ID: category::Column = category::Column::Id;
    const WHAT: &'static str = "category";
}

/// The slug of a new row of `E`: `chosen`, refused if another row has it; or, when none
/// was chosen, one made from `name` (or [`Slugged::WHAT`] for a name with no letters or
/// digits) with the first free suffix. The caller holds the transaction's lock, so that
/// no concurrent creation takes the slug before the row is written.
pub async fn slug_for_new<E: Slugged>(
    db: &impl ConnectionTrait,
    chosen: Option<Slug>,
    name: &str,
) -> AppResult<Slug> {
    match chosen {
        Some(slug) => {
            ensure_slug_free::<E>(db, &slug, None).await?;
            Ok(slug)
        }
        None => free_slug::<E>(db, Slug::from_name(name, E::WHAT)).await,
    }
}

/// `base` if no row of `E` has it, else the first free `base-2`, `base-3`, ….
async fn free_slug<E: Slugged>(db: &impl ConnectionTrait, base: Slug) -> AppResult<Slug> {
    let taken: HashSet<String> = E::find()
        .select_only()
        .column(E::SLUG)
        .filter(E::SLUG.starts_with(base.as_str()))
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

/// Refuses `slug` when a row of `E` other than `except` already has it.
pub async fn ensure_slug_free<E: Slugged>(
    db: &impl ConnectionTrait,
    slug: &Slug,
    except: Option<i32>,
) -> AppResult<()> {
    let mut query = E::find().filter(E::SLUG.eq(slug.as_str()));
    if let Some(id) = except {
        query = query.filter(E::ID.ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(Refusal::SlugTaken(E::WHAT).into());
    }
    Ok(())
}
