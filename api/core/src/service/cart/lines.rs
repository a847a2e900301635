//! Changes to a cart's lines: add, set a quantity, remove, save for later and back.

use chrono::Utc;
use entity::{cart_item, product, product_variant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};

use super::{CartView, MAX_LINES, Named, Target, commit, open};
use crate::{
    domain::{CartId, Quantity},
    error::{AppError, AppResult, Refusal},
    service::{variants, viewer::Viewer},
};

/// The variant, if it can be put in a cart: neither it nor its product archived.
fn buyable((variant, product): Named) -> AppResult<(product::Model, product_variant::Model)> {
    match product {
        Some(product) if !product.archived && !variant.archived => Ok((product, variant)),
        Some(_) if variant.archived => Err(AppError::NotFound("variant")),
        _ => Err(AppError::NotFound("product")),
    }
}

fn ensure_stock(variant: &product_variant::Model, quantity: i32) -> AppResult<()> {
    if quantity > variant.stock {
        return Err(variants::out_of_stock(variant, variant.stock));
    }
    Ok(())
}

pub(super) async fn find_line(
    db: &impl ConnectionTrait,
    cart_id: i32,
    variant_id: i32,
) -> AppResult<Option<cart_item::Model>> {
    Ok(cart_item::Entity::find()
        .filter(cart_item::Column::CartId.eq(cart_id))
        .filter(cart_item::Column::VariantId.eq(variant_id))
        .one(db)
        .await?)
}

/// The line of the cart holding the variant: NOT_FOUND when there is none.
async fn line_of(
    db: &impl ConnectionTrait,
    cart_id: i32,
    variant: &product_variant::Model,
) -> AppResult<cart_item::Model> {
    find_line(db, cart_id, variant.id)
        .await?
        .ok_or(AppError::NotFound("cart item"))
}

/// Puts `quantity` more units of a variant in the cart (a saved line moves back to the
/// cart). More than the stock is OUT_OF_STOCK; more than 999 on one line BAD_USER_INPUT.
pub async fn add(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
    target: Target,
    quantity: Quantity,
) -> AppResult<CartView> {
    let opened = open(db, viewer, named).await?;
    let (txn, cart) = (&opened.txn, &opened.cart);
    let (product, variant) = buyable(target.resolve(txn).await?)?;
    let now = Utc::now();
    match find_line(txn, cart.id, variant.id).await? {
        Some(line) => {
            let total = Quantity::parse(line.quantity.saturating_add(quantity.get()))?;
            ensure_stock(&variant, total.get())?;
            let mut line = line.into_active_model();
            line.quantity = Set(total.get());
            line.saved_for_later = Set(false);
            line.updated_at = Set(now);
            line.update(txn).await?;
        }
        None => {
            ensure_stock(&variant, quantity.get())?;
            let count = cart_item::Entity::find()
                .filter(cart_item::Column::CartId.eq(cart.id))
                .count(txn)
                .await?;
            if count >= MAX_LINES {
                return Err(Refusal::CartFull { max: MAX_LINES }.into());
            }
            cart_item::ActiveModel {
                cart_id: Set(cart.id),
                product_id: Set(product.id),
                variant_id: Set(variant.id),
                quantity: Set(quantity.get()),
                saved_for_later: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    commit(opened).await
}

/// Sets a line's quantity; none (a quantity of 0) removes the line.
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
    target: Target,
    quantity: Option<Quantity>,
) -> AppResult<CartView> {
    let Some(quantity) = quantity else {
        return remove(db, viewer, named, target).await;
    };
    let opened = open(db, viewer, named).await?;
    let txn = &opened.txn;
    let named = target.resolve(txn).await?;
    let line = line_of(txn, opened.cart.id, &named.0).await?;
    let (_, variant) = buyable(named)?;
    ensure_stock(&variant, quantity.get())?;
    let mut line = line.into_active_model();
    line.quantity = Set(quantity.get());
    line.updated_at = Set(Utc::now());
    line.update(txn).await?;
    commit(opened).await
}

/// Takes a variant out of the cart (or the saved list).
pub async fn remove(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
    target: Target,
) -> AppResult<CartView> {
    let opened = open(db, viewer, named).await?;
    let (variant, _) = target.resolve(&opened.txn).await?;
    let line = line_of(&opened.txn, opened.cart.id, &variant).await?;
    cart_item::Entity::delete_by_id(line.id)
        .exec(&opened.txn)
        .await?;
    commit(opened).await
}

/// Moves a line from the cart to the saved list, or back (checking the stock). Saving
/// for later is for users: a guest is UNAUTHENTICATED.
async fn set_saved(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
    target: Target,
    saved: bool,
) -> AppResult<CartView> {
    viewer.user_id()?;
    let opened = open(db, viewer, named).await?;
    let txn = &opened.txn;
    let named = target.resolve(txn).await?;
    let line = line_of(txn, opened.cart.id, &named.0).await?;
    if line.saved_for_later == saved {
        return Err(AppError::NotFound("cart item"));
    }
    if !saved {
        let (_, variant) = buyable(named)?;
        ensure_stock(&variant, line.quantity)?;
    }
    let mut line = line.into_active_model();
    line.saved_for_later = Set(saved);
    line.updated_at = Set(Utc::now());
    line.update(txn).await?;
    commit(opened).await
}

/// Moves a variant from the cart to "saved for later".
pub async fn save_for_later(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
    target: Target,
) -> AppResult<CartView> {
    set_saved(db, viewer, named, target, true).await
}

/// Moves a saved variant back into the cart.
pub async fn move_to_cart(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
    target: Target,
) -> AppResult<CartView> {
    set_saved(db, viewer, named, target, false).await
}
