//! Values that only the catalog has: SKUs and image URLs.

use std::fmt;

use crate::error::AppError;

/// A stock-keeping unit: 1 to 64 letters, digits, `-`, `_` or `.`, stored upper-cased so
/// that uniqueness ignores case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        let valid = (1..=64).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(Self(raw.to_ascii_uppercase()))
        } else {
            Err(AppError::bad_input(
                "sku",
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

/// The most images one product may have.
pub const MAX_IMAGES: usize = 20;

/// Absolute http(s) URLs of product images, at most [`MAX_IMAGES`], each at most 2,048
/// characters.
pub fn parse_image_urls(raw: &[String]) -> Result<Vec<String>, AppError> {
    if raw.len() > MAX_IMAGES {
        return Err(AppError::bad_input(
            "imageUrls",
            format!("at most {MAX_IMAGES} images per product"),
        ));
    }
    raw.iter()
        .map(|raw| {
            let invalid =
                || AppError::bad_input("imageUrls", format!("{raw:?} is not an http(s) URL"));
            if raw.len() > 2048 {
                return Err(invalid());
            }
            let url = url::Url::parse(raw.trim()).map_err(|_| invalid())?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(invalid());
            }
            Ok(url.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_upper_cased_and_restricted() {
        assert_eq!(
            Sku::parse(" ab-12.x_9 ").map(|s| s.0).ok().as_deref(),
            Some("AB-12.X_9")
        );
        for bad in ["", "a b", "ü", &"a".repeat(65)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_absolute_http_urls_are_images() {
        assert!(parse_image_urls(&["https://cdn.example.com/a.png".into()]).is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.com/a",
            "/relative.png",
            "https://",
            "data:image/png;base64,AA",
        ] {
            assert!(parse_image_urls(&[bad.into()]).is_err(), "{bad:?}");
        }
        let many = vec!["https://x.com/a.png".to_string(); MAX_IMAGES + 1];
        assert!(parse_image_urls(&many).is_err());
    }
}
