use sea_orm::entity::prelude::*;

/// A message to deliver, written in the same transaction as the change it announces: a
/// rolled-back change leaves no row, a committed one always has one. The delivery worker
/// renders and sends it, retrying with backoff.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub kind: MessageKind,
    /// The user the mail is for; `None` for a mail about a guest's order (its order says
    /// where it goes).
    pub user_id: Option<i32>,
    pub order_id: Option<i32>,
    /// Kind-specific data as JSON. A password reset's, a welcome's and an email
    /// verification's are emptied once sent (their tokens must not linger); an order
    /// status change keeps its statuses, which subscriptions read.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// Stable per row, so a receiving server can drop a retried duplicate.
    pub message_id: String,
    pub status: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A worker that claimed the row owns it until then; after that, another may retry.
    pub locked_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a message announces; its payload's shape depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum MessageKind {
    #[sea_orm(string_value = "welcome")]
    Welcome,
    #[sea_orm(string_value = "order_status")]
    OrderStatus,
    /// A refund of part or all of an order, made by an admin.
    #[sea_orm(string_value = "order_refund")]
    OrderRefund,
    /// Its payload holds a secret (the reset token) until the message is sent.
    #[sea_orm(string_value = "password_reset")]
    PasswordReset,
    /// A fresh email-verification link; its payload holds the token until it is sent.
    #[sea_orm(string_value = "email_verification")]
    EmailVerification,
}

/// Where a message is in its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryState {
    /// Waiting for its first or next attempt.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Delivered, or found to need no delivery.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Given up on after too many failed attempts.
    #[sea_orm(string_value = "dead")]
    Dead,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_stored_names;

    #[test]
    fn message_states_are_stored_under_their_lower_case_names() {
        assert_stored_names(&[
            (MessageKind::Welcome, "welcome"),
            (MessageKind::OrderStatus, "order_status"),
            (MessageKind::OrderRefund, "order_refund"),
            (MessageKind::PasswordReset, "password_reset"),
            (MessageKind::EmailVerification, "email_verification"),
        ]);
        assert_stored_names(&[
            (DeliveryState::Pending, "pending"),
            (DeliveryState::Sent, "sent"),
            (DeliveryState::Dead, "dead"),
        ]);
    }
}
