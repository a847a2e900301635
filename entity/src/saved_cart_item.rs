use sea_orm::entity::prelude::*;

/// One line of a saved cart: a variant and how many units of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "saved_cart_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub saved_cart_id: i32,
    /// The variant's product, kept for the joins.
    pub product_id: i32,
    pub variant_id: i32,
    pub quantity: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::saved_cart::Entity",
        from = "Column::SavedCartId",
        to = "super::saved_cart::Column::Id",
        on_delete = "Cascade"
    )]
    SavedCart,
    #[sea_orm(
        belongs_to = "super::product::Entity",
        from = "Column::ProductId",
        to = "super::product::Column::Id",
        on_delete = "Cascade"
    )]
    Product,
}

impl Related<super::product::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Product.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
