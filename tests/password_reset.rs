//! Password reset by emailed token: always answered true, rate limited per email, the token
//! read from the delivered message, single-use, valid 30 minutes; the new password is
//! validated, and setting it ends every session.

use chrono::{Duration, Utc};
use entity::{
    outbox_message::{self, MessageKind},
    password_reset,
};
use futures_util::future::join_all;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;

use crate::{
    notifications::{PUBLIC_URL, spawn_app_mailing_to},
    support::{
        Gql, PASSWORD, TestApp,
        smtp::{Mail, SmtpServer, unescape_html},
        spawn_app_with,
    },
};

const REQUEST: &str = "mutation($email: String!) { requestPasswordReset(email: $email) }";
const RESET: &str = "mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }";
const REFRESH: &str =
    "mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken } }";
const NEW_PASSWORD: &str = "a brand new password";

async fn request_reset(app: &TestApp, email: &str) -> Gql {
    app.gql(REQUEST, json!({ "email": email })).await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Gql {
    app.gql(RESET, json!({ "token": token, "password": password }))
        .await
}

/// The token in the reset link of a message.
fn token_in(mail: &Mail) -> String {
    let link = format!("{PUBLIC_URL}/reset-password?token=");
    let start = mail
        .text
        .find(&link)
        .unwrap_or_else(|| panic!("no reset link in:\n{}", mail.text))
        + link.len();
    let token: String = mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    assert!(token.len() >= 32, "a token of 256 bits, got {token:?}");
    token
}

/// Whether `mail` is a reset message: it holds a reset link.
fn is_reset(mail: &Mail) -> bool {
    mail.text
        .contains(&format!("{PUBLIC_URL}/reset-password?token="))
}

async fn reset_rows(app: &TestApp) -> Vec<password_reset::Model> {
    password_reset::Entity::find()
        .all(&app.db)
        .await
        .expect("read the resets")
}

#[tokio::test]
async fn a_reset_mail_carries_a_token_that_sets_a_new_password() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;
    smtp.wait_for(1).await;

    let requested = request_reset(&app, "alice@example.com").await;
    let mail = smtp.wait_for(2).await.remove(1);
    let token = token_in(&mail);
    let reset_answer = reset(&app, &token, NEW_PASSWORD).await;

    assert_eq!(requested.data()["requestPasswordReset"], true);
    assert!(mail.is_to("alice@example.com"));
    assert!(
        unescape_html(&mail.html).contains(&format!("{PUBLIC_URL}/reset-password?token={token}"))
    );
    assert_eq!(reset_answer.data()["resetPassword"], true);
    assert_eq!(app.login("alice", PASSWORD).await.code(), "UNAUTHENTICATED");
    app.login("alice", NEW_PASSWORD).await.data();
    // The token was never stored in the clear, and its message no longer holds it.
    let row = outbox_message::Entity::find()
        .filter(outbox_message::Column::MessageId.eq(mail.message_id()))
        .one(&app.db)
        .await
        .expect("read the outbox")
        .expect("the message's row");
    assert_eq!(row.kind, MessageKind::PasswordReset);
    assert!(!row.payload.contains(&token));
    assert!(reset_rows(&app).await.iter().all(|r| r.token_hash != token));
}

#[tokio::test]
async fn the_reset_link_follows_the_configured_template_and_its_token_works() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(|config| {
        config.smtp_url = Some(url);
        config.public_url = Some(PUBLIC_URL.into());
        config.reset_password_url_template =
            "https://accounts.example.test/password/new/{token}?from={public_url}".into();
        config.mail_poll_ms = 50;
    })
    .await;
    app.register("alice").await;
    smtp.wait_for(1).await;

    request_reset(&app, "alice@example.com").await;
    let mail = smtp.wait_for(2).await.remove(1);
    let link = "https://accounts.example.test/password/new/";
    let start = mail
        .text
        .find(link)
        .unwrap_or_else(|| panic!("no configured reset link in:\n{}", mail.text))
        + link.len();
    let token: String = mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();

    assert!(
        mail.text
            .contains(&format!("{link}{token}?from={PUBLIC_URL}")),
        "{}",
        mail.text
    );
    assert!(unescape_html(&mail.html).contains(&format!("{link}{token}?from={PUBLIC_URL}")));
    assert!(!is_reset(&mail), "the default link is gone");
    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.data()["resetPassword"],
        true
    );
    app.login("alice", NEW_PASSWORD).await.data();
}

#[tokio::test]
async fn resetting_the_password_revokes_every_refresh_token() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    let registered = app.register("alice").await;
    let logged_in =
        crate::support::session_from(&app.login("alice", PASSWORD).await.data()["login"]);
    request_reset(&app, "alice@example.com").await.data();
    let token = token_in(&smtp.wait_for(2).await[1]);

    reset(&app, &token, NEW_PASSWORD).await.data();

    for session in [&registered, &logged_in] {
        let refreshed = app
            .gql(REFRESH, json!({ "token": session.refresh_token }))
            .await;
        assert_eq!(refreshed.code(), "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn a_reset_token_works_only_once() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;
    request_reset(&app, "alice@example.com").await.data();
    let token = token_in(&smtp.wait_for(2).await[1]);

    let first = reset(&app, &token, NEW_PASSWORD).await;
    let second = reset(&app, &token, "yet another password").await;
    let made_up = reset(&app, "not-a-token-anyone-was-sent", "yet another password").await;

    assert_eq!(first.data()["resetPassword"], true);
    for refused in [&second, &made_up] {
        assert_eq!(refused.code(), "BAD_USER_INPUT");
        assert_eq!(refused.field(), "token");
    }
    app.login("alice", NEW_PASSWORD).await.data();
}

#[tokio::test]
async fn using_one_reset_token_voids_the_others_of_the_account() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;
    request_reset(&app, "alice@example.com").await.data();
    request_reset(&app, "alice@example.com").await.data();
    let messages = smtp.wait_for(3).await;
    let (older, newer) = (token_in(&messages[1]), token_in(&messages[2]));
    assert_ne!(older, newer);

    reset(&app, &newer, NEW_PASSWORD).await.data();
    let with_older = reset(&app, &older, "yet another password").await;

    assert_eq!(with_older.code(), "BAD_USER_INPUT");
    assert_eq!(with_older.field(), "token");
    app.login("alice", NEW_PASSWORD).await.data();
}

#[tokio::test]
async fn a_reset_token_expires_thirty_minutes_after_it_was_issued() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;
    request_reset(&app, "alice@example.com").await.data();
    let token = token_in(&smtp.wait_for(2).await[1]);
    let row = reset_rows(&app).await.remove(0);
    assert_eq!(row.expires_at - row.created_at, Duration::minutes(30));

    // As if the 30 minutes had passed.
    let mut expired = row.clone().into_active_model();
    expired.expires_at = Set(Utc::now() - Duration::seconds(1));
    expired.update(&app.db).await.expect("expire the token");
    let too_late = reset(&app, &token, NEW_PASSWORD).await;
    // As if one minute were left.
    let mut in_time = row.into_active_model();
    in_time.expires_at = Set(Utc::now() + Duration::minutes(1));
    in_time.update(&app.db).await.expect("renew the token");
    let just_in_time = reset(&app, &token, NEW_PASSWORD).await;

    assert_eq!(too_late.code(), "BAD_USER_INPUT");
    assert_eq!(too_late.field(), "token");
    assert_eq!(just_in_time.data()["resetPassword"], true);
    app.login("alice", NEW_PASSWORD).await.data();
}

#[tokio::test]
async fn an_unknown_email_is_answered_true_and_mailed_nothing() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;

    let unknown = request_reset(&app, "nobody@example.com").await;
    let known = request_reset(&app, "alice@example.com").await;

    assert_eq!(unknown.body, known.body);
    assert_eq!(unknown.data()["requestPasswordReset"], true);
    assert_eq!(reset_rows(&app).await.len(), 1);
    // Alice's welcome, then her reset: nothing went out for the unknown email in between.
    let messages = smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2);
    assert!(messages[1].is_to("alice@example.com") && is_reset(&messages[1]));
    assert!(
        messages
            .iter()
            .all(|m| !m.raw.contains("nobody@example.com"))
    );
}

#[tokio::test]
async fn reset_requests_for_one_email_are_rate_limited_after_three() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;
    app.register("bob").await;

    let mut alices = Vec::new();
    let mut unknowns = Vec::new();
    for _ in 0..4 {
        alices.push(request_reset(&app, "alice@example.com").await);
        unknowns.push(request_reset(&app, "nobody@example.com").await);
    }
    let bobs = request_reset(&app, "bob@example.com").await;

    for answers in [&alices, &unknowns] {
        for answer in &answers[..3] {
            assert_eq!(answer.data()["requestPasswordReset"], true);
        }
        assert_eq!(answers[3].code(), "RATE_LIMITED");
        let retry_after = answers[3].error()["extensions"]["retryAfter"]
            .as_u64()
            .unwrap_or_else(|| panic!("no retryAfter: {:#}", answers[3].body));
        assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    }
    assert_eq!(bobs.data()["requestPasswordReset"], true);
    // Two welcomes, three resets for alice, then bob's: nothing more for alice.
    let messages = smtp.wait_for(6).await;
    assert_eq!(messages.len(), 6);
    let alice_resets = messages
        .iter()
        .filter(|m| m.is_to("alice@example.com") && is_reset(m))
        .count();
    assert_eq!(alice_resets, 3);
    assert!(messages[5].is_to("bob@example.com") && is_reset(&messages[5]));
}

#[tokio::test]
async fn a_new_password_is_validated_and_a_refused_one_leaves_the_token_usable() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;
    request_reset(&app, "alice@example.com").await.data();
    let token = token_in(&smtp.wait_for(2).await[1]);

    let too_short = reset(&app, &token, "short").await;
    let too_long = reset(&app, &token, &"p".repeat(129)).await;
    let valid = reset(&app, &token, NEW_PASSWORD).await;

    for refused in [&too_short, &too_long] {
        assert_eq!(refused.code(), "BAD_USER_INPUT");
        assert_eq!(refused.field(), "newPassword");
    }
    assert_eq!(valid.data()["resetPassword"], true);
    app.login("alice", NEW_PASSWORD).await.data();
}

#[tokio::test]
async fn concurrent_resets_with_one_token_change_the_password_once() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_mailing_to(&smtp).await;
    app.register("alice").await;
    request_reset(&app, "alice@example.com").await.data();
    let token = token_in(&smtp.wait_for(2).await[1]);
    let passwords: Vec<String> = (0..4).map(|i| format!("new password number {i}")).collect();

    let answers = join_all(passwords.iter().map(|p| reset(&app, &token, p))).await;

    let winners: Vec<&String> = answers
        .iter()
        .zip(&passwords)
        .filter(|(answer, _)| answer.body.get("errors").is_none())
        .map(|(_, password)| password)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:#?}");
    for answer in answers.iter().filter(|a| a.body.get("errors").is_some()) {
        assert_eq!(answer.code(), "BAD_USER_INPUT");
        assert_eq!(answer.field(), "token");
    }
    app.login("alice", winners[0]).await.data();
}
