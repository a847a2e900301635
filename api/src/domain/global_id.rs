use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD};

use crate::error::AppError;

/// The kinds of object a global ID can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    User,
    Address,
    Category,
    Product,
    Order,
    /// The shipping address of an order (a snapshot, not an address-book entry).
    OrderAddress,
}

impl NodeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Address => "Address",
            Self::Category => "Category",
            Self::Product => "Product",
            Self::Order => "Order",
            Self::OrderAddress => "OrderAddress",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "User" => Some(Self::User),
            "Address" => Some(Self::Address),
            "Category" => Some(Self::Category),
            "Product" => Some(Self::Product),
            "Order" => Some(Self::Order),
            "OrderAddress" => Some(Self::OrderAddress),
            _ => None,
        }
    }
}

/// A Relay global ID: base64 of `Kind:id`. Clients treat it as opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalId {
    pub kind: NodeKind,
    pub id: i32,
}

impl GlobalId {
    pub fn new(kind: NodeKind, id: i32) -> Self {
        Self { kind, id }
    }

    /// Parses any global ID; `field` names the argument for the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let invalid = || AppError::bad_input(field, "is not a valid ID");
        let bytes = STANDARD.decode(raw.trim()).map_err(|_| invalid())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
        let (kind, id) = text.split_once(':').ok_or_else(invalid)?;
        let kind = NodeKind::parse(kind).ok_or_else(invalid)?;
        let id: i32 = id.parse().map_err(|_| invalid())?;
        if id <= 0 {
            return Err(invalid());
        }
        Ok(Self { kind, id })
    }

    /// Parses a global ID that must name an object of `kind`. A well-formed ID of another
    /// kind names nothing of this kind: NOT_FOUND, as for any missing object.
    pub fn parse_kind(
        raw: &str,
        field: &str,
        kind: NodeKind,
        what: &'static str,
    ) -> Result<i32, AppError> {
        let id = Self::parse(raw, field)?;
        if id.kind == kind {
            Ok(id.id)
        } else {
            Err(AppError::NotFound(what))
        }
    }
}

impl fmt::Display for GlobalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&STANDARD.encode(format!("{}:{}", self.kind.as_str(), self.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_text_form() {
        let id = GlobalId::new(NodeKind::Address, 42);
        assert_eq!(id.to_string(), "QWRkcmVzczo0Mg==");
        assert_eq!(GlobalId::parse(&id.to_string(), "id").ok(), Some(id));
    }

    #[test]
    fn rejects_garbage_unknown_kinds_and_non_positive_numbers() {
        for raw in [
            "",
            "%%%",
            "VXNlcg==",                 // "User"
            "Rm9vOjE=",                 // "Foo:1"
            "VXNlcjow",                 // "User:0"
            "VXNlcjotMQ==",             // "User:-1"
            "VXNlcjo5OTk5OTk5OTk5OTk5", // overflow
        ] {
            assert!(GlobalId::parse(raw, "id").is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn an_id_of_another_kind_is_not_found() {
        let user = GlobalId::new(NodeKind::User, 1).to_string();
        let err = GlobalId::parse_kind(&user, "id", NodeKind::Address, "address");
        assert!(matches!(err, Err(AppError::NotFound("address"))));
    }
}
