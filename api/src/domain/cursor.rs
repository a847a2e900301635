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
