use sea_orm::entity::prelude::*;

/// A postal address kept in a user's address book. `country` is an ISO 3166-1 alpha-2
/// code, except in an address saved before codes were required whose country could not
/// be recognised, which keeps the text it was saved with.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "addresses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub created_at: DateTimeUtc,
    /// The user's default address: exactly one of a user's addresses, if they have any
    /// (at most one is the database's to keep: a partial unique index).
    pub is_default: bool,
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

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
