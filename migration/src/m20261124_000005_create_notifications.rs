use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_auto(Outbox::Id))
                    .col(string_len(Outbox::Kind, 32))
                    .col(integer(Outbox::UserId))
                    .col(integer_null(Outbox::OrderId))
                    .col(text(Outbox::Payload))
                    .col(string_len_uniq(Outbox::MessageId, 255))
                    .col(string_len(Outbox::Status, 16))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::LockedUntil))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        // What the delivery worker scans: due rows of one status, oldest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .col(pk_auto(PasswordResets::Id))
                    .col(integer(PasswordResets::UserId))
                    .col(string_len_uniq(PasswordResets::TokenHash, 64))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordResets::Table, PasswordResets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [PasswordResets::Table.into_iden(), Outbox::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    UserId,
    OrderId,
    Payload,
    MessageId,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}
