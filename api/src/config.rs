//! All configuration, read in one place: command-line flags, each with an environment
//! variable behind it.

use std::{fmt, path::PathBuf, str::FromStr};

use axum::http::HeaderName;
use clap::{
    ArgAction, Args, ValueEnum,
    builder::{PossibleValue, PossibleValuesParser, TypedValueParser},
};

use crate::{
    auth::DEFAULT_REUSE_GRACE_SECS,
    domain::{Currency, TaxMode},
    http::persisted,
    payments::{paypal, stripe},
    service::throttle,
};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://shop.db?mode=rwc";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";
/// [`DEFAULT_LISTEN`]'s parts, for building the default without parsing it.
const DEFAULT_LISTEN_HOST: &str = "127.0.0.1";
const DEFAULT_LISTEN_PORT: u16 = 8000;
pub const DEFAULT_STRIPE_API_BASE: &str = stripe::DEFAULT_API_BASE;
pub const DEFAULT_PAYPAL_API_BASE: &str = paypal::DEFAULT_API_BASE;
pub const DEFAULT_HTTP_CACHE_MAX_AGE_SECS: u32 = 60;

/// The request headers a browser may send cross-origin: the token, JSON, the caller's own
/// request id, and the client name and version Apollo Client sends (and GraphOS reads).
pub const DEFAULT_CORS_ALLOW_HEADERS: &str = "authorization,content-type,x-request-id,apollographql-client-name,apollographql-client-version";

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people: one readable line per event, coloured only on a terminal.
    #[default]
    Text,
    /// For log shippers: one JSON object per line.
    Json,
}

/// A payment gateway the shop can take money with, by the code `SHOP_PAYMENT_GATEWAYS`
/// lists (and the ledger and `paymentMethods` use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum PaymentGatewayKind {
    /// Offline and free: answers like Stripe's test mode (`tok_visa` succeeds,
    /// `tok_chargeDeclined` is declined) and never moves money.
    #[default]
    Test,
    /// Stripe's PaymentIntents API; needs SHOP_STRIPE_SECRET_KEY.
    Stripe,
    /// PayPal's Orders v2 API: the buyer approves on PayPal's page; needs
    /// SHOP_PAYPAL_CLIENT_ID and SHOP_PAYPAL_CLIENT_SECRET.
    #[value(name = "paypal")]
    PayPal,
}

/// How the server runs. Every field has a flag and an environment variable; the defaults
/// run a complete shop on a SQLite file in the working directory.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Database to use: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Address the HTTP server listens on: `host:port`, where host is an IP address or a
    /// name such as `localhost` (resolved at start).
    #[arg(long, env = "SHOP_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: ListenAddr,

    /// Secret that signs access tokens, at least 32 bytes. When unset, a random one is made
    /// at start, and tokens do not survive a restart. Share it between all processes.
    #[arg(long, env = "SHOP_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Seconds in which a just-rotated refresh token, presented again, gets the same
    /// successor back instead of revoking its session: two tabs (or two requests of one
    /// app) refreshing at once both stay logged in. Later reuse still revokes the session.
    /// 0 turns the grace off; at most an hour, as a longer one weakens reuse detection.
    #[arg(
        long,
        env = "SHOP_REFRESH_REUSE_GRACE_SECS",
        default_value_t = DEFAULT_REUSE_GRACE_SECS,
        value_parser = clap::value_parser!(u32).range(..=3600)
    )]
    pub refresh_reuse_grace_secs: u32,

    /// Log filter in tracing's `EnvFilter` syntax, e.g. `info,shop=debug`.
    #[arg(long, env = "SHOP_LOG", default_value = "info")]
    pub log: String,

    /// `text` (readable, coloured on a terminal) or `json` (one object per line, for a log
    /// shipper).
    #[arg(long, env = "SHOP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Origins allowed to call the API from a browser, comma-separated; `*` allows any.
    /// Empty (the default) sends no CORS headers, so browsers allow only same-origin calls.
    #[arg(long, env = "SHOP_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Request headers a browser may send from those origins, comma-separated. Replaces the
    /// default list, so repeat the defaults you still need.
    #[arg(
        long,
        env = "SHOP_CORS_ALLOW_HEADERS",
        value_delimiter = ',',
        default_value = DEFAULT_CORS_ALLOW_HEADERS,
        value_parser = parse_header_name
    )]
    pub cors_allow_headers: Vec<HeaderName>,

    /// Whether the schema can be introspected (GraphiQL needs it).
    #[arg(long, env = "SHOP_INTROSPECTION", default_value_t = true, action = ArgAction::Set)]
    pub introspection: bool,

    /// Whether `GET /metrics` serves Prometheus metrics; `off` (or `false`) answers 404
    /// there. Keep the route away from the public internet: route only `/graphql` and the
    /// other public paths to the shop, or let only the scraper reach `/metrics`.
    #[arg(
        long,
        env = "SHOP_METRICS",
        default_value = "on",
        action = ArgAction::Set,
        value_parser = on_off(),
        ignore_case = true
    )]
    pub metrics: bool,

    /// Whether `/store` serves the storefront embedded in the binary (a shop to click
    /// through, and where the links in emails land by default); `off` answers 404 there,
    /// for a shop whose storefront lives elsewhere (set SHOP_PUBLIC_URL to it).
    #[arg(
        long,
        env = "SHOP_STOREFRONT",
        default_value = "on",
        action = ArgAction::Set,
        value_parser = on_off(),
        ignore_case = true
    )]
    pub storefront: bool,

    /// Size of the database connection pool.
    #[arg(long, env = "SHOP_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// The ISO 4217 code of the currency all prices are in.
    #[arg(long, env = "SHOP_CURRENCY", default_value = "USD", value_parser = Currency::parse)]
    pub currency: Currency,

    /// Whether catalogue prices include tax (EU style: the totals report the tax they
    /// include) or not (the default, US style: tax is added on top at checkout).
    #[arg(long, env = "SHOP_PRICES_INCLUDE_TAX", default_value_t = false, action = ArgAction::Set)]
    pub prices_include_tax: bool,

    /// Minutes an order may stay PENDING (stock taken, payment not settled) before the
    /// sweeper settles it: completed if the gateway did charge it, else cancelled with its
    /// stock returned.
    #[arg(long, env = "SHOP_PENDING_ORDER_MINUTES", default_value_t = 15)]
    pub pending_order_minutes: u32,

    /// The same limit in seconds, for when minutes are too coarse (tests, demos); when
    /// set, it replaces SHOP_PENDING_ORDER_MINUTES.
    #[arg(long, env = "SHOP_PENDING_ORDER_SECS")]
    pub pending_order_secs: Option<u64>,

    /// Days a guest's cart is kept without a change; the sweeper then deletes it.
    #[arg(long, env = "SHOP_GUEST_CART_IDLE_DAYS", default_value_t = 30)]
    pub guest_cart_idle_days: u32,

    /// Seconds between two runs of the sweeper (abandoned orders, failed refunds, idle
    /// guest carts).
    #[arg(long, env = "SHOP_SWEEP_INTERVAL_SECS", default_value_t = 30)]
    pub sweep_interval_secs: u64,

    /// The storefront's public address, for links in emails (e.g. the password-reset
    /// page). Defaults to the storefront this server serves, `http://<listen>/store`
    /// (the server's own address when SHOP_STOREFRONT is off).
    #[arg(long, env = "SHOP_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Send mail through this SMTP server, e.g. `smtp://127.0.0.1:2525`,
    /// `smtps://user:password@mail.example.com` or `smtp://host:587?tls=required`. When
    /// unset, each message is written as an .eml file into SHOP_MAIL_DIR instead.
    #[arg(long, env = "SHOP_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Folder for .eml files when no SMTP server is set. Defaults to `mail/` beside the
    /// SQLite database (or in the working directory).
    #[arg(long, env = "SHOP_MAIL_DIR")]
    pub mail_dir: Option<PathBuf>,

    /// The sender of every email.
    #[arg(
        long,
        env = "SHOP_MAIL_FROM",
        default_value = "shop <no-reply@shop.localhost>"
    )]
    pub mail_from: String,

    /// Delivery attempts per email before it is given up on (marked dead).
    #[arg(long, env = "SHOP_MAIL_MAX_ATTEMPTS", default_value_t = 8)]
    pub mail_max_attempts: u32,

    /// Milliseconds before the first retry of a failed email; each retry waits twice as long.
    #[arg(long, env = "SHOP_MAIL_RETRY_MS", default_value_t = 5_000)]
    pub mail_retry_ms: u64,

    /// Milliseconds between two looks at the outbox.
    #[arg(long, env = "SHOP_MAIL_POLL_MS", default_value_t = 1_000)]
    pub mail_poll_ms: u64,

    /// The payment gateways buyers may choose from, comma-separated, in the order
    /// `paymentMethods` lists them; the first is the default at checkout. Codes: `test`
    /// (offline; no money moves), `stripe` (needs SHOP_STRIPE_SECRET_KEY) and `paypal`
    /// (needs SHOP_PAYPAL_CLIENT_ID and SHOP_PAYPAL_CLIENT_SECRET). Unset,
    /// SHOP_PAYMENT_GATEWAY alone is enabled.
    #[arg(long, env = "SHOP_PAYMENT_GATEWAYS", value_enum, value_delimiter = ',')]
    pub payment_gateways: Option<Vec<PaymentGatewayKind>>,

    /// Deprecated: use SHOP_PAYMENT_GATEWAYS. The one payment gateway, used only when
    /// SHOP_PAYMENT_GATEWAYS is unset.
    #[arg(
        long,
        env = "SHOP_PAYMENT_GATEWAY",
        value_enum,
        default_value_t = PaymentGatewayKind::Test
    )]
    pub payment_gateway: PaymentGatewayKind,

    /// Stripe secret key (`sk_live_...`, `sk_test_...`, or a restricted `rk_...` allowed to
    /// write PaymentIntents and Refunds). Prefer the environment variable: a flag shows up
    /// in the process list. Never logged.
    #[arg(long, env = "SHOP_STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,

    /// Base URL of Stripe's API. Change it only to point at a mock or a proxy.
    #[arg(long, env = "SHOP_STRIPE_API_BASE", default_value = DEFAULT_STRIPE_API_BASE)]
    pub stripe_api_base: String,

    /// Signing secret (`whsec_...`) of the Stripe webhook endpoint that posts to
    /// `/webhooks/stripe` (subscribe it to `payment_intent.succeeded`,
    /// `payment_intent.payment_failed` and `charge.refunded`). Unset, that route answers 404.
    #[arg(long, env = "SHOP_STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,

    /// Client id of the PayPal REST app the shop takes payments with.
    #[arg(long, env = "SHOP_PAYPAL_CLIENT_ID")]
    pub paypal_client_id: Option<String>,

    /// Secret of that PayPal REST app. Prefer the environment variable: a flag shows up
    /// in the process list. Never logged.
    #[arg(long, env = "SHOP_PAYPAL_CLIENT_SECRET", hide_env_values = true)]
    pub paypal_client_secret: Option<String>,

    /// Base URL of PayPal's API: the live one by default, or the sandbox,
    /// `https://api-m.sandbox.paypal.com` (or a mock).
    #[arg(long, env = "SHOP_PAYPAL_API_BASE", default_value = DEFAULT_PAYPAL_API_BASE)]
    pub paypal_api_base: String,

    /// Id PayPal gave the webhook that posts to `/webhooks/paypal` (subscribe it to
    /// `CHECKOUT.ORDER.APPROVED`, `PAYMENT.CAPTURE.COMPLETED` and `PAYMENT.CAPTURE.DENIED`);
    /// deliveries are verified with PayPal against it. Unset, that route answers 404.
    #[arg(long, env = "SHOP_PAYPAL_WEBHOOK_ID")]
    pub paypal_webhook_id: Option<String>,

    /// Accounts one client address may register per hour (at least 1); past that, `register`
    /// answers RATE_LIMITED. Counted in the database, so the limit holds across processes.
    #[arg(
        long,
        env = "SHOP_REGISTRATIONS_PER_HOUR",
        default_value_t = throttle::DEFAULT_REGISTRATIONS_PER_HOUR,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub registrations_per_hour: u32,

    /// Seconds a CDN or browser may keep the answer to an anonymous GET of the public
    /// catalog (`products`, `product`, `categories`, `category`, `node` of either);
    /// 0 makes every answer `private, no-store`. Authenticated answers never are public.
    #[arg(
        long,
        env = "SHOP_HTTP_CACHE_MAX_AGE_SECS",
        default_value_t = DEFAULT_HTTP_CACHE_MAX_AGE_SECS
    )]
    pub http_cache_max_age_secs: u32,

    /// Documents kept for Apollo's automatic persisted queries (per process, least
    /// recently used evicted first, at most 16 MiB whatever the count; at least 1).
    #[arg(
        long,
        env = "SHOP_PERSISTED_QUERIES",
        default_value_t = persisted::DEFAULT_MAX_ENTRIES,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub persisted_queries: u32,

    /// Take the client address for login and registration throttling from the last
    /// X-Forwarded-For entry. Turn on only behind a load balancer that sets that header.
    #[arg(long, env = "SHOP_TRUST_FORWARDED_FOR", default_value_t = false, action = ArgAction::Set)]
    pub trust_forwarded_for: bool,

    // Links in emails. They lead to the storefront, not to this server: the storefront
    // serves these pages and calls the API from them.
    /// The link to an order in order emails; `{number}` is the order number and
    /// `{public_url}` SHOP_PUBLIC_URL. The storefront must serve this page.
    #[arg(
        long,
        env = "SHOP_ORDER_URL_TEMPLATE",
        default_value = DEFAULT_ORDER_URL_TEMPLATE
    )]
    pub order_url_template: String,

    /// The link in password-reset emails; `{token}` is the reset token and `{public_url}`
    /// SHOP_PUBLIC_URL. The storefront's page there sends the token with the new password
    /// to the `resetPassword` mutation.
    #[arg(
        long,
        env = "SHOP_RESET_PASSWORD_URL_TEMPLATE",
        default_value = DEFAULT_RESET_PASSWORD_URL_TEMPLATE
    )]
    pub reset_password_url_template: String,

    /// The link in welcome and email-verification emails; `{token}` is the verification
    /// token and `{public_url}` SHOP_PUBLIC_URL. The storefront's page there sends the
    /// token to the `verifyEmail` mutation.
    #[arg(
        long,
        env = "SHOP_VERIFY_EMAIL_URL_TEMPLATE",
        default_value = DEFAULT_VERIFY_EMAIL_URL_TEMPLATE
    )]
    pub verify_email_url_template: String,

    /// Where a payment gateway's page (3-D Secure authentication, PayPal's approval)
    /// sends the customer back to; `{number}` is the order number and `{public_url}`
    /// SHOP_PUBLIC_URL. The storefront's page there calls `confirmPayment` and shows the
    /// order.
    #[arg(
        long,
        env = "SHOP_PAYMENT_RETURN_URL_TEMPLATE",
        default_value = DEFAULT_PAYMENT_RETURN_URL_TEMPLATE
    )]
    pub payment_return_url_template: String,

    /// This server's own public address, for the pages it serves itself rather than the
    /// storefront (the test gateway's authentication page). Defaults to its listen address
    /// (`http://127.0.0.1:<port>` when it listens on every interface).
    #[arg(long, env = "SHOP_API_URL")]
    pub api_url: Option<String>,
}

pub const DEFAULT_ORDER_URL_TEMPLATE: &str = "{public_url}/orders/{number}";
pub const DEFAULT_RESET_PASSWORD_URL_TEMPLATE: &str = "{public_url}/reset-password?token={token}";
pub const DEFAULT_VERIFY_EMAIL_URL_TEMPLATE: &str = "{public_url}/verify-email?token={token}";
pub const DEFAULT_PAYMENT_RETURN_URL_TEMPLATE: &str = "{public_url}/orders/{number}";

/// The database, and the log filter: all that `migrate`, `seed-demo` and `create-admin`
/// use, so that their `--help` shows nothing else.
#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Database to use: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Log filter in tracing's `EnvFilter` syntax, e.g. `info,shop=debug`.
    #[arg(long, env = "SHOP_LOG", default_value = "info")]
    pub log: String,
}

/// An on/off setting whose help lists the values it takes: `on` and `off`, and their
/// aliases `true`/`false`, `yes`/`no`, `1`/`0`, in any case.
fn on_off() -> impl TypedValueParser<Value = bool> {
    PossibleValuesParser::new([
        PossibleValue::new("on").aliases(["true", "yes", "1"]),
        PossibleValue::new("off").aliases(["false", "no", "0"]),
    ])
    // The parser hands on the value as typed, alias or not.
    .map(|value| {
        matches!(
            value.to_ascii_lowercase().as_str(),
            "on" | "true" | "yes" | "1"
        )
    })
}

/// `SHOP_LISTEN`: a host (an IP address or a name) and a port, resolved when the server
/// binds, so that `localhost:8000` works as well as `127.0.0.1:8000`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenAddr {
    host: String,
    port: u16,
}

impl Default for ListenAddr {
    /// [`DEFAULT_LISTEN`], which the command line parses to the same (a test says so).
    fn default() -> Self {
        Self {
            host: DEFAULT_LISTEN_HOST.to_owned(),
            port: DEFAULT_LISTEN_PORT,
        }
    }
}

impl ListenAddr {
    /// The `(host, port)` pair that `tokio::net::lookup_host` resolves; an IPv6 host keeps
    /// no brackets.
    pub fn host_and_port(&self) -> (&str, u16) {
        (&self.host, self.port)
    }
}

impl FromStr for ListenAddr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("{text:?} is not host:port, e.g. 127.0.0.1:8000"))?;
        let port = port
            .parse()
            .map_err(|_| format!("{port:?} in {text:?} is not a port (0 to 65535)"))?;
        // `[::1]:8000`: the brackets only separate the address from the port.
        let host = host
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() || host.contains(['[', ']', '/', ' ']) {
            return Err(format!("{text:?} has no usable host, e.g. 127.0.0.1:8000"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Config {
    /// The defaults, as the command line would give them with no flags and no environment.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            listen: ListenAddr::default(),
            jwt_secret: None,
            refresh_reuse_grace_secs: DEFAULT_REUSE_GRACE_SECS,
            log: "info".into(),
            log_format: LogFormat::Text,
            cors_origins: Vec::new(),
            cors_allow_headers: DEFAULT_CORS_ALLOW_HEADERS
                .split(',')
                .filter_map(|name| parse_header_name(name).ok())
                .collect(),
            introspection: true,
            metrics: true,
            storefront: true,
            db_max_connections: 16,
            trust_forwarded_for: false,
            http_cache_max_age_secs: DEFAULT_HTTP_CACHE_MAX_AGE_SECS,
            persisted_queries: persisted::DEFAULT_MAX_ENTRIES,
            registrations_per_hour: throttle::DEFAULT_REGISTRATIONS_PER_HOUR,
            pending_order_minutes: 15,
            pending_order_secs: None,
            sweep_interval_secs: 30,
            guest_cart_idle_days: 30,
            public_url: None,
            smtp_url: None,
            mail_dir: None,
            mail_from: "shop <no-reply@shop.localhost>".into(),
            mail_max_attempts: 8,
            mail_retry_ms: 5_000,
            mail_poll_ms: 1_000,
            currency: Currency::usd(),
            prices_include_tax: false,
            payment_gateways: None,
            payment_gateway: PaymentGatewayKind::Test,
            stripe_secret_key: None,
            stripe_api_base: DEFAULT_STRIPE_API_BASE.into(),
            stripe_webhook_secret: None,
            paypal_client_id: None,
            paypal_client_secret: None,
            paypal_api_base: DEFAULT_PAYPAL_API_BASE.into(),
            paypal_webhook_id: None,
            order_url_template: DEFAULT_ORDER_URL_TEMPLATE.into(),
            reset_password_url_template: DEFAULT_RESET_PASSWORD_URL_TEMPLATE.into(),
            verify_email_url_template: DEFAULT_VERIFY_EMAIL_URL_TEMPLATE.into(),
            payment_return_url_template: DEFAULT_PAYMENT_RETURN_URL_TEMPLATE.into(),
            api_url: None,
        }
    }
}

/// A header name as CORS lists it; surrounding blanks are allowed, so that `a, b` works.
fn parse_header_name(name: &str) -> Result<HeaderName, String> {
    HeaderName::try_from(name.trim()).map_err(|_| format!("{name:?} is not a header name"))
}

impl Config {
    /// The enabled payment gateways, in order (the first is the default):
    /// SHOP_PAYMENT_GATEWAYS, or the deprecated SHOP_PAYMENT_GATEWAY alone when it is
    /// unset. A gateway listed twice is refused, so a typo cannot hide.
    pub fn enabled_gateways(&self) -> Result<Vec<PaymentGatewayKind>, String> {
        let Some(listed) = &self.payment_gateways else {
            return Ok(vec![self.payment_gateway]);
        };
        if listed.is_empty() {
            return Err(
                "SHOP_PAYMENT_GATEWAYS lists no payment gateway; give at least one, \
                 e.g. SHOP_PAYMENT_GATEWAYS=stripe"
                    .into(),
            );
        }
        for (at, gateway) in listed.iter().enumerate() {
            if listed[..at].contains(gateway) {
                let code = gateway
                    .to_possible_value()
                    .map(|value| value.get_name().to_owned())
                    .unwrap_or_default();
                return Err(format!("SHOP_PAYMENT_GATEWAYS lists {code} twice"));
            }
        }
        Ok(listed.clone())
    }

    /// How tax relates to the catalogue's prices.
    pub fn tax_mode(&self) -> TaxMode {
        if self.prices_include_tax {
            TaxMode::IncludedInPrices
        } else {
            TaxMode::AddedToPrices
        }
    }

    pub fn pending_order_ttl(&self) -> chrono::Duration {
        match self.pending_order_secs {
            // No longer than the longest the minutes allow, so `now + ttl` cannot overflow.
            Some(secs) => chrono::Duration::seconds(
                i64::try_from(secs.min(u64::from(u32::MAX) * 60)).unwrap_or(i64::MAX),
            ),
            None => chrono::Duration::minutes(i64::from(self.pending_order_minutes)),
        }
    }

    /// How long a just-rotated refresh token still gets its successor back.
    pub fn refresh_reuse_grace(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.refresh_reuse_grace_secs))
    }

    /// Where links in emails point: SHOP_PUBLIC_URL, or else the storefront this server
    /// serves at `/store` (the server itself when that is off).
    pub fn public_url(&self) -> String {
        let own = if self.storefront {
            crate::http::STOREFRONT_PATH
        } else {
            ""
        };
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}{own}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Where this server's own pages are reached from outside: SHOP_API_URL, or else the
    /// listen address with the port the server bound (SHOP_LISTEN may ask for port 0) and
    /// a wildcard host replaced by this machine's loopback.
    pub fn api_url(&self, bound_port: u16) -> String {
        if let Some(url) = &self.api_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host = match self.listen.host.parse::<std::net::IpAddr>() {
            Ok(ip) if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
            Ok(ip) if ip.is_unspecified() => "::1".to_owned(),
            _ => self.listen.host.clone(),
        };
        let own = ListenAddr {
            host,
            port: bound_port,
        };
        format!("http://{own}")
    }

    /// Where .eml files go without SMTP: beside the SQLite file, or the working directory.
    pub fn mail_dir(&self) -> PathBuf {
        if let Some(dir) = &self.mail_dir {
            return dir.clone();
        }
        let sqlite_file = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or(rest));
        match sqlite_file
            .map(std::path::Path::new)
            .and_then(|path| path.parent())
        {
            Some(parent) if !parent.as_os_str().is_empty() => parent.join("mail"),
            _ => PathBuf::from("mail"),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        config: Config,
    }

    fn metrics(args: &[&str]) -> bool {
        Flags::try_parse_from(std::iter::once("shop").chain(args.iter().copied()))
            .expect("flags parse")
            .config
            .metrics
    }

    #[test]
    fn metrics_are_on_unless_turned_off() {
        assert!(metrics(&[]));
        assert!(metrics(&["--metrics", "on"]));
        assert!(!metrics(&["--metrics", "off"]));
        assert!(!metrics(&["--metrics", "false"]));
        assert!(metrics(&["--metrics", "TRUE"]));
        assert!(metrics(&["--metrics", "yes"]));
        assert!(!metrics(&["--metrics", "0"]));
        assert!(!metrics(&["--metrics", "Off"]));
        assert!(Flags::try_parse_from(["shop", "--metrics", "sometimes"]).is_err());
    }

    fn allowed_headers(args: &[&str]) -> Result<Vec<String>, clap::Error> {
        Flags::try_parse_from(std::iter::once("shop").chain(args.iter().copied())).map(|flags| {
            let names = flags.config.cors_allow_headers.iter();
            names.map(|name| name.as_str().to_owned()).collect()
        })
    }

    #[test]
    fn cors_allows_the_default_headers_unless_a_list_replaces_them() {
        let defaults: Vec<String> = DEFAULT_CORS_ALLOW_HEADERS
            .split(',')
            .map(Into::into)
            .collect();
        assert_eq!(allowed_headers(&[]).ok(), Some(defaults.clone()));
        assert_eq!(
            Config::with_database("sqlite::memory:")
                .cors_allow_headers
                .iter()
                .map(|name| name.as_str().to_owned())
                .collect::<Vec<_>>(),
            defaults
        );
        assert_eq!(
            allowed_headers(&["--cors-allow-headers", "Content-Type, X-Tenant"]).ok(),
            Some(vec!["content-type".to_owned(), "x-tenant".to_owned()])
        );
        assert!(allowed_headers(&["--cors-allow-headers", "bad header"]).is_err());
    }

    fn gateways(args: &[&str]) -> Result<Vec<PaymentGatewayKind>, String> {
        Flags::try_parse_from(std::iter::once("shop").chain(args.iter().copied()))
            .map_err(|err| err.to_string())?
            .config
            .enabled_gateways()
    }

    #[test]
    fn the_payment_gateways_are_listed_in_order_and_default_to_the_single_one() {
        use PaymentGatewayKind::{PayPal, Stripe, Test};
        assert_eq!(gateways(&[]), Ok(vec![Test]));
        assert_eq!(
            gateways(&["--payment-gateways", "stripe,paypal"]),
            Ok(vec![Stripe, PayPal])
        );
        assert_eq!(
            gateways(&["--payment-gateways", "stripe,test"]),
            Ok(vec![Stripe, Test])
        );
        assert_eq!(
            gateways(&["--payment-gateways", "test,stripe"]),
            Ok(vec![Test, Stripe])
        );
        // The deprecated single gateway counts only when the list is not given.
        assert_eq!(gateways(&["--payment-gateway", "stripe"]), Ok(vec![Stripe]));
        assert_eq!(
            gateways(&["--payment-gateway", "stripe", "--payment-gateways", "test"]),
            Ok(vec![Test])
        );
    }

    #[test]
    fn an_unknown_or_repeated_payment_gateway_stops_the_start() {
        let unknown = gateways(&["--payment-gateways", "stripe,adyen"]).expect_err("refused");
        assert!(unknown.contains("adyen"), "{unknown}");
        assert!(
            ["test", "stripe", "paypal"]
                .iter()
                .all(|code| unknown.contains(code)),
            "{unknown}"
        );
        let twice = gateways(&["--payment-gateways", "stripe,test,stripe"]).expect_err("refused");
        assert!(twice.contains("stripe twice"), "{twice}");
        assert!(gateways(&["--payment-gateways", ""]).is_err());
    }

    #[test]
    fn the_storefront_is_on_unless_turned_off_and_is_where_links_point_by_default() {
        let config = |args: &[&str]| {
            Flags::try_parse_from(std::iter::once("shop").chain(args.iter().copied()))
                .expect("flags parse")
                .config
        };
        assert!(config(&[]).storefront);
        assert_eq!(config(&[]).public_url(), "http://127.0.0.1:8000/store");
        let off = config(&["--storefront", "off"]);
        assert!(!off.storefront);
        assert_eq!(off.public_url(), "http://127.0.0.1:8000");
        let elsewhere = config(&["--public-url", "https://shop.example/"]);
        assert_eq!(elsewhere.public_url(), "https://shop.example");
        assert!(Flags::try_parse_from(["shop", "--storefront", "maybe"]).is_err());
    }

    #[test]
    fn the_log_format_is_text_unless_json_is_asked_for() {
        let format = |args: &[&str]| {
            Flags::try_parse_from(std::iter::once("shop").chain(args.iter().copied()))
                .map(|flags| flags.config.log_format)
        };
        assert_eq!(format(&[]).ok(), Some(LogFormat::Text));
        assert_eq!(
            format(&["--log-format", "json"]).ok(),
            Some(LogFormat::Json)
        );
        assert!(format(&["--log-format", "xml"]).is_err());
    }

    #[test]
    fn the_own_url_is_the_configured_one_or_the_bound_listen_address() {
        let mut config = Config::with_database("sqlite::memory:");
        config.listen = "0.0.0.0:0".parse().expect("valid");
        assert_eq!(config.api_url(8123), "http://127.0.0.1:8123");
        config.listen = "[::]:0".parse().expect("valid");
        assert_eq!(config.api_url(8123), "http://[::1]:8123");
        config.listen = "shop.internal:8000".parse().expect("valid");
        assert_eq!(config.api_url(8000), "http://shop.internal:8000");
        config.api_url = Some("https://api.shop.example/".into());
        assert_eq!(config.api_url(8000), "https://api.shop.example");
    }

    #[test]
    fn the_default_listen_address_is_the_one_the_command_line_defaults_to() {
        assert_eq!(
            DEFAULT_LISTEN
                .parse::<ListenAddr>()
                .map(|addr| addr.to_string()),
            Ok(ListenAddr::default().to_string())
        );
    }

    #[test]
    fn a_listen_address_is_a_host_name_or_an_ip_and_a_port() {
        let parse = |text: &str| text.parse::<ListenAddr>();

        assert_eq!(
            parse("localhost:8000").map(|addr| addr.to_string()),
            Ok("localhost:8000".to_owned())
        );
        assert_eq!(
            parse("[::1]:80").map(|addr| (addr.host_and_port().0.to_owned(), addr.to_string())),
            Ok(("::1".to_owned(), "[::1]:80".to_owned()))
        );
        assert!(parse("127.0.0.1:0").is_ok());
        assert!(parse("localhost").is_err());
        assert!(parse(":8000").is_err());
        assert!(parse("localhost:70000").is_err());
        assert!(parse("localhost:http").is_err());
    }

    #[test]
    fn the_refresh_reuse_grace_is_thirty_seconds_unless_set_and_at_most_an_hour() {
        let grace = |args: &[&str]| {
            Flags::try_parse_from(std::iter::once("shop").chain(args.iter().copied()))
                .map(|flags| flags.config.refresh_reuse_grace())
        };
        assert_eq!(grace(&[]).ok(), Some(chrono::Duration::seconds(30)));
        assert_eq!(
            grace(&["--refresh-reuse-grace-secs", "0"]).ok(),
            Some(chrono::Duration::zero())
        );
        assert!(grace(&["--refresh-reuse-grace-secs", "3601"]).is_err());
        assert!(grace(&["--refresh-reuse-grace-secs", "-1"]).is_err());
    }
}
