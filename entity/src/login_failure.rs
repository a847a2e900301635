use sea_orm::entity::prelude::*;

/// One failed login, kept in the database (not in process memory) so that throttling holds
/// across every server process sharing the database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The lower-cased username or email that was tried, whether or not it exists.
    pub account_key: String,
    pub client_addr: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
