//! Running a plan: the total, the page's rows (through SQLite's search plan when it
//! applies) and whether anything lies on the side of the cursor that was not read.

use entity::{category, product};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, FromQueryResult, PaginatorTrait, QuerySelect, QueryTrait,
    Select,
};

use super::{
    Listed, SortKey,
    plan::Plan,
    sorting::Sorting,
    sqlite_search::{self, Bounds},
};
use crate::{domain::Cursor, error::AppResult, service::pagination::Page};

/// The page `plan` describes.
pub(super) async fn read(db: &DatabaseConnection, plan: &Plan) -> AppResult<Page<Listed>> {
    let total_count = total(db, plan).await?;
    let rows = match fast_rows(db, plan).await? {
        Some(rows) => rows,
        None => fetch(db, plan.page_query(), &plan.sorting, plan.with_categories).await?,
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
    let bounds = Bounds {
        after: plan.after.clone(),
        before: plan.before.clone(),
        order: plan.read_order(),
        wanted: plan.window.limit + 1,
    };
    let rows = sqlite_search::page(db, terms, &plan.sorting, bounds, plan.include_archived).await?;
    let without_categories = |(cursor, product)| (cursor, (product, None));
    Ok(rows.map(|rows| rows.into_iter().map(without_categories).collect()))
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
