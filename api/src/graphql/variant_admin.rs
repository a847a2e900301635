//! Admins give products options and variants: the sizes and colours that are bought.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};

use super::{
    catalog::{Product, ProductVariant},
    context::ContextExt,
    guards::AdminGuard,
    ids::required_id,
    input::{optional, patch},
    money::{Decimal, price},
};
use crate::{
    domain::{ImageUrls, Money, NodeKind, ProductOptions, SelectedOption, Sku, Stock},
    error::AppResult,
    service::variants::{self, NewVariant, VariantChanges},
};

/// An option of a product and its values, in display order.
#[derive(InputObject)]
pub struct ProductOptionInput {
    /// 1 to 50 characters, unique within the product ignoring case.
    name: String,
    /// 1 to 100 values of 1 to 50 characters, unique ignoring case.
    values: Vec<String>,
}

/// A variant's value of one option.
#[derive(InputObject)]
pub struct SelectedOptionInput {
    /// The option's name (case does not matter).
    name: String,
    /// One of the option's values (case does not matter).
    value: String,
}

/// A new variant of a product.
#[derive(InputObject)]
pub struct CreateVariantInput {
    /// Exactly one value of each of the product's options.
    selected_options: Vec<SelectedOptionInput>,
    /// From "0" to "1000000.00", at most two decimals.
    price: Decimal,
    /// Whole units from 0 to 1,000,000.
    stock: i32,
    /// Unique across all variants; letters, digits, '-', '_' and '.'.
    sku: Option<String>,
    /// The "was" price; must be above `price`.
    compare_at_price: Option<Decimal>,
    /// Up to 20 absolute http(s) URLs.
    image_urls: Option<Vec<String>>,
}

/// Changes to a variant; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateVariantInput {
    /// Exactly one value of each of the product's options.
    selected_options: Option<Vec<SelectedOptionInput>>,
    /// From "0" to "1000000.00", at most two decimals.
    price: Option<Decimal>,
    /// Whole units from 0 to 1,000,000.
    stock: Option<i32>,
    /// A new unique SKU; null removes it.
    sku: MaybeUndefined<String>,
    /// The "was" price, above the price; null removes it.
    compare_at_price: MaybeUndefined<Decimal>,
    /// Replaces all image URLs.
    image_urls: Option<Vec<String>>,
}

fn selected(raw: &[SelectedOptionInput], field: &str) -> AppResult<Vec<SelectedOption>> {
    raw.iter()
        .map(|pick| SelectedOption::parse(&pick.name, &pick.value, field))
        .collect()
}

fn variant_id(id: &ID) -> AppResult<i32> {
    required_id(id, "id", NodeKind::ProductVariant, "variant")
}

#[derive(Default)]
pub struct VariantMutation;

#[Object]
impl VariantMutation {
    /// Sets a product's options (admin). Adding options or values is always allowed:
    /// existing variants take the first value of a new option. Removing a value that a
    /// variant uses, or an option without which two variants would be the same, is
    /// CONFLICT (field "options").
    #[graphql(guard = "AdminGuard")]
    async fn set_product_options(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product's ID.")] product_id: ID,
        #[graphql(desc = "All its options, in display order (at most 3).")] options: Vec<
            ProductOptionInput,
        >,
    ) -> Result<Product> {
        let product_id = required_id(&product_id, "productId", NodeKind::Product, "product")?;
        let raw: Vec<(String, Vec<String>)> = options
            .into_iter()
            .map(|option| (option.name, option.values))
            .collect();
        let options = ProductOptions::parse(&raw, "options")?;
        let product = variants::set_options(ctx.db()?, ctx.viewer()?, product_id, options).await?;
        Ok(Product::from(product))
    }

    /// Adds a variant to a product (admin).
    #[graphql(guard = "AdminGuard")]
    async fn create_product_variant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product's ID.")] product_id: ID,
        #[graphql(desc = "The variant to add.")] input: CreateVariantInput,
    ) -> Result<ProductVariant> {
        let product_id = required_id(&product_id, "productId", NodeKind::Product, "product")?;
        let input = NewVariant {
            selected_options: selected(&input.selected_options, "selectedOptions")?,
            price: price(&input.price, "price")?,
            compare_at: optional(input.compare_at_price.as_ref(), "compareAtPrice", price)?,
            stock: Stock::parse(input.stock, "stock")?,
            sku: optional(input.sku.as_deref(), "sku", Sku::parse)?,
            image_urls: ImageUrls::parse(
                input.image_urls.as_deref().unwrap_or_default(),
                "imageUrls",
            )?,
        };
        let variant = variants::create(ctx.db()?, ctx.viewer()?, product_id, input).await?;
        Ok(ProductVariant(variant))
    }

    /// Changes a variant (admin).
    #[graphql(guard = "AdminGuard")]
    async fn update_product_variant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The variant's ID.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateVariantInput,
    ) -> Result<ProductVariant> {
        let id = variant_id(&id)?;
        let changes = VariantChanges {
            selected_options: optional(
                input.selected_options.as_deref(),
                "selectedOptions",
                selected,
            )?,
            price: optional(input.price.as_ref(), "price", price)?,
            compare_at: patch(
                &input.compare_at_price.map_value(|amount| amount.0),
                "compareAtPrice",
                Money::parse_price,
            )?,
            stock: optional(input.stock, "stock", Stock::parse)?,
            sku: patch(&input.sku, "sku", Sku::parse)?,
            image_urls: optional(input.image_urls.as_deref(), "imageUrls", ImageUrls::parse)?,
        };
        let variant = variants::update(ctx.db()?, ctx.viewer()?, id, changes).await?;
        Ok(ProductVariant(variant))
    }

    /// Removes a variant, or archives it when orders refer to it (admin); never a
    /// product's last one.
    #[graphql(guard = "AdminGuard")]
    async fn delete_product_variant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The variant's ID.")] id: ID,
    ) -> Result<bool> {
        let id = variant_id(&id)?;
        Ok(variants::delete(ctx.db()?, ctx.viewer()?, id).await?)
    }
}
