//! Admins run the catalog: categories and products.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};

use super::{
    catalog::{Category, Product},
    context::ContextExt,
    guards::AdminGuard,
    ids::required_id,
    input::{optional, patch},
    money::{Decimal, price},
};
use crate::{
    domain::{
        CategoryDescription, CategoryName, GlobalId, ImageUrls, NodeKind, ProductDescription,
        ProductName, Sku, Slug, Stock,
    },
    error::AppResult,
    service::{
        categories::{self, CategoryChanges, NewCategory},
        products::{self, NewProduct, ProductChanges},
    },
};

/// The ID of a category given as the input `field`; one of another kind is NOT_FOUND.
fn category_id(id: &(impl AsRef<str> + ?Sized), field: &str) -> AppResult<i32> {
    GlobalId::parse_kind(id.as_ref(), field, NodeKind::Category, "category")
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
