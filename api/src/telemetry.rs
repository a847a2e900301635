//! What `/metrics` shows Prometheus: counters and histograms recorded as things happen, and
//! gauges of the database read at scrape time.
//!
//! The `metrics` facade has one recorder per process, so it is installed once and shared
//! by every server the process builds (the tests build many). Gauges of the database are
//! not kept in that recorder: they describe one server's pool and tables at the moment of
//! the scrape, and a value left there by an earlier scrape would be shown as current when
//! a count fails. They are rendered from fresh readings instead, and left out when a
//! reading fails.

mod process;

use std::{fmt::Write, sync::OnceLock, time::Duration};

use futures_util::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DatabaseConnectionType, sqlx};

use crate::error::AppResult;

/// GraphQL operations executed, by `operation` and `outcome` (`ok` or an error code).
pub const GRAPHQL_REQUESTS: &str = "shop_graphql_requests_total";
/// Seconds a GraphQL operation took, by `operation`.
pub const GRAPHQL_DURATION: &str = "shop_graphql_request_duration_seconds";
/// Checkouts, by how they ended (`outcome`) and `method`; payments that waited for their
/// customer, by who asked how they ended (`by`) and the answer (`outcome`); and attempts
/// refused by throttling, by `scope`: recorded by the services, so their names live there.
pub use crate::service::{checkout::CHECKOUTS, orders::COMPLETIONS, throttle::THROTTLED};
/// Outbox delivery attempts, by `outcome`.
pub const OUTBOX_DELIVERIES: &str = "shop_outbox_deliveries_total";
/// Outbox messages waiting (`pending`) or given up on (`dead`), by `state`.
pub const OUTBOX_MESSAGES: &str = "shop_outbox_messages";
/// Open connections of the database pool.
pub const DB_POOL_CONNECTIONS: &str = "shop_db_pool_connections";
/// Open connections of the database pool that no one is using.
pub const DB_POOL_IDLE: &str = "shop_db_pool_idle_connections";
/// The most connections the database pool may open.
pub const DB_POOL_MAX: &str = "shop_db_pool_max_connections";

/// Upper bounds of the latency buckets, in seconds: from a cached lookup to the 30 s
/// request timeout.
const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram samples are folded into their buckets when no one scrapes;
/// without it, an unscraped server would keep every sample in memory.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process's recorder, installed on first use.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(install)
}

fn install() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(GRAPHQL_DURATION.into()), &DURATION_BUCKETS)
        .unwrap_or_else(|_| unreachable!("the bucket list is not empty"));
    let handle = match builder.install_recorder() {
        Ok(handle) => handle,
        Err(err) => {
            // Only when the embedding program installed a recorder of its own: ours then
            // records nothing, and /metrics shows only the database gauges.
            tracing::warn!(error = %err, "cannot install the metrics recorder");
            PrometheusBuilder::new().build_recorder().handle()
        }
    };
    describe();
    handle
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(
        GRAPHQL_REQUESTS,
        "GraphQL operations executed, by operation (type:rootFields) and outcome (ok or the first error's code)"
    );
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "Time to execute a GraphQL operation, by operation"
    );
    describe_counter!(CHECKOUTS, "Checkouts, by how they ended");
    describe_counter!(
        COMPLETIONS,
        "Payments that waited for their customer, asked about by confirmPayment, the \
         authentication page or the sweeper, by the gateway's answer"
    );
    describe_counter!(
        THROTTLED,
        "Attempts refused with RATE_LIMITED, by what was throttled"
    );
    describe_counter!(
        OUTBOX_DELIVERIES,
        "Outbox delivery attempts of the mail worker, by outcome"
    );
}

/// Folds histogram samples into their buckets every [`UPKEEP_INTERVAL`], for as long as
/// the server runs.
pub async fn upkeep_forever(handle: PrometheusHandle) {
    let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// Reads how many outbox messages wait for delivery and how many were given up on, for
/// the `shop_outbox_messages` gauge. The server hands it in: services record their metrics
/// here, so telemetry must not reach back into them.
pub type OutboxBacklog = fn(&DatabaseConnection) -> BoxFuture<'_, AppResult<(u64, u64)>>;

/// What `/metrics` renders: the process's recorder and this server's database.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    /// A handle whose statements are not counted as requests' (the N+1 tests count those).
    db: DatabaseConnection,
    outbox_backlog: OutboxBacklog,
}

impl Metrics {
    pub fn new(db: DatabaseConnection, outbox_backlog: OutboxBacklog) -> Self {
        Self {
            handle: recorder().clone(),
            db,
            outbox_backlog,
        }
    }

    pub fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }

    /// The exposition text. Never fails: a gauge that cannot be read is logged and left
    /// out, so that everything else is still scraped.
    pub async fn render(&self) -> String {
        let mut text = self.handle.render();
        process::render_build_info(&mut text);
        // Left out where there is no /proc; every other family is still scraped.
        if let Some(stats) = process::ProcessStats::read() {
            stats.render(&mut text);
        }
        if let Some(pool) = PoolStats::of(&self.db) {
            gauge(
                &mut text,
                DB_POOL_CONNECTIONS,
                "Open connections of the database pool",
                &[("", pool.size)],
            );
            gauge(
                &mut text,
                DB_POOL_IDLE,
                "Open connections of the database pool not in use",
                &[("", pool.idle)],
            );
            gauge(
                &mut text,
                DB_POOL_MAX,
                "The most connections the database pool may open",
                &[("", pool.max)],
            );
        }
        match (self.outbox_backlog)(&self.db).await {
            Ok((pending, dead)) => gauge(
                &mut text,
                OUTBOX_MESSAGES,
                "Outbox messages waiting for delivery (pending) or given up on (dead)",
                &[("state=\"pending\"", pending), ("state=\"dead\"", dead)],
            ),
            Err(err) => {
                tracing::error!(error = ?err, "cannot count the outbox for /metrics");
            }
        }
        text
    }
}

/// Appends one gauge family; each sample is its label set (without braces) and value.
fn gauge(text: &mut String, name: &str, help: &str, samples: &[(&str, u64)]) {
    // Writing to a String cannot fail.
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = if labels.is_empty() {
            writeln!(text, "{name} {value}")
        } else {
            writeln!(text, "{name}{{{labels}}} {value}")
        };
    }
    text.push('\n');
}

/// The connection pool as it is now.
struct PoolStats {
    size: u64,
    idle: u64,
    max: u64,
}

impl PoolStats {
    /// `None` for a connection that is not a pool (none is, in the server).
    fn of(db: &DatabaseConnection) -> Option<Self> {
        // Matched, not asked for with `get_*_connection_pool`, which panic on the other
        // backend.
        match &db.inner {
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                Some(Self::read(db.get_sqlite_connection_pool()))
            }
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                Some(Self::read(db.get_postgres_connection_pool()))
            }
            _ => None,
        }
    }

    fn read<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> Self {
        Self {
            size: u64::from(pool.size()),
            idle: u64::try_from(pool.num_idle()).unwrap_or(u64::MAX),
            max: u64::from(pool.options().get_max_connections()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gauge_family_is_rendered_in_the_text_format() {
        let mut text = String::new();

        gauge(
            &mut text,
            "shop_x",
            "An x",
            &[("state=\"a\"", 1), ("state=\"b\"", 22)],
        );
        gauge(&mut text, "shop_y", "A y", &[("", 3)]);

        assert_eq!(
            text,
            "# HELP shop_x An x\n# TYPE shop_x gauge\nshop_x{state=\"a\"} 1\nshop_x{state=\"b\"} 22\n\n\
             # HELP shop_y A y\n# TYPE shop_y gauge\nshop_y 3\n\n"
        );
    }
}
