use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD};

use crate::error::AppError;

/// The kinds of object a global ID can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    User,
    Address,
    /// A user's cart (guest carts are named by their secret instead).
    Cart,
    Category,
    Product,
    ProductVariant,
    Order,
    /// A user's saved cart.
    SavedCart,
    /// The shipping address of an order (a snapshot, not an address-book entry).
    OrderAddress,
    ShippingMethod,
    /// A discount code (admins only).
    DiscountCode,
}

impl NodeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Address => "Address",
            Self::Cart => "Cart",
            Self::Category => "Category",
            Self::Product => "Product",
            Self::ProductVariant => "ProductVariant",
            Self::Order => "Order",
            Self::SavedCart => "SavedCart",
            Self::OrderAddress => "OrderAddress",
            Self::ShippingMethod => "ShippingMethod",
            Self::DiscountCode => "DiscountCode",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "User" => Some(Self::User),
            "Address" => Some(Self::Address),
            "Cart" => Some(Self::Cart),
            "Category" => Some(Self::Category),
            "Product" => Some(Self::Product),
            "ProductVariant" => Some(Self::ProductVariant),
            "Order" => Some(Self::Order),
            "SavedCart" => Some(Self::SavedCart),
            "OrderAddress" => Some(Self::OrderAddress),
            "ShippingMethod" => Some(Self::ShippingMethod),
            "DiscountCode" => Some(Self::DiscountCode),
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
        let number: i32 = id.parse().map_err(|_| invalid())?;
        // Only the form this server prints ("User:7", never "User:07" or "User:+7"), so
        // that one object has one ID and clients may compare IDs as text.
        if number <= 0 || number.to_string() != id {
            return Err(invalid());
        }
        Ok(Self { kind, id: number })
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

/// The IDs of one request for many objects (`nodes(ids:)`): at most [`GlobalIds::MAX`],
/// each well-formed, in the order given, repeats kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalIds(Vec<GlobalId>);

impl GlobalIds {
    /// The most IDs one request may name, as many as a page holds.
    pub const MAX: usize = 100;

    /// Parses every ID; `field` names the argument for the error, which says which ID is
    /// malformed.
    pub fn parse<S: AsRef<str>>(raw: &[S], field: &str) -> Result<Self, AppError> {
        if raw.len() > Self::MAX {
            return Err(AppError::bad_input(
                field,
                format!("at most {} IDs at once, not {}", Self::MAX, raw.len()),
            ));
        }
        raw.iter()
            .enumerate()
            .map(|(index, raw)| {
                GlobalId::parse(raw.as_ref(), field).map_err(|_| {
                    AppError::bad_input(field, format!("the ID at index {index} is not valid"))
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn as_slice(&self) -> &[GlobalId] {
        &self.0
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
            "VXNlcjowMQ==",             // "User:01", found by a property test
            "VXNlcjorMQ==",             // "User:+1"
        ] {
            assert!(GlobalId::parse(raw, "id").is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn up_to_a_hundred_ids_parse_in_their_order_and_more_are_refused() {
        let ids: Vec<String> = (1..=101)
            .map(|id| GlobalId::new(NodeKind::Product, id).to_string())
            .collect();

        let hundred = GlobalIds::parse(&ids[..100], "ids").expect("100 are fine");
        let too_many = GlobalIds::parse(&ids, "ids");
        let none = GlobalIds::parse::<&str>(&[], "ids").expect("none is fine");

        assert_eq!(hundred.as_slice().len(), 100);
        assert_eq!(hundred.as_slice()[41], GlobalId::new(NodeKind::Product, 42));
        assert_eq!(
            too_many
                .err()
                .and_then(|err| err.bad_input_field().map(str::to_owned)),
            Some("ids".to_owned())
        );
        assert!(none.as_slice().is_empty());
    }

    #[test]
    fn one_malformed_id_refuses_them_all_naming_its_index() {
        let good = GlobalId::new(NodeKind::User, 1).to_string();

        let err =
            GlobalIds::parse(&[good.as_str(), good.as_str(), "%%%"], "ids").expect_err("refused");

        assert_eq!(err.bad_input_field(), Some("ids"));
        assert!(err.to_string().contains("index 2"), "{err}");
    }

    #[test]
    fn an_id_of_another_kind_is_not_found() {
        let user = GlobalId::new(NodeKind::User, 1).to_string();
        let err = GlobalId::parse_kind(&user, "id", NodeKind::Address, "address");
        assert!(matches!(err, Err(AppError::NotFound("address"))));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    const KINDS: [NodeKind; 11] = [
        NodeKind::User,
        NodeKind::Address,
        NodeKind::Cart,
        NodeKind::Category,
        NodeKind::Product,
        NodeKind::ProductVariant,
        NodeKind::Order,
        NodeKind::SavedCart,
        NodeKind::OrderAddress,
        NodeKind::ShippingMethod,
        NodeKind::DiscountCode,
    ];

    fn kind() -> impl Strategy<Value = NodeKind> {
        prop::sample::select(KINDS.to_vec())
    }

    /// Base64 of `Kind:number` written every way a number can be, and near misses.
    fn encoded_text() -> impl Strategy<Value = String> {
        let number = "[ +-]?0{0,3}[0-9]{1,11}[ ]?";
        let kind = prop_oneof![kind().prop_map(|k| k.as_str().to_owned()), "[A-Za-z]{0,13}"];
        (kind, number)
            .prop_flat_map(|(kind, number)| near(Just(format!("{kind}:{number}"))))
            .prop_map(|text| STANDARD.encode(text))
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(raw in prop_oneof![any_text(), encoded_text()]) {
            let _ = GlobalId::parse(&raw, "id");
        }

        #[test]
        fn a_global_id_survives_formatting_and_parsing(kind in kind(), id in 1..=i32::MAX) {
            let global = GlobalId::new(kind, id);
            prop_assert_eq!(GlobalId::parse(&global.to_string(), "id").ok(), Some(global));
        }

        #[test]
        fn an_id_is_accepted_only_in_the_one_form_it_is_printed_in(raw in encoded_text()) {
            if let Ok(global) = GlobalId::parse(&raw, "id") {
                prop_assert!(global.id > 0);
                prop_assert_eq!(global.to_string(), raw.trim());
            }
        }

        #[test]
        fn a_number_that_is_not_positive_is_no_id(kind in kind(), id in i32::MIN..=0) {
            prop_assert!(GlobalId::parse(&GlobalId::new(kind, id).to_string(), "id").is_err());
        }

        #[test]
        fn an_id_names_an_object_of_its_own_kind_only(
            kind in kind(),
            wanted in kind(),
            id in 1..=i32::MAX,
        ) {
            let raw = GlobalId::new(kind, id).to_string();
            let found = GlobalId::parse_kind(&raw, "id", wanted, "object");
            if kind == wanted {
                prop_assert_eq!(found.ok(), Some(id));
            } else {
                prop_assert!(matches!(found, Err(AppError::NotFound("object"))));
            }
        }
    }
}
