//! Running a plan: the page's rows, the total (counted by the page query itself where
//! that is cheaper) and whether anything lies on the side of the cursor that was not
//! read; or all three from the search index, for a plain search by relevance.

use std::collections::HashMap;

use entity::{category, product};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    Order, PaginatorTrait, PartialModelTrait, QueryFilter, QueryResult, QuerySelect, QueryTrait,
    Select, sea_query::Expr,
};

use super::{
    Listed, ListedProduct, ProductCard, SortKey,
    plan::Plan,
    search_index::{PageSpec, Place, SearchIndex},
    sorting::Keyset,
    sqlite_count,
};
use crate::{
    domain::{Cursor, SearchTerms},
    error::AppResult,
    service::pagination::Page,
};

/// The page `plan` describes.
pub(super) async fn read(
    db: &DatabaseConnection,
    index: &SearchIndex,
    plan: &Plan,
) -> AppResult<Page<Listed>> {
    if let Some(terms) = &plan.plain_search
        && plan.sorting.key == SortKey::Relevance
    {
        return indexed(db, index, terms, plan).await;
    }
    let (rows, counted) = fetch(db, plan).await?;
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
    match &plan.plain_search {
        Some(terms) if db.get_database_backend() == DbBackend::Sqlite => {
            sqlite_count::count(db, terms, plan.include_archived).await
        }
        _ => Ok(plan.matching.clone().count(db).await?),
    }
}

/// A plain search in relevance order, from the search index: it counts and ranks every
/// match, and tells the page's product ids, whose rows one statement reads.
async fn indexed(
    db: &DatabaseConnection,
    index: &SearchIndex,
    terms: &SearchTerms,
    plan: &Plan,
) -> AppResult<Page<Listed>> {
    let place = |keyset: &Keyset| match keyset {
        (sea_orm::Value::Double(Some(score)), id) => Some(Place {
            score: *score,
            id: *id,
        }),
        _ => None,
    };
    let (after, before) = (plan.after.as_ref(), plan.before.as_ref());
    let (from, until) = if plan.window.backward {
        (before, after)
    } else {
        (after, before)
    };
    let spec = PageSpec {
        // The page and one more, to tell whether there is more that way.
        limit: usize::try_from(plan.window.limit + 1).unwrap_or(usize::MAX),
        descending: plan.read_order() == Order::Desc,
        from: from.and_then(place),
        until: until.and_then(place),
    };
    let found = index.search(db, terms, plan.include_archived, spec).await?;
    let ids = found.page.iter().map(|place| place.id);
    let mut query = product::Entity::find().filter(product::Column::Id.is_in(ids));
    if !plan.include_archived {
        // Archived since the index was brought up to date.
        query = query.filter(product::Column::Archived.eq(false));
    }
    let statement = listed_columns(query, plan).build(db.get_database_backend());
    let mut by_id = db
        .query_all_raw(statement)
        .await?
        .iter()
        .map(|row| {
            let listed = listed_row(row, plan)?;
            Ok((listed.0.card.id, listed))
        })
        .collect::<AppResult<HashMap<_, _>>>()?;
    let rows = found
        .page
        .iter()
        .filter_map(|place| {
            let listed = by_id.remove(&place.id)?;
            Some((
                plan.sorting.cursor(&listed.0.card, Some(place.score)),
                listed,
            ))
        })
        .collect();
    Ok(plan.window.page(rows, found.before_from, found.total))
}

/// Runs the page query: what the listing shows of each product (see [`listed_columns`]),
/// and for relevance, each row's rank. Answers the rows, and the number of all matches
/// when the query counted them on the way (see [`counts_matches`]).
async fn fetch(
    db: &DatabaseConnection,
    plan: &Plan,
) -> AppResult<(Vec<(Cursor, Listed)>, Option<u64>)> {
    let mut query = listed_columns(plan.page_query(), plan);
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
            let listed = listed_row(row, plan)?;
            let rank = if ranked {
                Some(row.try_get("", RANK)?)
            } else {
                None
            };
            Ok((plan.sorting.cursor(&listed.0.card, rank), listed))
        })
        .collect::<AppResult<_>>()?;
    Ok((rows, total))
}

/// `query` selecting what a page shows of each product: its card, or its whole row when
/// the listing asked for details; and its category in the same query when the listing
/// asked for categories.
fn listed_columns(query: Select<product::Entity>, plan: &Plan) -> Select<product::Entity> {
    let query = query.select_only();
    let query = if plan.with_details {
        product::Model::select_cols_nested(query, Some(PRODUCT), None)
    } else {
        ProductCard::select_cols_nested(query, Some(PRODUCT), None)
    };
    if plan.with_categories {
        category::Model::select_cols_nested(query.left_join(category::Entity), Some(CATEGORY), None)
    } else {
        query
    }
}

/// One product of a query made by [`listed_columns`].
fn listed_row(row: &QueryResult, plan: &Plan) -> AppResult<Listed> {
    let product = if plan.with_details {
        ListedProduct::from(product::Model::from_query_result(row, PRODUCT)?)
    } else {
        ListedProduct::from(ProductCard::from_query_result(row, PRODUCT)?)
    };
    // The foreign key keeps a product's category: a product with one has it joined.
    let category = match product.card.category_id {
        Some(_) if plan.with_categories => Some(category::Model::from_query_result(row, CATEGORY)?),
        _ => None,
    };
    Ok((product, category))
}

/// Whether the page query counts every match for `totalCount` itself, in a window over
/// what it reads, instead of a second query. Only a ranked page without a cursor: ranking
/// reads every match anyway, so counting them on the way costs nearly nothing, where the
/// count alone was a second pass over all of them (PostgreSQL, 100,000 products, a common
/// word's 16,000 matches: 102 ms to count plus 131 ms to rank, 146 ms as one query;
/// bench/README.md). A page in another order reads only its own rows through an index,
/// which a window over every match would spoil; and past a cursor the query sees only
/// the matches beyond it. PostgreSQL only: SQLite's bm25() may not share a query with a
/// window function. (A plain search by relevance never gets here: the index serves it.)
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
