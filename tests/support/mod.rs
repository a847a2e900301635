//! The test kit: a spawned server with its own database, and a small GraphQL client that
//! the in-process server ([`TestApp`]) and real processes ([`process::ShopProcess`]) share.

pub mod browser;
mod database;
pub mod process;
pub mod smtp;

use std::{
    net::SocketAddr,
    ops::Deref,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use reqwest::StatusCode;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use shop::{
    auth::{Auth, JwtSecret},
    config::Config,
    domain::{Email, Password, Username},
    payments::Payments,
    server::Server,
    service::accounts::{self, NewUser},
    service::events::OrderEvents,
};

pub use database::TestDatabase;

/// The signing secret of every test server, so tests can forge tokens of their own.
pub const JWT_SECRET: &str = "an-end-to-end-test-secret-of-more-than-32-bytes";
/// The password `register` gives every test user.
pub const PASSWORD: &str = "correct horse battery";
/// Registrations a test server allows per client address and hour. Every test registers
/// its users from 127.0.0.1, some of them dozens, so the shop's default of 5 would refuse
/// them; tests of the register limit set it back with `spawn_app_with`.
pub const TEST_REGISTRATIONS_PER_HOUR: u32 = 10_000;

/// A running server in this process; its GraphQL client ([`Api`]) is what it derefs to.
pub struct TestApp {
    pub api: Api,
    pub db: DatabaseConnection,
    /// The server's payment set-up, e.g. to run the sweeper with `orders::sweep`.
    pub payments: Payments,
    /// The server's order events, e.g. to see when a subscription is listening.
    pub events: OrderEvents,
    statements: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
    /// Where the server writes .eml files when no SMTP server is configured.
    _mail_dir: tempfile::TempDir,
    // Dropped last, after the server has stopped using it.
    _database: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A running server on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A running server on a fresh database, with the configuration adjusted first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(TestDatabase::create().await, adjust).await
}

/// A running server on a database the test prepared itself (e.g. built by an earlier
/// release's migrations and filled the way that release stored data), with the
/// configuration adjusted first. The server applies the migrations still missing as it
/// starts, as a deployed shop does after an upgrade.
pub async fn spawn_app_on(database: TestDatabase, adjust: impl FnOnce(&mut Config)) -> TestApp {
    // Mail without SMTP goes to .eml files: into a folder of this test's own.
    let mail_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::with_database(database.url());
    config.mail_dir = Some(mail_dir.path().to_path_buf());
    config.listen = "127.0.0.1:0".parse().expect("valid address");
    config.jwt_secret = Some(JWT_SECRET.into());
    config.registrations_per_hour = TEST_REGISTRATIONS_PER_HOUR;
    adjust(&mut config);
    let server = Server::build(&config).await.expect("server starts");
    let addr = server.local_addr().expect("bound");
    let db = server.db().clone();
    let statements = server.statement_counter();
    let payments = server.payments().clone();
    let events = server.events().clone();
    let server = tokio::spawn(async move {
        server
            .run(std::future::pending())
            .await
            .expect("server runs");
    });
    TestApp {
        api: Api::new(addr),
        db,
        payments,
        events,
        statements,
        server,
        _mail_dir: mail_dir,
        _database: database,
    }
}

/// A GraphQL answer: the HTTP status and the JSON body.
#[derive(Debug)]
pub struct Gql {
    pub status: StatusCode,
    pub body: Value,
}

impl Gql {
    /// `data`, after asserting there were no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {:#}",
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error, after asserting there was one.
    pub fn code(&self) -> &str {
        self.error()["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("error without a code: {:#}", self.body))
    }

    /// The first error.
    pub fn error(&self) -> &Value {
        let errors = self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected an error, got: {:#}", self.body));
        &errors[0]
    }

    /// The codes of all errors.
    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `extensions.field` of the first error.
    pub fn field(&self) -> &str {
        self.error()["extensions"]["field"]
            .as_str()
            .unwrap_or_else(|| panic!("error without a field: {:#}", self.body))
    }
}

/// A logged-in test user.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const AUTH_FIELDS: &str =
    "accessToken refreshToken expiresIn user { id username email isAdmin }";

impl TestApp {
    /// How many SQL statements the server has run so far.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }

    /// An admin, created the way an operator would (`shop create-admin`), then logged in.
    pub async fn admin(&self, username: &str) -> Session {
        create_admin(&self.db, username).await;
        let response = self.login(username, PASSWORD).await;
        session_from(&response.data()["login"])
    }
}

/// A GraphQL client of one running shop, over HTTP as a storefront's.
pub struct Api {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// What a request that gets no answer tells besides the error: for a process, its
    /// name and last log lines.
    context: Box<dyn Fn() -> String + Send + Sync>,
}

impl Api {
    /// The client of the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self::with_context(addr, String::new)
    }

    /// The client of the server at `addr`; `context` says more about the server when a
    /// request gets no answer.
    pub fn with_context(
        addr: SocketAddr,
        context: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        Self {
            addr,
            client: reqwest::Client::new(),
            context: Box::new(context),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends one GraphQL operation, with a bearer token when given.
    pub async fn send(&self, token: Option<&str>, query: &str, variables: Value) -> Gql {
        self.try_send(token, query, variables)
            .await
            .unwrap_or_else(|err| {
                panic!("{} did not answer: {err}\n{}", self.addr, (self.context)())
            })
    }

    /// [`Self::send`], answering the transport error instead of failing the test: for
    /// requests that may meet a server being killed.
    pub async fn try_send(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Gql, reqwest::Error> {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.json().await?;
        Ok(Gql { status, body })
    }

    /// An anonymous operation.
    pub async fn gql(&self, query: &str, variables: Value) -> Gql {
        self.send(None, query, variables).await
    }

    /// An operation as `session`'s user.
    pub async fn gql_as(&self, session: &Session, query: &str, variables: Value) -> Gql {
        self.send(Some(&session.access_token), query, variables)
            .await
    }

    /// Registers `username` (email `<username>@example.com`, password [`PASSWORD`]).
    pub async fn register(&self, username: &str) -> Session {
        let (query, variables) = register_operation(username);
        session_from(&self.gql(&query, variables).await.data()["register"])
    }

    /// Logs in with a username (or email) and password.
    pub async fn login(&self, username: &str, password: &str) -> Gql {
        let (query, variables) = login_operation(username, password);
        self.gql(&query, variables).await
    }
}

/// Creates the admin `username` (password [`PASSWORD`]) straight in the database, the way
/// `shop create-admin` does.
pub async fn create_admin(db: &DatabaseConnection, username: &str) {
    let auth = Auth::new(&JwtSecret::random()).expect("hasher");
    let username = Username::parse(username, "username").expect("a valid username");
    let new_admin = NewUser {
        email: Email::parse(&format!("{username}@example.com"), "email").expect("valid"),
        password: Password::parse(PASSWORD, &username, "password").expect("valid"),
        username,
        is_admin: true,
    };
    accounts::create_admin(db, &auth, new_admin)
        .await
        .expect("admin created");
}

/// `register` of `username` (email `<username>@example.com`, password [`PASSWORD`]).
pub fn register_operation(username: &str) -> (String, Value) {
    (
        format!(
            "mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}"
        ),
        json!({ "input": {
            "username": username,
            "email": format!("{username}@example.com"),
            "password": PASSWORD,
        }}),
    )
}

/// `login` with a username (or email) and password.
pub fn login_operation(username: &str, password: &str) -> (String, Value) {
    (
        format!("mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"),
        json!({ "input": { "username": username, "password": password } }),
    )
}

/// The session in an `AuthPayload` JSON object.
pub fn session_from(payload: &Value) -> Session {
    let text = |v: &Value| v.as_str().expect("a string").to_owned();
    Session {
        id: text(&payload["user"]["id"]),
        access_token: text(&payload["accessToken"]),
        refresh_token: text(&payload["refreshToken"]),
    }
}
