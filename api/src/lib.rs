//! shop: an e-commerce backend served as a GraphQL API.
//!
//! A request flows HTTP ([`http`]) -> GraphQL ([`graphql`]) -> services ([`service`]) ->
//! SeaORM entities. Input is parsed into [`domain`] types at the edge; every failure is one
//! [`error::AppError`], mapped once to a GraphQL error code.
//!
//! The services, the domain types and what they need ([`auth`], [`payments`], [`db`],
//! [`error`]) are the crate `shop_core` (api/core/), which depends on neither
//! async-graphql nor axum: the compiler keeps GraphQL and HTTP on this side of the
//! boundary. They are re-exported here under the paths they always had.

pub mod cli;
pub mod config;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod server;
pub mod telemetry;

// The typed core, under the paths the rest of the server (and the tests) always used.
pub use shop_core::{auth, db, domain, error, payments, service};
