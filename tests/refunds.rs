//! Shipments and refunds after payment (issue 15): tracking recorded with the move to
//! SHIPPED and shown in the order and its email; admins refunding part or all of a paid
//! order through the gateway, never more than was paid however many refunds race; a
//! declined refund counting for nothing; a cancellation refunding what is left; the
//! refund email; and the refunds of a database from before partial refunds.

use chrono::{Duration, Utc};
use entity::payment::{PaymentKind, PaymentStatus};
use futures_util::future::join_all;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Value as SqlValue};
use serde_json::{Value, json};
use shop::{
    db,
    domain::{CartId, Email, GlobalId, NodeKind, PaymentToken, new_order_number},
    service::{
        Viewer,
        checkout::{self, Checkout},
        orders,
    },
};

use crate::{
    notifications::{buy, spawn_app_mailing_to, stock_product},
    store::{Shop, VISA, db_id, missing_order, open_shop, open_shop_on, postal_address, text},
    support::{PASSWORD, Session, TestDatabase, session_from, smtp::SmtpServer, spawn_app_on},
    upgrade::{insert, user_row},
};

/// What the refund tests read of an order.
const REFUND_FIELDS: &str = "id status total { amount currencyCode } refundedTotal { amount currencyCode } refunds { amount { amount currencyCode } reason createdAt } tracking { carrier number url }";

const REFUND: &str = "mutation($id: ID!, $amount: Decimal!, $reason: String) { refundOrder(id: $id, amount: $amount, reason: $reason) { id status refundedTotal { amount } refunds { amount { amount } reason } } }";

const SHIP: &str = "mutation($id: ID!, $status: OrderStatus!, $tracking: TrackingInput) { updateOrderStatus(id: $id, status: $status, tracking: $tracking) { id status tracking { carrier number url } } }";

/// The token the test gateway charges and then refuses every refund of.
const REFUND_FAIL: &str = "tok_refundFail";

/// `refundOrder` as `who`.
async fn refund(
    shop: &Shop,
    who: &Session,
    order: &str,
    amount: &str,
    reason: Option<&str>,
) -> crate::support::Gql {
    shop.gql_as(
        who,
        REFUND,
        json!({ "id": order, "amount": amount, "reason": reason }),
    )
    .await
}

/// The order as the admin reads it, with [`REFUND_FIELDS`].
async fn view(shop: &Shop, order: &str) -> Value {
    shop.gql_as(
        &shop.admin,
        &format!("query($id: ID!) {{ order(id: $id) {{ {REFUND_FIELDS} }} }}"),
        json!({ "id": order }),
    )
    .await
    .data()["order"]
        .clone()
}

/// The amounts of an order's `refunds`, oldest first.
fn amounts(order: &Value) -> Vec<String> {
    order["refunds"]
        .as_array()
        .unwrap_or_else(|| panic!("no refunds in {order}"))
        .iter()
        .map(|refund| text(&refund["amount"]["amount"]).to_owned())
        .collect()
}

/// An order of `quantity` teas at 10.00 bought by a new customer, paid with `token`.
async fn paid_order(
    shop: &Shop,
    customer: &str,
    quantity: i32,
    token: &str,
) -> (Session, String, String) {
    let who = shop.register(customer).await;
    let tea = shop
        .product(&format!("Tea for {customer}"), "10.00", 100)
        .await;
    shop.put_in_cart(&who, &tea, quantity).await;
    let order = shop.checkout(&who, token, None).await;
    let id = text(&order.data()["checkout"]["id"]).to_owned();
    (who, tea, id)
}

/// The refund rows of the ledger: (order, amount, status).
async fn refund_rows(shop: &Shop) -> Vec<(i32, i64, PaymentStatus)> {
    shop.ledger()
        .await
        .into_iter()
        .filter(|row| row.kind == PaymentKind::Refund)
        .map(|row| (row.order_id, row.amount_cents, row.status))
        .collect()
}

#[tokio::test]
async fn partial_refunds_add_up_to_the_total_and_a_cent_more_is_refused_writing_nothing() {
    let shop = open_shop().await;
    let (_, _, order) = paid_order(&shop, "alice", 2, VISA).await;

    let first = refund(&shop, &shop.admin, &order, "5.50", Some("Dented tin")).await;
    let second = refund(&shop, &shop.admin, &order, "14.50", None).await;
    let ledger_before = shop.ledger().await;
    let one_cent_more = refund(&shop, &shop.admin, &order, "0.01", None).await;

    assert_eq!(
        first.data()["refundOrder"]["refundedTotal"]["amount"],
        "5.50"
    );
    assert_eq!(
        second.data()["refundOrder"]["refundedTotal"]["amount"],
        "20.00"
    );
    assert_eq!(one_cent_more.code(), "BAD_USER_INPUT");
    assert_eq!(one_cent_more.field(), "amount");
    assert!(
        one_cent_more.error()["message"]
            .as_str()
            .is_some_and(|m| m.contains("0.00 USD")),
        "says what is left: {:#}",
        one_cent_more.body
    );
    assert_eq!(shop.ledger().await, ledger_before);
    let order = view(&shop, &order).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(
        order["refundedTotal"],
        json!({ "amount": "20.00", "currencyCode": "USD" })
    );
    assert_eq!(amounts(&order), ["5.50", "14.50"]);
    assert_eq!(order["refunds"][0]["reason"], "Dented tin");
    assert_eq!(order["refunds"][1]["reason"], Value::Null);
    let rows = refund_rows(&shop).await;
    assert_eq!(
        rows.iter()
            .map(|(_, cents, status)| (*cents, *status))
            .collect::<Vec<_>>(),
        [
            (550, PaymentStatus::Succeeded),
            (1450, PaymentStatus::Succeeded)
        ]
    );
    // Each refund went to the gateway under a key of its own.
    let keys: Vec<_> = shop
        .ledger()
        .await
        .into_iter()
        .filter_map(|row| row.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
}

#[tokio::test]
async fn shipped_and_delivered_orders_can_be_refunded_too() {
    let shop = open_shop().await;
    let (_, _, order) = paid_order(&shop, "alice", 1, VISA).await;
    shop.set_status(&shop.admin, &order, "SHIPPED").await.data();

    let shipped = refund(&shop, &shop.admin, &order, "1", None).await;
    shop.set_status(&shop.admin, &order, "DELIVERED")
        .await
        .data();
    let delivered = refund(&shop, &shop.admin, &order, "2.25", None).await;

    assert_eq!(shipped.data()["refundOrder"]["status"], "SHIPPED");
    assert_eq!(delivered.data()["refundOrder"]["status"], "DELIVERED");
    assert_eq!(
        delivered.data()["refundOrder"]["refundedTotal"]["amount"],
        "3.25"
    );
}

#[tokio::test]
async fn refunds_of_pending_or_cancelled_orders_are_conflicts_and_write_nothing() {
    let shop = open_shop().await;
    let (alice, tea, cancelled) = paid_order(&shop, "alice", 1, VISA).await;
    shop.cancel(&alice, &cancelled).await.data();
    shop.put_in_cart(&alice, &tea, 1).await;
    let pending = checkout::reserve(
        &shop.db,
        &shop.payments,
        db_id(&alice.id),
        &postal_address(),
        None,
    )
    .await
    .expect("stock reserved");
    let pending = GlobalId::new(NodeKind::Order, pending.id).to_string();
    let ledger_before = shop.ledger().await;

    for order in [&cancelled, &pending] {
        let response = refund(&shop, &shop.admin, order, "1.00", None).await;

        assert_eq!(response.code(), "CONFLICT", "{order}");
        assert_eq!(response.field(), "id");
    }
    assert_eq!(shop.ledger().await, ledger_before);
    assert_eq!(
        view(&shop, &pending).await["refundedTotal"]["amount"],
        "0.00"
    );
}

#[tokio::test]
async fn bad_amounts_and_reasons_name_their_field_and_write_nothing() {
    let shop = open_shop().await;
    let (_, _, order) = paid_order(&shop, "alice", 1, VISA).await;
    let long = "x".repeat(501);
    let cases = [
        ("0", None, "amount"),
        ("0.00", None, "amount"),
        ("-1.00", None, "amount"),
        ("1.005", None, "amount"),
        ("ten", None, "amount"),
        ("10.01", None, "amount"),
        ("1.00", Some(long.as_str()), "reason"),
        ("1.00", Some("bad\u{0}reason"), "reason"),
    ];

    for (amount, reason, field) in cases {
        let response = refund(&shop, &shop.admin, &order, amount, reason).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{amount} {reason:?}");
        assert_eq!(response.field(), field, "{amount} {reason:?}");
    }
    assert!(refund_rows(&shop).await.is_empty());
    assert_eq!(view(&shop, &order).await["refundedTotal"]["amount"], "0.00");
}

#[tokio::test]
async fn only_admins_refund_and_a_missing_order_is_not_found() {
    let shop = open_shop().await;
    let (alice, _, order) = paid_order(&shop, "alice", 1, VISA).await;

    let own = refund(&shop, &alice, &order, "1.00", None).await;
    let anonymous = shop
        .gql(REFUND, json!({ "id": order, "amount": "1.00" }))
        .await;
    let missing = refund(&shop, &shop.admin, &missing_order(), "1.00", None).await;

    assert_eq!(own.code(), "FORBIDDEN");
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert_eq!(missing.code(), "NOT_FOUND");
    assert!(refund_rows(&shop).await.is_empty());
}

#[tokio::test]
async fn ten_concurrent_refunds_of_thirty_percent_let_exactly_three_through() {
    let shop = open_shop().await;
    let (_, _, order) = paid_order(&shop, "alice", 10, VISA).await;

    let answers =
        join_all((0..10).map(|_| refund(&shop, &shop.admin, &order, "30.00", None))).await;

    let refused: Vec<_> = answers
        .iter()
        .filter(|answer| answer.body.get("errors").is_some())
        .collect();
    assert_eq!(answers.len() - refused.len(), 3, "{answers:#?}");
    for answer in refused {
        assert_eq!(answer.code(), "BAD_USER_INPUT");
        assert_eq!(answer.field(), "amount");
    }
    let order = view(&shop, &order).await;
    assert_eq!(order["refundedTotal"]["amount"], "90.00");
    assert_eq!(amounts(&order), ["30.00", "30.00", "30.00"]);
    let rows = refund_rows(&shop).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|(_, _, status)| *status == PaymentStatus::Succeeded)
    );
    assert_eq!(
        shop.stored_orders().await[0].refunded_cents,
        rows.iter().map(|(_, cents, _)| cents).sum::<i64>()
    );
}

#[tokio::test]
async fn a_declined_refund_is_payment_declined_and_gives_its_amount_back() {
    let shop = open_shop().await;
    let (_, _, order) = paid_order(&shop, "alice", 2, REFUND_FAIL).await;

    let declined = refund(&shop, &shop.admin, &order, "5.00", None).await;

    assert_eq!(declined.code(), "PAYMENT_DECLINED");
    assert!(
        declined.error()["message"]
            .as_str()
            .is_some_and(|m| m.contains("refused the refund")),
        "the gateway's message: {:#}",
        declined.body
    );
    let order = view(&shop, &order).await;
    assert_eq!(order["refundedTotal"]["amount"], "0.00");
    assert_eq!(order["refunds"], json!([]));
    assert_eq!(refund_rows(&shop).await[0].2, PaymentStatus::Failed);
    // Declined is final: the sweeper does not ask again.
    let swept = orders::sweep(&shop.db, &shop.payments, Utc::now() + Duration::minutes(5))
        .await
        .expect("swept");
    assert_eq!(swept.refunded, 0);
    assert_eq!(refund_rows(&shop).await[0].2, PaymentStatus::Failed);
}

#[tokio::test]
async fn cancelling_after_a_partial_refund_refunds_the_rest_and_restocks() {
    let shop = open_shop().await;
    let (alice, tea, order) = paid_order(&shop, "alice", 3, VISA).await;
    refund(&shop, &shop.admin, &order, "7.25", None)
        .await
        .data();

    shop.cancel(&alice, &order).await.data();
    let again = shop.cancel(&shop.admin, &order).await;

    assert_eq!(again.code(), "CONFLICT");
    assert_eq!(shop.stock(&tea).await, 100);
    let rows = refund_rows(&shop).await;
    assert_eq!(
        rows.iter()
            .map(|(_, cents, status)| (*cents, *status))
            .collect::<Vec<_>>(),
        [
            (725, PaymentStatus::Succeeded),
            (2275, PaymentStatus::Succeeded)
        ]
    );
    let order = view(&shop, &order).await;
    assert_eq!(order["status"], "CANCELLED");
    assert_eq!(order["refundedTotal"]["amount"], "30.00");
    assert_eq!(amounts(&order), ["7.25", "22.75"]);
}

#[tokio::test]
async fn cancelling_a_fully_refunded_order_refunds_nothing_more_and_restocks() {
    let shop = open_shop().await;
    let (alice, tea, order) = paid_order(&shop, "alice", 1, VISA).await;
    refund(&shop, &shop.admin, &order, "10.00", None)
        .await
        .data();

    shop.cancel(&alice, &order).await.data();

    assert_eq!(shop.stock(&tea).await, 100);
    assert_eq!(refund_rows(&shop).await.len(), 1);
    assert_eq!(
        view(&shop, &order).await["refundedTotal"]["amount"],
        "10.00"
    );
}

#[tokio::test]
async fn refunds_racing_a_cancellation_never_refund_more_than_was_paid() {
    let shop = open_shop().await;
    let (alice, tea, order) = paid_order(&shop, "alice", 4, VISA).await;

    let refunds = join_all((0..4).map(|_| refund(&shop, &shop.admin, &order, "15.00", None)));
    let (refunds, cancelled) = tokio::join!(refunds, shop.cancel(&alice, &order));

    cancelled.data();
    for answer in &refunds {
        if answer.body.get("errors").is_some() {
            assert!(
                ["BAD_USER_INPUT", "CONFLICT"].contains(&answer.code()),
                "{answer:?}"
            );
        }
    }
    let rows = refund_rows(&shop).await;
    let refunded: i64 = rows.iter().map(|(_, cents, _)| cents).sum();
    assert_eq!(refunded, 4000, "{rows:?}");
    assert!(
        rows.iter()
            .all(|(_, _, status)| *status == PaymentStatus::Succeeded)
    );
    assert_eq!(shop.stored_orders().await[0].refunded_cents, 4000);
    assert_eq!(shop.stock(&tea).await, 100);
}

#[tokio::test]
async fn a_shipment_records_its_tracking_and_the_order_shows_it() {
    let shop = open_shop().await;
    let (alice, _, order) = paid_order(&shop, "alice", 1, VISA).await;
    let before = view(&shop, &order).await;

    let shipped = shop
        .gql_as(
            &shop.admin,
            SHIP,
            json!({ "id": order, "status": "SHIPPED", "tracking": {
                "carrier": " UPS ", "number": "1Z999AA10123456784",
                "url": "https://www.ups.example/track?num=1Z999AA10123456784",
            }}),
        )
        .await;

    assert_eq!(before["tracking"], Value::Null);
    let tracking = json!({
        "carrier": "UPS",
        "number": "1Z999AA10123456784",
        "url": "https://www.ups.example/track?num=1Z999AA10123456784",
    });
    assert_eq!(shipped.data()["updateOrderStatus"]["tracking"], tracking);
    let seen_by_alice = shop
        .gql_as(
            &alice,
            "query($id: ID!) { order(id: $id) { tracking { carrier number url } } }",
            json!({ "id": order }),
        )
        .await;
    assert_eq!(seen_by_alice.data()["order"]["tracking"], tracking);
    // Delivered later, it keeps its tracking.
    shop.set_status(&shop.admin, &order, "DELIVERED")
        .await
        .data();
    assert_eq!(view(&shop, &order).await["tracking"], tracking);
}

#[tokio::test]
async fn tracking_without_a_url_is_kept_and_a_shipment_needs_none() {
    let shop = open_shop().await;
    let (_, _, with) = paid_order(&shop, "alice", 1, VISA).await;
    let (_, _, without) = paid_order(&shop, "bob", 1, VISA).await;

    let shipped = shop
        .gql_as(
            &shop.admin,
            SHIP,
            json!({ "id": with, "status": "SHIPPED", "tracking": { "carrier": "DHL", "number": "JD0146" } }),
        )
        .await;
    shop.set_status(&shop.admin, &without, "SHIPPED")
        .await
        .data();

    assert_eq!(
        shipped.data()["updateOrderStatus"]["tracking"],
        json!({ "carrier": "DHL", "number": "JD0146", "url": null })
    );
    assert_eq!(view(&shop, &without).await["tracking"], Value::Null);
}

#[tokio::test]
async fn tracking_with_another_status_or_bad_parts_is_refused_and_changes_nothing() {
    let shop = open_shop().await;
    let (_, _, order) = paid_order(&shop, "alice", 1, VISA).await;
    let good = json!({ "carrier": "UPS", "number": "1Z", "url": "https://ups.example/1Z" });
    let with = |changes: Value| {
        let mut tracking = good.clone();
        for (key, value) in changes.as_object().expect("an object") {
            tracking[key] = value.clone();
        }
        tracking
    };
    let cases = [
        ("DELIVERED", good.clone(), "tracking"),
        ("PAID", good.clone(), "tracking"),
        ("SHIPPED", with(json!({ "carrier": "  " })), "carrier"),
        (
            "SHIPPED",
            with(json!({ "carrier": "x".repeat(51) })),
            "carrier",
        ),
        ("SHIPPED", with(json!({ "number": "" })), "number"),
        (
            "SHIPPED",
            with(json!({ "number": "1".repeat(101) })),
            "number",
        ),
        ("SHIPPED", with(json!({ "url": "ups.example/1Z" })), "url"),
        (
            "SHIPPED",
            with(json!({ "url": "javascript:alert(1)" })),
            "url",
        ),
        (
            "SHIPPED",
            with(json!({ "url": "ftp://ups.example/1Z" })),
            "url",
        ),
        (
            "SHIPPED",
            with(json!({ "url": format!("https://ups.example/{}", "a".repeat(2000)) })),
            "url",
        ),
    ];

    for (status, tracking, field) in cases {
        let response = shop
            .gql_as(
                &shop.admin,
                SHIP,
                json!({ "id": order, "status": status, "tracking": tracking }),
            )
            .await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{status} {tracking}");
        assert_eq!(response.field(), field, "{status} {tracking}");
    }
    let order = view(&shop, &order).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["tracking"], Value::Null);
}

#[tokio::test]
async fn only_admins_record_tracking() {
    let shop = open_shop().await;
    let (alice, _, order) = paid_order(&shop, "alice", 1, VISA).await;
    let variables = json!({ "id": order, "status": "SHIPPED", "tracking": { "carrier": "UPS", "number": "1Z" } });

    let own = shop.gql_as(&alice, SHIP, variables.clone()).await;
    let anonymous = shop.gql(SHIP, variables).await;

    assert_eq!(own.code(), "FORBIDDEN");
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert_eq!(view(&shop, &order).await["status"], "PAID");
}

#[tokio::test]
async fn the_shipped_email_shows_the_tracking_and_a_refund_email_its_amount_and_reason() {
    let smtp = SmtpServer::start().await;
    let shop = open_shop_on(spawn_app_mailing_to(&smtp).await).await;
    let alice = shop.register("alice").await;
    let mug = stock_product(&shop, &shop.admin, "Mug", "12.00", 5).await;
    let order = buy(&shop, &alice, &mug, 2).await;

    shop.gql_as(
        &shop.admin,
        SHIP,
        json!({ "id": order.id, "status": "SHIPPED", "tracking": {
            "carrier": "PostNL", "number": "3SABCD1234567", "url": "https://postnl.example/t/3SABCD1234567",
        }}),
    )
    .await
    .data();
    refund(
        &shop,
        &shop.admin,
        &order.id,
        "4.50",
        Some("The handle was chipped."),
    )
    .await
    .data();

    // Two welcomes, the confirmation, the shipment, the refund.
    let messages = smtp.wait_for(5).await;
    let about: Vec<_> = messages
        .iter()
        .filter(|mail| mail.subject().contains(&order.number))
        .collect();
    let [_, shipped, refunded] = about[..] else {
        panic!("three mails about the order: {about:#?}")
    };
    assert!(shipped.is_to("alice@example.com") && refunded.is_to("alice@example.com"));
    assert!(shipped.subject().to_lowercase().contains("shipped"));
    for body in [
        &shipped.text,
        &crate::support::smtp::unescape_html(&shipped.html),
    ] {
        assert!(body.contains("PostNL"), "{body}");
        assert!(body.contains("3SABCD1234567"), "{body}");
        assert!(
            body.contains("https://postnl.example/t/3SABCD1234567"),
            "{body}"
        );
    }
    assert!(
        refunded.subject().contains("4.50 USD"),
        "{}",
        refunded.subject()
    );
    for body in [
        &refunded.text,
        &crate::support::smtp::unescape_html(&refunded.html),
    ] {
        assert!(body.contains("4.50 USD"), "{body}");
        assert!(body.contains("The handle was chipped."), "{body}");
        assert!(body.contains("4.50 USD of 24.00 USD"), "{body}");
        assert!(body.contains(&order.number), "{body}");
    }
}

#[tokio::test]
async fn a_declined_refund_sends_no_email_and_a_cancellation_mails_the_rest_it_refunds() {
    let smtp = SmtpServer::start().await;
    let shop = open_shop_on(spawn_app_mailing_to(&smtp).await).await;
    let (_, _, declined) = paid_order(&shop, "alice", 1, REFUND_FAIL).await;
    let (_, _, cancelled) = paid_order(&shop, "bob", 3, VISA).await;

    let answer = refund(&shop, &shop.admin, &declined, "1.00", None).await;
    refund(&shop, &shop.admin, &cancelled, "10.00", None)
        .await
        .data();
    shop.cancel(&shop.admin, &cancelled).await.data();

    assert_eq!(answer.code(), "PAYMENT_DECLINED");
    // Three welcomes, two confirmations, Bob's refund and his cancellation.
    let messages = smtp.wait_for(7).await;
    let numbers: Vec<_> = shop
        .stored_orders()
        .await
        .into_iter()
        .map(|order| order.number)
        .collect();
    let about = |number: &str| -> Vec<_> {
        messages
            .iter()
            .filter(|mail| mail.subject().contains(number))
            .collect()
    };
    assert_eq!(about(&numbers[0]).len(), 1, "only Alice's confirmation");
    let bobs = about(&numbers[1]);
    assert_eq!(bobs.len(), 3, "{bobs:#?}");
    assert!(bobs[1].text.contains("10.00 USD"), "{}", bobs[1].text);
    assert!(bobs[2].subject().to_lowercase().contains("cancelled"));
    assert!(
        bobs[2].text.contains("20.00 USD"),
        "the rest: {}",
        bobs[2].text
    );
}

/// The migrations of the release before partial refunds (issue 15): everything up to
/// this change's migration.
fn migrations_before_partial_refunds() -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261204_090200_record_tracking_and_partial_refunds")
        .expect("the partial refunds migration");
    u32::try_from(position).expect("a few migrations")
}

#[tokio::test]
async fn refunds_of_a_database_from_before_partial_refunds_keep_working() {
    let database = TestDatabase::create().await;
    let old = db::connect(database.url(), 1).await.expect("connect");
    Migrator::up(&old, Some(migrations_before_partial_refunds()))
        .await
        .expect("the earlier migrations");
    let at = Utc::now() - Duration::days(1);
    let ada = insert(&old, "users", user_row("ada", at).await).await;
    // A paid order cancelled by that release, whose refund it saw fail (and retried
    // forever), and a paid order it never refunded.
    let mut orders = Vec::new();
    for status in ["CANCELLED", "PAID"] {
        let number = new_order_number();
        let id = insert(
            &old,
            "orders",
            vec![
                ("number", number.clone().into()),
                ("user_id", ada.into()),
                ("email", "ada@example.com".into()),
                ("status", status.into()),
                ("total_cents", 5000_i64.into()),
                ("currency", "USD".into()),
                ("ship_full_name", "Ada Lovelace".into()),
                ("ship_line1", "12 St James's Square".into()),
                ("ship_line2", SqlValue::String(None)),
                ("ship_city", "London".into()),
                ("ship_postal_code", "SW1Y 4JH".into()),
                ("ship_country", "GB".into()),
                ("idempotency_key", SqlValue::String(None)),
                ("cart_id", SqlValue::Int(None)),
                ("expires_at", (at + Duration::minutes(15)).into()),
                ("placed_at", at.into()),
                ("updated_at", at.into()),
            ],
        )
        .await;
        let mut ledger = vec![("charge", "succeeded", Some(format!("test_ch_old_{id}")))];
        if status == "CANCELLED" {
            ledger.push(("refund", "failed", None));
        }
        for (kind, state, reference) in ledger {
            insert(
                &old,
                "payments",
                vec![
                    ("order_id", id.into()),
                    ("kind", kind.into()),
                    ("gateway", "test".into()),
                    ("reference", reference.into()),
                    ("amount_cents", 5000_i64.into()),
                    ("status", state.into()),
                    ("created_at", at.into()),
                    ("updated_at", at.into()),
                ],
            )
            .await;
        }
        orders.push((id, number));
    }
    old.close().await.expect("close");

    let app = spawn_app_on(database, |_| {}).await;
    let shop = open_shop_on(app).await;
    let [(cancelled, cancelled_number), (paid, _)] = &orders[..] else {
        unreachable!()
    };
    let cancelled_id = GlobalId::new(NodeKind::Order, *cancelled).to_string();
    let paid_id = GlobalId::new(NodeKind::Order, *paid).to_string();

    // The old refund counts as owed, under the key it was issued with, and the sweeper
    // (the server's own, at its start, or this one) completes it.
    let owed = view(&shop, &cancelled_id).await;
    assert_eq!(owed["refundedTotal"]["amount"], "50.00");
    assert_eq!(amounts(&owed), ["50.00"]);
    orders::sweep(&shop.db, &shop.payments, Utc::now() + Duration::minutes(1))
        .await
        .expect("swept");
    let old_refund = shop
        .ledger()
        .await
        .into_iter()
        .find(|row| row.order_id == *cancelled && row.kind == PaymentKind::Refund)
        .expect("the old refund");
    assert_eq!(old_refund.status, PaymentStatus::Succeeded);
    assert!(old_refund.reference.is_some());
    assert_eq!(
        old_refund.idempotency_key.as_deref(),
        Some(format!("refund-{cancelled_number}").as_str())
    );
    // The old paid order refunds in parts, and its cancellation refunds the rest.
    refund(&shop, &shop.admin, &paid_id, "20.00", None)
        .await
        .data();
    let ada = session_from(&shop.login("ada", PASSWORD).await.data()["login"]);
    shop.cancel(&ada, &paid_id).await.data();
    let rows = refund_rows(&shop).await;
    assert_eq!(
        rows,
        [
            (*cancelled, 5000, PaymentStatus::Succeeded),
            (*paid, 2000, PaymentStatus::Succeeded),
            (*paid, 3000, PaymentStatus::Succeeded),
        ]
    );
    assert_eq!(
        view(&shop, &paid_id).await["refundedTotal"]["amount"],
        "50.00"
    );
}

#[tokio::test]
async fn the_database_itself_refuses_a_refunded_total_outside_zero_and_the_total() {
    let shop = open_shop().await;
    let (_, _, order) = paid_order(&shop, "alice", 1, VISA).await;
    let id = db_id(&order);

    for refunded in ["total_cents + 1", "-1"] {
        let outcome = shop
            .db
            .execute_unprepared(&format!(
                "UPDATE orders SET refunded_cents = {refunded} WHERE id = {id}"
            ))
            .await;

        assert!(outcome.is_err(), "refunded_cents = {refunded} was accepted");
    }
    assert_eq!(shop.stored_orders().await[0].refunded_cents, 0);
}

#[tokio::test]
async fn the_refunds_of_a_page_of_orders_cost_the_same_statements_at_any_page_size() {
    let shop = open_shop().await;
    for customer in ["alice", "bob", "carol", "dave"] {
        let (_, _, order) = paid_order(&shop, customer, 2, VISA).await;
        refund(&shop, &shop.admin, &order, "1.00", None)
            .await
            .data();
        refund(&shop, &shop.admin, &order, "2.00", Some("late"))
            .await
            .data();
    }
    let query = "query($first: Int) { allOrders(first: $first) { nodes { refundedTotal { amount } refunds { amount { amount } reason createdAt } tracking { carrier } } } }";
    let cost = async |first: i32| {
        let before = shop.statements();
        let page = shop
            .gql_as(&shop.admin, query, json!({ "first": first }))
            .await;
        let nodes = page.data()["allOrders"]["nodes"].clone();
        assert_eq!(nodes.as_array().map(Vec::len), Some(first as usize));
        assert!(
            nodes
                .as_array()
                .into_iter()
                .flatten()
                .all(|order| amounts(order) == ["1.00", "2.00"])
        );
        shop.statements() - before
    };

    let one = cost(1).await;
    let four = cost(4).await;

    assert_eq!(one, four);
}

#[tokio::test]
async fn a_guest_is_mailed_the_refund_of_their_order_at_the_address_they_ordered_with() {
    let smtp = SmtpServer::start().await;
    let shop = open_shop_on(spawn_app_mailing_to(&smtp).await).await;
    let tea = shop.product("Tea", "8.00", 10).await;
    let cart = shop
        .gql("mutation { createCart { id } }", json!({}))
        .await
        .data()["createCart"]["id"]
        .as_str()
        .expect("a cart id")
        .to_owned();
    shop.gql(
        "mutation($cart: ID!, $product: ID!) { addToCart(cartId: $cart, productId: $product, quantity: 2) { id } }",
        json!({ "cart": cart, "product": tea }),
    )
    .await
    .data();
    // Guests check out through the service: the API takes users only for now.
    let order = checkout::checkout(
        &shop.db,
        &shop.payments,
        &Viewer::Anonymous,
        Checkout {
            cart: Some(CartId::parse(&cart).expect("a cart id")),
            email: Some(Email::parse("guest@example.net", "email").expect("valid")),
            shipping_address: postal_address(),
            shipping_method: None,
            payment_method: None,
            payment_token: Some(PaymentToken::parse("paymentToken", VISA).expect("valid")),
            idempotency_key: None,
        },
    )
    .await
    .expect("a guest's order");
    let id = GlobalId::new(NodeKind::Order, order.id).to_string();

    refund(&shop, &shop.admin, &id, "3.00", Some("One bag was torn."))
        .await
        .data();

    // The admin's welcome, the confirmation, the refund.
    let messages = smtp.wait_for(3).await;
    let refunded = messages
        .iter()
        .find(|mail| mail.subject().starts_with("A refund"))
        .unwrap_or_else(|| panic!("no refund mail in {messages:#?}"));
    assert!(refunded.is_to("guest@example.net"));
    assert!(refunded.subject().contains(&order.number));
    assert!(refunded.text.contains("3.00 USD") && refunded.text.contains("One bag was torn."));
}
