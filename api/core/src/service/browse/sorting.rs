//! The order of a product list, and the cursors that mark a place in it.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::product;
use sea_orm::{
    DbBackend,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};

use super::{ProductCard, SortKey, full_text};
use crate::{
    domain::{Cursor, SearchTerms},
    error::{AppError, AppResult},
};

impl SortKey {
    /// The tag that marks a cursor as belonging to this sort.
    fn tag(self) -> char {
        match self {
            Self::Name => 'n',
            Self::Price => 'p',
            Self::CreatedAt => 'c',
            Self::Relevance => 'r',
        }
    }
}

/// A cursor read back into SQL: its sort value and its product id.
pub(super) type Keyset = (sea_orm::Value, i32);

/// The expression a list is sorted by, and how a cursor's value reads back into it.
pub(super) struct Sorting {
    pub key: SortKey,
    pub expr: SimpleExpr,
    pub descending: bool,
}

impl Sorting {
    pub fn new(
        key: SortKey,
        reverse: bool,
        search: Option<&SearchTerms>,
        backend: DbBackend,
    ) -> Self {
        let column = |c: product::Column| Expr::col((product::Entity, c));
        let (key, expr) = match (key, search) {
            (SortKey::Relevance, Some(terms)) => {
                (SortKey::Relevance, full_text::rank(terms, backend))
            }
            (SortKey::Name, _) => (key, column(product::Column::Name)),
            (SortKey::Price, _) => (key, column(product::Column::PriceCents)),
            (SortKey::CreatedAt | SortKey::Relevance, _) => {
                (SortKey::CreatedAt, column(product::Column::CreatedAt))
            }
        };
        // Relevance reads best first; everything else reads ascending.
        let descending = (key == SortKey::Relevance) != reverse;
        Self {
            key,
            expr,
            descending,
        }
    }

    /// The cursor of a row.
    pub fn cursor(&self, product: &ProductCard, rank: Option<f64>) -> Cursor {
        let value = match self.key {
            SortKey::Name => product.name.clone(),
            SortKey::Price => product.price_cents.to_string(),
            SortKey::CreatedAt => product
                .created_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            SortKey::Relevance => rank.unwrap_or_default().to_string(),
        };
        Cursor {
            id: product.id,
            sort_value: Some(format!("{}{value}", self.key.tag())),
        }
    }

    /// A cursor as SQL values, or BAD_USER_INPUT on `field` when the cursor came from
    /// another sort order.
    pub fn keyset(&self, cursor: &Cursor, field: &str) -> AppResult<Keyset> {
        Ok((self.value_of(cursor, field)?, cursor.id))
    }

    /// A cursor's sort value as a SQL value, or BAD_USER_INPUT when the cursor came from
    /// another sort order.
    fn value_of(&self, cursor: &Cursor, field: &str) -> AppResult<sea_orm::Value> {
        let invalid = || AppError::bad_input(field, "is not a cursor of this sort order");
        let raw = cursor.sort_value.as_deref().ok_or_else(invalid)?;
        let value = raw.strip_prefix(self.key.tag()).ok_or_else(invalid)?;
        Ok(match self.key {
            SortKey::Name => value.to_owned().into(),
            SortKey::Price => value.parse::<i64>().map_err(|_| invalid())?.into(),
            SortKey::CreatedAt => DateTime::parse_from_rfc3339(value)
                .map_err(|_| invalid())?
                .with_timezone(&Utc)
                .into(),
            SortKey::Relevance => value.parse::<f64>().map_err(|_| invalid())?.into(),
        })
    }

    /// Rows strictly after `(value, id)` in display order.
    pub fn after(&self, (value, id): Keyset) -> SimpleExpr {
        Self::past(self.expr.clone(), product_id(), value, id, self.descending)
    }

    /// Rows strictly before `(value, id)` in display order.
    pub fn before(&self, (value, id): Keyset) -> SimpleExpr {
        Self::past(self.expr.clone(), product_id(), value, id, !self.descending)
    }

    /// Rows strictly past `(value, id)` going down (or up) the order of `(sort, id_expr)`.
    /// The expressions are parameters so a query on the FTS5 table alone, where the id is
    /// its rowid, can page by the same cursors.
    pub fn past(
        sort: SimpleExpr,
        id_expr: SimpleExpr,
        value: sea_orm::Value,
        id: i32,
        down: bool,
    ) -> SimpleExpr {
        if down {
            sort.clone()
                .lt(value.clone())
                .or(sort.eq(value).and(id_expr.lt(id)))
        } else {
            sort.clone()
                .gt(value.clone())
                .or(sort.eq(value).and(id_expr.gt(id)))
        }
    }
}

fn product_id() -> SimpleExpr {
    Expr::col((product::Entity, product::Column::Id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_of_one_sort_order_is_refused_by_another() {
        let product = ProductCard {
            id: 1,
            name: "Mug".into(),
            slug: "mug".into(),
            sku: None,
            price_cents: 500,
            stock: 1,
            category_id: None,
            archived: false,
            created_at: Utc::now(),
        };
        let by_name = Sorting::new(SortKey::Name, false, None, DbBackend::Sqlite);
        let by_price = Sorting::new(SortKey::Price, false, None, DbBackend::Sqlite);
        let cursor = by_name.cursor(&product, None);
        assert!(by_name.value_of(&cursor, "after").is_ok());
        assert!(by_price.value_of(&cursor, "after").is_err());
    }
}

#[cfg(test)]
mod properties {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::{any_text, near};

    fn product(id: i32, name: String, price_cents: i64, created_at: DateTime<Utc>) -> ProductCard {
        ProductCard {
            id,
            name,
            slug: "p".into(),
            sku: None,
            price_cents,
            stock: 1,
            category_id: None,
            archived: false,
            created_at,
        }
    }

    fn moment() -> impl Strategy<Value = DateTime<Utc>> {
        // From 1970 to 2200, to the nanosecond.
        (0..7_258_118_400i64, 0..1_000_000_000u32)
            .prop_map(|(secs, nanos)| Utc.timestamp_opt(secs, nanos).single().expect("in range"))
    }

    fn sort_key() -> impl Strategy<Value = SortKey> {
        prop::sample::select(vec![
            SortKey::Name,
            SortKey::Price,
            SortKey::CreatedAt,
            SortKey::Relevance,
        ])
    }

    proptest! {
        #[test]
        fn a_row_s_cursor_gives_back_its_sort_value(
            key in sort_key(),
            id in any::<i32>(),
            name in any_text(),
            price_cents in any::<i64>(),
            created_at in moment(),
            rank in any::<f64>().prop_filter("finite", |r| r.is_finite()),
        ) {
            let row = product(id, name.clone(), price_cents, created_at);
            let terms = SearchTerms::parse("mug");
            let sorting = Sorting::new(key, false, terms.as_ref(), DbBackend::Sqlite);
            let sent = sorting.cursor(&row, Some(rank)).encode();
            let cursor = Cursor::decode(&sent, "after").expect("our own cursor");
            prop_assert_eq!(cursor.id, id);
            let expected: sea_orm::Value = match key {
                SortKey::Name => name.into(),
                SortKey::Price => price_cents.into(),
                SortKey::CreatedAt => created_at.into(),
                SortKey::Relevance => rank.into(),
            };
            prop_assert_eq!(sorting.value_of(&cursor, "after").ok(), Some(expected));
        }

        #[test]
        fn reading_any_cursor_under_any_sort_never_panics(
            key in sort_key(),
            sort_value in proptest::option::of(
                prop_oneof![any_text(), near("[ncpr][0-9T:.+-]{0,32}".prop_map(String::from))],
            ),
        ) {
            let sorting = Sorting::new(key, false, None, DbBackend::Sqlite);
            let _ = sorting.value_of(&Cursor { id: 1, sort_value }, "after");
        }
    }
}
