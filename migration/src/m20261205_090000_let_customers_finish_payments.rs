use sea_orm_migration::{prelude::*, schema::string_len_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A charge may wait for its customer (3-D Secure, a gateway's own page) before the
/// gateway takes the money. Its ledger row then says what the customer must do:
///
/// - `payments.client_secret`: for a card that needs authentication in the customer's
///   browser or app (Stripe's PaymentIntent client secret, handed to Stripe.js);
/// - `payments.redirect_url`: for a gateway page the customer is sent to (PayPal's
///   approval page, the test gateway's authentication page).
///
/// Both NULL for every other charge. The charge's status gains the value
/// `requires_action` (the column is free text; nothing to change there).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_len_null(Payments::ClientSecret, 500),
            string_len_null(Payments::RedirectUrl, 2_000),
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Payments::ClientSecret, Payments::RedirectUrl] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Payments::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    ClientSecret,
    RedirectUrl,
}
