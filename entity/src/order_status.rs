//! The states an order goes through, and which state may follow which.

use std::{fmt, str::FromStr};

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where an order is in its life: PENDING (stock taken, payment under way) -> PAID ->
/// SHIPPED -> DELIVERED, or CANCELLED from PENDING or PAID. Stored, and written in
/// messages, as its upper-case name.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(into = "String", try_from = "String")]
pub enum OrderStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "PAID")]
    Paid,
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

// The life-cycle rules sit here, next to the states, rather than in an extension trait of
// the api crate: they need nothing but the states, and every caller gets them without an
// import.
impl OrderStatus {
    /// The status an admin may move an order to `self` from, if any: fulfilment only
    /// moves forward, one step at a time. Cancelling has its own path (it refunds).
    pub fn fulfilment_predecessor(self) -> Option<Self> {
        match self {
            Self::Shipped => Some(Self::Paid),
            Self::Delivered => Some(Self::Shipped),
            Self::Pending | Self::Paid | Self::Cancelled => None,
        }
    }

    /// The statuses an order can be cancelled from.
    pub const CANCELLABLE: [Self; 2] = [Self::Pending, Self::Paid];

    /// The statuses an admin can refund (part of) an order in: paid and not cancelled (a
    /// cancellation refunds whatever is left itself).
    pub const REFUNDABLE: [Self; 3] = [Self::Paid, Self::Shipped, Self::Delivered];
}

/// The stored name, e.g. "PAID": what errors and messages show.
impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_value())
    }
}

/// A status written as text outside the table (an event's payload): the stored names only.
impl FromStr for OrderStatus {
    type Err = DbErr;

    fn from_str(name: &str) -> Result<Self, DbErr> {
        Self::try_from_value(&name.to_owned())
    }
}

impl TryFrom<String> for OrderStatus {
    type Error = DbErr;

    fn try_from(name: String) -> Result<Self, DbErr> {
        Self::try_from_value(&name)
    }
}

impl From<OrderStatus> for String {
    fn from(status: OrderStatus) -> Self {
        status.to_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_stored_names;

    const STORED: [(OrderStatus, &str); 5] = [
        (OrderStatus::Pending, "PENDING"),
        (OrderStatus::Paid, "PAID"),
        (OrderStatus::Shipped, "SHIPPED"),
        (OrderStatus::Delivered, "DELIVERED"),
        (OrderStatus::Cancelled, "CANCELLED"),
    ];

    #[test]
    fn statuses_are_stored_shown_and_parsed_under_their_upper_case_names() {
        assert_stored_names(&STORED);
        for (status, name) in STORED {
            assert_eq!(status.to_string(), name);
            assert_eq!(name.parse::<OrderStatus>().ok(), Some(status));
        }
        assert!("paid".parse::<OrderStatus>().is_err());
        assert!("".parse::<OrderStatus>().is_err());
    }

    #[test]
    fn statuses_are_written_in_json_under_their_stored_names() {
        for (status, name) in STORED {
            let json = serde_json::to_string(&status).ok();
            assert_eq!(json, Some(format!("\"{name}\"")));
            assert_eq!(
                serde_json::from_str::<OrderStatus>(&format!("\"{name}\"")).ok(),
                Some(status)
            );
        }
        assert!(serde_json::from_str::<OrderStatus>("\"LOST\"").is_err());
    }

    #[test]
    fn fulfilment_moves_forward_one_step_at_a_time() {
        assert_eq!(
            OrderStatus::Shipped.fulfilment_predecessor(),
            Some(OrderStatus::Paid)
        );
        assert_eq!(
            OrderStatus::Delivered.fulfilment_predecessor(),
            Some(OrderStatus::Shipped)
        );
        assert_eq!(OrderStatus::Cancelled.fulfilment_predecessor(), None);
        assert_eq!(OrderStatus::Paid.fulfilment_predecessor(), None);
        assert_eq!(OrderStatus::Pending.fulfilment_predecessor(), None);
    }
}
