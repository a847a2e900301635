//! Building and running the server: configuration in, a listening HTTP server out.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use axum::Router;
use clap::ValueEnum;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::{
    auth::{Auth, JwtSecret},
    config::{Config, ListenAddr, PaymentGatewayKind},
    db, graphql,
    http::{self, AppState},
    mail::{self, MailSettings, Transport},
    payments::{
        Gateway, Gateways, PayPalGateway, Payments, ReturnUrl, StripeGateway, TestGateway,
        paypal::{self, PayPalSettings},
        stripe::{SecretKey, StripeSettings, WebhookSecret},
    },
    service::{
        browse::{self, SearchIndex},
        cart,
        events::{self, EventSource, OrderEvents},
        orders::{self, Swept},
        outbox,
        webhooks::PayPalWebhook,
    },
    telemetry::{self, Metrics},
};

pub struct Server {
    listener: TcpListener,
    router: Router,
    db: DatabaseConnection,
    statements: Arc<AtomicU64>,
    payments: Payments,
    sweep_interval: Duration,
    guest_cart_idle: chrono::Duration,
    transport: Transport,
    mail: MailSettings,
    mail_poll: Duration,
    events: OrderEvents,
    event_source: EventSource,
    search: SearchIndex,
    metrics: Option<Metrics>,
}

/// How often a process looks for catalog changes made through other processes, between
/// the looks every search takes itself (`SearchIndex::catch_up`).
const SEARCH_FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

impl Server {
    /// Binds the listener, then connects to and migrates the database.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let secret = jwt_secret(config)?;
        let stripe_webhook_secret = webhook_secret(config)?;
        let links = mail_links(config)?;
        // Before the database: a port in use must stop the start before migrations change
        // a database that another version of the shop may be serving.
        let listener = bind(&config.listen).await?;
        // Before the database too: a misconfigured gateway must stop the start, not the
        // first checkout. After the bind, which says what port the server's own pages
        // (the test gateway's) are on.
        let own_url = config.api_url(listener.local_addr()?.port());
        let Built {
            gateways,
            test_gateway,
            paypal_webhook,
        } = gateways(config, &own_url)?;
        let db = db::connect(&config.database_url, config.db_max_connections).await?;
        db::migrate(&db).await?;
        // Requests get their own handle on the same pool, counting their statements;
        // background work (sweeper, mail, events) uses `db` and is not counted.
        let mut request_db = db.clone();
        let statements = db::count_statements(&mut request_db);
        // Before the listener serves: a search is answered from the index from the first.
        let search = SearchIndex::build(&db).await?;
        let auth = Auth::new(&secret)?.with_refresh_reuse_grace(config.refresh_reuse_grace());
        let events = OrderEvents::default();
        let payments = Payments {
            gateways,
            currency: config.currency.clone(),
            pending_order_ttl: config.pending_order_ttl(),
            tax_mode: config.tax_mode(),
            return_url: {
                let links = links.clone();
                ReturnUrl::new(move |number| links.payment_return(number))
            },
        };
        // Scrape-time counts go through `db`, so they never count as requests' statements.
        let metrics = config
            .metrics
            .then(|| Metrics::new(db.clone(), |db| Box::pin(outbox::counts(db))));
        let state = AppState {
            executor: graphql::build(
                graphql::Shared {
                    db: request_db.clone(),
                    auth: auth.clone(),
                    payments: payments.clone(),
                    events: events.clone(),
                    search: search.clone(),
                },
                config.introspection,
                config.metrics,
                config.registrations_per_hour,
            )?,
            db: request_db,
            tokens: auth.tokens.clone(),
            payments: payments.clone(),
            stripe_webhook_secret,
            paypal_webhook,
            test_gateway,
            trust_forwarded_for: config.trust_forwarded_for,
            persisted_queries: http::PersistedQueries::new(config.persisted_queries),
            http_cache_max_age_secs: config.http_cache_max_age_secs,
            storefront: config.storefront,
            metrics: metrics.clone(),
            // On `db`: its probe writes are nobody's request statements.
            readiness: db::Readiness::new(db.clone()),
        };
        let router = http::router(state, &config.cors_origins, &config.cors_allow_headers)?;
        let transport = Transport::new(config.smtp_url.as_deref(), &config.mail_dir())?;
        let mail = MailSettings {
            from: config
                .mail_from
                .parse()
                .map_err(|err| anyhow::anyhow!("SHOP_MAIL_FROM is not a mailbox: {err}"))?,
            links,
            max_attempts: i32::try_from(config.mail_max_attempts.max(1)).unwrap_or(i32::MAX),
            retry_base: chrono::Duration::milliseconds(
                i64::try_from(config.mail_retry_ms).unwrap_or(i64::MAX),
            ),
        };
        // Before the listener exists, so every change made through this server is heard.
        let event_source = EventSource::open(&db, &config.database_url).await?;
        Ok(Self {
            listener,
            router,
            db,
            statements,
            payments,
            sweep_interval: Duration::from_secs(config.sweep_interval_secs.max(1)),
            guest_cart_idle: chrono::Duration::days(i64::from(config.guest_cart_idle_days)),
            transport,
            mail,
            mail_poll: Duration::from_millis(config.mail_poll_ms.max(10)),
            events,
            event_source,
            search,
            metrics,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// How many SQL statements requests have run so far.
    pub fn statement_counter(&self) -> Arc<AtomicU64> {
        self.statements.clone()
    }

    /// This process's order events, e.g. to see how many subscriptions are listening.
    pub fn events(&self) -> &OrderEvents {
        &self.events
    }

    /// How the server takes payments.
    pub fn payments(&self) -> &Payments {
        &self.payments
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight. The
    /// sweeper runs alongside.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let sweeper = tokio::spawn(sweep_forever(
            self.db.clone(),
            self.payments.clone(),
            self.sweep_interval,
            self.guest_cart_idle,
        ));
        let pump = tokio::spawn(events::pump(
            self.db.clone(),
            self.event_source,
            self.events.clone(),
        ));
        let mailer = tokio::spawn(mail::deliver_forever(
            self.db.clone(),
            self.transport,
            self.mail,
            self.mail_poll,
        ));
        let follower = tokio::spawn(
            self.search
                .follow_forever(self.db.clone(), SEARCH_FOLLOW_INTERVAL),
        );
        let upkeep = self
            .metrics
            .as_ref()
            .map(|metrics| tokio::spawn(telemetry::upkeep_forever(metrics.handle().clone())));
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        sweeper.abort();
        mailer.abort();
        pump.abort();
        follower.abort();
        if let Some(upkeep) = upkeep {
            upkeep.abort();
        }
        served
    }
}

/// Settles abandoned orders and failed refunds, deletes guest carts idle longer than
/// `guest_cart_idle` and the catalog's search changes older than a day, every `interval`. Every process may run it: each change it makes is
/// conditional, so two sweepers never double anything.
async fn sweep_forever(
    db: DatabaseConnection,
    payments: Payments,
    interval: Duration,
    guest_cart_idle: chrono::Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match orders::sweep(&db, &payments, chrono::Utc::now()).await {
            Ok(swept) if swept != Swept::default() => {
                tracing::info!(?swept, "sweeper settled orders")
            }
            Ok(_) => {}
            Err(err) => tracing::error!(error = ?err, "sweeper failed"),
        }
        match cart::sweep_expired_guests(&db, guest_cart_idle).await {
            Ok(0) => {}
            Ok(carts) => tracing::info!(carts, "sweeper deleted idle guest carts"),
            Err(err) => tracing::error!(error = ?err, "sweeping guest carts failed"),
        }
        if let Err(err) = browse::prune_search_changes(&db).await {
            tracing::error!(error = ?err, "pruning the catalog's search changes failed");
        }
    }
}

/// Binds `SHOP_LISTEN`, resolving a host name first and trying each address it has (e.g.
/// `localhost` is `::1` and `127.0.0.1`). A failure names the address and what to do.
async fn bind(listen: &ListenAddr) -> anyhow::Result<TcpListener> {
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host(listen.host_and_port()).await {
        Ok(addrs) => addrs.collect(),
        Err(err) => anyhow::bail!(
            "cannot resolve the host of SHOP_LISTEN={listen}: {err}; use an IP address \
             (e.g. 127.0.0.1:8000) or a name this machine can resolve"
        ),
    };
    let mut last_error = None;
    for addr in &addrs {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(err) => last_error = Some((addr, err)),
        }
    }
    let Some((addr, err)) = last_error else {
        anyhow::bail!("SHOP_LISTEN={listen} resolves to no address");
    };
    let hint = match err.kind() {
        std::io::ErrorKind::AddrInUse => {
            "another process listens there (another shop?): stop it, or set SHOP_LISTEN \
             to a free port"
        }
        std::io::ErrorKind::PermissionDenied => {
            "ports below 1024 need privileges: set SHOP_LISTEN to a port above 1023, or put \
             a proxy in front"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "no network interface of this machine has that address: set SHOP_LISTEN to one \
             of its addresses, or 0.0.0.0 for all"
        }
        _ => "set SHOP_LISTEN to an address this machine can listen on",
    };
    Err(anyhow::anyhow!(
        "cannot listen on {addr} (SHOP_LISTEN={listen}): {err}; {hint}"
    ))
}

/// The email links, their templates checked now so that a typo stops the start, not the
/// first email.
fn mail_links(config: &Config) -> anyhow::Result<mail::Links> {
    mail::Links::new(
        config.public_url(),
        mail::LinkTemplates {
            order: &config.order_url_template,
            reset_password: &config.reset_password_url_template,
            verify_email: &config.verify_email_url_template,
            payment_return: &config.payment_return_url_template,
        },
    )
}

fn jwt_secret(config: &Config) -> anyhow::Result<JwtSecret> {
    match &config.jwt_secret {
        Some(secret) => JwtSecret::parse(secret),
        None => {
            tracing::warn!(
                "SHOP_JWT_SECRET is not set: using a random secret, so access tokens will not \
                 survive a restart and other processes will not accept them"
            );
            Ok(JwtSecret::random())
        }
    }
}

/// The payment gateways a server takes money with, and what serves their pages and hooks.
struct Built {
    gateways: Gateways,
    /// The test gateway while it is enabled: the server then serves its authentication page.
    test_gateway: Option<Arc<TestGateway>>,
    /// PayPal's webhook, when PayPal is configured and SHOP_PAYPAL_WEBHOOK_ID is set.
    paypal_webhook: Option<PayPalWebhook>,
}

/// The payment gateways: the enabled ones in the configured order, and on standby (for
/// settling orders paid through them before they were disabled) every other one this
/// server can reach: the test gateway (no money ever moved through it, so "refunding" it
/// is harmless), and Stripe and PayPal when their credentials are set. Checked before
/// anything else happens: a misconfigured gateway must stop the start, not the first
/// checkout.
fn gateways(config: &Config, own_url: &str) -> anyhow::Result<Built> {
    let enabled = config.enabled_gateways().map_err(anyhow::Error::msg)?;
    if config.payment_gateways.is_some() && config.payment_gateway != PaymentGatewayKind::Test {
        tracing::warn!(
            "SHOP_PAYMENT_GATEWAY is ignored: SHOP_PAYMENT_GATEWAYS is set and replaces it"
        );
    }
    let set = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
    let configured = |kind| match kind {
        PaymentGatewayKind::Test => true,
        PaymentGatewayKind::Stripe => set(&config.stripe_secret_key),
        PaymentGatewayKind::PayPal => {
            set(&config.paypal_client_id) || set(&config.paypal_client_secret)
        }
    };
    let standby: Vec<PaymentGatewayKind> = PaymentGatewayKind::value_variants()
        .iter()
        .copied()
        .filter(|kind| !enabled.contains(kind) && configured(*kind))
        .collect();
    if enabled.contains(&PaymentGatewayKind::Test) {
        tracing::warn!(
            "the offline test gateway is enabled: its payments move no money \
             (set SHOP_PAYMENT_GATEWAYS=stripe to take real payments only)"
        );
    }
    // One gateway of each kind, whether enabled or on standby: the test gateway's
    // authentication page is served only while it is enabled, and PayPal's webhook is
    // verified by the same client that takes its payments.
    let test = Arc::new(TestGateway::new(own_url));
    let paypal = if enabled.contains(&PaymentGatewayKind::PayPal)
        || standby.contains(&PaymentGatewayKind::PayPal)
    {
        Some(Arc::new(paypal_gateway(config)?))
    } else {
        None
    };
    let build = |kinds: &[PaymentGatewayKind]| -> anyhow::Result<Vec<Gateway>> {
        kinds
            .iter()
            .map(|kind| -> anyhow::Result<Gateway> {
                Ok(match kind {
                    PaymentGatewayKind::Test => test.clone(),
                    PaymentGatewayKind::Stripe => Arc::new(stripe_gateway(config)?),
                    PaymentGatewayKind::PayPal => paypal
                        .clone()
                        .ok_or_else(|| anyhow::anyhow!("PayPal is not configured"))?,
                })
            })
            .collect()
    };
    let gateways = Gateways::new(build(&enabled)?, build(&standby)?).map_err(anyhow::Error::msg)?;
    Ok(Built {
        gateways,
        test_gateway: enabled
            .contains(&PaymentGatewayKind::Test)
            .then(|| test.clone()),
        paypal_webhook: paypal_webhook(config, paypal)?,
    })
}

/// Stripe, with its key and URL checked.
fn stripe_gateway(config: &Config) -> anyhow::Result<StripeGateway> {
    let key = config
        .stripe_secret_key
        .as_deref()
        .filter(|key| !key.trim().is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the stripe payment gateway needs SHOP_STRIPE_SECRET_KEY (or \
                 --stripe-secret-key): the Stripe secret key, sk_live_... or sk_test_..."
            )
        })?;
    let key = SecretKey::parse(key).map_err(anyhow::Error::msg)?;
    let settings = StripeSettings::new(key, &config.stripe_api_base).map_err(anyhow::Error::msg)?;
    if config.stripe_webhook_secret.is_none() {
        tracing::warn!(
            "SHOP_STRIPE_WEBHOOK_SECRET is not set: /webhooks/stripe is off, and orders \
             whose checkout was interrupted wait for the sweeper"
        );
    }
    StripeGateway::new(settings)
}

/// PayPal, with its credentials and URL checked.
fn paypal_gateway(config: &Config) -> anyhow::Result<PayPalGateway> {
    let (Some(client_id), Some(secret)) = (
        config.paypal_client_id.as_deref(),
        config.paypal_client_secret.as_deref(),
    ) else {
        anyhow::bail!(
            "the paypal payment gateway needs SHOP_PAYPAL_CLIENT_ID and \
             SHOP_PAYPAL_CLIENT_SECRET: the client id and secret of a PayPal REST app"
        );
    };
    let secret = paypal::ClientSecret::parse(secret).map_err(anyhow::Error::msg)?;
    let settings = PayPalSettings::new(client_id, secret, &config.paypal_api_base)
        .map_err(anyhow::Error::msg)?;
    if config.paypal_webhook_id.is_none() {
        tracing::warn!(
            "SHOP_PAYPAL_WEBHOOK_ID is not set: /webhooks/paypal is off, and PayPal \
             payments whose buyer never came back are captured by the sweeper"
        );
    }
    PayPalGateway::new(settings)
}

fn paypal_webhook(
    config: &Config,
    paypal: Option<Arc<PayPalGateway>>,
) -> anyhow::Result<Option<PayPalWebhook>> {
    let Some(id) = config.paypal_webhook_id.as_deref() else {
        return Ok(None);
    };
    let webhook_id = paypal::WebhookId::parse(id).map_err(anyhow::Error::msg)?;
    let Some(gateway) = paypal else {
        anyhow::bail!(
            "SHOP_PAYPAL_WEBHOOK_ID is set, but PayPal is not: set SHOP_PAYPAL_CLIENT_ID and \
             SHOP_PAYPAL_CLIENT_SECRET too"
        );
    };
    Ok(Some(PayPalWebhook {
        gateway,
        webhook_id,
    }))
}

fn webhook_secret(config: &Config) -> anyhow::Result<Option<WebhookSecret>> {
    config
        .stripe_webhook_secret
        .as_deref()
        .map(|secret| {
            WebhookSecret::parse(secret)
                .map_err(|err| anyhow::anyhow!("SHOP_STRIPE_WEBHOOK_SECRET: {err}"))
        })
        .transpose()
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
