use sea_orm::entity::prelude::*;

/// A product of the catalog. What is bought is one of its variants; `price_cents`,
/// `stock` and `sku` sum up its active variants (the lowest price, the total stock, the
/// first variant's SKU) and change in the same transaction as they do, so that browsing
/// filters and sorts one indexed table.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    #[sea_orm(unique)]
    pub slug: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(unique)]
    pub sku: Option<String>,
    pub price_cents: i64,
    pub stock: i32,
    pub category_id: Option<i32>,
    /// A JSON array of `{"name", "values"}`: the options its variants choose from, in
    /// display order; `[]` for a product with a single variant.
    #[sea_orm(column_type = "Text")]
    pub options: String,
    /// A JSON array of http(s) URLs.
    #[sea_orm(column_type = "Text")]
    pub image_urls: String,
    /// Hidden from browsing, kept for the orders that refer to it.
    pub archived: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::category::Entity",
        from = "Column::CategoryId",
        to = "super::category::Column::Id",
        on_delete = "Restrict"
    )]
    Category,
}

impl Related<super::category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Category.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
