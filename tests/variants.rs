//! Product variants (issue 13): sizes and colours with their own price, stock and sku.
//! Every product has at least one variant; `createProduct` makes a "Default" one, options
//! give the variants their titles, the product's price, stock, inStock and sku are those of
//! its active variants, and carts, checkout and order lines work per variant. The rules
//! are those of notes/variants-design.md; the names those of the (v2) contract.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::{
    concurrency::outcomes,
    store::{
        CART_VARIANT_FIELDS, Line, ORDER_VARIANT_FIELDS, PRODUCT_VARIANT_FIELDS, Shop, VISA,
        missing_product, missing_variant, open_shop, text, variant_lines,
    },
    support::{Gql, Session},
};

// ---------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------

/// A list of `SelectedOptionInput`s from (option name, value) pairs.
fn chosen(selected: &[(&str, &str)]) -> Value {
    Value::Array(
        selected
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect(),
    )
}

/// A `CreateVariantInput` choosing `selected`, at `price` with `stock` units.
fn variant_input(selected: &[(&str, &str)], price: &str, stock: i32) -> Value {
    json!({ "selectedOptions": chosen(selected), "price": price, "stock": stock })
}

/// `base` with one field replaced.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut input = base.clone();
    input[key] = value;
    input
}

/// The titles of a product's variants, in their order.
fn titles(product: &Value) -> Vec<String> {
    product["variants"]
        .as_array()
        .unwrap_or_else(|| panic!("no variants in {product:#}"))
        .iter()
        .map(|variant| text(&variant["title"]).to_owned())
        .collect()
}

/// The IDs of a product's variants, in their order.
fn ids(product: &Value) -> Vec<String> {
    product["variants"]
        .as_array()
        .unwrap_or_else(|| panic!("no variants in {product:#}"))
        .iter()
        .map(|variant| text(&variant["id"]).to_owned())
        .collect()
}

/// A price range as `(min, max)` amounts.
fn price_range(product: &Value) -> (&str, &str) {
    (
        text(&product["priceRange"]["min"]["amount"]),
        text(&product["priceRange"]["max"]["amount"]),
    )
}

/// Asserts that `response` was refused with `code`, naming `field`.
fn assert_refused(response: &Gql, code: &str, field: &str, what: &str) {
    assert_eq!(response.code(), code, "{what}: {:#}", response.body);
    assert_eq!(response.field(), field, "{what}: {:#}", response.body);
}

/// Asserts that `response` is OUT_OF_STOCK for `variant` of `product`, `available` left.
fn assert_out_of_stock(response: &Gql, product: &str, variant: &str, available: i64) {
    let error = response.error();
    assert_eq!(error["extensions"]["code"], "OUT_OF_STOCK", "{error:#}");
    assert_eq!(error["extensions"]["productId"], product, "{error:#}");
    assert_eq!(error["extensions"]["variantId"], variant, "{error:#}");
    assert_eq!(error["extensions"]["available"], available, "{error:#}");
}

/// A T-shirt sized by the option "Size": S (the variant `createProduct` made, sku TS-S) at
/// 10.00 with 5 in stock, M (TS-M) at 12.00 with 2, L (TS-L) at 15.00 with none.
struct Shirt {
    product: String,
    s: String,
    m: String,
    l: String,
}

async fn shirt(shop: &Shop) -> Shirt {
    let product = shop.product("T-shirt", "10.00", 5).await;
    shop.change_product(&product, json!({ "sku": "ts-s" }))
        .await;
    shop.set_options(
        &product,
        json!([{ "name": "Size", "values": ["S", "M", "L"] }]),
    )
    .await
    .data();
    let s = shop.variant_ids(&product).await.remove(0);
    let m_input = variant_input(&[("Size", "M")], "12.00", 2);
    let m = shop
        .variant(&product, with(&m_input, "sku", json!("ts-m")))
        .await;
    let l_input = variant_input(&[("Size", "L")], "15.00", 0);
    let l = shop
        .variant(&product, with(&l_input, "sku", json!("ts-l")))
        .await;
    Shirt { product, s, m, l }
}

/// A hoodie with two options, Size [S, M] and Colour [Red, Blue], and one variant, "S / Red"
/// (sku HD-SR), at 40.00 with 3 in stock.
struct Hoodie {
    product: String,
    s_red: String,
}

async fn hoodie(shop: &Shop) -> Hoodie {
    let product = shop.product("Hoodie", "40.00", 3).await;
    shop.change_product(&product, json!({ "sku": "hd-sr" }))
        .await;
    shop.set_options(
        &product,
        json!([
            { "name": "Size", "values": ["S", "M"] },
            { "name": "Colour", "values": ["Red", "Blue"] },
        ]),
    )
    .await
    .data();
    let s_red = shop.variant_ids(&product).await.remove(0);
    Hoodie { product, s_red }
}

/// The cart mutation `field` on `line` as `who`, answering [`CART_VARIANT_FIELDS`].
async fn cart_call(
    shop: &Shop,
    who: &Session,
    field: &str,
    line: Line<'_>,
    quantity: Option<i32>,
) -> Gql {
    shop.cart_call(who, field, line, quantity, CART_VARIANT_FIELDS)
        .await
}

/// `addToCart` of `quantity` of `line`.
async fn add(shop: &Shop, who: &Session, line: Line<'_>, quantity: i32) -> Gql {
    cart_call(shop, who, "addToCart", line, Some(quantity)).await
}

/// `addToCart` of `quantity` of `variant`, which must succeed.
async fn put(shop: &Shop, who: &Session, variant: &str, quantity: i32) {
    add(shop, who, Line::variant(variant), quantity)
        .await
        .data();
}

/// The customer's cart with [`CART_VARIANT_FIELDS`].
async fn cart(shop: &Shop, who: &Session) -> Value {
    shop.gql_as(
        who,
        &format!("{{ cart {{ {CART_VARIANT_FIELDS} }} }}"),
        json!({}),
    )
    .await
    .data()["cart"]
        .clone()
}

/// Checks out the customer's cart with the test card; answers the order with
/// [`ORDER_VARIANT_FIELDS`].
async fn buy_cart(shop: &Shop, who: &Session) -> Value {
    shop.checkout_selecting(who, VISA, None, ORDER_VARIANT_FIELDS)
        .await
        .data()["checkout"]
        .clone()
}

/// `order(id:)` as `who`, with [`ORDER_VARIANT_FIELDS`].
async fn order(shop: &Shop, who: &Session, id: &str) -> Value {
    shop.gql_as(
        who,
        &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_VARIANT_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await
    .data()["order"]
        .clone()
}

/// How many products exist, archived ones included.
async fn product_count(shop: &Shop) -> i64 {
    shop.gql_as(
        &shop.admin,
        "{ products(filter: { includeArchived: true }) { totalCount } }",
        json!({}),
    )
    .await
    .data()["products"]["totalCount"]
        .as_i64()
        .expect("a count")
}

// ---------------------------------------------------------------------------------------
// Admin: the default variant, options and the product's figures
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_product_makes_one_default_variant_of_its_price_stock_sku_and_compare_at_price() {
    let shop = open_shop().await;

    let response = shop
        .gql_as(
            &shop.admin,
            &format!(
                "mutation($input: CreateProductInput!) {{ createProduct(input: $input) {{ {PRODUCT_VARIANT_FIELDS} }} }}"
            ),
            json!({ "input": {
                "name": "Mug",
                "description": "",
                "price": "19.99",
                "stock": 7,
                "sku": "mug-1",
                "compareAtPrice": "25",
                "imageUrls": ["https://cdn.example.com/mug.png"],
            }}),
        )
        .await;

    let product = &response.data()["createProduct"];
    assert_eq!(product["options"], json!([]));
    assert_eq!(
        product["variants"],
        json!([{
            "id": product["variants"][0]["id"],
            "title": "Default",
            "sku": "MUG-1",
            "selectedOptions": [],
            "price": { "amount": "19.99", "currencyCode": "USD" },
            "compareAtPrice": { "amount": "25.00" },
            "stock": 7,
            "inStock": true,
            // The images stay on the product; a variant without images of its own shows
            // the product's.
            "imageUrls": [],
        }])
    );
    assert_eq!(
        product["imageUrls"],
        json!(["https://cdn.example.com/mug.png"])
    );
    assert_eq!(product["price"]["amount"], "19.99");
    assert_eq!(product["stock"], 7);
    assert_eq!(product["inStock"], true);
    assert_eq!(product["sku"], "MUG-1");
    assert_eq!(price_range(product), ("19.99", "19.99"));
    assert_eq!(shop.product_view(text(&product["id"])).await, *product);

    // Without a sku or a compare-at price, the default variant has neither.
    let tea = shop.product("Tea", "4.20", 0).await;
    let tea = shop.product_view(&tea).await;
    assert_eq!(titles(&tea), ["Default"]);
    assert_eq!(tea["variants"][0]["sku"], Value::Null);
    assert_eq!(tea["variants"][0]["compareAtPrice"], Value::Null);
    assert_eq!(tea["variants"][0]["inStock"], false);
    assert_eq!(tea["inStock"], false);
}

#[tokio::test]
async fn a_new_option_gives_every_variant_its_first_value_and_new_variants_fill_in_the_rest() {
    let shop = open_shop().await;
    let product = shop.product("T-shirt", "10.00", 5).await;
    let default = shop.variant_ids(&product).await.remove(0);

    let sized = shop
        .set_options(
            &product,
            json!([{ "name": "Size", "values": ["S", "M", "L"] }]),
        )
        .await;

    let sized = &sized.data()["setProductOptions"];
    assert_eq!(
        sized["options"],
        json!([{ "name": "Size", "values": ["S", "M", "L"] }])
    );
    // The lone "Default" variant is the same variant, now size S.
    assert_eq!(ids(sized), [default.as_str()]);
    assert_eq!(titles(sized), ["S"]);
    assert_eq!(
        sized["variants"][0]["selectedOptions"],
        json!([{ "name": "Size", "value": "S" }])
    );
    assert_eq!(sized["variants"][0]["price"]["amount"], "10.00");
    assert_eq!(sized["variants"][0]["stock"], 5);

    let m = shop
        .try_variant(&product, variant_input(&[("Size", "M")], "12.00", 2))
        .await;
    let m = &m.data()["createProductVariant"];
    assert_eq!(m["title"], "M");
    assert_eq!(
        m["selectedOptions"],
        json!([{ "name": "Size", "value": "M" }])
    );
    assert_eq!(
        m["price"],
        json!({ "amount": "12.00", "currencyCode": "USD" })
    );
    assert_eq!(m["compareAtPrice"], Value::Null);
    assert_eq!(m["sku"], Value::Null);
    assert_eq!(m["stock"], 2);
    assert_eq!(m["inStock"], true);
    assert_eq!(m["imageUrls"], json!([]));
    assert_eq!(m["product"]["id"], product.as_str());
    let l = shop
        .try_variant(&product, variant_input(&[("Size", "L")], "15.00", 0))
        .await;
    assert_eq!(l.data()["createProductVariant"]["inStock"], false);

    let view = shop.product_view(&product).await;
    assert_eq!(titles(&view), ["S", "M", "L"]);
    assert_eq!(ids(&view)[0], default);

    // A second option: every variant takes its first value, and titles join the values
    // in option order.
    let coloured = shop
        .set_options(
            &product,
            json!([
                { "name": "Size", "values": ["S", "M", "L"] },
                { "name": "Colour", "values": ["Red", "Blue"] },
            ]),
        )
        .await;
    let coloured = &coloured.data()["setProductOptions"];
    assert_eq!(titles(coloured), ["S / Red", "M / Red", "L / Red"]);
    assert_eq!(
        coloured["variants"][1]["selectedOptions"],
        json!([{ "name": "Size", "value": "M" }, { "name": "Colour", "value": "Red" }])
    );
    assert_eq!(ids(coloured), ids(&view));
}

#[tokio::test]
async fn a_products_price_stock_in_stock_and_sku_are_those_of_its_active_variants() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;

    let view = shop.product_view(&shirt.product).await;
    assert_eq!(view["price"]["amount"], "10.00", "the lowest price");
    assert_eq!(view["stock"], 7, "the sum of the stocks");
    assert_eq!(view["inStock"], true);
    assert_eq!(view["sku"], "TS-S", "the first variant's sku");
    assert_eq!(price_range(&view), ("10.00", "15.00"));
    assert_eq!(
        shop.stock(&shirt.product).await,
        7,
        "kept on the product row"
    );

    shop.change_variant(&shirt.m, json!({ "price": "8.00" }))
        .await
        .data();
    shop.change_variant(&shirt.l, json!({ "price": "30.00" }))
        .await
        .data();
    let repriced = shop.product_view(&shirt.product).await;
    assert_eq!(repriced["price"]["amount"], "8.00");
    assert_eq!(price_range(&repriced), ("8.00", "30.00"));

    shop.change_variant(&shirt.s, json!({ "stock": 0 }))
        .await
        .data();
    shop.change_variant(&shirt.m, json!({ "stock": 0 }))
        .await
        .data();
    let sold_out = shop.product_view(&shirt.product).await;
    assert_eq!(sold_out["stock"], 0);
    assert_eq!(sold_out["inStock"], false);
    assert_eq!(shop.stock(&shirt.product).await, 0);

    shop.change_variant(&shirt.l, json!({ "stock": 4 }))
        .await
        .data();
    assert_eq!(shop.product_view(&shirt.product).await["inStock"], true);

    // Without its first variant, the product's sku is the next one's.
    shop.delete_variant(&shirt.s).await.data();
    let rest = shop.product_view(&shirt.product).await;
    assert_eq!(titles(&rest), ["M", "L"]);
    assert_eq!(rest["sku"], "TS-M");
    assert_eq!(rest["price"]["amount"], "8.00");
    assert_eq!(rest["stock"], 4);
    assert_eq!(shop.stock(&shirt.product).await, 4);
}

// ---------------------------------------------------------------------------------------
// Admin: setProductOptions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_options_are_bad_user_input_on_options_and_change_nothing() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;
    let size = json!({ "name": "Size", "values": ["S", "M", "L"] });
    let mut many_values: Vec<String> = ["S", "M", "L"].map(String::from).to_vec();
    many_values.extend((0..98).map(|i| format!("X{i}")));
    let cases = [
        (
            "four options",
            json!([size, { "name": "Colour", "values": ["Red"] }, { "name": "Fit", "values": ["Slim"] }, { "name": "Sleeve", "values": ["Long"] }]),
        ),
        (
            "101 values",
            json!([{ "name": "Size", "values": many_values }]),
        ),
        (
            "names equal ignoring case",
            json!([size, { "name": "size", "values": ["XL"] }]),
        ),
        (
            "values equal ignoring case",
            json!([{ "name": "Size", "values": ["S", "M", "L", "m"] }]),
        ),
        (
            "an empty name",
            json!([size, { "name": "", "values": ["Red"] }]),
        ),
        (
            "a blank name",
            json!([size, { "name": "   ", "values": ["Red"] }]),
        ),
        (
            "an empty value",
            json!([{ "name": "Size", "values": ["S", "M", "L", ""] }]),
        ),
        (
            "a blank value",
            json!([{ "name": "Size", "values": ["S", "M", "L", "  "] }]),
        ),
        (
            "an option without values",
            json!([size, { "name": "Colour", "values": [] }]),
        ),
        (
            "a name of 51 characters",
            json!([size, { "name": "n".repeat(51), "values": ["Red"] }]),
        ),
        (
            "a value of 51 characters",
            json!([{ "name": "Size", "values": ["S", "M", "L", "v".repeat(51)] }]),
        ),
    ];
    let before = shop.product_view(&shirt.product).await;

    for (case, options) in cases {
        let response = shop.set_options(&shirt.product, options).await;

        assert_refused(&response, "BAD_USER_INPUT", "options", case);
        assert_eq!(shop.product_view(&shirt.product).await, before, "{case}");
    }
}

#[tokio::test]
async fn three_options_of_a_hundred_values_of_fifty_characters_are_accepted() {
    let shop = open_shop().await;
    let product = shop.product("Poster", "5.00", 1).await;
    let option = |letter: char| {
        json!({
            "name": format!("{letter}").repeat(50),
            "values": (0..100).map(|i| format!("{letter}{i:0>49}")).collect::<Vec<_>>(),
        })
    };

    let response = shop
        .set_options(&product, json!([option('a'), option('b'), option('c')]))
        .await;

    let product = &response.data()["setProductOptions"];
    assert_eq!(product["options"].as_array().map(Vec::len), Some(3));
    for option in product["options"].as_array().expect("options") {
        assert_eq!(option["values"].as_array().map(Vec::len), Some(100));
    }
    let first = |letter: char| format!("{letter}{:0>49}", 0);
    assert_eq!(
        titles(product),
        [format!("{} / {} / {}", first('a'), first('b'), first('c'))]
    );
}

#[tokio::test]
async fn options_of_an_unknown_or_archived_product_are_not_found() {
    let shop = open_shop().await;
    let archived = shop.product("Old shirt", "10.00", 1).await;
    shop.change_product(&archived, json!({ "archived": true }))
        .await;
    let options = json!([{ "name": "Size", "values": ["S"] }]);

    for product in [missing_product(), archived.clone()] {
        let response = shop.set_options(&product, options.clone()).await;

        assert_eq!(response.code(), "NOT_FOUND", "{product}");
    }
    assert_eq!(shop.product_view(&archived).await["options"], json!([]));
}

#[tokio::test]
async fn values_can_be_added_and_unused_ones_removed_but_removing_a_used_value_is_a_conflict() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;

    let with_xl = shop
        .set_options(
            &shirt.product,
            json!([{ "name": "Size", "values": ["S", "M", "L", "XL"] }]),
        )
        .await;
    assert_eq!(
        with_xl.data()["setProductOptions"]["options"],
        json!([{ "name": "Size", "values": ["S", "M", "L", "XL"] }])
    );
    assert_eq!(
        titles(&with_xl.data()["setProductOptions"]),
        ["S", "M", "L"]
    );

    let without_xl = shop
        .set_options(
            &shirt.product,
            json!([{ "name": "Size", "values": ["S", "M", "L"] }]),
        )
        .await;
    assert_eq!(
        without_xl.data()["setProductOptions"]["options"],
        json!([{ "name": "Size", "values": ["S", "M", "L"] }])
    );

    // L is the value of a variant: it cannot go while that variant is there.
    let before = shop.product_view(&shirt.product).await;
    let without_l = shop
        .set_options(
            &shirt.product,
            json!([{ "name": "Size", "values": ["S", "M"] }]),
        )
        .await;
    assert_refused(&without_l, "CONFLICT", "options", "removing a used value");
    assert_eq!(shop.product_view(&shirt.product).await, before);

    shop.delete_variant(&shirt.l).await.data();
    let after_delete = shop
        .set_options(
            &shirt.product,
            json!([{ "name": "Size", "values": ["S", "M"] }]),
        )
        .await;
    assert_eq!(
        after_delete.data()["setProductOptions"]["options"],
        json!([{ "name": "Size", "values": ["S", "M"] }])
    );
}

#[tokio::test]
async fn options_and_values_are_matched_ignoring_case_and_keep_the_new_spelling() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;

    let respelled = shop
        .set_options(
            &shirt.product,
            json!([{ "name": "SIZE", "values": ["s", "m", "l"] }]),
        )
        .await;

    let product = &respelled.data()["setProductOptions"];
    assert_eq!(
        product["options"],
        json!([{ "name": "SIZE", "values": ["s", "m", "l"] }])
    );
    assert_eq!(ids(product), [shirt.s, shirt.m, shirt.l]);
    assert_eq!(titles(product), ["s", "m", "l"]);
    assert_eq!(
        product["variants"][1]["selectedOptions"],
        json!([{ "name": "SIZE", "value": "m" }])
    );
}

#[tokio::test]
async fn removing_an_option_that_would_leave_two_variants_alike_is_a_conflict() {
    let shop = open_shop().await;
    let hoodie = hoodie(&shop).await;
    let s_blue = shop
        .variant(
            &hoodie.product,
            variant_input(&[("Size", "S"), ("Colour", "Blue")], "40.00", 1),
        )
        .await;
    let before = shop.product_view(&hoodie.product).await;

    // Without Colour, both variants would be plain "S".
    let without_colour = shop
        .set_options(
            &hoodie.product,
            json!([{ "name": "Size", "values": ["S", "M"] }]),
        )
        .await;

    assert_refused(
        &without_colour,
        "CONFLICT",
        "options",
        "S / Red and S / Blue",
    );
    assert_eq!(shop.product_view(&hoodie.product).await, before);

    // Without Size they stay apart: Red and Blue.
    let without_size = shop
        .set_options(
            &hoodie.product,
            json!([{ "name": "Colour", "values": ["Red", "Blue"] }]),
        )
        .await;
    let product = &without_size.data()["setProductOptions"];
    assert_eq!(
        product["options"],
        json!([{ "name": "Colour", "values": ["Red", "Blue"] }])
    );
    assert_eq!(ids(product), [hoodie.s_red, s_blue]);
    assert_eq!(titles(product), ["Red", "Blue"]);
    assert_eq!(
        product["variants"][0]["selectedOptions"],
        json!([{ "name": "Colour", "value": "Red" }])
    );
}

#[tokio::test]
async fn a_product_of_one_variant_can_drop_all_its_options_and_is_default_again() {
    let shop = open_shop().await;
    let hoodie = hoodie(&shop).await;

    let plain = shop.set_options(&hoodie.product, json!([])).await;

    let product = &plain.data()["setProductOptions"];
    assert_eq!(product["options"], json!([]));
    assert_eq!(ids(product), [hoodie.s_red]);
    assert_eq!(titles(product), ["Default"]);
    assert_eq!(product["variants"][0]["selectedOptions"], json!([]));
}

// ---------------------------------------------------------------------------------------
// Admin: createProductVariant and updateProductVariant
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn selected_options_that_do_not_fit_the_product_are_bad_user_input_on_selected_options() {
    let shop = open_shop().await;
    let hoodie = hoodie(&shop).await;
    let cases = [
        (
            "an unknown option",
            chosen(&[("Size", "M"), ("Colour", "Blue"), ("Fit", "Slim")]),
        ),
        (
            "a value not in the option",
            chosen(&[("Size", "XL"), ("Colour", "Blue")]),
        ),
        ("a missing option", chosen(&[("Size", "M")])),
        (
            "an option given twice",
            chosen(&[("Size", "M"), ("size", "S"), ("Colour", "Blue")]),
        ),
        (
            "the same option and value twice",
            chosen(&[("Size", "M"), ("Size", "M"), ("Colour", "Blue")]),
        ),
        ("no options at all", json!([])),
    ];
    let before = shop.product_view(&hoodie.product).await;

    for (case, selected) in &cases {
        let input = json!({ "selectedOptions": selected, "price": "40.00", "stock": 1 });
        let created = shop.try_variant(&hoodie.product, input).await;
        let updated = shop
            .change_variant(&hoodie.s_red, json!({ "selectedOptions": selected }))
            .await;

        assert_refused(&created, "BAD_USER_INPUT", "selectedOptions", case);
        assert_refused(&updated, "BAD_USER_INPUT", "selectedOptions", case);
        assert_eq!(shop.product_view(&hoodie.product).await, before, "{case}");
    }

    // A product without options takes no selected options at all.
    let tea = shop.product("Tea", "4.20", 1).await;
    let sized_tea = shop
        .try_variant(&tea, variant_input(&[("Size", "S")], "4.20", 1))
        .await;
    assert_refused(
        &sized_tea,
        "BAD_USER_INPUT",
        "selectedOptions",
        "an option of a product without options",
    );
    assert_eq!(titles(&shop.product_view(&tea).await), ["Default"]);
}

#[tokio::test]
async fn option_names_are_matched_ignoring_case_and_answered_in_option_order() {
    let shop = open_shop().await;
    let hoodie = hoodie(&shop).await;

    let created = shop
        .try_variant(
            &hoodie.product,
            variant_input(&[("COLOUR", "Blue"), ("size", "M")], "42.00", 1),
        )
        .await;

    let variant = &created.data()["createProductVariant"];
    assert_eq!(variant["title"], "M / Blue");
    assert_eq!(
        variant["selectedOptions"],
        json!([{ "name": "Size", "value": "M" }, { "name": "Colour", "value": "Blue" }])
    );
    assert_eq!(
        titles(&shop.product_view(&hoodie.product).await),
        ["S / Red", "M / Blue"]
    );
}

#[tokio::test]
async fn a_combination_another_variant_has_is_a_conflict_on_selected_options() {
    let shop = open_shop().await;
    let hoodie = hoodie(&shop).await;
    let m_blue = shop
        .variant(
            &hoodie.product,
            variant_input(&[("Size", "M"), ("Colour", "Blue")], "42.00", 1),
        )
        .await;
    let before = shop.product_view(&hoodie.product).await;

    let again = shop
        .try_variant(
            &hoodie.product,
            variant_input(&[("Size", "M"), ("Colour", "Blue")], "50.00", 9),
        )
        .await;
    let the_first = shop
        .try_variant(
            &hoodie.product,
            variant_input(&[("size", "S"), ("colour", "Red")], "50.00", 9),
        )
        .await;
    let moved_onto_it = shop
        .change_variant(
            &m_blue,
            json!({ "selectedOptions": chosen(&[("Size", "S"), ("Colour", "Red")]) }),
        )
        .await;

    assert_refused(&again, "CONFLICT", "selectedOptions", "M / Blue twice");
    assert_refused(&the_first, "CONFLICT", "selectedOptions", "S / Red twice");
    assert_refused(
        &moved_onto_it,
        "CONFLICT",
        "selectedOptions",
        "M / Blue to S / Red",
    );
    assert_eq!(shop.product_view(&hoodie.product).await, before);

    // A product without options has room for one variant only: its default.
    let tea = shop.product("Tea", "4.20", 1).await;
    let second_default = shop
        .try_variant(
            &tea,
            json!({ "selectedOptions": [], "price": "5.00", "stock": 1 }),
        )
        .await;
    assert_refused(
        &second_default,
        "CONFLICT",
        "selectedOptions",
        "a second variant without options",
    );
    assert_eq!(titles(&shop.product_view(&tea).await), ["Default"]);
}

#[tokio::test]
async fn variant_prices_stocks_skus_and_images_follow_the_product_rules() {
    let shop = open_shop().await;
    let hoodie = hoodie(&shop).await;
    let valid = variant_input(&[("Size", "M"), ("Colour", "Blue")], "42.00", 1);
    let cases = [
        ("price", json!("-0.01")),
        ("price", json!("1.999")),
        ("price", json!("1000000.01")),
        ("price", json!("abc")),
        ("stock", json!(-1)),
        ("stock", json!(1_000_001)),
        ("sku", json!("")),
        ("sku", json!("a b")),
        ("sku", json!("s".repeat(65))),
        ("imageUrls", json!(["/relative.png"])),
        ("imageUrls", json!(["javascript:alert(1)"])),
        (
            "imageUrls",
            json!(vec!["https://cdn.example.com/a.png"; 21]),
        ),
    ];
    let before = shop.product_view(&hoodie.product).await;

    for (field, value) in cases {
        let what = format!("{field} = {value}");
        let created = shop
            .try_variant(&hoodie.product, with(&valid, field, value.clone()))
            .await;
        let updated = shop
            .change_variant(&hoodie.s_red, json!({ field: value }))
            .await;

        assert_refused(&created, "BAD_USER_INPUT", field, &format!("create {what}"));
        assert_refused(&updated, "BAD_USER_INPUT", field, &format!("update {what}"));
        assert_eq!(shop.product_view(&hoodie.product).await, before, "{what}");
    }

    // The edges of each rule are accepted.
    let edges = shop
        .try_variant(
            &hoodie.product,
            json!({
                "selectedOptions": chosen(&[("Size", "M"), ("Colour", "Blue")]),
                "price": "0",
                "stock": 1_000_000,
                "sku": "s".repeat(64),
                "imageUrls": vec!["https://cdn.example.com/a.png"; 20],
            }),
        )
        .await;
    let edges = &edges.data()["createProductVariant"];
    assert_eq!(edges["price"]["amount"], "0.00");
    assert_eq!(edges["stock"], 1_000_000);
    assert_eq!(edges["sku"], "S".repeat(64));
    assert_eq!(edges["imageUrls"].as_array().map(Vec::len), Some(20));
    let top = shop
        .change_variant(&hoodie.s_red, json!({ "price": "1000000.00", "stock": 0 }))
        .await;
    assert_eq!(
        top.data()["updateProductVariant"]["price"]["amount"],
        "1000000.00"
    );
    assert_eq!(top.data()["updateProductVariant"]["stock"], 0);
}

#[tokio::test]
async fn a_sku_any_variant_holds_is_a_conflict_on_sku_for_variants_and_products_alike() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;
    let hoodie = hoodie(&shop).await;
    let mug = shop.product("Mug", "8.00", 1).await;
    shop.change_product(&mug, json!({ "sku": "mug-1" })).await;
    let shirt_before = shop.product_view(&shirt.product).await;
    let hoodie_before = shop.product_view(&hoodie.product).await;
    let mug_before = shop.product_view(&mug).await;
    let new_variant = |sku: &str| {
        with(
            &variant_input(&[("Size", "M"), ("Colour", "Blue")], "42.00", 1),
            "sku",
            json!(sku),
        )
    };

    let refusals = [
        (
            "another product's default variant's sku",
            shop.try_variant(&hoodie.product, new_variant("MUG-1")).await,
        ),
        (
            "another product's second variant's sku, spelled differently",
            shop.try_variant(&hoodie.product, new_variant(" ts-m ")).await,
        ),
        (
            "a variant changed to another's sku",
            shop.change_variant(&hoodie.s_red, json!({ "sku": "ts-l" }))
                .await,
        ),
        (
            "a new product with a variant's sku",
            shop.gql_as(
                &shop.admin,
                "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
                json!({ "input": { "name": "Copy", "description": "", "price": "1.00", "stock": 1, "sku": "Ts-M" } }),
            )
            .await,
        ),
        (
            "a product changed to a variant's sku",
            shop.gql_as(
                &shop.admin,
                "mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }",
                json!({ "id": mug, "input": { "sku": "TS-L" } }),
            )
            .await,
        ),
    ];

    for (case, response) in &refusals {
        assert_refused(response, "CONFLICT", "sku", case);
    }
    assert_eq!(shop.product_view(&shirt.product).await, shirt_before);
    assert_eq!(shop.product_view(&hoodie.product).await, hoodie_before);
    assert_eq!(shop.product_view(&mug).await, mug_before);
    assert_eq!(product_count(&shop).await, 3);

    // A variant may keep its own sku, in another spelling.
    let kept = shop
        .change_variant(&shirt.m, json!({ "sku": "Ts-m" }))
        .await;
    assert_eq!(kept.data()["updateProductVariant"]["sku"], "TS-M");
}

#[tokio::test]
async fn a_compare_at_price_must_stay_above_the_price() {
    let shop = open_shop().await;

    for compare_at in ["19.99", "10.00"] {
        let response = shop
            .gql_as(
                &shop.admin,
                "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
                json!({ "input": { "name": "Mug", "description": "", "price": "19.99", "stock": 1, "compareAtPrice": compare_at } }),
            )
            .await;
        assert_refused(&response, "BAD_USER_INPUT", "compareAtPrice", compare_at);
    }
    assert_eq!(product_count(&shop).await, 0);

    let shirt = shirt(&shop).await;
    shop.set_options(
        &shirt.product,
        json!([{ "name": "Size", "values": ["S", "M", "L", "XL"] }]),
    )
    .await
    .data();
    let xl = variant_input(&[("Size", "XL")], "20.00", 1);
    for compare_at in ["20.00", "19.99"] {
        let response = shop
            .try_variant(
                &shirt.product,
                with(&xl, "compareAtPrice", json!(compare_at)),
            )
            .await;
        assert_refused(&response, "BAD_USER_INPUT", "compareAtPrice", compare_at);
    }
    let created = shop
        .try_variant(&shirt.product, with(&xl, "compareAtPrice", json!("20.01")))
        .await;
    let xl = text(&created.data()["createProductVariant"]["id"]).to_owned();
    assert_eq!(
        created.data()["createProductVariant"]["compareAtPrice"]["amount"],
        "20.01"
    );

    // A new price alone must stay below the compare-at price already set.
    let too_dear = shop.change_variant(&xl, json!({ "price": "20.01" })).await;
    assert_refused(
        &too_dear,
        "BAD_USER_INPUT",
        "compareAtPrice",
        "price up to it",
    );
    let equal = shop
        .change_variant(&xl, json!({ "compareAtPrice": "20.00" }))
        .await;
    assert_refused(
        &equal,
        "BAD_USER_INPUT",
        "compareAtPrice",
        "equal to the price",
    );
    let unchanged = shop.variant_view(&xl).await;
    assert_eq!(unchanged["price"]["amount"], "20.00");
    assert_eq!(unchanged["compareAtPrice"]["amount"], "20.01");

    let both = shop
        .change_variant(&xl, json!({ "price": "25.00", "compareAtPrice": "30.00" }))
        .await;
    assert_eq!(
        both.data()["updateProductVariant"]["price"]["amount"],
        "25.00"
    );
    assert_eq!(
        both.data()["updateProductVariant"]["compareAtPrice"]["amount"],
        "30.00"
    );

    // null clears it, and then any price goes.
    let cleared = shop
        .change_variant(&xl, json!({ "compareAtPrice": null }))
        .await;
    assert_eq!(
        cleared.data()["updateProductVariant"]["compareAtPrice"],
        Value::Null
    );
    let dearer = shop.change_variant(&xl, json!({ "price": "99.00" })).await;
    assert_eq!(
        dearer.data()["updateProductVariant"]["price"]["amount"],
        "99.00"
    );
}

#[tokio::test]
async fn updating_a_variant_changes_only_the_given_fields() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;
    shop.set_options(
        &shirt.product,
        json!([{ "name": "Size", "values": ["S", "M", "L", "XL"] }]),
    )
    .await
    .data();
    let before = shop.variant_view(&shirt.m).await;

    let restocked = shop.change_variant(&shirt.m, json!({ "stock": 9 })).await;

    let mut expected = before.clone();
    expected["stock"] = json!(9);
    assert_eq!(restocked.data()["updateProductVariant"], expected);

    let changed = shop
        .change_variant(
            &shirt.m,
            json!({
                "selectedOptions": chosen(&[("Size", "XL")]),
                "price": "13.50",
                "sku": "ts-xl",
                "imageUrls": ["https://cdn.example.com/xl.png"],
            }),
        )
        .await;

    let changed = &changed.data()["updateProductVariant"];
    assert_eq!(changed["id"], shirt.m.as_str());
    assert_eq!(changed["title"], "XL");
    assert_eq!(
        changed["selectedOptions"],
        json!([{ "name": "Size", "value": "XL" }])
    );
    assert_eq!(changed["price"]["amount"], "13.50");
    assert_eq!(changed["sku"], "TS-XL");
    assert_eq!(changed["stock"], 9);
    assert_eq!(
        changed["imageUrls"],
        json!(["https://cdn.example.com/xl.png"])
    );
    assert_eq!(shop.variant_view(&shirt.m).await, *changed);
    let product = shop.product_view(&shirt.product).await;
    assert_eq!(titles(&product), ["S", "XL", "L"]);
    assert_eq!(product["stock"], 14);
    assert_eq!(shop.stock(&shirt.product).await, 14);
    // M is free again.
    let m = shop
        .try_variant(&shirt.product, variant_input(&[("Size", "M")], "12.00", 1))
        .await;
    assert_eq!(m.data()["createProductVariant"]["title"], "M");
}

#[tokio::test]
async fn variants_of_unknown_or_archived_products_and_unknown_or_archived_variants_are_not_found() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;
    let archived_product = shop.product("Old shirt", "10.00", 1).await;
    shop.change_product(&archived_product, json!({ "archived": true }))
        .await;
    // M was ordered, so deleting it archives it.
    put(&shop, &alice, &shirt.m, 1).await;
    buy_cart(&shop, &alice).await;
    shop.delete_variant(&shirt.m).await.data();
    let input = variant_input(&[("Size", "XL")], "20.00", 1);

    for product in [missing_product(), archived_product] {
        let response = shop.try_variant(&product, input.clone()).await;
        assert_eq!(response.code(), "NOT_FOUND", "create in {product}");
    }
    for variant in [missing_variant(), shirt.m.clone()] {
        let updated = shop.change_variant(&variant, json!({ "stock": 5 })).await;
        let deleted = shop.delete_variant(&variant).await;
        assert_eq!(updated.code(), "NOT_FOUND", "update {variant}");
        assert_eq!(deleted.code(), "NOT_FOUND", "delete {variant}");
    }
    assert_eq!(titles(&shop.product_view(&shirt.product).await), ["S", "L"]);
}

#[tokio::test]
async fn a_product_has_at_most_a_hundred_active_variants() {
    let shop = open_shop().await;
    let product = shop.product("Sock", "3.00", 1).await;
    let sizes: Vec<String> = (1..=100).map(|size| size.to_string()).collect();
    shop.set_options(
        &product,
        json!([
            { "name": "Size", "values": sizes },
            { "name": "Colour", "values": ["Black", "White"] },
        ]),
    )
    .await
    .data();
    for size in &sizes[1..] {
        shop.variant(
            &product,
            variant_input(&[("Size", size.as_str()), ("Colour", "Black")], "3.00", 1),
        )
        .await;
    }
    let white = variant_input(&[("Size", "1"), ("Colour", "White")], "3.00", 1);

    let one_too_many = shop.try_variant(&product, white.clone()).await;

    assert_refused(
        &one_too_many,
        "BAD_USER_INPUT",
        "productId",
        "the 101st variant",
    );
    let view = shop.product_view(&product).await;
    assert_eq!(view["variants"].as_array().map(Vec::len), Some(100));
    // Room for one more once one is gone.
    shop.delete_variant(&ids(&view)[99]).await.data();
    let white = shop.try_variant(&product, white).await;
    assert_eq!(white.data()["createProductVariant"]["title"], "1 / White");
}

// ---------------------------------------------------------------------------------------
// Admin: deleteProductVariant, and updateProduct on variants
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn deleting_a_variant_nobody_ordered_removes_it_and_frees_its_combination_and_sku() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;

    let deleted = shop.delete_variant(&shirt.m).await;

    assert_eq!(deleted.data()["deleteProductVariant"], true);
    let product = shop.product_view(&shirt.product).await;
    assert_eq!(ids(&product), [shirt.s.clone(), shirt.l.clone()]);
    assert_eq!(product["stock"], 5);
    assert_eq!(price_range(&product), ("10.00", "15.00"));
    assert_eq!(shop.variant_view(&shirt.m).await, Value::Null);
    let again = shop
        .try_variant(
            &shirt.product,
            with(
                &variant_input(&[("Size", "M")], "12.00", 2),
                "sku",
                json!("ts-m"),
            ),
        )
        .await;
    let again = &again.data()["createProductVariant"];
    assert_eq!(again["title"], "M");
    assert_eq!(again["sku"], "TS-M");
    assert_ne!(again["id"], shirt.m.as_str());
}

#[tokio::test]
async fn the_last_active_variant_of_a_product_cannot_be_deleted() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let shirt = shirt(&shop).await;
    let teas = shop.variant_ids(&tea).await;

    let only = shop.delete_variant(&teas[0]).await;

    assert_refused(&only, "CONFLICT", "id", "the only variant");
    assert_eq!(shop.variant_ids(&tea).await, teas);

    shop.delete_variant(&shirt.m).await.data();
    shop.delete_variant(&shirt.s).await.data();
    let last = shop.delete_variant(&shirt.l).await;
    assert_refused(&last, "CONFLICT", "id", "the last of three");
    assert_eq!(shop.variant_ids(&shirt.product).await, [shirt.l]);
}

#[tokio::test]
async fn deleting_an_ordered_variant_archives_it_and_its_order_lines_still_show_it() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;
    put(&shop, &alice, &shirt.m, 1).await;
    let bought = buy_cart(&shop, &alice).await;

    let deleted = shop.delete_variant(&shirt.m).await;

    assert_eq!(deleted.data()["deleteProductVariant"], true);
    let product = shop.product_view(&shirt.product).await;
    assert_eq!(ids(&product), [shirt.s.clone(), shirt.l.clone()]);
    // Its remaining unit no longer counts.
    assert_eq!(product["stock"], 5);
    assert_eq!(shop.stock(&shirt.product).await, 5);
    let order = order(&shop, &alice, text(&bought["id"])).await;
    assert_eq!(
        order["items"][0]["variant"],
        json!({ "id": shirt.m, "title": "M" })
    );
    assert_eq!(order, bought);
    let archived = shop.variant_view(&shirt.m).await;
    assert_eq!(archived["id"], shirt.m.as_str());
    assert_eq!(archived["title"], "M");
    // Its combination is free for a new variant; its sku stays taken.
    let input = variant_input(&[("Size", "M")], "12.00", 2);
    let same_sku = shop
        .try_variant(&shirt.product, with(&input, "sku", json!("ts-m")))
        .await;
    assert_refused(&same_sku, "CONFLICT", "sku", "an archived variant's sku");
    let new_m = shop.try_variant(&shirt.product, input).await;
    assert_eq!(new_m.data()["createProductVariant"]["title"], "M");
    assert_ne!(new_m.data()["createProductVariant"]["id"], shirt.m.as_str());
}

#[tokio::test]
async fn update_product_sets_the_only_variants_price_stock_and_sku_but_refuses_them_for_several() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let shirt = shirt(&shop).await;

    shop.change_product(&tea, json!({ "price": "5.00", "stock": 4, "sku": "tea-1" }))
        .await;

    let tea_view = shop.product_view(&tea).await;
    let only = &tea_view["variants"][0];
    assert_eq!(only["price"]["amount"], "5.00");
    assert_eq!(only["stock"], 4);
    assert_eq!(only["sku"], "TEA-1");
    assert_eq!(tea_view["price"]["amount"], "5.00");
    assert_eq!(tea_view["stock"], 4);
    assert_eq!(tea_view["sku"], "TEA-1");

    let before = shop.product_view(&shirt.product).await;
    for (field, value) in [
        ("price", json!("9.00")),
        ("stock", json!(3)),
        ("sku", json!("ts-1")),
    ] {
        let response = shop
            .gql_as(
                &shop.admin,
                "mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }",
                json!({ "id": shirt.product, "input": { field: value, "name": "Renamed" } }),
            )
            .await;
        assert_refused(&response, "BAD_USER_INPUT", field, field);
        assert_eq!(shop.product_view(&shirt.product).await, before, "{field}");
    }
    // What is the product's own is still changed as ever.
    shop.change_product(&shirt.product, json!({ "name": "Tee" }))
        .await;
    assert_eq!(shop.product_view(&shirt.product).await["name"], "Tee");
}

// ---------------------------------------------------------------------------------------
// Browse: filters and sorting see the variants
// ---------------------------------------------------------------------------------------

/// The names of the products `filter` finds, sorted by `sort`.
async fn listed(shop: &Shop, filter: Value, sort: &str, reverse: bool) -> Vec<String> {
    let response = shop
        .gql(
            "query($filter: ProductFilter, $sort: ProductSortKey, $reverse: Boolean) {
              products(first: 100, filter: $filter, sortKey: $sort, reverse: $reverse) { totalCount nodes { name } }
            }",
            json!({ "filter": filter, "sort": sort, "reverse": reverse }),
        )
        .await;
    let products = &response.data()["products"];
    let names: Vec<String> = products["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| text(&node["name"]).to_owned())
        .collect();
    assert_eq!(products["totalCount"], names.len(), "{filter}");
    names
}

#[tokio::test]
async fn price_filters_and_price_sorting_go_by_the_lowest_active_variant_price() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    // Shirt 10.00 and 12.00; Mug 20.00; Cap 25.00 and 26.00; Scarf 18.00 and an archived
    // 5.00 that no longer counts.
    let shirt = shop.product("Shirt", "10.00", 1).await;
    shop.set_options(&shirt, json!([{ "name": "Size", "values": ["S", "M"] }]))
        .await
        .data();
    let shirt_m = shop
        .variant(&shirt, variant_input(&[("Size", "M")], "12.00", 1))
        .await;
    shop.product("Mug", "20.00", 1).await;
    let cap = shop.product("Cap", "25.00", 1).await;
    shop.set_options(
        &cap,
        json!([{ "name": "Colour", "values": ["Red", "Blue"] }]),
    )
    .await
    .data();
    shop.variant(&cap, variant_input(&[("Colour", "Blue")], "26.00", 1))
        .await;
    let scarf = shop.product("Scarf", "5.00", 4).await;
    shop.set_options(
        &scarf,
        json!([{ "name": "Length", "values": ["Short", "Long"] }]),
    )
    .await
    .data();
    shop.variant(&scarf, variant_input(&[("Length", "Long")], "18.00", 1))
        .await;
    let short = shop.variant_ids(&scarf).await.remove(0);
    put(&shop, &alice, &short, 1).await;
    buy_cart(&shop, &alice).await;
    shop.delete_variant(&short).await.data();
    assert_eq!(shop.product_view(&scarf).await["price"]["amount"], "18.00");

    assert_eq!(
        listed(&shop, json!({}), "PRICE", false).await,
        ["Shirt", "Scarf", "Mug", "Cap"]
    );
    assert_eq!(
        listed(&shop, json!({}), "PRICE", true).await,
        ["Cap", "Mug", "Scarf", "Shirt"]
    );
    assert_eq!(
        listed(&shop, json!({ "maxPrice": "11" }), "PRICE", false).await,
        ["Shirt"]
    );
    assert_eq!(
        listed(&shop, json!({ "maxPrice": "10.00" }), "PRICE", false).await,
        ["Shirt"]
    );
    assert_eq!(
        listed(&shop, json!({ "maxPrice": "9.99" }), "PRICE", false).await,
        Vec::<String>::new(),
        "the archived 5.00 scarf does not count"
    );
    assert_eq!(
        listed(
            &shop,
            json!({ "minPrice": "13", "maxPrice": "20" }),
            "PRICE",
            false
        )
        .await,
        ["Scarf", "Mug"]
    );
    assert_eq!(
        listed(&shop, json!({ "minPrice": "27" }), "PRICE", false).await,
        Vec::<String>::new()
    );

    // A variant's new price moves its product at once.
    let shirt_s = shop.variant_ids(&shirt).await.remove(0);
    shop.change_variant(&shirt_s, json!({ "price": "40.00" }))
        .await
        .data();
    shop.change_variant(&shirt_m, json!({ "price": "41.00" }))
        .await
        .data();
    assert_eq!(
        listed(&shop, json!({}), "PRICE", false).await,
        ["Scarf", "Mug", "Cap", "Shirt"]
    );
    assert_eq!(
        listed(&shop, json!({ "maxPrice": "11" }), "PRICE", false).await,
        Vec::<String>::new()
    );
    assert_eq!(
        listed(&shop, json!({ "minPrice": "40" }), "PRICE", false).await,
        ["Shirt"]
    );
}

#[tokio::test]
async fn a_product_is_in_stock_when_any_of_its_active_variants_is() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    // Boots: one size sold out, one not. Clogs: every size sold out. Sandals: the only
    // variant with stock was archived.
    let boots = shop.product("Boots", "50.00", 0).await;
    shop.set_options(&boots, json!([{ "name": "Size", "values": ["40", "41"] }]))
        .await
        .data();
    shop.variant(&boots, variant_input(&[("Size", "41")], "50.00", 3))
        .await;
    let clogs = shop.product("Clogs", "30.00", 0).await;
    shop.set_options(&clogs, json!([{ "name": "Size", "values": ["40", "41"] }]))
        .await
        .data();
    shop.variant(&clogs, variant_input(&[("Size", "41")], "30.00", 0))
        .await;
    let sandals = shop.product("Sandals", "20.00", 0).await;
    shop.set_options(
        &sandals,
        json!([{ "name": "Size", "values": ["40", "41"] }]),
    )
    .await
    .data();
    let sandals_41 = shop
        .variant(&sandals, variant_input(&[("Size", "41")], "20.00", 2))
        .await;
    put(&shop, &alice, &sandals_41, 1).await;
    buy_cart(&shop, &alice).await;
    shop.delete_variant(&sandals_41).await.data();

    assert_eq!(shop.product_view(&boots).await["inStock"], true);
    assert_eq!(shop.product_view(&clogs).await["inStock"], false);
    assert_eq!(shop.product_view(&sandals).await["inStock"], false);
    assert_eq!(
        listed(&shop, json!({ "inStock": true }), "NAME", false).await,
        ["Boots"]
    );
    assert_eq!(
        listed(&shop, json!({ "inStock": false }), "NAME", false).await,
        ["Clogs", "Sandals"]
    );

    let clogs_40 = shop.variant_ids(&clogs).await.remove(0);
    shop.change_variant(&clogs_40, json!({ "stock": 1 }))
        .await
        .data();
    assert_eq!(
        listed(&shop, json!({ "inStock": true }), "NAME", false).await,
        ["Boots", "Clogs"]
    );
}

// ---------------------------------------------------------------------------------------
// Cart by variant
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_variant_goes_in_the_cart_by_its_id_and_its_line_shows_it_at_its_price() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;

    let response = add(&shop, &alice, Line::variant(&shirt.m), 2).await;

    let cart = &response.data()["addToCart"];
    assert_eq!(
        cart["items"],
        json!([{
            "product": { "id": shirt.product },
            "variant": { "id": shirt.m, "title": "M", "price": { "amount": "12.00" } },
            "quantity": 2,
            "lineTotal": { "amount": "24.00" },
        }])
    );
    assert_eq!(cart["totalQuantity"], 2);
    assert_eq!(cart["subtotal"]["amount"], "24.00");
    // Naming the product as well is fine when it is the variant's.
    let both = add(&shop, &alice, Line::both(&shirt.product, &shirt.s), 1).await;
    assert_eq!(
        variant_lines(&both.data()["addToCart"]["items"]),
        vec![(shirt.m, 2), (shirt.s, 1)]
    );
}

#[tokio::test]
async fn the_id_of_a_product_with_one_variant_still_names_that_variant() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let tea_default = shop.variant_ids(&tea).await.remove(0);
    // One variant, even with options.
    let hoodie = hoodie(&shop).await;

    add(&shop, &alice, Line::product(&tea), 2).await.data();
    let response = add(&shop, &alice, Line::product(&hoodie.product), 1).await;

    let cart = &response.data()["addToCart"];
    assert_eq!(
        variant_lines(&cart["items"]),
        vec![(tea_default, 2), (hoodie.s_red, 1)]
    );
    assert_eq!(cart["items"][0]["variant"]["title"], "Default");
    assert_eq!(cart["items"][1]["variant"]["title"], "S / Red");
    assert_eq!(cart["subtotal"]["amount"], "48.40");
}

#[tokio::test]
async fn every_cart_operation_needs_a_variant_unless_the_product_has_only_one() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;
    let hoodie = hoodie(&shop).await;
    put(&shop, &alice, &shirt.s, 1).await;
    put(&shop, &alice, &shirt.m, 1).await;
    let before = cart(&shop, &alice).await;
    let ambiguous = [
        (
            "the id of a product with several variants",
            Line::product(&shirt.product),
        ),
        ("no id at all", Line::neither()),
        (
            "a variant of another product",
            Line::both(&hoodie.product, &shirt.m),
        ),
    ];
    let operations = [
        ("addToCart", Some(1)),
        ("updateCartItem", Some(1)),
        ("removeFromCart", None),
        ("saveForLater", None),
        ("moveToCart", None),
    ];

    for (case, line) in ambiguous {
        for (operation, quantity) in operations {
            let response = cart_call(&shop, &alice, operation, line, quantity).await;

            assert_refused(
                &response,
                "BAD_USER_INPUT",
                "variantId",
                &format!("{operation} with {case}"),
            );
        }
    }
    let malformed = add(&shop, &alice, Line::variant("not an id"), 1).await;
    assert_refused(&malformed, "BAD_USER_INPUT", "variantId", "a malformed id");
    assert_eq!(cart(&shop, &alice).await, before);
}

#[tokio::test]
async fn two_variants_of_one_product_are_two_lines_each_at_its_own_price() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;

    put(&shop, &alice, &shirt.s, 2).await;
    put(&shop, &alice, &shirt.m, 1).await;
    let response = add(&shop, &alice, Line::variant(&shirt.s), 1).await;

    let added = &response.data()["addToCart"];
    assert_eq!(
        variant_lines(&added["items"]),
        vec![(shirt.s.clone(), 3), (shirt.m.clone(), 1)]
    );
    assert_eq!(added["items"][0]["product"]["id"], shirt.product.as_str());
    assert_eq!(added["items"][1]["product"]["id"], shirt.product.as_str());
    assert_eq!(added["items"][0]["lineTotal"]["amount"], "30.00");
    assert_eq!(added["items"][1]["lineTotal"]["amount"], "12.00");
    assert_eq!(added["totalQuantity"], 4);
    assert_eq!(added["subtotal"]["amount"], "42.00");

    // Lines follow their variant's current price.
    shop.change_variant(&shirt.m, json!({ "price": "12.50" }))
        .await
        .data();
    let cart = cart(&shop, &alice).await;
    assert_eq!(cart["items"][1]["variant"]["price"]["amount"], "12.50");
    assert_eq!(cart["items"][1]["lineTotal"]["amount"], "12.50");
    assert_eq!(cart["subtotal"]["amount"], "42.50");
}

#[tokio::test]
async fn asking_for_more_than_a_variants_stock_is_out_of_stock_naming_the_variant() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    // M has 2 of the product's 7.
    let shirt = shirt(&shop).await;

    let too_many = add(&shop, &alice, Line::variant(&shirt.m), 3).await;
    let none_left = add(&shop, &alice, Line::variant(&shirt.l), 1).await;

    assert_out_of_stock(&too_many, &shirt.product, &shirt.m, 2);
    assert_out_of_stock(&none_left, &shirt.product, &shirt.l, 0);
    assert_eq!(cart(&shop, &alice).await["items"], json!([]));

    put(&shop, &alice, &shirt.m, 2).await;
    let more = cart_call(
        &shop,
        &alice,
        "updateCartItem",
        Line::variant(&shirt.m),
        Some(3),
    )
    .await;
    assert_out_of_stock(&more, &shirt.product, &shirt.m, 2);
    cart_call(&shop, &alice, "saveForLater", Line::variant(&shirt.m), None)
        .await
        .data();
    shop.change_variant(&shirt.m, json!({ "stock": 1 }))
        .await
        .data();
    let back = cart_call(&shop, &alice, "moveToCart", Line::variant(&shirt.m), None).await;
    assert_out_of_stock(&back, &shirt.product, &shirt.m, 1);
    let cart = cart(&shop, &alice).await;
    assert_eq!(cart["items"], json!([]));
    assert_eq!(variant_lines(&cart["savedItems"]), vec![(shirt.m, 2)]);
}

#[tokio::test]
async fn lines_are_updated_removed_saved_and_moved_back_by_variant() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;
    put(&shop, &alice, &shirt.s, 1).await;
    put(&shop, &alice, &shirt.m, 1).await;
    let call = |operation: &'static str, variant: &str, quantity: Option<i32>| {
        let (shop, alice, variant) = (&shop, &alice, variant.to_owned());
        async move {
            cart_call(shop, alice, operation, Line::variant(&variant), quantity)
                .await
                .data()[operation]
                .clone()
        }
    };

    let updated = call("updateCartItem", &shirt.m, Some(2)).await;
    assert_eq!(
        variant_lines(&updated["items"]),
        vec![(shirt.s.clone(), 1), (shirt.m.clone(), 2)]
    );
    assert_eq!(updated["subtotal"]["amount"], "34.00");

    let saved = call("saveForLater", &shirt.s, None).await;
    assert_eq!(variant_lines(&saved["items"]), vec![(shirt.m.clone(), 2)]);
    assert_eq!(
        variant_lines(&saved["savedItems"]),
        vec![(shirt.s.clone(), 1)]
    );
    assert_eq!(saved["savedItems"][0]["variant"]["title"], "S");

    let moved = call("moveToCart", &shirt.s, None).await;
    assert_eq!(moved["savedItems"], json!([]));
    assert_eq!(
        variant_lines(&moved["items"]),
        vec![(shirt.s.clone(), 1), (shirt.m.clone(), 2)]
    );

    let removed = call("removeFromCart", &shirt.m, None).await;
    assert_eq!(variant_lines(&removed["items"]), vec![(shirt.s.clone(), 1)]);

    let zero = call("updateCartItem", &shirt.s, Some(0)).await;
    assert_eq!(zero["items"], json!([]));

    // A variant that has no line has nothing to change (M has the stock for it).
    for (operation, quantity) in [
        ("updateCartItem", Some(1)),
        ("removeFromCart", None),
        ("saveForLater", None),
        ("moveToCart", None),
    ] {
        let response = cart_call(&shop, &alice, operation, Line::variant(&shirt.m), quantity).await;
        assert_eq!(response.code(), "NOT_FOUND", "{operation}");
    }
}

#[tokio::test]
async fn archived_unknown_and_non_variant_ids_and_variants_of_archived_products_are_not_found() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let shirt = shirt(&shop).await;
    put(&shop, &bob, &shirt.m, 1).await;
    buy_cart(&shop, &bob).await;
    shop.delete_variant(&shirt.m).await.data();
    let old = shop.product("Old tea", "4.20", 10).await;
    let old_default = shop.variant_ids(&old).await.remove(0);
    shop.change_product(&old, json!({ "archived": true })).await;

    for (case, variant) in [
        ("an archived variant", shirt.m.as_str()),
        ("an unknown variant", &missing_variant()),
        ("a product's id", &shirt.product),
        ("a variant of an archived product", &old_default),
    ] {
        let response = add(&shop, &alice, Line::variant(variant), 1).await;

        assert_eq!(response.code(), "NOT_FOUND", "{case}: {:#}", response.body);
    }
    assert_eq!(cart(&shop, &alice).await["items"], json!([]));
}

#[tokio::test]
async fn deleting_a_variant_takes_its_lines_out_of_every_cart() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let shirt = shirt(&shop).await;
    put(&shop, &alice, &shirt.s, 1).await;
    put(&shop, &alice, &shirt.m, 2).await;
    put(&shop, &bob, &shirt.m, 1).await;
    cart_call(&shop, &bob, "saveForLater", Line::variant(&shirt.m), None)
        .await
        .data();

    shop.delete_variant(&shirt.m).await.data();

    let alices = cart(&shop, &alice).await;
    assert_eq!(variant_lines(&alices["items"]), vec![(shirt.s, 1)]);
    assert_eq!(alices["subtotal"]["amount"], "10.00");
    let bobs = cart(&shop, &bob).await;
    assert_eq!(bobs["items"], json!([]));
    assert_eq!(bobs["savedItems"], json!([]));
}

// ---------------------------------------------------------------------------------------
// Checkout by variant
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn order_lines_snapshot_the_variants_title_sku_and_price() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.change_product(&tea, json!({ "sku": "tea-1" })).await;
    let tea_default = shop.variant_ids(&tea).await.remove(0);
    put(&shop, &alice, &shirt.m, 2).await;
    add(&shop, &alice, Line::product(&tea), 1).await.data();

    let bought = buy_cart(&shop, &alice).await;

    assert_eq!(bought["status"], "PAID");
    assert_eq!(bought["total"]["amount"], "28.20");
    assert_eq!(
        bought["items"],
        json!([
            {
                "product": { "id": shirt.product },
                "variant": { "id": shirt.m, "title": "M" },
                "productName": "T-shirt",
                "variantTitle": "M",
                "sku": "TS-M",
                "unitPrice": { "amount": "12.00" },
                "quantity": 2,
                "lineTotal": { "amount": "24.00" },
            },
            {
                "product": { "id": tea },
                "variant": { "id": tea_default, "title": "Default" },
                "productName": "Tea",
                "variantTitle": "Default",
                "sku": "TEA-1",
                "unitPrice": { "amount": "4.20" },
                "quantity": 1,
                "lineTotal": { "amount": "4.20" },
            },
        ])
    );

    // Later changes to the variant leave the order as it was bought; only the link to
    // the variant shows it as it is now.
    shop.change_variant(&shirt.m, json!({ "price": "99.00", "sku": "ts-m2" }))
        .await
        .data();
    shop.set_options(
        &shirt.product,
        json!([{ "name": "Size", "values": ["S", "m", "L"] }]),
    )
    .await
    .data();
    let now = order(&shop, &alice, text(&bought["id"])).await;
    let line = &now["items"][0];
    assert_eq!(line["variant"]["title"], "m");
    assert_eq!(line["variantTitle"], "M");
    assert_eq!(line["sku"], "TS-M");
    assert_eq!(line["unitPrice"]["amount"], "12.00");
    assert_eq!(now["total"], bought["total"]);
    let mut unchanged = now.clone();
    unchanged["items"][0]["variant"] = bought["items"][0]["variant"].clone();
    assert_eq!(unchanged, bought);
}

#[tokio::test]
async fn checkout_takes_stock_from_the_bought_variant_only_and_a_cancellation_puts_it_back() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;
    put(&shop, &alice, &shirt.m, 2).await;

    let bought = buy_cart(&shop, &alice).await;

    assert_eq!(shop.variant_stock(&shirt.m).await, 0);
    assert_eq!(shop.variant_stock(&shirt.s).await, 5);
    assert_eq!(shop.variant_stock(&shirt.l).await, 0);
    let product = shop.product_view(&shirt.product).await;
    assert_eq!(product["stock"], 5);
    assert_eq!(product["inStock"], true);
    assert_eq!(product["variants"][1]["inStock"], false);
    assert_eq!(shop.stock(&shirt.product).await, 5);

    let cancelled = shop.cancel(&alice, text(&bought["id"])).await;

    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(shop.variant_stock(&shirt.m).await, 2);
    assert_eq!(shop.variant_stock(&shirt.s).await, 5);
    assert_eq!(shop.product_view(&shirt.product).await["stock"], 7);
    assert_eq!(shop.stock(&shirt.product).await, 7);
}

#[tokio::test]
async fn a_line_whose_variant_stock_fell_is_out_of_stock_naming_it_and_nothing_is_taken() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let shirt = shirt(&shop).await;
    // Added first, so its stock is taken first and must be given back.
    put(&shop, &alice, &shirt.s, 1).await;
    put(&shop, &alice, &shirt.m, 2).await;
    shop.change_variant(&shirt.m, json!({ "stock": 1 }))
        .await
        .data();
    let cart_before = cart(&shop, &alice).await;

    let response = shop
        .checkout_selecting(&alice, VISA, None, ORDER_VARIANT_FIELDS)
        .await;

    assert_out_of_stock(&response, &shirt.product, &shirt.m, 1);
    assert_eq!(shop.variant_stock(&shirt.s).await, 5);
    assert_eq!(shop.variant_stock(&shirt.m).await, 1);
    assert_eq!(shop.stock(&shirt.product).await, 6);
    assert_eq!(shop.stored_orders().await, vec![]);
    assert_eq!(shop.ledger().await, vec![]);
    assert_eq!(cart(&shop, &alice).await, cart_before);
}

#[tokio::test]
async fn a_line_whose_variant_was_archived_stays_and_is_out_of_stock_with_none_available() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let shirt = shirt(&shop).await;
    put(&shop, &bob, &shirt.m, 1).await;
    buy_cart(&shop, &bob).await;
    put(&shop, &alice, &shirt.s, 1).await;
    put(&shop, &alice, &shirt.m, 1).await;

    shop.delete_variant(&shirt.m).await.data();

    assert_eq!(
        variant_lines(&cart(&shop, &alice).await["items"]),
        vec![(shirt.s.clone(), 1), (shirt.m.clone(), 1)]
    );
    let response = shop
        .checkout_selecting(&alice, VISA, None, ORDER_VARIANT_FIELDS)
        .await;
    assert_out_of_stock(&response, &shirt.product, &shirt.m, 0);
    assert_eq!(shop.variant_stock(&shirt.s).await, 5);
    assert_eq!(shop.stored_orders().await.len(), 1, "bob's order only");
    // Taking the line out lets the rest be bought.
    cart_call(
        &shop,
        &alice,
        "removeFromCart",
        Line::variant(&shirt.m),
        None,
    )
    .await
    .data();
    assert_eq!(buy_cart(&shop, &alice).await["status"], "PAID");
    assert_eq!(shop.variant_stock(&shirt.s).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn buyers_racing_for_two_variants_never_get_more_than_each_variants_own_stock() {
    // S has 10 units, wanted 3 at a time by 15 buyers: 3 orders and 1 left. M has 5,
    // wanted 1 at a time by 15 buyers: 5 orders. L, which nobody buys, keeps its 7.
    let shop = open_shop().await;
    let product = shop.product("Race shirt", "12.50", 10).await;
    shop.set_options(
        &product,
        json!([{ "name": "Size", "values": ["S", "M", "L"] }]),
    )
    .await
    .data();
    let s = shop.variant_ids(&product).await.remove(0);
    let m = shop
        .variant(&product, variant_input(&[("Size", "M")], "20.00", 5))
        .await;
    let l = shop
        .variant(&product, variant_input(&[("Size", "L")], "30.00", 7))
        .await;
    let buyers = shop.customers("buyer", 30).await;
    let wants = |i: usize| {
        if i.is_multiple_of(2) {
            (&s, 3)
        } else {
            (&m, 1)
        }
    };
    let shop = &shop;
    join_all(buyers.iter().enumerate().map(|(i, buyer)| {
        let (variant, quantity) = wants(i);
        put(shop, buyer, variant, quantity)
    }))
    .await;

    let responses = join_all(
        buyers
            .iter()
            .map(|buyer| shop.checkout_selecting(buyer, VISA, None, ORDER_VARIANT_FIELDS)),
    )
    .await;

    let (paid, _) = outcomes(&responses);
    let mut paid_per_variant: HashMap<String, usize> = HashMap::new();
    for order in &paid {
        assert_eq!(order["status"], "PAID");
        let variant = text(&order["items"][0]["variant"]["id"]).to_owned();
        let expected_total = if variant == *s { "37.50" } else { "20.00" };
        assert_eq!(order["total"]["amount"], expected_total, "{order:#}");
        *paid_per_variant.entry(variant).or_default() += 1;
    }
    assert_eq!(paid_per_variant.get(s.as_str()), Some(&3));
    assert_eq!(paid_per_variant.get(m.as_str()), Some(&5));
    for (i, response) in responses.iter().enumerate() {
        if response.body.get("errors").is_some() {
            let (variant, _) = wants(i);
            let left = if *variant == s { 1 } else { 0 };
            assert_out_of_stock(response, &product, variant, left);
        }
    }
    assert_eq!(shop.variant_stock(&s).await, 1);
    assert_eq!(shop.variant_stock(&m).await, 0);
    assert_eq!(shop.variant_stock(&l).await, 7);
    assert_eq!(shop.stock(&product).await, 8);
    let stored = shop.stored_orders().await;
    assert_eq!(stored.len(), 8);
    assert_eq!(shop.stored_order_items().await.len(), 8);
    assert_eq!(shop.ledger().await.len(), 8);
}

// ---------------------------------------------------------------------------------------
// SQL statements per request
// ---------------------------------------------------------------------------------------

/// `count` products of two sizes each, S (the default variant, 10.00) and M (11.00), with
/// `stock` of each; answers every variant's ID, S and M of the first product first.
async fn sized_products(shop: &Shop, count: usize, stock: i32) -> Vec<String> {
    let mut variants = Vec::new();
    for i in 0..count {
        let product = shop.product(&format!("Sized {i}"), "10.00", stock).await;
        shop.set_options(&product, json!([{ "name": "Size", "values": ["S", "M"] }]))
            .await
            .data();
        variants.push(shop.variant_ids(&product).await.remove(0));
        variants.push(
            shop.variant(&product, variant_input(&[("Size", "M")], "11.00", stock))
                .await,
        );
    }
    variants
}

#[tokio::test]
async fn a_page_of_products_with_their_variants_options_and_price_range_costs_the_same_at_any_size()
{
    let shop = open_shop().await;
    // Every other product has three sizes; the rest have only their default variant.
    for i in 0..20 {
        let product = shop.product(&format!("Product {i}"), "10.00", 3).await;
        if i % 2 == 0 {
            shop.set_options(
                &product,
                json!([{ "name": "Size", "values": ["S", "M", "L"] }]),
            )
            .await
            .data();
            shop.variant(&product, variant_input(&[("Size", "M")], "11.00", 1))
                .await;
            shop.variant(&product, variant_input(&[("Size", "L")], "12.00", 0))
                .await;
        }
    }
    let query = "query($first: Int) { products(first: $first) { nodes {
        name
        variants { id title price { amount } stock selectedOptions { name value } }
        options { name values }
        priceRange { min { amount } max { amount } }
    } } }";

    let small = shop
        .statements_for(None, query, json!({ "first": 2 }))
        .await;
    let large = shop
        .statements_for(None, query, json!({ "first": 20 }))
        .await;

    assert_eq!(small, large, "the statement count grows with the page size");
    let page = shop.gql(query, json!({ "first": 20 })).await;
    let nodes = page.data()["products"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 20);
    for (i, node) in nodes.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(titles(node), ["S", "M", "L"], "{node:#}");
            assert_eq!(
                node["options"],
                json!([{ "name": "Size", "values": ["S", "M", "L"] }])
            );
            assert_eq!(price_range(node), ("10.00", "12.00"));
            assert_eq!(
                node["variants"][1]["selectedOptions"],
                json!([{ "name": "Size", "value": "M" }])
            );
        } else {
            assert_eq!(titles(node), ["Default"], "{node:#}");
            assert_eq!(node["options"], json!([]));
            assert_eq!(price_range(node), ("10.00", "10.00"));
        }
    }
}

#[tokio::test]
async fn a_cart_of_variants_costs_the_same_statements_whatever_its_length() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    let variants = sized_products(&shop, 10, 5).await;
    put(&shop, &alice, &variants[0], 1).await;
    put(&shop, &alice, &variants[3], 1).await;
    for variant in &variants {
        put(&shop, &bob, variant, 1).await;
    }
    let query = "{ cart {
        items { quantity lineTotal { amount } product { name } variant { id title price { amount } stock selectedOptions { name value } } }
        savedItems { variant { title } }
        subtotal { amount }
    } }";

    let short = shop.statements_for(Some(&alice), query, json!({})).await;
    let long = shop.statements_for(Some(&bob), query, json!({})).await;

    assert_eq!(short, long, "the statement count grows with the cart");
    let bobs = shop.gql_as(&bob, query, json!({})).await;
    let items = bobs.data()["cart"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 20);
    let titles: Vec<&str> = items
        .iter()
        .map(|item| text(&item["variant"]["title"]))
        .collect();
    assert_eq!(titles, ["S", "M"].repeat(10));
    assert_eq!(bobs.data()["cart"]["subtotal"]["amount"], "210.00");
}

#[tokio::test]
async fn an_order_history_with_variants_costs_the_same_statements_whatever_its_length() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let variants = sized_products(&shop, 10, 5).await;
    // Twenty orders of two lines each.
    for i in 0..20 {
        put(&shop, &alice, &variants[i], 1).await;
        put(&shop, &alice, &variants[(i + 1) % 20], 1).await;
        buy_cart(&shop, &alice).await;
    }
    let query = "query($first: Int) { orders(first: $first) { nodes {
        number
        items { productName variantTitle sku quantity product { name } variant { title } }
    } } }";

    let small = shop
        .statements_for(Some(&alice), query, json!({ "first": 2 }))
        .await;
    let large = shop
        .statements_for(Some(&alice), query, json!({ "first": 20 }))
        .await;

    assert_eq!(small, large, "the statement count grows with the page size");
    let history = shop.gql_as(&alice, query, json!({ "first": 20 })).await;
    let orders = history.data()["orders"]["nodes"].as_array().expect("nodes");
    assert_eq!(orders.len(), 20);
    for order in orders {
        for item in order["items"].as_array().expect("items") {
            assert_eq!(item["variant"]["title"], item["variantTitle"], "{item:#}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// node(id:)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn node_resolves_a_product_variant_by_its_global_id() {
    let shop = open_shop().await;
    let shirt = shirt(&shop).await;
    let query = "query($id: ID!) { node(id: $id) { __typename id ... on ProductVariant {
        title sku price { amount } selectedOptions { name value } product { id name }
    } } }";

    let response = shop.gql(query, json!({ "id": shirt.m })).await;

    assert_eq!(
        response.data()["node"],
        json!({
            "__typename": "ProductVariant",
            "id": shirt.m,
            "title": "M",
            "sku": "TS-M",
            "price": { "amount": "12.00" },
            "selectedOptions": [{ "name": "Size", "value": "M" }],
            "product": { "id": shirt.product, "name": "T-shirt" },
        })
    );
    let decoded = STANDARD.decode(&shirt.m).expect("base64");
    let decoded = String::from_utf8(decoded).expect("text");
    assert!(decoded.starts_with("ProductVariant:"), "{decoded}");
    for variant in [&shirt.s, &shirt.l] {
        let node = shop.gql(query, json!({ "id": variant })).await;
        assert_eq!(node.data()["node"]["id"], variant.as_str());
    }
    let unknown = shop.gql(query, json!({ "id": missing_variant() })).await;
    assert_eq!(unknown.data()["node"], Value::Null);
    // The variants a product lists know their product.
    let listed = shop
        .gql(
            "query($id: ID) { product(id: $id) { variants { product { id } } } }",
            json!({ "id": shirt.product }),
        )
        .await;
    assert_eq!(
        listed.data()["product"]["variants"],
        Value::Array(vec![json!({ "product": { "id": shirt.product } }); 3])
    );
}
