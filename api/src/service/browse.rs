//! Browsing the catalog: filters, full-text search, sorting and keyset pagination.
//!
//! A cursor holds the sort value and id of a product, tagged with the sort it belongs to.
//! Every page is read with `(sort value, id)` comparisons against it, backed by an index
//! per sort order, so page 500 costs what page 1 costs and no product is skipped or
//! repeated while others are added.

mod sqlite_search;

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{category, product};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Expr, ExprTrait, JoinType, SimpleExpr},
};

use crate::{
    domain::{Cursor, PriceBounds},
    error::{AppError, AppResult},
    service::{
        categories,
        pagination::{Page, PageArgs},
        viewer::{Viewer, require_admin},
    },
};

/// The longest search text accepted.
pub const MAX_SEARCH_LEN: usize = 200;
const MAX_SEARCH_TERMS: usize = 8;

/// Which products to list.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub search: Option<String>,
    pub category_id: Option<i32>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub in_stock: Option<bool>,
    pub include_archived: bool,
}

/// The order of a product list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Price,
    #[default]
    CreatedAt,
    /// Best match first; without a search, the same as `CreatedAt`.
    Relevance,
}

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

/// A request for one page of products.
#[derive(Clone, Debug, Default)]
pub struct ProductListing {
    pub filter: ProductFilter,
    pub sort: SortKey,
    pub reverse: bool,
    pub page: PageArgs,
    /// Whether to count all matches (a second query), for `totalCount`.
    pub with_total: bool,
    /// Whether to read each product's category with it, in the page's own query, for a
    /// page that shows them: one query instead of a second one for the categories.
    pub with_categories: bool,
}

/// A product of a page, with its category when the listing asked for categories (and the
/// product has one).
pub type Listed = (product::Model, Option<category::Model>);

/// Search text reduced to its words, each matched as a prefix. Only letters and digits
/// survive, so no text a client sends can carry full-text query syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SearchTerms(Vec<String>);

impl SearchTerms {
    fn parse(raw: &str) -> Option<Self> {
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
    fn fts5(&self) -> String {
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
    fn restrict(
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
    fn rank(&self, backend: DbBackend) -> SimpleExpr {
        match backend {
            DbBackend::Postgres => Expr::cust_with_values(
                "ts_rank(\"products\".\"search_vector\", to_tsquery('simple', $1))::float8",
                [self.tsquery()],
            ),
            _ => Expr::cust("-bm25(product_search, 10.0, 1.0, 5.0)"),
        }
    }
}

/// The expression a list is sorted by, and how a cursor's value reads back into it.
struct Sorting {
    key: SortKey,
    expr: SimpleExpr,
    descending: bool,
}

impl Sorting {
    fn new(key: SortKey, reverse: bool, search: Option<&SearchTerms>, backend: DbBackend) -> Self {
        let column = |c: product::Column| Expr::col((product::Entity, c));
        let (key, expr) = match (key, search) {
            (SortKey::Relevance, Some(terms)) => (SortKey::Relevance, terms.rank(backend)),
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
    fn cursor(&self, product: &product::Model, rank: Option<f64>) -> Cursor {
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
    fn after(&self, value: sea_orm::Value, id: i32) -> SimpleExpr {
        Self::past(self.expr.clone(), product_id(), value, id, self.descending)
    }

    /// Rows strictly before `(value, id)` in display order.
    fn before(&self, value: sea_orm::Value, id: i32) -> SimpleExpr {
        Self::past(self.expr.clone(), product_id(), value, id, !self.descending)
    }

    /// Rows strictly past `(value, id)` going down (or up) the order of `(sort, id_expr)`.
    /// The expressions are parameters so a query on the FTS5 table alone, where the id is
    /// its rowid, can page by the same cursors.
    fn past(
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

/// One page of products for the listing.
pub async fn list(
    db: &DatabaseConnection,
    viewer: &Viewer,
    listing: &ProductListing,
) -> AppResult<Page<Listed>> {
    let window = listing.page.window()?;
    let filter = &listing.filter;
    if filter.include_archived {
        require_admin(db, viewer).await?;
    }
    let prices = PriceBounds::parse(filter.min_price.as_deref(), filter.max_price.as_deref())?;
    let backend = db.get_database_backend();
    let search = match filter.search.as_deref().map(str::trim) {
        Some(text) if text.chars().count() > MAX_SEARCH_LEN => {
            return Err(AppError::bad_input(
                "search",
                format!("must be at most {MAX_SEARCH_LEN} characters long"),
            ));
        }
        Some(text) if !text.is_empty() => match SearchTerms::parse(text) {
            Some(terms) => Some(terms),
            // Punctuation only: nothing can match it.
            None => return Ok(Page::empty()),
        },
        _ => None,
    };

    let mut base = product::Entity::find();
    if !filter.include_archived {
        base = base.filter(product::Column::Archived.eq(false));
    }
    if let Some(terms) = &search {
        base = terms.restrict(base, backend);
    }
    if let Some(category) = filter.category_id {
        let ids = categories::with_descendants(db, category).await?;
        base = base.filter(product::Column::CategoryId.is_in(ids));
    }
    if let Some(min) = prices.min {
        base = base.filter(product::Column::PriceCents.gte(min.cents()));
    }
    if let Some(max) = prices.max {
        base = base.filter(product::Column::PriceCents.lte(max.cents()));
    }
    match filter.in_stock {
        Some(true) => base = base.filter(product::Column::Stock.gt(0)),
        Some(false) => base = base.filter(product::Column::Stock.eq(0)),
        None => {}
    }

    let sorting = Sorting::new(listing.sort, listing.reverse, search.as_ref(), backend);
    let after = window
        .after
        .as_ref()
        .map(|c| Ok::<_, AppError>((sorting.value_of(c, "after")?, c.id)))
        .transpose()?;
    let before = window
        .before
        .as_ref()
        .map(|c| Ok::<_, AppError>((sorting.value_of(c, "before")?, c.id)))
        .transpose()?;

    // A search narrowed by nothing but the archive has a cheaper plan on SQLite.
    let plain_sqlite_search = search.as_ref().filter(|_| {
        backend == DbBackend::Sqlite
            && filter.category_id.is_none()
            && filter.min_price.is_none()
            && filter.max_price.is_none()
            && filter.in_stock.is_none()
    });

    let total_count = match plain_sqlite_search {
        _ if !listing.with_total => 0,
        Some(terms) => sqlite_search::count(db, terms, filter.include_archived).await?,
        None => base.clone().count(db).await?,
    };

    let mut bounded = base.clone();
    if let Some((value, id)) = &after {
        bounded = bounded.filter(sorting.after(value.clone(), *id));
    }
    if let Some((value, id)) = &before {
        bounded = bounded.filter(sorting.before(value.clone(), *id));
    }
    // Reading backward means reading the display order in reverse, then flipping.
    let read_order = if sorting.descending != window.backward {
        Order::Desc
    } else {
        Order::Asc
    };
    let fast_page = match plain_sqlite_search {
        Some(terms) if sorting.key == SortKey::Relevance => {
            let bounds = sqlite_search::Bounds {
                after: after.clone(),
                before: before.clone(),
                order: read_order.clone(),
                wanted: window.limit + 1,
            };
            sqlite_search::page(db, terms, &sorting, bounds, filter.include_archived)
                .await?
                .map(|rows| {
                    let without_categories = |(cursor, product)| (cursor, (product, None));
                    rows.into_iter().map(without_categories).collect()
                })
        }
        _ => None,
    };
    let rows = match fast_page {
        Some(rows) => rows,
        None => {
            let query = bounded
                .order_by(sorting.expr.clone(), read_order.clone())
                .order_by(product::Column::Id, read_order)
                .limit(window.limit + 1);
            fetch(db, query, &sorting, listing.with_categories).await?
        }
    };

    // Whether anything lies beyond the cursor on the side that was not read.
    let beyond = if window.backward {
        before.map(|(value, id)| sorting.after(value, id).not())
    } else {
        after.map(|(value, id)| sorting.before(value, id).not())
    };
    let rows_beyond = match beyond {
        Some(condition) => base.filter(condition).one(db).await?.is_some(),
        None => false,
    };
    Ok(window.page(rows, rows_beyond, total_count))
}

/// Runs the page query; for relevance, reads each row's rank as well (and leaves the
/// categories to the caller's DataLoader).
async fn fetch(
    db: &DatabaseConnection,
    query: Select<product::Entity>,
    sorting: &Sorting,
    with_categories: bool,
) -> AppResult<Vec<(Cursor, Listed)>> {
    let listed =
        |(product, category): Listed| (sorting.cursor(&product, None), (product, category));
    if sorting.key != SortKey::Relevance {
        if with_categories {
            let rows = query.find_also_related(category::Entity).all(db).await?;
            return Ok(rows.into_iter().map(listed).collect());
        }
        let products = query.all(db).await?;
        return Ok(products.into_iter().map(|p| listed((p, None))).collect());
    }
    let statement = query
        .column_as(sorting.expr.clone(), "sort_rank")
        .build(db.get_database_backend());
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| {
            let product = product::Model::from_query_result(row, "")?;
            let rank: f64 = row.try_get("", "sort_rank")?;
            Ok((sorting.cursor(&product, Some(rank)), (product, None)))
        })
        .collect()
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

    #[test]
    fn a_cursor_of_one_sort_order_is_refused_by_another() {
        let product = product::Model {
            id: 1,
            name: "Mug".into(),
            slug: "mug".into(),
            description: String::new(),
            sku: None,
            price_cents: 500,
            stock: 1,
            category_id: None,
            image_urls: "[]".into(),
            archived: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
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

    fn product(
        id: i32,
        name: String,
        price_cents: i64,
        created_at: DateTime<Utc>,
    ) -> product::Model {
        product::Model {
            id,
            name,
            slug: "p".into(),
            description: String::new(),
            sku: None,
            price_cents,
            stock: 1,
            category_id: None,
            image_urls: "[]".into(),
            archived: false,
            created_at,
            updated_at: created_at,
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
