//! The `shop` binary as an operator runs it: print-schema, migrate, create-admin, serve.

use std::{
    path::PathBuf,
    process::{Command, Output, Stdio},
    time::Duration,
};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{
    AUTH_FIELDS, JWT_SECRET,
    process::{ShopProcess, listening_address, shop_command as shop},
};

const ADMIN_PASSWORD: &str = "an operator's password";

/// A SQLite database in a directory of its own, deleted with it.
struct TempDatabase {
    dir: tempfile::TempDir,
}

impl TempDatabase {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("shop.db")
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path().display())
    }
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the shop binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the process failed in an orderly way: an exit code, an error message, no panic.
fn assert_failed_cleanly(output: &Output) {
    let err = stderr(output);
    assert!(
        !output.status.success(),
        "succeeded: {}{err}",
        stdout(output)
    );
    assert!(output.status.code().is_some(), "killed: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert!(err.contains("error"), "no error message: {err}");
}

fn create_admin(database_url: &str, username: &str, email: &str) -> Output {
    run(shop(database_url).args([
        "create-admin",
        "--username",
        username,
        "--email",
        email,
        "--password",
        ADMIN_PASSWORD,
    ]))
}

#[test]
fn print_schema_prints_exactly_the_checked_in_schema() {
    let database = TempDatabase::new();
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
            .expect("schema.graphql exists");

    let output = run(shop(&database.url()).arg("print-schema"));

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output) == checked_in,
        "print-schema differs from schema.graphql"
    );
    // Printing the schema needs no database.
    assert!(!database.path().exists());
}

#[test]
fn migrate_creates_the_database_and_can_run_again() {
    let database = TempDatabase::new();

    let first = run(shop(&database.url()).arg("migrate"));
    let second = run(shop(&database.url()).arg("migrate"));

    assert!(first.status.success(), "{}", stderr(&first));
    assert!(database.path().is_file());
    assert!(second.status.success(), "{}", stderr(&second));
}

#[test]
fn create_admin_creates_an_admin_and_then_promotes_the_existing_user() {
    let database = TempDatabase::new();

    let created = create_admin(&database.url(), "boss", "boss@example.com");
    let again = create_admin(&database.url(), "boss", "boss@example.com");

    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("created"), "{}", stdout(&created));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("promoted"), "{}", stdout(&again));
}

#[test]
fn create_admin_takes_the_password_from_the_environment() {
    let database = TempDatabase::new();

    let output = run(shop(&database.url())
        .args([
            "create-admin",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
        ])
        .env("SHOP_ADMIN_PASSWORD", ADMIN_PASSWORD));

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("created"), "{}", stdout(&output));
}

#[test]
fn create_admin_with_an_invalid_email_fails_cleanly_naming_the_email() {
    let database = TempDatabase::new();

    let output = create_admin(&database.url(), "boss", "not-an-email");

    assert_failed_cleanly(&output);
    assert!(stderr(&output).contains("email"), "{}", stderr(&output));
    assert!(!stdout(&output).contains("created"));
}

#[test]
fn create_admin_with_a_weak_password_fails_cleanly() {
    let database = TempDatabase::new();

    let output = run(shop(&database.url()).args([
        "create-admin",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        "--password",
        "short",
    ]));

    assert_failed_cleanly(&output);
    assert!(stderr(&output).contains("password"), "{}", stderr(&output));
}

#[test]
fn serve_refuses_a_jwt_secret_shorter_than_32_bytes() {
    let database = TempDatabase::new();

    let output = run(shop(&database.url())
        .arg("serve")
        .env("SHOP_LISTEN", "127.0.0.1:0")
        .env("SHOP_JWT_SECRET", "too-short"));

    assert_failed_cleanly(&output);
    let err = stderr(&output);
    assert!(
        err.contains("SHOP_JWT_SECRET") && err.contains("32"),
        "{err}"
    );
}

#[test]
fn migrate_with_an_unreachable_database_fails_cleanly() {
    let output = run(shop("postgres://nobody@127.0.0.1:1/x").arg("migrate"));

    assert_failed_cleanly(&output);
}

#[tokio::test]
async fn serve_listens_where_it_says_and_an_operator_created_admin_can_log_in() {
    let database = TempDatabase::new();
    let url = database.url();
    let created = tokio::task::spawn_blocking({
        let url = url.clone();
        move || create_admin(&url, "boss", "boss@example.com")
    })
    .await
    .expect("create-admin ran");
    assert!(created.status.success(), "{}", stderr(&created));

    let mut child = tokio::process::Command::from(shop(&url))
        .arg("serve")
        .env("SHOP_LISTEN", "127.0.0.1:0")
        .env("SHOP_JWT_SECRET", JWT_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = String::new();
    // A bound on the wait, so a server that never says where it listens fails the test
    // instead of hanging it.
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("stderr is readable") {
            if let Some(addr) = listening_address(&line) {
                return addr;
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        panic!("serve exited without saying where it listens:\n{seen}");
    })
    .await
    .expect("serve says where it listens");
    // Keep draining the log, so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let client = reqwest::Client::new();

    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("healthz answers");
    let login = client
        .post(format!("http://{addr}/graphql"))
        .json(&json!({
            "query": format!("mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"),
            "variables": { "input": { "username": "boss", "password": ADMIN_PASSWORD } },
        }))
        .send()
        .await
        .expect("graphql answers")
        .json::<serde_json::Value>()
        .await
        .expect("a JSON body");

    assert!(health.status().is_success());
    assert_eq!(health.text().await.expect("a body"), "ok");
    assert!(login.get("errors").is_none(), "{login:#}");
    assert_eq!(login["data"]["login"]["user"]["username"], "boss");
    assert_eq!(login["data"]["login"]["user"]["isAdmin"], true);

    child.kill().await.expect("serve stops");
}

fn help(args: &[&str]) -> String {
    let output = run(shop("sqlite://unused.db").args(args).arg("--help"));
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn each_command_s_help_lists_only_the_flags_it_uses() {
    let print_schema = help(&["print-schema"]);
    let migrate = help(&["migrate"]);
    let serve = help(&["serve"]);

    assert!(!print_schema.contains("--database-url"), "{print_schema}");
    assert!(!print_schema.contains("--listen"), "{print_schema}");
    for database_command in [&migrate, &help(&["seed-demo"]), &help(&["create-admin"])] {
        assert!(
            database_command.contains("--database-url"),
            "{database_command}"
        );
        assert!(!database_command.contains("--listen"), "{database_command}");
        assert!(
            !database_command.contains("--smtp-url"),
            "{database_command}"
        );
    }
    for server_flag in [
        "--database-url",
        "--listen",
        "--smtp-url",
        "--metrics",
        "--demo",
    ] {
        assert!(
            serve.contains(server_flag),
            "{server_flag} missing:\n{serve}"
        );
    }
}

#[test]
fn the_metrics_flag_s_help_lists_the_values_it_accepts() {
    let serve = help(&["serve"]);

    let metrics = &serve[serve.find("--metrics").expect("the flag")..];
    let metrics = &metrics[..metrics.find("\n  -").unwrap_or(metrics.len())];
    assert!(metrics.contains("possible values: on, off"), "{metrics}");
}

#[test]
fn a_database_in_a_missing_directory_is_named_with_the_fix_once() {
    let database = TempDatabase::new();
    let missing = database.dir.path().join("no-such-dir");
    let url = format!("sqlite://{}/shop.db?mode=rwc", missing.display());

    let output = run(shop(&url).arg("migrate"));

    assert_failed_cleanly(&output);
    let err = stderr(&output);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(
        err.matches("error").count(),
        1,
        "said more than once: {err}"
    );
}

#[test]
fn serve_on_a_port_in_use_names_the_address_before_touching_the_database() {
    let database = TempDatabase::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("bound").to_string();

    let output = run(shop(&database.url())
        .arg("serve")
        .env("SHOP_LISTEN", &addr)
        .env("SHOP_JWT_SECRET", JWT_SECRET));

    assert_failed_cleanly(&output);
    let err = stderr(&output);
    assert!(err.contains(&addr) && err.contains("SHOP_LISTEN"), "{err}");
    assert!(!database.path().exists(), "migrated before binding");
}

#[test]
fn an_unreachable_postgres_is_named_at_once_without_its_password() {
    let started = std::time::Instant::now();

    let output = run(shop("postgres://shop:hunter2-secret@127.0.0.1:1/shop").arg("migrate"));

    assert_failed_cleanly(&output);
    let err = stderr(&output);
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("hunter2-secret"), "{err}");
    // Nothing listens there, so the refusal is immediate; the pool used to retry for 11 s.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn serve_resolves_a_host_name_in_shop_listen() {
    let database = TempDatabase::new();

    let shop = ShopProcess::start(
        "by-name",
        &database.url(),
        &[("SHOP_LISTEN", "localhost:0".to_owned())],
    )
    .await;

    assert!(shop.addr.ip().is_loopback(), "{}", shop.addr);
    let health = shop
        .client
        .get(shop.url("/healthz"))
        .send()
        .await
        .expect("healthz answers");
    assert!(health.status().is_success());
}

#[test]
fn serve_refuses_an_email_link_template_without_its_placeholder() {
    let database = TempDatabase::new();

    let output = run(shop(&database.url())
        .arg("serve")
        .env("SHOP_LISTEN", "127.0.0.1:0")
        .env("SHOP_JWT_SECRET", JWT_SECRET)
        .env("SHOP_ORDER_URL_TEMPLATE", "{public_url}/orders/{id}"));

    assert_failed_cleanly(&output);
    let err = stderr(&output);
    assert!(err.contains("SHOP_ORDER_URL_TEMPLATE"), "{err}");
    assert!(err.contains("{id}"), "{err}");
}

#[test]
fn serve_refuses_an_unknown_or_repeated_payment_gateway_naming_it() {
    let database = TempDatabase::new();
    let serve = |gateways: &str| {
        run(shop(&database.url())
            .arg("serve")
            .env("SHOP_LISTEN", "127.0.0.1:0")
            .env("SHOP_JWT_SECRET", JWT_SECRET)
            .env("SHOP_PAYMENT_GATEWAYS", gateways))
    };

    let unknown = serve("test,adyen");
    let repeated = serve("test,test");

    assert_failed_cleanly(&unknown);
    let err = stderr(&unknown);
    assert!(
        err.contains("adyen") && err.contains("payment-gateways"),
        "{err}"
    );
    assert!(
        err.contains("stripe") && err.contains("paypal"),
        "the codes it takes: {err}"
    );
    assert_failed_cleanly(&repeated);
    let err = stderr(&repeated);
    assert!(
        err.contains("SHOP_PAYMENT_GATEWAYS lists test twice"),
        "{err}"
    );
    assert!(!database.path().exists(), "the database was touched");
}
