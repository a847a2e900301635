use crate::error::AppError;

/// Trimmed free text of at most `max` characters with no control characters (line breaks
/// are allowed where `multiline`), or BAD_USER_INPUT naming `field`.
pub fn bounded(field: &str, value: &str, max: usize, multiline: bool) -> Result<String, AppError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {max} characters long"),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(AppError::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Like [`bounded`], single-line, and not empty.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let value = bounded(field, value, max, false)?;
    if value.is_empty() {
        return Err(AppError::bad_input(field, "must not be empty"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(
            bounded("f", "  ünï  ", 3, false).ok().as_deref(),
            Some("ünï")
        );
        assert!(bounded("f", "abcd", 3, false).is_err());
    }

    #[test]
    fn line_breaks_are_allowed_only_in_multiline_text() {
        assert!(bounded("f", "a\nb", 10, true).is_ok());
        assert!(bounded("f", "a\nb", 10, false).is_err());
        assert!(bounded("f", "a\u{7}b", 10, true).is_err());
    }

    #[test]
    fn required_text_must_not_be_blank() {
        assert!(required("f", "   ", 10).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    fn allowed(c: char, multiline: bool) -> bool {
        !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'))
    }

    proptest! {
        #[test]
        fn accepted_text_is_trimmed_bounded_and_free_of_control_characters(
            raw in any_text(),
            max in 0..300usize,
            multiline in any::<bool>(),
        ) {
            if let Ok(text) = bounded("f", &raw, max, multiline) {
                prop_assert_eq!(text.as_str(), raw.trim());
                prop_assert!(text.chars().count() <= max);
                prop_assert!(text.chars().all(|c| allowed(c, multiline)), "{text:?}");
                prop_assert_eq!(bounded("f", &text, max, multiline).ok(), Some(text.clone()));
            }
        }

        #[test]
        fn any_text_within_bounds_and_without_control_characters_is_accepted(
            raw in "\\PC{0,80}",
            multiline in any::<bool>(),
        ) {
            let max = raw.trim().chars().count();
            let accepted = bounded("f", &raw, max, multiline).ok();
            prop_assert_eq!(accepted.as_deref(), Some(raw.trim()));
            if max > 0 {
                prop_assert!(bounded("f", &raw, max - 1, multiline).is_err());
            }
        }

        #[test]
        fn required_text_is_never_empty(raw in any_text(), max in 0..300usize) {
            if let Ok(text) = required("f", &raw, max) {
                prop_assert!(!text.is_empty());
                prop_assert_eq!(bounded("f", &raw, max, false).ok(), Some(text));
            }
        }
    }
}
