//! Admins: who may create them, promoting and demoting, and the admin's list of users.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::support::{Gql, PASSWORD, Session, TestApp, spawn_app};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken expiresIn user { id username email isAdmin } } }";
const SET_ADMIN: &str = "mutation($userId: ID!, $isAdmin: Boolean!) { setAdmin(userId: $userId, isAdmin: $isAdmin) { id username isAdmin } }";
const USERS: &str = "query($first: Int, $after: String, $last: Int, $before: String) { users(first: $first, after: $after, last: $last, before: $before) { totalCount edges { cursor node { id username isAdmin } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

fn admin_registration(username: &str) -> Value {
    json!({ "input": {
        "username": username,
        "email": format!("{username}@example.com"),
        "password": PASSWORD,
        "isAdmin": true,
    }})
}

fn set_admin_vars(user_id: &str, is_admin: bool) -> Value {
    json!({ "userId": user_id, "isAdmin": is_admin })
}

/// A user's global ID as the server would spell it; for naming users that do not exist.
fn user_id(id: i32) -> String {
    STANDARD.encode(format!("User:{id}"))
}

/// The usernames on one page of `users`, and its page info.
fn page(response: &Gql) -> (Vec<String>, Value) {
    let users = &response.data()["users"];
    let names = users["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            edge["node"]["username"]
                .as_str()
                .expect("a name")
                .to_owned()
        })
        .collect();
    (names, users["pageInfo"].clone())
}

/// Registers `count` customers named user1, user2, ...
async fn register_customers(app: &TestApp, count: usize) -> Vec<Session> {
    let mut sessions = Vec::with_capacity(count);
    for i in 1..=count {
        sessions.push(app.register(&format!("user{i}")).await);
    }
    sessions
}

#[tokio::test]
async fn anonymous_callers_and_customers_cannot_register_an_admin_and_nobody_is_created() {
    let app = spawn_app().await;
    let customer = app.register("alice").await;

    let anonymous = app.gql(REGISTER, admin_registration("mallory")).await;
    let by_customer = app
        .gql_as(&customer, REGISTER, admin_registration("trudy"))
        .await;

    assert_eq!(anonymous.code(), "FORBIDDEN");
    assert_eq!(by_customer.code(), "FORBIDDEN");
    for name in ["mallory", "trudy"] {
        assert_eq!(
            app.login(name, PASSWORD).await.code(),
            "UNAUTHENTICATED",
            "{name} was created"
        );
    }
}

#[tokio::test]
async fn an_admin_can_register_another_admin() {
    let app = spawn_app().await;
    let root = app.admin("root").await;

    let response = app
        .gql_as(&root, REGISTER, admin_registration("deputy"))
        .await;

    assert_eq!(response.data()["register"]["user"]["isAdmin"], true);
    let login = app.login("deputy", PASSWORD).await;
    assert_eq!(login.data()["login"]["user"]["isAdmin"], true);
}

#[tokio::test]
async fn set_admin_needs_a_logged_in_admin() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let anonymous = app.gql(SET_ADMIN, set_admin_vars(&bob.id, true)).await;
    let by_customer = app
        .gql_as(&alice, SET_ADMIN, set_admin_vars(&alice.id, true))
        .await;

    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert_eq!(by_customer.code(), "FORBIDDEN");
    let me = app.gql_as(&alice, "{ me { isAdmin } }", json!({})).await;
    assert_eq!(me.data()["me"]["isAdmin"], false);
}

#[tokio::test]
async fn a_promoted_user_can_list_users_at_once() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let bob = app.register("bob").await;
    assert_eq!(app.gql_as(&bob, USERS, json!({})).await.code(), "FORBIDDEN");

    let promoted = app
        .gql_as(&root, SET_ADMIN, set_admin_vars(&bob.id, true))
        .await;

    assert_eq!(promoted.data()["setAdmin"]["username"], "bob");
    assert_eq!(promoted.data()["setAdmin"]["isAdmin"], true);
    // The token bob got as a customer is enough: the flag lives in the database.
    let users = app.gql_as(&bob, USERS, json!({})).await;
    assert_eq!(users.data()["users"]["totalCount"], 2);
}

#[tokio::test]
async fn a_demoted_admin_loses_power_at_once_although_his_token_is_still_valid() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let bob = app.register("bob").await;
    app.gql_as(&root, SET_ADMIN, set_admin_vars(&bob.id, true))
        .await
        .data();
    app.gql_as(&bob, USERS, json!({})).await.data();

    let demoted = app
        .gql_as(&root, SET_ADMIN, set_admin_vars(&bob.id, false))
        .await;

    assert_eq!(demoted.data()["setAdmin"]["isAdmin"], false);
    assert_eq!(app.gql_as(&bob, USERS, json!({})).await.code(), "FORBIDDEN");
    let promote_self = app
        .gql_as(&bob, SET_ADMIN, set_admin_vars(&bob.id, true))
        .await;
    assert_eq!(promote_self.code(), "FORBIDDEN");
    let me = app
        .gql_as(&bob, "{ me { username isAdmin } }", json!({}))
        .await;
    assert_eq!(
        me.data()["me"],
        json!({ "username": "bob", "isAdmin": false })
    );
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let bob = app.register("bob").await;

    let alone = app
        .gql_as(&root, SET_ADMIN, set_admin_vars(&root.id, false))
        .await;
    assert_eq!(alone.code(), "CONFLICT");

    // With a second admin, one may go, but then the other is the last one again.
    app.gql_as(&root, SET_ADMIN, set_admin_vars(&bob.id, true))
        .await
        .data();
    let root_steps_down = app
        .gql_as(&root, SET_ADMIN, set_admin_vars(&root.id, false))
        .await;
    assert_eq!(root_steps_down.data()["setAdmin"]["isAdmin"], false);
    let bob_alone = app
        .gql_as(&bob, SET_ADMIN, set_admin_vars(&bob.id, false))
        .await;
    assert_eq!(bob_alone.code(), "CONFLICT");
    let me = app.gql_as(&bob, "{ me { isAdmin } }", json!({})).await;
    assert_eq!(me.data()["me"]["isAdmin"], true);
}

#[tokio::test]
async fn concurrent_demotions_never_leave_the_shop_without_an_admin() {
    let app = spawn_app().await;
    let admins = [
        app.admin("root1").await,
        app.admin("root2").await,
        app.admin("root3").await,
        app.admin("root4").await,
    ];

    // Every admin demotes every admin, all at once; at least one must survive.
    let demotions = admins.iter().flat_map(|caller| {
        admins
            .iter()
            .map(|target| app.gql_as(caller, SET_ADMIN, set_admin_vars(&target.id, false)))
    });
    let responses = futures_util::future::join_all(demotions).await;

    for response in responses.iter().filter(|r| r.body.get("errors").is_some()) {
        assert!(
            ["CONFLICT", "FORBIDDEN"].contains(&response.code()),
            "{:#}",
            response.body
        );
    }
    let mut remaining = 0;
    for admin in &admins {
        let me = app.gql_as(admin, "{ me { isAdmin } }", json!({})).await;
        if me.data()["me"]["isAdmin"] == true {
            remaining += 1;
        }
    }
    assert_eq!(remaining, 1);
}

#[tokio::test]
async fn set_admin_with_a_malformed_id_is_bad_user_input_and_an_unknown_user_is_not_found() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let address = app
        .gql_as(
            &root,
            "mutation($input: AddressInput!) { addAddress(input: $input) { id } }",
            json!({ "input": {
                "fullName": "Root", "line1": "1 Main St", "city": "Springfield",
                "postalCode": "12345", "country": "US",
            }}),
        )
        .await;
    let address_id = address.data()["addAddress"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let malformed = app
        .gql_as(&root, SET_ADMIN, set_admin_vars("not-an-id", true))
        .await;
    let unknown = app
        .gql_as(&root, SET_ADMIN, set_admin_vars(&user_id(999_999), true))
        .await;
    let not_a_user = app
        .gql_as(&root, SET_ADMIN, set_admin_vars(&address_id, true))
        .await;

    assert_eq!(malformed.code(), "BAD_USER_INPUT");
    assert_eq!(malformed.field(), "userId");
    assert_eq!(unknown.code(), "NOT_FOUND");
    assert_eq!(not_a_user.code(), "NOT_FOUND");
}

#[tokio::test]
async fn only_admins_may_list_users() {
    let app = spawn_app().await;
    let customer = app.register("alice").await;

    let anonymous = app.gql(USERS, json!({})).await;
    let by_customer = app.gql_as(&customer, USERS, json!({})).await;

    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert_eq!(by_customer.code(), "FORBIDDEN");
}

#[tokio::test]
async fn users_lists_everyone_oldest_first_with_the_total_count() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    register_customers(&app, 2).await;

    let response = app.gql_as(&root, USERS, json!({})).await;

    assert_eq!(response.data()["users"]["totalCount"], 3);
    let (names, page_info) = page(&response);
    assert_eq!(names, ["root", "user1", "user2"]);
    assert_eq!(page_info["hasNextPage"], false);
    assert_eq!(page_info["hasPreviousPage"], false);
}

#[tokio::test]
async fn paging_forward_through_users_visits_everyone_once_in_order() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    register_customers(&app, 6).await;
    let everyone = ["root", "user1", "user2", "user3", "user4", "user5", "user6"];

    let mut visited = Vec::new();
    let mut after = Value::Null;
    let mut pages = Vec::new();
    loop {
        let response = app
            .gql_as(&root, USERS, json!({ "first": 3, "after": after }))
            .await;
        assert_eq!(response.data()["users"]["totalCount"], 7);
        let (names, page_info) = page(&response);
        visited.extend(names.clone());
        pages.push((
            names.len(),
            page_info["hasPreviousPage"].clone(),
            page_info["hasNextPage"].clone(),
        ));
        if page_info["hasNextPage"] != true {
            break;
        }
        assert!(pages.len() < 5, "paging does not end");
        after = page_info["endCursor"].clone();
    }

    assert_eq!(visited, everyone);
    assert_eq!(
        pages,
        [
            (3, json!(false), json!(true)),
            (3, json!(true), json!(true)),
            (1, json!(true), json!(false)),
        ]
    );
}

#[tokio::test]
async fn paging_backward_through_users_visits_everyone_once_in_order() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    register_customers(&app, 6).await;
    let everyone = ["root", "user1", "user2", "user3", "user4", "user5", "user6"];

    let mut visited = Vec::new();
    let mut before = Value::Null;
    let mut pages = Vec::new();
    loop {
        let response = app
            .gql_as(&root, USERS, json!({ "last": 3, "before": before }))
            .await;
        let (names, page_info) = page(&response);
        // Each page is still in list order; earlier pages go in front.
        visited.splice(0..0, names.clone());
        pages.push((
            names.len(),
            page_info["hasPreviousPage"].clone(),
            page_info["hasNextPage"].clone(),
        ));
        if page_info["hasPreviousPage"] != true {
            break;
        }
        assert!(pages.len() < 5, "paging does not end");
        before = page_info["startCursor"].clone();
    }

    assert_eq!(visited, everyone);
    assert_eq!(
        pages,
        [
            (3, json!(true), json!(false)),
            (3, json!(true), json!(true)),
            (1, json!(false), json!(true)),
        ]
    );
}

#[tokio::test]
async fn edge_cursors_and_page_cursors_agree() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    register_customers(&app, 3).await;

    let response = app.gql_as(&root, USERS, json!({ "first": 2 })).await;
    let users = &response.data()["users"];
    let next = app
        .gql_as(
            &root,
            USERS,
            json!({ "first": 2, "after": users["edges"][1]["cursor"] }),
        )
        .await;

    assert_eq!(
        users["pageInfo"]["startCursor"],
        users["edges"][0]["cursor"]
    );
    assert_eq!(users["pageInfo"]["endCursor"], users["edges"][1]["cursor"]);
    assert_eq!(page(&next).0, ["user2", "user3"]);
}

#[tokio::test]
async fn invalid_paging_arguments_are_bad_user_input_naming_the_argument() {
    let app = spawn_app().await;
    let root = app.admin("root").await;

    let too_many = app.gql_as(&root, USERS, json!({ "first": 101 })).await;
    let negative = app.gql_as(&root, USERS, json!({ "last": -1 })).await;
    let both = app
        .gql_as(&root, USERS, json!({ "first": 2, "last": 2 }))
        .await;
    let garbage_after = app
        .gql_as(&root, USERS, json!({ "after": "not a cursor!" }))
        .await;
    let garbage_before = app
        .gql_as(&root, USERS, json!({ "last": 2, "before": "%%%" }))
        .await;

    assert_eq!(too_many.code(), "BAD_USER_INPUT");
    assert_eq!(too_many.field(), "first");
    assert_eq!(negative.code(), "BAD_USER_INPUT");
    assert_eq!(negative.field(), "last");
    assert_eq!(both.code(), "BAD_USER_INPUT");
    assert_eq!(garbage_after.code(), "BAD_USER_INPUT");
    assert_eq!(garbage_after.field(), "after");
    assert_eq!(garbage_before.code(), "BAD_USER_INPUT");
    assert_eq!(garbage_before.field(), "before");
}

#[tokio::test]
async fn a_page_of_one_hundred_users_is_allowed() {
    let app = spawn_app().await;
    let root = app.admin("root").await;

    let response = app.gql_as(&root, USERS, json!({ "first": 100 })).await;

    assert_eq!(page(&response).0, ["root"]);
}
