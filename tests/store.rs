//! The shop floor for the cart, checkout and order tests: an admin who stocks products
//! through the API, customers with carts, checkouts, and direct looks into the database so
//! that every answer of the API can be checked against what was stored.

use std::ops::Deref;

use entity::{cart_item, order, order_item, payment, product};
use futures_util::future::join_all;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};
use shop::domain::{GlobalId, NodeKind, PostalAddress};

use crate::support::{Gql, Session, TestApp, spawn_app};

/// Every field of a cart a test may look at.
pub const CART_FIELDS: &str = "items { product { id name price { amount currencyCode } stock } quantity lineTotal { amount currencyCode } } savedItems { product { id } quantity lineTotal { amount } } totalQuantity subtotal { amount currencyCode } updatedAt";

/// Every field of an order a test may look at.
pub const ORDER_FIELDS: &str = "id number status user { id } total { amount currencyCode } placedAt updatedAt shippingAddress { id fullName line1 line2 city postalCode country } items { product { id name price { amount } } productName unitPrice { amount currencyCode } quantity lineTotal { amount currencyCode } }";

/// The payment token the test gateway charges.
pub const VISA: &str = "tok_visa";
/// The payment token the test gateway declines.
pub const DECLINED: &str = "tok_chargeDeclined";
/// The payment token the test gateway fails on, as an unreachable gateway would.
pub const PROCESSING_ERROR: &str = "tok_processingError";

/// A running shop with an admin, `root`, who stocks the shelves.
pub struct Shop {
    pub app: TestApp,
    pub admin: Session,
}

impl Deref for Shop {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// A fresh shop on its own server and database.
pub async fn open_shop() -> Shop {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    Shop { app, admin }
}

/// The database id inside a global ID.
pub fn db_id(global_id: &str) -> i32 {
    GlobalId::parse(global_id, "id").expect("a global ID").id
}

/// The global ID of a product that does not exist.
pub fn missing_product() -> String {
    GlobalId::new(NodeKind::Product, 999_999).to_string()
}

/// The global ID of an order that does not exist.
pub fn missing_order() -> String {
    GlobalId::new(NodeKind::Order, 999_999).to_string()
}

/// The shipping address every test checks out with, as the API takes it.
pub fn address() -> Value {
    json!({
        "fullName": "Ada Lovelace",
        "line1": "12 St James's Square",
        "line2": "Flat 3",
        "city": "London",
        "postalCode": "SW1Y 4JH",
        "country": "GB",
    })
}

/// The same address as the service layer takes it, for calling `checkout::reserve`.
pub fn postal_address() -> PostalAddress {
    PostalAddress::parse(
        "Ada Lovelace",
        "12 St James's Square",
        Some("Flat 3"),
        "London",
        "SW1Y 4JH",
        "GB",
    )
    .expect("a valid address")
}

/// The string at `value`, which must be one.
pub fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}

impl Shop {
    /// A product the admin creates through the API; answers its global ID.
    pub async fn product(&self, name: &str, price: &str, stock: i32) -> String {
        let response = self
            .gql_as(
                &self.admin,
                "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
                json!({ "input": {
                    "name": name,
                    "description": format!("{name}, for the tests"),
                    "price": price,
                    "stock": stock,
                }}),
            )
            .await;
        text(&response.data()["createProduct"]["id"]).to_owned()
    }

    /// The admin changes a product (`changes` is an `UpdateProductInput`).
    pub async fn change_product(&self, product: &str, changes: Value) {
        self.gql_as(
            &self.admin,
            "mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }",
            json!({ "id": product, "input": changes }),
        )
        .await
        .data();
    }

    /// `count` customers named `<prefix>0`, `<prefix>1`, ..., registered concurrently.
    pub async fn customers(&self, prefix: &str, count: usize) -> Vec<Session> {
        join_all((0..count).map(|i| async move { self.register(&format!("{prefix}{i}")).await }))
            .await
    }

    async fn cart_operation(
        &self,
        who: &Session,
        field: &str,
        product: &str,
        quantity: Option<i32>,
    ) -> Gql {
        let (declaration, argument) = match quantity {
            Some(_) => (", $quantity: Int!", ", quantity: $quantity"),
            None => ("", ""),
        };
        self.gql_as(
            who,
            &format!(
                "mutation($product: ID!{declaration}) {{ {field}(productId: $product{argument}) {{ {CART_FIELDS} }} }}"
            ),
            json!({ "product": product, "quantity": quantity }),
        )
        .await
    }

    /// `addToCart`.
    pub async fn add(&self, who: &Session, product: &str, quantity: i32) -> Gql {
        self.cart_operation(who, "addToCart", product, Some(quantity))
            .await
    }

    /// `addToCart`, which must succeed.
    pub async fn put_in_cart(&self, who: &Session, product: &str, quantity: i32) {
        self.add(who, product, quantity).await.data();
    }

    /// `updateCartItem`.
    pub async fn update_line(&self, who: &Session, product: &str, quantity: i32) -> Gql {
        self.cart_operation(who, "updateCartItem", product, Some(quantity))
            .await
    }

    /// `removeFromCart`.
    pub async fn remove_line(&self, who: &Session, product: &str) -> Gql {
        self.cart_operation(who, "removeFromCart", product, None)
            .await
    }

    /// `saveForLater`.
    pub async fn save_for_later(&self, who: &Session, product: &str) -> Gql {
        self.cart_operation(who, "saveForLater", product, None)
            .await
    }

    /// `moveToCart`.
    pub async fn move_to_cart(&self, who: &Session, product: &str) -> Gql {
        self.cart_operation(who, "moveToCart", product, None).await
    }

    /// The customer's cart, which must load.
    pub async fn cart(&self, who: &Session) -> Value {
        self.gql_as(who, &format!("{{ cart {{ {CART_FIELDS} }} }}"), json!({}))
            .await
            .data()["cart"]
            .clone()
    }

    /// `checkout` with the test address.
    pub async fn checkout(&self, who: &Session, token: &str, key: Option<&str>) -> Gql {
        self.gql_as(
            who,
            &format!(
                "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ {ORDER_FIELDS} }} }}"
            ),
            json!({ "input": {
                "shippingAddress": address(),
                "paymentToken": token,
                "idempotencyKey": key,
            }}),
        )
        .await
    }

    /// Puts `quantity` of `product` in the customer's cart and buys it; answers the order.
    pub async fn buy(&self, who: &Session, product: &str, quantity: i32) -> Value {
        self.put_in_cart(who, product, quantity).await;
        self.checkout(who, VISA, None).await.data()["checkout"].clone()
    }

    /// `order(id:)` as `who`.
    pub async fn order(&self, who: &Session, id: &str) -> Gql {
        self.gql_as(
            who,
            &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await
    }

    /// `cancelOrder` as `who`.
    pub async fn cancel(&self, who: &Session, id: &str) -> Gql {
        self.gql_as(
            who,
            &format!("mutation($id: ID!) {{ cancelOrder(id: $id) {{ {ORDER_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await
    }

    /// `updateOrderStatus` as `who`.
    pub async fn set_status(&self, who: &Session, id: &str, status: &str) -> Gql {
        self.gql_as(
            who,
            "mutation($id: ID!, $status: OrderStatus!) { updateOrderStatus(id: $id, status: $status) { id status } }",
            json!({ "id": id, "status": status }),
        )
        .await
    }

    /// A product's stock as stored.
    pub async fn stock(&self, product: &str) -> i32 {
        product::Entity::find_by_id(db_id(product))
            .one(&self.db)
            .await
            .expect("product read")
            .expect("the product exists")
            .stock
    }

    /// Every order as stored, oldest first.
    pub async fn stored_orders(&self) -> Vec<order::Model> {
        order::Entity::find()
            .order_by_asc(order::Column::Id)
            .all(&self.db)
            .await
            .expect("orders read")
    }

    /// Every order line as stored.
    pub async fn stored_order_items(&self) -> Vec<order_item::Model> {
        order_item::Entity::find()
            .order_by_asc(order_item::Column::Id)
            .all(&self.db)
            .await
            .expect("order items read")
    }

    /// The payment ledger: every charge and refund as stored.
    pub async fn ledger(&self) -> Vec<payment::Model> {
        payment::Entity::find()
            .order_by_asc(payment::Column::Id)
            .all(&self.db)
            .await
            .expect("payments read")
    }

    /// Every cart line of every customer as stored.
    pub async fn stored_cart_items(&self) -> Vec<cart_item::Model> {
        cart_item::Entity::find()
            .order_by_asc(cart_item::Column::Id)
            .all(&self.db)
            .await
            .expect("cart items read")
    }
}

/// The product IDs and quantities of a cart's `items` (or `savedItems`) list.
pub fn lines(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list of cart lines, got {list}"))
        .iter()
        .map(|line| {
            (
                text(&line["product"]["id"]).to_owned(),
                line["quantity"].as_i64().expect("a quantity"),
            )
        })
        .collect()
}
