//! Connecting to SQLite or PostgreSQL with settings that are safe under concurrency, and
//! beginning write transactions that cannot fail halfway on SQLite.

use std::{
    collections::HashMap,
    ops::Deref,
    path::PathBuf,
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use entity::write_probe;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveValue::Set,
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, ExecResult, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
    sea_query::OnConflict,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::error::sqlite_error;

/// How long connecting to PostgreSQL may take at start before it is reported as
/// unreachable: long enough for a slow network, short enough that an operator who got the
/// host wrong learns it at once.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes SQLite may hold in the process before it frees cached pages to stay under it
/// (`PRAGMA soft_heap_limit`, one limit for all connections). Without it each of the
/// pool's connections keeps a page cache of its own (2 MiB by default) and a search's
/// working memory, which glibc's per-thread arenas then keep after SQLite frees it: 178
/// MiB resident after a search load on 100,000 products (bench/README.md). Pages it
/// frees are still in the operating system's file cache, so a read that misses costs a
/// copy, not a disk read.
const SQLITE_SOFT_HEAP_LIMIT: u64 = 24 << 20;

/// Opens a pool. On SQLite: WAL so readers never wait for the writer, FULL sync so a
/// committed order survives a power cut, foreign keys on, a busy timeout so writers
/// queue instead of failing, and no connection back into the pool that is still inside a
/// transaction (see [`leaves_no_transaction_open`]).
///
/// A database that cannot be opened is reported with where it is (the SQLite file, the
/// PostgreSQL host and port; never the password) and what to check.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let target = Target::of(url);
    target.check().await?;
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections.max(1))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("soft_heap_limit", SQLITE_SOFT_HEAP_LIMIT.to_string())
        })
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_release(|conn, _| Box::pin(leaves_no_transaction_open(conn)))
        });
    // PostgreSQL: the pool keeps retrying a server that refuses (e.g. one still starting)
    // until its acquire timeout; at start, give up sooner and say where. SQLite is local,
    // and its waits for another process's lock are busy_timeout's to bound.
    let connected = if matches!(target, Target::Postgres { .. }) {
        match tokio::time::timeout(CONNECT_TIMEOUT, Database::connect(options)).await {
            Ok(connected) => connected,
            Err(_) => anyhow::bail!(
                "cannot open {target}: no connection within {} s; is the server up and \
                 accepting connections?",
                CONNECT_TIMEOUT.as_secs()
            ),
        }
    } else {
        open_sqlite(options).await
    };
    connected.with_context(|| format!("cannot open {target}"))
}

/// How often a SQLite database is opened again after a lock that waiting cannot end.
const SQLITE_OPEN_ATTEMPTS: u32 = 20;

/// Opens a SQLite database. Processes opening a new database together each switch it to
/// WAL mode, which takes the whole file: each holds its read of the header while waiting
/// for the other's, a deadlock SQLite breaks at once by answering one of them "database
/// is locked", without waiting busy_timeout. Opened again, the file is already in WAL mode.
async fn open_sqlite(options: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    let mut attempt = 1;
    loop {
        match Database::connect(options.clone()).await {
            Err(err) if attempt < SQLITE_OPEN_ATTEMPTS && is_sqlite_locked(&err) => {
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                attempt += 1;
            }
            opened => return opened,
        }
    }
}

/// SQLITE_BUSY ("database is locked") as sea-orm reports it from a new connection.
fn is_sqlite_locked(err: &DbErr) -> bool {
    let DbErr::Conn(err) = err else {
        return false;
    };
    sqlite_error(err).is_some_and(|err| err.code().as_deref() == Some("5"))
}

/// Where a database URL points, as an operator would name it in an error message.
enum Target {
    SqliteFile(PathBuf),
    Postgres {
        host: String,
        port: u16,
    },
    /// In-memory SQLite, a Unix socket, or a URL sqlx will judge itself.
    Other(String),
}

impl Target {
    fn of(url: &str) -> Self {
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() || path.contains(":memory:") {
                return Self::Other("the in-memory SQLite database".into());
            }
            return Self::SqliteFile(PathBuf::from(path));
        }
        if let Ok(parsed) = url::Url::parse(url)
            && matches!(parsed.scheme(), "postgres" | "postgresql")
            && let Some(host) = parsed.host_str().filter(|host| !host.is_empty())
        {
            return Self::Postgres {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port: parsed.port().unwrap_or(5432),
            };
        }
        Self::Other("the database of DATABASE_URL".into())
    }

    /// Fails early, and with the fix, where the driver's own error would say little: a
    /// SQLite file whose directory is missing ("unable to open database file"), a
    /// PostgreSQL host that does not answer (retried in silence until a timeout).
    async fn check(&self) -> anyhow::Result<()> {
        match self {
            Self::SqliteFile(path) => {
                let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
                    return Ok(());
                };
                if !dir.is_dir() {
                    anyhow::bail!(
                        "cannot open {self}: the directory {} does not exist; create it, or \
                         point DATABASE_URL at a file in an existing directory",
                        dir.display()
                    );
                }
                Ok(())
            }
            Self::Postgres { host, port } => {
                let reach = tokio::net::TcpStream::connect((host.as_str(), *port));
                match tokio::time::timeout(CONNECT_TIMEOUT, reach).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) => anyhow::bail!(
                        "cannot reach {self}: {err}; is PostgreSQL running there, and are \
                         the host and port in DATABASE_URL right?"
                    ),
                    Err(_) => anyhow::bail!(
                        "cannot reach {self}: no answer within {} s; is the host right, and \
                         may this machine reach it (firewall)?",
                        CONNECT_TIMEOUT.as_secs()
                    ),
                }
            }
            Self::Other(_) => Ok(()),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SqliteFile(path) => write!(f, "the SQLite database {}", path.display()),
            Self::Postgres { host, port } if host.contains(':') => {
                write!(f, "PostgreSQL at [{host}]:{port}")
            }
            Self::Postgres { host, port } => write!(f, "PostgreSQL at {host}:{port}"),
            Self::Other(what) => f.write_str(what),
        }
    }
}

/// Whether a SQLite connection coming back to the pool may be used again: `false` (the
/// pool then closes it) while sqlx still counts it inside a transaction.
///
/// After SQLITE_FULL or SQLITE_IOERR, SQLite may roll the whole transaction back on its
/// own (its docs say so, and to issue ROLLBACK to be sure). sqlx does not notice: it
/// still counts one open transaction, the ROLLBACK it queues when sea-orm drops the
/// failed transaction finds none open, fails, and is ignored, and the connection goes
/// back to the pool with its count off by one. Its next `begin` then issues a SAVEPOINT
/// instead of BEGIN IMMEDIATE, which opens a DEFERRED transaction that a later ROLLBACK
/// TO SAVEPOINT never ends: the connection sits idle holding the write lock, and every other writer (the
/// mail worker too) waits out busy_timeout and fails with "database is locked" until
/// the process restarts. Closing the connection ends whatever it holds (sqlite3_close
/// rolls back) and the pool opens a fresh one when it needs it.
async fn leaves_no_transaction_open(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection;

    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A transaction dropped without commit or rollback has its ROLLBACK queued on the
    // connection's worker thread, not yet run; a ping waits for everything queued before
    // it, so only a count that is still off afterwards is a connection gone wrong.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!(
            "closing a SQLite connection left inside a transaction (after a failed commit or \
             rollback, e.g. a full disk)"
        );
        return Ok(false);
    }
    Ok(true)
}

/// Applies the pending migrations, all in one write transaction that holds the migration
/// lock: an advisory lock on PostgreSQL, the write lock of an IMMEDIATE transaction on
/// SQLite (whose DDL is transactional too). Processes started at once on one database then
/// migrate one after the other, the later ones finding nothing left to do, instead of
/// colliding on `CREATE TABLE` and failing to start; and a process killed halfway leaves
/// the schema as it was, where SQLite (which sea-orm migrates without a transaction) would
/// keep half a migration and refuse to start again.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    lock_for_transaction(&txn, "shop migrations").await?;
    Migrator::up(&*txn, None).await?;
    txn.commit().await
}

/// Begins a transaction that is going to write. SQLite's default DEFERRED transaction
/// that reads and then writes fails with SQLITE_BUSY under concurrent writers (and
/// busy_timeout cannot help it); IMMEDIATE takes the write lock up front and waits for it.
///
/// SQLite has one writer at a time, and a connection that finds the lock taken waits in
/// its busy handler's sleeps of up to 100 ms, unfairly: under a checkout load some writers
/// would wait seconds while others got through. So this process's writers first queue for
/// their turn in a fair async queue, and only the one whose turn it is asks SQLite for the
/// lock; busy_timeout is left to arbitrate between processes.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let (sqlite_transaction_mode, turn) = match sqlite_writer_queue(db) {
        Some(queue) => (
            Some(SqliteTransactionMode::Immediate),
            Some(queue.lock_owned().await),
        ),
        None => (None, None),
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode,
            ..Default::default()
        })
        .await?;
    Ok(WriteTransaction { txn, _turn: turn })
}

/// The queue of this process's writers to one SQLite database file; `None` on PostgreSQL,
/// whose writers run side by side.
fn sqlite_writer_queue(db: &DatabaseConnection) -> Option<Arc<tokio::sync::Mutex<()>>> {
    static QUEUES: LazyLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    let mut queues = QUEUES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Some(queues.entry(file).or_default().clone())
}

/// A transaction begun by [`begin_write`]; on SQLite it holds this process's turn to write
/// until it is committed, rolled back or dropped.
pub struct WriteTransaction {
    // Declared first, so it is dropped (and rolled back) before the turn passes on.
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

/// Runs `work` in one write transaction (see [`begin_write`]): committed when it answers
/// `Ok`, rolled back when it fails. For work that is written once, inside the caller's
/// transaction, and that some callers run on its own.
pub async fn write<T, E: From<DbErr>>(
    db: &DatabaseConnection,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
) -> Result<T, E> {
    let txn = begin_write(db).await?;
    let value = work(&txn).await?;
    txn.commit().await?;
    Ok(value)
}

impl Deref for WriteTransaction {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTransaction {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Makes the write transactions that take the lock `name` run one at a time from here to
/// their commit, so a value one of them found free (a slug made from a name) is still
/// free when it inserts it. SQLite's IMMEDIATE write transactions already run one at a
/// time; PostgreSQL's READ COMMITTED ones would both see the value free and then collide
/// on the unique index.
pub async fn lock_for_transaction(txn: &DatabaseTransaction, name: &str) -> Result<(), DbErr> {
    advisory_lock(
        txn,
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [name.into()],
    )
    .await
}

/// The class of [`queue_for_stock`]'s advisory locks (the first of their two keys). The
/// two-key advisory locks are a space apart from [`lock_for_transaction`]'s one-key ones.
const STOCK_LOCK_CLASS: i32 = 1;

/// Queues the transaction, on PostgreSQL, for its turn to take a product's stock, until
/// it commits. Row locks alone make a bad queue for a hot row: each commit of one buyer
/// wakes every buyer waiting for that product's row, and they race for it again (seen on
/// a flash sale: of 32 connections, nearly all waiting on the row's last writer at any
/// moment). An advisory lock's waiters are woken one at a time, in turn, and the one woken
/// finds the row free. Callers take the locks in product order, as they take the rows.
pub async fn queue_for_stock(txn: &DatabaseTransaction, product_id: i32) -> Result<(), DbErr> {
    advisory_lock(
        txn,
        "SELECT pg_advisory_xact_lock($1, $2)",
        [STOCK_LOCK_CLASS.into(), product_id.into()],
    )
    .await
}

/// Runs `sql`, a PostgreSQL advisory lock held to the end of the transaction, on
/// PostgreSQL only: SQLite's write transactions already run one at a time.
async fn advisory_lock<const N: usize>(
    txn: &DatabaseTransaction,
    sql: &str,
    values: [sea_orm::Value; N],
) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// How often at most `/readyz` writes to the database. Balancers poll every few seconds,
/// several of them and on every process, and `/readyz` may be reachable from anywhere: a
/// write (an fsync on SQLite) per request would let them take the writer's turn from
/// checkouts. A result younger than this is answered again instead.
const WRITE_PROBE_INTERVAL: Duration = Duration::from_secs(2);
/// A write probe that has not committed by then counts as failed: the lock is held
/// elsewhere (another process) or the database hangs; either way nothing writes.
const WRITE_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the database cannot serve requests now; `/readyz` answers it with 503.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotReady {
    /// No connection answers.
    Unreachable,
    /// A write failed: a full disk, a read-only database.
    CannotWrite,
    /// A write did not commit within [`WRITE_PROBE_TIMEOUT`].
    WriteTimedOut,
}

impl NotReady {
    /// The short reason `/readyz` gives.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unreachable => "database unreachable",
            Self::CannotWrite => "database cannot take writes",
            Self::WriteTimedOut => "database write timed out",
        }
    }
}

/// Backs `/readyz`: whether the database answers and takes a write. A database that
/// answers reads but refuses every write (a full disk) must take the process out of
/// rotation too, and put it back once writes work again.
#[derive(Clone)]
pub struct Readiness {
    db: DatabaseConnection,
    /// The last write probe. Behind an async lock, so that concurrent checks wait for
    /// one probe instead of each running their own.
    last_probe: Arc<tokio::sync::Mutex<Option<Probed>>>,
}

/// When a write probe ran, and how it went.
type Probed = (tokio::time::Instant, Result<(), NotReady>);

impl Readiness {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            last_probe: Arc::default(),
        }
    }

    /// Pings on every call (a read, cheap), and writes at most every
    /// [`WRITE_PROBE_INTERVAL`].
    pub async fn check(&self) -> Result<(), NotReady> {
        if self.db.ping().await.is_err() {
            return Err(NotReady::Unreachable);
        }
        let mut last = self.last_probe.lock().await;
        if let Some((at, outcome)) = *last
            && at.elapsed() < WRITE_PROBE_INTERVAL
        {
            return outcome;
        }
        let outcome = self.probe().await;
        let was_ready = last.is_none_or(|(_, previous)| previous.is_ok());
        if outcome.is_ok() && !was_ready {
            tracing::info!("the database takes writes again");
        }
        *last = Some((tokio::time::Instant::now(), outcome));
        outcome
    }

    async fn probe(&self) -> Result<(), NotReady> {
        match tokio::time::timeout(WRITE_PROBE_TIMEOUT, probe_write(&self.db)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                tracing::warn!(%error, "readiness: the database refused a write");
                Err(NotReady::CannotWrite)
            }
            Err(_) => {
                tracing::warn!(timeout = ?WRITE_PROBE_TIMEOUT, "readiness: a write did not commit in time");
                Err(NotReady::WriteTimedOut)
            }
        }
    }
}

/// Commits one small write: the probe row's time, rewritten (an upsert, so it works on a
/// database whose row is gone). It goes through [`begin_write`] like every other write,
/// so on SQLite it waits its turn in the writer queue instead of racing checkouts for
/// the lock, and on several processes it serialises on the one row for a moment.
async fn probe_write(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    write_probe::Entity::insert(write_probe::ActiveModel {
        id: Set(1),
        probed_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(write_probe::Column::Id)
            .update_column(write_probe::Column::ProbedAt)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await
}

/// Counts every SQL statement run through `db` and the clones made of it after this call
/// (other handles on the same pool are not counted): what the N+1 tests read.
pub fn count_statements(db: &mut DatabaseConnection) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two pools stand for two server processes started together on a new database (as
    /// tests/processes.rs does). Before `open_sqlite` retried, about one round in five
    /// failed with "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_pools_opening_a_new_sqlite_file_together_both_open_it() {
        let dir = std::env::temp_dir().join(format!("shop-db-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut failures = Vec::new();
        for round in 0..40 {
            let url = format!("sqlite://{}/open-{round}.db?mode=rwc", dir.display());
            let (a, b) = tokio::join!(connect(&url, 2), connect(&url, 2));
            for opened in [a, b] {
                if let Err(err) = opened {
                    failures.push(format!("round {round}: {err:#}"));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
