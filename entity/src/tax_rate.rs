use sea_orm::entity::prelude::*;

/// The tax rate of one country, in hundredths of a percent ("20.00" is 2000).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tax_rates")]
pub struct Model {
    /// The upper-case ISO 3166-1 alpha-2 code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub country: String,
    /// From 0 to 10,000 (100%; a CHECK constraint backs it).
    pub rate_basis_points: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
