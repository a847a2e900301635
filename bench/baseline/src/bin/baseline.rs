//! The yardstick of `bench/run.sh`: the storefront's product list page (20 products with
//! their category, the JSON `shop` answers to the bench's list query) served by one
//! hand-written axum handler and one hand-written SQL query, with no GraphQL, ORM query
//! builder, DataLoader or extension in between. What shop's list page reaches as a fraction of this is what GraphQL and
//! shop's own layers cost.
//!
//! Same database, same pool settings (`shop::db::connect`), same sort (oldest first, id
//! as the tie-breaker), same ids and cursors as shop.
//!
//!     DATABASE_URL=... SHOP_LISTEN=127.0.0.1:8098 baseline

use std::env;

use axum::{Json, Router, extract::State, routing::post};
use chrono::SecondsFormat;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Statement, prelude::DateTimeUtc,
};
use serde_json::{Value, json};
use shop::domain::{Cursor, GlobalId, Money, NodeKind};

const PAGE_SIZE: u64 = 20;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = env::var("DATABASE_URL")?;
    let listen = env::var("SHOP_LISTEN").unwrap_or_else(|_| "127.0.0.1:8098".into());
    let connections = env::var("SHOP_DB_MAX_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(16);
    let db = shop::db::connect(&url, connections).await?;
    // POST /graphql, so the bench drives it with the same wrk script and body as shop.
    let app = Router::new()
        .route("/graphql", post(product_list))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The page: one hand-written query joining each product to its category.
const LIST_SQL: &str = "SELECT p.id, p.name, p.slug, p.price_cents, p.stock, p.created_at, \
    c.name AS category_name, c.slug AS category_slug \
    FROM products p LEFT JOIN categories c ON c.id = p.category_id \
    WHERE NOT p.archived ORDER BY p.created_at, p.id LIMIT 21";

async fn product_list(State(db): State<DatabaseConnection>) -> Json<Value> {
    let statement = Statement::from_string(db.get_database_backend(), LIST_SQL);
    match db
        .query_all_raw(statement)
        .await
        .and_then(|rows| page(&rows))
    {
        Ok(page) => Json(page),
        Err(_) => Json(json!({ "errors": [{ "message": "database error" }] })),
    }
}

fn page(rows: &[QueryResult]) -> Result<Value, DbErr> {
    let has_next_page = rows.len() as u64 > PAGE_SIZE;
    let mut edges = Vec::with_capacity(PAGE_SIZE as usize);
    for row in rows.iter().take(PAGE_SIZE as usize) {
        let id: i32 = row.try_get("", "id")?;
        let created_at: DateTimeUtc = row.try_get("", "created_at")?;
        let price_cents: i64 = row.try_get("", "price_cents")?;
        let stock: i32 = row.try_get("", "stock")?;
        let category_name: Option<String> = row.try_get("", "category_name")?;
        let category_slug: Option<String> = row.try_get("", "category_slug")?;
        edges.push(json!({
            "cursor": cursor(id, created_at),
            "node": {
                "id": GlobalId::new(NodeKind::Product, id).to_string(),
                "name": row.try_get::<String>("", "name")?,
                "slug": row.try_get::<String>("", "slug")?,
                "price": {
                    "amount": Money::from_cents(price_cents).to_string(),
                    "currencyCode": "USD",
                },
                "inStock": stock > 0,
                "category": category_name.zip(category_slug)
                    .map(|(name, slug)| json!({ "name": name, "slug": slug })),
            },
        }));
    }
    let end_cursor = edges.last().map(|edge| edge["cursor"].clone());
    Ok(json!({
        "data": { "products": {
            "edges": edges,
            "pageInfo": { "hasNextPage": has_next_page, "endCursor": end_cursor },
        } }
    }))
}

fn cursor(id: i32, created_at: DateTimeUtc) -> String {
    let created_at = created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    Cursor {
        id,
        sort_value: Some(format!("c{created_at}")),
    }
    .encode()
}
