//! SQLite's plan for a search narrowed by nothing but the archive: the storefront's search
//! box. The general query joins every match to its product row (to check `archived`) and
//! sorts the joined rows; with a common word matching thousands of products, reading those
//! rows cost most of the time. The FTS5 index alone answers the count and the order, so
//! only the page's own products are read.

use std::collections::HashMap;

use entity::product;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement,
    sea_query::{Alias, Expr, Query},
};

use super::{ListedProduct, ProductCard, full_text, plan::Plan, sorting::Sorting};
use crate::{
    domain::{Cursor, SearchTerms},
    error::AppResult,
};

/// Candidates read beyond the page, so a few archived products among the best matches
/// do not send the page to the general query.
const SLACK: u64 = 32;

/// The matches that are not archived (unless archived ones are listed too): all matches
/// in the FTS5 index, less the archived ones, found through the partial index of
/// archived ids (migration 000006) rather than by reading each match's product row.
/// The FTS5 index holds every product (its triggers keep it in step), so the
/// difference is exact.
pub(super) async fn count(
    db: &DatabaseConnection,
    terms: &SearchTerms,
    include_archived: bool,
) -> AppResult<u64> {
    let matching = scalar(
        db,
        "SELECT count(*) AS n FROM product_search WHERE product_search MATCH ?",
        terms,
    )
    .await?;
    if include_archived {
        return Ok(matching);
    }
    // INDEXED BY: left to itself the planner reads the product row of every match.
    let archived = scalar(
        db,
        "SELECT count(*) AS n FROM products INDEXED BY idx_products_archived
         WHERE archived AND id IN
            (SELECT rowid FROM product_search WHERE product_search MATCH ?)",
        terms,
    )
    .await?;
    Ok(matching.saturating_sub(archived))
}

async fn scalar(db: &DatabaseConnection, sql: &str, terms: &SearchTerms) -> AppResult<u64> {
    let statement = Statement::from_sql_and_values(DbBackend::Sqlite, sql, [terms.fts5().into()]);
    let n: i64 = match db.query_one_raw(statement).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or_default())
}

/// The page's rows of `plan` in read order with their ranks, as the general query reads
/// them (between the same cursors, the page and one more row), or
/// `None` when archived candidates left the page short and it may only be read by the
/// general query.
///
/// The best candidates come from the FTS5 table alone, ranked by the same bm25 and
/// bounded by the same cursors (on its rowid, which is the product id); then only
/// their product rows are read, and the archived ones dropped.
pub(super) async fn page(
    db: &DatabaseConnection,
    terms: &SearchTerms,
    plan: &Plan,
) -> AppResult<Option<Vec<(Cursor, ListedProduct)>>> {
    let sorting = &plan.sorting;
    let order = plan.read_order();
    // The page and one more row, to tell whether there is a next.
    let wanted = plan.window.limit + 1;
    let rank = full_text::rank(terms, DbBackend::Sqlite);
    let rowid = Expr::cust("product_search.rowid");
    let limit = wanted + SLACK;
    let mut query = Query::select();
    query
        .expr_as(rowid.clone(), Alias::new("id"))
        .expr_as(rank.clone(), Alias::new("sort_rank"))
        .from(Alias::new("product_search"))
        .and_where(Expr::cust_with_values(
            "product_search MATCH ?",
            [terms.fts5()],
        ));
    if let Some((value, id)) = plan.after.clone() {
        let down = sorting.descending;
        query.and_where(Sorting::past(rank.clone(), rowid.clone(), value, id, down));
    }
    if let Some((value, id)) = plan.before.clone() {
        let down = !sorting.descending;
        query.and_where(Sorting::past(rank.clone(), rowid.clone(), value, id, down));
    }
    query
        .order_by_expr(rank, order.clone())
        .order_by_expr(rowid, order)
        .limit(limit);
    let candidates = db
        .query_all_raw(DbBackend::Sqlite.build(&query))
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "sort_rank")?)))
        .collect::<Result<Vec<(i32, f64)>, sea_orm::DbErr>>()?;

    let mut products = product::Entity::find()
        .filter(product::Column::Id.is_in(candidates.iter().map(|(id, _)| *id)));
    if !plan.include_archived {
        products = products.filter(product::Column::Archived.eq(false));
    }
    let products: Vec<ListedProduct> = if plan.with_details {
        let rows = products.all(db).await?;
        rows.into_iter().map(ListedProduct::from).collect()
    } else {
        let rows = products.into_partial_model::<ProductCard>().all(db).await?;
        rows.into_iter().map(ListedProduct::from).collect()
    };
    let mut by_id: HashMap<i32, ListedProduct> =
        products.into_iter().map(|p| (p.card.id, p)).collect();
    let rows: Vec<_> = candidates
        .iter()
        .filter_map(|(id, rank)| {
            let product = by_id.remove(id)?;
            Some((sorting.cursor(&product.card, Some(*rank)), product))
        })
        .take(wanted as usize)
        .collect();
    let more_candidates = candidates.len() as u64 == limit;
    if (rows.len() as u64) < wanted && more_candidates {
        return Ok(None);
    }
    Ok(Some(rows))
}
