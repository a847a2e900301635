//! Crash safety: a `shop serve` process killed with SIGKILL in the middle of a checkout
//! load (no shutdown, transactions cut off wherever they were) leaves a database that is
//! whole, and a process started in its place on the same database settles what the dead
//! one left half-done. Checked by reading the database directly, on SQLite (a temp file)
//! and, with SHOP_TEST_POSTGRES_URL set, on PostgreSQL.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use entity::{
    cart, order, order_item,
    order_status::OrderStatus,
    outbox_message::DeliveryState,
    payment::{self, PaymentKind, PaymentStatus},
    product,
};
use futures_util::future::join_all;
use sea_orm::{
    AccessMode, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, IsolationLevel,
    QueryFilter, TransactionOptions, TransactionTrait,
};
use serde_json::json;
use shop::service::outbox::{self, Notice};

use crate::{
    notifications::eventually,
    processes::{
        ADD_TO_CART, CHECKOUT, SharedDatabase, VISA, checkout_input, db_id, outbox_rows,
        process_settings, stock_product, text,
    },
    support::{PASSWORD, Session, process::ShopProcess, session_from, smtp::SmtpServer},
};

/// Buyers who check out over and over until the process dies under them.
const BUYERS: usize = 24;
/// Buyers whose checkout is charged but never answered: their orders are certainly
/// PENDING, stock taken and cart claimed, when the process dies.
const STALLED_BUYERS: usize = 4;
/// The test gateway's token for a charge whose answer never comes.
const NO_ANSWER: &str = "tok_noAnswer";
/// How long an order may stay PENDING, in seconds, in both processes.
const PENDING_SECS: i64 = 4;
/// Paid orders the load must have made before the process is killed.
const PAID_BEFORE_CRASH: u64 = 30;

/// The products on the shelf, with the stock they were created with.
struct Shelf {
    kettle: String,
    teapot: String,
    /// Runs out during the load, so that some checkouts fail on stock.
    scarce: String,
    initial: HashMap<i32, i32>,
}

impl Shelf {
    async fn stock(process: &ShopProcess, admin: &Session) -> Self {
        let (kettle, teapot, scarce) = (100_000, 100_000, 12);
        let shelf = Self {
            kettle: stock_product(process, admin, "Kettle", kettle).await,
            teapot: stock_product(process, admin, "Teapot", teapot).await,
            scarce: stock_product(process, admin, "Last samovar", scarce).await,
            initial: HashMap::new(),
        };
        let initial = [
            (&shelf.kettle, kettle),
            (&shelf.teapot, teapot),
            (&shelf.scarce, scarce),
        ]
        .into_iter()
        .map(|(id, stock)| (db_id(id), stock))
        .collect();
        Self { initial, ..shelf }
    }
}

/// Fills the cart of `who` and checks out, again and again, until `process` stops
/// answering; answers how many of its checkouts came back PAID. Every answer the process
/// does give must be a correct one: PAID, or OUT_OF_STOCK for the scarce product.
async fn shop_until_gone(process: &ShopProcess, who: &Session, i: usize, shelf: &Shelf) -> usize {
    let token = Some(who.access_token.as_str());
    let mut wants_scarce = i.is_multiple_of(2);
    let mut paid = 0;
    loop {
        let teapots = 1 + i32::try_from(i % 2).unwrap_or(0);
        let mut lines = vec![(&shelf.kettle, 1), (&shelf.teapot, teapots)];
        if wants_scarce {
            lines.push((&shelf.scarce, 1));
        }
        for (product, quantity) in lines {
            let variables = json!({ "product": product, "quantity": quantity });
            let Ok(added) = process.try_send(token, ADD_TO_CART, variables).await else {
                return paid;
            };
            if added.body.get("errors").is_some() {
                assert_eq!(added.code(), "OUT_OF_STOCK", "{:#}", added.body);
                assert_eq!(product, &shelf.scarce, "{:#}", added.body);
                wants_scarce = false;
            }
        }
        loop {
            let Ok(response) = process
                .try_send(token, CHECKOUT, checkout_input(VISA))
                .await
            else {
                return paid;
            };
            if response.body.get("errors").is_none() {
                assert_eq!(response.data()["checkout"]["status"], "PAID");
                paid += 1;
                break;
            }
            // The samovars ran out between filling the cart and checking out.
            assert_eq!(response.code(), "OUT_OF_STOCK", "{:#}", response.body);
            assert_eq!(
                response.error()["extensions"]["productId"],
                shelf.scarce.as_str()
            );
            wants_scarce = false;
            let remove =
                "mutation($product: ID!) { removeFromCart(productId: $product) { totalQuantity } }";
            let variables = json!({ "product": shelf.scarce });
            let Ok(removed) = process.try_send(token, remove, variables).await else {
                return paid;
            };
            removed.data();
        }
    }
}

/// How many orders are in `status`.
async fn count_in(db: &DatabaseConnection, status: OrderStatus) -> usize {
    order::Entity::find()
        .filter(order::Column::Status.eq(status))
        .all(db)
        .await
        .expect("read orders")
        .len()
}

/// Asserts what must hold of the stored shop at any moment, even right after a crash:
/// every order has its lines and exactly one charge in the ledger, settled the way the
/// order's status says (a cancelled order's failed, unless it is refunded), no cart is held by an order
/// that is not PENDING, and the stock of every product is its initial stock less the
/// units held by orders that are not CANCELLED.
async fn assert_whole(db: &DatabaseConnection, initial: &HashMap<i32, i32>) {
    // One snapshot for all the reads, or a change committing between two of them (the
    // dead process's last COMMIT, still in the server's buffer) would look like a tear.
    let snapshot = if db.get_database_backend() == DbBackend::Postgres {
        TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        }
    } else {
        // A SQLite read transaction (WAL) sees one snapshot from its first read on.
        TransactionOptions::default()
    };
    let db = &db
        .begin_with_options(snapshot)
        .await
        .expect("a read transaction");
    let orders = order::Entity::find().all(db).await.expect("read orders");
    let items = order_item::Entity::find()
        .all(db)
        .await
        .expect("read order lines");
    let ledger = payment::Entity::find()
        .all(db)
        .await
        .expect("read the ledger");
    let of_kind = |order_id: i32, kind: PaymentKind| -> Vec<&payment::Model> {
        ledger
            .iter()
            .filter(|p| p.order_id == order_id && p.kind == kind)
            .collect()
    };
    let status_of: HashMap<i32, OrderStatus> = orders
        .iter()
        .map(|order| (order.id, order.status))
        .collect();
    for order in &orders {
        assert!(
            items.iter().any(|item| item.order_id == order.id),
            "order {} ({}) has no lines",
            order.number,
            order.status
        );
        let charges = of_kind(order.id, PaymentKind::Charge);
        assert_eq!(charges.len(), 1, "charges of order {}", order.number);
        let refunded = !of_kind(order.id, PaymentKind::Refund).is_empty();
        let expected = match order.status {
            OrderStatus::Pending => PaymentStatus::Pending,
            OrderStatus::Cancelled if !refunded => PaymentStatus::Failed,
            _ => PaymentStatus::Succeeded,
        };
        assert_eq!(
            charges[0].status, expected,
            "the charge of {} order {}",
            order.status, order.number
        );
    }
    let held: Vec<cart::Model> = cart::Entity::find()
        .filter(cart::Column::CheckoutOrderId.is_not_null())
        .all(db)
        .await
        .expect("read carts");
    for cart in held {
        let by = cart.checkout_order_id.unwrap_or_default();
        assert_eq!(
            status_of.get(&by).copied(),
            Some(OrderStatus::Pending),
            "cart {} is held by order {by}",
            cart.id
        );
    }
    let products = product::Entity::find()
        .all(db)
        .await
        .expect("read products");
    assert_eq!(products.len(), initial.len());
    for product in products {
        let held: i32 = items
            .iter()
            .filter(|item| item.product_id == product.id)
            .filter(|item| status_of.get(&item.order_id) != Some(&OrderStatus::Cancelled))
            .map(|item| item.quantity)
            .sum();
        assert_eq!(
            initial[&product.id],
            product.stock + held,
            "{}: {} on the shelf, {held} in orders",
            product.name,
            product.stock
        );
        assert!(product.stock >= 0, "{}", product.name);
    }
}

#[tokio::test]
async fn a_process_killed_mid_checkout_leaves_a_whole_shop_that_its_successor_settles() {
    let smtp = SmtpServer::start().await;
    let shared = SharedDatabase::create().await;
    let db = &shared.db;
    shared.create_admin("root").await;
    let mut settings = process_settings(&smtp);
    settings.push(("SHOP_PENDING_ORDER_SECS", PENDING_SECS.to_string()));
    // The first process never sweeps (its first sweep runs at start, on an empty shop):
    // what it leaves PENDING is left for the process that takes its place.
    let mut first_settings = settings.clone();
    first_settings.push(("SHOP_SWEEP_INTERVAL_SECS", "3600".into()));
    let first = ShopProcess::start("first", shared.url(), &first_settings).await;
    let admin = session_from(&first.login("root", PASSWORD).await.data()["login"]);
    let shelf = &Shelf::stock(&first, &admin).await;
    let first = &first;
    let buyers =
        join_all((0..BUYERS).map(|i| async move { first.register(&format!("buyer{i}")).await }))
            .await;
    let stalled = join_all(
        (0..STALLED_BUYERS).map(|i| async move { first.register(&format!("stalled{i}")).await }),
    )
    .await;
    for who in &stalled {
        let variables = json!({ "product": shelf.kettle, "quantity": 1 });
        first.gql_as(who, ADD_TO_CART, variables).await.data();
    }
    let stalled_ids: HashSet<i32> = stalled.iter().map(|who| db_id(&who.id)).collect();

    // The load, and the crash in the middle of it: once every stalled checkout holds its
    // PENDING order and the others have paid for enough, SIGKILL.
    let load = join_all(
        buyers
            .iter()
            .enumerate()
            .map(|(i, who)| shop_until_gone(first, who, i, shelf)),
    );
    let stalled_checkouts =
        join_all(stalled.iter().map(|who| {
            first.try_send(Some(&who.access_token), CHECKOUT, checkout_input(NO_ANSWER))
        }));
    let crash = async {
        eventually(
            "the stalled checkouts hold their orders amid paid ones",
            async || {
                let orders = order::Entity::find().all(db).await.expect("read orders");
                let stalled_pending = orders
                    .iter()
                    .filter(|o| {
                        o.user_id.is_some_and(|user| stalled_ids.contains(&user))
                            && o.status == OrderStatus::Pending
                    })
                    .count();
                let paid = orders
                    .iter()
                    .filter(|o| o.status == OrderStatus::Paid)
                    .count();
                (stalled_pending == STALLED_BUYERS && paid as u64 >= PAID_BEFORE_CRASH)
                    .then_some(())
            },
        )
        .await;
        first.kill().await;
    };
    let (paid_answers, stalled_answers, ()) = tokio::join!(load, stalled_checkouts, crash);
    // The messages the dead process had claimed: no other process may touch them until
    // their lease runs out.
    let killed_at = Utc::now();
    let leased: HashSet<i32> = outbox_rows(db)
        .await
        .iter()
        .filter(|row| row.status == DeliveryState::Pending)
        .filter(|row| row.locked_until.is_some_and(|until| until > killed_at))
        .map(|row| row.id)
        .collect();
    assert!(
        stalled_answers.iter().all(Result::is_err),
        "a stalled checkout was answered"
    );

    // What the dead process left must already be whole, PENDING orders holding their stock.
    let paid_answered: usize = paid_answers.iter().sum();
    let paid_stored = count_in(db, OrderStatus::Paid).await;
    // Every PAID answer is stored; a checkout may also have committed with its answer lost.
    assert!(
        paid_stored >= paid_answered,
        "{paid_stored} < {paid_answered}"
    );
    let pending = count_in(db, OrderStatus::Pending).await;
    // Shown when the test fails: how much was under way at the crash.
    println!(
        "at the crash: {paid_answered} paid answered, {paid_stored} stored, {pending} pending"
    );
    assert!(pending >= STALLED_BUYERS);
    assert_whole(db, &shelf.initial).await;

    // A process takes the dead one's place and sweeps every second.
    settings.push(("SHOP_SWEEP_INTERVAL_SECS", "1".into()));
    let second = ShopProcess::start("second", shared.url(), &settings).await;
    eventually("the sweeper settled every abandoned order", async || {
        (count_in(db, OrderStatus::Pending).await == 0).then_some(())
    })
    .await;

    assert_whole(db, &shelf.initial).await;
    let orders = order::Entity::find().all(db).await.expect("read orders");
    // The gateway's memory of the stalled charges died with the process (it is the
    // in-memory test gateway), so the sweeper found no charge and released them.
    for order in orders
        .iter()
        .filter(|o| o.user_id.is_some_and(|user| stalled_ids.contains(&user)))
    {
        assert_eq!(order.status, OrderStatus::Cancelled, "{}", order.number);
    }
    // Their carts were released with them: a stalled buyer can check out again.
    let again = second
        .gql_as(&stalled[0], CHECKOUT, checkout_input(VISA))
        .await;
    assert_eq!(again.data()["checkout"]["status"], "PAID");
    let reordered = db_id(text(&again.data()["checkout"]["id"]));
    assert_whole(db, &shelf.initial).await;

    // No message is lost: every order that was paid has its confirmation in the outbox,
    // every released one its cancellation (sent as nothing: it was never confirmed).
    let rows = eventually(
        "every message is sent, or leased by the dead process",
        async || {
            let rows = outbox_rows(db).await;
            rows.iter()
                .all(|row| row.status == DeliveryState::Sent || leased.contains(&row.id))
                .then_some(rows)
        },
    )
    .await;
    for row in rows.iter().filter(|row| leased.contains(&row.id)) {
        assert_eq!(row.status, DeliveryState::Pending, "message {}", row.id);
    }
    let orders = order::Entity::find().all(db).await.expect("read orders");
    assert!(
        orders
            .iter()
            .any(|o| o.id == reordered && o.status == OrderStatus::Paid)
    );
    for order in &orders {
        let announced = |to: OrderStatus| {
            rows.iter().any(|row| {
                row.order_id == Some(order.id)
                    && matches!(Notice::of(row), Ok(Notice::OrderStatus { to: t, .. }) if t == to)
            })
        };
        match order.status {
            OrderStatus::Paid => assert!(
                announced(OrderStatus::Paid),
                "order {} unconfirmed",
                order.number
            ),
            OrderStatus::Cancelled => {
                assert!(announced(OrderStatus::Cancelled), "{}", order.number)
            }
            other => panic!("order {} is {other}", order.number),
        }
    }
    // The rows the dead process had claimed wait out its lease, pending; once it has run
    // out, any process can claim them again.
    let later = Utc::now() + Duration::minutes(3);
    let claimable: HashSet<i32> = outbox::claim(db, later, Duration::minutes(2), 1_000)
        .await
        .expect("claim")
        .into_iter()
        .map(|row| row.id)
        .collect();
    println!(
        "after: {} outbox rows, {} leased by the dead process",
        rows.len(),
        leased.len()
    );
    assert_eq!(claimable, leased);
    // And nothing went out twice: a message is only sent again after its lease ran out.
    let mail = smtp.messages();
    let mut received: HashMap<&str, usize> = HashMap::new();
    for message in &mail {
        *received.entry(message.message_id()).or_default() += 1;
    }
    assert!(
        received.values().all(|&n| n == 1),
        "a message went out twice"
    );
    for row in rows.iter().filter(|row| row.status == DeliveryState::Sent) {
        let mailed = match Notice::of(row) {
            Ok(Notice::OrderStatus { from, to }) => {
                !(from == OrderStatus::Pending && to == OrderStatus::Cancelled)
            }
            _ => true,
        };
        assert_eq!(
            received.contains_key(row.message_id.as_str()),
            mailed,
            "message {} ({})",
            row.id,
            row.payload
        );
    }
    drop(second);
}
