use sea_orm::entity::prelude::*;

/// The payment ledger: each charge and refund of an order, as the gateway reported it.
/// At most one of each kind per order (a unique index), which is what makes a refund
/// happen once however many cancellations race.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    /// "charge" or "refund".
    pub kind: String,
    /// The gateway's name, e.g. "test" or "stripe".
    pub gateway: String,
    /// The gateway's id of the charge or refund, once known.
    pub reference: Option<String>,
    pub amount_cents: i64,
    /// "pending", "succeeded" or "failed".
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::order::Entity",
        from = "Column::OrderId",
        to = "super::order::Column::Id",
        on_delete = "Cascade"
    )]
    Order,
}

impl ActiveModelBehavior for ActiveModel {}
