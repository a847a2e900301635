use sea_orm::entity::prelude::*;

/// One buyable version of a product (a size, a colour): its own price, stock and SKU.
/// Every product has at least one. Money is integer minor units; `stock` never goes below
/// zero (a CHECK constraint backs the conditional updates that take it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_variants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub product_id: i32,
    /// Display order within the product: the order variants were created in.
    pub position: i32,
    /// A JSON array of `{"name", "value"}` pairs, one per option of the product, in the
    /// product's option order and spelt as the product spells them, so that two equal
    /// combinations are equal strings: a unique index over active variants relies on it.
    #[sea_orm(column_type = "Text")]
    pub selected_options: String,
    #[sea_orm(unique)]
    pub sku: Option<String>,
    pub price_cents: i64,
    /// The "was" price, above `price_cents` when set.
    pub compare_at_cents: Option<i64>,
    pub stock: i32,
    /// A JSON array of http(s) URLs.
    #[sea_orm(column_type = "Text")]
    pub image_urls: String,
    /// Removed from the product while order lines still refer to it.
    pub archived: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
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
