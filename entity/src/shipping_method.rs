use sea_orm::entity::prelude::*;

/// A way of delivering an order the shop offers, at a price, to some countries. Money is
/// integer minor units; orders keep the method's name, not a reference to it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipping_methods")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub price_cents: i64,
    /// Free when the discounted subtotal reaches this.
    pub free_over_cents: Option<i64>,
    /// A JSON array of upper-case ISO 3166-1 alpha-2 codes, sorted, without repeats; `[]`
    /// means everywhere. Only `domain::Countries` writes it.
    #[sea_orm(column_type = "Text")]
    pub countries: String,
    /// Delivery takes from `min_days` to `max_days` days; `min_days <= max_days` when both
    /// are set (a CHECK constraint backs it).
    pub min_days: Option<i32>,
    pub max_days: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
