use sea_orm::entity::prelude::*;

use crate::order_status::OrderStatus;

/// An order. Prices, names and the shipping address are snapshots taken at checkout, so
/// later catalog or address-book changes never rewrite what was bought.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub number: String,
    /// `None` for a guest's order.
    pub user_id: Option<i32>,
    /// Where the order's mails go: its user's address at checkout, or the guest's.
    pub email: String,
    pub status: OrderStatus,
    pub total_cents: i64,
    pub currency: String,
    pub ship_full_name: String,
    pub ship_line1: String,
    pub ship_line2: Option<String>,
    pub ship_city: String,
    pub ship_postal_code: String,
    pub ship_country: String,
    /// The client's idempotency key; unique per user, and per cart (a guest's scope).
    pub idempotency_key: Option<String>,
    /// The cart the order was bought from. No foreign key: the cart may be gone (merged,
    /// expired) while the order stays.
    pub cart_id: Option<i32>,
    /// How `total_cents` came about, as checkout priced it (see `domain::pricing`).
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub shipping_cents: i64,
    pub tax_cents: i64,
    /// Whether `tax_cents` is the part of the prices that was tax (not added on top).
    pub tax_included: bool,
    /// Name snapshots: renaming or deleting them later leaves the order as it was bought.
    pub shipping_method: Option<String>,
    pub discount_code: Option<String>,
    /// A PENDING order still PENDING after this moment is abandoned: the sweeper
    /// cancels it and puts its stock back.
    pub expires_at: DateTimeUtc,
    /// Where the parcel is, as recorded when the order was SHIPPED; all three `None`
    /// until then (the URL may stay `None`).
    pub tracking_carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    /// What was refunded so far: refunds asked for and not declined. A CHECK keeps it
    /// between 0 and `total_cents`, and it only changes by conditional updates, so
    /// concurrent refunds can never give back more than was paid.
    pub refunded_cents: i64,
    pub placed_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    User,
    #[sea_orm(has_many = "super::order_item::Entity")]
    OrderItem,
}

impl Related<super::order_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrderItem.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
