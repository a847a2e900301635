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

impl<T> Patch<T> {
    /// The change to what is stored: `None` to leave it, `Some(None)` to clear it,
    /// `Some(Some(value))` to set it. An update writes its column only when there is one.
    pub fn change(self) -> Option<Option<T>> {
        match self {
            Self::Keep => None,
            Self::Clear => Some(None),
            Self::Set(value) => Some(Some(value)),
        }
    }

    /// The value once the change is made to `stored`.
    pub fn applied_to(self, stored: Option<T>) -> Option<T> {
        self.change().unwrap_or(stored)
    }

    /// The same change, of a value turned into another (e.g. into its stored form).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(value) => Patch::Set(f(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Patch;

    #[test]
    fn a_patch_keeps_clears_or_sets_what_is_stored() {
        assert_eq!(Patch::<i32>::Keep.applied_to(Some(1)), Some(1));
        assert_eq!(Patch::<i32>::Clear.applied_to(Some(1)), None);
        assert_eq!(Patch::Set(2).applied_to(Some(1)), Some(2));
        assert_eq!(Patch::Set(2).applied_to(None), Some(2));
        assert_eq!(Patch::<i32>::Keep.change(), None);
        assert_eq!(Patch::<i32>::Clear.change(), Some(None));
        assert_eq!(Patch::Set(3).map(|n| n * 2), Patch::Set(6));
    }
}
