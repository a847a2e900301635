use sea_orm::entity::prelude::*;

/// A discount code customers type at the cart. Worth either a percentage of the subtotal
/// (`percent_off_bp`, basis points) or a fixed amount (`amount_off_cents`): exactly one
/// is set, which the table's CHECKs enforce. Codes are never deleted, only deactivated,
/// so the orders that used one keep it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "discount_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Upper case, so that a code typed in any case is found by equality.
    #[sea_orm(unique)]
    pub code: String,
    /// Hundredths of a percent off, 1 to 10000.
    pub percent_off_bp: Option<i32>,
    /// Cents off, above 0.
    pub amount_off_cents: Option<i64>,
    /// The cart subtotal the code needs, if any.
    pub min_subtotal_cents: Option<i64>,
    /// Total uses over all customers; `None`: unlimited.
    pub usage_limit: Option<i32>,
    /// Uses not given back (orders that are not cancelled).
    pub times_used: i32,
    /// Whether each customer (a user, or a guest's email) may use it once.
    pub once_per_customer: bool,
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::discount_redemption::Entity")]
    DiscountRedemption,
}

impl Related<super::discount_redemption::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DiscountRedemption.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
