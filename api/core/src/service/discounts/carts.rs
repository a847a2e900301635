//! A discount code on a cart: applied by whoever may change the cart (its user, or whoever
//! holds a guest cart's id), checked again at checkout.

use chrono::Utc;

use super::{admin::find_by_code, check_for, refused, set_cart_code};
use crate::{
    domain::{CartId, DiscountCodeText, subtotal},
    error::{AppError, AppResult, DiscountRefusal},
    service::{
        cart::{self, CartLine, CartView},
        viewer::Viewer,
    },
};

/// Applies `code` (any case) to the cart a call names, or the caller's own, in place of
/// any code it had. Refused with BAD_USER_INPUT on `code`, changing nothing, when the code
/// is unknown, inactive, not started, ended or used up, when the caller (a user) already
/// used a once-per-customer code, or when the cart's subtotal is below the code's minimum.
/// A guest's once-per-customer use is checked at checkout, when their email is known.
pub async fn apply(
    db: &sea_orm::DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
    code: &DiscountCodeText,
) -> AppResult<CartView> {
    let mut opened = cart::open(db, viewer, named).await?;
    let txn = &opened.txn;
    let found = find_by_code(&**txn, code)
        .await?
        .ok_or_else(|| refused(DiscountRefusal::Unknown))?;
    let lines = cart::lines(&**txn, opened.cart.id).await?;
    let bought = lines.iter().filter(|line| !line.saved_for_later);
    let subtotal = subtotal(bought.map(CartLine::total))
        .map_err(|too_large| AppError::bad_input("cart", too_large.to_string()))?;
    check_for(&**txn, &found, viewer.user_id().ok(), subtotal, Utc::now()).await??;
    // The cart's own commit writes only `updated_at`.
    set_cart_code(&*opened.txn, opened.cart.id, Some(found.id)).await?;
    opened.cart.discount_code_id = Some(found.id);
    cart::commit(opened).await
}

/// Takes the code off the cart a call names, or the caller's own; a cart without one is
/// answered as it is.
pub async fn remove(
    db: &sea_orm::DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
) -> AppResult<CartView> {
    let mut opened = cart::open(db, viewer, named).await?;
    set_cart_code(&*opened.txn, opened.cart.id, None).await?;
    opened.cart.discount_code_id = None;
    cart::commit(opened).await
}
