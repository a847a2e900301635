//! Sessions: access tokens that are refused for exactly the reason they are wrong, refresh
//! tokens that rotate (a just-rotated one presented again gets the same successor for a
//! short grace; later it revokes its whole family), logout, and a password change that
//! ends every session.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::refresh_token;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Value, json};
use shop::domain::hash_secret;

use crate::support::{
    AUTH_FIELDS, Gql, JWT_SECRET, PASSWORD, Session, TestApp, session_from, spawn_app,
    spawn_app_with,
};

/// A public query: anonymous callers get `null`, so an error can only come from the token.
const ME: &str = "{ me { id username } }";
const REFRESH: &str = "mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken refreshToken expiresIn user { id username } } }";
const LOGOUT: &str = "mutation($token: String!) { logout(refreshToken: $token) }";
const UPDATE_ACCOUNT: &str =
    "mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { id } }";

/// Seconds since the Unix epoch, as JWT claims count time.
fn now() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(elapsed.as_secs()).expect("seconds fit in i64")
}

/// The claims of an access token, decoded without verifying anything.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

/// The `sub` claim of a session's access token: the user id the server signs.
fn subject_of(session: &Session) -> String {
    claims_of(&session.access_token)["sub"]
        .as_str()
        .expect("sub is a string")
        .to_owned()
}

/// Claims the server would accept for `subject`; each rejection test breaks exactly one.
fn valid_claims(subject: &str) -> Value {
    let now = now();
    json!({
        "iss": "shop",
        "aud": "shop-api",
        "sub": subject,
        "iat": now,
        "exp": now + 900,
        "typ": "access",
    })
}

/// Signs `claims` with `algorithm` and `secret`.
fn sign_with(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("token signed")
}

/// Signs `claims` the way the server does: HS256 with the server's secret.
fn forge(claims: &Value) -> String {
    sign_with(Algorithm::HS256, JWT_SECRET, claims)
}

fn base64url_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// A server with one registered user, alice, and the user id her tokens carry.
async fn app_with_alice() -> (TestApp, Session, String) {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let subject = subject_of(&alice);
    (app, alice, subject)
}

/// `me`, sent with `Authorization: Bearer <token>`.
async fn me_with(app: &TestApp, token: &str) -> Gql {
    app.send(Some(token), ME, json!({})).await
}

/// `me`, sent with a raw `Authorization` header.
async fn me_with_authorization(app: &TestApp, authorization: &str) -> Gql {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Authorization", authorization)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    Gql { status, body }
}

/// The request failed as a whole with UNAUTHENTICATED: no data, in particular no anonymous
/// `me: null` that would hide the bad token from the client.
fn assert_refused(response: &Gql, why: &str) {
    // The HTTP status is in the messages because a refusal from outside GraphQL (a 400 or
    // 413 from the transport) would show up there first.
    let Gql { status, body } = response;
    assert_eq!(
        response.code(),
        "UNAUTHENTICATED",
        "{why}: {status} {body:#}"
    );
    assert!(
        body["data"].is_null(),
        "{why}: the request must not run anonymously: {status} {body:#}"
    );
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Gql {
    app.gql(REFRESH, json!({ "token": refresh_token })).await
}

async fn logout(app: &TestApp, refresh_token: &str) -> Gql {
    app.gql(LOGOUT, json!({ "token": refresh_token })).await
}

/// The session a successful refresh hands out.
fn refreshed(response: &Gql) -> Session {
    session_from(&response.data()["refreshToken"])
}

/// Moves the rotation of `refresh_token` `seconds` into the past: the reuse grace is
/// measured from it, so this is the test's clock, without waiting.
async fn rotated_seconds_ago(app: &TestApp, refresh_token: &str, seconds: i64) {
    let stored = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_secret(refresh_token)))
        .one(&app.db)
        .await
        .expect("token looked up")
        .expect("the token is stored");
    assert!(stored.used_at.is_some(), "the token was rotated");
    let mut stored = stored.into_active_model();
    stored.used_at = Set(Some(
        chrono::Utc::now() - chrono::Duration::seconds(seconds),
    ));
    stored.update(&app.db).await.expect("rotation moved back");
}

async fn log_in(app: &TestApp, username: &str, password: &str) -> Session {
    let response = app.login(username, password).await;
    session_from(&response.data()["login"])
}

// ---------------------------------------------------------------------------------------
// Access tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_without_a_token_is_anonymous() {
    let app = spawn_app().await;

    let response = app.gql(ME, json!({})).await;

    assert_eq!(response.data()["me"], Value::Null);
}

#[tokio::test]
async fn a_token_forged_with_the_right_secret_and_claims_is_accepted() {
    // The control for every rejection below: a token built by this file's forger with
    // nothing wrong in it works, so each rejection is for the one thing that was changed.
    let (app, alice, subject) = app_with_alice().await;

    let response = me_with(&app, &forge(&valid_claims(&subject))).await;

    assert_eq!(response.data()["me"]["id"], alice.id.as_str());
    assert_eq!(response.data()["me"]["username"], "alice");
}

#[tokio::test]
async fn an_expired_access_token_is_unauthenticated_even_on_a_public_query() {
    let (app, _, subject) = app_with_alice().await;
    let mut claims = valid_claims(&subject);
    // Well past the 5 s leeway.
    claims["iat"] = json!(now() - 960);
    claims["exp"] = json!(now() - 60);

    let response = me_with(&app, &forge(&claims)).await;

    assert_refused(&response, "expired");
}

#[tokio::test]
async fn an_access_token_with_a_tampered_payload_is_unauthenticated() {
    // Alice's genuine signature on a payload rewritten to name bob.
    let (app, alice, _) = app_with_alice().await;
    let bob = app.register("bob").await;
    let parts: Vec<&str> = alice.access_token.split('.').collect();
    let bobs_payload = base64url_json(&claims_of(&bob.access_token));
    let tampered = format!("{}.{}.{}", parts[0], bobs_payload, parts[2]);
    assert_ne!(
        tampered, bob.access_token,
        "the forgery must not be bob's token"
    );

    let response = me_with(&app, &tampered).await;

    assert_refused(&response, "tampered payload");
}

#[tokio::test]
async fn an_access_token_with_a_tampered_signature_is_unauthenticated() {
    let (app, alice, _) = app_with_alice().await;
    let (signed, signature) = alice
        .access_token
        .rsplit_once('.')
        .expect("a JWT has a signature");
    // Change the first character: it carries six significant bits, unlike the last one.
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);

    let response = me_with(&app, &tampered).await;

    assert_refused(&response, "tampered signature");
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_unauthenticated() {
    let (app, _, subject) = app_with_alice().await;
    let header = base64url_json(&json!({ "alg": "none", "typ": "JWT" }));
    let claims = base64url_json(&valid_claims(&subject));
    let unsigned = format!("{header}.{claims}.");

    let response = me_with(&app, &unsigned).await;

    assert_refused(&response, "alg none");
}

#[tokio::test]
async fn an_access_token_signed_with_another_secret_is_unauthenticated() {
    let (app, _, subject) = app_with_alice().await;
    let other_secret = "another-secret-that-is-also-longer-than-32-bytes";

    let token = sign_with(Algorithm::HS256, other_secret, &valid_claims(&subject));
    let response = me_with(&app, &token).await;

    assert_refused(&response, "another secret");
}

#[tokio::test]
async fn an_access_token_signed_with_hs512_and_the_right_secret_is_unauthenticated() {
    // HS256 is pinned: the header cannot choose the algorithm.
    let (app, _, subject) = app_with_alice().await;

    let token = sign_with(Algorithm::HS512, JWT_SECRET, &valid_claims(&subject));
    let response = me_with(&app, &token).await;

    assert_refused(&response, "HS512");
}

#[tokio::test]
async fn a_token_whose_type_is_not_access_is_unauthenticated() {
    let (app, _, subject) = app_with_alice().await;
    let mut claims = valid_claims(&subject);
    claims["typ"] = json!("refresh");

    let response = me_with(&app, &forge(&claims)).await;

    assert_refused(&response, "typ refresh");
}

#[tokio::test]
async fn an_access_token_from_another_issuer_is_unauthenticated() {
    let (app, _, subject) = app_with_alice().await;
    let mut claims = valid_claims(&subject);
    claims["iss"] = json!("not-shop");

    let response = me_with(&app, &forge(&claims)).await;

    assert_refused(&response, "wrong iss");
}

#[tokio::test]
async fn an_access_token_for_another_audience_is_unauthenticated() {
    let (app, _, subject) = app_with_alice().await;
    let mut claims = valid_claims(&subject);
    claims["aud"] = json!("shop-admin");

    let response = me_with(&app, &forge(&claims)).await;

    assert_refused(&response, "wrong aud");
}

#[tokio::test]
async fn an_access_token_without_an_expiry_is_unauthenticated() {
    let (app, _, subject) = app_with_alice().await;
    let mut claims = valid_claims(&subject);
    claims
        .as_object_mut()
        .expect("claims are an object")
        .remove("exp");

    let response = me_with(&app, &forge(&claims)).await;

    assert_refused(&response, "missing exp");
}

#[tokio::test]
async fn an_access_token_issued_far_in_the_future_is_unauthenticated() {
    let (app, _, subject) = app_with_alice().await;
    let mut claims = valid_claims(&subject);
    let tomorrow = now() + 86_400;
    claims["iat"] = json!(tomorrow);
    claims["exp"] = json!(tomorrow + 900);

    let response = me_with(&app, &forge(&claims)).await;

    assert_refused(&response, "iat in the future");
}

#[tokio::test]
async fn a_garbage_bearer_token_is_unauthenticated() {
    let app = spawn_app().await;

    let response = me_with(&app, "this-is-not-a-jwt").await;

    assert_refused(&response, "garbage");
}

#[tokio::test]
async fn an_authorization_header_that_is_not_bearer_is_unauthenticated() {
    let app = spawn_app().await;

    let response = me_with_authorization(&app, "Basic abc").await;

    assert_refused(&response, "Basic scheme");
}

#[tokio::test]
async fn an_access_token_names_issuer_audience_subject_type_and_lives_fifteen_minutes() {
    let app = spawn_app().await;

    let response = app
        .gql(
            &format!(
                "mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}"
            ),
            json!({ "input": {
                "username": "alice",
                "email": "alice@example.com",
                "password": PASSWORD,
            }}),
        )
        .await;

    let payload = &response.data()["register"];
    assert_eq!(payload["expiresIn"], 900);
    let claims = claims_of(payload["accessToken"].as_str().expect("a token"));
    assert_eq!(claims["iss"], "shop");
    assert_eq!(claims["aud"], "shop-api");
    assert_eq!(claims["typ"], "access");
    let subject = claims["sub"].as_str().expect("sub is a string");
    assert!(
        subject.parse::<i32>().is_ok_and(|id| id > 0),
        "sub is the user id: {claims}"
    );
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let exp = claims["exp"].as_i64().expect("exp is a number");
    assert!(exp > iat, "{claims}");
    assert!(exp - iat <= 900, "{claims}");
}

// ---------------------------------------------------------------------------------------
// Refresh token rotation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn refreshing_returns_a_new_pair_whose_access_token_works() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let response = refresh(&app, &alice.refresh_token).await;

    let payload = &response.data()["refreshToken"];
    assert_eq!(payload["expiresIn"], 900);
    assert_eq!(payload["user"]["id"], alice.id.as_str());
    let renewed = refreshed(&response);
    assert_ne!(renewed.refresh_token, alice.refresh_token);
    let me = app.gql_as(&renewed, ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
}

#[tokio::test]
async fn a_just_rotated_refresh_token_presented_again_gets_the_same_working_successor() {
    // A second tab that refreshes with the token the first tab just rotated.
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let first_tab = refreshed(&refresh(&app, &alice.refresh_token).await);

    let second_tab = refreshed(&refresh(&app, &alice.refresh_token).await);

    assert_eq!(second_tab.refresh_token, first_tab.refresh_token);
    let me = app.gql_as(&second_tab, ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
    let next = refreshed(&refresh(&app, &second_tab.refresh_token).await);
    let me = app.gql_as(&next, ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
}

#[tokio::test]
async fn a_rotated_refresh_token_gets_its_successor_within_the_grace_and_revokes_the_family_after()
{
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let successor = refreshed(&refresh(&app, &alice.refresh_token).await);

    // 25 s after the rotation: inside the default 30 s grace.
    rotated_seconds_ago(&app, &alice.refresh_token, 25).await;
    let within = refresh(&app, &alice.refresh_token).await;
    // 31 s after: outside it, so this is reuse.
    rotated_seconds_ago(&app, &alice.refresh_token, 31).await;
    let after = refresh(&app, &alice.refresh_token).await;

    assert_eq!(refreshed(&within).refresh_token, successor.refresh_token);
    assert_eq!(after.code(), "UNAUTHENTICATED");
    let successor_after = refresh(&app, &successor.refresh_token).await;
    assert_eq!(
        successor_after.code(),
        "UNAUTHENTICATED",
        "the family is revoked"
    );
}

#[tokio::test]
async fn with_the_reuse_grace_set_to_zero_presenting_a_rotated_token_again_revokes_the_family() {
    let app = spawn_app_with(|config| config.refresh_reuse_grace_secs = 0).await;
    let alice = app.register("alice").await;
    let successor = refreshed(&refresh(&app, &alice.refresh_token).await);
    rotated_seconds_ago(&app, &alice.refresh_token, 1).await;

    let again = refresh(&app, &alice.refresh_token).await;

    assert_eq!(again.code(), "UNAUTHENTICATED");
    let successor_after = refresh(&app, &successor.refresh_token).await;
    assert_eq!(successor_after.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn replaying_a_token_whose_successor_was_rotated_too_revokes_the_whole_family() {
    // Within the grace, but two rotations behind: no twin request is, so this is reuse.
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let second = refreshed(&refresh(&app, &alice.refresh_token).await);
    let newest = refreshed(&refresh(&app, &second.refresh_token).await);

    let replay = refresh(&app, &alice.refresh_token).await;

    assert_eq!(replay.code(), "UNAUTHENTICATED");
    let newest_after_replay = refresh(&app, &newest.refresh_token).await;
    assert_eq!(newest_after_replay.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_leaves_other_sessions_of_the_user_working() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let other_device = log_in(&app, "alice", PASSWORD).await;
    refreshed(&refresh(&app, &alice.refresh_token).await);
    rotated_seconds_ago(&app, &alice.refresh_token, 60).await;

    let replay = refresh(&app, &alice.refresh_token).await;

    assert_eq!(replay.code(), "UNAUTHENTICATED");
    let other = refreshed(&refresh(&app, &other_device.refresh_token).await);
    let me = app.gql_as(&other, ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
}

#[tokio::test]
async fn an_unknown_refresh_token_is_unauthenticated() {
    let app = spawn_app().await;
    app.register("alice").await;

    let response = refresh(&app, "an-unknown-refresh-token-of-plausible-length-00").await;

    assert_eq!(response.code(), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_tabs_refreshing_with_one_token_at_once_both_stay_logged_in() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let (first, second) = tokio::join!(
        refresh(&app, &alice.refresh_token),
        refresh(&app, &alice.refresh_token),
    );

    let (first, second) = (refreshed(&first), refreshed(&second));
    assert_eq!(first.refresh_token, second.refresh_token);
    for tab in [&first, &second] {
        let me = app.gql_as(tab, ME, json!({})).await;
        assert_eq!(me.data()["me"]["id"], alice.id.as_str());
    }
    refreshed(&refresh(&app, &first.refresh_token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_refreshes_with_one_token_all_get_the_same_successor_which_works() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let attempts = (0..16).map(|_| refresh(&app, &alice.refresh_token));
    let responses = futures_util::future::join_all(attempts).await;

    let successors: Vec<String> = responses
        .iter()
        .map(|response| refreshed(response).refresh_token)
        .collect();
    assert!(
        successors.iter().all(|token| *token == successors[0]),
        "{successors:#?}"
    );
    let next = refreshed(&refresh(&app, &successors[0]).await);
    let me = app.gql_as(&next, ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
}

// ---------------------------------------------------------------------------------------
// Logout
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn logging_out_a_live_refresh_token_returns_true_and_it_can_no_longer_refresh() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let response = logout(&app, &alice.refresh_token).await;

    assert_eq!(response.data()["logout"], true);
    let after = refresh(&app, &alice.refresh_token).await;
    assert_eq!(after.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn logging_out_twice_returns_false_the_second_time() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    assert_eq!(
        logout(&app, &alice.refresh_token).await.data()["logout"],
        true
    );

    let again = logout(&app, &alice.refresh_token).await;

    assert_eq!(again.data()["logout"], false);
}

#[tokio::test]
async fn logging_out_an_unknown_refresh_token_returns_false() {
    let app = spawn_app().await;

    let response = logout(&app, "an-unknown-refresh-token-of-plausible-length-00").await;

    assert_eq!(response.data()["logout"], false);
}

#[tokio::test]
async fn logging_out_a_just_rotated_token_ends_its_successor_and_its_grace() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let successor = refreshed(&refresh(&app, &alice.refresh_token).await);

    logout(&app, &alice.refresh_token).await.data();

    for (which, token) in [
        ("the successor", &successor.refresh_token),
        ("the rotated token", &alice.refresh_token),
    ] {
        let response = refresh(&app, token).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "{which}");
    }
}

#[tokio::test]
async fn logging_out_leaves_other_sessions_working() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let other_device = log_in(&app, "alice", PASSWORD).await;
    let bob = app.register("bob").await;

    assert_eq!(
        logout(&app, &alice.refresh_token).await.data()["logout"],
        true
    );

    let alice_elsewhere = refreshed(&refresh(&app, &other_device.refresh_token).await);
    let me = app.gql_as(&alice_elsewhere, ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
    refreshed(&refresh(&app, &bob.refresh_token).await);
}

// ---------------------------------------------------------------------------------------
// Password changes
// ---------------------------------------------------------------------------------------

const NEW_PASSWORD: &str = "a brand new passphrase";

#[tokio::test]
async fn changing_the_password_revokes_every_refresh_token_of_the_user() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let other_device = log_in(&app, "alice", PASSWORD).await;
    let bob = app.register("bob").await;

    let change = app
        .gql_as(
            &alice,
            UPDATE_ACCOUNT,
            json!({ "input": { "newPassword": NEW_PASSWORD, "currentPassword": PASSWORD } }),
        )
        .await;

    assert_eq!(change.data()["updateAccount"]["id"], alice.id.as_str());
    for (which, session) in [("this", &alice), ("the other", &other_device)] {
        let response = refresh(&app, &session.refresh_token).await;
        assert_eq!(response.code(), "UNAUTHENTICATED", "{which} session");
    }
    // Another user's sessions are not touched.
    refreshed(&refresh(&app, &bob.refresh_token).await);
}

#[tokio::test]
async fn a_password_change_ends_the_grace_of_a_just_rotated_token() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let successor = refreshed(&refresh(&app, &alice.refresh_token).await);

    app.gql_as(
        &successor,
        UPDATE_ACCOUNT,
        json!({ "input": { "newPassword": NEW_PASSWORD, "currentPassword": PASSWORD } }),
    )
    .await
    .data();

    let again = refresh(&app, &alice.refresh_token).await;
    assert_eq!(again.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn after_a_password_change_only_the_new_password_logs_in() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    app.gql_as(
        &alice,
        UPDATE_ACCOUNT,
        json!({ "input": { "newPassword": NEW_PASSWORD, "currentPassword": PASSWORD } }),
    )
    .await
    .data();

    let with_new = log_in(&app, "alice", NEW_PASSWORD).await;
    let me = app.gql_as(&with_new, ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], alice.id.as_str());
    let with_old = app.login("alice", PASSWORD).await;
    assert_eq!(with_old.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn changing_only_the_email_keeps_every_session() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    app.gql_as(
        &alice,
        UPDATE_ACCOUNT,
        json!({ "input": { "email": "alice@example.org", "currentPassword": PASSWORD } }),
    )
    .await
    .data();

    refreshed(&refresh(&app, &alice.refresh_token).await);
}
