//! Email verification (issue 14): the welcome mail carries a one-time link that verifies
//! the address; a logged-in customer can ask for a fresh one (rate limited); a link works
//! once, for 72 hours, for whoever holds it, and only for the address it was sent to, so
//! changing the address makes the account unverified and voids the links sent before.
//! Accounts from before the feature start unverified.

use chrono::{Duration, Utc};
use entity::{
    email_verification,
    outbox_message::{self, DeliveryState, MessageKind},
};
use futures_util::future::join_all;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use shop::{
    auth::PasswordHasher,
    db,
    domain::{Password, Username},
};

use crate::{
    notifications::{PUBLIC_URL, eventually, spawn_app_mailing_to},
    support::{
        Gql, PASSWORD, Session, TestApp, TestDatabase,
        smtp::{Mail, SmtpServer, unescape_html},
        spawn_app_on,
    },
    upgrade::insert,
};

const VERIFY: &str = "mutation($token: String!) { verifyEmail(token: $token) }";
const REQUEST: &str = "mutation { requestEmailVerification }";
const VERIFIED: &str = "{ me { email emailVerified } }";
const CHANGE_EMAIL: &str = "mutation($email: String!, $password: String!) { updateAccount(input: { email: $email, currentPassword: $password }) { email emailVerified } }";

async fn verify(app: &TestApp, token: &str) -> Gql {
    app.gql(VERIFY, json!({ "token": token })).await
}

async fn request_link(app: &TestApp, who: &Session) -> Gql {
    app.gql_as(who, REQUEST, json!({})).await
}

/// Whether `who`'s address is verified, as the account itself reads it.
async fn is_verified(app: &TestApp, who: &Session) -> bool {
    app.gql_as(who, VERIFIED, json!({})).await.data()["me"]["emailVerified"]
        .as_bool()
        .expect("a boolean")
}

async fn change_email(app: &TestApp, who: &Session, email: &str) -> Gql {
    app.gql_as(
        who,
        CHANGE_EMAIL,
        json!({ "email": email, "password": PASSWORD }),
    )
    .await
}

fn is_verification(mail: &Mail) -> bool {
    mail.text
        .contains(&format!("{PUBLIC_URL}/verify-email?token="))
}

/// The token in the verification link of a message.
fn token_in(mail: &Mail) -> String {
    let link = format!("{PUBLIC_URL}/verify-email?token=");
    let start = mail
        .text
        .find(&link)
        .unwrap_or_else(|| panic!("no verification link in:\n{}", mail.text))
        + link.len();
    let token: String = mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    assert!(token.len() >= 32, "a token of 256 bits, got {token:?}");
    token
}

async fn token_rows(app: &TestApp) -> Vec<email_verification::Model> {
    email_verification::Entity::find()
        .all(&app.db)
        .await
        .expect("read the verification tokens")
}

/// Registers `username` and answers the session and the token of its welcome mail, the
/// `nth` message the SMTP server receives.
async fn register_and_read_welcome(
    app: &TestApp,
    smtp: &SmtpServer,
    username: &str,
    nth: usize,
) -> (Session, String) {
    let session = app.register(username).await;
    let welcome = smtp.wait_for(nth).await.remove(nth - 1);
    assert!(welcome.is_to(&format!("{username}@example.com")));
    (session, token_in(&welcome))
}

#[tokio::test]
async fn the_link_in_the_welcome_mail_verifies_the_address() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let alice = app.register("alice").await;
    let welcome = smtp.wait_for(1).await.remove(0);
    let token = token_in(&welcome);
    let before = is_verified(&app, &alice).await;

    let verified = verify(&app, &token).await;

    assert!(!before, "a new account starts unverified");
    assert_eq!(verified.data()["verifyEmail"], true);
    assert!(is_verified(&app, &alice).await);
    assert!(
        unescape_html(&welcome.html).contains(&format!("{PUBLIC_URL}/verify-email?token={token}"))
    );
    // Stored only hashed, and gone from the message once it was sent.
    assert!(token_rows(&app).await.iter().all(|r| r.token_hash != token));
    let row = eventually("the welcome is marked sent", async || {
        outbox_message::Entity::find()
            .filter(outbox_message::Column::MessageId.eq(welcome.message_id()))
            .one(&app.db)
            .await
            .expect("read the outbox")
            .filter(|row| row.status == DeliveryState::Sent)
    })
    .await;
    assert_eq!(row.kind, MessageKind::Welcome);
    assert!(!row.payload.contains(&token), "{}", row.payload);
}

#[tokio::test]
async fn a_verification_link_works_only_once() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, token) = register_and_read_welcome(&app, &smtp, "alice", 1).await;

    let first = verify(&app, &token).await;
    let second = verify(&app, &token).await;
    let made_up = verify(&app, "not-a-token-anyone-was-sent").await;

    assert_eq!(first.data()["verifyEmail"], true);
    for refused in [&second, &made_up] {
        assert_eq!(refused.code(), "BAD_USER_INPUT");
        assert_eq!(refused.field(), "token");
    }
    assert!(is_verified(&app, &alice).await);
}

#[tokio::test]
async fn concurrent_verifications_with_one_link_succeed_once() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, token) = register_and_read_welcome(&app, &smtp, "alice", 1).await;

    let answers = join_all((0..4).map(|_| verify(&app, &token))).await;

    let succeeded = answers
        .iter()
        .filter(|answer| answer.body.get("errors").is_none())
        .count();
    assert_eq!(succeeded, 1, "{answers:#?}");
    for refused in answers.iter().filter(|a| a.body.get("errors").is_some()) {
        assert_eq!(refused.code(), "BAD_USER_INPUT");
        assert_eq!(refused.field(), "token");
    }
    assert!(is_verified(&app, &alice).await);
}

#[tokio::test]
async fn a_link_expires_seventy_two_hours_after_it_was_issued() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, token) = register_and_read_welcome(&app, &smtp, "alice", 1).await;
    let row = token_rows(&app).await.remove(0);
    assert_eq!(row.expires_at - row.created_at, Duration::hours(72));

    // As if the 72 hours had passed.
    let mut expired = row.clone().into_active_model();
    expired.expires_at = Set(Utc::now() - Duration::seconds(1));
    expired.update(&app.db).await.expect("expire the token");
    let too_late = verify(&app, &token).await;
    let still_unverified = is_verified(&app, &alice).await;
    // As if one minute were left.
    let mut in_time = row.into_active_model();
    in_time.expires_at = Set(Utc::now() + Duration::minutes(1));
    in_time.update(&app.db).await.expect("renew the token");
    let just_in_time = verify(&app, &token).await;

    assert_eq!(too_late.code(), "BAD_USER_INPUT");
    assert_eq!(too_late.field(), "token");
    assert!(!still_unverified);
    assert_eq!(just_in_time.data()["verifyEmail"], true);
    assert!(is_verified(&app, &alice).await);
}

#[tokio::test]
async fn anyone_holding_the_link_verifies_the_account_it_was_sent_to_and_no_other() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, alices_token) = register_and_read_welcome(&app, &smtp, "alice", 1).await;
    let (bob, _) = register_and_read_welcome(&app, &smtp, "bob", 2).await;

    // Bob, logged in, opens Alice's link (a forwarded mail, a shared computer).
    let answer = app
        .gql_as(&bob, VERIFY, json!({ "token": alices_token }))
        .await;

    assert_eq!(answer.data()["verifyEmail"], true);
    assert!(is_verified(&app, &alice).await);
    assert!(!is_verified(&app, &bob).await);
}

#[tokio::test]
async fn changing_the_email_makes_the_account_unverified_again() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, token) = register_and_read_welcome(&app, &smtp, "alice", 1).await;
    verify(&app, &token).await.data();
    assert!(is_verified(&app, &alice).await);

    let same_address = change_email(&app, &alice, "ALICE@example.com").await;
    let still_verified = is_verified(&app, &alice).await;
    let moved = change_email(&app, &alice, "alice@elsewhere.example").await;

    // The same mailbox in other letter case proves no less.
    assert_eq!(
        same_address.data()["updateAccount"]["email"],
        "ALICE@example.com"
    );
    assert!(still_verified);
    assert_eq!(moved.data()["updateAccount"]["emailVerified"], false);
    assert!(!is_verified(&app, &alice).await);
}

#[tokio::test]
async fn a_link_sent_to_the_old_address_cannot_verify_the_new_one() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, old_link) = register_and_read_welcome(&app, &smtp, "alice", 1).await;

    change_email(&app, &alice, "alice@elsewhere.example")
        .await
        .data();
    let with_old_link = verify(&app, &old_link).await;
    request_link(&app, &alice).await.data();
    let fresh = smtp.wait_for(2).await.remove(1);
    let with_fresh_link = verify(&app, &token_in(&fresh)).await;

    assert_eq!(with_old_link.code(), "BAD_USER_INPUT");
    assert_eq!(with_old_link.field(), "token");
    assert!(fresh.is_to("alice@elsewhere.example"), "{}", fresh.raw);
    assert_eq!(with_fresh_link.data()["verifyEmail"], true);
    let me = app.gql_as(&alice, VERIFIED, json!({})).await;
    assert_eq!(me.data()["me"]["email"], "alice@elsewhere.example");
    assert_eq!(me.data()["me"]["emailVerified"], true);
}

#[tokio::test]
async fn a_fresh_link_is_mailed_on_request_and_earlier_links_work_until_one_is_used() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, welcome_link) = register_and_read_welcome(&app, &smtp, "alice", 1).await;

    let requested = request_link(&app, &alice).await;
    let fresh = smtp.wait_for(2).await.remove(1);
    let fresh_link = token_in(&fresh);
    // The welcome's link, clicked late, still works; then the fresh one has nothing to do.
    let with_welcome_link = verify(&app, &welcome_link).await;
    let with_fresh_link = verify(&app, &fresh_link).await;

    assert_eq!(requested.data()["requestEmailVerification"], true);
    assert!(fresh.is_to("alice@example.com"));
    assert!(!fresh.subject().is_empty());
    assert!(
        unescape_html(&fresh.html)
            .contains(&format!("{PUBLIC_URL}/verify-email?token={fresh_link}"))
    );
    assert_ne!(welcome_link, fresh_link);
    assert_eq!(with_welcome_link.data()["verifyEmail"], true);
    assert_eq!(with_fresh_link.code(), "BAD_USER_INPUT");
    assert_eq!(with_fresh_link.field(), "token");
    assert!(is_verified(&app, &alice).await);
}

#[tokio::test]
async fn a_verified_address_is_mailed_no_new_link() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let (alice, token) = register_and_read_welcome(&app, &smtp, "alice", 1).await;
    verify(&app, &token).await.data();

    let requested = request_link(&app, &alice).await;

    assert_eq!(requested.data()["requestEmailVerification"], false);
    let links_asked_for = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq(MessageKind::EmailVerification))
        .count(&app.db)
        .await
        .expect("count the outbox");
    assert_eq!(links_asked_for, 0);
    assert_eq!(token_rows(&app).await.len(), 1, "only the welcome's");
}

#[tokio::test]
async fn asking_for_a_link_needs_a_login() {
    let app = crate::support::spawn_app().await;

    let anonymous = app.gql(REQUEST, json!({})).await;

    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn requests_for_a_fresh_link_are_rate_limited_after_three() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let mut alices = Vec::new();
    for _ in 0..4 {
        alices.push(request_link(&app, &alice).await);
    }
    let bobs = request_link(&app, &bob).await;

    for answer in &alices[..3] {
        assert_eq!(answer.data()["requestEmailVerification"], true);
    }
    assert_eq!(alices[3].code(), "RATE_LIMITED");
    let retry_after = alices[3].error()["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retryAfter: {:#}", alices[3].body));
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    assert_eq!(bobs.data()["requestEmailVerification"], true);
    // Two welcomes, three links for alice, one for bob: nothing more for alice.
    let messages = smtp.wait_for(6).await;
    assert_eq!(messages.len(), 6);
    let alices_links = messages
        .iter()
        .filter(|m| m.is_to("alice@example.com") && is_verification(m))
        .count();
    assert_eq!(alices_links, 1 + 3, "the welcome's and three fresh ones");
}

/// The name of the migration that added email verification: the upgrade test builds the
/// database with every migration before it.
const VERIFICATION_MIGRATION: &str = "m20261202_150000_verify_email_addresses";

#[tokio::test]
async fn accounts_from_before_email_verification_are_unverified_and_can_ask_for_a_link() {
    let database = TestDatabase::create().await;
    let old = db::connect(database.url(), 1).await.expect("connect");
    let before = Migrator::migrations()
        .iter()
        .position(|migration| migration.name() == VERIFICATION_MIGRATION)
        .expect("the verification migration is listed");
    Migrator::up(&old, Some(u32::try_from(before).expect("a small count")))
        .await
        .expect("the migrations before verification");
    let username = Username::parse("ada", "username").expect("valid");
    let hash = PasswordHasher::new()
        .expect("a hasher")
        .hash(&Password::parse(PASSWORD, &username, "password").expect("valid"))
        .await
        .expect("a hash");
    let at = Utc::now() - Duration::days(30);
    let ada = insert(
        &old,
        "users",
        vec![
            ("username", "ada".into()),
            ("username_key", "ada".into()),
            ("email", "ada@example.com".into()),
            ("email_key", "ada@example.com".into()),
            ("password_hash", hash.into()),
            ("is_admin", false.into()),
            ("created_at", at.into()),
            ("updated_at", at.into()),
        ],
    )
    .await;
    // A welcome that release wrote and had not sent yet: it has no link to carry.
    insert(
        &old,
        "outbox",
        vec![
            ("kind", "welcome".into()),
            ("user_id", ada.into()),
            ("payload", r#"{"kind":"welcome"}"#.into()),
            ("message_id", "<old-welcome@shop.mail>".into()),
            ("status", "pending".into()),
            ("attempts", 0.into()),
            ("next_attempt_at", Utc::now().into()),
            ("created_at", Utc::now().into()),
        ],
    )
    .await;
    old.close().await.expect("close the old connection");
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_on(database, |config| {
        config.smtp_url = Some(url);
        config.public_url = Some(PUBLIC_URL.into());
        config.mail_poll_ms = 50;
    })
    .await;

    let old_welcome = smtp.wait_for(1).await.remove(0);
    let ada = crate::support::session_from(&app.login("ada", PASSWORD).await.data()["login"]);
    let unverified = !is_verified(&app, &ada).await;
    request_link(&app, &ada).await.data();
    let link = token_in(&smtp.wait_for(2).await[1]);
    let verified = verify(&app, &link).await;

    assert!(old_welcome.is_to("ada@example.com"));
    assert!(!is_verification(&old_welcome), "{}", old_welcome.text);
    assert!(unverified);
    assert_eq!(verified.data()["verifyEmail"], true);
    assert!(is_verified(&app, &ada).await);
}
