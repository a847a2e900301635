//! The IDs clients see. A leaf module: the object types make their IDs here, and the
//! `Node` interface (graphql/node.rs), which lists those types, is not among their imports.

use async_graphql::ID;

use crate::{
    domain::{GlobalId, NodeKind},
    error::AppResult,
};

/// The ID clients see for an object.
pub fn node_id(kind: NodeKind, id: i32) -> ID {
    ID(GlobalId::new(kind, id).to_string())
}

/// The ID of an object of one `kind` given as the input `field`; an ID of another kind
/// is NOT_FOUND, as `what`.
pub fn required_id(id: &ID, field: &str, kind: NodeKind, what: &'static str) -> AppResult<i32> {
    GlobalId::parse_kind(id, field, kind, what)
}
