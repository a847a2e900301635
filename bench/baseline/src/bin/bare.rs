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
//! With `BARE_SELECT=page` it reads only the columns the page shows (a `select_only`
//! JOIN into a struct of its own) instead of whole rows of both tables, to tell what
//! hydrating whole rows costs.
//!
//!     DATABASE_URL=... SHOP_LISTEN=127.0.0.1:8097 [BARE_SELECT=page] bare

use std::env;

use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};
use async_graphql_axum::GraphQL;
use axum::Router;
use chrono::SecondsFormat;
use entity::{category, product};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, prelude::DateTimeUtc,
};
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
    let whole_rows = env::var("BARE_SELECT").map_or(true, |select| select != "page");
    let schema = Schema::build(Query { whole_rows }, EmptyMutation, EmptySubscription)
        .data(db)
        .finish();
    let app = Router::new().route_service("/graphql", GraphQL::new(schema));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

struct Query {
    /// Whole rows of products and categories (what `find_also_related` reads), or only
    /// the page's columns.
    whole_rows: bool,
}

/// The columns of the page, when only those are read.
#[derive(FromQueryResult)]
struct PageRow {
    id: i32,
    name: String,
    slug: String,
    price_cents: i64,
    stock: i32,
    created_at: DateTimeUtc,
    category_name: Option<String>,
    category_slug: Option<String>,
}

#[Object]
impl Query {
    /// The oldest `first` products that are not archived, with their categories.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: u64,
    ) -> async_graphql::Result<ProductConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let page = product::Entity::find()
            .filter(product::Column::Archived.eq(false))
            .order_by_asc(product::Column::CreatedAt)
            .order_by_asc(product::Column::Id)
            .limit(first + 1);
        let mut rows: Vec<Product> = if self.whole_rows {
            page.find_also_related(category::Entity)
                .all(db)
                .await?
                .into_iter()
                .map(|(product, category)| Product {
                    id: product.id,
                    name: product.name,
                    slug: product.slug,
                    price_cents: product.price_cents,
                    stock: product.stock,
                    created_at: product.created_at,
                    category: category.map(|c| (c.name, c.slug)),
                })
                .collect()
        } else {
            page.select_only()
                .columns([
                    product::Column::Id,
                    product::Column::Name,
                    product::Column::Slug,
                    product::Column::PriceCents,
                    product::Column::Stock,
                    product::Column::CreatedAt,
                ])
                .left_join(category::Entity)
                .column_as(category::Column::Name, "category_name")
                .column_as(category::Column::Slug, "category_slug")
                .into_model::<PageRow>()
                .all(db)
                .await?
                .into_iter()
                .map(|row| Product {
                    id: row.id,
                    name: row.name,
                    slug: row.slug,
                    price_cents: row.price_cents,
                    stock: row.stock,
                    created_at: row.created_at,
                    category: row.category_name.zip(row.category_slug),
                })
                .collect()
        };
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let edges: Vec<ProductEdge> = rows
            .into_iter()
            .map(|product| ProductEdge {
                cursor: cursor(&product),
                node: product,
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
    id: i32,
    name: String,
    slug: String,
    price_cents: i64,
    stock: i32,
    created_at: DateTimeUtc,
    /// The category's name and slug.
    category: Option<(String, String)>,
}

#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(GlobalId::new(NodeKind::Product, self.id).to_string())
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn slug(&self) -> &str {
        &self.slug
    }

    async fn price(&self) -> Price {
        Price {
            amount: Money::from_cents(self.price_cents).to_string(),
            currency_code: "USD",
        }
    }

    async fn in_stock(&self) -> bool {
        self.stock > 0
    }

    async fn category(&self) -> Option<Category<'_>> {
        self.category
            .as_ref()
            .map(|(name, slug)| Category { name, slug })
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

fn cursor(product: &Product) -> String {
    let created_at = product
        .created_at
        .to_rfc3339_opts(SecondsFormat::AutoSi, true);
    Cursor {
        id: product.id,
        sort_value: Some(format!("c{created_at}")),
    }
    .encode()
}
