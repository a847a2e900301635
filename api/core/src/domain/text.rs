use crate::error::AppError;

/// Trimmed free text of at most `max` characters that a reader sees as it is: no control
/// characters (line breaks are allowed where `multiline`), nothing that flips the direction
/// of the text around it, and not made only of invisible characters. Otherwise
/// BAD_USER_INPUT naming `field`. Every human-readable field goes through here, so this is
/// the one place that decides which characters text may hold.
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
    if value.chars().any(flips_direction) {
        return Err(AppError::bad_input(
            field,
            "must not contain characters that change the direction of the text (such as U+202E)",
        ));
    }
    if !value.is_empty() && value.chars().all(is_invisible) {
        return Err(AppError::bad_input(
            field,
            "must contain at least one visible character",
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

/// A name: one line of 1 to `MAX` characters that reads as it is ([`required`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name<const MAX: usize>(String);

impl<const MAX: usize> Name<MAX> {
    /// `field` is the input the name came in, for the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        required(field, raw, MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text of at most `MAX` characters, line breaks allowed, perhaps empty
/// ([`bounded`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description<const MAX: usize>(String);

impl<const MAX: usize> Description<MAX> {
    /// `field` is the input the text came in, for the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        bounded(field, raw, MAX, true).map(Self)
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The text, or `None` when it is empty: for descriptions that are stored as absent.
    pub fn non_empty(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

/// The bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069).
/// Each reverses or reorders what follows it until its terminator, so "txt.exe" can show
/// as "exe.txt" and a product name can make the rest of a page read backwards. Left-to-
/// right and right-to-left *marks* (U+200E, U+200F) stay allowed: they only nudge
/// punctuation in mixed Hebrew or Arabic text, and such text needs them.
pub fn flips_direction(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing on their own: whitespace, control characters, and
/// Unicode's Default_Ignorable_Code_Point set (zero-width space and joiners, word joiner,
/// byte-order mark, soft hyphen, variation selectors, Hangul fillers, tags, ...; the list
/// of DerivedCoreProperties.txt). Text may hold them among visible characters (emoji
/// sequences need the zero-width joiner, Persian the non-joiner), but not only them.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
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

    #[test]
    fn text_made_only_of_invisible_characters_is_refused() {
        for invisible in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}",
            " \u{FEFF} \u{2060} ",
            "\u{3164}",
            "\u{00AD}\u{FE0F}",
            "\u{E0041}",
        ] {
            assert!(bounded("f", invisible, 100, true).is_err(), "{invisible:?}");
            assert!(required("f", invisible, 100).is_err(), "{invisible:?}");
        }
    }

    #[test]
    fn invisible_characters_among_visible_ones_are_kept() {
        // A family emoji is joined by U+200D; Persian needs U+200C between some letters.
        for text in ["👨\u{200D}👩\u{200D}👧", "می\u{200C}خواهم", "Caf\u{00AD}é"] {
            assert_eq!(bounded("f", text, 100, false).ok().as_deref(), Some(text));
        }
    }

    #[test]
    fn direction_overrides_embeddings_and_isolates_are_refused_anywhere() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2069}',
        ] {
            let text = format!("Invoice{c}fdp.exe");
            assert!(bounded("f", &text, 100, true).is_err(), "{c:?}");
        }
        // Marks only nudge neutral characters; mixed-script text needs them.
        assert!(bounded("f", "שלום\u{200F}!", 100, false).is_ok());
    }

    #[test]
    fn names_and_descriptions_keep_their_bounds_and_name_their_field() {
        assert_eq!(
            Name::<5>::parse("  Mug  ", "name")
                .map(Name::into_string)
                .ok(),
            Some("Mug".into())
        );
        let err = Name::<5>::parse("Mugs!!", "name").expect_err("too long");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "name"));
        assert!(Name::<5>::parse(" ", "name").is_err());

        let text = Description::<9>::parse("two\nlines", "description").expect("fits");
        assert_eq!(text.non_empty().as_deref(), Some("two\nlines"));
        let empty = Description::<9>::parse("  ", "description").expect("may be empty");
        assert_eq!(empty.non_empty(), None);
        let err = Description::<9>::parse("ten chars!", "description").expect_err("too long");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "description"));
    }

    #[test]
    fn refusals_name_the_field() {
        let err = required("name", "\u{200B}", 10).expect_err("invisible");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "name"));
        let err = bounded("description", "a\u{202E}b", 10, true).expect_err("override");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "description"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    fn allowed(c: char, multiline: bool) -> bool {
        (!c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'))) && !flips_direction(c)
    }

    /// Text that is invisible however it is padded: runs of zero-width and other
    /// default-ignorable characters, and whitespace.
    fn invisible_text() -> impl Strategy<Value = String> {
        "[ \u{a0}\u{ad}\u{34f}\u{115f}\u{180e}\u{200b}-\u{200f}\u{2060}-\u{2064}\u{3164}\u{fe0f}\u{feff}\u{e0020}]{1,12}"
            .prop_filter("something not blank", |s| !s.trim().is_empty())
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
        fn accepted_text_shows_something_and_cannot_flip_the_direction_of_what_follows(
            raw in any_text(),
            multiline in any::<bool>(),
        ) {
            if let Ok(text) = bounded("f", &raw, usize::MAX, multiline) {
                prop_assert!(!text.chars().any(flips_direction), "{text:?}");
                prop_assert!(text.is_empty() || !text.chars().all(is_invisible), "{text:?}");
            }
        }

        #[test]
        fn text_of_only_invisible_characters_is_refused(raw in invisible_text(), max in 12..300usize) {
            prop_assert!(bounded("f", &raw, max, true).is_err());
            prop_assert!(required("f", &raw, max).is_err());
        }

        #[test]
        fn one_direction_override_anywhere_makes_text_refused(
            raw in "\\PC{0,40}",
            at in any::<prop::sample::Index>(),
            c in prop::sample::select(vec!['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}']),
        ) {
            let mut chars: Vec<char> = raw.chars().collect();
            chars.insert(at.index(chars.len() + 1), c);
            let text: String = chars.into_iter().collect();
            prop_assert!(bounded("f", &text, usize::MAX, true).is_err(), "{text:?}");
        }

        #[test]
        fn any_visible_text_within_bounds_and_without_control_characters_is_accepted(
            raw in "\\PC{0,80}",
            multiline in any::<bool>(),
        ) {
            // \PC holds no format characters, but it does hold some invisible letters and
            // marks (Hangul fillers, variation selectors): those alone are refused.
            prop_assume!(raw.trim().is_empty() || !raw.trim().chars().all(is_invisible));
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
