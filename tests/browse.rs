//! The storefront: paging, sorting, searching and filtering the catalog, who sees archived
//! products, and how many SQL statements a nested listing costs.

use std::collections::HashSet;

use entity::product;
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};
use serde_json::{Value, json};

use crate::{
    catalog::{create_category, create_product, global_id, id_of, update_product},
    support::{Gql, Session, TestApp, spawn_app},
};

const PRODUCTS: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: ProductFilter, $sortKey: ProductSortKey, $reverse: Boolean) {
  products(first: $first, after: $after, last: $last, before: $before, filter: $filter, sortKey: $sortKey, reverse: $reverse) {
    totalCount
    edges { cursor node { id name price { amount } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

/// One page of `products`: the ids in order, the page info and the total count.
struct Page {
    ids: Vec<String>,
    has_next: bool,
    has_previous: bool,
    start: Value,
    end: Value,
    total: Value,
}

impl Page {
    fn of(response: &Gql) -> Self {
        let products = &response.data()["products"];
        let edges = products["edges"].as_array().expect("edges");
        let ids: Vec<String> = edges.iter().map(|e| id_of(&e["node"])).collect();
        let info = &products["pageInfo"];
        // The page's cursors are those of its first and last edges.
        assert_eq!(
            info["startCursor"],
            edges.first().map_or(Value::Null, |e| e["cursor"].clone())
        );
        assert_eq!(
            info["endCursor"],
            edges.last().map_or(Value::Null, |e| e["cursor"].clone())
        );
        Self {
            ids,
            has_next: info["hasNextPage"] == true,
            has_previous: info["hasPreviousPage"] == true,
            start: info["startCursor"].clone(),
            end: info["endCursor"].clone(),
            total: products["totalCount"].clone(),
        }
    }
}

async fn products(app: &TestApp, session: Option<&Session>, vars: Value) -> Gql {
    match session {
        Some(session) => app.gql_as(session, PRODUCTS, vars).await,
        None => app.gql(PRODUCTS, vars).await,
    }
}

/// The names of the products a search or filter finds, in list order (first 100).
async fn names(app: &TestApp, filter: Value, sort: &str) -> Vec<String> {
    let response = products(
        app,
        None,
        json!({ "first": 100, "filter": filter, "sortKey": sort }),
    )
    .await;
    let products = &response.data()["products"];
    let names: Vec<String> = products["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("a name").to_owned())
        .collect();
    assert_eq!(products["totalCount"], names.len(), "{filter}");
    names
}

/// The names of the products a search finds, sorted; the same whether the page is read
/// by relevance (served by the search index) or in another order (by SQL).
async fn search(app: &TestApp, text: &str) -> Vec<String> {
    let mut found = names(app, json!({ "search": text }), "NAME").await;
    let mut ranked = names(app, json!({ "search": text }), "RELEVANCE").await;
    found.sort();
    ranked.sort();
    assert_eq!(ranked, found, "by relevance and by name, {text:?}");
    found
}

/// Every page forward from the start, `size` at a time: the ids visited, each page's
/// (length, hasPreviousPage, hasNextPage), and each page's totalCount.
async fn page_forward(
    app: &TestApp,
    vars: &Value,
    size: i32,
) -> (Vec<String>, Vec<(usize, bool, bool)>, Vec<Value>) {
    let mut visited = Vec::new();
    let mut pages = Vec::new();
    let mut after = Value::Null;
    let mut totals = Vec::new();
    loop {
        let mut request = vars.clone();
        request["first"] = json!(size);
        request["after"] = after.clone();
        let page = Page::of(&products(app, None, request).await);
        pages.push((page.ids.len(), page.has_previous, page.has_next));
        visited.extend(page.ids);
        totals.push(page.total);
        if !page.has_next {
            break;
        }
        assert!(pages.len() < 50, "paging forward does not end");
        after = page.end;
    }
    (visited, pages, totals)
}

/// Every page backward from the end, `size` at a time, with the pages in reading order.
async fn page_backward(
    app: &TestApp,
    vars: &Value,
    size: i32,
) -> (Vec<String>, Vec<(usize, bool, bool)>, Vec<Value>) {
    let mut visited = Vec::new();
    let mut pages = Vec::new();
    let mut before = Value::Null;
    let mut totals = Vec::new();
    loop {
        let mut request = vars.clone();
        request["last"] = json!(size);
        request["before"] = before.clone();
        let page = Page::of(&products(app, None, request).await);
        pages.push((page.ids.len(), page.has_previous, page.has_next));
        // Each page is in list order; earlier pages go in front.
        visited.splice(0..0, page.ids);
        totals.push(page.total);
        if !page.has_previous {
            break;
        }
        assert!(pages.len() < 50, "paging backward does not end");
        before = page.start;
    }
    (visited, pages, totals)
}

/// The (length, hasPreviousPage, hasNextPage) of each page when `total` items are read
/// forward `size` at a time.
fn expected_forward_pages(total: usize, size: usize) -> Vec<(usize, bool, bool)> {
    let count = total.div_ceil(size).max(1);
    (0..count)
        .map(|k| {
            let len = size.min(total - k * size);
            (len, k > 0, k + 1 < count)
        })
        .collect()
}

/// The same, read backward from the end (pages in the order they were read).
fn expected_backward_pages(total: usize, size: usize) -> Vec<(usize, bool, bool)> {
    let count = total.div_ceil(size).max(1);
    (0..count)
        .map(|k| {
            let len = size.min(total - k * size);
            (len, k + 1 < count, k > 0)
        })
        .collect()
}

/// A product as the paging test knows it: the order it was created in, name and price.
#[derive(Clone, Debug)]
struct Listed {
    id: String,
    created: usize,
    name: String,
    cents: i64,
}

// ---------------------------------------------------------------------------------------
// Paging and sorting
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn paging_both_ways_visits_every_filtered_product_once_in_order_for_every_sort() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let boats = create_category(&app, &admin, json!({ "name": "Boats" })).await;
    let dinghies = create_category(
        &app,
        &admin,
        json!({ "name": "Dinghies", "parentId": id_of(&boats) }),
    )
    .await;
    let other = create_category(&app, &admin, json!({ "name": "Other" })).await;
    // Names sort the same under any collation: one capitalised ASCII word each. Seven
    // names and five prices over 23 products give ties in both, broken by id.
    let names = [
        "Galley", "Anchor", "Ensign", "Compass", "Falcon", "Beacon", "Dinghy",
    ];
    let prices = [
        ("30.00", 3000),
        ("5.00", 500),
        ("99.99", 9999),
        ("12.50", 1250),
        ("12.00", 1200),
    ];
    let mut matching = Vec::new();
    for i in 0..23 {
        let (name, (price, cents)) = (names[i % names.len()], prices[(i * 3) % prices.len()]);
        let category = if i % 2 == 0 { &boats } else { &dinghies };
        let product = create_product(
            &app,
            &admin,
            json!({ "name": name, "price": price, "stock": 1 + i, "categoryId": id_of(category) }),
        )
        .await;
        matching.push(Listed {
            id: id_of(&product),
            created: i,
            name: name.into(),
            cents,
        });
        // Products the filter leaves out, alike and between the ones it keeps: in stock
        // in another category, or sold out in the filtered one.
        if i % 6 == 0 {
            let (category, stock) = if i % 12 == 0 {
                (&other, 5)
            } else {
                (&dinghies, 0)
            };
            create_product(
                &app,
                &admin,
                json!({ "name": name, "price": price, "stock": stock, "categoryId": id_of(category) }),
            )
            .await;
        }
    }
    let archived = create_product(
        &app,
        &admin,
        json!({ "name": "Anchor", "price": "5.00", "categoryId": id_of(&boats) }),
    )
    .await;
    update_product(&app, &admin, &id_of(&archived), json!({ "archived": true })).await;
    let filter = json!({ "categoryId": id_of(&boats), "inStock": true });

    for (sort, reverse) in [
        ("NAME", false),
        ("NAME", true),
        ("PRICE", false),
        ("PRICE", true),
        ("CREATED_AT", false),
        ("CREATED_AT", true),
        ("RELEVANCE", false),
        ("RELEVANCE", true),
    ] {
        let mut expected = matching.clone();
        match sort {
            "NAME" => expected.sort_by(|a, b| (&a.name, a.created).cmp(&(&b.name, b.created))),
            "PRICE" => expected.sort_by_key(|p| (p.cents, p.created)),
            _ => expected.sort_by_key(|p| p.created),
        }
        if reverse {
            expected.reverse();
        }
        let expected: Vec<String> = expected.into_iter().map(|p| p.id).collect();
        let vars = json!({ "filter": filter, "sortKey": sort, "reverse": reverse });

        let (forward, forward_pages, forward_total) = page_forward(&app, &vars, 5).await;
        let (backward, backward_pages, backward_total) = page_backward(&app, &vars, 5).await;

        assert_eq!(forward, expected, "{sort} reverse={reverse}, forward");
        assert_eq!(
            forward_pages,
            expected_forward_pages(23, 5),
            "{sort} reverse={reverse}"
        );
        assert!(forward_total.iter().all(|t| *t == 23), "{forward_total:?}");
        assert_eq!(backward, expected, "{sort} reverse={reverse}, backward");
        assert_eq!(
            backward_pages,
            expected_backward_pages(23, 5),
            "{sort} reverse={reverse}"
        );
        assert!(
            backward_total.iter().all(|t| *t == 23),
            "{backward_total:?}"
        );
    }
}

#[tokio::test]
async fn the_default_order_is_oldest_first() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for name in ["Zebra", "Apple", "Mango"] {
        create_product(&app, &admin, json!({ "name": name })).await;
    }

    let response = app.gql("{ products { nodes { name } } }", json!({})).await;

    assert_eq!(
        response.data()["products"]["nodes"],
        json!([{ "name": "Zebra" }, { "name": "Apple" }, { "name": "Mango" }])
    );
}

#[tokio::test]
async fn paging_between_two_cursors_returns_exactly_the_products_between_them() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for (i, name) in ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]
        .iter()
        .enumerate()
    {
        create_product(
            &app,
            &admin,
            json!({ "name": name, "price": format!("{}.00", 10 - i) }),
        )
        .await;
    }
    let response = products(&app, None, json!({ "first": 10, "sortKey": "NAME" })).await;
    let all = Page::of(&response);
    let cursors: Vec<Value> = response.data()["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["cursor"].clone())
        .collect();

    let forward = Page::of(
        &products(
            &app,
            None,
            json!({ "first": 10, "after": cursors[0], "before": cursors[4], "sortKey": "NAME" }),
        )
        .await,
    );
    let backward = Page::of(
        &products(
            &app,
            None,
            json!({ "last": 2, "after": cursors[0], "before": cursors[4], "sortKey": "NAME" }),
        )
        .await,
    );

    assert_eq!(forward.ids, all.ids[1..4]);
    assert_eq!(backward.ids, all.ids[2..4]);
    assert!(backward.has_previous);
}

/// Creates products one by one, named or priced by `values`, and returns their ids.
async fn create_sorted(app: &TestApp, admin: &Session, sort: &str, values: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for value in values {
        let input = match sort {
            "NAME" => json!({ "name": value }),
            _ => json!({ "name": "Item", "price": value }),
        };
        ids.push(id_of(&create_product(app, admin, input).await));
    }
    ids
}

/// Pages through `sort` three at a time while products are added between requests: ones
/// that sort before the position reached must not appear, ones after it must, and no
/// product is ever skipped or listed twice.
async fn paging_while_products_are_added(
    sort: &str,
    initial: &[&str],
    before_and_tied: &[&str],
    after_first_page: &[&str],
    later: &[&str],
) {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let originals = create_sorted(&app, &admin, sort, initial).await;
    let vars = json!({ "first": 3, "sortKey": sort });

    let first = Page::of(&products(&app, None, vars.clone()).await);
    let skipped = create_sorted(&app, &admin, sort, before_and_tied).await;
    let added = create_sorted(&app, &admin, sort, after_first_page).await;
    let mut visited = first.ids.clone();
    let mut after = first.end.clone();
    let mut page_number = 1;
    let mut added_later = Vec::new();
    loop {
        let mut request = vars.clone();
        request["after"] = after;
        let page = Page::of(&products(&app, None, request).await);
        visited.extend(page.ids.clone());
        if page_number == 1 {
            added_later = create_sorted(&app, &admin, sort, later).await;
        }
        page_number += 1;
        if !page.has_next {
            break;
        }
        assert!(page_number < 20, "paging does not end");
        after = page.end;
    }

    let unique: HashSet<&String> = visited.iter().collect();
    assert_eq!(
        unique.len(),
        visited.len(),
        "{sort}: a product was listed twice"
    );
    for id in &skipped {
        assert!(
            !visited.contains(id),
            "{sort}: a product before the cursor appeared"
        );
    }
    let position = |id: &String| visited.iter().position(|v| v == id);
    let original_positions: Vec<Option<usize>> = originals.iter().map(position).collect();
    assert!(
        original_positions.iter().all(Option::is_some),
        "{sort}: a product was skipped"
    );
    assert!(
        original_positions.windows(2).all(|w| w[0] < w[1]),
        "{sort}: out of order"
    );
    for id in added.iter().chain(&added_later) {
        assert!(
            position(id).is_some(),
            "{sort}: a product added after the cursor was skipped"
        );
    }
    assert_eq!(
        visited.len(),
        originals.len() + added.len() + added_later.len()
    );
}

#[tokio::test]
async fn products_added_while_paging_by_name_are_never_skipped_or_repeated() {
    paging_while_products_are_added(
        "NAME",
        &[
            "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra",
        ],
        // Before the cursor ("Mike", the end of the first page), or tied with an item
        // already listed and so placed before the cursor by the id tie-breaker.
        &["Alpha", "Lima", "Kilo"],
        // Tied with the cursor but newer (after it), and after everything.
        &["Mike", "Zulu"],
        // Tied with an item not listed yet.
        &["Quebec"],
    )
    .await;
}

#[tokio::test]
async fn products_added_while_paging_by_price_are_never_skipped_or_repeated() {
    paging_while_products_are_added(
        "PRICE",
        &[
            "10.00", "20.00", "30.00", "40.00", "50.00", "60.00", "70.00", "80.00", "90.00",
        ],
        &["5.00", "20.00", "10.00"],
        &["30.00", "95.00"],
        &["70.00"],
    )
    .await;
}

#[tokio::test]
async fn a_cursor_of_one_sort_order_is_bad_user_input_in_another() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for name in ["Alpha", "Bravo", "Charlie"] {
        create_product(&app, &admin, json!({ "name": name })).await;
    }
    let by_name = Page::of(&products(&app, None, json!({ "first": 1, "sortKey": "NAME" })).await);
    let by_price = Page::of(&products(&app, None, json!({ "first": 1, "sortKey": "PRICE" })).await);
    let by_age = Page::of(&products(&app, None, json!({ "first": 1 })).await);
    let by_relevance = Page::of(
        &products(
            &app,
            None,
            json!({ "first": 1, "sortKey": "RELEVANCE", "filter": { "search": "a" } }),
        )
        .await,
    );

    let cases = [
        (
            json!({ "first": 1, "after": by_name.end, "sortKey": "PRICE" }),
            "after",
        ),
        (
            json!({ "last": 1, "before": by_name.end, "sortKey": "CREATED_AT" }),
            "before",
        ),
        (
            json!({ "first": 1, "after": by_price.end, "sortKey": "NAME" }),
            "after",
        ),
        (
            json!({ "first": 1, "after": by_age.end, "sortKey": "PRICE" }),
            "after",
        ),
        (
            json!({ "first": 1, "after": by_relevance.end, "sortKey": "NAME" }),
            "after",
        ),
        (
            json!({ "first": 1, "after": by_name.end, "sortKey": "RELEVANCE", "filter": { "search": "a" } }),
            "after",
        ),
    ];
    for (vars, field) in cases {
        let response = products(&app, None, vars.clone()).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{vars}");
        assert_eq!(response.field(), field, "{vars}");
    }
}

#[tokio::test]
async fn page_sizes_above_one_hundred_and_malformed_cursors_are_bad_user_input() {
    let app = spawn_app().await;

    let cases = [
        (json!({ "first": 101 }), "first"),
        (json!({ "last": 101 }), "last"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "after": "not a cursor" }), "after"),
        (json!({ "last": 1, "before": "%%%" }), "before"),
    ];
    for (vars, field) in cases {
        let response = products(&app, None, vars.clone()).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{vars}");
        assert_eq!(response.field(), field, "{vars}");
    }
    let hundred = products(&app, None, json!({ "first": 100 })).await;
    assert_eq!(hundred.data()["products"]["totalCount"], 0);
}

// ---------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn search_is_case_insensitive_and_matches_words_as_prefixes() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(&app, &admin, json!({ "name": "Laptop Pro 15" })).await;
    create_product(&app, &admin, json!({ "name": "Desk Lamp" })).await;

    for text in [
        "lap",
        "LAP",
        "Laptop",
        "lApToP",
        "laptop pro",
        "pro 15",
        "1",
        "  lap  ",
    ] {
        assert_eq!(search(&app, text).await, ["Laptop Pro 15"], "{text:?}");
    }
    assert_eq!(search(&app, "la").await, ["Desk Lamp", "Laptop Pro 15"]);
    for text in ["aptop", "laptops", "top", "16"] {
        assert_eq!(search(&app, text).await, Vec::<String>::new(), "{text:?}");
    }
}

#[tokio::test]
async fn search_looks_in_the_name_the_description_and_the_sku() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Walnut Board", "description": "Oiled hardwood." }),
    )
    .await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Cheese Knife", "description": "Cuts zircon-hard parmesan." }),
    )
    .await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Bread Bin", "sku": "lt-4000" }),
    )
    .await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Egg Cup", "sku": "AB-12.x_9" }),
    )
    .await;

    assert_eq!(search(&app, "walnut").await, ["Walnut Board"]);
    assert_eq!(search(&app, "hardwood").await, ["Walnut Board"]);
    assert_eq!(search(&app, "zircon").await, ["Cheese Knife"]);
    assert_eq!(search(&app, "parm").await, ["Cheese Knife"]);
    assert_eq!(search(&app, "lt").await, ["Bread Bin"]);
    // A SKU is found as it is written, and by any of its parts.
    for text in ["LT-4000", "lt-4000", "lt-40", "4000", "lt 4000"] {
        assert_eq!(search(&app, text).await, ["Bread Bin"], "{text:?}");
    }
    for text in ["AB-12.X_9", "ab-12", "12", "ab 12 x 9"] {
        assert_eq!(search(&app, text).await, ["Egg Cup"], "{text:?}");
    }
}

#[tokio::test]
async fn a_search_finds_products_by_words_with_numbers_and_punctuation_around_them() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(&app, &admin, json!({ "name": "Phone-12 Case", "description": "Fits model X-200; see shop.example.com/cases." })).await;

    for text in ["phone-12", "12", "case", "x-200", "200", "cases", "example"] {
        assert_eq!(search(&app, text).await, ["Phone-12 Case"], "{text:?}");
    }
}

#[tokio::test]
async fn every_word_of_a_search_must_match_somewhere() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(&app, &admin, json!({ "name": "Blue Mug" })).await;
    create_product(&app, &admin, json!({ "name": "Blue Plate" })).await;
    create_product(&app, &admin, json!({ "name": "Red Mug" })).await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Mug", "description": "A blue glaze." }),
    )
    .await;

    assert_eq!(search(&app, "blue mug").await, ["Blue Mug", "Mug"]);
    assert_eq!(search(&app, "mug blue").await, ["Blue Mug", "Mug"]);
    assert_eq!(search(&app, "red mug").await, ["Red Mug"]);
    assert_eq!(search(&app, "blue red").await, Vec::<String>::new());
    assert_eq!(
        search(&app, "blue").await,
        ["Blue Mug", "Blue Plate", "Mug"]
    );
}

#[tokio::test]
async fn sorting_by_relevance_puts_a_name_match_above_a_description_only_match() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    // The description-only match is older, so age cannot explain the order.
    create_product(
        &app,
        &admin,
        json!({ "name": "Tea Set", "description": "Includes a teapot and cups." }),
    )
    .await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Teapot", "description": "Cast iron." }),
    )
    .await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Coffee Pot", "description": "For coffee." }),
    )
    .await;

    let best_first = names(&app, json!({ "search": "teapot" }), "RELEVANCE").await;
    let worst_first = products(
        &app,
        None,
        json!({ "filter": { "search": "teapot" }, "sortKey": "RELEVANCE", "reverse": true }),
    )
    .await;

    assert_eq!(best_first, ["Teapot", "Tea Set"]);
    let reversed: Vec<&Value> = worst_first.data()["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"]["name"])
        .collect();
    assert_eq!(reversed, [&json!("Tea Set"), &json!("Teapot")]);
}

#[tokio::test]
async fn a_search_of_punctuation_only_finds_nothing() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(&app, &admin, json!({ "name": "Mug" })).await;

    for text in ["!!!", "- * -", "\"\"", "...", "&|!", "()"] {
        let response = products(
            &app,
            None,
            json!({ "filter": { "search": text }, "sortKey": "RELEVANCE" }),
        )
        .await;
        let found = &response.data()["products"];
        assert_eq!(found["edges"], json!([]), "{text:?}");
        assert_eq!(found["totalCount"], 0, "{text:?}");
        assert_eq!(found["pageInfo"]["hasNextPage"], false, "{text:?}");
    }
    // An empty or blank search is no search at all.
    assert_eq!(search(&app, "").await, ["Mug"]);
    assert_eq!(search(&app, "   ").await, ["Mug"]);
}

#[tokio::test]
async fn search_text_with_full_text_query_syntax_never_fails() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Laptop Stand", "description": "Near the desk.", "sku": "LS-1" }),
    )
    .await;
    let texts = [
        "\"",
        "\"lap",
        "lap\"",
        "'",
        "''",
        "lap'",
        "*",
        "lap*",
        "*lap",
        ":",
        ":*",
        "lap:*",
        "a:b",
        "name:lap",
        "{name}:lap",
        "&",
        "lap & stand",
        "|",
        "lap | stand",
        "!",
        "!lap",
        "!!lap",
        "(",
        ")",
        "(lap",
        "lap)",
        "((lap))",
        "NEAR",
        "NEAR(lap stand)",
        "NEAR(lap stand, 2)",
        "lap NEAR stand",
        "lap OR stand",
        "OR",
        "AND",
        "NOT",
        "lap AND",
        "NOT lap",
        "lap NOT stand",
        "^lap",
        "-lap",
        "+lap",
        "lap -stand",
        "~lap",
        "lap <-> stand",
        "lap <2> stand",
        "\\",
        "\\'",
        "%",
        "_",
        "lap%",
        "[lap]",
        "{lap}",
        "lap;",
        "lap; DROP TABLE products; --",
        "' OR '1'='1",
        "\u{0}",
        "lap\u{0}",
        "🙂",
        "ラップトップ",
        "lap\nstand",
        "$1",
        "?",
    ];

    for text in texts {
        for sort in ["RELEVANCE", "NAME", "PRICE", "CREATED_AT"] {
            let response = products(
                &app,
                None,
                json!({ "first": 2, "filter": { "search": text }, "sortKey": sort }),
            )
            .await;
            assert!(
                response.body.get("errors").is_none(),
                "{text:?} sorted by {sort}: {:#}",
                response.body
            );
            // Paging on from the first page must work too.
            let end = &response.body["data"]["products"]["pageInfo"]["endCursor"];
            if !end.is_null() {
                let next = products(
                    &app,
                    None,
                    json!({ "first": 2, "after": end, "filter": { "search": text }, "sortKey": sort }),
                )
                .await;
                assert!(
                    next.body.get("errors").is_none(),
                    "{text:?} {sort}: {:#}",
                    next.body
                );
            }
        }
    }
    // The words in such text still count: "lap NEAR stand" needs all three words.
    assert_eq!(search(&app, "lap OR stand").await, Vec::<String>::new());
    assert_eq!(search(&app, "(lap) & \"stand\"").await, ["Laptop Stand"]);
    assert_eq!(search(&app, "lap* stand:*").await, ["Laptop Stand"]);
    assert_eq!(search(&app, "near lap").await, ["Laptop Stand"]);
}

#[tokio::test]
async fn a_search_of_more_than_two_hundred_characters_is_bad_user_input() {
    let app = spawn_app().await;

    let too_long = products(
        &app,
        None,
        json!({ "filter": { "search": "a".repeat(201) } }),
    )
    .await;
    let longest = products(
        &app,
        None,
        json!({ "filter": { "search": "a".repeat(200) } }),
    )
    .await;
    let long_in_letters = products(
        &app,
        None,
        json!({ "filter": { "search": "é".repeat(200) } }),
    )
    .await;

    assert_eq!(too_long.code(), "BAD_USER_INPUT");
    assert_eq!(too_long.field(), "search");
    assert_eq!(longest.data()["products"]["totalCount"], 0);
    assert_eq!(long_in_letters.data()["products"]["totalCount"], 0);
}

#[tokio::test]
async fn paging_through_search_results_by_relevance_visits_each_match_once() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    // Matches of many strengths, some of them exactly tied, between products that do not
    // match at all.
    let inputs = [
        json!({ "name": "Quartz" }),
        json!({ "name": "Wall Clock", "description": "A quartz movement." }),
        json!({ "name": "Quartz Watch", "description": "Quartz, steel and glass." }),
        json!({ "name": "Granite Slab" }),
        json!({ "name": "Quartz Watch", "description": "Quartz, steel and glass." }),
        json!({ "name": "Lamp", "description": "Glass shade over a quartz base, with a long cord and a switch." }),
        json!({ "name": "Pebble", "sku": "QUARTZ-7" }),
        json!({ "name": "Quartz Watch", "description": "Quartz, steel and glass." }),
        json!({ "name": "Marble Tile" }),
        json!({ "name": "Rose Quartz Crystal" }),
        json!({ "name": "Sand", "description": "Mostly quartz grains, some quartzite." }),
        json!({ "name": "Clock", "description": "Quartz." }),
        json!({ "name": "Timer", "description": "Quartz quartz quartz." }),
        json!({ "name": "Slate" }),
        json!({ "name": "Quartzite Counter" }),
    ];
    let mut matching = HashSet::new();
    for input in inputs {
        let matches = input.to_string().to_lowercase().contains("quartz");
        let product = create_product(&app, &admin, input).await;
        if matches {
            matching.insert(id_of(&product));
        }
    }
    let vars = json!({ "filter": { "search": "quartz" }, "sortKey": "RELEVANCE" });
    let mut one_page = vars.clone();
    one_page["first"] = json!(100);
    let all = Page::of(&products(&app, None, one_page).await);

    let (forward, forward_pages, total) = page_forward(&app, &vars, 4).await;
    let (backward, backward_pages, _) = page_backward(&app, &vars, 4).await;
    let mut reversed_vars = vars.clone();
    reversed_vars["reverse"] = json!(true);
    let (reversed, _, _) = page_forward(&app, &reversed_vars, 4).await;

    assert_eq!(all.ids.len(), matching.len());
    assert_eq!(all.ids.iter().cloned().collect::<HashSet<_>>(), matching);
    assert!(total.iter().all(|t| *t == matching.len()), "{total:?}");
    assert_eq!(forward, all.ids);
    assert_eq!(forward_pages, expected_forward_pages(matching.len(), 4));
    assert_eq!(backward, all.ids);
    assert_eq!(backward_pages, expected_backward_pages(matching.len(), 4));
    let mut worst_first = all.ids.clone();
    worst_first.reverse();
    assert_eq!(reversed, worst_first);
}

/// A search narrowed only by the archive is counted and ranked by the search index (by
/// relevance) or counted from the FTS5 table less the archived matches (SQLite, in other
/// orders): archived products among the best matches must leave every count exact and
/// every page full.
#[tokio::test]
async fn archived_best_matches_leave_search_counts_exact_and_pages_full() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let mut visible = HashSet::new();
    let mut archived = HashSet::new();
    // Name matches rank above the description matches: the archived ones are the best.
    for i in 0..40 {
        let product = create_product(&app, &admin, json!({ "name": format!("Onyx {i}") })).await;
        update_product(&app, &admin, &id_of(&product), json!({ "archived": true })).await;
        archived.insert(id_of(&product));
    }
    for i in 0..7 {
        let input =
            json!({ "name": format!("Bowl {i}"), "description": "Carved from black onyx stone." });
        visible.insert(id_of(&create_product(&app, &admin, input).await));
    }
    create_product(&app, &admin, json!({ "name": "Granite Bowl" })).await;

    let vars = json!({ "filter": { "search": "onyx" }, "sortKey": "RELEVANCE" });
    let (forward, forward_pages, totals) = page_forward(&app, &vars, 3).await;
    let (backward, _, _) = page_backward(&app, &vars, 3).await;
    assert_eq!(forward.iter().cloned().collect::<HashSet<_>>(), visible);
    assert_eq!(forward_pages, expected_forward_pages(visible.len(), 3));
    assert_eq!(backward, forward);
    assert!(totals.iter().all(|t| *t == visible.len()), "{totals:?}");
    for sort in ["NAME", "PRICE", "CREATED_AT"] {
        let vars = json!({ "first": 100, "filter": { "search": "onyx" }, "sortKey": sort });
        let page = Page::of(&products(&app, None, vars).await);
        assert_eq!(page.total, visible.len(), "{sort}");
    }

    let all = json!({ "first": 100, "filter": { "search": "onyx", "includeArchived": true }, "sortKey": "RELEVANCE" });
    let page = Page::of(&products(&app, Some(&admin), all).await);
    assert_eq!(page.total, visible.len() + archived.len());
    let everything: HashSet<_> = visible.union(&archived).cloned().collect();
    assert_eq!(page.ids.iter().cloned().collect::<HashSet<_>>(), everything);
    // The archived name matches rank first.
    assert!(
        page.ids[..archived.len()]
            .iter()
            .all(|id| archived.contains(id))
    );
}

#[tokio::test]
async fn search_sees_renamed_products_and_forgets_cleared_skus() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let product = create_product(&app, &admin, json!({ "name": "Kettle", "sku": "KT-99" })).await;

    update_product(
        &app,
        &admin,
        &id_of(&product),
        json!({ "name": "Samovar", "sku": null }),
    )
    .await;

    assert_eq!(search(&app, "samovar").await, ["Samovar"]);
    assert_eq!(search(&app, "kettle").await, Vec::<String>::new());
    assert_eq!(search(&app, "kt-99").await, Vec::<String>::new());
}

#[tokio::test]
async fn search_combines_with_filters_and_every_sort() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let kitchen = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    for (name, price, stock, in_kitchen) in [
        ("Steel Pan", "30.00", 3, true),
        ("Steel Pot", "20.00", 0, true),
        ("Steel Knife", "10.00", 5, true),
        ("Steel Rake", "15.00", 2, false),
        ("Iron Pan", "25.00", 1, true),
    ] {
        let mut input = json!({ "name": name, "price": price, "stock": stock });
        if in_kitchen {
            input["categoryId"] = json!(id_of(&kitchen));
        }
        create_product(&app, &admin, input).await;
    }
    let filter = json!({ "search": "steel", "categoryId": id_of(&kitchen), "inStock": true, "maxPrice": "30" });

    assert_eq!(
        names(&app, filter.clone(), "PRICE").await,
        ["Steel Knife", "Steel Pan"]
    );
    assert_eq!(
        names(&app, filter.clone(), "NAME").await,
        ["Steel Knife", "Steel Pan"]
    );
    assert_eq!(
        names(&app, filter.clone(), "CREATED_AT").await,
        ["Steel Pan", "Steel Knife"]
    );
    assert_eq!(names(&app, filter, "RELEVANCE").await.len(), 2);
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn filtering_by_category_includes_every_category_below_it() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let top = create_category(&app, &admin, json!({ "name": "Top" })).await;
    let middle = create_category(
        &app,
        &admin,
        json!({ "name": "Middle", "parentId": id_of(&top) }),
    )
    .await;
    let bottom = create_category(
        &app,
        &admin,
        json!({ "name": "Bottom", "parentId": id_of(&middle) }),
    )
    .await;
    let side = create_category(
        &app,
        &admin,
        json!({ "name": "Side", "parentId": id_of(&top) }),
    )
    .await;
    let other = create_category(&app, &admin, json!({ "name": "Other" })).await;
    let empty = create_category(&app, &admin, json!({ "name": "Empty" })).await;
    for (name, category) in [
        ("A", &top),
        ("B", &middle),
        ("C", &bottom),
        ("D", &side),
        ("E", &other),
    ] {
        create_product(
            &app,
            &admin,
            json!({ "name": name, "categoryId": id_of(category) }),
        )
        .await;
    }
    create_product(&app, &admin, json!({ "name": "F" })).await;
    let by = |category: &Value| json!({ "categoryId": id_of(category) });

    assert_eq!(names(&app, by(&top), "NAME").await, ["A", "B", "C", "D"]);
    assert_eq!(names(&app, by(&middle), "NAME").await, ["B", "C"]);
    assert_eq!(names(&app, by(&bottom), "NAME").await, ["C"]);
    assert_eq!(names(&app, by(&side), "NAME").await, ["D"]);
    assert_eq!(names(&app, by(&other), "NAME").await, ["E"]);
    assert_eq!(names(&app, by(&empty), "NAME").await, Vec::<String>::new());
    let unknown = json!({ "categoryId": global_id("Category", 999_999) });
    let wrong_kind = json!({ "categoryId": global_id("Product", 1) });
    assert_eq!(names(&app, unknown, "NAME").await, Vec::<String>::new());
    assert_eq!(names(&app, wrong_kind, "NAME").await, Vec::<String>::new());
    let malformed = products(&app, None, json!({ "filter": { "categoryId": "garbage" } })).await;
    assert_eq!(malformed.code(), "BAD_USER_INPUT");
    assert_eq!(malformed.field(), "categoryId");
}

#[tokio::test]
async fn price_bounds_are_inclusive() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for price in ["5.00", "9.99", "10.00", "10.01", "20.00", "20.01"] {
        create_product(
            &app,
            &admin,
            json!({ "name": format!("P{price}"), "price": price }),
        )
        .await;
    }
    let prices = |filter: Value| {
        let app = &app;
        async move {
            let response = products(
                app,
                None,
                json!({ "first": 100, "filter": filter, "sortKey": "PRICE" }),
            )
            .await;
            response.data()["products"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| {
                    e["node"]["price"]["amount"]
                        .as_str()
                        .expect("amount")
                        .to_owned()
                })
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(
        prices(json!({ "minPrice": "10", "maxPrice": "20.00" })).await,
        ["10.00", "10.01", "20.00"]
    );
    assert_eq!(
        prices(json!({ "minPrice": "9.99", "maxPrice": "9.99" })).await,
        ["9.99"]
    );
    assert_eq!(
        prices(json!({ "minPrice": "10.01" })).await,
        ["10.01", "20.00", "20.01"]
    );
    assert_eq!(
        prices(json!({ "maxPrice": 10 })).await,
        ["5.00", "9.99", "10.00"]
    );
    assert_eq!(
        prices(json!({ "minPrice": "0", "maxPrice": "1000000" }))
            .await
            .len(),
        6
    );
}

#[tokio::test]
async fn a_minimum_price_above_the_maximum_is_bad_user_input_naming_min_price() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for price in ["10.00", "50.00"] {
        create_product(
            &app,
            &admin,
            json!({ "name": format!("P{price}"), "price": price }),
        )
        .await;
    }

    // Silently matching nothing would look like an empty shop to the client.
    for filter in [
        json!({ "minPrice": "50", "maxPrice": "10" }),
        json!({ "minPrice": "10.01", "maxPrice": "10.00" }),
        json!({ "minPrice": "20", "maxPrice": "10", "search": "p", "inStock": true }),
    ] {
        let response = products(&app, None, json!({ "filter": filter })).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{filter}");
        assert_eq!(response.field(), "minPrice", "{filter}");
        assert!(response.body["data"].is_null(), "{filter}");
    }
}

#[tokio::test]
async fn an_invalid_price_bound_is_bad_user_input_naming_it() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "minPrice": "abc" }), "minPrice"),
        (json!({ "minPrice": "-1" }), "minPrice"),
        (json!({ "minPrice": "1.999" }), "minPrice"),
        (json!({ "minPrice": "" }), "minPrice"),
        (json!({ "minPrice": -3 }), "minPrice"),
        (json!({ "maxPrice": "ten" }), "maxPrice"),
        (json!({ "maxPrice": "-0.01" }), "maxPrice"),
        (json!({ "minPrice": "1", "maxPrice": "1e3" }), "maxPrice"),
    ];

    for (filter, field) in cases {
        let response = products(&app, None, json!({ "filter": filter })).await;

        assert_eq!(response.code(), "BAD_USER_INPUT", "{filter}");
        assert_eq!(response.field(), field, "{filter}");
    }
    let float = products(&app, None, json!({ "filter": { "minPrice": 1.5 } })).await;
    assert_eq!(float.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_in_stock_filter_keeps_products_with_or_without_stock() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for (name, stock) in [("Plenty", 100), ("Last One", 1), ("Sold Out", 0)] {
        create_product(&app, &admin, json!({ "name": name, "stock": stock })).await;
    }

    assert_eq!(
        names(&app, json!({ "inStock": true }), "NAME").await,
        ["Last One", "Plenty"]
    );
    assert_eq!(
        names(&app, json!({ "inStock": false }), "NAME").await,
        ["Sold Out"]
    );
    assert_eq!(
        names(&app, json!({ "inStock": null }), "NAME").await.len(),
        3
    );
}

#[tokio::test]
async fn archived_products_are_hidden_from_everyone_but_admins_who_ask_for_them() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let customer = app.register("alice").await;
    let kitchen = create_category(&app, &admin, json!({ "name": "Kitchen" })).await;
    let kettle = create_product(
        &app,
        &admin,
        json!({ "name": "Kettle", "categoryId": id_of(&kitchen) }),
    )
    .await;
    create_product(
        &app,
        &admin,
        json!({ "name": "Teapot", "categoryId": id_of(&kitchen) }),
    )
    .await;
    let id = id_of(&kettle);

    let archived = update_product(&app, &admin, &id, json!({ "archived": true })).await;

    assert_eq!(archived["archived"], true);
    let reads = "query($id: ID!, $slug: String) {
        product(id: $id) { id }
        bySlug: product(slug: $slug) { id }
        node(id: $id) { id }
        products(filter: { search: \"kettle\" }) { totalCount }
        all: products { nodes { name } }
        category(slug: \"kitchen\") { products { nodes { name } } }
    }";
    let vars = json!({ "id": id, "slug": "kettle" });
    for response in [
        app.gql(reads, vars.clone()).await,
        app.gql_as(&customer, reads, vars.clone()).await,
        app.gql_as(&admin, reads, vars.clone()).await,
    ] {
        let data = response.data();
        assert_eq!(data["products"]["totalCount"], 0);
        assert_eq!(data["all"]["nodes"], json!([{ "name": "Teapot" }]));
        assert_eq!(
            data["category"]["products"]["nodes"],
            json!([{ "name": "Teapot" }])
        );
    }
    for response in [
        app.gql(reads, vars.clone()).await,
        app.gql_as(&customer, reads, vars.clone()).await,
    ] {
        let data = response.data();
        assert_eq!(data["product"], Value::Null);
        assert_eq!(data["bySlug"], Value::Null);
        assert_eq!(data["node"], Value::Null);
    }
    let as_admin = app.gql_as(&admin, reads, vars.clone()).await;
    assert_eq!(as_admin.data()["product"]["id"], json!(id));
    assert_eq!(as_admin.data()["bySlug"]["id"], json!(id));
    assert_eq!(as_admin.data()["node"]["id"], json!(id));
    let with_archived = app
        .gql_as(
            &admin,
            "{ products(filter: { includeArchived: true }, sortKey: NAME) { totalCount nodes { name archived } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        with_archived.data()["products"],
        json!({ "totalCount": 2, "nodes": [{ "name": "Kettle", "archived": true }, { "name": "Teapot", "archived": false }] })
    );

    let restored = update_product(&app, &admin, &id, json!({ "archived": false })).await;

    assert_eq!(restored["archived"], false);
    let visible = app.gql_as(&customer, reads, vars).await;
    assert_eq!(visible.data()["product"]["id"], json!(id));
    assert_eq!(visible.data()["products"]["totalCount"], 1);
}

#[tokio::test]
async fn only_admins_may_include_archived_products() {
    let app = spawn_app().await;
    let customer = app.register("alice").await;
    let vars = json!({ "filter": { "includeArchived": true } });

    let as_customer = products(&app, Some(&customer), vars.clone()).await;
    let anonymous = products(&app, None, vars).await;
    let explicit_false = products(
        &app,
        Some(&customer),
        json!({ "filter": { "includeArchived": false } }),
    )
    .await;

    assert_eq!(as_customer.code(), "FORBIDDEN");
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert_eq!(explicit_false.data()["products"]["totalCount"], 0);
}

// ---------------------------------------------------------------------------------------
// SQL statements per request
// ---------------------------------------------------------------------------------------

/// How many SQL statements one anonymous request costs, after checking it succeeded.
async fn statements_for(app: &TestApp, query: &str) -> u64 {
    let before = app.statements();
    let response = app.gql(query, json!({})).await;
    response.data();
    app.statements() - before
}

#[tokio::test]
async fn a_page_of_products_with_their_category_and_its_parent_costs_the_same_few_statements_at_any_size()
 {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let mut leaves = Vec::new();
    for root in ["Electronics", "Home", "Garden"] {
        let root = create_category(&app, &admin, json!({ "name": root })).await;
        for child in ["A", "B"] {
            let name = format!("{} {child}", root["name"].as_str().expect("a name"));
            leaves.push(
                create_category(
                    &app,
                    &admin,
                    json!({ "name": name, "parentId": id_of(&root) }),
                )
                .await,
            );
        }
    }
    for i in 0..60 {
        create_product(&app, &admin, json!({ "name": format!("Product {i}"), "categoryId": id_of(&leaves[i % leaves.len()]) })).await;
    }
    let query = |first: usize| {
        format!(
            "{{ products(first: {first}) {{ edges {{ node {{ category {{ parent {{ name }} }} }} }} }} }}"
        )
    };

    let small = statements_for(&app, &query(5)).await;
    let large = statements_for(&app, &query(50)).await;

    assert_eq!(small, large, "the statement count grows with the page size");
    assert!(large <= 4, "{large} statements for one page");
    let page = app.gql(&query(50), json!({})).await;
    let parents: HashSet<&str> = page.data()["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            e["node"]["category"]["parent"]["name"]
                .as_str()
                .expect("a parent")
        })
        .collect();
    assert_eq!(parents, HashSet::from(["Electronics", "Home", "Garden"]));
}

#[tokio::test]
async fn a_product_grid_reads_the_categories_in_the_same_statement_as_the_page() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let lamps = create_category(&app, &admin, json!({ "name": "Lamps" })).await;
    let desks = create_category(&app, &admin, json!({ "name": "Desks" })).await;
    for (i, category) in [&lamps, &desks, &lamps].into_iter().enumerate() {
        create_product(
            &app,
            &admin,
            json!({ "name": format!("Product {i}"), "categoryId": id_of(category) }),
        )
        .await;
    }
    create_product(&app, &admin, json!({ "name": "Uncategorised" })).await;

    for grid in [
        "{ products(first: 10) { nodes { name category { name } } } }",
        "{ products(first: 10) { edges { node { name category { name } } } } }",
    ] {
        assert_eq!(statements_for(&app, grid).await, 1, "{grid}");
        let page = app.gql(grid, json!({})).await;
        let products = &page.data()["products"];
        let nodes: Vec<&Value> = match products["nodes"].as_array() {
            Some(nodes) => nodes.iter().collect(),
            None => products["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|edge| &edge["node"])
                .collect(),
        };
        let categories: Vec<(&str, &Value)> = nodes
            .iter()
            .map(|n| (n["name"].as_str().expect("a name"), &n["category"]["name"]))
            .collect();
        assert_eq!(
            categories,
            [
                ("Product 0", &json!("Lamps")),
                ("Product 1", &json!("Desks")),
                ("Product 2", &json!("Lamps")),
                ("Uncategorised", &Value::Null),
            ]
        );
    }
}

#[tokio::test]
async fn a_first_page_by_relevance_counts_all_matches_in_its_own_statement_and_later_pages_agree() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for name in [
        "Desk lamp",
        "Floor lamp",
        "Lamp shade",
        "Oak desk",
        "Wall lamp",
        "Rug",
    ] {
        create_product(&app, &admin, json!({ "name": name })).await;
    }
    let query = |filter: Value, after: Value| {
        let app = &app;
        async move {
            let variables = json!({ "filter": filter, "after": after });
            let query = "query($filter: ProductFilter, $after: String) { \
                products(first: 2, after: $after, filter: $filter, sortKey: RELEVANCE) \
                { totalCount nodes { name } pageInfo { endCursor } } }";
            app.gql(query, variables).await.data()["products"].clone()
        }
    };
    // Narrowed by more than the search, so both databases read it with the general query.
    let lamps = json!({ "search": "lamp", "inStock": true });

    let first = query(lamps.clone(), Value::Null).await;
    assert_eq!(first["totalCount"], 4);
    // PostgreSQL counts the matches while it ranks them (SQLite's bm25() cannot share a
    // query with a window function).
    let before = app.statements();
    query(lamps.clone(), Value::Null).await;
    let expected = match app.db.get_database_backend() {
        DbBackend::Postgres => 1,
        _ => 2,
    };
    assert_eq!(app.statements() - before, expected);
    let second = query(lamps.clone(), first["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(second["totalCount"], 4);
    assert_eq!(second["nodes"].as_array().map(Vec::len), Some(2));
    let nothing = query(
        json!({ "search": "zeppelin", "inStock": true }),
        Value::Null,
    )
    .await;
    assert_eq!(nothing["totalCount"], 0);
    assert_eq!(nothing["nodes"], json!([]));
}

#[tokio::test]
async fn a_search_box_page_costs_the_same_two_statements_at_any_size() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let lamps = create_category(&app, &admin, json!({ "name": "Lamps" })).await;
    for i in 0..30 {
        let input = json!({ "name": format!("Lamp {i}"), "categoryId": id_of(&lamps) });
        create_product(&app, &admin, input).await;
    }
    let query = |first: usize| {
        format!(
            "{{ products(first: {first}, filter: {{ search: \"lamp\" }}, sortKey: RELEVANCE) \
             {{ totalCount nodes {{ name category {{ name }} }} }} }}"
        )
    };
    // Once, so that the products' creation is indexed before the counting.
    app.gql(&query(1), json!({})).await.data();

    let small = statements_for(&app, &query(5)).await;
    let large = statements_for(&app, &query(25)).await;

    // One look for changes the index has not seen, one read of the page's products
    // with their categories.
    assert_eq!((small, large), (2, 2));
    let page = app.gql(&query(25), json!({})).await;
    assert_eq!(page.data()["products"]["totalCount"], 30);
    assert_eq!(
        page.data()["products"]["nodes"][24]["category"]["name"],
        "Lamps"
    );
}

#[tokio::test]
async fn the_search_box_sees_every_change_to_what_it_searches_at_once() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let ranked = |text: &'static str| {
        let app = &app;
        async move {
            let mut found = names(app, json!({ "search": text }), "RELEVANCE").await;
            found.sort();
            found
        }
    };
    let teapot = create_product(&app, &admin, json!({ "name": "Teapot", "sku": "TP-1" })).await;
    let cup = create_product(&app, &admin, json!({ "name": "Tea cup" })).await;
    assert_eq!(ranked("tea").await, ["Tea cup", "Teapot"]);

    update_product(
        &app,
        &admin,
        &id_of(&teapot),
        json!({ "description": "Cast iron." }),
    )
    .await;
    assert_eq!(ranked("iron").await, ["Teapot"]);
    update_product(&app, &admin, &id_of(&cup), json!({ "archived": true })).await;
    assert_eq!(ranked("tea").await, ["Teapot"]);
    update_product(&app, &admin, &id_of(&cup), json!({ "archived": false })).await;
    assert_eq!(ranked("cup").await, ["Tea cup"]);
    update_product(&app, &admin, &id_of(&teapot), json!({ "sku": "KETTLE-9" })).await;
    assert_eq!(ranked("tp").await, Vec::<String>::new());
    assert_eq!(ranked("kettle").await, ["Teapot"]);
    // A product without orders is deleted, not archived.
    let deleted = app
        .gql_as(
            &admin,
            "mutation($id: ID!) { deleteProduct(id: $id) }",
            json!({ "id": id_of(&cup) }),
        )
        .await;
    assert_eq!(deleted.data()["deleteProduct"], true);
    assert_eq!(ranked("tea").await, ["Teapot"]);
}

/// The search index follows the trail of changes each search; a change committed after
/// a search looked, by a transaction that began before a later change (which that search
/// did see), must still be found: on PostgreSQL transactions commit out of order.
#[tokio::test]
async fn a_change_that_commits_after_a_later_one_is_still_found_by_the_search_box() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let ranked = |text: &'static str| {
        let app = &app;
        async move { names(app, json!({ "search": text }), "RELEVANCE").await }
    };
    let slow = create_product(&app, &admin, json!({ "name": "Anvil" })).await;
    let quick = create_product(&app, &admin, json!({ "name": "Hammer" })).await;
    let slow_id = crate::store::db_id(&id_of(&slow));

    // Renamed in a transaction still open while another rename commits and a search
    // looks at the trail.
    let txn = app.db.begin().await.expect("begin");
    product::Entity::update_many()
        .col_expr(product::Column::Name, Expr::value("Bellows"))
        .filter(product::Column::Id.eq(slow_id))
        .exec(&txn)
        .await
        .expect("rename in the open transaction");
    // SQLite has one writer at a time: there the other rename would wait for this
    // transaction, so only the search looks meanwhile.
    if app.db.get_database_backend() == DbBackend::Postgres {
        update_product(&app, &admin, &id_of(&quick), json!({ "name": "Mallet" })).await;
        assert_eq!(ranked("mallet").await, ["Mallet"]);
    } else {
        assert_eq!(ranked("hammer").await, ["Hammer"]);
    }
    assert_eq!(ranked("anvil").await, ["Anvil"], "not committed yet");
    txn.commit().await.expect("commit");

    assert_eq!(ranked("bellows").await, ["Bellows"]);
    assert_eq!(ranked("anvil").await, Vec::<String>::new());
}

/// Every field of a product that a page reads or leaves out depending on the selection.
const PRODUCT_FIELDS: &str = "id name slug description sku price { amount } stock \
    category { name } imageUrls options { name values } archived createdAt updatedAt";

#[tokio::test]
async fn a_page_shows_every_field_of_its_products_as_the_product_itself_does_in_one_statement() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let lamps = create_category(&app, &admin, json!({ "name": "Lamps" })).await;
    for (name, category) in [
        ("Brass desk lamp", Some(&lamps)),
        ("Oak desk", None),
        ("Steel floor lamp", Some(&lamps)),
    ] {
        let mut input = json!({
            "name": name,
            "description": format!("{name}, made to last."),
            "imageUrls": [format!("https://cdn.example.com/{}.png", name.len())],
        });
        if let Some(category) = category {
            input["categoryId"] = json!(id_of(category));
        }
        create_product(&app, &admin, input).await;
    }
    let as_itself = |id: String| {
        let app = &app;
        async move {
            let query = format!("query($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}");
            app.gql(&query, json!({ "id": id })).await.data()["product"].clone()
        }
    };

    // A page that shows the details reads them with its rows; one that does not, reads
    // only the cards. Either way, with categories, in one statement.
    let grid = format!("{{ products(first: 10) {{ nodes {{ {PRODUCT_FIELDS} }} }} }}");
    assert_eq!(statements_for(&app, &grid).await, 1);
    let cards = "{ products(first: 10) { nodes { id name price { amount } category { name } } } }";
    assert_eq!(statements_for(&app, cards).await, 1);

    // The general query, SQLite's search plan, and the general query ranked by relevance.
    for filter in [
        json!({}),
        json!({ "search": "lamp" }),
        json!({ "search": "lamp", "inStock": true }),
    ] {
        let query = format!(
            "query($filter: ProductFilter) {{ products(first: 10, filter: $filter, sortKey: RELEVANCE) \
             {{ nodes {{ {PRODUCT_FIELDS} }} }} }}"
        );
        let page = app.gql(&query, json!({ "filter": filter })).await;
        let nodes = page.data()["products"]["nodes"]
            .as_array()
            .expect("nodes")
            .clone();
        assert!(!nodes.is_empty(), "{filter}: nothing listed");
        for node in nodes {
            assert_eq!(node, as_itself(id_of(&node)).await, "{filter}");
        }
    }
}

#[tokio::test]
async fn walking_the_category_tree_costs_one_statement_per_level_however_wide_it_is() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let query = "{ categories { children { children { name } } } }";
    let root = create_category(&app, &admin, json!({ "name": "Root 0" })).await;
    let child = create_category(
        &app,
        &admin,
        json!({ "name": "Child 0", "parentId": id_of(&root) }),
    )
    .await;
    create_category(
        &app,
        &admin,
        json!({ "name": "Leaf 0", "parentId": id_of(&child) }),
    )
    .await;
    let narrow = statements_for(&app, query).await;
    for r in 1..4 {
        let root = create_category(&app, &admin, json!({ "name": format!("Root {r}") })).await;
        for c in 0..3 {
            let child = create_category(
                &app,
                &admin,
                json!({ "name": format!("Child {r}{c}"), "parentId": id_of(&root) }),
            )
            .await;
            for l in 0..3 {
                create_category(
                    &app,
                    &admin,
                    json!({ "name": format!("Leaf {r}{c}{l}"), "parentId": id_of(&child) }),
                )
                .await;
            }
        }
    }

    let wide = statements_for(&app, query).await;

    assert_eq!(narrow, wide, "the statement count grows with the tree");
    assert!(wide <= 3, "{wide} statements for three levels");
    let tree = app.gql(query, json!({})).await;
    let leaves: usize = tree.data()["categories"]
        .as_array()
        .expect("roots")
        .iter()
        .flat_map(|r| r["children"].as_array().expect("children"))
        .map(|c| c["children"].as_array().expect("children").len())
        .sum();
    assert_eq!(leaves, 1 + 27);
}

/// A cursor stays usable after its product leaves the catalog, and the page read from it
/// says whether anything is still on the other side of it: what is there, not the page.
#[tokio::test]
async fn a_cursor_whose_product_was_archived_still_tells_what_is_on_its_other_side() {
    let app = spawn_app().await;
    let admin = app.admin("admin").await;
    let mut ids = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let product = create_product(&app, &admin, json!({ "name": name, "price": "1.00" })).await;
        ids.push(id_of(&product));
    }
    let show_only = async |visible: &[usize]| {
        for (index, id) in ids.iter().enumerate() {
            let archived = !visible.contains(&index);
            update_product(&app, &admin, id, json!({ "archived": archived })).await;
        }
    };
    // Cursors at B (the end of the first page) and at C (the start of the last).
    let first = Page::of(&products(&app, None, json!({ "first": 2 })).await);
    let last = Page::of(&products(&app, None, json!({ "last": 2 })).await);

    show_only(&[2]).await;
    let after_b = Page::of(&products(&app, None, json!({ "first": 2, "after": first.end })).await);
    show_only(&[0, 1]).await;
    let before_c =
        Page::of(&products(&app, None, json!({ "last": 2, "before": last.start })).await);

    assert_eq!(after_b.ids, [ids[2].clone()]);
    assert!(
        !after_b.has_previous,
        "A and B, up to the cursor, are archived"
    );
    assert_eq!(before_c.ids, [ids[0].clone(), ids[1].clone()]);
    assert!(
        !before_c.has_next,
        "C and D, from the cursor on, are archived"
    );
}
