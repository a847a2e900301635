//! The shop floor for the cart, checkout and order tests: an admin who stocks products
//! through the API, customers with carts, checkouts, and direct looks into the database so
//! that every answer of the API can be checked against what was stored.

use std::ops::Deref;

use base64::{Engine, engine::general_purpose::STANDARD};

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

/// Every field of a variant a test may look at.
pub const VARIANT_FIELDS: &str = "id title sku selectedOptions { name value } price { amount currencyCode } compareAtPrice { amount } stock inStock imageUrls";

/// A product with its options, variants and price range: the variant tests' view of it.
pub const PRODUCT_VARIANT_FIELDS: &str = "id name sku price { amount currencyCode } stock inStock imageUrls archived updatedAt options { name values } variants { id title sku selectedOptions { name value } price { amount currencyCode } compareAtPrice { amount } stock inStock imageUrls } priceRange { min { amount } max { amount } }";

/// The fields of a cart whose lines are told apart by variant.
pub const CART_VARIANT_FIELDS: &str = "items { product { id } variant { id title price { amount } } quantity lineTotal { amount } } savedItems { product { id } variant { id title price { amount } } quantity lineTotal { amount } } totalQuantity subtotal { amount }";

/// The fields of an order whose lines name their variant.
pub const ORDER_VARIANT_FIELDS: &str = "id number status total { amount } items { product { id } variant { id title } productName variantTitle sku unitPrice { amount } quantity lineTotal { amount } }";

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
    open_shop_on(spawn_app().await).await
}

/// A shop on a server the test spawned itself (e.g. one that mails to a test SMTP server),
/// with its admin, `root`.
pub async fn open_shop_on(app: TestApp) -> Shop {
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

/// The global ID of a product variant that does not exist.
pub fn missing_variant() -> String {
    STANDARD.encode("ProductVariant:999999")
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

/// What a cart operation names: a product (of one variant), a variant, both or neither.
#[derive(Clone, Copy, Debug, Default)]
pub struct Line<'a> {
    pub product: Option<&'a str>,
    pub variant: Option<&'a str>,
}

impl<'a> Line<'a> {
    /// The line of a product's only variant, named by the product.
    pub fn product(product: &'a str) -> Self {
        Self {
            product: Some(product),
            variant: None,
        }
    }

    /// The line of a variant.
    pub fn variant(variant: &'a str) -> Self {
        Self {
            product: None,
            variant: Some(variant),
        }
    }

    /// A variant named together with its product (or another one).
    pub fn both(product: &'a str, variant: &'a str) -> Self {
        Self {
            product: Some(product),
            variant: Some(variant),
        }
    }

    /// No product and no variant.
    pub fn neither() -> Self {
        Self::default()
    }
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

    /// `createDiscountCode` as the admin; answers its id.
    pub async fn discount_code(&self, input: Value) -> String {
        let created = self
            .gql_as(
                &self.admin,
                "mutation($input: CreateDiscountCodeInput!) { createDiscountCode(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await;
        text(&created.data()["createDiscountCode"]["id"]).to_owned()
    }

    /// How often a code was used, as the admin sees it.
    pub async fn times_used(&self, id: &str) -> i64 {
        let node = self
            .gql_as(
                &self.admin,
                "query($id: ID!) { node(id: $id) { ... on DiscountCode { timesUsed } } }",
                json!({ "id": id }),
            )
            .await;
        node.data()["node"]["timesUsed"]
            .as_i64()
            .expect("timesUsed")
    }

    /// `applyDiscountCode` to `who`'s cart.
    pub async fn apply_code(&self, who: &Session, code: &str) -> Gql {
        self.gql_as(
            who,
            "mutation($code: String!) { applyDiscountCode(code: $code) { discountCode } }",
            json!({ "code": code }),
        )
        .await
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
        self.cart_call(who, field, Line::product(product), quantity, CART_FIELDS)
            .await
    }

    /// The cart mutation `field` (`addToCart`, `updateCartItem`, ...) on `line`, with
    /// `quantity` when given, answering `fields` of the cart. Only the IDs `line` holds
    /// are sent.
    pub async fn cart_call(
        &self,
        who: &Session,
        field: &str,
        line: Line<'_>,
        quantity: Option<i32>,
        fields: &str,
    ) -> Gql {
        self.cart_call_in(Some(who), None, field, line, quantity, fields)
            .await
    }

    /// [`Self::cart_call`] as `who` (`None`: anonymously) on the cart `cart` names as its
    /// `cartId` (`None`: no `cartId`, the caller's own cart).
    pub async fn cart_call_in(
        &self,
        who: Option<&Session>,
        cart: Option<&str>,
        field: &str,
        line: Line<'_>,
        quantity: Option<i32>,
        fields: &str,
    ) -> Gql {
        let mut declarations = Vec::new();
        let mut arguments = Vec::new();
        if cart.is_some() {
            declarations.push("$cart: ID");
            arguments.push("cartId: $cart");
        }
        if line.product.is_some() {
            declarations.push("$product: ID!");
            arguments.push("productId: $product");
        }
        if line.variant.is_some() {
            declarations.push("$variant: ID!");
            arguments.push("variantId: $variant");
        }
        if quantity.is_some() {
            declarations.push("$quantity: Int!");
            arguments.push("quantity: $quantity");
        }
        let declarations = if declarations.is_empty() {
            String::new()
        } else {
            format!("({})", declarations.join(", "))
        };
        let arguments = if arguments.is_empty() {
            String::new()
        } else {
            format!("({})", arguments.join(", "))
        };
        self.send(
            who.map(|who| who.access_token.as_str()),
            &format!("mutation{declarations} {{ {field}{arguments} {{ {fields} }} }}"),
            json!({
                "product": line.product,
                "variant": line.variant,
                "quantity": quantity,
                "cart": cart,
            }),
        )
        .await
    }

    /// How many SQL statements one request costs (as `who`, or anonymous), after checking it
    /// succeeded.
    pub async fn statements_for(
        &self,
        who: Option<&Session>,
        query: &str,
        variables: Value,
    ) -> u64 {
        let before = self.statements();
        let response = self
            .send(
                who.map(|session| session.access_token.as_str()),
                query,
                variables,
            )
            .await;
        response.data();
        self.statements() - before
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
        self.checkout_selecting(who, token, key, ORDER_FIELDS).await
    }

    /// `checkout` with the test address, answering `fields` of the order.
    pub async fn checkout_selecting(
        &self,
        who: &Session,
        token: &str,
        key: Option<&str>,
        fields: &str,
    ) -> Gql {
        self.gql_as(
            who,
            &format!(
                "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ {fields} }} }}"
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

    /// The admin's `setProductOptions`, answering the product's
    /// [`PRODUCT_VARIANT_FIELDS`].
    pub async fn set_options(&self, product: &str, options: Value) -> Gql {
        self.gql_as(
            &self.admin,
            &format!(
                "mutation($product: ID!, $options: [ProductOptionInput!]!) {{ setProductOptions(productId: $product, options: $options) {{ {PRODUCT_VARIANT_FIELDS} }} }}"
            ),
            json!({ "product": product, "options": options }),
        )
        .await
    }

    /// The admin's `createProductVariant` (`input` is a `CreateVariantInput`), answering
    /// the variant's [`VARIANT_FIELDS`] and its product's id.
    pub async fn try_variant(&self, product: &str, input: Value) -> Gql {
        self.gql_as(
            &self.admin,
            &format!(
                "mutation($product: ID!, $input: CreateVariantInput!) {{ createProductVariant(productId: $product, input: $input) {{ {VARIANT_FIELDS} product {{ id }} }} }}"
            ),
            json!({ "product": product, "input": input }),
        )
        .await
    }

    /// A variant the admin creates, which must succeed; answers its global ID.
    pub async fn variant(&self, product: &str, input: Value) -> String {
        let response = self.try_variant(product, input).await;
        text(&response.data()["createProductVariant"]["id"]).to_owned()
    }

    /// The admin's `updateProductVariant` (`changes` is an `UpdateVariantInput`).
    pub async fn change_variant(&self, variant: &str, changes: Value) -> Gql {
        self.gql_as(
            &self.admin,
            &format!(
                "mutation($id: ID!, $input: UpdateVariantInput!) {{ updateProductVariant(id: $id, input: $input) {{ {VARIANT_FIELDS} }} }}"
            ),
            json!({ "id": variant, "input": changes }),
        )
        .await
    }

    /// The admin's `deleteProductVariant`.
    pub async fn delete_variant(&self, variant: &str) -> Gql {
        self.gql_as(
            &self.admin,
            "mutation($id: ID!) { deleteProductVariant(id: $id) }",
            json!({ "id": variant }),
        )
        .await
    }

    /// A product as the admin reads it, with [`PRODUCT_VARIANT_FIELDS`].
    pub async fn product_view(&self, product: &str) -> Value {
        self.gql_as(
            &self.admin,
            &format!("query($id: ID) {{ product(id: $id) {{ {PRODUCT_VARIANT_FIELDS} }} }}"),
            json!({ "id": product }),
        )
        .await
        .data()["product"]
            .clone()
    }

    /// The IDs of a product's variants, in their order.
    pub async fn variant_ids(&self, product: &str) -> Vec<String> {
        self.product_view(product).await["variants"]
            .as_array()
            .unwrap_or_else(|| panic!("no variants of {product}"))
            .iter()
            .map(|variant| text(&variant["id"]).to_owned())
            .collect()
    }

    /// A variant as the admin reads it through `node(id:)`, with [`VARIANT_FIELDS`]; null
    /// when there is none.
    pub async fn variant_view(&self, variant: &str) -> Value {
        self.gql_as(
            &self.admin,
            &format!(
                "query($id: ID!) {{ node(id: $id) {{ ... on ProductVariant {{ {VARIANT_FIELDS} }} }} }}"
            ),
            json!({ "id": variant }),
        )
        .await
        .data()["node"]
            .clone()
    }

    /// A variant's stock, as the API tells it to an admin.
    pub async fn variant_stock(&self, variant: &str) -> i64 {
        let view = self.variant_view(variant).await;
        view["stock"]
            .as_i64()
            .unwrap_or_else(|| panic!("no stock in {view}"))
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

/// The variant IDs and quantities of a cart's `items` (or `savedItems`) list, selected
/// with [`CART_VARIANT_FIELDS`].
pub fn variant_lines(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list of cart lines, got {list}"))
        .iter()
        .map(|line| {
            (
                text(&line["variant"]["id"]).to_owned(),
                line["quantity"].as_i64().expect("a quantity"),
            )
        })
        .collect()
}
