//! How a client names one record of the catalog: by its ID or by its slug.

use crate::error::AppError;

/// One product or category, by id or by slug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdOrSlug {
    Id(i32),
    /// A slug as given, less surrounding spaces; a slug that no record has finds nothing.
    Slug(String),
}

impl IdOrSlug {
    /// Exactly one of `id` and `slug`; BAD_USER_INPUT on `field` for both or neither.
    pub fn parse(id: Option<i32>, slug: Option<&str>, field: &str) -> Result<Self, AppError> {
        match (id, slug) {
            (Some(id), None) => Ok(Self::Id(id)),
            (None, Some(slug)) => Ok(Self::Slug(slug.trim().to_owned())),
            _ => Err(AppError::bad_input(field, "give either id or slug")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_id_and_slug_is_a_lookup() {
        assert_eq!(
            IdOrSlug::parse(Some(7), None, "id").ok(),
            Some(IdOrSlug::Id(7))
        );
        assert_eq!(
            IdOrSlug::parse(None, Some(" mug "), "id").ok(),
            Some(IdOrSlug::Slug("mug".into()))
        );
    }

    #[test]
    fn both_or_neither_names_the_field() {
        for (id, slug) in [(Some(7), Some("mug")), (None, None)] {
            let err = IdOrSlug::parse(id, slug, "id").expect_err("ambiguous");
            assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "id"));
        }
    }
}
