use sea_orm_migration::{
    prelude::*,
    schema::string_len_null,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Shipments are tracked and orders can be refunded in parts.
///
/// - `orders.tracking_carrier`, `tracking_number`, `tracking_url`: where the parcel of a
///   SHIPPED order is, as the admin recorded it (NULL until then).
/// - `orders.refunded_cents`: what was refunded so far (refunds asked for and not
///   declined), never below 0 nor above `total_cents` (a CHECK): the conditional update of
///   this column is what keeps concurrent refunds within what was paid. Orders refunded
///   before this migration (cancelled when paid) count their refund.
/// - The ledger may hold many refunds of an order: the unique `(order_id, kind)` index
///   goes, a partial unique index keeps one charge per order, and each refund carries the
///   idempotency key it is sent to the gateway with (`payments.idempotency_key`, unique),
///   so a retry never refunds twice. A refund of the previous release keeps the key it was
///   issued with, `refund-<order number>`, and one it saw fail (which that release retried
///   forever, whatever the failure) is owed again: the sweeper retries pending refunds.
/// - `payments.reason`: why the admin refunded, shown to the customer.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in [
            string_len_null(Orders::TrackingCarrier, 50),
            string_len_null(Orders::TrackingNumber, 100),
            string_len_null(Orders::TrackingUrl, 2_000),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            string_len_null(Payments::IdempotencyKey, 255),
            string_len_null(Payments::Reason, 500),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Payments::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        // SQLite adds a CHECK only with its column (ALTER TABLE has no ADD CONSTRAINT),
        // and checks it against the existing rows, all 0 then.
        let within_total = "CONSTRAINT orders_refunded_within_total \
             CHECK (refunded_cents >= 0 AND refunded_cents <= total_cents)";
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE orders ADD COLUMN refunded_cents bigint NOT NULL DEFAULT 0",
                )
                .await?;
                db.execute_unprepared(&format!("ALTER TABLE orders ADD {within_total}"))
                    .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE orders ADD COLUMN refunded_cents bigint NOT NULL DEFAULT 0 \
                     {within_total}"
                ))
                .await?;
            }
        }

        // At most one refund per order existed, of the whole charge (or, recorded from
        // Stripe's webhook, of what the charge was): capped at the total all the same.
        db.execute_unprepared(
            "UPDATE orders SET refunded_cents = (\
                 SELECT CASE WHEN SUM(p.amount_cents) > orders.total_cents \
                     THEN orders.total_cents ELSE SUM(p.amount_cents) END \
                 FROM payments p WHERE p.order_id = orders.id AND p.kind = 'refund') \
             WHERE EXISTS (SELECT 1 FROM payments p \
                 WHERE p.order_id = orders.id AND p.kind = 'refund')",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE payments SET idempotency_key = 'refund-' || \
                 (SELECT o.number FROM orders o WHERE o.id = payments.order_id) \
             WHERE kind = 'refund'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE payments SET status = 'pending' WHERE kind = 'refund' AND status = 'failed'",
        )
        .await?;

        manager
            .drop_index(
                Index::drop()
                    .name("idx_payments_order_kind")
                    .table(Payments::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payments_idempotency_key")
                    .table(Payments::Table)
                    .col(Payments::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The same statement on both databases: a partial index, which sea-query's
        // builder does not spell for both.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_payments_one_charge ON payments (order_id) \
             WHERE kind = 'charge'",
        )
        .await?;
        // An order's rows, and the sweeper's look for refunds still owed.
        for (name, columns) in [
            ("idx_payments_order", vec![Payments::OrderId, Payments::Id]),
            (
                "idx_payments_kind_status",
                vec![Payments::Kind, Payments::Status, Payments::UpdatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Payments::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // An order refunded in several parts has no place in the one-refund ledger.
        Err(DbErr::Migration(
            "partial refunds cannot be folded back into one refund per order; restore a backup"
                .into(),
        ))
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    TrackingCarrier,
    TrackingNumber,
    TrackingUrl,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    Kind,
    Status,
    IdempotencyKey,
    Reason,
    UpdatedAt,
}
