//! Search text as the catalog's search box receives it, reduced to words that no
//! full-text query syntax can hide in.

use crate::error::AppError;

/// The longest search text accepted.
pub const MAX_SEARCH_LEN: usize = 200;
const MAX_SEARCH_TERMS: usize = 8;

/// What a search asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    /// Products that match every word.
    Terms(SearchTerms),
    /// Text without a single letter or digit: nothing can match it.
    Unmatchable,
}

impl Search {
    /// The search in `raw`; `None` when it is blank, BAD_USER_INPUT on `field` when it
    /// is longer than [`MAX_SEARCH_LEN`] characters.
    pub fn parse(raw: &str, field: &str) -> Result<Option<Self>, AppError> {
        let text = raw.trim();
        if text.chars().count() > MAX_SEARCH_LEN {
            return Err(AppError::bad_input(
                field,
                format!("must be at most {MAX_SEARCH_LEN} characters long"),
            ));
        }
        if text.is_empty() {
            return Ok(None);
        }
        Ok(Some(match SearchTerms::parse(text) {
            Some(terms) => Self::Terms(terms),
            None => Self::Unmatchable,
        }))
    }
}

/// Search text reduced to its words, each matched as a prefix. Only letters and digits
/// survive, so no text a client sends can carry full-text query syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// The first eight words of `raw`, lower-cased, each cut to 40 letters or digits;
    /// `None` when it has no letter or digit.
    pub fn parse(raw: &str) -> Option<Self> {
        let terms: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|term| !term.is_empty())
            .take(MAX_SEARCH_TERMS)
            // Lower-casing can add marks that are not letters ("İ" becomes "i\u{307}"):
            // they are dropped, and the length is counted after.
            .map(|term| {
                term.to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .take(40)
                    .collect::<String>()
            })
            .filter(|term| !term.is_empty())
            .collect();
        (!terms.is_empty()).then_some(Self(terms))
    }

    /// The words, each to be matched as a prefix, for a search that is not SQL.
    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// FTS5 syntax: `"lap"* AND "top"*`.
    pub fn fts5(&self) -> String {
        self.0
            .iter()
            .map(|term| format!("\"{term}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// PostgreSQL tsquery syntax: `lap:* & top:*`.
    pub fn tsquery(&self) -> String {
        self.0
            .iter()
            .map(|term| format!("{term}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_keeps_only_words_and_matches_them_as_prefixes() {
        let terms = SearchTerms::parse("Lap-TOP \"stand\" OR *; DROP").expect("terms");
        assert_eq!(terms.words(), ["lap", "top", "stand", "or", "drop"]);
        assert_eq!(
            terms.fts5(),
            "\"lap\"* AND \"top\"* AND \"stand\"* AND \"or\"* AND \"drop\"*"
        );
        assert_eq!(terms.tsquery(), "lap:* & top:* & stand:* & or:* & drop:*");
    }

    #[test]
    fn lower_casing_adds_no_character_that_is_not_a_letter_or_digit() {
        // Found by a property test: "İ" lower-cases to "i" and a combining dot.
        let terms = SearchTerms::parse("İstanbul").expect("terms");
        assert_eq!(terms.0, ["istanbul"]);
    }

    #[test]
    fn punctuation_alone_is_no_search() {
        assert_eq!(SearchTerms::parse(" -*- \"\" "), None);
        assert_eq!(
            Search::parse(" -*- \"\" ", "search").ok(),
            Some(Some(Search::Unmatchable))
        );
    }

    #[test]
    fn blank_text_is_no_search_and_long_text_names_its_field() {
        assert_eq!(Search::parse(" \t ", "search").ok(), Some(None));
        let long = format!("  {}  ", "a".repeat(MAX_SEARCH_LEN));
        assert!(matches!(
            Search::parse(&long, "search"),
            Ok(Some(Search::Terms(_)))
        ));
        let longer = "a".repeat(MAX_SEARCH_LEN + 1);
        let err = Search::parse(&longer, "search").expect_err("too long");
        assert!(matches!(err, AppError::BadUserInput { field, .. } if field == "search"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    proptest! {
        #[test]
        fn search_terms_are_at_most_eight_lower_case_words_of_at_most_40_letters_or_digits(
            raw in prop_oneof![any_text(), near("[A-Za-zİß ]{0,20}(\"|\\*|:|&|OR)?[a-z ]{0,20}".prop_map(String::from))],
        ) {
            if let Some(terms) = SearchTerms::parse(&raw) {
                prop_assert!((1..=MAX_SEARCH_TERMS).contains(&terms.0.len()));
                for term in &terms.0 {
                    prop_assert!((1..=40).contains(&term.chars().count()), "{term:?}");
                    prop_assert!(term.chars().all(char::is_alphanumeric), "{term:?}");
                    prop_assert_eq!(&term.to_lowercase(), term);
                }
            }
        }

        #[test]
        fn text_with_a_letter_or_digit_is_a_search(raw in any_text(), word in "[a-z0-9]{1,10}") {
            let text = format!("{raw} {word}");
            prop_assert!(SearchTerms::parse(&text).is_some());
        }
    }
}
