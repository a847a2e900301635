//! Every business rule, with no GraphQL in sight: each function takes the database, the
//! caller and parsed input, so the CLI and tests can call it directly.

pub mod accounts;
pub mod browse;
pub mod cart;
pub mod categories;
pub mod checkout;
pub mod demo;
pub mod discounts;
pub mod email_verification;
pub mod events;
pub mod nodes;
pub mod order_feed;
pub mod orders;
pub mod outbox;
pub mod pagination;
pub mod password_reset;
pub mod products;
pub mod sessions;
pub mod shipping;
mod slugs;
pub mod tax;
pub mod throttle;
pub mod totals;
pub mod variants;
mod viewer;
pub mod webhooks;

pub use viewer::{Viewer, require_admin, viewer_is_admin};

use crate::error::AppResult;

/// Runs `work` to its end even if the caller stops waiting for it. A client that goes away
/// drops its request's future at the next await; work that talks to a payment gateway
/// between two transactions (a checkout, a cancellation's refund) must not stop halfway,
/// or the stock or the refund waits for the sweeper.
pub async fn run_to_completion<T: Send + 'static>(
    work: impl Future<Output = AppResult<T>> + Send + 'static,
) -> AppResult<T> {
    tokio::spawn(work).await?
}

/// A change to an optional value: leave it, clear it, or set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}
