//! End-to-end tests: each test spawns its own server on a random port with its own fresh
//! database (a temp SQLite file, or a new PostgreSQL database when SHOP_TEST_POSTGRES_URL
//! is set) and talks GraphQL to it over HTTP, as a storefront would.

mod store;
mod support;

mod accounts;
mod addresses;
mod admin;
mod admin_guard;
mod browse;
mod cart;
mod cart_claims;
mod catalog;
mod checkout;
mod cli;
mod compression;
mod concurrency;
mod crash;
mod discounts;
mod email_verification;
mod full_disk;
mod graphiql;
mod guests;
mod http;
mod http_audit;
mod limits;
mod metrics;
mod nodes;
mod notifications;
mod orders;
mod password_reset;
mod payment_methods;
mod paypal;
mod persisted_queries;
mod processes;
mod refunds;
mod request_log;
mod saved_carts;
mod schema;
mod sessions;
mod shipping;
mod storefront;
mod stripe;
mod subscriptions;
mod three_d_secure;
mod throttle;
mod totals;
mod upgrade;
mod upgrade_addresses;
mod variants;
