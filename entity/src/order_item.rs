use sea_orm::entity::prelude::*;

/// One line of an order, with the product's name, the variant's title, SKU and price as
/// they were at checkout.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    /// Products that orders refer to cannot be deleted (the foreign key restricts it);
    /// they are archived instead.
    pub product_id: i32,
    /// Like products, variants that orders refer to are archived, not deleted; `None` only
    /// where a variant is gone after all.
    pub variant_id: Option<i32>,
    pub product_name: String,
    pub variant_title: String,
    pub sku: Option<String>,
    pub unit_price_cents: i64,
    pub quantity: i32,
    pub line_total_cents: i64,
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
    #[sea_orm(
        belongs_to = "super::product::Entity",
        from = "Column::ProductId",
        to = "super::product::Column::Id",
        on_delete = "Restrict"
    )]
    Product,
}

impl Related<super::order::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Order.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
