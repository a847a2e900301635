//! Discount codes: admins create, change and list them; anyone with a cart applies one.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entity::discount_code;

use super::{
    cart::{Cart, named},
    connection::{ConnectionOf, connection, page_cost},
    context::ContextExt,
    guards::AdminGuard,
    ids::{node_id, required_id},
    input::optional,
    money::{Decimal, MoneyValue, price},
};
use crate::{
    domain::{DiscountCodeText, DiscountValue, NodeKind, Period, UsageLimit},
    error::AppResult,
    service::{
        Patch,
        discounts::{self, DiscountCodeChanges, NewDiscountCode},
        pagination::PageArgs,
    },
};

/// A discount code, as admins manage it.
pub struct DiscountCode(pub discount_code::Model);

/// A code customers type at the cart for a percentage or an amount off its subtotal
/// (admins only).
#[Object]
impl DiscountCode {
    /// The code's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::DiscountCode, self.0.id)
    }
    /// The code, upper case; customers may type it in any case.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The percentage off the subtotal, e.g. "12.50"; null when the code takes an amount
    /// off.
    async fn percent_off(&self) -> Result<Option<Decimal>> {
        Ok(match discounts::value(&self.0)? {
            DiscountValue::PercentOff(percent) => Some(Decimal(percent.to_string())),
            DiscountValue::AmountOff(_) => None,
        })
    }
    /// The amount off the subtotal; null when the code takes a percentage off.
    async fn amount_off(&self, ctx: &Context<'_>) -> Result<Option<MoneyValue>> {
        Ok(match discounts::value(&self.0)? {
            DiscountValue::PercentOff(_) => None,
            DiscountValue::AmountOff(amount) => {
                Some(MoneyValue::new(amount, ctx.currency()?.clone()))
            }
        })
    }
    /// The cart subtotal the code needs; null when any subtotal will do.
    async fn min_subtotal(&self, ctx: &Context<'_>) -> Result<Option<MoneyValue>> {
        Ok(match discounts::min_subtotal(&self.0) {
            Some(min) => Some(MoneyValue::new(min, ctx.currency()?.clone())),
            None => None,
        })
    }
    /// Uses over all customers; null: unlimited. A checkout past it is BAD_USER_INPUT on
    /// `code`, and charges nothing.
    async fn usage_limit(&self) -> Option<i32> {
        self.0.usage_limit
    }
    /// Orders using the code that are not cancelled (PENDING ones included).
    async fn times_used(&self) -> i32 {
        self.0.times_used
    }
    /// Whether each customer (a user, or a guest's email) may use it once.
    async fn once_per_customer(&self) -> bool {
        self.0.once_per_customer
    }
    /// When the code starts to apply; null: from its creation.
    async fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.0.starts_at
    }
    /// When the code stops applying; null: never.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    /// Whether the code can be used at all; a code is deactivated, never deleted.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When the code was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A new discount code.
#[derive(InputObject)]
pub struct CreateDiscountCodeInput {
    /// 3 to 32 letters, digits, '-' or '_'; stored upper case, unique in any case.
    code: String,
    /// A percentage off, above 0 and at most 100, with at most two decimals. Give exactly
    /// one of `percentOff` and `amountOff`.
    percent_off: Option<Decimal>,
    /// An amount off, above 0.
    amount_off: Option<Decimal>,
    /// The cart subtotal the code needs.
    min_subtotal: Option<Decimal>,
    /// Uses over all customers, at least 1; left out: unlimited.
    usage_limit: Option<i32>,
    /// Whether each customer (a user, or a guest's email) may use it once; null is false.
    #[graphql(default_with = "Some(false)")]
    once_per_customer: Option<bool>,
    /// When it starts to apply; left out: at once.
    starts_at: Option<DateTime<Utc>>,
    /// When it stops applying, after `startsAt`; left out: never.
    ends_at: Option<DateTime<Utc>>,
}

/// Changes to a discount code: what is left out stays as it is; null clears
/// `usageLimit`, `endsAt` and `minSubtotal`.
#[derive(InputObject)]
pub struct UpdateDiscountCodeInput {
    /// Deactivate (false) or reactivate the code.
    active: Option<bool>,
    /// Uses over all customers, at least the uses it already has; null: unlimited.
    usage_limit: MaybeUndefined<i32>,
    /// When it stops applying, after its start; null: never.
    ends_at: MaybeUndefined<DateTime<Utc>>,
    /// The cart subtotal it needs; null: any.
    min_subtotal: MaybeUndefined<Decimal>,
}

/// A change to an optional value given as a plain input value: left out keeps it, null
/// clears it, a value is parsed by `parse` as the input `field`.
fn patch_of<R, T>(
    raw: MaybeUndefined<R>,
    field: &str,
    parse: impl FnOnce(R, &str) -> AppResult<T>,
) -> AppResult<Patch<T>> {
    Ok(match raw {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(raw) => Patch::Set(parse(raw, field)?),
    })
}

#[derive(Default)]
pub struct DiscountQuery;

#[Object]
impl DiscountQuery {
    /// Every discount code, newest first (admin).
    #[graphql(
        guard = "AdminGuard",
        complexity = "page_cost(first, last) * child_complexity"
    )]
    async fn discount_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forward: how many items, 0 to 100 (20 when no size is given).")]
        first: Option<i32>,
        #[graphql(desc = "Page forward from this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, 0 to 100; not with `first`.")]
        last: Option<i32>,
        #[graphql(desc = "Page backward from this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> Result<ConnectionOf<DiscountCode>> {
        let args = PageArgs::new(first, after, last, before);
        let page = discounts::list(ctx.db()?, ctx.viewer()?, &args).await?;
        Ok(connection(page, DiscountCode))
    }
}

#[derive(Default)]
pub struct DiscountMutation;

#[Object]
impl DiscountMutation {
    /// Creates a discount code, active at once (admin). A code spelled like another, in
    /// any case, is CONFLICT on `code`.
    #[graphql(guard = "AdminGuard")]
    async fn create_discount_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code to create.")] input: CreateDiscountCodeInput,
    ) -> Result<DiscountCode> {
        let new = NewDiscountCode {
            code: DiscountCodeText::parse(&input.code, "code")?,
            value: DiscountValue::parse(
                input.percent_off.as_ref().map(|raw| raw.0.as_str()),
                input.amount_off.as_ref().map(|raw| raw.0.as_str()),
            )?,
            min_subtotal: optional(input.min_subtotal.as_ref(), "minSubtotal", price)?,
            usage_limit: optional(input.usage_limit, "usageLimit", UsageLimit::parse)?,
            once_per_customer: input.once_per_customer.unwrap_or(false),
            period: Period::new(input.starts_at, input.ends_at)?,
        };
        let created = discounts::create(ctx.db()?, ctx.viewer()?, new).await?;
        Ok(DiscountCode(created))
    }

    /// Changes a discount code (admin). What it is worth, its spelling and its start stay.
    #[graphql(guard = "AdminGuard")]
    async fn update_discount_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the code to change.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateDiscountCodeInput,
    ) -> Result<DiscountCode> {
        let id = required_id(&id, "id", NodeKind::DiscountCode, "discount code")?;
        let changes = DiscountCodeChanges {
            active: input.active,
            usage_limit: patch_of(input.usage_limit, "usageLimit", UsageLimit::parse)?,
            ends_at: patch_of(input.ends_at, "endsAt", |end, _| Ok(end))?,
            min_subtotal: patch_of(input.min_subtotal, "minSubtotal", |raw, field| {
                price(&raw, field)
            })?,
        };
        let updated = discounts::update(ctx.db()?, ctx.viewer()?, id, changes).await?;
        Ok(DiscountCode(updated))
    }

    /// Applies a discount code (any case) to the cart, in place of any other. BAD_USER_INPUT
    /// on `code` when it does not apply: unknown, inactive, not started, ended, used up,
    /// already used by the caller (once-per-customer codes), or above the cart's subtotal.
    /// Checkout checks it again.
    async fn apply_discount_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code, in any case.")] code: String,
        #[graphql(
            desc = "A guest's cart (its `id`); the caller's own cart when left out. \
                          Anonymous callers must give it."
        )]
        cart_id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, cart_id.as_ref())?;
        let code = DiscountCodeText::parse(&code, "code")?;
        let view = discounts::apply(ctx.db()?, viewer, named.as_ref(), &code).await?;
        Ok(Cart(view))
    }

    /// Takes the discount code off the cart; a cart without one stays as it is.
    async fn remove_discount_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "A guest's cart (its `id`); the caller's own cart when left out. \
                          Anonymous callers must give it."
        )]
        cart_id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, cart_id.as_ref())?;
        let view = discounts::remove(ctx.db()?, viewer, named.as_ref()).await?;
        Ok(Cart(view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_patch_keeps_clears_or_sets_and_names_the_field_it_refuses() {
        let keep = patch_of(MaybeUndefined::Undefined, "usageLimit", UsageLimit::parse);
        assert_eq!(keep.ok(), Some(Patch::Keep));
        let clear = patch_of(MaybeUndefined::Null, "usageLimit", UsageLimit::parse);
        assert_eq!(clear.ok(), Some(Patch::Clear));
        let set = patch_of(MaybeUndefined::Value(3), "usageLimit", UsageLimit::parse);
        assert_eq!(
            set.ok(),
            Some(Patch::Set(UsageLimit::parse(3, "x").expect("valid")))
        );
        let err = patch_of(MaybeUndefined::Value(0), "usageLimit", UsageLimit::parse)
            .expect_err("refused");
        assert_eq!(err.bad_input_field(), Some("usageLimit"));
    }
}
