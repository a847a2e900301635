//! The second yardstick of `bench/run.sh`: the storefront's product list page served by
//! the bare stack shop is built on, async-graphql over axum with sea-orm, answering the
//! same query with the same JSON as shop, through one JOIN for the page. No
//! authentication, DataLoaders, extensions, metrics, tracing or limits: what shop's list
//! page reaches as a fraction of this is the cost of shop's own layers, while the
//! hand-written yardstick (`baseline`) measures the stack's cost as well.
//!
//! Same database, same pool settings (`shop::db::connect`), same sort (oldest first, id
//! as the tie-breaker), same ids and cursors as shop.
//!
//!     DATABASE_URL=... SHOP_LISTEN=127.0.0.1:8097 bare

use std::env;

use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};
use async_graphql_axum::GraphQL;
use axum::Router;
use chrono::SecondsFormat;
use entity::{category, product};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shop::domain::{Cursor, GlobalId, Money, NodeKind};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = env::var("DATABASE_URL")?;
    let listen = env::var("SHOP_LISTEN").unwrap_or_else(|_| "127.0.0.1:8097".into());
    let connections = env::var("SHOP_DB_MAX_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(16);
    let db = shop::db::connect(&url, connections).await?;
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(db)
        .finish();
    let app = Router::new().route_service("/graphql", GraphQL::new(schema));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

struct Query;

#[Object]
impl Query {
    /// The oldest `first` products that are not archived, with their categories.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: u64,
    ) -> async_graphql::Result<ProductConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let mut rows = product::Entity::find()
            .filter(product::Column::Archived.eq(false))
            .order_by_asc(product::Column::CreatedAt)
            .order_by_asc(product::Column::Id)
            .limit(first + 1)
            .find_also_related(category::Entity)
            .all(db)
            .await?;
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let edges: Vec<ProductEdge> = rows
            .into_iter()
            .map(|(product, category)| ProductEdge {
                cursor: cursor(&product),
                node: Product { product, category },
            })
            .collect();
        let end_cursor = edges.last().map(|edge| edge.cursor.clone());
        Ok(ProductConnection {
            edges,
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
        })
    }
}

#[derive(SimpleObject)]
struct ProductConnection {
    edges: Vec<ProductEdge>,
    page_info: PageInfo,
}

#[derive(SimpleObject)]
struct ProductEdge {
    cursor: String,
    node: Product,
}

#[derive(SimpleObject)]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

struct Product {
    product: product::Model,
    category: Option<category::Model>,
}

#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(GlobalId::new(NodeKind::Product, self.product.id).to_string())
    }

    async fn name(&self) -> &str {
        &self.product.name
    }

    async fn slug(&self) -> &str {
        &self.product.slug
    }

    async fn price(&self) -> Price {
        Price {
            amount: Money::from_cents(self.product.price_cents).to_string(),
            currency_code: "USD",
        }
    }

    async fn in_stock(&self) -> bool {
        self.product.stock > 0
    }

    async fn category(&self) -> Option<Category<'_>> {
        self.category.as_ref().map(|category| Category {
            name: &category.name,
            slug: &category.slug,
        })
    }
}

#[derive(SimpleObject)]
struct Price {
    amount: String,
    currency_code: &'static str,
}

#[derive(SimpleObject)]
struct Category<'a> {
    name: &'a str,
    slug: &'a str,
}

fn cursor(product: &product::Model) -> String {
    let created_at = product
        .created_at
        .to_rfc3339_opts(SecondsFormat::AutoSi, true);
    Cursor {
        id: product.id,
        sort_value: Some(format!("c{created_at}")),
    }
    .encode()
}
