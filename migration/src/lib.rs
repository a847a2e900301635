//! Schema migrations, one file per change. A migration that has landed is never edited:
//! a later change gets a new file.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_accounts;
mod m20261124_000002_create_catalog;
mod m20261124_000003_create_orders;
mod m20261124_000004_search_words_as_queries_split_them;
mod m20261124_000005_create_notifications;
mod m20261124_000006_index_archived_products_for_search_counts;
mod m20261202_043000_create_write_probes;
mod m20261202_093000_record_refresh_token_successors;
mod m20261202_120000_give_products_variants;
mod m20261202_140000_let_guests_shop;
mod m20261202_150000_save_carts;
mod m20261202_150000_verify_email_addresses;
mod m20261203_090000_store_countries_as_codes;
mod m20261203_090100_give_address_books_a_default;
mod m20261204_090000_offer_shipping_and_tax;
mod m20261204_090100_offer_discount_codes;
mod m20261204_090200_record_tracking_and_partial_refunds;
mod m20261204_090300_snapshot_order_totals;
mod m20261205_090000_let_customers_finish_payments;
mod m20261206_090000_record_search_changes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_accounts::Migration),
            Box::new(m20261124_000002_create_catalog::Migration),
            Box::new(m20261124_000003_create_orders::Migration),
            Box::new(m20261124_000004_search_words_as_queries_split_them::Migration),
            Box::new(m20261124_000005_create_notifications::Migration),
            Box::new(m20261124_000006_index_archived_products_for_search_counts::Migration),
            Box::new(m20261202_043000_create_write_probes::Migration),
            Box::new(m20261202_093000_record_refresh_token_successors::Migration),
            Box::new(m20261202_120000_give_products_variants::Migration),
            Box::new(m20261202_140000_let_guests_shop::Migration),
            Box::new(m20261202_150000_save_carts::Migration),
            Box::new(m20261203_090000_store_countries_as_codes::Migration),
            Box::new(m20261203_090100_give_address_books_a_default::Migration),
            Box::new(m20261202_150000_verify_email_addresses::Migration),
            Box::new(m20261204_090000_offer_shipping_and_tax::Migration),
            Box::new(m20261204_090100_offer_discount_codes::Migration),
            Box::new(m20261204_090200_record_tracking_and_partial_refunds::Migration),
            Box::new(m20261204_090300_snapshot_order_totals::Migration),
            Box::new(m20261205_090000_let_customers_finish_payments::Migration),
            Box::new(m20261206_090000_record_search_changes::Migration),
        ]
    }
}
