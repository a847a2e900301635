use std::fmt;

/// Where an order is in its life: PENDING (stock taken, payment under way) -> PAID ->
/// SHIPPED -> DELIVERED, or CANCELLED from PENDING or PAID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Paid,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Paid => "PAID",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

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
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A human-friendly order number: "SO-" and ten characters of Crockford base32 (no I, L,
/// O or U to misread), 50 random bits.
pub fn new_order_number() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits = rand::random::<u64>();
    let mut number = String::from("SO-");
    for _ in 0..10 {
        number.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OrderStatus::parse("paid"), None);
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
    }

    #[test]
    fn order_numbers_are_readable_and_distinct() {
        let a = new_order_number();
        assert!(a.starts_with("SO-") && a.len() == 13, "{a}");
        assert!(
            a[3..]
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_ne!(a, new_order_number());
    }
}
