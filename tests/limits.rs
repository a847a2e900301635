//! The limits that keep one document from costing the server more than it should: depth,
//! complexity, page size, directives, nesting of any kind, and introspection.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    http::{REGISTER, assert_errors_all_have_a_code, gql_from, registration, users_in},
    support::{TestApp, spawn_app, spawn_app_with},
};

/// The deepest selection the server accepts.
const MAX_DEPTH: usize = 15;

/// `{ __schema { types { fields { type { ofType { ... { name } } } } } } }`, exactly `depth`
/// fields deep: a valid query whose depth is chosen by the caller.
fn introspection_chain(depth: usize) -> String {
    // __schema, types, fields, type and the final name are five levels; ofType fills the rest.
    assert!(depth >= 5);
    let of_types = depth - 5;
    format!(
        "__schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }}",
        "ofType { ".repeat(of_types),
        " }".repeat(of_types)
    )
}

/// The same chain, split over named fragments `F0`, `F1`, ... of one `ofType` each.
fn fragmented_chain(depth: usize) -> (String, String) {
    let of_types = depth - 5;
    let selection = "__schema { types { fields { type { ...F0 } } } }".to_owned();
    let mut fragments = String::new();
    for i in 0..of_types {
        fragments.push_str(&format!(
            "fragment F{i} on __Type {{ ofType {{ ...F{} }} }} ",
            i + 1
        ));
    }
    fragments.push_str(&format!("fragment F{of_types} on __Type {{ name }}"));
    (selection, fragments)
}

async fn healthz(app: &TestApp) -> StatusCode {
    app.client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request sent")
        .status()
}

/// The query graphql-js's `getIntrospectionQuery` builds with every option on, the one
/// GraphiQL sends, with `type_depth` levels of `ofType` in its TypeRef fragment (7 in
/// graphql-js 16, which GraphiQL ships; 9 by default in graphql-js 17).
fn introspection_query(type_depth: usize) -> String {
    let mut type_ref = "kind name".to_owned();
    for _ in 0..type_depth {
        type_ref = format!("kind name ofType {{ {type_ref} }}");
    }
    format!(
        r#"
        query IntrospectionQuery {{
          __schema {{
            description
            queryType {{ name kind }}
            mutationType {{ name kind }}
            subscriptionType {{ name kind }}
            types {{ ...FullType }}
            directives {{
              name
              description
              isRepeatable
              locations
              args(includeDeprecated: true) {{ ...InputValue }}
            }}
          }}
        }}

        fragment FullType on __Type {{
          kind
          name
          description
          specifiedByURL
          isOneOf
          fields(includeDeprecated: true) {{
            name
            description
            args(includeDeprecated: true) {{ ...InputValue }}
            type {{ ...TypeRef }}
            isDeprecated
            deprecationReason
          }}
          inputFields(includeDeprecated: true) {{ ...InputValue }}
          interfaces {{ ...TypeRef }}
          enumValues(includeDeprecated: true) {{
            name
            description
            isDeprecated
            deprecationReason
          }}
          possibleTypes {{ ...TypeRef }}
        }}

        fragment InputValue on __InputValue {{
          name
          description
          type {{ ...TypeRef }}
          defaultValue
          isDeprecated
          deprecationReason
        }}

        fragment TypeRef on __Type {{
          {type_ref}
        }}
        "#
    )
}

// --- depth ----------------------------------------------------------------------------

#[tokio::test]
async fn a_selection_at_the_depth_limit_is_answered_and_one_level_deeper_is_refused() {
    let app = spawn_app().await;

    let at_limit = app
        .gql(
            &format!("{{ {} }}", introspection_chain(MAX_DEPTH)),
            json!({}),
        )
        .await;
    let too_deep = app
        .gql(
            &format!("{{ {} }}", introspection_chain(MAX_DEPTH + 1)),
            json!({}),
        )
        .await;

    assert!(at_limit.data()["__schema"]["types"].is_array());
    assert_eq!(too_deep.code(), "GRAPHQL_VALIDATION_FAILED");
    assert_errors_all_have_a_code(&too_deep.body);
    assert_eq!(too_deep.body["data"], Value::Null);
}

#[tokio::test]
async fn splitting_a_deep_selection_over_fragments_does_not_evade_the_depth_limit() {
    let app = spawn_app().await;
    let (at_limit, at_limit_fragments) = fragmented_chain(MAX_DEPTH);
    let (too_deep, too_deep_fragments) = fragmented_chain(MAX_DEPTH + 1);

    let at_limit = app
        .gql(&format!("{{ {at_limit} }} {at_limit_fragments}"), json!({}))
        .await;
    let too_deep = app
        .gql(&format!("{{ {too_deep} }} {too_deep_fragments}"), json!({}))
        .await;

    assert!(at_limit.data()["__schema"]["types"].is_array());
    assert_eq!(too_deep.code(), "GRAPHQL_VALIDATION_FAILED");
    assert_errors_all_have_a_code(&too_deep.body);
}

/// The register mutation's own selection cannot be made deep (the types it returns hold no
/// cycle), so the deep part rides in a second operation of the same document: the limits
/// apply to the whole document, before the selected mutation may run.
#[tokio::test]
async fn a_document_nested_too_deep_is_refused_before_any_resolver_runs() {
    let app = spawn_app().await;
    let document =
        |depth: usize| format!("{REGISTER} query Deep {{ {} }}", introspection_chain(depth));
    let request = |depth: usize, username: &str| {
        json!({
            "query": document(depth),
            "variables": registration(username),
            "operationName": "Register",
        })
    };

    let too_deep = gql_from(
        app.client
            .post(app.url("/graphql"))
            .json(&request(MAX_DEPTH + 1, "alice"))
            .send()
            .await
            .expect("request sent"),
    )
    .await;

    assert_eq!(too_deep.code(), "GRAPHQL_VALIDATION_FAILED");
    assert_errors_all_have_a_code(&too_deep.body);
    assert_eq!(too_deep.body["data"], Value::Null);
    assert_eq!(users_in(&app).await, 0, "the mutation never ran");

    // The same document one level shallower registers the user: depth alone was the reason.
    let at_limit = gql_from(
        app.client
            .post(app.url("/graphql"))
            .json(&request(MAX_DEPTH, "alice"))
            .send()
            .await
            .expect("request sent"),
    )
    .await;
    assert!(at_limit.data()["register"]["user"]["id"].is_string());
    assert_eq!(users_in(&app).await, 1);
}

// --- complexity and page size ---------------------------------------------------------

fn aliased_user_pages(aliases: usize, first: i32) -> String {
    let pages: String = (0..aliases)
        .map(|i| format!("p{i}: users(first: {first}) {{ nodes {{ id addresses {{ id }} }} }} "))
        .collect();
    format!("{{ {pages}}}")
}

#[tokio::test]
async fn many_aliases_of_a_full_page_of_users_are_refused_as_too_complex() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let one_page = app
        .gql_as(&admin, &aliased_user_pages(1, 100), json!({}))
        .await;
    let ten_small_pages = app
        .gql_as(&admin, &aliased_user_pages(10, 5), json!({}))
        .await;
    let ten_full_pages = app
        .gql_as(&admin, &aliased_user_pages(10, 100), json!({}))
        .await;

    assert_eq!(
        one_page.data()["p0"]["nodes"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(ten_small_pages.data()["p9"]["nodes"].is_array());
    assert_eq!(ten_full_pages.code(), "GRAPHQL_VALIDATION_FAILED");
    assert_errors_all_have_a_code(&ten_full_pages.body);
    assert_eq!(ten_full_pages.body["data"], Value::Null);
}

#[tokio::test]
async fn a_page_size_over_100_is_bad_user_input_naming_the_argument() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;

    let first = app
        .gql_as(&admin, "{ users(first: 101) { totalCount } }", json!({}))
        .await;
    let last = app
        .gql_as(&admin, "{ users(last: 101) { totalCount } }", json!({}))
        .await;
    let negative = app
        .gql_as(&admin, "{ users(first: -1) { totalCount } }", json!({}))
        .await;

    assert_eq!(first.code(), "BAD_USER_INPUT");
    assert_eq!(first.field(), "first");
    assert_eq!(last.code(), "BAD_USER_INPUT");
    assert_eq!(last.field(), "last");
    assert_eq!(negative.code(), "BAD_USER_INPUT");
    assert_eq!(negative.field(), "first");
    for response in [first, last, negative] {
        assert_errors_all_have_a_code(&response.body);
    }
}

// --- directives, nesting, cycles and sheer size ---------------------------------------

#[tokio::test]
async fn more_than_eight_directives_on_one_field_are_refused() {
    let app = spawn_app().await;
    let directives = "@include(if: true) @skip(if: false) ".repeat(5);

    let response = app
        .gql(&format!("{{ __typename {directives}}}"), json!({}))
        .await;

    assert_eq!(response.code(), "GRAPHQL_VALIDATION_FAILED");
    assert_errors_all_have_a_code(&response.body);
    assert_eq!(response.body["data"], Value::Null);
}

#[tokio::test]
async fn a_deeply_nested_list_literal_is_refused_and_the_server_stays_up() {
    let app = spawn_app().await;
    let depth = 10_000;
    let query = format!(
        "{{ node(id: {}\"x\"{}) {{ id }} }}",
        "[".repeat(depth),
        "]".repeat(depth)
    );

    let post = app.gql(&query, json!({})).await;
    let get = gql_from(
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", &query)])
            .send()
            .await
            .expect("request sent"),
    )
    .await;

    for response in [post, get] {
        assert_eq!(response.code(), "GRAPHQL_PARSE_FAILED");
        assert_errors_all_have_a_code(&response.body);
    }
    assert_eq!(healthz(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn a_deeply_nested_json_variable_is_refused_and_the_server_stays_up() {
    let app = spawn_app().await;
    let depth = 10_000;
    let body = format!(
        r#"{{"query": "query($id: ID!) {{ node(id: $id) {{ id }} }}", "variables": {{"id": {}"x"{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );

    let response = gql_from(
        app.client
            .post(app.url("/graphql"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent"),
    )
    .await;

    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.code(), "BAD_USER_INPUT");
    assert_errors_all_have_a_code(&response.body);
    assert_eq!(healthz(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn a_fragment_cycle_is_refused_and_the_server_stays_up() {
    let app = spawn_app().await;
    let cycles = [
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "{ ...A } fragment A on Query { __typename ...A }",
        "{ me { ...U } } fragment U on User { addresses { id } ... on User { ...U } }",
    ];

    for query in cycles {
        let response = app.gql(query, json!({})).await;

        assert_eq!(response.code(), "GRAPHQL_VALIDATION_FAILED", "{query}");
        assert_errors_all_have_a_code(&response.body);
    }
    assert_eq!(healthz(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn ten_thousand_aliases_within_the_body_limit_are_answered_and_the_server_stays_up() {
    let app = spawn_app().await;
    let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    let query = format!("{{ {aliases}}}");
    assert!(query.len() < 256 * 1024);

    let response = app.gql(&query, json!({})).await;

    assert_eq!(response.status, StatusCode::OK);
    if response.body.get("errors").is_some() {
        assert_errors_all_have_a_code(&response.body);
    } else {
        assert_eq!(response.data()["a9999"], "Query");
    }
    assert_eq!(healthz(&app).await, StatusCode::OK);
}

// --- introspection --------------------------------------------------------------------

#[tokio::test]
async fn graphiqls_full_introspection_query_succeeds_within_the_limits() {
    let app = spawn_app().await;

    for type_depth in [7, 9] {
        let response = app.gql(&introspection_query(type_depth), json!({})).await;

        let schema = &response.data()["__schema"];
        assert_eq!(schema["queryType"]["name"], "Query", "{type_depth}");
        assert_eq!(schema["mutationType"]["name"], "Mutation", "{type_depth}");
        let types: Vec<&str> = schema["types"]
            .as_array()
            .expect("types")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        for name in ["User", "Address", "AuthPayload", "RegisterInput"] {
            assert!(types.contains(&name), "{name} in {types:?}");
        }
    }
}

/// async-graphql answers introspection fields with null, not an error, when introspection
/// is off; either way the schema must not be revealed.
#[tokio::test]
async fn with_introspection_off_the_schema_is_not_revealed() {
    let app = spawn_app_with(|config| config.introspection = false).await;

    let schema = app
        .gql("{ __schema { queryType { name } } }", json!({}))
        .await;
    let user_type = app
        .gql(
            "{ __type(name: \"User\") { name fields { name } } }",
            json!({}),
        )
        .await;
    let full = app.gql(&introspection_query(7), json!({})).await;
    let typename = app.gql("{ __typename }", json!({})).await;

    for response in [schema, user_type, full] {
        if response.body.get("errors").is_some() {
            assert_errors_all_have_a_code(&response.body);
        }
        let data = &response.body["data"];
        assert!(
            data.is_null()
                || data
                    .as_object()
                    .is_some_and(|d| d.values().all(Value::is_null)),
            "introspection answered: {:#}",
            response.body
        );
        let text = response.body.to_string();
        for name in ["\"Query\"", "AuthPayload", "RegisterInput", "username"] {
            assert!(!text.contains(name), "{name} leaked: {text}");
        }
    }
    assert_eq!(typename.data()["__typename"], "Query");
}

// --- documents that expand past their size -----------------------------------------------

/// `query{...F0} fragment F0 on Query{...F1 ...F1} ... fragment Fn on Query{<leaf>}`: about
/// a kilobyte that a validator walking every spread would expand 2^n times.
fn doubling_fragments(operation: &str, on: &str, levels: usize, leaf: &str) -> String {
    let mut document = format!("{operation} {{ ...F0 }}\n");
    for level in 0..levels {
        let next = level + 1;
        document.push_str(&format!(
            "fragment F{level} on {on} {{ ...F{next} ...F{next} }}\n"
        ));
    }
    document.push_str(&format!("fragment F{levels} on {on} {{ {leaf} }}\n"));
    document
}

/// Without the bound, each of these pins a server thread for hours; the guard turns that
/// into a failure instead of a hung suite.
async fn within_a_minute<T>(request: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(60), request)
        .await
        .expect("the server answered a kilobyte of fragments within a minute")
}

#[tokio::test]
async fn fragments_that_double_at_each_level_are_refused_before_validation_walks_them() {
    let app = spawn_app().await;

    for leaf in ["__typename", "products(first: 1) { totalCount }"] {
        let query = doubling_fragments("query", "Query", 30, leaf);
        assert!(query.len() < 2_048, "{}", query.len());

        let response = within_a_minute(app.gql(&query, json!({}))).await;

        assert_eq!(response.code(), "GRAPHQL_VALIDATION_FAILED", "{leaf}");
        assert!(
            response.error()["message"]
                .as_str()
                .is_some_and(|message| message.contains("expands"))
        );
    }
    assert_eq!(healthz(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn a_few_levels_of_shared_fragments_are_answered() {
    let app = spawn_app().await;
    let query = doubling_fragments("query", "Query", 6, "__typename");

    let response = app.gql(&query, json!({})).await;

    assert_eq!(response.data()["__typename"], "Query");
}

#[tokio::test]
async fn a_mutation_with_more_root_fields_than_the_limit_runs_none_of_them() {
    let app = spawn_app().await;
    let limit = shop::graphql::MAX_MUTATION_FIELDS as usize;
    let registrations = |count: usize| -> String {
        (0..count)
            .map(|i| {
                format!(
                    "r{i}: register(input: {{ username: \"user{i}\", email: \"user{i}@example.com\", \
                     password: \"correct horse battery\" }}) {{ user {{ id }} }} "
                )
            })
            .collect()
    };

    let too_many = app
        .gql(
            &format!("mutation {{ {}}}", registrations(limit + 1)),
            json!({}),
        )
        .await;

    assert_eq!(too_many.code(), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(users_in(&app).await, 0);
}
