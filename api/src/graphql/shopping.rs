//! Checkout and orders.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{order, order_item};
use futures_util::StreamExt;

use super::{
    account::{Address, AddressInput, User},
    cart::named,
    catalog::{Product, ProductVariant},
    connection::{ConnectionOf, connection, page_cost},
    context::ContextExt,
    guards::{AdminGuard, LoggedInGuard},
    ids::{node_id, shipping_method_id},
    input::optional,
    money::{Decimal, MoneyValue},
    totals::OrderTotals,
};
use crate::{
    auth::AccessGrant,
    domain::{
        self, Currency, GlobalId, IdempotencyKey, Money, NodeKind, PaymentToken, PostalAddress,
        RefundReason, Tracking as DomainTracking,
    },
    error::AppError,
    payments::CustomerAction,
    service::{
        accounts,
        checkout::{self, Checkout},
        events::OrderEvents,
        order_feed, orders,
        pagination::PageArgs,
    },
};

/// Where an order is in its life.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::OrderStatus")]
pub enum OrderStatus {
    /// Stock is taken and the payment is under way.
    Pending,
    /// Paid; waiting to ship.
    Paid,
    /// On its way.
    Shipped,
    /// Arrived.
    Delivered,
    /// Cancelled: stock returned and, if it was paid, refunded.
    Cancelled,
}

/// An order, with what was bought at the prices of the day.
pub struct Order(pub order::Model);

/// The currency an order recorded its amounts in (the shop's at the time).
fn recorded_currency(currency: &str) -> Result<Currency> {
    Ok(Currency::parse(currency).map_err(|err| AppError::internal(anyhow::anyhow!(err)))?)
}

/// An amount an order recorded, in the currency it recorded.
fn recorded(cents: i64, currency: &str) -> Result<MoneyValue> {
    Ok(MoneyValue::new(
        Money::from_cents(cents),
        recorded_currency(currency)?,
    ))
}

/// An order: what was bought, at the prices of the day, and where it ships. Visible to
/// the user who placed it and to admins.
#[Object]
impl Order {
    /// The order's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::Order, self.0.id)
    }
    /// The human-friendly order number, e.g. "SO-7K2M9QXA4B".
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Where the order is in its life.
    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    /// Who placed the order.
    // The next contract makes this nullable for guests' orders, which the API does not
    // take yet (see `checkout`): every order it answers has a user.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        let user = match self.0.user_id {
            Some(user_id) => ctx.request()?.users().load_one(user_id).await?,
            None => None,
        };
        user.map(User).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("order {} has no user", self.0.id)).into()
        })
    }
    /// Where the order's mails go: its user's address when it was placed, or its guest's.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// What was bought.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<OrderItem>> {
        let items = ctx.request()?.order_items().load_one(self.0.id).await?;
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .map(|item| OrderItem {
                item,
                currency: self.0.currency.clone(),
            })
            .collect())
    }
    /// What was charged.
    async fn total(&self) -> Result<MoneyValue> {
        recorded(self.0.total_cents, &self.0.currency)
    }
    /// How the total came about, as checkout priced it; `totals.total` is `total`.
    async fn totals(&self) -> Result<OrderTotals> {
        let order = &self.0;
        let totals = domain::OrderTotals {
            subtotal: Money::from_cents(order.subtotal_cents),
            discount: Money::from_cents(order.discount_cents),
            shipping: Money::from_cents(order.shipping_cents),
            tax: Money::from_cents(order.tax_cents),
            total: Money::from_cents(order.total_cents),
        };
        Ok(OrderTotals::new(
            totals,
            recorded_currency(&order.currency)?,
        ))
    }
    /// The shipping method's name when the order was placed; null when the shop had no
    /// shipping methods then.
    async fn shipping_method(&self) -> Option<&str> {
        self.0.shipping_method.as_deref()
    }
    /// The discount code used, if any.
    async fn discount_code(&self) -> Option<&str> {
        self.0.discount_code.as_deref()
    }
    /// Where the parcel is: set when the order ships with tracking; null until then.
    async fn tracking(&self) -> Option<Tracking> {
        let order = &self.0;
        match (&order.tracking_carrier, &order.tracking_number) {
            (Some(carrier), Some(number)) => Some(Tracking {
                carrier: carrier.clone(),
                number: number.clone(),
                url: order.tracking_url.clone(),
            }),
            _ => None,
        }
    }
    /// The refunds of the order, oldest first: an admin's, and the one a cancellation
    /// makes of what was left. Refunds the payment gateway declined are not listed.
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Vec<Refund>> {
        let refunds = ctx.request()?.refunds().load_one(self.0.id).await?;
        refunds
            .unwrap_or_default()
            .into_iter()
            .map(|refund| {
                Ok(Refund {
                    amount: recorded(refund.amount_cents, &self.0.currency)?,
                    reason: refund.reason,
                    created_at: refund.created_at,
                })
            })
            .collect()
    }
    /// The latest payment attempt: which method, and where it stands (REFUNDED once all of
    /// the total came back). Null for an order that never had one.
    async fn payment(&self, ctx: &Context<'_>) -> Result<Option<Payment>> {
        let charge = ctx.request()?.charges().load_one(self.0.id).await?;
        charge
            .map(|charge| {
                let view = orders::payment_of(&self.0, &charge);
                let (client_secret, redirect_url) = match view.action {
                    Some(CustomerAction::ClientSecret(secret)) => (Some(secret), None),
                    Some(CustomerAction::Redirect(url)) => (None, Some(url)),
                    None => (None, None),
                };
                Ok(Payment {
                    method: view.method,
                    status: view.state.into(),
                    amount: recorded(view.amount.cents(), &self.0.currency)?,
                    client_secret,
                    redirect_url,
                })
            })
            .transpose()
    }
    /// What was refunded so far (the refunds listed in `refunds`); never more than what
    /// was paid.
    async fn refunded_total(&self) -> Result<MoneyValue> {
        recorded(self.0.refunded_cents, &self.0.currency)
    }
    /// Where it ships, as given at checkout.
    async fn shipping_address(&self) -> Address {
        Address::of_order(&self.0)
    }
    /// When the order was placed.
    async fn placed_at(&self) -> DateTime<Utc> {
        self.0.placed_at
    }
    /// When the order last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Where a payment stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::service::orders::PaymentState")]
pub enum PaymentStatus {
    /// The buyer must act before the gateway charges: follow `redirectUrl`, or finish
    /// with `clientSecret` (Stripe.js, PaymentSheet).
    RequiresAction,
    /// Sent to the gateway; its answer is not recorded yet.
    Pending,
    /// Charged.
    Succeeded,
    /// Not charged: declined, abandoned, or cancelled before it was paid.
    Failed,
    /// Charged, and the whole total given back.
    Refunded,
}

/// A payment attempt of an order.
#[derive(SimpleObject)]
pub struct Payment {
    /// The payment method's code (a `PaymentMethod.code`), e.g. "stripe".
    method: String,
    /// Where the payment stands.
    status: PaymentStatus,
    /// What is, or was, charged.
    amount: MoneyValue,
    /// When `status` is REQUIRES_ACTION, for a card that needs authentication: the
    /// secret Stripe.js or PaymentSheet finishes the payment with. Null otherwise.
    client_secret: Option<String>,
    /// When `status` is REQUIRES_ACTION, for a gateway's own page: where to send the
    /// buyer. Null otherwise.
    redirect_url: Option<String>,
}

/// A way to pay that checkout takes (`CheckoutInput.paymentMethod`).
#[derive(SimpleObject)]
pub struct PaymentMethod {
    /// What to send as `CheckoutInput.paymentMethod`, e.g. "stripe".
    code: String,
    /// What to show the buyer, e.g. "Card".
    name: String,
    /// Whether checkout needs a `paymentToken` from the method's card form (Stripe.js, a
    /// PaymentSheet); false for a method whose buyer pays on the gateway's own page
    /// (PayPal), which `payment.redirectUrl` leads to.
    requires_token: bool,
}

/// Where a shipped parcel is.
#[derive(SimpleObject)]
pub struct Tracking {
    /// The carrier, e.g. "UPS".
    carrier: String,
    /// The carrier's tracking number.
    number: String,
    /// The carrier's page for this parcel, when one was given.
    url: Option<String>,
}

/// Money given back to the customer.
#[derive(SimpleObject)]
pub struct Refund {
    /// How much was refunded.
    amount: MoneyValue,
    /// Why, as the admin wrote it for the customer.
    reason: Option<String>,
    /// When the refund was made.
    created_at: DateTime<Utc>,
}

/// Where a shipped parcel is, given with `updateOrderStatus(status: SHIPPED)`.
#[derive(InputObject)]
pub struct TrackingInput {
    /// The carrier, 1 to 50 characters, e.g. "UPS".
    carrier: String,
    /// The tracking number, 1 to 100 characters.
    number: String,
    /// The carrier's tracking page: an absolute http(s) URL of at most 2,000 characters.
    url: Option<String>,
}

impl TrackingInput {
    fn parse(&self) -> crate::error::AppResult<DomainTracking> {
        DomainTracking::parse(&self.carrier, &self.number, self.url.as_deref())
    }
}

pub struct OrderItem {
    item: order_item::Model,
    currency: String,
}

/// One line of an order: a product, how many units, and its price when bought.
#[Object]
impl OrderItem {
    /// The product as it is now (archived if it was removed from the catalog).
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        let product = ctx
            .request()?
            .products()
            .load_one(self.item.product_id)
            .await?;
        Ok(product.map(Product::from))
    }
    /// The product's name when it was bought.
    async fn product_name(&self) -> &str {
        &self.item.product_name
    }
    /// The variant as it is now (archived if it was removed from its product).
    async fn variant(&self, ctx: &Context<'_>) -> Result<Option<ProductVariant>> {
        let Some(variant) = self.item.variant_id else {
            return Ok(None);
        };
        let variant = ctx.request()?.variant().load_one(variant).await?;
        Ok(variant.map(ProductVariant))
    }
    /// The variant's title when it was bought, e.g. "M / Red".
    async fn variant_title(&self) -> &str {
        &self.item.variant_title
    }
    /// The variant's SKU when it was bought.
    async fn sku(&self) -> Option<&str> {
        self.item.sku.as_deref()
    }
    /// The unit price when it was bought.
    async fn unit_price(&self) -> Result<MoneyValue> {
        recorded(self.item.unit_price_cents, &self.currency)
    }
    /// Units bought.
    async fn quantity(&self) -> i32 {
        self.item.quantity
    }
    /// Quantity times the unit price.
    async fn line_total(&self) -> Result<MoneyValue> {
        recorded(self.item.line_total_cents, &self.currency)
    }
}

/// What to buy the cart's contents with.
#[derive(InputObject)]
pub struct CheckoutInput {
    /// A guest's cart (its `id`); the caller's own cart when left out. Anonymous callers
    /// must give it.
    cart_id: Option<ID>,
    /// Where a guest's order mails go; ignored for users (theirs go to the account's
    /// email). Guests cannot check out through the API yet.
    email: Option<String>,
    /// Where to ship: give this or `shippingAddressId`, exactly one of them (else
    /// BAD_USER_INPUT naming `shippingAddress` when neither is given, `shippingAddressId`
    /// when both are).
    shipping_address: Option<AddressInput>,
    /// Where to ship: one of the caller's saved addresses, copied into the order as it is
    /// now; anyone else's is NOT_FOUND. A saved address that does not pass today's rules
    /// (a country kept as text from before country codes) is BAD_USER_INPUT until it is
    /// updated with `updateAddress`.
    shipping_address_id: Option<ID>,
    /// How to ship (a `ShippingMethod` of `shippingMethods(country:)`): required when a
    /// method ships to the address's country, and refused when it does not (both
    /// BAD_USER_INPUT on `shippingMethodId`). When methods exist but none ships to the
    /// country, BAD_USER_INPUT on `country`. With no method configured at all, shipping is
    /// free and this is left out.
    shipping_method_id: Option<ID>,
    /// The payment method's token from the payment form; required by the methods that
    /// take one (`test`, `stripe`: else BAD_USER_INPUT on `paymentToken`). With the test
    /// gateway, "tok_visa" succeeds and "tok_chargeDeclined" is declined.
    payment_token: Option<String>,
    /// Any unique string per purchase attempt: repeating a checkout with the same key
    /// returns the same order and charges once.
    idempotency_key: Option<String>,
    /// How to pay: the `code` of one of `paymentMethods`; the first of them when left
    /// out. Any other is BAD_USER_INPUT on `paymentMethod`.
    payment_method: Option<String>,
}

/// The address a checkout ships to: the one given, or the caller's saved address named.
async fn shipping_address(ctx: &Context<'_>, input: &CheckoutInput) -> Result<PostalAddress> {
    match (&input.shipping_address, &input.shipping_address_id) {
        (Some(address), None) => Ok(address.parse()?),
        (None, Some(id)) => {
            let id = GlobalId::parse_kind(id, "shippingAddressId", NodeKind::Address, "address")?;
            Ok(accounts::address_to_ship_to(ctx.db()?, ctx.viewer()?, id).await?)
        }
        (Some(_), Some(_)) => Err(AppError::bad_input(
            "shippingAddressId",
            "give shippingAddress or shippingAddressId, not both",
        )
        .into()),
        (None, None) => Err(AppError::bad_input(
            "shippingAddress",
            "give shippingAddress, or shippingAddressId of a saved address",
        )
        .into()),
    }
}

#[derive(Default)]
pub struct ShoppingQuery;

#[Object]
impl ShoppingQuery {
    /// The payment methods checkout takes, in the shop's order; the first is the default.
    async fn payment_methods(&self, ctx: &Context<'_>) -> Result<Vec<PaymentMethod>> {
        let gateways = &ctx.payments()?.gateways;
        Ok(gateways
            .enabled()
            .iter()
            .map(|gateway| PaymentMethod {
                code: gateway.code().into(),
                name: gateway.name().into(),
                requires_token: gateway.requires_token(),
            })
            .collect())
    }

    /// A guest's order, for whoever knows its number and the email it was placed with;
    /// null when either does not match (the same answer for both). Repeated misses are
    /// throttled (RATE_LIMITED with `retryAfter`).
    async fn order_by_number(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order's number, e.g. \"SO-7K2M9QXA4B\".")] number: String,
        #[graphql(desc = "The email the order was placed with.")] email: String,
    ) -> Result<Option<Order>> {
        let request = ctx.request()?;
        let order = orders::by_number(ctx.db()?, &request.client_addr, &number, &email).await?;
        Ok(order.map(Order))
    }

    /// One of the caller's orders (any order for admins); NOT_FOUND otherwise.
    #[graphql(guard = "LoggedInGuard")]
    async fn order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order's ID.")] id: ID,
    ) -> Result<Option<Order>> {
        let id = GlobalId::parse_kind(&id, "id", NodeKind::Order, "order")?;
        Ok(Some(Order(
            orders::find_visible(ctx.db()?, ctx.viewer()?, id).await?,
        )))
    }

    /// The caller's order history, newest first.
    #[graphql(
        guard = "LoggedInGuard",
        complexity = "page_cost(first, last) * child_complexity"
    )]
    async fn orders(
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
    ) -> Result<ConnectionOf<Order>> {
        let args = PageArgs::new(first, after, last, before);
        let page = orders::list_own(ctx.db()?, ctx.viewer()?, &args).await?;
        Ok(connection(page, Order))
    }

    /// Every order, newest first, optionally of one status (admin).
    #[graphql(
        guard = "AdminGuard",
        complexity = "page_cost(first, last) * child_complexity"
    )]
    async fn all_orders(
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
        #[graphql(desc = "Only orders in this status.")] status: Option<OrderStatus>,
    ) -> Result<ConnectionOf<Order>> {
        let args = PageArgs::new(first, after, last, before);
        let page =
            orders::list_all(ctx.db()?, ctx.viewer()?, status.map(Into::into), &args).await?;
        Ok(connection(page, Order))
    }
}

#[derive(Default)]
pub struct ShoppingMutation;

#[Object]
impl ShoppingMutation {
    /// Buys the cart's items in one step: takes the stock, charges the payment, and
    /// answers the PAID order. Nothing is charged or taken when any part fails. `cartId`
    /// buys a guest cart the caller holds instead of their own. When the payment needs
    /// its customer (3-D Secure, a gateway's page), the order is PENDING with its stock
    /// taken, and `payment` (status REQUIRES_ACTION) says what to do with `clientSecret`
    /// or `redirectUrl`; `confirmPayment` then learns the outcome.
    // Users only for now: a guest's order has no user, and `Order.user` is non-null in the
    // contract that holds today (the next one makes it nullable). The checkout service
    // takes guests already (with an `email` for the order's mails).
    #[graphql(guard = "LoggedInGuard")]
    async fn checkout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which cart, where to ship and how to pay.")] input: CheckoutInput,
    ) -> Result<Order> {
        let viewer = ctx.viewer()?;
        let cart = named(viewer, input.cart_id.as_ref())?;
        let shipping_address = shipping_address(ctx, &input).await?;
        let input = Checkout {
            cart,
            // Only users reach here, and their orders mail the account's address.
            email: None,
            shipping_address,
            shipping_method: shipping_method_id(input.shipping_method_id.as_ref())?,
            payment_method: input.payment_method,
            payment_token: optional(
                input.payment_token.as_deref(),
                "paymentToken",
                |raw, field| PaymentToken::parse(field, raw),
            )?,
            idempotency_key: IdempotencyKey::parse(
                "idempotencyKey",
                input.idempotency_key.as_deref(),
            )?,
        };
        let order = checkout::checkout(ctx.db()?, ctx.payments()?, viewer, input).await?;
        Ok(Order(order))
    }

    /// Where the payment of an order stands, after asking its gateway when the payment
    /// waits for its customer (3-D Secure, PayPal's approval): the order is then settled,
    /// PAID or CANCELLED with its stock back; REQUIRES_ACTION while the customer has not
    /// finished, PENDING while the gateway cannot tell yet. Open to anyone: the gateway,
    /// not the caller, says what happened. An unknown number is NOT_FOUND (misses are
    /// throttled: RATE_LIMITED).
    async fn confirm_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order's number, e.g. \"SO-7K2M9QXA4B\".")] order_number: String,
    ) -> Result<PaymentStatus> {
        let request = ctx.request()?;
        let state = orders::confirm_payment(
            ctx.db()?,
            ctx.payments()?,
            &request.client_addr,
            &order_number,
        )
        .await?;
        Ok(state.into())
    }

    /// Cancels an order while it is PENDING or PAID (its owner or an admin): the stock
    /// goes back and a paid order is refunded.
    #[graphql(guard = "LoggedInGuard")]
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the order to cancel.")] id: ID,
    ) -> Result<Order> {
        let id = GlobalId::parse_kind(&id, "id", NodeKind::Order, "order")?;
        let order = orders::cancel(ctx.db()?, ctx.payments()?, ctx.viewer()?, id).await?;
        Ok(Order(order))
    }

    /// Moves an order forward (admin): PAID -> SHIPPED -> DELIVERED. Anything else is
    /// CONFLICT; cancel with `cancelOrder`. A shipment may record its `tracking`, which the
    /// shipped email shows; tracking with another status is BAD_USER_INPUT (`tracking`).
    #[graphql(guard = "AdminGuard")]
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the order to move.")] id: ID,
        #[graphql(desc = "The next status: SHIPPED after PAID, DELIVERED after SHIPPED.")]
        status: OrderStatus,
        #[graphql(desc = "Where the parcel is; only with SHIPPED.")] tracking: Option<
            TrackingInput,
        >,
    ) -> Result<Order> {
        let id = GlobalId::parse_kind(&id, "id", NodeKind::Order, "order")?;
        let tracking = tracking.as_ref().map(TrackingInput::parse).transpose()?;
        let order =
            orders::update_status(ctx.db()?, ctx.viewer()?, id, status.into(), tracking).await?;
        Ok(Order(order))
    }

    /// Refunds part or all of a PAID, SHIPPED or DELIVERED order through the payment
    /// gateway (admin), and emails the customer. Never more than what was paid less what
    /// was refunded (else BAD_USER_INPUT on `amount`, saying what is left), however many
    /// refunds race; other statuses are CONFLICT. PAYMENT_DECLINED when the gateway
    /// refuses (nothing is refunded). When the gateway does not answer, the refund is
    /// counted and retried until it does, never paid out twice.
    #[graphql(guard = "AdminGuard")]
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the order to refund.")] id: ID,
        #[graphql(desc = "How much to refund, more than 0, e.g. \"5.00\".")] amount: Decimal,
        #[graphql(desc = "Why, for the customer: at most 500 characters.")] reason: Option<String>,
    ) -> Result<Order> {
        let id = GlobalId::parse_kind(&id, "id", NodeKind::Order, "order")?;
        let amount = Money::parse(&amount.0, "amount")?;
        let reason = optional(reason.as_deref(), "reason", RefundReason::parse)?.flatten();
        let order = orders::refund(
            ctx.db()?,
            ctx.payments()?,
            ctx.viewer()?,
            id,
            amount,
            reason,
        )
        .await?;
        Ok(Order(order))
    }
}

#[derive(Default)]
pub struct ShoppingSubscription;

#[async_graphql::Subscription]
impl ShoppingSubscription {
    /// Every status change of the caller's orders (admins: of all orders), or of the one
    /// order given, as it commits. Over the graphql-transport-ws protocol at /graphql/ws,
    /// authenticated by the connection_init payload `{"authorization": "Bearer <token>"}`.
    /// The subscription ends with an error when that token expires (UNAUTHENTICATED), when
    /// its session ends by logout or a password change (UNAUTHENTICATED), or when the
    /// caller loses the rights it needs (FORBIDDEN): reconnect with a fresh token.
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this order's changes; every visible order's when left out.")]
        order_id: Option<ID>,
    ) -> Result<impl futures_util::Stream<Item = Result<Order>> + use<>> {
        let only = order_id
            .map(|id| GlobalId::parse_kind(&id, "orderId", NodeKind::Order, "order"))
            .transpose()?;
        let grant = ctx.data_opt::<AccessGrant>();
        let events = ctx.data::<OrderEvents>()?;
        let feed = order_feed::subscribe(ctx.db()?, ctx.viewer()?, grant, only, events).await?;
        Ok(feed.map(|order| order.map(Order).map_err(Into::into)))
    }
}
