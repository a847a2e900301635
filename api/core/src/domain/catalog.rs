//! Values that only the catalog has: names and descriptions of its bounds, SKUs, stock
//! and image URLs.

use std::fmt;

use super::text::{Description, Name};
use crate::error::AppError;

/// A product's name: 1 to 200 characters.
pub type ProductName = Name<200>;
/// A product's description: up to 10,000 characters of plain text.
pub type ProductDescription = Description<10_000>;
/// A category's name: 1 to 100 characters.
pub type CategoryName = Name<100>;
/// A category's description: up to 2,000 characters; an empty one is none.
pub type CategoryDescription = Description<2_000>;
/// The name a user gives a saved cart: 1 to 100 characters.
pub type SavedCartName = Name<100>;

/// A stock-keeping unit: 1 to 64 letters, digits, `-`, `_` or `.`, stored upper-cased so
/// that uniqueness ignores case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sku(String);

impl Sku {
    /// `field` is the input the SKU came in, for the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        let valid = (1..=64).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(Self(raw.to_ascii_uppercase()))
        } else {
            Err(AppError::bad_input(
                field,
                "must be 1 to 64 letters, digits, '-', '_' or '.'",
            ))
        }
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Units of a product in stock: a whole number from 0 to [`Stock::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stock(i32);

impl Stock {
    /// The most units of one product the shop can hold.
    pub const MAX: i32 = 1_000_000;

    /// `field` is the input the number came in, for the error.
    pub fn parse(units: i32, field: &str) -> Result<Self, AppError> {
        if (0..=Self::MAX).contains(&units) {
            Ok(Self(units))
        } else {
            Err(AppError::bad_input(
                field,
                format!("must be a whole number from 0 to {}", Self::MAX),
            ))
        }
    }

    pub fn units(self) -> i32 {
        self.0
    }
}

/// The most images one product may have.
pub const MAX_IMAGES: usize = 20;

/// Absolute http(s) URLs of a product's images in display order, at most [`MAX_IMAGES`],
/// each at most 2,048 characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageUrls(Vec<String>);

impl ImageUrls {
    /// `field` is the input the URLs came in, for the error.
    pub fn parse(raw: &[String], field: &str) -> Result<Self, AppError> {
        if raw.len() > MAX_IMAGES {
            return Err(AppError::bad_input(
                field,
                format!("at most {MAX_IMAGES} images per product"),
            ));
        }
        raw.iter()
            .map(|raw| {
                let invalid =
                    || AppError::bad_input(field, format!("{raw:?} is not an http(s) URL"));
                if raw.len() > 2048 {
                    return Err(invalid());
                }
                let url = url::Url::parse(raw.trim()).map_err(|_| invalid())?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(invalid());
                }
                // Normalising percent-encodes non-ASCII and spaces, up to nine times as
                // long, so the limit is on what is stored: a client can send back what it
                // read.
                let url = url.to_string();
                if url.len() > 2048 {
                    return Err(invalid());
                }
                Ok(url)
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The URLs as a row holds them: a JSON array.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    /// The URLs a row holds. A row only ever holds what [`ImageUrls::to_stored`] wrote.
    pub fn from_stored(stored: &str) -> Vec<String> {
        serde_json::from_str(stored).unwrap_or_default()
    }
}

/// The URLs [`ImageUrls::parse`] makes of `raw`, for the tests.
#[cfg(test)]
fn images(raw: &[String]) -> Result<Vec<String>, AppError> {
    ImageUrls::parse(raw, "imageUrls").map(|urls| urls.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_is_a_whole_number_from_zero_to_a_million_naming_its_field() {
        for units in [0, 1, Stock::MAX] {
            assert_eq!(
                Stock::parse(units, "stock").map(Stock::units).ok(),
                Some(units)
            );
        }
        for units in [-1, Stock::MAX + 1, i32::MIN] {
            let err = Stock::parse(units, "stock").expect_err("out of range");
            assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "stock"));
        }
    }

    #[test]
    fn image_refusals_name_the_field_they_are_given() {
        let err = ImageUrls::parse(&["nope".into()], "imageUrls").expect_err("not a URL");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "imageUrls"));
    }

    #[test]
    fn skus_are_upper_cased_and_restricted() {
        assert_eq!(
            Sku::parse(" ab-12.x_9 ", "sku")
                .map(|s| s.0)
                .ok()
                .as_deref(),
            Some("AB-12.X_9")
        );
        for bad in ["", "a b", "ü", &"a".repeat(65)] {
            assert!(Sku::parse(bad, "sku").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_absolute_http_urls_are_images() {
        assert!(images(&["https://cdn.example.com/a.png".into()]).is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.com/a",
            "/relative.png",
            "https://",
            "data:image/png;base64,AA",
        ] {
            assert!(images(&[bad.into()]).is_err(), "{bad:?}");
        }
        // Found by a property test: 1,000 characters that percent-encode to 9,000 were
        // accepted, and that stored URL was refused when a client sent it back.
        let encoded = format!("https://x.com/{}", "\u{e000}".repeat(1_000));
        assert!(images(&[encoded]).is_err());
        let many = vec!["https://x.com/a.png".to_string(); MAX_IMAGES + 1];
        assert!(images(&many).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    /// URLs as a client might send them: http(s) or not, with awkward hosts, paths,
    /// queries and fragments in any script.
    fn url_text() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            4 => Just("https://"),
            2 => Just("http://"),
            1 => Just("ftp://"),
            1 => Just("javascript:"),
            1 => Just("HTTPS://"),
            1 => Just(""),
        ];
        let host = prop_oneof![
            "[a-z0-9-]{1,12}(\\.[a-z0-9-]{1,12}){0,3}",
            "[0-9]{1,3}(\\.[0-9]{1,3}){3}",
            "\\[[0-9a-f:]{2,20}\\]",
            "\\PC{1,8}",
        ];
        let rest = prop_oneof![
            "(/[a-zA-Z0-9._%-]{0,20}){0,4}(\\?[a-z=&]{0,12})?(#[a-z]{0,6})?",
            "/\\PC{0,40}",
            (any::<char>(), 0..1_200usize)
                .prop_map(|(c, n)| format!("/{}", c.to_string().repeat(n))),
        ];
        near((scheme, host, rest).prop_map(|(scheme, host, rest)| format!("{scheme}{host}{rest}")))
    }

    proptest! {
        #[test]
        fn an_accepted_sku_is_1_to_64_upper_case_letters_digits_hyphens_underscores_or_dots(
            raw in prop_oneof![any_text(), near("[A-Za-z0-9._-]{1,64}".prop_map(String::from))],
        ) {
            if let Ok(sku) = Sku::parse(&raw, "sku") {
                let text = sku.to_string();
                prop_assert!((1..=64).contains(&text.len()));
                let allowed = |c: char| {
                    c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
                };
                prop_assert!(text.chars().all(allowed), "{text}");
                prop_assert_eq!(&text, &raw.trim().to_ascii_uppercase());
                prop_assert_eq!(Sku::parse(&text, "sku").ok(), Some(sku));
            }
        }

        #[test]
        fn skus_that_differ_only_in_case_are_the_same_sku(raw in "[A-Za-z0-9._-]{1,64}") {
            let lower = Sku::parse(&raw.to_ascii_lowercase(), "sku").expect("valid");
            prop_assert_eq!(Sku::parse(&raw, "sku").ok(), Some(lower));
        }

        #[test]
        fn accepted_image_urls_are_at_most_20_absolute_http_urls_of_at_most_2048_characters(
            raw in prop::collection::vec(prop_oneof![url_text(), any_text()], 0..=22),
        ) {
            if let Ok(urls) = images(&raw) {
                prop_assert!(urls.len() <= MAX_IMAGES);
                prop_assert_eq!(urls.len(), raw.len());
                for url in &urls {
                    prop_assert!(url.chars().count() <= 2048, "{} characters", url.len());
                    let parsed = url::Url::parse(url).expect("a URL");
                    prop_assert!(matches!(parsed.scheme(), "http" | "https"));
                    prop_assert!(parsed.host().is_some());
                }
            }
        }

        #[test]
        fn accepted_image_urls_are_accepted_again_unchanged(
            raw in prop::collection::vec(url_text(), 0..=3),
        ) {
            if let Ok(urls) = images(&raw) {
                prop_assert_eq!(images(&urls).ok(), Some(urls));
            }
        }
    }
}
