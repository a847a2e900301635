//! Order totals: what `Cart.totals` shows is what checkout charges, with shipping methods,
//! tax rates and discount codes; a code is re-checked at checkout and its usage limit holds
//! under concurrent buyers; a cancelled or declined order gives its use back.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::store::{DECLINED, Shop, VISA, address, open_shop, open_shop_on, text};
use crate::support::{Session, spawn_app_with};

/// Every part of a totals object, as a test compares them.
const TOTALS: &str = "subtotal { amount currencyCode } discount { amount } shipping { amount } tax { amount } total { amount }";

/// The order fields a totals test looks at.
const ORDER: &str = "id number status total { amount } totals { subtotal { amount currencyCode } discount { amount } shipping { amount } tax { amount } total { amount } } shippingMethod discountCode";

/// The amounts of a totals object: subtotal, discount, shipping, tax, total.
fn amounts(totals: &Value) -> [String; 5] {
    ["subtotal", "discount", "shipping", "tax", "total"]
        .map(|part| text(&totals[part]["amount"]).to_owned())
}

fn expect(parts: [&str; 5]) -> [String; 5] {
    parts.map(str::to_owned)
}

impl Shop {
    /// `createShippingMethod` as the admin; answers its id.
    async fn shipping_method(&self, input: Value) -> String {
        let created = self
            .gql_as(
                &self.admin,
                "mutation($input: CreateShippingMethodInput!) { createShippingMethod(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await;
        text(&created.data()["createShippingMethod"]["id"]).to_owned()
    }

    /// `setTaxRate` as the admin.
    async fn tax_rate(&self, country: &str, rate: &str) {
        self.gql_as(
            &self.admin,
            "mutation($country: String!, $rate: Decimal!) { setTaxRate(country: $country, rate: $rate) { rate } }",
            json!({ "country": country, "rate": rate }),
        )
        .await
        .data();
    }

    /// `updateDiscountCode` as the admin.
    async fn change_discount_code(&self, id: &str, input: Value) {
        self.gql_as(
            &self.admin,
            "mutation($id: ID!, $input: UpdateDiscountCodeInput!) { updateDiscountCode(id: $id, input: $input) { id } }",
            json!({ "id": id, "input": input }),
        )
        .await
        .data();
    }

    /// `who`'s `Cart.totals` for `country` (and a shipping method).
    async fn cart_totals(
        &self,
        who: &Session,
        country: Option<&str>,
        method: Option<&str>,
    ) -> Value {
        let answer = self
            .gql_as(
                who,
                &format!(
                    "query($country: String, $method: ID) {{ cart {{ totals(country: $country, shippingMethodId: $method) {{ {TOTALS} }} }} }}"
                ),
                json!({ "country": country, "method": method }),
            )
            .await;
        answer.data()["cart"]["totals"].clone()
    }

    /// `checkout` of `who`'s cart to the test address (in GB) with `method`.
    async fn check_out(
        &self,
        who: &Session,
        token: &str,
        method: Option<&str>,
    ) -> crate::support::Gql {
        self.gql_as(
            who,
            &format!(
                "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ {ORDER} }} }}"
            ),
            json!({ "input": {
                "shippingAddress": address(),
                "paymentToken": token,
                "shippingMethodId": method,
            }}),
        )
        .await
    }

    /// A guest cart holding one of `product` with `code` applied; answers its id.
    async fn guest_cart_with_code(&self, product: &str, code: &str) -> String {
        let created = self.gql("mutation { createCart { id } }", json!({})).await;
        let cart = text(&created.data()["createCart"]["id"]).to_owned();
        self.gql(
            "mutation($cart: ID!, $product: ID!) { addToCart(cartId: $cart, productId: $product) { totalQuantity } }",
            json!({ "cart": cart, "product": product }),
        )
        .await
        .data();
        self.gql(
            "mutation($cart: ID!, $code: String!) { applyDiscountCode(cartId: $cart, code: $code) { discountCode } }",
            json!({ "cart": cart, "code": code }),
        )
        .await
        .data();
        cart
    }

    /// `login` of `username` bringing the guest cart `cart` along; answers the access token.
    async fn login_with_cart(&self, username: &str, cart: &str) -> String {
        let login = self
            .gql(
                "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
                json!({ "input": {
                    "username": username,
                    "password": crate::support::PASSWORD,
                    "cartId": cart,
                }}),
            )
            .await;
        text(&login.data()["login"]["accessToken"]).to_owned()
    }

    /// The amount the ledger charged for the order `order_id` (its global ID).
    async fn charged(&self, order_id: &str) -> i64 {
        let id = crate::store::db_id(order_id);
        self.ledger()
            .await
            .into_iter()
            .find(|payment| {
                payment.order_id == id && payment.kind == entity::payment::PaymentKind::Charge
            })
            .expect("a charge")
            .amount_cents
    }
}

#[tokio::test]
async fn without_shipping_methods_tax_rates_or_a_code_the_total_is_the_subtotal() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 3).await;

    for country in [None, Some("GB")] {
        let totals = shop.cart_totals(&alice, country, None).await;
        assert_eq!(
            amounts(&totals),
            expect(["12.60", "0.00", "0.00", "0.00", "12.60"])
        );
        assert_eq!(totals["subtotal"]["currencyCode"], "USD");
    }
    let order = shop.check_out(&alice, VISA, None).await;
    let order = &order.data()["checkout"];
    assert_eq!(
        amounts(&order["totals"]),
        expect(["12.60", "0.00", "0.00", "0.00", "12.60"])
    );
    assert_eq!(order["shippingMethod"], Value::Null);
    assert_eq!(order["discountCode"], Value::Null);
}

#[tokio::test]
async fn the_cart_shows_the_totals_checkout_charges_with_shipping_tax_and_a_discount() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let standard = shop
        .shipping_method(json!({ "name": "Standard", "price": "4.95", "freeOver": "50.00" }))
        .await;
    shop.shipping_method(json!({ "name": "Express", "price": "14.95", "countries": ["GB", "IE"] }))
        .await;
    shop.tax_rate("GB", "20").await;
    shop.discount_code(json!({ "code": "SAVE10", "percentOff": "10" }))
        .await;
    shop.put_in_cart(&alice, &tea, 3).await;
    assert_eq!(
        shop.apply_code(&alice, "save10").await.data()["applyDiscountCode"]["discountCode"],
        "SAVE10"
    );

    // 12.60 less 10% (1.26) is 11.34; Standard adds 4.95: 16.29, of which 20% is 3.258,
    // rounded half-up to 3.26: 19.55 in all.
    let expected = expect(["12.60", "1.26", "4.95", "3.26", "19.55"]);
    // Without a method named, the cart shows the cheapest for the country.
    assert_eq!(
        amounts(&shop.cart_totals(&alice, Some("GB"), None).await),
        expected
    );
    assert_eq!(
        amounts(&shop.cart_totals(&alice, Some("GB"), Some(&standard)).await),
        expected
    );
    // Without a country there is nothing to ship to or tax yet.
    assert_eq!(
        amounts(&shop.cart_totals(&alice, None, None).await),
        expect(["12.60", "1.26", "0.00", "0.00", "11.34"])
    );

    let order = shop.check_out(&alice, VISA, Some(&standard)).await;
    let order = &order.data()["checkout"];
    assert_eq!(order["status"], "PAID");
    assert_eq!(amounts(&order["totals"]), expected);
    assert_eq!(order["total"]["amount"], "19.55");
    assert_eq!(order["shippingMethod"], "Standard");
    assert_eq!(order["discountCode"], "SAVE10");
    assert_eq!(shop.charged(text(&order["id"])).await, 1955);
}

#[tokio::test]
async fn another_shipping_method_changes_the_cart_totals_and_the_order_alike() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.shipping_method(json!({ "name": "Standard", "price": "4.95" }))
        .await;
    let express = shop
        .shipping_method(json!({ "name": "Express", "price": "14.95", "countries": ["GB"] }))
        .await;
    shop.put_in_cart(&alice, &tea, 1).await;

    let quoted = shop.cart_totals(&alice, Some("GB"), Some(&express)).await;
    assert_eq!(
        amounts(&quoted),
        expect(["4.20", "0.00", "14.95", "0.00", "19.15"])
    );
    let order = shop.check_out(&alice, VISA, Some(&express)).await;
    assert_eq!(
        amounts(&order.data()["checkout"]["totals"]),
        amounts(&quoted)
    );
    assert_eq!(order.data()["checkout"]["shippingMethod"], "Express");
}

#[tokio::test]
async fn shipping_is_free_once_the_discounted_subtotal_reaches_the_threshold() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let kettle = shop.product("Kettle", "52.00", 10).await;
    let standard = shop
        .shipping_method(json!({ "name": "Standard", "price": "4.95", "freeOver": "50.00" }))
        .await;
    shop.discount_code(json!({ "code": "FIVE", "amountOff": "5.00" }))
        .await;
    shop.put_in_cart(&alice, &kettle, 1).await;

    assert_eq!(
        amounts(&shop.cart_totals(&alice, Some("GB"), Some(&standard)).await),
        expect(["52.00", "0.00", "0.00", "0.00", "52.00"])
    );
    // 52.00 less 5.00 is below the threshold: shipping is charged again.
    shop.apply_code(&alice, "FIVE").await.data();
    assert_eq!(
        amounts(&shop.cart_totals(&alice, Some("GB"), Some(&standard)).await),
        expect(["52.00", "5.00", "4.95", "0.00", "51.95"])
    );
}

#[tokio::test]
async fn with_prices_that_include_tax_the_totals_report_the_tax_inside_them() {
    let app = spawn_app_with(|config| config.prices_include_tax = true).await;
    let shop = open_shop_on(app).await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "10.00", 10).await;
    shop.tax_rate("GB", "20.00").await;
    shop.put_in_cart(&alice, &tea, 1).await;

    // 10.00 gross at 20% holds 10.00 x 20 / 120 = 1.666... of tax: 1.67.
    let expected = expect(["10.00", "0.00", "0.00", "1.67", "10.00"]);
    assert_eq!(
        amounts(&shop.cart_totals(&alice, Some("GB"), None).await),
        expected
    );
    let order = shop.check_out(&alice, VISA, None).await;
    assert_eq!(amounts(&order.data()["checkout"]["totals"]), expected);
    assert_eq!(
        shop.charged(text(&order.data()["checkout"]["id"])).await,
        1000
    );
}

#[tokio::test]
async fn a_discount_never_makes_a_total_negative() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let standard = shop
        .shipping_method(json!({ "name": "Standard", "price": "4.95" }))
        .await;
    shop.discount_code(json!({ "code": "BIGGIFT", "amountOff": "100.00" }))
        .await;
    shop.put_in_cart(&alice, &tea, 1).await;
    shop.apply_code(&alice, "BIGGIFT").await.data();

    let order = shop.check_out(&alice, VISA, Some(&standard)).await;
    assert_eq!(
        amounts(&order.data()["checkout"]["totals"]),
        expect(["4.20", "4.20", "4.95", "0.00", "4.95"])
    );
}

#[tokio::test]
async fn checkout_needs_a_shipping_method_that_ships_to_the_country_once_methods_exist() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let us_only = shop
        .shipping_method(json!({ "name": "Domestic", "price": "2.00", "countries": ["US"] }))
        .await;
    shop.put_in_cart(&alice, &tea, 1).await;

    // Methods exist, none ships to GB.
    let refused = shop.check_out(&alice, VISA, None).await;
    assert_eq!(
        (refused.code(), refused.field()),
        ("BAD_USER_INPUT", "country")
    );
    let totals = shop
        .gql_as(
            &alice,
            &format!("{{ cart {{ totals(country: \"GB\") {{ {TOTALS} }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        (totals.code(), totals.field()),
        ("BAD_USER_INPUT", "country")
    );

    let everywhere = shop
        .shipping_method(json!({ "name": "Standard", "price": "4.95" }))
        .await;
    // One ships to GB now: it must be chosen, and the US-only one is refused.
    let refused = shop.check_out(&alice, VISA, None).await;
    assert_eq!(
        (refused.code(), refused.field()),
        ("BAD_USER_INPUT", "shippingMethodId")
    );
    let refused = shop.check_out(&alice, VISA, Some(&us_only)).await;
    assert_eq!(
        (refused.code(), refused.field()),
        ("BAD_USER_INPUT", "shippingMethodId")
    );
    assert_eq!(shop.stored_orders().await, vec![]);
    assert_eq!(shop.ledger().await, vec![]);
    assert_eq!(shop.stock(&tea).await, 10);

    let order = shop.check_out(&alice, VISA, Some(&everywhere)).await;
    assert_eq!(order.data()["checkout"]["status"], "PAID");
}

#[tokio::test]
async fn cart_totals_refuse_a_malformed_country_or_shipping_method() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;

    for (variables, field) in [
        (json!({ "country": "Narnia" }), "country"),
        (
            json!({ "country": "GB", "method": "bm90IGFuIGlk" }),
            "shippingMethodId",
        ),
        (
            json!({ "country": "GB", "method": tea }),
            "shippingMethodId",
        ),
    ] {
        let answer = shop
            .gql_as(
                &alice,
                &format!(
                    "query($country: String, $method: ID) {{ cart {{ totals(country: $country, shippingMethodId: $method) {{ {TOTALS} }} }} }}"
                ),
                variables.clone(),
            )
            .await;
        assert_eq!(
            (answer.code(), answer.field()),
            ("BAD_USER_INPUT", field),
            "{variables}"
        );
    }
}

#[tokio::test]
async fn a_code_that_ended_since_it_was_applied_is_refused_at_checkout_and_nothing_is_charged() {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let code = shop
        .discount_code(json!({ "code": "SPRING", "percentOff": "15" }))
        .await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.apply_code(&alice, "SPRING").await.data();
    shop.change_discount_code(&code, json!({ "active": false }))
        .await;

    let refused = shop.check_out(&alice, VISA, None).await;

    assert_eq!(
        (refused.code(), refused.field()),
        ("BAD_USER_INPUT", "code")
    );
    assert_eq!(shop.stored_orders().await, vec![]);
    assert_eq!(shop.ledger().await, vec![]);
    assert_eq!(shop.stock(&tea).await, 10);
    assert_eq!(shop.cart(&alice).await["totalQuantity"], 2);
    assert_eq!(shop.times_used(&code).await, 0);
}

#[tokio::test]
async fn a_usage_limit_holds_under_concurrent_checkouts() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 100).await;
    let code = shop
        .discount_code(json!({ "code": "FIRST3", "amountOff": "1.00", "usageLimit": 3 }))
        .await;
    let buyers = shop.customers("buyer", 8).await;
    for buyer in &buyers {
        shop.put_in_cart(buyer, &tea, 1).await;
        shop.apply_code(buyer, "FIRST3").await.data();
    }

    let answers = join_all(buyers.iter().map(|b| shop.check_out(b, VISA, None))).await;

    let paid = answers
        .iter()
        .filter(|a| a.codes().is_empty() && a.data()["checkout"]["status"] == "PAID")
        .count();
    assert_eq!(paid, 3);
    for answer in answers.iter().filter(|a| !a.codes().is_empty()) {
        assert_eq!((answer.code(), answer.field()), ("BAD_USER_INPUT", "code"));
    }
    assert_eq!(shop.times_used(&code).await, 3);
    assert_eq!(shop.stored_orders().await.len(), 3);
    assert_eq!(shop.stock(&tea).await, 97);
}

#[tokio::test]
async fn a_cancelled_or_declined_order_gives_its_use_of_a_code_back() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 100).await;
    let code = shop
        .discount_code(json!({ "code": "ONCE", "amountOff": "1.00", "usageLimit": 1 }))
        .await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    for who in [&alice, &bob] {
        shop.put_in_cart(who, &tea, 1).await;
        shop.apply_code(who, "ONCE").await.data();
    }

    // A declined payment never used it.
    let declined = shop.check_out(&alice, DECLINED, None).await;
    assert_eq!(declined.code(), "PAYMENT_DECLINED");
    assert_eq!(shop.times_used(&code).await, 0);

    let order = shop.check_out(&alice, VISA, None).await;
    let order = order.data()["checkout"].clone();
    assert_eq!(order["totals"]["discount"]["amount"], "1.00");
    assert_eq!(shop.times_used(&code).await, 1);
    let refused = shop.check_out(&bob, VISA, None).await;
    assert_eq!(
        (refused.code(), refused.field()),
        ("BAD_USER_INPUT", "code")
    );

    shop.cancel(&alice, text(&order["id"])).await.data();
    assert_eq!(shop.times_used(&code).await, 0);
    let bought = shop.check_out(&bob, VISA, None).await;
    assert_eq!(bought.data()["checkout"]["discountCode"], "ONCE");
    assert_eq!(shop.times_used(&code).await, 1);
}

#[tokio::test]
async fn a_once_per_customer_code_serves_each_customer_once() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "4.20", 100).await;
    shop.discount_code(json!({ "code": "WELCOME", "percentOff": "10", "oncePerCustomer": true }))
        .await;
    let alice = shop.register("alice").await;
    let bob = shop.register("bob").await;
    shop.put_in_cart(&alice, &tea, 1).await;
    shop.apply_code(&alice, "WELCOME").await.data();
    shop.check_out(&alice, VISA, None).await.data();

    shop.put_in_cart(&alice, &tea, 1).await;
    let again = shop.apply_code(&alice, "WELCOME").await;
    assert_eq!((again.code(), again.field()), ("BAD_USER_INPUT", "code"));

    shop.put_in_cart(&bob, &tea, 1).await;
    shop.apply_code(&bob, "WELCOME").await.data();
    let order = shop.check_out(&bob, VISA, None).await;
    assert_eq!(order.data()["checkout"]["discountCode"], "WELCOME");
}

#[tokio::test]
async fn a_guests_code_comes_along_into_the_account_cart_at_login_unless_it_has_its_own() {
    let shop = open_shop().await;
    let tea = shop.product("Tea", "10.00", 10).await;
    shop.discount_code(json!({ "code": "GUEST5", "amountOff": "5.00" }))
        .await;
    shop.discount_code(json!({ "code": "OWN1", "amountOff": "1.00" }))
        .await;
    shop.register("alice").await;
    let bob = shop.register("bob").await;
    shop.put_in_cart(&bob, &tea, 1).await;
    shop.apply_code(&bob, "OWN1").await.data();

    for (username, expected) in [("alice", "GUEST5"), ("bob", "OWN1")] {
        let cart = shop.guest_cart_with_code(&tea, "guest5").await;

        let token = shop.login_with_cart(username, &cart).await;
        let cart = shop
            .send(
                Some(&token),
                "{ cart { discountCode totalQuantity } }",
                json!({}),
            )
            .await;
        assert_eq!(cart.data()["cart"]["discountCode"], expected, "{username}");
    }
}

#[tokio::test]
async fn the_order_confirmation_shows_how_the_total_came_about() {
    let smtp = crate::support::smtp::SmtpServer::start().await;
    let shop = open_shop_on(crate::notifications::spawn_app_mailing_to(&smtp).await).await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let standard = shop
        .shipping_method(json!({ "name": "Standard", "price": "4.95" }))
        .await;
    shop.tax_rate("GB", "20").await;
    shop.discount_code(json!({ "code": "SAVE10", "percentOff": "10" }))
        .await;
    shop.put_in_cart(&alice, &tea, 3).await;
    shop.apply_code(&alice, "SAVE10").await.data();
    let order = shop.check_out(&alice, VISA, Some(&standard)).await;
    let number = text(&order.data()["checkout"]["number"]).to_owned();

    let mail = crate::notifications::eventually("the confirmation", async || {
        smtp.messages()
            .into_iter()
            .find(|mail| mail.subject().contains(&number))
    })
    .await;

    for line in [
        "Subtotal: 12.60 USD",
        "Discount (SAVE10): -1.26 USD",
        "Shipping (Standard): 4.95 USD",
        "Tax: 3.26 USD",
        "Total: 19.55 USD",
    ] {
        assert!(mail.text.contains(line), "{line:?} in:\n{}", mail.text);
    }
    assert!(mail.html.contains("Discount (SAVE10)") && mail.html.contains("-1.26 USD"));
}

#[tokio::test]
async fn an_order_a_discount_makes_free_is_paid_without_asking_the_gateway_and_cancels_without_a_refund()
 {
    let shop = open_shop().await;
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "4.20", 10).await;
    let code = shop
        .discount_code(json!({ "code": "ONTHEHOUSE", "percentOff": "100" }))
        .await;
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.apply_code(&alice, "ONTHEHOUSE").await.data();

    // A token the gateway would decline: it is never asked, as nothing is owed.
    let order = shop.check_out(&alice, DECLINED, None).await;
    let order = order.data()["checkout"].clone();
    assert_eq!(order["status"], "PAID");
    assert_eq!(
        amounts(&order["totals"]),
        expect(["8.40", "8.40", "0.00", "0.00", "0.00"])
    );
    let ledger = shop.ledger().await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].amount_cents, ledger[0].reference.as_deref()),
        (0, None)
    );

    let cancelled = shop.cancel(&alice, text(&order["id"])).await;
    assert_eq!(cancelled.data()["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(shop.ledger().await.len(), 1, "no refund of nothing");
    assert_eq!(shop.stock(&tea).await, 10);
    assert_eq!(shop.times_used(&code).await, 0);
}

#[tokio::test]
async fn a_once_per_customer_code_a_user_already_used_shows_no_discount_and_is_refused_at_checkout()
{
    let shop = open_shop().await;
    let tea = shop.product("Tea", "10.00", 100).await;
    shop.discount_code(json!({ "code": "WELCOME", "percentOff": "10", "oncePerCustomer": true }))
        .await;
    let alice = shop.register("alice").await;
    shop.put_in_cart(&alice, &tea, 1).await;
    shop.apply_code(&alice, "WELCOME").await.data();
    shop.check_out(&alice, VISA, None).await.data();

    // As a guest (not known to be Alice yet) the code applies; logging in brings it along.
    let cart = shop.guest_cart_with_code(&tea, "WELCOME").await;
    shop.login_with_cart("alice", &cart).await;

    assert_eq!(
        amounts(&shop.cart_totals(&alice, Some("GB"), None).await),
        expect(["10.00", "0.00", "0.00", "0.00", "10.00"])
    );
    let refused = shop.check_out(&alice, VISA, None).await;
    assert_eq!(
        (refused.code(), refused.field()),
        ("BAD_USER_INPUT", "code")
    );
    assert!(
        text(&refused.error()["message"]).contains("already used"),
        "{:?}",
        refused.error()
    );
}

#[tokio::test]
async fn the_demo_code_takes_ten_percent_from_twenty_and_is_seeded_once() {
    let shop = open_shop().await;
    assert!(
        shop::service::demo::seed_discount_code(&shop.db)
            .await
            .expect("seeded")
    );
    assert!(
        !shop::service::demo::seed_discount_code(&shop.db)
            .await
            .expect("checked")
    );
    let alice = shop.register("alice").await;
    let tea = shop.product("Tea", "10.00", 10).await;
    shop.put_in_cart(&alice, &tea, 1).await;

    let below = shop.apply_code(&alice, "welcome10").await;
    assert_eq!((below.code(), below.field()), ("BAD_USER_INPUT", "code"));
    shop.put_in_cart(&alice, &tea, 2).await;
    shop.apply_code(&alice, "welcome10").await.data();
    assert_eq!(
        amounts(&shop.cart_totals(&alice, None, None).await),
        expect(["30.00", "3.00", "0.00", "0.00", "27.00"])
    );
}
