//! Following `product_search_changes`, the trail of every change to what search finds in
//! a product (written by triggers: migration `m20261206_090000_record_search_changes`).
//!
//! A [`Horizon`] marks how far a follower has read. Asking for what changed since it
//! answers every change committed after it, sometimes a change seen before again (on
//! PostgreSQL, the rows of a transaction that was running at the last poll are asked
//! for until it ends), which [`Followed`] leaves out.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::error::AppResult;

/// How far a follower has read the trail.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Horizon {
    /// SQLite: the last change id read. One writer at a time commits ids in order, so
    /// every change after it has a greater id.
    Sqlite(i64),
    /// PostgreSQL: the oldest transaction that was still running at the last poll (a
    /// `xid8`, as text). Every change not yet seen was made by it or a later one.
    Postgres(String),
}

/// A follower of the trail: where it has read to, and the changes at that edge it has
/// already seen.
#[derive(Debug)]
pub(super) struct Followed {
    horizon: Horizon,
    seen: HashSet<i64>,
}

impl Followed {
    /// A follower that starts now: the changes it will be told of are those committed
    /// after this call. Read before the catalog, so that a change made while the catalog
    /// is read is told again rather than lost.
    pub async fn starting_now(db: &DatabaseConnection) -> AppResult<Self> {
        let horizon = match db.get_database_backend() {
            DbBackend::Postgres => {
                let sql = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon";
                let row = db
                    .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
                    .await?;
                Horizon::Postgres(match row {
                    Some(row) => row.try_get("", "horizon")?,
                    None => "0".to_owned(),
                })
            }
            backend => {
                let sql = "SELECT coalesce(max(id), 0) AS horizon FROM product_search_changes";
                let row = db
                    .query_one_raw(Statement::from_string(backend, sql))
                    .await?;
                Horizon::Sqlite(match row {
                    Some(row) => row.try_get("", "horizon")?,
                    None => 0,
                })
            }
        };
        Ok(Self {
            horizon,
            seen: HashSet::new(),
        })
    }

    /// The products changed since this follower's horizon, each once, in no particular
    /// order, and the follower that has seen them: kept once they are indexed, so that a
    /// failure to index them tells them again. One indexed statement.
    pub async fn changed(&self, db: &DatabaseConnection) -> AppResult<(Vec<i32>, Self)> {
        let (rows, horizon) = match &self.horizon {
            Horizon::Postgres(xmin) => {
                // The horizon and the rows come from the same snapshot: a transaction
                // still running in it has an id at or after its xmin, so its rows are
                // asked for again next time.
                let sql = "SELECT poll.horizon, c.id, c.product_id
                     FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon) poll
                     LEFT JOIN product_search_changes c ON c.txid >= $1::text::xid8";
                let statement =
                    Statement::from_sql_and_values(DbBackend::Postgres, sql, [xmin.into()]);
                let rows = db.query_all_raw(statement).await?;
                let horizon = match rows.first() {
                    Some(row) => Horizon::Postgres(row.try_get("", "horizon")?),
                    None => self.horizon.clone(),
                };
                let changes = rows
                    .iter()
                    .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "product_id")?)))
                    .collect::<Result<Vec<(Option<i64>, Option<i32>)>, sea_orm::DbErr>>()?
                    .into_iter()
                    // No change at all is one row of the horizon alone.
                    .filter_map(|(id, product)| Some((id?, product?)))
                    .collect();
                (changes, horizon)
            }
            Horizon::Sqlite(last) => {
                let sql = "SELECT id, product_id FROM product_search_changes WHERE id > ?";
                let statement =
                    Statement::from_sql_and_values(DbBackend::Sqlite, sql, [(*last).into()]);
                let rows = db
                    .query_all_raw(statement)
                    .await?
                    .iter()
                    .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "product_id")?)))
                    .collect::<Result<Vec<(i64, i32)>, sea_orm::DbErr>>()?;
                let last = rows.iter().map(|(id, _)| *id).max().unwrap_or(*last);
                (rows, Horizon::Sqlite(last))
            }
        };
        let products: HashSet<i32> = rows
            .iter()
            .filter(|(id, _)| !self.seen.contains(id))
            .map(|(_, product)| *product)
            .collect();
        let followed = Self {
            horizon,
            // What this poll read is all that the next one can read again.
            seen: rows.into_iter().map(|(id, _)| id).collect(),
        };
        Ok((products.into_iter().collect(), followed))
    }
}

/// Deletes the trail's rows older than a day: every process follows it at least every
/// few seconds, and a process that starts reads the catalog itself.
pub async fn prune(db: &DatabaseConnection) -> AppResult<u64> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "DELETE FROM product_search_changes WHERE changed_at < now() - interval '1 day'"
        }
        _ => "DELETE FROM product_search_changes WHERE changed_at < datetime('now', '-1 day')",
    };
    let done = db
        .execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(done.rows_affected())
}
