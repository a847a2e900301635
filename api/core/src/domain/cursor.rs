use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::AppError;

/// A keyset position in a sorted list: the id of the row (the final tie-breaker) and, for
/// lists sorted by something else, that sort value in text form. Opaque to clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub id: i32,
    pub sort_value: Option<String>,
}

impl Cursor {
    pub fn from_id(id: i32) -> Self {
        Self {
            id,
            sort_value: None,
        }
    }

    pub fn encode(&self) -> String {
        let text = match &self.sort_value {
            Some(value) => format!("{}:{value}", self.id),
            None => self.id.to_string(),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(raw: &str, field: &str) -> Result<Self, AppError> {
        let invalid = || AppError::bad_input(field, "is not a valid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (id, sort_value) = match text.split_once(':') {
            Some((id, value)) => (id, Some(value.to_owned())),
            None => (text.as_str(), None),
        };
        let id = id.parse().map_err(|_| invalid())?;
        Ok(Self { id, sort_value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_and_without_a_sort_value() {
        for cursor in [
            Cursor::from_id(7),
            Cursor {
                id: 3,
                sort_value: Some("a:b:c".into()),
            },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode(), "after").ok(), Some(cursor));
        }
    }

    #[test]
    fn rejects_text_that_no_cursor_encodes_to() {
        for raw in ["", "!!", "eA", "MTp4Onk=="] {
            assert!(
                Cursor::decode(raw, "after").is_err(),
                "{raw:?} was accepted"
            );
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    fn any_cursor() -> impl Strategy<Value = Cursor> {
        (any::<i32>(), proptest::option::of(any_text()))
            .prop_map(|(id, sort_value)| Cursor { id, sort_value })
    }

    /// Text that decodes as base64, of what a cursor holds or nearly.
    fn encoded_text() -> impl Strategy<Value = String> {
        prop_oneof![
            near("[+-]?[0-9]{1,12}(:[a-z0-9:.-]{0,12})?".prop_map(String::from)),
            any_text(),
        ]
        .prop_map(|text| URL_SAFE_NO_PAD.encode(text))
    }

    proptest! {
        #[test]
        fn decoding_any_text_never_panics(raw in prop_oneof![any_text(), encoded_text()]) {
            let _ = Cursor::decode(&raw, "after");
        }

        #[test]
        fn a_cursor_survives_encoding_and_decoding(cursor in any_cursor()) {
            prop_assert_eq!(Cursor::decode(&cursor.encode(), "after").ok(), Some(cursor));
        }

        #[test]
        fn an_encoded_cursor_is_url_safe(cursor in any_cursor()) {
            let text = cursor.encode();
            prop_assert!(
                text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{text}"
            );
        }

        #[test]
        fn an_accepted_cursor_means_the_same_once_encoded_again(raw in encoded_text()) {
            if let Ok(cursor) = Cursor::decode(&raw, "after") {
                prop_assert_eq!(Cursor::decode(&cursor.encode(), "after").ok(), Some(cursor));
            }
        }
    }
}
