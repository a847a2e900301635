use sea_orm_migration::{prelude::*, schema::integer_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Which refresh token each one was rotated from. A client that presents a just-rotated
/// token again (two tabs refreshing at once) gets that token's successor back instead of
/// revoking its session, so the server must find the successor of a token; only hashes are
/// stored, so the link is the way back from the presented token to what replaced it.
///
/// Unique: a token is exchanged for at most one successor, whatever races happen (NULLs,
/// the heads of families, do not collide on SQLite or PostgreSQL). No foreign key: SQLite
/// cannot add one to an existing table, and rows only ever go with their user, whole
/// families at once.
const INDEX: &str = "idx_refresh_tokens_rotated_from";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(integer_null(RefreshTokens::RotatedFrom))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::RotatedFrom)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(RefreshTokens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::RotatedFrom)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    RotatedFrom,
}
