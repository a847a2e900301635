use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Email verification (issue 14). `users.email_verified_at` says when the account's
/// current address was proven by a link sent to it; NULL is unverified, which is what
/// every account of an earlier release becomes: nothing ever proved their addresses, and
/// they can ask for a link with `requestEmailVerification`.
///
/// `email_verifications` holds the links' tokens like `password_resets` does: only a
/// SHA-256 of each, single-use, expiring, and bound to the address (`email_key`) it was
/// sent to, so that a link for an old address can never verify a new one.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailVerifications::Table)
                    .col(pk_auto(EmailVerifications::Id))
                    .col(integer(EmailVerifications::UserId))
                    .col(string_len(EmailVerifications::EmailKey, 254))
                    .col(string_len_uniq(EmailVerifications::TokenHash, 64))
                    .col(timestamp_with_time_zone(EmailVerifications::ExpiresAt))
                    .col(timestamp_with_time_zone_null(EmailVerifications::UsedAt))
                    .col(timestamp_with_time_zone(EmailVerifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailVerifications::Table, EmailVerifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_verifications_user")
                    .table(EmailVerifications::Table)
                    .col(EmailVerifications::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmailVerifications::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::EmailVerifiedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    EmailVerifiedAt,
}

#[derive(DeriveIden)]
enum EmailVerifications {
    Table,
    Id,
    UserId,
    EmailKey,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}
