//! Full-text search: search text reduced to safe words, and those words as SQL on each
//! database (an FTS5 table on SQLite, a GIN-indexed tsvector on PostgreSQL).

use entity::product;
use sea_orm::{
    DbBackend, QueryFilter, QueryTrait, Select,
    sea_query::{Alias, Expr, JoinType, SimpleExpr},
};

/// The longest search text accepted.
pub const MAX_SEARCH_LEN: usize = 200;
const MAX_SEARCH_TERMS: usize = 8;

/// Search text reduced to its words, each matched as a prefix. Only letters and digits
/// survive, so no text a client sends can carry full-text query syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SearchTerms(Vec<String>);

impl SearchTerms {
    pub(super) fn parse(raw: &str) -> Option<Self> {
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

    /// FTS5 syntax: `"lap"* AND "top"*`.
    pub(super) fn fts5(&self) -> String {
        self.0
            .iter()
            .map(|term| format!("\"{term}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// PostgreSQL tsquery syntax: `lap:* & top:*`.
    fn tsquery(&self) -> String {
        self.0
            .iter()
            .map(|term| format!("{term}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// `query` narrowed to the products that match. On SQLite this joins the FTS5 index
    /// (one index scan, which also makes `bm25` available to sort by); on PostgreSQL it
    /// filters on the GIN-indexed tsvector.
    pub(super) fn restrict(
        &self,
        mut query: Select<product::Entity>,
        backend: DbBackend,
    ) -> Select<product::Entity> {
        match backend {
            DbBackend::Postgres => query.filter(Expr::cust_with_values(
                "\"products\".\"search_vector\" @@ to_tsquery('simple', $1)",
                [self.tsquery()],
            )),
            _ => {
                QueryTrait::query(&mut query).join(
                    JoinType::InnerJoin,
                    Alias::new("product_search"),
                    Expr::cust("product_search.rowid = \"products\".\"id\""),
                );
                query.filter(Expr::cust_with_values(
                    "product_search MATCH ?",
                    [self.fts5()],
                ))
            }
        }
    }

    /// How well a product matches, higher is better, for a query narrowed by
    /// [`Self::restrict`]. Name and SKU weigh more than the description.
    pub(super) fn rank(&self, backend: DbBackend) -> SimpleExpr {
        match backend {
            DbBackend::Postgres => Expr::cust_with_values(
                "ts_rank(\"products\".\"search_vector\", to_tsquery('simple', $1))::float8",
                [self.tsquery()],
            ),
            _ => Expr::cust("-bm25(product_search, 10.0, 1.0, 5.0)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_keeps_only_words_and_matches_them_as_prefixes() {
        let terms = SearchTerms::parse("Lap-TOP \"stand\" OR *; DROP").expect("terms");
        assert_eq!(terms.0, ["lap", "top", "stand", "or", "drop"]);
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
