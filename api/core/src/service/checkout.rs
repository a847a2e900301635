//! Checkout: the cart becomes an order, stock is taken, and the payment is made.
//!
//! 1. One write transaction takes the stock of every line with conditional updates
//!    (`stock = stock - q WHERE stock >= q`, of the product's total and then of the
//!    variant, in product order so two carts never deadlock), and writes the PENDING
//!    order with its price, name and address snapshots and a pending charge in the
//!    ledger. Either all of it commits or none of it.
//! 2. The gateway the buyer chose (`paymentMethod`; the first enabled by default) is
//!    asked to charge, outside any transaction, with the order number as idempotency key.
//!    The ledger's charge row names it, and every later step of the order goes through it.
//! 3. A second transaction marks the order PAID and empties the bought lines from the cart;
//!    or, when the charge was declined, removes the order and puts the stock back; or, when
//!    the gateway waits for the customer (3-D Secure, its own page), records in the ledger
//!    what the customer must do and answers the order PENDING. The gateway's webhook,
//!    `confirmPayment` or the sweeper settles it then (see `orders::complete_payment`).
//!
//! A crash between 1 and 3 leaves a PENDING order, which the sweeper settles.

use std::time::Duration as StdDuration;

use chrono::Utc;
use entity::{
    cart as cart_row, order, order_item,
    payment::{self, PaymentKind, PaymentStatus},
    product, product_variant, user,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    db,
    domain::{
        CartId, Customer, Email, IdempotencyKey, Money, OrderStatus, PaymentToken, PostalAddress,
        TaxMode, new_order_number,
    },
    error::{AppError, AppResult, Refusal},
    payments::{Charge, ChargeRequest, Gateway, PaymentError, Payments},
    service::{
        cart::{self, CartLine, checkout_in_progress, lines},
        discounts, orders, run_to_completion,
        totals::{self, Destination, Purpose, Quote},
        variants,
        viewer::Viewer,
    },
};

/// The counter of checkouts, by how they ended (`outcome`). The server's telemetry
/// describes it to the exporter; the name lives here, where it is recorded.
pub const CHECKOUTS: &str = "shop_checkouts_total";

/// A checkout, parsed: which cart, who buys, where to ship, how to pay, and the client's
/// key for repeating it.
pub struct Checkout {
    /// The cart to buy, as the client named it; the caller's own when `None`.
    pub cart: Option<CartId>,
    /// Where a guest's mails go: required of guests, ignored for users (theirs go to the
    /// account's address).
    pub email: Option<Email>,
    pub shipping_address: PostalAddress,
    /// The shipping method chosen (required once methods ship to the address's country).
    pub shipping_method: Option<i32>,
    /// The code of the gateway to pay with (`paymentMethod`); the first enabled when
    /// `None`. Checked against the enabled gateways by [`checkout`].
    pub payment_method: Option<String>,
    /// The payment form's token: required by the gateways that take one (test, Stripe).
    pub payment_token: Option<PaymentToken>,
    pub idempotency_key: Option<IdempotencyKey>,
}

/// How a checkout ended, as `shop_checkouts_total` counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// Charged: the order is PAID.
    Paid,
    /// The gateway waits for the customer (3-D Secure, its own page): the order is
    /// PENDING until they act.
    ActionRequired,
    /// Answered with what an earlier checkout with the same idempotency key produced.
    Replayed,
    /// The gateway refused the payment.
    Declined,
    /// The gateway could not be reached or failed; nothing was charged.
    PaymentError,
    /// The gateway's answer was lost: the order stays PENDING for the sweeper to settle.
    PaymentUnknown,
    /// The payment arrived after the order had expired: refunded.
    Expired,
    /// A line was out of stock (or its product archived).
    OutOfStock,
    /// Refused before anything was taken: an empty cart or one too costly, a checkout of
    /// the same cart in progress, no login. (Input that does not parse never reaches the
    /// checkout: `shop_graphql_requests_total` counts it as BAD_USER_INPUT.)
    Rejected,
    /// Failed on our side.
    Failed,
}

impl CheckoutOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::ActionRequired => "requires_action",
            Self::Replayed => "replayed",
            Self::Declined => "declined",
            Self::PaymentError => "payment_error",
            Self::PaymentUnknown => "payment_unknown",
            Self::Expired => "expired",
            Self::OutOfStock => "out_of_stock",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    /// What an error says by itself, where the checkout knows nothing finer.
    fn of(error: &AppError) -> Self {
        match error {
            AppError::OutOfStock { .. } => Self::OutOfStock,
            AppError::PaymentDeclined(_) => Self::Declined,
            AppError::Internal(_) => Self::Failed,
            _ => Self::Rejected,
        }
    }
}

/// A checkout that ended without a PAID order: the error its caller gets, and how it
/// ended as `shop_checkouts_total` counts it.
struct Stopped {
    outcome: CheckoutOutcome,
    error: AppError,
}

impl Stopped {
    fn new(outcome: CheckoutOutcome, error: AppError) -> Self {
        Self { outcome, error }
    }
}

/// An error that tells by itself how the checkout ended, so `?` can stop it.
impl From<AppError> for Stopped {
    fn from(error: AppError) -> Self {
        Self::new(CheckoutOutcome::of(&error), error)
    }
}

impl From<DbErr> for Stopped {
    fn from(error: DbErr) -> Self {
        AppError::from(error).into()
    }
}

/// How a checkout ended: the order (PAID, or PENDING while its customer must act) and how
/// it was come by, or why there is none.
type Ended = Result<(order::Model, CheckoutOutcome), Stopped>;

/// Buys what is in the caller's cart with the payment method chosen (the first enabled
/// when none is): an unknown or disabled one is BAD_USER_INPUT on `paymentMethod`, a
/// missing token for a gateway that needs one BAD_USER_INPUT on `paymentToken`, both
/// before anything is written. Answers the PAID order, or the PENDING one whose payment
/// waits for its customer (`Order.payment` says what they must do). Every call is counted by its
/// outcome and method. It runs to the end even if the caller goes away: a checkout
/// dropped between taking the stock and recording the payment would hold that stock
/// until the sweeper came by.
pub async fn checkout(
    db: &DatabaseConnection,
    payments: &Payments,
    viewer: &Viewer,
    checkout: Checkout,
) -> AppResult<order::Model> {
    let (db, payments, viewer) = (db.clone(), payments.clone(), *viewer);
    run_to_completion(async move {
        let gateway = gateway_for(&payments, checkout.payment_method.as_deref());
        // The code of an enabled gateway, never what the client typed: the label's values
        // stay bounded by the configuration.
        let method = gateway.as_ref().map_or("none", |gateway| gateway.code());
        let attempted = match gateway {
            Ok(gateway) => attempt(&db, &payments, &gateway, &viewer, checkout).await,
            Err(error) => Err(error.into()),
        };
        let (outcome, result) = match attempted {
            Ok((order, outcome)) => (outcome, Ok(order)),
            Err(Stopped { outcome, error }) => (outcome, Err(error)),
        };
        metrics::counter!(CHECKOUTS, "outcome" => outcome.as_str(), "method" => method)
            .increment(1);
        result
    })
    .await
}

/// The gateway a checkout pays with: the enabled one of that code, or the first enabled.
fn gateway_for(payments: &Payments, method: Option<&str>) -> AppResult<Gateway> {
    let Some(method) = method else {
        return Ok(payments.gateways.default_gateway().clone());
    };
    let method = method.trim();
    payments.gateways.offered(method).cloned().ok_or_else(|| {
        let enabled: Vec<&str> = payments
            .gateways
            .enabled()
            .iter()
            .map(|gateway| gateway.code())
            .collect();
        AppError::bad_input(
            "paymentMethod",
            format!(
                "not a payment method of this shop; use one of paymentMethods: {}",
                enabled.join(", ")
            ),
        )
    })
}

/// The checkout itself, paid through `gateway`.
async fn attempt(
    db: &DatabaseConnection,
    payments: &Payments,
    gateway: &Gateway,
    viewer: &Viewer,
    checkout: Checkout,
) -> Ended {
    let Checkout {
        cart,
        email,
        shipping_address,
        shipping_method,
        payment_method: _,
        payment_token,
        idempotency_key: key,
    } = checkout;
    if gateway.requires_token() && payment_token.is_none() {
        return Err(AppError::bad_input(
            "paymentToken",
            format!(
                "the payment method {:?} needs the payment form's token",
                gateway.code()
            ),
        )
        .into());
    }
    let cart_id = cart::id_of(db, viewer, cart.as_ref()).await?;
    let buyer = Buyer::of(db, viewer, email).await?;
    if let Some(key) = &key
        && let Some(existing) = find_by_key(db, &buyer, cart_id, key).await?
    {
        return replayed(settled(db, existing).await);
    }
    let destination = Destination {
        country: &shipping_address.country,
        shipping_method,
    };
    let order = match reserve_cart(
        db,
        payments,
        gateway.code(),
        &buyer,
        cart_id,
        &shipping_address,
        destination,
        key.as_ref(),
    )
    .await
    {
        Ok(order) => order,
        Err(err) => {
            let Some(key) = &key else {
                return Err(err.into());
            };
            // Another request with the same key got there first: answer what it produced.
            // Whatever this attempt ran into says nothing about the purchase: the key's
            // unique index, or the stock and the cart lines that request had just taken.
            return match find_by_key(db, &buyer, cart_id, key).await? {
                Some(existing) => replayed(settled(db, existing).await),
                None if matches!(err, AppError::Conflict { field: None, .. }) => {
                    Err(AppError::from(Refusal::CheckoutKeyFailed).into())
                }
                None => Err(err.into()),
            };
        }
    };
    pay(db, payments, gateway, order, payment_token).await
}

/// What an earlier checkout with the same idempotency key answered, counted as a replay
/// whatever it was.
fn replayed(answer: AppResult<order::Model>) -> Ended {
    match answer {
        Ok(order) => Ok((order, CheckoutOutcome::Replayed)),
        Err(error) => Err(Stopped::new(CheckoutOutcome::Replayed, error)),
    }
}

/// Who buys: a user, or a guest known by the email address given at checkout.
enum Buyer {
    User { id: i32, email: String },
    Guest { email: Email },
}

impl Buyer {
    /// The caller as a buyer: a user, or a guest who gave an email address (else
    /// BAD_USER_INPUT on `email`).
    async fn of(db: &DatabaseConnection, viewer: &Viewer, email: Option<Email>) -> AppResult<Self> {
        if let Ok(id) = viewer.user_id() {
            let user = user::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(AppError::Unauthenticated("the account no longer exists"))?;
            return Ok(Self::User {
                id,
                email: user.email,
            });
        }
        match email {
            Some(email) => Ok(Self::Guest { email }),
            None => Err(AppError::bad_input(
                "email",
                "a guest's checkout needs an email address for the order's mails",
            )),
        }
    }

    fn user_id(&self) -> Option<i32> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Guest { .. } => None,
        }
    }

    /// Who uses a discount code, for once-per-customer codes.
    fn customer(&self) -> Customer {
        match self {
            Self::User { id, .. } => Customer::User(*id),
            Self::Guest { email } => Customer::Email(email.clone()),
        }
    }

    fn email(&self) -> &str {
        match self {
            Self::User { email, .. } => email,
            Self::Guest { email } => email.as_str(),
        }
    }
}

/// The order an idempotency key already made: a user's keys are theirs across carts, a
/// guest's belong to the cart.
async fn find_by_key(
    db: &DatabaseConnection,
    buyer: &Buyer,
    cart_id: i32,
    key: &IdempotencyKey,
) -> AppResult<Option<order::Model>> {
    let scope = match buyer.user_id() {
        Some(user_id) => order::Column::UserId.eq(user_id),
        None => order::Column::CartId
            .eq(cart_id)
            .and(order::Column::UserId.is_null()),
    };
    Ok(order::Entity::find()
        .filter(scope)
        .filter(order::Column::IdempotencyKey.eq(key.as_str()))
        .one(db)
        .await?)
}

/// The outcome of a checkout that another request with the same idempotency key started:
/// waits (briefly) while its payment is under way, not while it waits for the customer.
async fn settled(db: &DatabaseConnection, mut order: order::Model) -> AppResult<order::Model> {
    for _ in 0..300 {
        if order.status != OrderStatus::Pending || orders::awaits_customer(db, order.id).await? {
            return Ok(order);
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        match order::Entity::find_by_id(order.id).one(db).await? {
            Some(current) => order = current,
            // Its payment was declined and the order removed.
            None => {
                return Err(AppError::PaymentDeclined(
                    "the payment of this checkout was declined".into(),
                ));
            }
        }
    }
    Ok(order)
}

/// Step 1 alone, for a user's own cart: the PENDING order a checkout with the default
/// payment method leaves when its payment never answers (what the sweeper, webhooks and
/// their tests start from).
pub async fn reserve(
    db: &DatabaseConnection,
    payments: &Payments,
    user_id: i32,
    address: &PostalAddress,
    idempotency_key: Option<&IdempotencyKey>,
) -> AppResult<order::Model> {
    let viewer = Viewer::User { id: user_id };
    let cart_id = cart::id_of(db, &viewer, None).await?;
    let buyer = Buyer::of(db, &viewer, None).await?;
    let destination = Destination {
        country: &address.country,
        shipping_method: None,
    };
    reserve_cart(
        db,
        payments,
        payments.gateways.default_gateway().code(),
        &buyer,
        cart_id,
        address,
        destination,
        idempotency_key,
    )
    .await
}

/// Step 1: takes the stock and writes the PENDING order, all or nothing, with its charge
/// owed to the gateway of code `gateway`.
#[allow(clippy::too_many_arguments)]
async fn reserve_cart(
    db: &DatabaseConnection,
    payments: &Payments,
    gateway: &str,
    buyer: &Buyer,
    cart_id: i32,
    address: &PostalAddress,
    destination: Destination<'_>,
    idempotency_key: Option<&IdempotencyKey>,
) -> AppResult<order::Model> {
    let txn = db::begin_write(db).await?;
    // One checkout of a cart at a time, or a double click buys the same lines twice. The
    // claim is a conditional update, taken before anything is read, that answers the
    // cart's row: on PostgreSQL it also queues a second checkout behind this one's row
    // lock (SQLite's IMMEDIATE transaction serialises them anyway), which then finds the
    // cart claimed. The claim holds until the order leaves PENDING; 0 stands for "this
    // transaction" until the order exists.
    let claimed = cart_row::Entity::update_many()
        .col_expr(cart_row::Column::CheckoutOrderId, Expr::value(0))
        .filter(cart_row::Column::Id.eq(cart_id))
        .filter(cart_row::Column::CheckoutOrderId.is_null())
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(cart) = claimed else {
        return Err(
            match cart_row::Entity::find_by_id(cart_id).one(&txn).await? {
                Some(_) => checkout_in_progress(),
                // Merged or swept away since it was named.
                None => AppError::NotFound("cart"),
            },
        );
    };
    let mut buying: Vec<CartLine> = lines(&txn, cart.id)
        .await?
        .into_iter()
        .filter(|line| !line.saved_for_later)
        .collect();
    if buying.is_empty() {
        return Err(AppError::bad_input("cart", "the cart is empty"));
    }
    // A fixed order of row locks: carts {A, B} and {B, A} cannot deadlock.
    buying.sort_by_key(|line| (line.product.id, line.variant.id));
    // Priced by the rules as this transaction sees them, before any stock is taken.
    let Quote {
        totals,
        shipping_method,
        discount_code,
    } = totals::quote(
        &txn,
        &cart,
        &buying,
        Some(destination),
        Purpose::Order,
        payments.tax_mode,
    )
    .await?;

    if let Some(line) = buying
        .iter()
        .find(|line| line.product.archived || line.variant.archived)
    {
        return Err(variants::out_of_stock(&line.variant, 0));
    }

    let now = Utc::now();
    let order = order::ActiveModel {
        number: Set(new_order_number()),
        user_id: Set(buyer.user_id()),
        email: Set(buyer.email().to_owned()),
        cart_id: Set(Some(cart.id)),
        status: Set(OrderStatus::Pending),
        total_cents: Set(totals.total.cents()),
        subtotal_cents: Set(totals.subtotal.cents()),
        discount_cents: Set(totals.discount.cents()),
        shipping_cents: Set(totals.shipping.cents()),
        tax_cents: Set(totals.tax.cents()),
        tax_included: Set(payments.tax_mode == TaxMode::IncludedInPrices),
        shipping_method: Set(shipping_method.map(|method| method.name)),
        discount_code: Set(discount_code.as_ref().map(|code| code.code.clone())),
        currency: Set(payments.currency.as_str().into()),
        ship_full_name: Set(address.full_name.clone()),
        ship_line1: Set(address.line1.clone()),
        ship_line2: Set(address.line2.clone()),
        ship_city: Set(address.city.clone()),
        ship_postal_code: Set(address.postal_code.clone()),
        ship_country: Set(address.country.to_string()),
        idempotency_key: Set(idempotency_key.map(|key| key.as_str().to_owned())),
        expires_at: Set(now + payments.pending_order_ttl),
        placed_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    cart_row::Entity::update_many()
        .col_expr(cart_row::Column::CheckoutOrderId, Expr::value(order.id))
        .filter(cart_row::Column::Id.eq(cart.id))
        .exec(&txn)
        .await?;
    payment::ActiveModel {
        order_id: Set(order.id),
        kind: Set(PaymentKind::Charge),
        gateway: Set(gateway.into()),
        reference: Set(None),
        amount_cents: Set(totals.total.cents()),
        status: Set(PaymentStatus::Pending),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // The stock is taken as late as it can be: on PostgreSQL each product's row stays
    // locked from here to COMMIT, and every buyer of that product queues behind it. The
    // order's lines come after it, not before: their foreign keys share-lock the product
    // rows, and shares taken by buyers still queueing would join the updater's lock in
    // one multixact that PostgreSQL rewrites at each new member. The discount code's row
    // comes after the products', as in every transaction that gives stock and a code's
    // use back (cancellation, a refused payment, the sweeper): one lock order, no
    // deadlock.
    for line in &buying {
        take_stock(&txn, line).await?;
    }
    order_item::Entity::insert_many(buying.iter().map(|line| order_item::ActiveModel {
        order_id: Set(order.id),
        product_id: Set(line.product.id),
        variant_id: Set(Some(line.variant.id)),
        product_name: Set(line.product.name.clone()),
        variant_title: Set(variants::title(&line.variant)),
        sku: Set(line.variant.sku.clone()),
        unit_price_cents: Set(line.variant.price_cents),
        quantity: Set(line.quantity),
        line_total_cents: Set(line.total().cents()),
        ..Default::default()
    }))
    .exec(&txn)
    .await?;
    if let Some(code) = &discount_code {
        // The use is taken in this transaction: a code used up or used by this customer
        // since the quote refuses the checkout, and nothing is charged.
        discounts::redeem(
            &txn,
            code,
            order.id,
            &buyer.customer(),
            totals.subtotal,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(order)
}

/// Takes a line's units from stock, or fails with what is left. The conditions in the
/// updates, not an earlier read, decide: no concurrent buyer can make stock negative. The
/// product's total goes first: every writer of a variant's stock takes its product's row
/// before the variant's, so two of them never wait on each other in a circle.
async fn take_stock(txn: &DatabaseTransaction, line: &CartLine) -> AppResult<()> {
    let quantity = line.quantity;
    let now = Utc::now();
    db::queue_for_stock(txn, line.product.id).await?;
    let product_taken = product::Entity::update_many()
        .col_expr(
            product::Column::Stock,
            Expr::col(product::Column::Stock).sub(quantity),
        )
        .col_expr(product::Column::UpdatedAt, Expr::value(now))
        .filter(product::Column::Id.eq(line.product.id))
        .filter(product::Column::Archived.eq(false))
        .filter(product::Column::Stock.gte(quantity))
        .exec(txn)
        .await?
        .rows_affected;
    let variant_taken = product_taken == 1
        && product_variant::Entity::update_many()
            .col_expr(
                product_variant::Column::Stock,
                Expr::col(product_variant::Column::Stock).sub(quantity),
            )
            .col_expr(product_variant::Column::UpdatedAt, Expr::value(now))
            .filter(product_variant::Column::Id.eq(line.variant.id))
            .filter(product_variant::Column::Archived.eq(false))
            .filter(product_variant::Column::Stock.gte(quantity))
            .exec(txn)
            .await?
            .rows_affected
            == 1;
    if variant_taken {
        return Ok(());
    }
    let available = match product_variant::Entity::find_by_id(line.variant.id)
        .find_also_related(product::Entity)
        .one(txn)
        .await?
    {
        Some((variant, Some(product))) if !variant.archived && !product.archived => variant.stock,
        _ => 0,
    };
    Err(variants::out_of_stock(&line.variant, available))
}

/// Steps 2 and 3: charges the order and settles it either way.
async fn pay(
    db: &DatabaseConnection,
    payments: &Payments,
    gateway: &Gateway,
    order: order::Model,
    token: Option<PaymentToken>,
) -> Ended {
    if order.total_cents == 0 {
        // Nothing to charge: gateways refuse an amount of zero, and none is owed.
        let paid = db::write(db, async |txn| {
            orders::mark_paid_without_charge(txn, order.id).await
        })
        .await?;
        let order = match paid {
            Some(paid) => paid,
            None => orders::reload(db, order.id).await?,
        };
        return Ok((order, CheckoutOutcome::Paid));
    }
    let request = ChargeRequest {
        amount: Money::from_cents(order.total_cents),
        currency: payments.currency.clone(),
        token: token.map(PaymentToken::into_string),
        idempotency_key: order.number.clone(),
        description: format!("Order {}", order.number),
        return_url: payments.return_url.for_order(&order.number),
    };
    let charged = match gateway.charge(&request).await {
        // The gateway's answer was lost: ask it what happened under this key.
        Err(PaymentError::Unavailable(reason)) => {
            match gateway.find_charge(&order.number).await {
                Ok(Some(receipt)) => Ok(Charge::Paid(receipt)),
                Ok(None) => Err(PaymentError::Unavailable(reason)),
                Err(err) => {
                    // Unknown outcome: the order stays PENDING and the sweeper settles it.
                    tracing::error!(order = %order.number, error = %err, "payment outcome unknown");
                    return Err(Stopped::new(
                        CheckoutOutcome::PaymentUnknown,
                        AppError::internal(anyhow::anyhow!("payment outcome unknown: {err}")),
                    ));
                }
            }
        }
        other => other,
    };
    match charged {
        Ok(Charge::ActionRequired(awaiting)) => {
            let recorded = db::write(db, async |txn| {
                orders::await_customer(txn, order.id, &awaiting).await
            })
            .await?;
            if !recorded {
                // Settled meanwhile (cancelled by its customer, or expired): the customer
                // must not be sent to pay for it.
                if let Err(err) = gateway.abandon(&awaiting.reference).await {
                    tracing::warn!(order = %order.number, error = %err, "could not abandon a payment of a cancelled order");
                }
                return Err(Stopped::new(
                    CheckoutOutcome::Expired,
                    AppError::PaymentDeclined(
                        "the checkout took too long and was cancelled; nothing was charged".into(),
                    ),
                ));
            }
            Ok((
                orders::reload(db, order.id).await?,
                CheckoutOutcome::ActionRequired,
            ))
        }
        Ok(Charge::Paid(receipt)) => {
            let paid = db::write(db, async |txn| {
                orders::mark_paid(txn, order.id, &receipt).await
            })
            .await?;
            if let Some(paid) = paid {
                return Ok((paid, CheckoutOutcome::Paid));
            }
            let current = orders::reload(db, order.id).await?;
            if current.status == OrderStatus::Cancelled {
                // The order was cancelled (by the sweeper or its customer) while the
                // gateway was answering. Not when it left PENDING for PAID: then the
                // sweeper or a cancellation found this charge and recorded it.
                tracing::warn!(order = %order.number, "payment arrived for an expired order; refunding");
                orders::cancel_after_late_payment(db, payments, &order, &receipt).await?;
                return Err(Stopped::new(
                    CheckoutOutcome::Expired,
                    AppError::PaymentDeclined(
                        "the checkout took too long and was cancelled; the payment is refunded"
                            .into(),
                    ),
                ));
            }
            Ok((current, CheckoutOutcome::Paid))
        }
        Err(err) => {
            let (outcome, reason) = match err {
                PaymentError::Declined(reason) => (CheckoutOutcome::Declined, reason),
                PaymentError::Unavailable(_) => (
                    CheckoutOutcome::PaymentError,
                    "the payment could not be processed; nothing was charged, please try again"
                        .into(),
                ),
            };
            forget(db, order.id).await?;
            Err(Stopped::new(outcome, AppError::PaymentDeclined(reason)))
        }
    }
}

/// Undoes step 1 after a refused payment: the order disappears (it never happened) and
/// its stock goes back. Conditional on PENDING, so it cannot race the sweeper.
async fn forget(db: &DatabaseConnection, order_id: i32) -> AppResult<()> {
    let txn = db::begin_write(db).await?;
    let still_pending = order::Entity::find_by_id(order_id)
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .one(&txn)
        .await?
        .is_some();
    if still_pending {
        orders::restock(&txn, order_id).await?;
        discounts::give_back(&txn, order_id).await?;
        orders::release_cart(&txn, order_id).await?;
        order::Entity::delete_by_id(order_id).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}
