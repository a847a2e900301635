use sea_orm::entity::prelude::*;

/// The payment ledger: each charge and refund of an order, as the gateway reported it.
/// One charge per order (a partial unique index); any number of refunds, each sent to the
/// gateway under its own idempotency key, so a retried refund never pays out twice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    pub kind: PaymentKind,
    /// The gateway's name, e.g. "test" or "stripe".
    pub gateway: String,
    /// The gateway's id of the charge or refund, once known.
    pub reference: Option<String>,
    pub amount_cents: i64,
    pub status: PaymentStatus,
    /// The key a refund is sent to the gateway with, unique: `refund-<order number>` for
    /// the refund that settles a cancellation or a late payment (and for every refund of
    /// the release before partial refunds), another for each refund an admin makes.
    /// `None` for charges (sent under the order number) and for refunds made outside the
    /// shop (never sent by it).
    pub idempotency_key: Option<String>,
    /// Why an admin refunded, as they wrote it for the customer.
    pub reason: Option<String>,
    /// For a charge that waits for its customer: the secret the client's card form
    /// (Stripe.js, PaymentSheet) finishes the payment with.
    pub client_secret: Option<String>,
    /// For a charge that waits for its customer: the gateway page to send them to.
    pub redirect_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::order::Entity",
        from = "Column::OrderId",
        to = "super::order::Column::Id",
        on_delete = "Cascade"
    )]
    Order,
}

impl ActiveModelBehavior for ActiveModel {}

/// What a ledger row records: money taken, or money given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PaymentKind {
    #[sea_orm(string_value = "charge")]
    Charge,
    #[sea_orm(string_value = "refund")]
    Refund,
}

/// Where a charge or refund stands with the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PaymentStatus {
    /// Not asked for yet, or its answer not recorded yet.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// A charge the gateway takes only once its customer acts (3-D Secure, the
    /// gateway's own page): `client_secret` or `redirect_url` says how.
    #[sea_orm(string_value = "requires_action")]
    RequiresAction,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_stored_names;

    #[test]
    fn ledger_states_are_stored_under_their_lower_case_names() {
        assert_stored_names(&[
            (PaymentKind::Charge, "charge"),
            (PaymentKind::Refund, "refund"),
        ]);
        assert_stored_names(&[
            (PaymentStatus::Pending, "pending"),
            (PaymentStatus::RequiresAction, "requires_action"),
            (PaymentStatus::Succeeded, "succeeded"),
            (PaymentStatus::Failed, "failed"),
        ]);
    }
}
