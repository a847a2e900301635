//! A discount code on a cart: applied by whoever may change the cart (its user, or whoever
//! holds a guest cart's id), checked again at checkout.

use chrono::Utc;

use super::{admin::find_by_code, check, refused, set_cart_code, used_by};
use crate::{
    domain::{CartId, Customer, DiscountCodeText, Money},
    error::{AppResult, DiscountRefusal},
    service::{
        cart::{self, CartView},
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
    let subtotal = cart::lines(&**txn, opened.cart.id)
        .await?
        .iter()
        .filter(|line| !line.saved_for_later)
        .fold(Money::from_cents(0), |sum, line| {
            Money::from_cents(sum.cents().saturating_add(line.total().cents()))
        });
    check(&found, subtotal, Utc::now())?;
    if found.once_per_customer
        && let Viewer::User { id } = viewer
        && used_by(&**txn, found.id, &Customer::User(*id)).await?
    {
        return Err(refused(DiscountRefusal::AlreadyUsed));
    }
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
