use sea_orm::entity::prelude::*;

/// The one row `/readyz` rewrites to learn whether the database takes a write: a
/// database that answers reads can still refuse every write (a full disk, a read-only
/// replica after a failover), and only a write that commits tells the two apart.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "write_probes")]
pub struct Model {
    /// Always 1: every process rewrites the same row, so the table never grows.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub probed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
