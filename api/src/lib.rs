//! shop: an e-commerce backend served as a GraphQL API.
//!
//! A request flows HTTP ([`http`]) -> GraphQL ([`graphql`]) -> services ([`service`]) ->
//! SeaORM entities. Input is parsed into [`domain`] types at the edge; every failure is one
//! [`error::AppError`], mapped once to a GraphQL error code.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod payments;
pub mod server;
pub mod service;
pub mod telemetry;
