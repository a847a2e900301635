//! Running a plan: the page's rows (through SQLite's search plan when it applies), the
//! total (counted by the page query itself where that is cheaper) and whether anything
//! lies on the side of the cursor that was not read.

use entity::{category, product};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, PaginatorTrait,
    PartialModelTrait, QuerySelect, QueryTrait, sea_query::Expr,
};

use super::{Listed, ListedProduct, ProductCard, SortKey, plan::Plan, sqlite_search};
use crate::{domain::Cursor, error::AppResult, service::pagination::Page};

/// The page `plan` describes.
pub(super) async fn read(db: &DatabaseConnection, plan: &Plan) -> AppResult<Page<Listed>> {
    let (rows, counted) = match fast_rows(db, plan).await? {
        Some(rows) => (rows, None),
        None => fetch(db, plan).await?,
    };
    let total_count = match counted {
        Some(total) => total,
        None => total(db, plan).await?,
    };
    let rows_beyond = match plan.beyond() {
        Some(query) => query.one(db).await?.is_some(),
        None => false,
    };
    Ok(plan.window.page(rows, rows_beyond, total_count))
}

/// How many products match in all, when the listing asked; 0 otherwise.
async fn total(db: &DatabaseConnection, plan: &Plan) -> AppResult<u64> {
    if !plan.with_total {
        return Ok(0);
    }
    match &plan.plain_sqlite_search {
        Some(terms) => sqlite_search::count(db, terms, plan.include_archived).await,
        None => Ok(plan.matching.clone().count(db).await?),
    }
}

/// The page's rows by SQLite's search plan, for a plain search by relevance; `None`
/// when the general query must read them.
async fn fast_rows(
    db: &DatabaseConnection,
    plan: &Plan,
) -> AppResult<Option<Vec<(Cursor, Listed)>>> {
    let Some(terms) = &plan.plain_sqlite_search else {
        return Ok(None);
    };
    if plan.sorting.key != SortKey::Relevance {
        return Ok(None);
    }
    let rows = sqlite_search::page(db, terms, plan).await?;
    let without_categories = |(cursor, product)| (cursor, (product, None));
    Ok(rows.map(|rows| rows.into_iter().map(without_categories).collect()))
}

/// Runs the page query: each product's card, or its whole row when the listing asked
/// for details; its category in the same query when the listing asked for categories;
/// and for relevance, each row's rank. Answers the rows, and the number of all matches
/// when the query counted them on the way (see [`counts_matches`]).
async fn fetch(
    db: &DatabaseConnection,
    plan: &Plan,
) -> AppResult<(Vec<(Cursor, Listed)>, Option<u64>)> {
    let mut query = plan.page_query().select_only();
    query = if plan.with_details {
        product::Model::select_cols_nested(query, Some(PRODUCT), None)
    } else {
        ProductCard::select_cols_nested(query, Some(PRODUCT), None)
    };
    if plan.with_categories {
        query = category::Model::select_cols_nested(
            query.left_join(category::Entity),
            Some(CATEGORY),
            None,
        );
    }
    let ranked = plan.sorting.key == SortKey::Relevance;
    if ranked {
        query = query.column_as(plan.sorting.expr.clone(), RANK);
    }
    let backend = db.get_database_backend();
    let counted = counts_matches(plan, backend);
    if counted {
        query = query.column_as(Expr::cust("count(*) OVER ()"), TOTAL);
    }
    let statement = query.build(backend);
    let rows = db.query_all_raw(statement).await?;
    let total = match rows.first() {
        Some(row) if counted => Some(u64::try_from(row.try_get::<i64>("", TOTAL)?).unwrap_or(0)),
        // Nothing past no cursor: nothing matches.
        None if counted => Some(0),
        _ => None,
    };
    let rows = rows
        .iter()
        .map(|row| {
            let product = if plan.with_details {
                ListedProduct::from(product::Model::from_query_result(row, PRODUCT)?)
            } else {
                ListedProduct::from(ProductCard::from_query_result(row, PRODUCT)?)
            };
            // The foreign key keeps a product's category: a product with one has it joined.
            let category = match product.card.category_id {
                Some(_) if plan.with_categories => {
                    Some(category::Model::from_query_result(row, CATEGORY)?)
                }
                _ => None,
            };
            let rank = if ranked {
                Some(row.try_get("", RANK)?)
            } else {
                None
            };
            Ok((
                plan.sorting.cursor(&product.card, rank),
                (product, category),
            ))
        })
        .collect::<AppResult<_>>()?;
    Ok((rows, total))
}

/// Whether the page query counts every match for `totalCount` itself, in a window over
/// what it reads, instead of a second query. Only a ranked page without a cursor: ranking
/// reads every match anyway, so counting them on the way costs nearly nothing, where the
/// count alone was a second pass over all of them (PostgreSQL, 100,000 products, a common
/// word's 16,000 matches: 102 ms to count plus 131 ms to rank, 146 ms as one query;
/// bench/README.md). A page in another order reads only its own rows through an index,
/// which a window over every match would spoil; and past a cursor the query sees only
/// the matches beyond it. PostgreSQL only: SQLite's bm25() may not share a query with a
/// window function, and SQLite counts a plain search from its FTS5 index anyway.
fn counts_matches(plan: &Plan, backend: DbBackend) -> bool {
    backend == DbBackend::Postgres
        && plan.with_total
        && plan.sorting.key == SortKey::Relevance
        && plan.after.is_none()
        && plan.before.is_none()
}

/// The prefixes of a page row's product and category columns, and its rank's and
/// count's names.
const PRODUCT: &str = "p_";
const CATEGORY: &str = "c_";
const RANK: &str = "sort_rank";
const TOTAL: &str = "total_count";
