//! Registration, login and the account itself.

use serde_json::json;

use crate::support::{PASSWORD, spawn_app};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken expiresIn user { id username email isAdmin createdAt addresses { id } } } }";

fn registration(username: &str, email: &str, password: &str) -> serde_json::Value {
    json!({ "input": { "username": username, "email": email, "password": password } })
}

#[tokio::test]
async fn registering_returns_a_session_for_the_new_user() {
    let app = spawn_app().await;

    let response = app
        .gql(
            REGISTER,
            registration("alice", "alice@example.com", PASSWORD),
        )
        .await;

    let payload = &response.data()["register"];
    assert_eq!(payload["user"]["username"], "alice");
    assert_eq!(payload["user"]["email"], "alice@example.com");
    assert_eq!(payload["user"]["isAdmin"], false);
    assert_eq!(payload["user"]["addresses"], json!([]));
    assert_eq!(payload["expiresIn"], 900);
    assert!(
        payload["accessToken"]
            .as_str()
            .is_some_and(|t| t.len() > 20)
    );
    assert!(
        payload["refreshToken"]
            .as_str()
            .is_some_and(|t| t.len() > 20)
    );
}

#[tokio::test]
async fn invalid_registrations_are_bad_user_input_naming_the_field_and_create_nobody() {
    let app = spawn_app().await;
    let long_password = "p".repeat(129);
    let cases = [
        ("ab", "ab@example.com", PASSWORD, "username"),
        (&*"u".repeat(33), "long@example.com", PASSWORD, "username"),
        ("bad name", "bad@example.com", PASSWORD, "username"),
        ("bob", "not-an-email", PASSWORD, "email"),
        ("bob", "bob@localhost", PASSWORD, "email"),
        ("bob", "bob@example.com", "short", "password"),
        ("bob", "bob@example.com", &long_password, "password"),
        ("bobbybobby", "bob@example.com", "BobbyBobby", "password"),
    ];

    for (username, email, password, field) in cases {
        let response = app
            .gql(REGISTER, registration(username, email, password))
            .await;
        assert_eq!(response.code(), "BAD_USER_INPUT", "{username} {email}");
        assert_eq!(response.field(), field, "{username} {email}");
    }
    let login = app.login("bob", PASSWORD).await;
    assert_eq!(login.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn usernames_and_emails_are_unique_regardless_of_case() {
    let app = spawn_app().await;
    app.register("alice").await;

    let same_name = app
        .gql(
            REGISTER,
            registration("ALICE", "other@example.com", PASSWORD),
        )
        .await;
    assert_eq!(same_name.code(), "CONFLICT");
    assert_eq!(same_name.field(), "username");

    let same_email = app
        .gql(
            REGISTER,
            registration("alice2", "Alice@Example.com", PASSWORD),
        )
        .await;
    assert_eq!(same_email.code(), "CONFLICT");
    assert_eq!(same_email.field(), "email");
}

#[tokio::test]
async fn concurrent_registrations_of_one_name_create_exactly_one_user() {
    let app = spawn_app().await;

    let attempts = (0..6).map(|i| {
        app.gql(
            REGISTER,
            registration("racer", &format!("racer{i}@example.com"), PASSWORD),
        )
    });
    let responses = futures_util::future::join_all(attempts).await;

    let created = responses
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .count();
    assert_eq!(created, 1);
    for response in responses.iter().filter(|r| r.body.get("errors").is_some()) {
        assert_eq!(response.code(), "CONFLICT");
    }
}

#[tokio::test]
async fn users_log_in_with_username_or_email_in_any_case() {
    let app = spawn_app().await;
    app.register("alice").await;

    for login in ["alice", "ALICE", "alice@example.com", "Alice@Example.COM"] {
        let response = app.login(login, PASSWORD).await;
        assert_eq!(
            response.data()["login"]["user"]["username"],
            "alice",
            "{login}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("alice").await;

    let wrong_password = app.login("alice", "not the password").await;
    let unknown_user = app.login("nobody", "not the password").await;

    assert_eq!(wrong_password.code(), "UNAUTHENTICATED");
    assert_eq!(unknown_user.code(), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password.error()["message"],
        unknown_user.error()["message"]
    );
}

#[tokio::test]
async fn logging_in_again_simply_returns_new_tokens() {
    let app = spawn_app().await;
    let first = app.register("alice").await;

    let again = app.login("alice", PASSWORD).await;

    let payload = &again.data()["login"];
    assert_ne!(payload["refreshToken"], first.refresh_token.as_str());
    assert_eq!(payload["user"]["id"], first.id.as_str());
}

#[tokio::test]
async fn me_is_the_caller_and_null_when_anonymous() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let anonymous = app.gql("{ me { username } }", json!({})).await;
    let logged_in = app
        .gql_as(&alice, "{ me { id username } }", json!({}))
        .await;

    assert_eq!(anonymous.data()["me"], json!(null));
    assert_eq!(logged_in.data()["me"]["username"], "alice");
    assert_eq!(logged_in.data()["me"]["id"], alice.id.as_str());
}

const UPDATE: &str =
    "mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { username email } }";

#[tokio::test]
async fn updating_the_account_changes_name_email_and_password() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let response = app
        .gql_as(
            &alice,
            UPDATE,
            json!({ "input": {
                "username": "alicia",
                "email": "alicia@example.com",
                "newPassword": "a brand new password",
                "currentPassword": PASSWORD,
            }}),
        )
        .await;

    assert_eq!(
        response.data()["updateAccount"],
        json!({ "username": "alicia", "email": "alicia@example.com" })
    );
    assert_eq!(
        app.login("alicia", PASSWORD).await.code(),
        "UNAUTHENTICATED"
    );
    app.login("alicia@example.com", "a brand new password")
        .await
        .data();
}

#[tokio::test]
async fn updating_the_account_needs_the_current_password_and_valid_values() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    app.register("bob").await;

    let cases = [
        (
            json!({ "username": "alicia", "currentPassword": "wrong password" }),
            "BAD_USER_INPUT",
            "currentPassword",
        ),
        (
            json!({ "username": "x", "currentPassword": PASSWORD }),
            "BAD_USER_INPUT",
            "username",
        ),
        (
            json!({ "email": "nope", "currentPassword": PASSWORD }),
            "BAD_USER_INPUT",
            "email",
        ),
        (
            json!({ "newPassword": "short", "currentPassword": PASSWORD }),
            "BAD_USER_INPUT",
            "newPassword",
        ),
        (
            json!({ "username": "BOB", "currentPassword": PASSWORD }),
            "CONFLICT",
            "username",
        ),
        (
            json!({ "email": "bob@example.com", "currentPassword": PASSWORD }),
            "CONFLICT",
            "email",
        ),
    ];
    for (input, code, field) in cases {
        let response = app.gql_as(&alice, UPDATE, json!({ "input": input })).await;
        assert_eq!(response.code(), code, "{input}");
        assert_eq!(response.field(), field, "{input}");
    }
    let me = app
        .gql_as(&alice, "{ me { username email } }", json!({}))
        .await;
    assert_eq!(
        me.data()["me"],
        json!({ "username": "alice", "email": "alice@example.com" })
    );
}

#[tokio::test]
async fn anonymous_callers_cannot_change_accounts_or_addresses() {
    let app = spawn_app().await;

    let update = app
        .gql(
            UPDATE,
            json!({ "input": { "username": "x", "currentPassword": PASSWORD } }),
        )
        .await;
    let add = app
        .gql(ADD_ADDRESS, json!({ "input": address("Home") }))
        .await;

    assert_eq!(update.code(), "UNAUTHENTICATED");
    assert_eq!(add.code(), "UNAUTHENTICATED");
}

const ADD_ADDRESS: &str = "mutation($input: AddressInput!) { addAddress(input: $input) { id fullName line1 line2 city postalCode country } }";

fn address(name: &str) -> serde_json::Value {
    json!({
        "fullName": name, "line1": "1 Main St", "line2": null, "city": "Springfield",
        "postalCode": "12345", "country": "US",
    })
}

#[tokio::test]
async fn users_keep_an_address_book_and_delete_from_it() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let home = app
        .gql_as(
            &alice,
            ADD_ADDRESS,
            json!({ "input": address("Alice Home") }),
        )
        .await;
    let home_id = home.data()["addAddress"]["id"].clone();
    app.gql_as(
        &alice,
        ADD_ADDRESS,
        json!({ "input": address("Alice Work") }),
    )
    .await
    .data();

    let me = app
        .gql_as(&alice, "{ me { addresses { fullName city } } }", json!({}))
        .await;
    assert_eq!(
        me.data()["me"]["addresses"],
        json!([
            { "fullName": "Alice Home", "city": "Springfield" },
            { "fullName": "Alice Work", "city": "Springfield" },
        ])
    );

    let deleted = app
        .gql_as(
            &alice,
            "mutation($id: ID!) { deleteAddress(id: $id) }",
            json!({ "id": home_id }),
        )
        .await;
    assert_eq!(deleted.data()["deleteAddress"], true);
    let me = app
        .gql_as(&alice, "{ me { addresses { fullName } } }", json!({}))
        .await;
    assert_eq!(
        me.data()["me"]["addresses"],
        json!([{ "fullName": "Alice Work" }])
    );
}

#[tokio::test]
async fn an_invalid_address_names_its_field() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mut input = address("Alice");
    input["postalCode"] = json!("   ");

    let response = app
        .gql_as(&alice, ADD_ADDRESS, json!({ "input": input }))
        .await;

    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_eq!(response.field(), "postalCode");
}

#[tokio::test]
async fn an_address_part_that_is_invisible_or_flips_the_text_direction_names_its_field() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let cases = [
        ("fullName", json!("\u{200B}\u{200B}")),
        ("line1", json!("1 Main St \u{202E}")),
        ("line2", json!("\u{FEFF}")),
        ("city", json!("\u{2066}Springfield\u{2069}")),
        ("postalCode", json!("\u{2060}")),
        ("country", json!("\u{3164}")),
    ];

    for (field, value) in cases {
        let mut input = address("Alice");
        input[field] = value.clone();

        let response = app
            .gql_as(&alice, ADD_ADDRESS, json!({ "input": input }))
            .await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{field} = {value:?}");
        assert_eq!(response.field(), field, "{field} = {value:?}");
    }
    let book = app
        .gql_as(&alice, "{ me { addresses { id } } }", json!({}))
        .await;
    assert_eq!(book.data()["me"]["addresses"], json!([]));
}

#[tokio::test]
async fn another_users_address_can_be_neither_seen_nor_deleted() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let home = app
        .gql_as(&alice, ADD_ADDRESS, json!({ "input": address("Alice") }))
        .await;
    let id = home.data()["addAddress"]["id"].clone();

    let delete = app
        .gql_as(
            &mallory,
            "mutation($id: ID!) { deleteAddress(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    let node = app
        .gql_as(
            &mallory,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let own = app
        .gql_as(
            &alice,
            "query($id: ID!) { node(id: $id) { ... on Address { fullName } } }",
            json!({ "id": id }),
        )
        .await;

    assert_eq!(delete.code(), "NOT_FOUND");
    assert_eq!(node.data()["node"], json!(null));
    assert_eq!(own.data()["node"]["fullName"], "Alice");
}

#[tokio::test]
async fn node_resolves_a_user_for_itself_and_admins_only() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let admin = app.admin("root").await;
    let query = "query($id: ID!) { node(id: $id) { id ... on User { username } } }";
    let vars = json!({ "id": alice.id });

    assert_eq!(
        app.gql_as(&alice, query, vars.clone()).await.data()["node"]["username"],
        "alice"
    );
    assert_eq!(
        app.gql_as(&admin, query, vars.clone()).await.data()["node"]["username"],
        "alice"
    );
    assert_eq!(
        app.gql_as(&bob, query, vars.clone()).await.data()["node"],
        json!(null)
    );
    assert_eq!(app.gql(query, vars).await.data()["node"], json!(null));
}

#[tokio::test]
async fn a_malformed_id_is_bad_user_input() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let response = app
        .gql_as(&alice, "{ node(id: \"not-an-id\") { id } }", json!({}))
        .await;

    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_eq!(response.field(), "id");
}
