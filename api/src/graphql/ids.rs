//! The IDs clients see. A leaf module: the object types make their IDs here, and the
//! `Node` interface (graphql/node.rs), which lists those types, is not among their imports.

use async_graphql::ID;

use crate::{
    domain::{GlobalId, NodeKind},
    error::{AppResult, Refusal},
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

/// The shipping method an input names by `shippingMethodId`, if any. The ID of something
/// else names no shipping method, as an unknown one does: both are refused as a method
/// that does not ship there, not as a missing object.
pub fn shipping_method_id(id: Option<&ID>) -> AppResult<Option<i32>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let id = GlobalId::parse(id, "shippingMethodId")?;
    match id.kind {
        NodeKind::ShippingMethod => Ok(Some(id.id)),
        _ => Err(Refusal::ShippingMethodNotAvailable.into()),
    }
}
