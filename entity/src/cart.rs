use sea_orm::entity::prelude::*;

/// A cart: a user's (one per user, created on first use) or a guest's (no user, found by
/// the hash of its secret id). Its lines are `cart_item`s.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub user_id: Option<i32>,
    /// SHA-256 (hex) of a guest cart's secret id; `None` for a user's cart.
    #[sea_orm(unique)]
    pub secret_hash: Option<String>,
    /// The PENDING order whose checkout holds this cart: while set, a second checkout and
    /// changes to the cart are refused, so one cart is never bought twice at once.
    pub checkout_order_id: Option<i32>,
    /// The discount code applied to the cart, if any; checkout checks it again.
    pub discount_code_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
