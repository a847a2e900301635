//! shop-core: the typed core of the shop server, everything a request does once its input
//! is parsed: [`domain`] types that cannot hold invalid values, [`service`] functions that
//! hold every business rule, and what they need ([`auth`], [`payments`], [`db`], the one
//! [`error::AppError`]).
//!
//! It is a crate of its own so that the compiler keeps the boundary: it does not depend on
//! async-graphql, axum or any other HTTP server crate, so no GraphQL type, context or
//! field name can leak into a service, and the CLI and tests can call every service
//! without a schema. The server crate (`shop`) re-exports these modules under the same
//! paths and adds the edge: HTTP, GraphQL, mail and telemetry.

pub mod auth;
pub mod db;
pub mod domain;
pub mod error;
pub mod payments;
pub mod service;
