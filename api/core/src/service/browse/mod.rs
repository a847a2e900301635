//! Browsing the catalog: filters, full-text search, sorting and keyset pagination.
//!
//! A cursor holds the sort value and id of a product, tagged with the sort it belongs to.
//! Every page is read with `(sort value, id)` comparisons against it, backed by an index
//! per sort order, so page 500 costs what page 1 costs and no product is skipped or
//! repeated while others are added.
//!
//! A listing is first turned into a [`plan::Plan`] (the statements to run, with the
//! cursors read back into sort values), then [`page::read`] runs it and builds the page.
//! The search box's plain searches are served from an index in memory (`search_index`);
//! searches narrowed by other filters are SQL, which differs by database (`full_text`).

mod full_text;
mod listed;
mod page;
mod plan;
mod search_index;
mod sorting;
mod sqlite_count;

use sea_orm::DatabaseConnection;

use crate::{
    domain::{PriceBounds, Search},
    error::AppResult,
    service::{
        pagination::{Page, PageArgs},
        viewer::{Viewer, require_admin},
    },
};
pub use listed::{Listed, ListedProduct, ProductCard, ProductDetails, split};
use plan::Plan;
pub use search_index::{SearchIndex, prune as prune_search_changes};

/// Which products to list.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    /// Only products that match a search.
    pub search: Option<Search>,
    /// Only products of this category or one below it.
    pub category_id: Option<i32>,
    pub prices: PriceBounds,
    /// Only products in stock (true) or sold out (false).
    pub in_stock: Option<bool>,
    /// Archived products too (admins only).
    pub include_archived: bool,
}

/// The order of a product list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Price,
    #[default]
    CreatedAt,
    /// Best match first; without a search, the same as `CreatedAt`.
    Relevance,
}

/// A request for one page of products.
#[derive(Clone, Debug, Default)]
pub struct ProductListing {
    pub filter: ProductFilter,
    pub sort: SortKey,
    pub reverse: bool,
    pub page: PageArgs,
    /// Whether to count all matches (a second query), for `totalCount`.
    pub with_total: bool,
    /// Whether to read each product's category with it, in the page's own query, for a
    /// page that shows them: one query instead of a second one for the categories.
    pub with_categories: bool,
    /// Whether to read each product's details (description, options, images) too, for a
    /// page that shows them; otherwise only its card is read (see [`ListedProduct`]).
    pub with_details: bool,
}

/// One page of products for the listing.
pub async fn list(
    db: &DatabaseConnection,
    index: &SearchIndex,
    viewer: &Viewer,
    listing: &ProductListing,
) -> AppResult<Page<Listed>> {
    let window = listing.page.window()?;
    if listing.filter.include_archived {
        require_admin(db, viewer).await?;
    }
    match Plan::new(db, listing, window).await? {
        Some(plan) => page::read(db, index, &plan).await,
        // A search that nothing can match.
        None => Ok(Page::empty()),
    }
}
