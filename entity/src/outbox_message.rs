use sea_orm::entity::prelude::*;

/// A message to deliver, written in the same transaction as the change it announces: a
/// rolled-back change leaves no row, a committed one always has one. The delivery worker
/// renders and sends it, retrying with backoff.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// "welcome", "order_status" or "password_reset".
    pub kind: String,
    pub user_id: i32,
    pub order_id: Option<i32>,
    /// Kind-specific data as JSON. A password reset's is emptied once sent (its token must
    /// not linger); an order status change keeps its statuses, which subscriptions read.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// Stable per row, so a receiving server can drop a retried duplicate.
    pub message_id: String,
    /// "pending", "sent" or "dead".
    pub status: String,
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
