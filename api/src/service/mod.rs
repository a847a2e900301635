//! Every business rule, with no GraphQL in sight: each function takes the database, the
//! caller and parsed input, so the CLI and tests can call it directly.

pub mod accounts;
pub mod pagination;
pub mod sessions;
pub mod throttle;
mod viewer;

pub use viewer::{Viewer, require_admin};
