use sea_orm::entity::prelude::*;

/// A webhook event already handled, by the sender's event id. Payment providers deliver
/// at least once, so the same event can arrive twice (or twice at once); inserting its id
/// in the transaction that applies it makes the second delivery a no-op.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    /// The provider's event id, e.g. Stripe's `evt_...`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The event type, e.g. `payment_intent.succeeded`.
    pub kind: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
