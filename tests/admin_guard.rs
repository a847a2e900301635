//! Every admin operation refuses everyone else, tested from the schema itself: each
//! mutation not explicitly listed as open to customers is called, with well-typed dummy
//! arguments built from its introspected argument types, by an anonymous caller and by a
//! customer. A new admin mutation is covered the moment it is added; a new customer
//! mutation fails this test until it is added to the list below.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

use crate::{
    catalog::{create_category, create_product},
    support::{Gql, Session, TestApp, spawn_app},
};

/// The mutations anyone (anonymous callers or customers) may call. Everything else is
/// admin-only.
const NOT_ADMIN_ONLY: &[&str] = &[
    "register",
    "login",
    "refreshToken",
    "logout",
    "updateAccount",
    "requestPasswordReset",
    "resetPassword",
    "requestEmailVerification",
    "verifyEmail",
    "addAddress",
    "deleteAddress",
    "updateAddress",
    "setDefaultAddress",
    "addToCart",
    "updateCartItem",
    "removeFromCart",
    "saveForLater",
    "moveToCart",
    "createCart",
    "mergeCart",
    "applyDiscountCode",
    "removeDiscountCode",
    "saveCart",
    "restoreSavedCart",
    "deleteSavedCart",
    "checkout",
    "confirmPayment",
    "cancelOrder",
];

/// The queries only admins may call, where the schema has them.
const ADMIN_QUERIES: &[&str] = &["users", "allOrders", "taxRates", "discountCodes"];

/// Mutations that must be among the generated calls, so the generation cannot silently
/// test nothing.
const KNOWN_ADMIN_MUTATIONS: &[&str] = &[
    "createCategory",
    "updateCategory",
    "deleteCategory",
    "createProduct",
    "updateProduct",
    "deleteProduct",
    "setAdmin",
    "setProductOptions",
    "createProductVariant",
    "updateProductVariant",
    "deleteProductVariant",
    "createShippingMethod",
    "updateShippingMethod",
    "deleteShippingMethod",
    "setTaxRate",
    "deleteTaxRate",
    "createDiscountCode",
    "updateDiscountCode",
];

const TYPE_REF: &str = "fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

/// The parts of the introspected schema the generator needs.
struct Introspection {
    queries: Vec<Value>,
    mutations: Vec<Value>,
    types: HashMap<String, Value>,
    node_kinds: Vec<String>,
}

async fn introspect(app: &TestApp) -> Introspection {
    let query = format!(
        "{TYPE_REF}
        query {{
          __schema {{
            queryType {{ fields {{ name args {{ name defaultValue type {{ ...TypeRef }} }} type {{ ...TypeRef }} }} }}
            mutationType {{ fields {{ name args {{ name defaultValue type {{ ...TypeRef }} }} type {{ ...TypeRef }} }} }}
            types {{ kind name enumValues {{ name }} inputFields {{ name defaultValue type {{ ...TypeRef }} }} }}
          }}
          node: __type(name: \"Node\") {{ possibleTypes {{ name }} }}
        }}"
    );
    let response = app.gql(&query, json!({})).await;
    let data = response.data();
    let list = |value: &Value| value.as_array().expect("a list").clone();
    Introspection {
        queries: list(&data["__schema"]["queryType"]["fields"]),
        mutations: list(&data["__schema"]["mutationType"]["fields"]),
        types: list(&data["__schema"]["types"])
            .into_iter()
            .map(|t| (t["name"].as_str().expect("a type name").to_owned(), t))
            .collect(),
        node_kinds: list(&data["node"]["possibleTypes"])
            .iter()
            .map(|t| t["name"].as_str().expect("a type name").to_owned())
            .collect(),
    }
}

/// A type reference as written in a variable definition, e.g. `[String!]!`.
fn type_string(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_string(&ty["ofType"])),
        Some("LIST") => format!("[{}]", type_string(&ty["ofType"])),
        _ => ty["name"].as_str().expect("a named type").to_owned(),
    }
}

/// The named type under any list and non-null wrappers.
fn named(ty: &Value) -> &Value {
    match ty["kind"].as_str() {
        Some("NON_NULL" | "LIST") => named(&ty["ofType"]),
        _ => ty,
    }
}

/// Whether a field or argument must be given: non-null without a default.
fn required(input: &Value) -> bool {
    input["type"]["kind"] == "NON_NULL" && input["defaultValue"].is_null()
}

impl Introspection {
    /// The kind of object an ID argument names: `userId` names a User, and `id` the kind
    /// in the field's name (`deleteProduct`); a Product when neither says.
    fn id_kind(&self, argument: &str, field: &str) -> String {
        let from_argument = argument.strip_suffix("Id").map(|stem| {
            let mut chars = stem.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        });
        if let Some(kind) = from_argument.filter(|k| self.node_kinds.contains(k)) {
            return kind;
        }
        self.node_kinds
            .iter()
            .filter(|kind| field.contains(kind.as_str()))
            .max_by_key(|kind| kind.len())
            .cloned()
            .unwrap_or_else(|| "Product".into())
    }

    /// A well-typed value for `ty`: `argument` and `field` say which kind of ID to make.
    fn dummy(&self, ty: &Value, argument: &str, field: &str) -> Value {
        match ty["kind"].as_str() {
            Some("NON_NULL") => self.dummy(&ty["ofType"], argument, field),
            Some("LIST") => json!([self.dummy(&ty["ofType"], argument, field)]),
            Some("SCALAR") => match ty["name"].as_str() {
                Some("ID") => {
                    json!(STANDARD.encode(format!("{}:1", self.id_kind(argument, field))))
                }
                Some("String") => json!("x"),
                Some("Int") => json!(1),
                Some("Float") => json!(1.0),
                Some("Boolean") => json!(true),
                Some("Decimal") => json!("1.00"),
                Some("DateTime") => json!("2030-01-01T00:00:00Z"),
                other => panic!("teach the generator a dummy value for the scalar {other:?}"),
            },
            Some("ENUM") => {
                let name = ty["name"].as_str().expect("an enum name");
                self.types[name]["enumValues"][0]["name"].clone()
            }
            Some("INPUT_OBJECT") => {
                let name = ty["name"].as_str().expect("an input type name");
                let fields = self.types[name]["inputFields"]
                    .as_array()
                    .expect("input fields");
                let object: Map<String, Value> = fields
                    .iter()
                    .filter(|f| required(f))
                    .map(|f| {
                        let key = f["name"].as_str().expect("a field name");
                        (key.to_owned(), self.dummy(&f["type"], key, field))
                    })
                    .collect();
                Value::Object(object)
            }
            other => panic!("no input type of kind {other:?}"),
        }
    }

    /// A document calling `field` of the `operation` root with its required arguments as
    /// variables, and those variables.
    fn call(&self, operation: &str, field: &Value) -> (String, Value) {
        let name = field["name"].as_str().expect("a field name");
        let mut definitions = Vec::new();
        let mut arguments = Vec::new();
        let mut variables = Map::new();
        for (i, arg) in field["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter(|a| required(a))
            .enumerate()
        {
            let arg_name = arg["name"].as_str().expect("an argument name");
            definitions.push(format!("$v{i}: {}", type_string(&arg["type"])));
            arguments.push(format!("{arg_name}: $v{i}"));
            variables.insert(format!("v{i}"), self.dummy(&arg["type"], arg_name, name));
        }
        let selection = match named(&field["type"])["kind"].as_str() {
            Some("OBJECT" | "INTERFACE" | "UNION") => " { __typename }",
            _ => "",
        };
        let wrap = |items: &[String]| {
            if items.is_empty() {
                String::new()
            } else {
                format!("({})", items.join(", "))
            }
        };
        let document = format!(
            "{operation} Guarded{} {{ {name}{}{selection} }}",
            wrap(&definitions),
            wrap(&arguments)
        );
        (document, Value::Object(variables))
    }
}

/// Everything an admin can see that an admin operation could change.
async fn snapshot(app: &TestApp, admin: &Session) -> Value {
    let response = app
        .gql_as(
            admin,
            "{
              users(first: 100) { totalCount nodes { id username email isAdmin } }
              products(first: 50, filter: { includeArchived: true }) {
                totalCount
                nodes {
                  id name slug description sku price { amount } stock category { id } imageUrls archived createdAt updatedAt
                  options { name values }
                  variants { id title sku selectedOptions { name value } price { amount } compareAtPrice { amount } stock imageUrls }
                }
              }
              categories { id name slug description parent { id } children { id name slug description } }
              shippingMethods(country: \"GB\") { id name price { amount } freeOver { amount } countries minDays maxDays }
              taxRates { country rate }
            }",
            json!({}),
        )
        .await;
    response.data().clone()
}

/// Asserts that a refused call failed with exactly `code` and returned no data.
fn assert_refused(response: &Gql, code: &str, what: &str) {
    assert_eq!(response.codes(), [code], "{what}: {:#}", response.body);
    assert!(
        response.body["data"].is_null(),
        "{what} returned data: {:#}",
        response.body
    );
}

#[tokio::test]
async fn every_admin_mutation_and_query_refuses_anonymous_callers_and_customers_and_changes_nothing()
 {
    let app = spawn_app().await;
    // The objects the dummy IDs name exist, so a call that got through would change them:
    // the customer is User:1, an empty category Category:1, an unreferenced product Product:1.
    let customer = app.register("alice").await;
    let admin = app.admin("root").await;
    create_category(&app, &admin, json!({ "name": "Empty" })).await;
    create_product(&app, &admin, json!({ "name": "Kettle" })).await;
    let schema = introspect(&app).await;
    let admin_mutations: Vec<&Value> = schema
        .mutations
        .iter()
        .filter(|m| !NOT_ADMIN_ONLY.contains(&m["name"].as_str().expect("a name")))
        .collect();
    let admin_queries: Vec<&Value> = schema
        .queries
        .iter()
        .filter(|q| ADMIN_QUERIES.contains(&q["name"].as_str().expect("a name")))
        .collect();
    let generated: Vec<&str> = admin_mutations
        .iter()
        .chain(&admin_queries)
        .map(|f| f["name"].as_str().expect("a name"))
        .collect();
    for known in KNOWN_ADMIN_MUTATIONS.iter().chain(&["users", "taxRates"]) {
        assert!(
            generated.contains(known),
            "{known} is not among {generated:?}"
        );
    }
    let calls: Vec<(&str, String, Value)> = admin_mutations
        .iter()
        .map(|m| ("mutation", *m))
        .chain(admin_queries.iter().map(|q| ("query", *q)))
        .map(|(operation, field)| {
            let (document, variables) = schema.call(operation, field);
            (field["name"].as_str().expect("a name"), document, variables)
        })
        .collect();
    let before = snapshot(&app, &admin).await;

    for (name, document, variables) in &calls {
        let anonymous = app.gql(document, variables.clone()).await;
        let by_customer = app.gql_as(&customer, document, variables.clone()).await;

        let what = format!("{name} ({document} with {variables})");
        assert_refused(&anonymous, "UNAUTHENTICATED", &format!("anonymous {what}"));
        assert_refused(&by_customer, "FORBIDDEN", &format!("customer {what}"));
    }

    assert_eq!(snapshot(&app, &admin).await, before);
}

#[tokio::test]
async fn the_generated_admin_calls_are_well_typed_and_do_their_work_for_an_admin() {
    let app = spawn_app().await;
    let customer = app.register("alice").await;
    let admin = app.admin("root").await;
    create_category(&app, &admin, json!({ "name": "Empty" })).await;
    create_product(&app, &admin, json!({ "name": "Kettle" })).await;
    let schema = introspect(&app).await;
    let before = snapshot(&app, &admin).await;

    // The same calls an admin makes get past the guard; whatever a dummy argument makes
    // of them then, it is never a document the server cannot run.
    let mut outcomes = HashMap::new();
    for field in schema
        .mutations
        .iter()
        .filter(|m| !NOT_ADMIN_ONLY.contains(&m["name"].as_str().expect("a name")))
    {
        let (document, variables) = schema.call("mutation", field);
        let response = app.gql_as(&admin, &document, variables.clone()).await;
        let name = field["name"].as_str().expect("a name").to_owned();
        for error in response.body["errors"].as_array().into_iter().flatten() {
            let code = error["extensions"]["code"].as_str().unwrap_or_default();
            assert!(
                !["UNAUTHENTICATED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"].contains(&code),
                "{name}: {document} with {variables}: {:#}",
                response.body
            );
            // An error with a path came from running the field, not from the document.
            assert!(
                error.get("path").is_some(),
                "{name} was not run: {:#}",
                response.body
            );
        }
        outcomes.insert(name, response.codes());
    }

    // The dummy calls reached real objects: the customer was promoted, the product and
    // the category were touched.
    assert_eq!(outcomes["setAdmin"], Vec::<String>::new());
    assert_ne!(snapshot(&app, &admin).await, before);
    let me = app.gql_as(&customer, "{ me { isAdmin } }", json!({})).await;
    assert_eq!(me.data()["me"]["isAdmin"], true);
}
