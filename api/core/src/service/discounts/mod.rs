//! Discount codes: what makes one usable ([`check`]), and taking and giving back a use of
//! one in a checkout's transaction ([`redeem`], [`give_back`]).
//!
//! A use is counted in `discount_codes.times_used` and recorded as a
//! `discount_redemptions` row of its order. The count is taken with a conditional update
//! (`times_used < usage_limit`, as stock is taken), so concurrent checkouts never exceed a
//! limit, on either database, across processes; "once per customer" is the unique index on
//! (code, customer key) of the redemptions. Both happen in the checkout's transaction: a
//! checkout that fails afterwards rolls its use back with everything else.
//!
//! The rest is split by who calls it:
//! - `admin`: creating, changing and listing codes;
//! - `carts`: applying a code to a cart and taking it off.

mod admin;
mod carts;

pub use admin::{DiscountCodeChanges, NewDiscountCode, create, list, update, visible_by_ids};
pub use carts::{apply, remove};

use chrono::{DateTime, Utc};
use entity::{cart, discount_code, discount_redemption};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, ExprTrait, QueryFilter, Set, SqlErr, sea_query::Expr,
};

use crate::{
    domain::{Customer, DiscountValue, Money},
    error::{AppError, AppResult, DiscountRefusal, Refusal},
};

/// A refusal of a code, as the API reports it (BAD_USER_INPUT on `code`).
fn refused(why: DiscountRefusal) -> AppError {
    Refusal::DiscountNotApplicable(why).into()
}

/// Whether `code` may be used now on a cart whose subtotal (of the lines bought) is
/// `subtotal`: the one rule that `applyDiscountCode` and checkout both apply. Who used it
/// already (once per customer) needs stored redemptions, and is checked by their callers.
pub fn check(
    code: &discount_code::Model,
    subtotal: Money,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let why = if !code.active {
        DiscountRefusal::Inactive
    } else if code.starts_at.is_some_and(|start| now < start) {
        DiscountRefusal::NotStarted
    } else if code.ends_at.is_some_and(|end| end <= now) {
        DiscountRefusal::Ended
    } else if code
        .usage_limit
        .is_some_and(|limit| code.times_used >= limit)
    {
        DiscountRefusal::UsedUp
    } else if let Some(min) = min_subtotal(code).filter(|&min| subtotal < min) {
        DiscountRefusal::BelowMinimum {
            min: min.to_string(),
        }
    } else {
        return Ok(());
    };
    Err(Refusal::DiscountNotApplicable(why))
}

/// What the code takes off. The table's CHECKs keep exactly one valid value in each row;
/// a row without one is a corrupt database, not the client's mistake.
pub fn value(code: &discount_code::Model) -> AppResult<DiscountValue> {
    DiscountValue::from_stored(code.percent_off_bp, code.amount_off_cents).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "discount code {} has no valid value (percent_off_bp {:?}, amount_off_cents {:?})",
            code.id,
            code.percent_off_bp,
            code.amount_off_cents
        ))
    })
}

/// The subtotal the code needs, if any.
pub fn min_subtotal(code: &discount_code::Model) -> Option<Money> {
    code.min_subtotal_cents.map(Money::from_cents)
}

/// A code by its id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> AppResult<Option<discount_code::Model>> {
    Ok(discount_code::Entity::find_by_id(id).one(db).await?)
}

/// The code applied to a cart, if any.
pub async fn of_cart(
    db: &impl ConnectionTrait,
    cart_id: i32,
) -> AppResult<Option<discount_code::Model>> {
    let applied = cart::Entity::find_by_id(cart_id)
        .one(db)
        .await?
        .and_then(|cart| cart.discount_code_id);
    match applied {
        Some(id) => find(db, id).await,
        None => Ok(None),
    }
}

/// Takes the code off a cart, in the caller's transaction: for a checkout that used it
/// (the cart's bought lines are gone, and a once-per-customer code would only be refused
/// next time).
pub async fn clear_from_cart(db: &impl ConnectionTrait, cart_id: i32) -> AppResult<()> {
    set_cart_code(db, cart_id, None).await
}

/// Writes the code applied to a cart.
async fn set_cart_code(
    db: &impl ConnectionTrait,
    cart_id: i32,
    code_id: Option<i32>,
) -> AppResult<()> {
    cart::Entity::update_many()
        .col_expr(cart::Column::DiscountCodeId, Expr::value(code_id))
        .filter(cart::Column::Id.eq(cart_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether `customer` has a use of the once-per-customer code `code_id` that was not
/// given back.
async fn used_by(db: &impl ConnectionTrait, code_id: i32, customer: &Customer) -> AppResult<bool> {
    Ok(discount_redemption::Entity::find()
        .filter(discount_redemption::Column::DiscountCodeId.eq(code_id))
        .filter(discount_redemption::Column::CustomerKey.eq(customer.key()))
        .one(db)
        .await?
        .is_some())
}

/// Whether `code` may be used now on a cart whose bought lines come to `subtotal`:
/// [`check`], and for a once-per-customer code and a known `user`, that the user has not
/// used it yet. (A guest is known by the email given at checkout, where [`redeem`] checks
/// it.) The rule of `applyDiscountCode` and of a cart's totals alike.
pub async fn check_for(
    db: &impl ConnectionTrait,
    code: &discount_code::Model,
    user: Option<i32>,
    subtotal: Money,
    now: DateTime<Utc>,
) -> AppResult<Result<(), Refusal>> {
    if let Err(refusal) = check(code, subtotal, now) {
        return Ok(Err(refusal));
    }
    if let Some(user_id) = user.filter(|_| code.once_per_customer)
        && used_by(db, code.id, &Customer::User(user_id)).await?
    {
        return Ok(Err(Refusal::DiscountNotApplicable(
            DiscountRefusal::AlreadyUsed,
        )));
    }
    Ok(Ok(()))
}

/// Uses the code for `order_id` (a row the caller's transaction has written), in the
/// caller's transaction: [`check`] on `code` as the caller read it, then a conditional
/// update `times_used = times_used + 1 WHERE id = ? AND active AND (usage_limit IS NULL
/// OR times_used < usage_limit) AND started AND not ended` (on PostgreSQL a concurrent
/// checkout waits for the row and the condition is evaluated again on what it committed;
/// SQLite runs write transactions one at a time), then the redemption row, whose unique
/// index refuses a second use by the same customer of a once-per-customer code even when
/// two checkouts race. Each refusal is BAD_USER_INPUT on `code`; the caller then rolls its
/// transaction back (on PostgreSQL it must: the failed insert has aborted it), so nothing
/// is charged.
pub async fn redeem(
    txn: &DatabaseTransaction,
    code: &discount_code::Model,
    order_id: i32,
    customer: &Customer,
    subtotal: Money,
    now: DateTime<Utc>,
) -> AppResult<()> {
    check(code, subtotal, now)?;
    let customer_key = code.once_per_customer.then(|| customer.key());
    if customer_key.is_some() && used_by(txn, code.id, customer).await? {
        return Err(refused(DiscountRefusal::AlreadyUsed));
    }
    let taken = discount_code::Entity::update_many()
        .col_expr(
            discount_code::Column::TimesUsed,
            Expr::col(discount_code::Column::TimesUsed).add(1),
        )
        .col_expr(discount_code::Column::UpdatedAt, Expr::value(now))
        .filter(discount_code::Column::Id.eq(code.id))
        .filter(discount_code::Column::Active.eq(true))
        .filter(
            Condition::any()
                .add(discount_code::Column::UsageLimit.is_null())
                .add(
                    Expr::col(discount_code::Column::TimesUsed)
                        .lt(Expr::col(discount_code::Column::UsageLimit)),
                ),
        )
        .filter(
            Condition::any()
                .add(discount_code::Column::StartsAt.is_null())
                .add(discount_code::Column::StartsAt.lte(now)),
        )
        .filter(
            Condition::any()
                .add(discount_code::Column::EndsAt.is_null())
                .add(discount_code::Column::EndsAt.gt(now)),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if taken != 1 {
        // Changed since the caller read it: say what it is now. A code that passes the
        // check again lost its last use to a checkout that committed in between.
        return Err(match find(txn, code.id).await? {
            None => refused(DiscountRefusal::Unknown),
            Some(current) => check(&current, subtotal, now)
                .err()
                .map_or_else(|| refused(DiscountRefusal::UsedUp), AppError::from),
        });
    }
    let inserted = discount_redemption::ActiveModel {
        discount_code_id: Set(code.id),
        order_id: Set(order_id),
        customer_key: Set(customer_key.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if customer_key.is_some() && is_unique_violation(&err) => {
            Err(refused(DiscountRefusal::AlreadyUsed))
        }
        Err(err) => Err(err.into()),
    }
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Gives an order's use of its code back (a cancellation, a payment that did not happen),
/// in the caller's transaction: deletes the order's redemption and decrements the code's
/// `times_used`. Only the call that deletes the row decrements, so however often (and
/// however concurrently) it is called for one order, the use comes back once. An order
/// without a code is left alone.
pub async fn give_back(txn: &DatabaseTransaction, order_id: i32) -> AppResult<()> {
    let Some(redemption) = discount_redemption::Entity::find()
        .filter(discount_redemption::Column::OrderId.eq(order_id))
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let deleted = discount_redemption::Entity::delete_many()
        .filter(discount_redemption::Column::Id.eq(redemption.id))
        .exec(txn)
        .await?
        .rows_affected;
    if deleted == 1 {
        discount_code::Entity::update_many()
            .col_expr(
                discount_code::Column::TimesUsed,
                Expr::col(discount_code::Column::TimesUsed).sub(1),
            )
            .col_expr(discount_code::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(discount_code::Column::Id.eq(redemption.discount_code_id))
            .filter(discount_code::Column::TimesUsed.gt(0))
            .exec(txn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn code() -> discount_code::Model {
        let now = Utc::now();
        discount_code::Model {
            id: 1,
            code: "SAVE10".into(),
            percent_off_bp: Some(1000),
            amount_off_cents: None,
            min_subtotal_cents: None,
            usage_limit: None,
            times_used: 0,
            once_per_customer: false,
            starts_at: None,
            ends_at: None,
            active: true,
            created_at: now,
            updated_at: now,
        }
    }

    fn refusal(result: Result<(), Refusal>) -> Option<DiscountRefusal> {
        match result {
            Ok(()) => None,
            Err(Refusal::DiscountNotApplicable(why)) => Some(why),
            Err(other) => panic!("not a discount refusal: {other:?}"),
        }
    }

    #[test]
    fn an_active_code_without_limits_applies() {
        assert_eq!(
            refusal(check(&code(), Money::from_cents(0), Utc::now())),
            None
        );
    }

    #[test]
    fn each_rule_refuses_with_its_own_reason() {
        let now = Utc::now();
        let cent = Money::from_cents(1);
        let cases = [
            (
                discount_code::Model {
                    active: false,
                    ..code()
                },
                DiscountRefusal::Inactive,
            ),
            (
                discount_code::Model {
                    starts_at: Some(now + TimeDelta::seconds(1)),
                    ..code()
                },
                DiscountRefusal::NotStarted,
            ),
            (
                discount_code::Model {
                    ends_at: Some(now),
                    ..code()
                },
                DiscountRefusal::Ended,
            ),
            (
                discount_code::Model {
                    usage_limit: Some(3),
                    times_used: 3,
                    ..code()
                },
                DiscountRefusal::UsedUp,
            ),
            (
                discount_code::Model {
                    min_subtotal_cents: Some(2),
                    ..code()
                },
                DiscountRefusal::BelowMinimum { min: "0.02".into() },
            ),
        ];
        for (code, why) in cases {
            assert_eq!(refusal(check(&code, cent, now)), Some(why), "{code:?}");
        }
    }

    #[test]
    fn the_edges_of_each_rule_still_apply() {
        let now = Utc::now();
        let applies = [
            discount_code::Model {
                starts_at: Some(now),
                ends_at: Some(now + TimeDelta::seconds(1)),
                ..code()
            },
            discount_code::Model {
                usage_limit: Some(3),
                times_used: 2,
                ..code()
            },
            discount_code::Model {
                min_subtotal_cents: Some(500),
                ..code()
            },
        ];
        for code in applies {
            assert_eq!(
                refusal(check(&code, Money::from_cents(500), now)),
                None,
                "{code:?}"
            );
        }
    }

    #[test]
    fn a_stored_value_is_read_back_and_a_corrupt_one_is_an_internal_error() {
        assert_eq!(
            value(&code()).ok().and_then(DiscountValue::percent_off_bp),
            Some(1000)
        );
        let corrupt = discount_code::Model {
            amount_off_cents: Some(500),
            ..code()
        };
        assert!(matches!(value(&corrupt), Err(AppError::Internal(_))));
    }
}
