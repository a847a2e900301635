//! Full-text search as SQL on each database: an FTS5 table on SQLite, a GIN-indexed
//! tsvector on PostgreSQL.

use entity::product;
use sea_orm::{
    DbBackend, QueryFilter, QueryTrait, Select,
    sea_query::{Alias, Expr, JoinType, SimpleExpr},
};

use crate::domain::SearchTerms;

/// `query` narrowed to the products that match `terms`. On SQLite this joins the FTS5
/// index (one index scan, which also makes `bm25` available to sort by); on PostgreSQL
/// it filters on the GIN-indexed tsvector.
pub(super) fn restrict(
    mut query: Select<product::Entity>,
    terms: &SearchTerms,
    backend: DbBackend,
) -> Select<product::Entity> {
    match backend {
        DbBackend::Postgres => query.filter(Expr::cust_with_values(
            "\"products\".\"search_vector\" @@ to_tsquery('simple', $1)",
            [terms.tsquery()],
        )),
        _ => {
            QueryTrait::query(&mut query).join(
                JoinType::InnerJoin,
                Alias::new("product_search"),
                Expr::cust("product_search.rowid = \"products\".\"id\""),
            );
            query.filter(Expr::cust_with_values(
                "product_search MATCH ?",
                [terms.fts5()],
            ))
        }
    }
}

/// How well a product matches `terms`, higher is better, for a query narrowed by
/// [`restrict`]. Name and SKU weigh more than the description.
pub(super) fn rank(terms: &SearchTerms, backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            "ts_rank(\"products\".\"search_vector\", to_tsquery('simple', $1))::float8",
            [terms.tsquery()],
        ),
        _ => Expr::cust("-bm25(product_search, 10.0, 1.0, 5.0)"),
    }
}
