//! Variants: a product's options and the sizes and colours that are bought.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use entity::product_variant;

use super::{
    catalog::{Product, price, required_id},
    context::ContextExt,
    guards::AdminGuard,
    ids::node_id,
    input::{optional, patch},
    money::{Decimal, MoneyValue},
};
use crate::{
    domain::{ImageUrls, Money, NodeKind, ProductOptions, SelectedOption, Sku, Stock},
    error::{AppError, AppResult},
    service::variants::{self, NewVariant, VariantChanges},
};

/// One way a product varies, with the values its variants choose from.
#[derive(SimpleObject)]
#[graphql(name = "ProductOption")]
pub struct ProductOptionObject {
    /// The option's name, e.g. "Size".
    name: String,
    /// Its values in display order, e.g. ["S", "M", "L"].
    values: Vec<String>,
}

/// The options of a product as the API shows them.
pub fn options_of(product: &entity::product::Model) -> Vec<ProductOptionObject> {
    ProductOptions::from_stored(&product.options)
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
        let product = ctx.request()?.products.load_one(self.0.product_id).await?;
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
