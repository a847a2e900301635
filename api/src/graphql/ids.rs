//! The IDs clients see. A leaf module: the object types make their IDs here, and the
//! `Node` interface (graphql/node.rs), which lists those types, is not among their imports.

use async_graphql::ID;

use crate::domain::{GlobalId, NodeKind};

/// The ID clients see for an object.
pub fn node_id(kind: NodeKind, id: i32) -> ID {
    ID(GlobalId::new(kind, id).to_string())
}
