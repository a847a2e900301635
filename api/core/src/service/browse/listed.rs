//! What a page reads of each product.
//!
//! A grid shows each product's card: name, price, stock, category. The description, the
//! options and the image list are shown on the product's own page, and they are most of a
//! row: decoding them for every product of a page that never shows them was the largest
//! single cost of a list page (bench/README.md, "Two yardsticks"). So a page reads them
//! only when the listing asks for its products' details.

use entity::{category, product};
use sea_orm::{DerivePartialModel, prelude::DateTimeUtc};

/// The columns of a product that every page reads: what a product card shows, and what
/// its cursor is made of under every sort order.
#[derive(Clone, Debug, PartialEq, Eq, DerivePartialModel)]
#[sea_orm(entity = "product::Entity")]
pub struct ProductCard {
    pub id: i32,
    pub name: String,
    pub slug: String,
    pub sku: Option<String>,
    pub price_cents: i64,
    pub stock: i32,
    pub category_id: Option<i32>,
    pub archived: bool,
    pub created_at: DateTimeUtc,
}

/// The rest of a product's row, read only for a page that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDetails {
    pub description: String,
    /// As stored: a JSON array of `{"name", "values"}`.
    pub options: String,
    /// As stored: a JSON array of http(s) URLs.
    pub image_urls: String,
    pub updated_at: DateTimeUtc,
}

/// A product as a page read it: its card, and its details when the listing asked for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedProduct {
    pub card: ProductCard,
    pub details: Option<ProductDetails>,
}

impl From<product::Model> for ListedProduct {
    fn from(product: product::Model) -> Self {
        let (card, details) = split(product);
        Self {
            card,
            details: Some(details),
        }
    }
}

impl From<ProductCard> for ListedProduct {
    fn from(card: ProductCard) -> Self {
        Self {
            card,
            details: None,
        }
    }
}

/// A whole product row as its card and its details.
pub fn split(product: product::Model) -> (ProductCard, ProductDetails) {
    let card = ProductCard {
        id: product.id,
        name: product.name,
        slug: product.slug,
        sku: product.sku,
        price_cents: product.price_cents,
        stock: product.stock,
        category_id: product.category_id,
        archived: product.archived,
        created_at: product.created_at,
    };
    let details = ProductDetails {
        description: product.description,
        options: product.options,
        image_urls: product.image_urls,
        updated_at: product.updated_at,
    };
    (card, details)
}

/// A product of a page, with its category when the listing asked for categories (and the
/// product has one).
pub type Listed = (ListedProduct, Option<category::Model>);
