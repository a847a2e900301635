//! Saved carts: a user's whole cart put aside under a name, restored another day. Users
//! only; another user's saved cart is NOT_FOUND, as one that does not exist.

use chrono::Utc;
use entity::{cart_item, product, saved_cart, saved_cart_item};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::{CartLine, CartView, Poured, StoredLine, commit, complete, lines, open, pour};
use crate::{
    db,
    domain::SavedCartName,
    error::{AppError, AppResult, Refusal},
    service::viewer::Viewer,
};

/// The most saved carts one user may keep.
pub const MAX_SAVED_CARTS: u64 = 20;

/// A saved cart with its lines as they are now (current prices).
#[derive(Clone, Debug)]
pub struct SavedCartView {
    pub saved: saved_cart::Model,
    pub items: Vec<CartLine>,
}

/// Puts the caller's cart aside under `name`: its items (not its lines saved for later)
/// become a saved cart, and leave the cart. An empty cart is BAD_USER_INPUT.
pub async fn save(
    db: &DatabaseConnection,
    viewer: &Viewer,
    name: SavedCartName,
) -> AppResult<SavedCartView> {
    let user_id = viewer.user_id()?;
    let opened = open(db, viewer, None).await?;
    let txn = &opened.txn;
    let items: Vec<CartLine> = lines(txn, opened.cart.id)
        .await?
        .into_iter()
        .filter(|line| !line.saved_for_later)
        .collect();
    if items.is_empty() {
        return Err(AppError::bad_input("cart", "the cart is empty"));
    }
    let kept = saved_cart::Entity::find()
        .filter(saved_cart::Column::UserId.eq(user_id))
        .count(txn)
        .await?;
    if kept >= MAX_SAVED_CARTS {
        return Err(Refusal::SavedCartsFull {
            max: MAX_SAVED_CARTS,
        }
        .into());
    }
    let saved = saved_cart::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.into_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    saved_cart_item::Entity::insert_many(items.iter().map(|line| saved_cart_item::ActiveModel {
        saved_cart_id: Set(saved.id),
        product_id: Set(line.product.id),
        variant_id: Set(line.variant.id),
        quantity: Set(line.quantity),
        ..Default::default()
    }))
    .exec(txn)
    .await?;
    cart_item::Entity::delete_many()
        .filter(cart_item::Column::CartId.eq(opened.cart.id))
        .filter(cart_item::Column::SavedForLater.eq(false))
        .exec(txn)
        .await?;
    commit(opened).await?;
    Ok(SavedCartView { saved, items })
}

/// Each user's saved carts, newest first, with their lines: two queries for all of them.
pub async fn saved_carts_of(
    db: &impl ConnectionTrait,
    user_ids: &[i32],
) -> AppResult<Vec<SavedCartView>> {
    let carts = saved_cart::Entity::find()
        .filter(saved_cart::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_desc(saved_cart::Column::Id)
        .all(db)
        .await?;
    with_lines(db, carts).await
}

async fn with_lines(
    db: &impl ConnectionTrait,
    carts: Vec<saved_cart::Model>,
) -> AppResult<Vec<SavedCartView>> {
    let rows = saved_cart_item::Entity::find()
        .filter(saved_cart_item::Column::SavedCartId.is_in(carts.iter().map(|cart| cart.id)))
        .find_also_related(product::Entity)
        .order_by_asc(saved_cart_item::Column::Id)
        .all(db)
        .await?;
    let lines = complete(
        db,
        rows.into_iter()
            .filter_map(|(item, product)| {
                Some(StoredLine {
                    tag: item.saved_cart_id,
                    variant_id: item.variant_id,
                    quantity: item.quantity,
                    saved_for_later: false,
                    product: product?,
                })
            })
            .collect(),
    )
    .await?;
    let mut views: Vec<SavedCartView> = carts
        .into_iter()
        .map(|saved| SavedCartView {
            saved,
            items: Vec::new(),
        })
        .collect();
    for (owner, line) in lines {
        if let Some(view) = views.iter_mut().find(|view| view.saved.id == owner) {
            view.items.push(line);
        }
    }
    Ok(views)
}

/// Of the saved carts `ids`, the caller's own (none for an anonymous caller): two
/// queries, however many.
pub async fn saved_visible_by_ids(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> AppResult<Vec<SavedCartView>> {
    let Ok(user_id) = viewer.user_id() else {
        return Ok(Vec::new());
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let own = saved_cart::Entity::find()
        .filter(saved_cart::Column::Id.is_in(ids.iter().copied()))
        .filter(saved_cart::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    with_lines(db, own).await
}

async fn find_own(
    db: &impl ConnectionTrait,
    user_id: i32,
    id: i32,
) -> AppResult<Option<saved_cart::Model>> {
    Ok(saved_cart::Entity::find_by_id(id)
        .filter(saved_cart::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// Adds a saved cart's lines to the caller's cart (quantities of a variant the cart has
/// add up, to at most 999) and deletes the saved cart, in one transaction.
pub async fn restore(db: &DatabaseConnection, viewer: &Viewer, id: i32) -> AppResult<CartView> {
    let user_id = viewer.user_id()?;
    let opened = open(db, viewer, None).await?;
    let txn = &opened.txn;
    let saved = find_own(txn, user_id, id)
        .await?
        .ok_or(AppError::NotFound("saved cart"))?;
    let items = saved_cart_item::Entity::find()
        .filter(saved_cart_item::Column::SavedCartId.eq(saved.id))
        .order_by_asc(saved_cart_item::Column::Id)
        .all(txn)
        .await?;
    let poured = items
        .into_iter()
        .map(|item| Poured {
            product_id: item.product_id,
            variant_id: item.variant_id,
            quantity: item.quantity,
            saved_for_later: false,
        })
        .collect();
    pour(txn, opened.cart.id, poured).await?;
    saved_cart::Entity::delete_by_id(saved.id).exec(txn).await?;
    commit(opened).await
}

/// Deletes one of the caller's saved carts.
pub async fn delete_saved(db: &DatabaseConnection, viewer: &Viewer, id: i32) -> AppResult<bool> {
    let user_id = viewer.user_id()?;
    db::write(db, async |txn| {
        find_own(txn, user_id, id)
            .await?
            .ok_or(AppError::NotFound("saved cart"))?;
        saved_cart::Entity::delete_by_id(id).exec(txn).await?;
        Ok(true)
    })
    .await
}
