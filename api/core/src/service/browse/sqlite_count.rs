//! SQLite's count of a search narrowed by nothing but the archive, sorted by something
//! other than relevance (which the search index serves). The general count joins every
//! match to its product row to check `archived`; with a common word matching thousands
//! of products, reading those rows cost most of the time. The FTS5 index alone answers
//! it, less the archived matches found through a partial index.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::{domain::SearchTerms, error::AppResult};

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
