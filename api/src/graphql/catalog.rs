//! The catalog: categories and products, browsed by everyone and managed by admins.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entity::{category, product};

use super::{
    connection::{ConnectionOf, connection, page_cost},
    context::ContextExt,
    guards::AdminGuard,
    ids::node_id,
    input::{optional, patch},
    money::{Decimal, MoneyValue},
    variants::{PriceRange, ProductOptionObject, ProductVariant, options_of},
};
use crate::{
    domain::{
        CategoryDescription, CategoryName, GlobalId, IdOrSlug, ImageUrls, Money, NodeKind,
        PriceBounds, ProductDescription, ProductName, Search, Sku, Slug, Stock,
    },
    error::AppResult,
    service::{
        browse::{self, Listed, ProductFilter, ProductListing, SortKey},
        categories::{self, CategoryChanges, NewCategory},
        pagination::{Page, PageArgs},
        products::{self, NewProduct, ProductChanges},
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
            .categories
            .load_one(parent)
            .await?
            .map(Category))
    }
    /// The categories directly below this one, by name.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let children = ctx.request()?.children.load_one(self.0.id).await?;
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
            ..Default::default()
        };
        let page = browse::list(ctx.db()?, ctx.viewer()?, &listing).await?;
        Ok(product_connection(page))
    }
}

/// A product of the catalog, and its category when the query that found it read that too.
pub struct Product(pub product::Model, Option<category::Model>);

impl From<product::Model> for Product {
    fn from(product: product::Model) -> Self {
        Self(product, None)
    }
}

/// A product of the catalog, with its price and stock. Archived products are visible
/// to admins only, and through the orders that bought them.
#[Object]
impl Product {
    /// The product's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::Product, self.0.id)
    }
    /// The product's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The URL-safe, unique name of the product.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The product description (plain text).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The first variant's stock-keeping unit, upper-cased.
    async fn sku(&self) -> Option<&str> {
        self.0.sku.as_deref()
    }
    /// The lowest current price of its variants.
    async fn price(&self, ctx: &Context<'_>) -> Result<MoneyValue> {
        let price = Money::from_cents(self.0.price_cents);
        Ok(MoneyValue::new(price, ctx.currency()?.clone()))
    }
    /// Units available to buy now, all variants together.
    async fn stock(&self) -> i32 {
        self.0.stock
    }
    /// Whether at least one unit of some variant is available.
    async fn in_stock(&self) -> bool {
        self.0.stock > 0
    }
    /// The product's category, if any.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(category) = self.0.category_id else {
            return Ok(None);
        };
        if let Some(read) = self.1.as_ref().filter(|read| read.id == category) {
            return Ok(Some(Category(read.clone())));
        }
        Ok(ctx
            .request()?
            .categories
            .load_one(category)
            .await?
            .map(Category))
    }
    /// Absolute http(s) URLs of the product's images, in display order.
    async fn image_urls(&self) -> Vec<String> {
        products::image_urls(&self.0)
    }
    /// Whether the product was removed from the catalog while orders still refer to it.
    async fn archived(&self) -> bool {
        self.0.archived
    }
    /// The ways the product varies, e.g. Size and Colour; empty for a single-variant
    /// product.
    async fn options(&self) -> Vec<ProductOptionObject> {
        options_of(&self.0)
    }
    /// What is bought: at least one variant, in display order.
    async fn variants(&self, ctx: &Context<'_>) -> Result<Vec<ProductVariant>> {
        let variants = ctx.request()?.variants.load_one(self.0.id).await?;
        Ok(variants
            .unwrap_or_default()
            .into_iter()
            .map(ProductVariant)
            .collect())
    }
    /// The lowest and highest price of its variants.
    async fn price_range(&self, ctx: &Context<'_>) -> Result<PriceRange> {
        let variants = ctx.request()?.variants.load_one(self.0.id).await?;
        if let Some(range) = PriceRange::of(&variants.unwrap_or_default(), ctx)? {
            return Ok(range);
        }
        let price = MoneyValue::new(
            Money::from_cents(self.0.price_cents),
            ctx.currency()?.clone(),
        );
        Ok(PriceRange::single(price))
    }
    /// When the product was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the product was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Whether the client selected `totalCount`, which costs a second query.
fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Whether the client selected the products' categories, which the page's query can then
/// read along.
fn wants_categories(ctx: &Context<'_>) -> bool {
    let connection = ctx.look_ahead();
    connection.field("nodes").field("category").exists()
        || connection
            .field("edges")
            .field("node")
            .field("category")
            .exists()
}

/// A page of listed products as a connection.
fn product_connection(page: Page<Listed>) -> ConnectionOf<Product> {
    connection(page, |(product, category)| Product(product, category))
}

/// Parses an optional ID argument of one kind; `None` when it names another kind.
fn id_of_kind(id: &ID, field: &str, kind: NodeKind) -> AppResult<Option<i32>> {
    let id = GlobalId::parse(id, field)?;
    Ok((id.kind == kind).then_some(id.id))
}

pub(super) fn required_id(
    id: &ID,
    field: &str,
    kind: NodeKind,
    what: &'static str,
) -> AppResult<i32> {
    GlobalId::parse_kind(id, field, kind, what)
}

/// The ID of a category given as the input `field`; one of another kind is NOT_FOUND.
fn category_id(id: &(impl AsRef<str> + ?Sized), field: &str) -> AppResult<i32> {
    GlobalId::parse_kind(id.as_ref(), field, NodeKind::Category, "category")
}

/// A price given as the input `field`.
pub(super) fn price(price: &Decimal, field: &str) -> AppResult<Money> {
    Money::parse_price(&price.0, field)
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

/// A new category.
#[derive(InputObject)]
pub struct CreateCategoryInput {
    /// 1 to 100 characters.
    name: String,
    /// Made from the name when left out.
    slug: Option<String>,
    /// Up to 2,000 characters.
    description: Option<String>,
    /// The category to put it under; a root when left out.
    parent_id: Option<ID>,
}

/// Changes to a category; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateCategoryInput {
    /// 1 to 100 characters.
    name: Option<String>,
    /// A new unique slug.
    slug: Option<String>,
    /// Up to 2,000 characters; null removes it.
    description: MaybeUndefined<String>,
    /// The new parent; null makes it a root. Not the category itself or one below it.
    parent_id: MaybeUndefined<ID>,
}

/// A new product.
#[derive(InputObject)]
pub struct CreateProductInput {
    /// 1 to 200 characters.
    name: String,
    /// Up to 10,000 characters of plain text.
    description: String,
    /// From "0" to "1000000.00", at most two decimals.
    price: Decimal,
    /// Whole units from 0 to 1,000,000.
    stock: i32,
    /// Unique; letters, digits, '-', '_' and '.'.
    sku: Option<String>,
    /// The "was" price of its one variant; must be above `price`.
    compare_at_price: Option<Decimal>,
    /// Made from the name when left out.
    slug: Option<String>,
    /// The product's category.
    category_id: Option<ID>,
    /// Up to 20 absolute http(s) URLs.
    image_urls: Option<Vec<String>>,
}

/// Changes to a product; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateProductInput {
    /// 1 to 200 characters.
    name: Option<String>,
    /// Up to 10,000 characters of plain text.
    description: Option<String>,
    /// From "0" to "1000000.00", at most two decimals. Of a product with one variant only.
    price: Option<Decimal>,
    /// Whole units from 0 to 1,000,000. Of a product with one variant only.
    stock: Option<i32>,
    /// A new unique SKU; null removes it. Of a product with one variant only.
    sku: MaybeUndefined<String>,
    /// A new unique slug.
    slug: Option<String>,
    /// The new category; null leaves the product without one.
    category_id: MaybeUndefined<ID>,
    /// Replaces all image URLs.
    image_urls: Option<Vec<String>>,
    /// Archive (hide from browsing) or restore the product.
    archived: Option<bool>,
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
        };
        let page = browse::list(ctx.db()?, ctx.viewer()?, &listing).await?;
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

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Creates a category (admin).
    #[graphql(guard = "AdminGuard")]
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category to create.")] input: CreateCategoryInput,
    ) -> Result<Category> {
        let input = NewCategory {
            parent_id: optional(input.parent_id.as_deref(), "parentId", category_id)?,
            name: CategoryName::parse(&input.name, "name")?,
            slug: optional(input.slug.as_deref(), "slug", Slug::parse)?,
            description: optional(
                input.description.as_deref(),
                "description",
                CategoryDescription::parse,
            )?,
        };
        let category = categories::create(ctx.db()?, ctx.viewer()?, input).await?;
        Ok(Category(category))
    }

    /// Changes a category (admin).
    #[graphql(guard = "AdminGuard")]
    async fn update_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the category to change.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateCategoryInput,
    ) -> Result<Category> {
        let id = required_id(&id, "id", NodeKind::Category, "category")?;
        let changes = CategoryChanges {
            parent_id: patch(&input.parent_id, "parentId", category_id)?,
            name: optional(input.name.as_deref(), "name", CategoryName::parse)?,
            slug: optional(input.slug.as_deref(), "slug", Slug::parse)?,
            description: patch(
                &input.description,
                "description",
                CategoryDescription::parse,
            )?,
        };
        let category = categories::update(ctx.db()?, ctx.viewer()?, id, changes).await?;
        Ok(Category(category))
    }

    /// Deletes a category without subcategories or products (admin).
    #[graphql(guard = "AdminGuard")]
    async fn delete_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the category to delete.")] id: ID,
    ) -> Result<bool> {
        let id = required_id(&id, "id", NodeKind::Category, "category")?;
        Ok(categories::delete(ctx.db()?, ctx.viewer()?, id).await?)
    }

    /// Creates a product (admin).
    #[graphql(guard = "AdminGuard")]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product to create.")] input: CreateProductInput,
    ) -> Result<Product> {
        let input = NewProduct {
            category_id: optional(input.category_id.as_deref(), "categoryId", category_id)?,
            name: ProductName::parse(&input.name, "name")?,
            description: ProductDescription::parse(&input.description, "description")?,
            price: price(&input.price, "price")?,
            compare_at: optional(input.compare_at_price.as_ref(), "compareAtPrice", price)?,
            stock: Stock::parse(input.stock, "stock")?,
            sku: optional(input.sku.as_deref(), "sku", Sku::parse)?,
            slug: optional(input.slug.as_deref(), "slug", Slug::parse)?,
            image_urls: ImageUrls::parse(
                input.image_urls.as_deref().unwrap_or_default(),
                "imageUrls",
            )?,
        };
        let product = products::create(ctx.db()?, ctx.viewer()?, input).await?;
        Ok(Product::from(product))
    }

    /// Changes a product (admin).
    #[graphql(guard = "AdminGuard")]
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the product to change.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateProductInput,
    ) -> Result<Product> {
        let id = required_id(&id, "id", NodeKind::Product, "product")?;
        let changes = ProductChanges {
            category_id: patch(&input.category_id, "categoryId", category_id)?,
            name: optional(input.name.as_deref(), "name", ProductName::parse)?,
            description: optional(
                input.description.as_deref(),
                "description",
                ProductDescription::parse,
            )?,
            price: optional(input.price.as_ref(), "price", price)?,
            stock: optional(input.stock, "stock", Stock::parse)?,
            sku: patch(&input.sku, "sku", Sku::parse)?,
            slug: optional(input.slug.as_deref(), "slug", Slug::parse)?,
            image_urls: optional(input.image_urls.as_deref(), "imageUrls", ImageUrls::parse)?,
            archived: input.archived,
        };
        let product = products::update(ctx.db()?, ctx.viewer()?, id, changes).await?;
        Ok(Product::from(product))
    }

    /// Removes a product, or archives it when orders refer to it (admin).
    #[graphql(guard = "AdminGuard")]
    async fn delete_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the product to delete.")] id: ID,
    ) -> Result<bool> {
        let id = required_id(&id, "id", NodeKind::Product, "product")?;
        Ok(products::delete(ctx.db()?, ctx.viewer()?, id).await?)
    }
}
