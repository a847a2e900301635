use sea_orm::entity::prelude::*;

/// An order's use of a discount code (an order uses at most one). Deleted when the use is
/// given back (the order is cancelled), together with the decrement of the code's
/// `times_used`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "discount_redemptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub discount_code_id: i32,
    #[sea_orm(unique)]
    pub order_id: i32,
    /// Who used a once-per-customer code: "user:<id>" or "email:<lower-cased address>";
    /// `None` for other codes. Unique with the code, so a customer's second use of a
    /// once-per-customer code fails in the database, whichever process tries it.
    pub customer_key: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::discount_code::Entity",
        from = "Column::DiscountCodeId",
        to = "super::discount_code::Column::Id",
        on_delete = "Restrict"
    )]
    DiscountCode,
    #[sea_orm(
        belongs_to = "super::order::Entity",
        from = "Column::OrderId",
        to = "super::order::Column::Id",
        on_delete = "Cascade"
    )]
    Order,
}

impl Related<super::discount_code::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DiscountCode.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
