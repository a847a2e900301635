//! The catalog: categories, products and their variants, as everyone browses them.

use std::borrow::Cow;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{category, product, product_variant};

use super::{
    connection::{ConnectionOf, connection, page_cost},
    context::ContextExt,
    ids::node_id,
    money::{Decimal, MoneyValue},
};
use crate::{
    domain::{GlobalId, IdOrSlug, ImageUrls, Money, NodeKind, PriceBounds, ProductOptions, Search},
    error::{AppError, AppResult},
    service::{
        browse::{
            self, Listed, ListedProduct, ProductCard, ProductDetails, ProductFilter,
            ProductListing, SortKey,
        },
        categories,
        pagination::{Page, PageArgs},
        products, variants,
    },
};

pub struct Category(pub category::Model);

/// A category of the catalog's tree. A category's products include those of its
/// subcategories.
#[Object]
impl Category {
    /// The category's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::Category, self.0.id)
    }
    /// The category's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The URL-safe, unique name of the category.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// A description for the category page.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The category above this one; null for a root.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(ctx
            .request()?
            .categories()
            .load_one(parent)
            .await?
            .map(Category))
    }
    /// The categories directly below this one, by name.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let children = ctx.request()?.children().load_one(self.0.id).await?;
        Ok(children
            .unwrap_or_default()
            .into_iter()
            .map(Category)
            .collect())
    }
    /// The visible products of this category and its subcategories, oldest first.
    #[graphql(complexity = "page_cost(first, last) * child_complexity")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forward: how many items, 0 to 100 (20 when no size is given).")]
        first: Option<i32>,
        #[graphql(desc = "Page forward from this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, 0 to 100; not with `first`.")]
        last: Option<i32>,
        #[graphql(desc = "Page backward from this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> Result<ConnectionOf<Product>> {
        let listing = ProductListing {
            filter: ProductFilter {
                category_id: Some(self.0.id),
                ..Default::default()
            },
            page: PageArgs::new(first, after, last, before),
            with_total: wants_total(ctx),
            with_categories: wants_categories(ctx),
            with_details: wants_details(ctx),
            ..Default::default()
        };
        let page = browse::list(ctx.db()?, ctx.search_index()?, ctx.viewer()?, &listing).await?;
        Ok(product_connection(page))
    }
}

/// A product of the catalog as the query that found it read it: its card always, its
/// details and its category when that query read them too (else they are loaded when a
/// field asks for them).
pub struct Product {
    product: ListedProduct,
    category: Option<category::Model>,
}

impl From<product::Model> for Product {
    fn from(product: product::Model) -> Self {
        Self {
            product: product.into(),
            category: None,
        }
    }
}

impl Product {
    fn card(&self) -> &ProductCard {
        &self.product.card
    }

    /// The product's description, options and images: as read with it, or loaded (batched
    /// with the other products of the response) for a page that did not read them.
    async fn details(&self, ctx: &Context<'_>) -> Result<Cow<'_, ProductDetails>> {
        if let Some(details) = &self.product.details {
            return Ok(Cow::Borrowed(details));
        }
        let product = ctx.request()?.products().load_one(self.card().id).await?;
        let product = product.ok_or(AppError::NotFound("product"))?;
        Ok(Cow::Owned(browse::split(product).1))
    }
}

/// A product of the catalog, with its price and stock. Archived products are visible
/// to admins only, and through the orders that bought them.
#[Object]
impl Product {
    /// The product's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::Product, self.card().id)
    }
    /// The product's name.
    async fn name(&self) -> &str {
        &self.card().name
    }
    /// The URL-safe, unique name of the product.
    async fn slug(&self) -> &str {
        &self.card().slug
    }
    /// The product description (plain text).
    async fn description(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.details(ctx).await?.description.clone())
    }
    /// The first variant's stock-keeping unit, upper-cased.
    async fn sku(&self) -> Option<&str> {
        self.card().sku.as_deref()
    }
    /// The lowest current price of its variants.
    async fn price(&self, ctx: &Context<'_>) -> Result<MoneyValue> {
        let price = Money::from_cents(self.card().price_cents);
        Ok(MoneyValue::new(price, ctx.currency()?.clone()))
    }
    /// Units available to buy now, all variants together.
    async fn stock(&self) -> i32 {
        self.card().stock
    }
    /// Whether at least one unit of some variant is available.
    async fn in_stock(&self) -> bool {
        self.card().stock > 0
    }
    /// The product's category, if any.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(category) = self.card().category_id else {
            return Ok(None);
        };
        if let Some(read) = self.category.as_ref().filter(|read| read.id == category) {
            return Ok(Some(Category(read.clone())));
        }
        Ok(ctx
            .request()?
            .categories()
            .load_one(category)
            .await?
            .map(Category))
    }
    /// Absolute http(s) URLs of the product's images, in display order.
    async fn image_urls(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(ImageUrls::from_stored(&self.details(ctx).await?.image_urls))
    }
    /// Whether the product was removed from the catalog while orders still refer to it.
    async fn archived(&self) -> bool {
        self.card().archived
    }
    /// The ways the product varies, e.g. Size and Colour; empty for a single-variant
    /// product.
    async fn options(&self, ctx: &Context<'_>) -> Result<Vec<ProductOptionObject>> {
        Ok(options_of(&self.details(ctx).await?.options))
    }
    /// What is bought: at least one variant, in display order.
    async fn variants(&self, ctx: &Context<'_>) -> Result<Vec<ProductVariant>> {
        let variants = ctx.request()?.variants().load_one(self.card().id).await?;
        Ok(variants
            .unwrap_or_default()
            .into_iter()
            .map(ProductVariant)
            .collect())
    }
    /// The lowest and highest price of its variants.
    async fn price_range(&self, ctx: &Context<'_>) -> Result<PriceRange> {
        let variants = ctx.request()?.variants().load_one(self.card().id).await?;
        if let Some(range) = PriceRange::of(&variants.unwrap_or_default(), ctx)? {
            return Ok(range);
        }
        let price = MoneyValue::new(
            Money::from_cents(self.card().price_cents),
            ctx.currency()?.clone(),
        );
        Ok(PriceRange::single(price))
    }
    /// When the product was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.card().created_at
    }
    /// When the product was last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.details(ctx).await?.updated_at)
    }
}

/// Whether the client selected `totalCount`, which costs a second query.
fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Whether the client selected the products' categories, which the page's query can then
/// read along.
fn wants_categories(ctx: &Context<'_>) -> bool {
    selects_of_products(ctx, &["category"])
}

/// Whether the client selected a product field that only a product's details answer: the
/// page's query then reads whole rows instead of cards.
fn wants_details(ctx: &Context<'_>) -> bool {
    selects_of_products(ctx, &["description", "options", "imageUrls", "updatedAt"])
}

/// Whether the selection of a product connection asks for one of `fields` of its products.
fn selects_of_products(ctx: &Context<'_>, fields: &[&str]) -> bool {
    let connection = ctx.look_ahead();
    let nodes = connection.field("nodes");
    let edge_nodes = connection.field("edges").field("node");
    fields
        .iter()
        .any(|field| nodes.field(field).exists() || edge_nodes.field(field).exists())
}

/// A page of listed products as a connection.
fn product_connection(page: Page<Listed>) -> ConnectionOf<Product> {
    connection(page, |(product, category)| Product { product, category })
}

/// Parses an optional ID argument of one kind; `None` when it names another kind.
fn id_of_kind(id: &ID, field: &str, kind: NodeKind) -> AppResult<Option<i32>> {
    let id = GlobalId::parse(id, field)?;
    Ok((id.kind == kind).then_some(id.id))
}

/// Which products to list.
#[derive(InputObject, Default)]
#[graphql(name = "ProductFilter")]
pub struct ProductFilterInput {
    /// Words to find in the name, description or SKU, case-insensitively; each word
    /// matches as a prefix ("lap" finds "laptop").
    search: Option<String>,
    /// Only products of this category or its subcategories.
    category_id: Option<ID>,
    /// Only products at or above this price.
    min_price: Option<Decimal>,
    /// Only products at or below this price.
    max_price: Option<Decimal>,
    /// Only products in stock (true) or sold out (false).
    in_stock: Option<bool>,
    /// Include archived products (admins only).
    #[graphql(default_with = "Some(false)")]
    include_archived: Option<bool>,
}

impl ProductFilterInput {
    fn parse(self) -> AppResult<ProductFilter> {
        let category_id = match &self.category_id {
            // An ID of another kind names no category: nothing matches.
            Some(id) => Some(id_of_kind(id, "categoryId", NodeKind::Category)?.unwrap_or(0)),
            None => None,
        };
        let prices = PriceBounds::parse(
            self.min_price.as_ref().map(|d| d.0.as_str()),
            self.max_price.as_ref().map(|d| d.0.as_str()),
        )?;
        let search = match &self.search {
            Some(raw) => Search::parse(raw, "search")?,
            None => None,
        };
        Ok(ProductFilter {
            search,
            category_id,
            prices,
            in_stock: self.in_stock,
            include_archived: self.include_archived.unwrap_or(false),
        })
    }
}

/// The orders a product list can have.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ProductSortKey {
    /// Alphabetically by name.
    Name,
    /// Cheapest first.
    Price,
    /// Oldest first.
    CreatedAt,
    /// Best match for the search first; without a search, as CREATED_AT.
    Relevance,
}

impl From<ProductSortKey> for SortKey {
    fn from(key: ProductSortKey) -> Self {
        match key {
            ProductSortKey::Name => Self::Name,
            ProductSortKey::Price => Self::Price,
            ProductSortKey::CreatedAt => Self::CreatedAt,
            ProductSortKey::Relevance => Self::Relevance,
        }
    }
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// One product by ID or slug; null when there is none the caller may see.
    async fn product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product's ID; give either `id` or `slug`.")] id: Option<ID>,
        #[graphql(desc = "The product's slug; give either `id` or `slug`.")] slug: Option<String>,
    ) -> Result<Option<Product>> {
        let id = match &id {
            Some(id) => match id_of_kind(id, "id", NodeKind::Product)? {
                Some(id) => Some(id),
                None => return Ok(None),
            },
            None => None,
        };
        let key = IdOrSlug::parse(id, slug.as_deref(), "id")?;
        let product = products::find_visible(ctx.db()?, ctx.viewer()?, &key).await?;
        Ok(product.map(Product::from))
    }

    /// Browse the catalog: search, filter, sort and page through the visible products.
    #[graphql(complexity = "page_cost(first, last) * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forward: how many items, 0 to 100 (20 when no size is given).")]
        first: Option<i32>,
        #[graphql(desc = "Page forward from this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, 0 to 100; not with `first`.")]
        last: Option<i32>,
        #[graphql(desc = "Page backward from this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
        #[graphql(desc = "Which products to list; all visible products when left out.")]
        filter: Option<ProductFilterInput>,
        #[graphql(
            default_with = "Some(ProductSortKey::CreatedAt)",
            desc = "How to order the products; oldest first by default."
        )]
        sort_key: Option<ProductSortKey>,
        #[graphql(
            default_with = "Some(false)",
            desc = "True lists in the opposite order of `sortKey`."
        )]
        reverse: Option<bool>,
    ) -> Result<ConnectionOf<Product>> {
        let listing = ProductListing {
            filter: filter.unwrap_or_default().parse()?,
            sort: sort_key.unwrap_or(ProductSortKey::CreatedAt).into(),
            reverse: reverse.unwrap_or(false),
            page: PageArgs::new(first, after, last, before),
            with_total: wants_total(ctx),
            with_categories: wants_categories(ctx),
            with_details: wants_details(ctx),
        };
        let page = browse::list(ctx.db()?, ctx.search_index()?, ctx.viewer()?, &listing).await?;
        Ok(product_connection(page))
    }

    /// The root categories, by name; walk down with `children`.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let roots = categories::roots(ctx.db()?).await?;
        Ok(roots.into_iter().map(Category).collect())
    }

    /// One category by ID or slug; null when there is none.
    async fn category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's ID; give either `id` or `slug`.")] id: Option<ID>,
        #[graphql(desc = "The category's slug; give either `id` or `slug`.")] slug: Option<String>,
    ) -> Result<Option<Category>> {
        let id = match &id {
            Some(id) => match id_of_kind(id, "id", NodeKind::Category)? {
                Some(id) => Some(id),
                None => return Ok(None),
            },
            None => None,
        };
        let key = IdOrSlug::parse(id, slug.as_deref(), "id")?;
        let category = categories::find(ctx.db()?, &key).await?;
        Ok(category.map(Category))
    }
}

/// One way a product varies, with the values its variants choose from.
#[derive(SimpleObject)]
#[graphql(name = "ProductOption")]
pub struct ProductOptionObject {
    /// The option's name, e.g. "Size".
    name: String,
    /// Its values in display order, e.g. ["S", "M", "L"].
    values: Vec<String>,
}

/// The options of a product (as stored) as the API shows them.
fn options_of(stored: &str) -> Vec<ProductOptionObject> {
    ProductOptions::from_stored(stored)
        .as_slice()
        .iter()
        .map(|option| ProductOptionObject {
            name: option.name.clone(),
            values: option.values.clone(),
        })
        .collect()
}

/// The value a variant has for one option.
#[derive(SimpleObject)]
#[graphql(name = "SelectedOption")]
pub struct SelectedOptionObject {
    /// The option's name, e.g. "Size".
    name: String,
    /// The variant's value of it, e.g. "M".
    value: String,
}

/// The lowest and highest price of a product's variants.
#[derive(SimpleObject)]
pub struct PriceRange {
    /// The cheapest variant's price.
    min: MoneyValue,
    /// The dearest variant's price.
    max: MoneyValue,
}

impl PriceRange {
    pub fn single(price: MoneyValue) -> Self {
        Self {
            min: price.clone(),
            max: price,
        }
    }

    pub fn of(variants: &[product_variant::Model], ctx: &Context<'_>) -> AppResult<Option<Self>> {
        let prices = variants.iter().map(|variant| variant.price_cents);
        let (Some(min), Some(max)) = (prices.clone().min(), prices.max()) else {
            return Ok(None);
        };
        let currency = ctx.currency()?;
        Ok(Some(Self {
            min: MoneyValue::new(Money::from_cents(min), currency.clone()),
            max: MoneyValue::new(Money::from_cents(max), currency.clone()),
        }))
    }
}

pub struct ProductVariant(pub product_variant::Model);

/// One buyable version of a product (a size, a colour) with its own price, stock and SKU.
#[Object]
impl ProductVariant {
    /// The variant's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::ProductVariant, self.0.id)
    }
    /// The product it is a variant of.
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        let product = ctx
            .request()?
            .products()
            .load_one(self.0.product_id)
            .await?;
        product.map(Product::from).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("variant {} has no product", self.0.id)).into()
        })
    }
    /// Its option values joined, e.g. "M / Red"; "Default" for a product without options.
    async fn title(&self) -> String {
        variants::title(&self.0)
    }
    /// The stock-keeping unit, upper-cased; unique when present.
    async fn sku(&self) -> Option<&str> {
        self.0.sku.as_deref()
    }
    /// One value per option of the product, in the product's option order.
    async fn selected_options(&self) -> Vec<SelectedOptionObject> {
        variants::selection(&self.0)
            .as_slice()
            .iter()
            .map(|pick| SelectedOptionObject {
                name: pick.name.clone(),
                value: pick.value.clone(),
            })
            .collect()
    }
    /// The current unit price.
    async fn price(&self, ctx: &Context<'_>) -> Result<MoneyValue> {
        let price = Money::from_cents(self.0.price_cents);
        Ok(MoneyValue::new(price, ctx.currency()?.clone()))
    }
    /// The "was" price, when set; always above `price`.
    async fn compare_at_price(&self, ctx: &Context<'_>) -> Result<Option<MoneyValue>> {
        let Some(cents) = self.0.compare_at_cents else {
            return Ok(None);
        };
        Ok(Some(MoneyValue::new(
            Money::from_cents(cents),
            ctx.currency()?.clone(),
        )))
    }
    /// Units available to buy now.
    async fn stock(&self) -> i32 {
        self.0.stock
    }
    /// Whether at least one unit is available.
    async fn in_stock(&self) -> bool {
        self.0.stock > 0 && !self.0.archived
    }
    /// The variant's own image URLs in display order; empty: the product's images show it.
    async fn image_urls(&self) -> Vec<String> {
        variants::image_urls(&self.0)
    }
}
