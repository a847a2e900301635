//! A full disk under SQLite: while the disk is full every write fails cleanly and
//! `/readyz` takes the process out of rotation; once space is back, writes (the mail
//! worker's too) work again within seconds, without a restart.
//!
//! SQLite only, by nature: the database file sits on a small tmpfs of its own, which a
//! ballast file fills. The test runs whatever SHOP_TEST_POSTGRES_URL says; PostgreSQL's
//! side of `/readyz`'s write probe is covered in `http.rs`. To mount a tmpfs without root,
//! the real `shop serve` binary runs inside a user and mount namespace (`unshare`), under
//! a small shell script that fills and frees the disk when the test tells it to on its
//! stdin. Where the machine cannot create such a namespace, the test says why and skips.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::json;
use shop::db;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{ChildStdin, ChildStdout},
};

use crate::{
    processes::{
        ADD_TO_CART, CHECKOUT, VISA, checkout_input, process_settings, stock_product, text,
    },
    support::{
        self, PASSWORD, Session,
        process::{ShopProcess, serve_command},
        register_operation, session_from,
        smtp::SmtpServer,
    },
};

/// What runs inside the namespaces: mounts a 4 MiB tmpfs on the database folder, copies
/// the prepared database in, starts `shop serve` (the remaining arguments), then obeys
/// `fill` and `free` lines on stdin, answering each on stdout once done. It is PID 1 of
/// its own PID namespace, so when it exits (stdin closed, or killed with the test's
/// process) the server goes with it.
const DISK_SCRIPT: &str = r#"
set -e
dir=$1
seed=$2
shift 2
mount -t tmpfs -o size=4m shop-full-disk "$dir"
cp "$seed"/shop.db "$dir"/
"$@" >/dev/null &
while read -r command; do
    case $command in
        fill) cat /dev/zero >> "$dir"/ballast 2>/dev/null || true; echo filled ;;
        free) rm -f "$dir"/ballast; echo freed ;;
    esac
done
"#;

/// How long after the space is back a write must work again, and `/readyz` say so.
const RECOVERY: Duration = Duration::from_secs(5);
/// Writes tried while the disk is full: enough that a connection the first failure broke
/// gets reused by a later one, which is how the lock used to stay held.
const WRITES_WHILE_FULL: usize = 4;
/// How long after the space is back the sweeper may take to settle an order the full disk
/// left PENDING (it runs every second here, and settles orders PENDING for 3 s).
const SETTLED: Duration = Duration::from_secs(15);

const UNSHARE: [&str; 6] = [
    "--user",
    "--map-root-user",
    "--mount",
    "--pid",
    "--fork",
    "--kill-child",
];

/// Why this machine cannot run the test, if it cannot.
fn namespaces_unavailable() -> Option<String> {
    match Command::new("unshare")
        .args(UNSHARE)
        .arg("true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!("`unshare {}` failed: {status}", UNSHARE.join(" "))),
        Err(err) => Some(format!("`unshare` cannot run: {err}")),
    }
}

/// A SQLite database, migrated and with an admin `root`, in its own folder: what the
/// script copies onto the tmpfs. Closed, so all of it is in `shop.db`.
async fn seed_database(folder: &Path) {
    let url = format!("sqlite://{}?mode=rwc", folder.join("shop.db").display());
    let db = db::connect(&url, 1).await.expect("seed database");
    db::migrate(&db).await.expect("seed database migrated");
    support::create_admin(&db, "root").await;
    db.close().await.expect("seed database closed");
}

/// `shop serve` on a database alone on a small disk the test can fill and free.
struct SmallDisk {
    process: ShopProcess,
    commands: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
}

impl SmallDisk {
    async fn start(folder: &Path, smtp: &SmtpServer) -> Self {
        let (seed, mounted) = (folder.join("seed"), folder.join("disk"));
        for dir in [&seed, &mounted] {
            std::fs::create_dir(dir).expect("folder created");
        }
        seed_database(&seed).await;
        let url = format!("sqlite://{}", mounted.join("shop.db").display());
        let mut settings = process_settings(smtp);
        settings.extend([
            ("SHOP_PENDING_ORDER_SECS", "3".to_owned()),
            ("SHOP_SWEEP_INTERVAL_SECS", "1".to_owned()),
        ]);
        let serve = serve_command(&url, &settings);
        let mut command = Command::new("unshare");
        command
            .args(UNSHARE)
            .args(["sh", "-c", DISK_SCRIPT, "sh"])
            .arg(&mounted)
            .arg(&seed)
            .arg(serve.get_program())
            .args(serve.get_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in serve.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let process = ShopProcess::start_command("shop on a small disk", command).await;
        let (Some(commands), Some(answers)) = process.take_pipes().await else {
            panic!("the disk script's stdin and stdout are piped");
        };
        Self {
            process,
            commands,
            answers: BufReader::new(answers).lines(),
        }
    }

    /// Tells the script `command` and waits until it answers `done`.
    async fn tell(&mut self, command: &str, done: &str) {
        self.commands
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("the disk script reads");
        let answer = self
            .answers
            .next_line()
            .await
            .expect("the disk script answers");
        assert_eq!(answer.as_deref(), Some(done), "{}", self.process.log());
    }

    async fn readyz(&self) -> (StatusCode, String) {
        let response = self
            .process
            .client
            .get(self.process.url("/readyz"))
            .send()
            .await
            .expect("/readyz answers");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Polls `/readyz` until it answers `status`, for at most `within`; answers its body,
    /// or the last answer when it never did.
    async fn readyz_turns(
        &self,
        status: StatusCode,
        within: Duration,
    ) -> Result<String, (StatusCode, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let (now, body) = self.readyz().await;
            if now == status {
                return Ok(body);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err((now, body));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Like [`Self::readyz_turns`], failing the test when `/readyz` never answers `status`.
    async fn readyz_becomes(&self, status: StatusCode, within: Duration) -> String {
        self.readyz_turns(status, within)
            .await
            .unwrap_or_else(|(now, body)| {
                panic!(
                    "/readyz still answers {now} ({body}) instead of {status} after {within:?}:\n{}",
                    self.process.log()
                )
            })
    }

    async fn stock(&self, product: &str) -> i64 {
        let response = self
            .process
            .gql(
                "query($id: ID!) { product(id: $id) { stock } }",
                json!({ "id": product }),
            )
            .await;
        response.data()["product"]["stock"]
            .as_i64()
            .expect("a stock")
    }

    /// The buyer's orders, newest first: each one's status and units.
    async fn orders(&self, buyer: &Session) -> Vec<(String, i64)> {
        let response = self
            .process
            .gql_as(
                buyer,
                "{ orders(first: 50) { nodes { status items { quantity } } } }",
                json!({}),
            )
            .await;
        let nodes = response.data()["orders"]["nodes"]
            .as_array()
            .expect("orders")
            .clone();
        nodes
            .iter()
            .map(|order| {
                let units = order["items"].as_array().expect("items").iter();
                let units = units.map(|item| item["quantity"].as_i64().expect("a quantity"));
                (text(&order["status"]).to_owned(), units.sum())
            })
            .collect()
    }

    /// The buyer's orders once none is PENDING: a checkout whose order the full disk let
    /// through but whose payment record it refused leaves the order PENDING, by design,
    /// for the sweeper to settle with the gateway once it can write again.
    async fn settled_orders(&self, buyer: &Session) -> Vec<(String, i64)> {
        let deadline = tokio::time::Instant::now() + SETTLED;
        loop {
            let orders = self.orders(buyer).await;
            if orders.iter().all(|(status, _)| status != "PENDING") {
                return orders;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "orders still PENDING after {SETTLED:?}: {orders:?}\n{}",
                self.process.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn units_in_cart(&self, buyer: &Session) -> i64 {
        let response = self
            .process
            .gql_as(buyer, "{ cart { totalQuantity } }", json!({}))
            .await;
        response.data()["cart"]["totalQuantity"]
            .as_i64()
            .expect("a quantity")
    }

    async fn register(&self, username: &str) -> support::Gql {
        let (query, variables) = register_operation(username);
        self.process.gql(&query, variables).await
    }
}

#[tokio::test]
async fn a_full_disk_fails_writes_cleanly_and_they_work_again_within_seconds_once_space_is_back() {
    if let Some(reason) = namespaces_unavailable() {
        eprintln!("skipped: this machine cannot create a user and mount namespace: {reason}");
        return;
    }
    let smtp = SmtpServer::start().await;
    let folder = tempfile::tempdir().expect("temp dir");
    let mut disk = SmallDisk::start(folder.path(), &smtp).await;
    let shop = &disk.process;
    let admin = session_from(&shop.login("root", PASSWORD).await.data()["login"]);
    let product = stock_product(shop, &admin, "Kettle", 10).await;
    let buyer = shop.register("ada").await;
    smtp.wait_for(1).await;
    shop.gql_as(
        &buyer,
        ADD_TO_CART,
        json!({ "product": product, "quantity": 1 }),
    )
    .await
    .data();

    // SQLite reuses the space its journal already holds, so a small write may still find
    // room on a full disk, and rightly succeeds. What must never happen is a half-written
    // one, or an error that is not a clean INTERNAL_SERVER_ERROR; and the disk must really
    // refuse some writes, or the test proves nothing.
    let mut paid_while_full = 0;
    // Whether a checkout may have emptied the cart: one that was paid, or one whose order
    // the disk let through before it refused the payment's record.
    let mut cart_maybe_empty = false;
    let mut refused_names = Vec::new();
    let mut refused_writes = 0;
    for i in 0..WRITES_WHILE_FULL {
        disk.tell("fill", "filled").await;
        let checkout = disk
            .process
            .gql_as(&buyer, CHECKOUT, checkout_input(VISA))
            .await;
        match checkout.body.get("errors") {
            None => {
                assert_eq!(checkout.data()["checkout"]["status"], "PAID");
                paid_while_full += 1;
                cart_maybe_empty = true;
                // Something to buy for the next attempt, if the disk lets it be added.
                let added = disk
                    .process
                    .gql_as(
                        &buyer,
                        ADD_TO_CART,
                        json!({ "product": product, "quantity": 1 }),
                    )
                    .await;
                if added.body.get("errors").is_some() {
                    assert_eq!(added.code(), "INTERNAL_SERVER_ERROR", "{:#}", added.body);
                }
            }
            // An empty cart, after a checkout that took its line.
            Some(_) if cart_maybe_empty && checkout.code() == "BAD_USER_INPUT" => {}
            Some(_) => {
                assert_eq!(
                    checkout.code(),
                    "INTERNAL_SERVER_ERROR",
                    "{:#}",
                    checkout.body
                );
                refused_writes += 1;
                cart_maybe_empty = true;
            }
        }
        disk.tell("fill", "filled").await;
        let name = format!("grace{i}");
        let registration = disk.register(&name).await;
        if registration.body.get("errors").is_some() {
            assert_eq!(
                registration.code(),
                "INTERNAL_SERVER_ERROR",
                "{:#}",
                registration.body
            );
            refused_writes += 1;
            refused_names.push(name);
        }
    }
    assert!(refused_writes > 0, "the full disk refused no write");
    // Readiness follows the probe's own write of one row. A full disk refuses it, or (once
    // the pool must open a connection, which needs room for its journal) the ping before
    // it, and then /readyz says why. But SQLite may still have room for that one row in
    // the pages and the WAL it already holds (where the last checkpoint left the WAL
    // decides), and then /readyz answers 200, truthfully: such a write still commits.
    // tests/http.rs checks the 503 where no write can commit, with the write lock held.
    if let Ok(reason) = disk
        .readyz_turns(StatusCode::SERVICE_UNAVAILABLE, RECOVERY)
        .await
    {
        assert!(
            ["database cannot take writes", "database unreachable"].contains(&reason.as_str()),
            "{reason}"
        );
    }

    disk.tell("free", "freed").await;
    disk.readyz_becomes(StatusCode::OK, RECOVERY).await;
    // Nothing half-written: every order settles PAID or CANCELLED, each purchase that
    // went through has its PAID order, and the stock is short by the PAID units alone.
    // (Read once the space is back: while the disk is full, even a read may fail, when the
    // pool must open a connection and SQLite has no room for it.)
    let orders = disk.settled_orders(&buyer).await;
    let paid_units = |orders: &[(String, i64)]| -> i64 {
        let paid = orders.iter().filter(|(status, _)| status == "PAID");
        paid.map(|(_, units)| units).sum()
    };
    assert!(
        orders
            .iter()
            .all(|(status, _)| ["PAID", "CANCELLED"].contains(&status.as_str())),
        "{orders:?}"
    );
    let paid = orders.iter().filter(|(status, _)| status == "PAID").count();
    assert!(
        paid >= paid_while_full,
        "{orders:?}, {paid_while_full} paid while full"
    );
    assert_eq!(disk.stock(&product).await, 10 - paid_units(&orders));
    let started = tokio::time::Instant::now();
    if disk.units_in_cart(&buyer).await == 0 {
        disk.process
            .gql_as(
                &buyer,
                ADD_TO_CART,
                json!({ "product": product, "quantity": 1 }),
            )
            .await
            .data();
    }
    let checkout = disk
        .process
        .gql_as(&buyer, CHECKOUT, checkout_input(VISA))
        .await;
    assert_eq!(checkout.data()["checkout"]["status"], "PAID");
    // The users the full disk refused were never half-created: their names are free.
    for name in &refused_names {
        disk.register(name).await.data();
    }
    assert!(
        started.elapsed() < RECOVERY,
        "writes took {:?} after the space came back",
        started.elapsed()
    );
    let after = disk.orders(&buyer).await;
    assert_eq!(after.len(), orders.len() + 1);
    assert_eq!(disk.stock(&product).await, 10 - paid_units(&after));
    // The mail worker writes again too: a confirmation per order and a welcome per account.
    let number = text(&checkout.data()["checkout"]["number"]).to_owned();
    let mails = smtp.wait_for(2 + WRITES_WHILE_FULL + paid).await;
    let confirmation = format!("Order {number} confirmed");
    assert!(
        mails
            .iter()
            .any(|mail| mail.is_to("ada@example.com") && mail.subject() == confirmation),
        "no \"{confirmation}\" for ada: {:#?}",
        mails
            .iter()
            .map(|m| m.subject().to_owned())
            .collect::<Vec<_>>()
    );
}
