//! The yardstick of `bench/run.sh`: the storefront's product list page (20 products with
//! their category, the JSON `shop` answers to the bench's list query) served by one
//! hand-written axum handler and one SQL query, with no GraphQL, DataLoader or extension
//! in between. What shop's list page reaches as a fraction of this is what GraphQL and
//! shop's own layers cost.
//!
//! Same database, same pool settings (`shop::db::connect`), same sort (oldest first, id
//! as the tie-breaker), same ids and cursors as shop.
//!
//!     DATABASE_URL=... SHOP_LISTEN=127.0.0.1:8098 baseline

use std::env;

use axum::{Json, Router, extract::State, routing::post};
use chrono::SecondsFormat;
use entity::{category, product};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    prelude::DateTimeUtc,
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

async fn product_list(State(db): State<DatabaseConnection>) -> Json<Value> {
    let rows = product::Entity::find()
        .find_also_related(category::Entity)
        .filter(product::Column::Archived.eq(false))
        .order_by_asc(product::Column::CreatedAt)
        .order_by_asc(product::Column::Id)
        .limit(PAGE_SIZE + 1)
        .all(&db)
        .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(_) => return Json(json!({ "errors": [{ "message": "database error" }] })),
    };
    let has_next_page = rows.len() as u64 > PAGE_SIZE;
    let edges: Vec<Value> = rows
        .iter()
        .take(PAGE_SIZE as usize)
        .map(|(product, category)| {
            json!({
                "cursor": cursor(product.id, product.created_at),
                "node": {
                    "id": GlobalId::new(NodeKind::Product, product.id).to_string(),
                    "name": product.name,
                    "slug": product.slug,
                    "price": {
                        "amount": Money::from_cents(product.price_cents).to_string(),
                        "currencyCode": "USD",
                    },
                    "inStock": product.stock > 0,
                    "category": category.as_ref().map(|c| json!({ "name": c.name, "slug": c.slug })),
                },
            })
        })
        .collect();
    let end_cursor = edges.last().map(|edge| edge["cursor"].clone());
    Json(json!({
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
