//! All configuration, read in one place: command-line flags, each with an environment
//! variable behind it.

use std::net::SocketAddr;

use clap::{ArgAction, Args};

use crate::domain::Currency;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://shop.db?mode=rwc";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";

/// How the server runs. Every field has a flag and an environment variable; the defaults
/// run a complete shop on a SQLite file in the working directory.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Database to use: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Address the HTTP server listens on.
    #[arg(long, env = "SHOP_LISTEN", default_value = DEFAULT_LISTEN, global = true)]
    pub listen: SocketAddr,

    /// Secret that signs access tokens, at least 32 bytes. When unset, a random one is made
    /// at start, and tokens do not survive a restart. Share it between all processes.
    #[arg(long, env = "SHOP_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Log filter in tracing's `EnvFilter` syntax, e.g. `info,shop=debug`.
    #[arg(long, env = "SHOP_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Origins allowed to call the API from a browser, comma-separated; `*` allows any.
    /// Empty (the default) sends no CORS headers, so browsers allow only same-origin calls.
    #[arg(long, env = "SHOP_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Whether the schema can be introspected (GraphiQL needs it).
    #[arg(long, env = "SHOP_INTROSPECTION", default_value_t = true, action = ArgAction::Set, global = true)]
    pub introspection: bool,

    /// Size of the database connection pool.
    #[arg(
        long,
        env = "SHOP_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// The ISO 4217 code of the currency all prices are in.
    #[arg(long, env = "SHOP_CURRENCY", default_value = "USD", value_parser = Currency::parse, global = true)]
    pub currency: Currency,

    /// Minutes an order may stay PENDING (stock taken, payment not settled) before the
    /// sweeper settles it: completed if the gateway did charge it, else cancelled with its
    /// stock returned.
    #[arg(
        long,
        env = "SHOP_PENDING_ORDER_MINUTES",
        default_value_t = 15,
        global = true
    )]
    pub pending_order_minutes: u32,

    /// Seconds between two runs of the sweeper (abandoned orders, failed refunds).
    #[arg(
        long,
        env = "SHOP_SWEEP_INTERVAL_SECS",
        default_value_t = 30,
        global = true
    )]
    pub sweep_interval_secs: u64,

    /// Take the client address for login throttling from the last X-Forwarded-For entry.
    /// Turn on only behind a load balancer that sets that header.
    #[arg(long, env = "SHOP_TRUST_FORWARDED_FOR", default_value_t = false, action = ArgAction::Set, global = true)]
    pub trust_forwarded_for: bool,
}

impl Config {
    /// The defaults, as the command line would give them with no flags and no environment.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            listen: DEFAULT_LISTEN.parse().unwrap_or_else(|_| unreachable!()),
            jwt_secret: None,
            log: "info".into(),
            cors_origins: Vec::new(),
            introspection: true,
            db_max_connections: 16,
            trust_forwarded_for: false,
            pending_order_minutes: 15,
            sweep_interval_secs: 30,
            currency: Currency::parse("USD").unwrap_or_else(|_| unreachable!()),
        }
    }
}
