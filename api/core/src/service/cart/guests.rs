//! Guests' carts: made without an account, merged into one when their shopper logs in or
//! registers, and swept away when left alone too long.

use chrono::{Duration, Utc};
use entity::{cart, cart_item};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};

use super::{
    CartView, Poured, checkout_in_progress, ensure_cart, find_guest, lock, lock_own, pour, view,
};
use crate::{
    db,
    domain::GuestSecret,
    error::{AppError, AppResult},
    service::viewer::Viewer,
};

/// A cart for the caller: a new guest cart, whose secret the view carries, for an
/// anonymous caller; a user's own cart for a user.
pub async fn create(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<CartView> {
    if let Ok(user_id) = viewer.user_id() {
        let cart = ensure_cart(db, user_id).await?;
        return view(db, cart, None).await;
    }
    let secret = GuestSecret::generate();
    let now = Utc::now();
    let cart = db::write(db, async |txn| {
        Ok::<_, AppError>(
            cart::ActiveModel {
                secret_hash: Set(Some(secret.hash())),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?,
        )
    })
    .await?;
    view(db, cart, Some(secret)).await
}

/// Whether a guest cart exists: NOT_FOUND when it does not. Login and registration ask
/// first, so that a wrong cart id stops them before they do anything.
pub async fn ensure_guest(db: &DatabaseConnection, secret: &GuestSecret) -> AppResult<()> {
    find_guest(db, secret)
        .await?
        .map(drop)
        .ok_or(AppError::NotFound("cart"))
}

/// Moves a guest cart's lines into the user's cart and deletes the guest cart, in one
/// transaction. Lines of the same variant add up (to at most 999); a line stays saved for
/// later only when it was saved in both. No line is dropped for the cart's line limit:
/// that limit refuses new lines, it never takes away what a shopper put in. A guest cart
/// that another merge took first is NOT_FOUND; one whose checkout is under way, CONFLICT.
pub async fn merge(
    db: &DatabaseConnection,
    user_id: i32,
    secret: &GuestSecret,
) -> AppResult<CartView> {
    db::write(db, async |txn| {
        // The guest cart's row first: a second merge of it waits here, then finds it gone.
        let guest = match find_guest(txn, secret).await? {
            Some(guest) => lock(txn, cart::Column::Id.eq(guest.id)).await?,
            None => None,
        }
        .ok_or(AppError::NotFound("cart"))?;
        if guest.checkout_order_id.is_some() {
            return Err(checkout_in_progress());
        }
        let own = lock_own(txn, user_id)
            .await?
            .ok_or(AppError::NotFound("cart"))?;
        if own.checkout_order_id.is_some() {
            return Err(checkout_in_progress());
        }
        let moving = cart_item::Entity::find()
            .filter(cart_item::Column::CartId.eq(guest.id))
            .order_by_asc(cart_item::Column::Id)
            .all(txn)
            .await?;
        let poured = moving
            .into_iter()
            .map(|line| Poured {
                product_id: line.product_id,
                variant_id: line.variant_id,
                quantity: line.quantity,
                saved_for_later: line.saved_for_later,
            })
            .collect();
        pour(txn, own.id, poured).await?;
        let mut own = own;
        // The code the guest applied comes along, unless the account's cart has its own.
        if own.discount_code_id.is_none() && guest.discount_code_id.is_some() {
            cart::Entity::update_many()
                .col_expr(
                    cart::Column::DiscountCodeId,
                    Expr::value(guest.discount_code_id),
                )
                .filter(cart::Column::Id.eq(own.id))
                .exec(txn)
                .await?;
            own.discount_code_id = guest.discount_code_id;
        }
        cart::Entity::delete_by_id(guest.id).exec(txn).await?;
        view(txn, own, None).await
    })
    .await
}

/// Deletes the guest carts nobody changed for `idle`, with their lines; a cart whose
/// checkout is under way stays until it ends. Answers how many went.
pub async fn sweep_expired_guests(db: &DatabaseConnection, idle: Duration) -> AppResult<u64> {
    let deleted = cart::Entity::delete_many()
        .filter(cart::Column::UserId.is_null())
        .filter(cart::Column::CheckoutOrderId.is_null())
        .filter(cart::Column::UpdatedAt.lt(Utc::now() - idle))
        .exec(db)
        .await?
        .rows_affected;
    Ok(deleted)
}
