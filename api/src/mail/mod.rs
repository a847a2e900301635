//! Delivering the outbox: render each message from the database as it is now, send it
//! through SMTP (or into `.eml` files), and record the outcome.

mod links;
mod templates;

use std::path::Path;

use askama::Template;
use chrono::{Duration, Utc};
use entity::{order, outbox_message};
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{DEFAULT_VARIANT_TITLE, Money, OrderStatus},
    error::{AppError, AppResult},
    service::{
        email_verification, orders,
        outbox::{self, Notice},
        password_reset,
    },
    telemetry,
};

pub use links::{LinkTemplate, LinkTemplates, Links, TemplateError};
use templates::*;

/// How messages are written and retried.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub from: Mailbox,
    /// The storefront's pages that messages link to.
    pub links: Links,
    /// Attempts before a message is given up on (marked dead).
    pub max_attempts: i32,
    /// The first retry waits this long; each further one twice as long (at most an hour).
    pub retry_base: Duration,
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message in a folder: the zero-configuration default.
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    /// SMTP when a URL is given (`smtp://host:port`, `smtps://user:pass@host`, or
    /// `smtp://host?tls=required`), else files in `mail_dir`.
    pub fn new(smtp_url: Option<&str>, mail_dir: &Path) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| anyhow::anyhow!("SHOP_SMTP_URL is not usable: {err}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build();
                Ok(Self::Smtp(smtp))
            }
            None => {
                std::fs::create_dir_all(mail_dir).map_err(|err| {
                    anyhow::anyhow!(
                        "cannot create the mail folder {}: {err}",
                        mail_dir.display()
                    )
                })?;
                Ok(Self::Files(AsyncFileTransport::new(mail_dir)))
            }
        }
    }

    async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Self::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Self::Files(files) => files
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }
}

/// What one delivery round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// Delivers every message that is due, claiming a batch at a time.
pub async fn deliver_due(
    db: &DatabaseConnection,
    transport: &Transport,
    settings: &MailSettings,
) -> AppResult<Delivery> {
    let mut delivery = Delivery::default();
    loop {
        let batch = outbox::claim(db, Utc::now(), Duration::minutes(2), 16).await?;
        if batch.is_empty() {
            return Ok(delivery);
        }
        for row in batch {
            let outcome = match render(db, &row, settings).await {
                Ok(Some(message)) => transport.send(message).await,
                Ok(None) => {
                    outbox::skipped(db, row.id).await?;
                    count_delivery("skipped");
                    continue;
                }
                Err(err) => Err(format!("cannot render: {err:?}")),
            };
            match outcome {
                Ok(()) => {
                    outbox::delivered(db, row.id).await?;
                    count_delivery("sent");
                    delivery.sent += 1;
                }
                Err(error) => {
                    let dead = outbox::failed(
                        db,
                        &row,
                        &error,
                        settings.max_attempts,
                        settings.retry_base,
                    )
                    .await?;
                    if dead {
                        tracing::error!(message = row.id, attempts = row.attempts, %error, "mail given up");
                        count_delivery("dead");
                        delivery.dead += 1;
                    } else {
                        tracing::warn!(message = row.id, attempts = row.attempts, %error, "mail failed; will retry");
                        count_delivery("retrying");
                        delivery.retrying += 1;
                    }
                }
            }
        }
    }
}

/// Counts one delivery attempt by its outcome: `sent`, `skipped` (nothing needed sending),
/// `retrying` (failed, will be tried again) or `dead` (given up on).
fn count_delivery(outcome: &'static str) {
    metrics::counter!(telemetry::OUTBOX_DELIVERIES, "outcome" => outcome).increment(1);
}

/// Delivers due messages every `poll`, for as long as the server runs.
pub async fn deliver_forever(
    db: DatabaseConnection,
    transport: Transport,
    settings: MailSettings,
    poll: std::time::Duration,
) {
    let mut ticks = tokio::time::interval(poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = deliver_due(&db, &transport, &settings).await {
            tracing::error!(error = ?err, "mail delivery round failed");
        }
    }
}

fn internal(err: impl std::fmt::Display) -> AppError {
    AppError::internal(anyhow::anyhow!("{err}"))
}

/// The message a row announces, rendered now; `None` when nothing needs sending.
async fn render(
    db: &DatabaseConnection,
    row: &outbox_message::Model,
    settings: &MailSettings,
) -> AppResult<Option<Message>> {
    let (recipient, order) = outbox::recipient(db, row).await?;
    let order = || {
        order
            .as_ref()
            .ok_or_else(|| internal("an order message without an order"))
    };
    // Only order mails go to guests; the mails of accounts always have a username.
    let username = || recipient.username.clone().unwrap_or_default();
    let shop_url = settings.links.public_url();
    let (subject, text, html) = match Notice::of(row)? {
        Notice::Welcome { verification } => {
            let m = Welcome {
                username: username(),
                // Not when the account has moved to another address since: the link
                // could not verify that one.
                verify_url: verification
                    .filter(|link| link.verifies(&recipient.email))
                    .map(|link| settings.links.verify_email(&link.token)),
                verify_hours: email_verification::TOKEN_TTL_HOURS,
            };
            (
                "Welcome to the shop".to_owned(),
                WelcomeText { m: &m, shop_url }.render().map_err(internal)?,
                WelcomeHtml { m: &m, shop_url }.render().map_err(internal)?,
            )
        }
        Notice::PasswordReset { token } => {
            let m = PasswordResetMail {
                username: username(),
                reset_url: settings.links.reset_password(&token),
                token,
                minutes: password_reset::TOKEN_TTL_MINUTES,
            };
            (
                "Reset your password".to_owned(),
                PasswordResetText { m: &m, shop_url }
                    .render()
                    .map_err(internal)?,
                PasswordResetHtml { m: &m, shop_url }
                    .render()
                    .map_err(internal)?,
            )
        }
        Notice::EmailVerification(link) => {
            // The account has moved to another address since: the link could not verify
            // it, and the address it was meant for is no longer the account's.
            if !link.verifies(&recipient.email) {
                return Ok(None);
            }
            let m = EmailVerificationMail {
                username: username(),
                verify_url: settings.links.verify_email(&link.token),
                hours: email_verification::TOKEN_TTL_HOURS,
            };
            (
                "Confirm your email address".to_owned(),
                EmailVerificationText { m: &m, shop_url }
                    .render()
                    .map_err(internal)?,
                EmailVerificationHtml { m: &m, shop_url }
                    .render()
                    .map_err(internal)?,
            )
        }
        Notice::OrderStatus { from, to } => {
            let Some((subject, m)) = order_mail(db, order()?, from, to, &settings.links).await?
            else {
                return Ok(None);
            };
            (
                subject,
                OrderText { m: &m, shop_url }.render().map_err(internal)?,
                OrderHtml { m: &m, shop_url }.render().map_err(internal)?,
            )
        }
        Notice::OrderRefund {
            amount_cents,
            reason,
        } => {
            let order = order()?;
            let money = |cents: i64| format!("{} {}", Money::from_cents(cents), order.currency);
            let m = RefundMail {
                heading: "Part of your order was refunded".to_owned(),
                number: order.number.clone(),
                amount: money(amount_cents),
                reason,
                refunded_total: money(order.refunded_cents),
                total: money(order.total_cents),
                order_url: settings.links.order(&order.number),
            };
            (
                format!("A refund of {} for order {}", m.amount, order.number),
                RefundText { m: &m, shop_url }.render().map_err(internal)?,
                RefundHtml { m: &m, shop_url }.render().map_err(internal)?,
            )
        }
    };
    let to = Mailbox::new(
        recipient.username.clone(),
        recipient.email.parse().map_err(internal)?,
    );
    let message = Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(row.message_id.clone()))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(internal)?;
    Ok(Some(message))
}

/// The rows between an order's lines and its total: what the discount took off, what
/// shipping and tax added (or how much tax the prices included). An order with none of
/// them shows its total alone, as before totals existed.
fn summary_of(order: &order::Model, money: impl Fn(i64) -> String) -> Vec<SummaryLine> {
    let row = |label: String, cents: i64| SummaryLine {
        label,
        amount: money(cents),
    };
    let named = |label: &str, name: &Option<String>| match name {
        Some(name) => format!("{label} ({name})"),
        None => label.to_owned(),
    };
    let mut rows = Vec::new();
    if order.discount_cents > 0 {
        rows.push(row(
            named("Discount", &order.discount_code),
            -order.discount_cents,
        ));
    }
    if order.shipping_method.is_some() || order.shipping_cents > 0 {
        rows.push(row(
            named("Shipping", &order.shipping_method),
            order.shipping_cents,
        ));
    }
    if order.tax_cents > 0 {
        let label = if order.tax_included {
            "Including tax"
        } else {
            "Tax"
        };
        rows.push(row(label.to_owned(), order.tax_cents));
    }
    if !rows.is_empty() {
        rows.insert(0, row("Subtotal".to_owned(), order.subtotal_cents));
    }
    rows
}

async fn order_mail(
    db: &DatabaseConnection,
    order: &order::Model,
    from: OrderStatus,
    to: OrderStatus,
    links: &Links,
) -> AppResult<Option<(String, OrderMail)>> {
    let money = |cents: i64| format!("{} {}", Money::from_cents(cents), order.currency);
    let number = &order.number;
    let (subject, heading, intro) = match (from, to) {
        (_, OrderStatus::Paid) => (
            format!("Order {number} confirmed"),
            "Thank you for your order".to_owned(),
            "We have received your payment and are getting your order ready.".to_owned(),
        ),
        (_, OrderStatus::Shipped) => (
            format!("Order {number} has shipped"),
            "Your order is on its way".to_owned(),
            "Your order has left our warehouse.".to_owned(),
        ),
        (_, OrderStatus::Delivered) => (
            format!("Order {number} was delivered"),
            "Your order has arrived".to_owned(),
            "Your order was delivered. Enjoy!".to_owned(),
        ),
        (OrderStatus::Paid, OrderStatus::Cancelled) => (
            format!("Order {number} was cancelled and refunded"),
            "Your order was cancelled".to_owned(),
            // What was left after the refunds before it, if anything.
            match orders::settlement_of(db, order).await? {
                Some(rest) => format!(
                    "Your order was cancelled and {} is being refunded to your payment method.",
                    money(rest.amount_cents)
                ),
                None => {
                    "Your order was cancelled; it had already been refunded in full.".to_owned()
                }
            },
        ),
        // A PENDING order that is released was never confirmed to the buyer: no message.
        _ => return Ok(None),
    };
    let lines = orders::items_of(db, &[order.id])
        .await?
        .into_iter()
        .map(|item| OrderLine {
            // The lone variant of a product without options needs no name.
            name: if item.variant_title == DEFAULT_VARIANT_TITLE {
                item.product_name
            } else {
                format!("{} ({})", item.product_name, item.variant_title)
            },
            quantity: item.quantity,
            unit_price: money(item.unit_price_cents),
            total: money(item.line_total_cents),
        })
        .collect();
    let summary = summary_of(order, money);
    let address = [
        Some(order.ship_full_name.clone()),
        Some(order.ship_line1.clone()),
        order.ship_line2.clone(),
        Some(format!("{} {}", order.ship_postal_code, order.ship_city)),
        Some(order.ship_country.clone()),
    ]
    .into_iter()
    .flatten()
    .collect();
    // The tracking shows in the shipped email only: it is the news of that one.
    let tracking = match (to, &order.tracking_carrier, &order.tracking_number) {
        (OrderStatus::Shipped, Some(carrier), Some(tracking_number)) => Some(TrackingLines {
            carrier: carrier.clone(),
            number: tracking_number.clone(),
            url: order.tracking_url.clone(),
        }),
        _ => None,
    };
    Ok(Some((
        subject,
        OrderMail {
            heading,
            intro,
            number: number.clone(),
            tracking,
            lines,
            summary,
            total: money(order.total_cents),
            address,
            order_url: links.order(number),
        },
    )))
}
