//! The cart, a user's or a guest's: what checkout will buy.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::{
    catalog::{Product, ProductVariant},
    context::ContextExt,
    guards::LoggedInGuard,
    ids::{self, node_id, required_id},
    money::MoneyValue,
    totals::OrderTotals,
};
use crate::{
    domain::{CartId, Country, GlobalId, NodeKind, Quantity, SavedCartName},
    error::{AppError, AppResult},
    service::{
        Viewer,
        cart::{self, CartLine, CartView, SavedCartView},
        discounts,
        totals::{self, Destination, Purpose},
    },
};

/// The variant a cart mutation is about: `variantId`, or `productId` of a product with
/// one variant.
fn target(product_id: Option<ID>, variant_id: Option<ID>) -> AppResult<cart::Target> {
    let product_id = product_id
        .map(|id| GlobalId::parse_kind(&id, "productId", NodeKind::Product, "product"))
        .transpose()?;
    match variant_id {
        Some(id) => Ok(cart::Target::Variant {
            variant_id: GlobalId::parse_kind(
                &id,
                "variantId",
                NodeKind::ProductVariant,
                "variant",
            )?,
            product_id,
        }),
        None => product_id.map(cart::Target::OnlyVariantOf).ok_or_else(|| {
            AppError::bad_input(
                "variantId",
                "give variantId, or productId of a product with one variant",
            )
        }),
    }
}

/// The cart a call names by `cartId`; without one, the caller's own, for which an
/// anonymous caller is UNAUTHENTICATED before anything else is looked at.
pub(super) fn named(viewer: &Viewer, cart_id: Option<&ID>) -> AppResult<Option<CartId>> {
    match cart_id {
        Some(id) => CartId::parse(id).map(Some),
        None => viewer.user_id().map(|_| None),
    }
}

pub struct Cart(pub CartView);

/// A cart: what checkout will buy, and what is saved for later. Prices are the current
/// ones; checkout fixes them in the order.
#[Object]
impl Cart {
    /// The cart's ID. For a guest's cart it is the secret that gives access to it (pass it
    /// as `cartId`; keep it private); for a user's cart, an ID like any other.
    async fn id(&self) -> ID {
        match &self.0.secret {
            Some(secret) => ID(secret.as_str().to_owned()),
            None => node_id(NodeKind::Cart, self.0.cart.id),
        }
    }
    /// What checkout will buy, in the order the variants were added.
    async fn items(&self) -> Vec<CartItem> {
        self.0.items.iter().cloned().map(CartItem).collect()
    }
    /// Variants saved for later: kept in the cart, not bought.
    async fn saved_items(&self) -> Vec<CartItem> {
        self.0.saved.iter().cloned().map(CartItem).collect()
    }
    /// Units in `items`.
    async fn total_quantity(&self) -> i32 {
        self.0.total_quantity()
    }
    /// The sum of the `items` lines at current prices.
    async fn subtotal(&self, ctx: &Context<'_>) -> Result<MoneyValue> {
        Ok(MoneyValue::new(self.0.subtotal(), ctx.currency()?.clone()))
    }
    /// When the cart last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.cart.updated_at
    }
    /// What checkout would charge now for `items`, shipped to `country` with the shipping
    /// method `shippingMethodId` (left out: the cheapest that ships there). Without a
    /// country there is nothing to ship to or tax yet: shipping and tax are zero. The same
    /// refusals as checkout: BAD_USER_INPUT on `country` when methods exist but none ships
    /// there, on `shippingMethodId` for one that does not.
    async fn totals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ISO 3166-1 code of the country to ship to, e.g. \"GB\".")]
        country: Option<String>,
        #[graphql(
            desc = "The shipping method to price; the cheapest for the country when left out."
        )]
        shipping_method_id: Option<ID>,
    ) -> Result<OrderTotals> {
        let country = country
            .map(|raw| Country::parse(&raw, "country"))
            .transpose()?;
        let shipping_method = ids::shipping_method_id(shipping_method_id.as_ref())?;
        let destination = country.as_ref().map(|country| Destination {
            country,
            shipping_method,
        });
        let payments = ctx.payments()?;
        let quote = totals::quote(
            ctx.db()?,
            &self.0.cart,
            &self.0.items,
            destination,
            Purpose::Preview,
            payments.tax_mode,
        )
        .await?;
        Ok(OrderTotals::new(quote.totals, payments.currency.clone()))
    }
    /// The discount code applied to the cart, if any (upper case). Checkout checks it
    /// again: one that has since ended or run out is refused there.
    async fn discount_code(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(id) = self.0.cart.discount_code_id else {
            return Ok(None);
        };
        Ok(discounts::find(ctx.db()?, id).await?.map(|code| code.code))
    }
}

/// A whole cart a user put aside under a name, to restore another day.
pub struct SavedCart(pub SavedCartView);

/// A whole cart put aside under a name ("save carts for later"), at current prices.
#[Object]
impl SavedCart {
    /// The saved cart's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::SavedCart, self.0.saved.id)
    }
    /// The name it was saved under.
    async fn name(&self) -> &str {
        &self.0.saved.name
    }
    /// Its lines, at current prices.
    async fn items(&self) -> Vec<CartItem> {
        self.0.items.iter().cloned().map(CartItem).collect()
    }
    /// When it was saved.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.saved.created_at
    }
}

pub struct CartItem(pub CartLine);

/// One variant of a product in a cart, with how many units of it.
#[Object]
impl CartItem {
    /// The product, with its current price and stock.
    async fn product(&self) -> Product {
        Product::from(self.0.product.clone())
    }
    /// The variant, with its current price and stock.
    async fn variant(&self) -> ProductVariant {
        ProductVariant(self.0.variant.clone())
    }
    /// Units of the variant, 1 to 999.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// Quantity times the variant's current price.
    async fn line_total(&self, ctx: &Context<'_>) -> Result<MoneyValue> {
        Ok(MoneyValue::new(self.0.total(), ctx.currency()?.clone()))
    }
}

#[derive(Default)]
pub struct CartQuery;

#[Object]
impl CartQuery {
    /// A cart: a guest's by its `id`, or the caller's own. An unknown or expired `id` is
    /// NOT_FOUND; an anonymous caller without one, UNAUTHENTICATED.
    async fn cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A guest's cart (its `id`); the caller's own cart when left out.")]
        id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, id.as_ref())?;
        Ok(Cart(cart::get(ctx.db()?, viewer, named.as_ref()).await?))
    }
}

#[derive(Default)]
pub struct CartMutation;

#[Object]
impl CartMutation {
    /// A cart to shop with: a new guest cart for an anonymous caller (keep its `id`: it is
    /// the only way back to it), the caller's own cart for a user. Guest carts left
    /// unchanged for a while (30 days by default) are deleted.
    async fn create_cart(&self, ctx: &Context<'_>) -> Result<Cart> {
        Ok(Cart(cart::create(ctx.db()?, ctx.viewer()?).await?))
    }

    /// Puts units of a variant in the cart (adding to a line already there).
    async fn add_to_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product, when it has one variant; else give `variantId`.")]
        product_id: Option<ID>,
        #[graphql(desc = "The variant.")] variant_id: Option<ID>,
        #[graphql(default = 1, desc = "Units to add; the line may hold 1 to 999.")] quantity: i32,
        #[graphql(
            desc = "A guest's cart (its `id`); the caller's own cart when left out. \
                          Anonymous callers must give it."
        )]
        cart_id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, cart_id.as_ref())?;
        let target = target(product_id, variant_id)?;
        let quantity = Quantity::parse(quantity)?;
        let view = cart::add(ctx.db()?, viewer, named.as_ref(), target, quantity).await?;
        Ok(Cart(view))
    }

    /// Sets the quantity of a cart line; 0 removes it.
    async fn update_cart_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product, when it has one variant; else give `variantId`.")]
        product_id: Option<ID>,
        #[graphql(desc = "The variant.")] variant_id: Option<ID>,
        #[graphql(desc = "The line's new quantity, 0 to 999; 0 removes it.")] quantity: i32,
        #[graphql(
            desc = "A guest's cart (its `id`); the caller's own cart when left out. \
                          Anonymous callers must give it."
        )]
        cart_id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, cart_id.as_ref())?;
        let target = target(product_id, variant_id)?;
        let quantity = Quantity::parse_allowing_zero(quantity)?;
        let view = cart::update(ctx.db()?, viewer, named.as_ref(), target, quantity).await?;
        Ok(Cart(view))
    }

    /// Takes a variant out of the cart or the saved list.
    async fn remove_from_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product, when it has one variant; else give `variantId`.")]
        product_id: Option<ID>,
        #[graphql(desc = "The variant.")] variant_id: Option<ID>,
        #[graphql(
            desc = "A guest's cart (its `id`); the caller's own cart when left out. \
                          Anonymous callers must give it."
        )]
        cart_id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, cart_id.as_ref())?;
        let target = target(product_id, variant_id)?;
        let view = cart::remove(ctx.db()?, viewer, named.as_ref(), target).await?;
        Ok(Cart(view))
    }

    /// Moves a variant from the cart to "saved for later" (users only).
    #[graphql(guard = "LoggedInGuard")]
    async fn save_for_later(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product, when it has one variant; else give `variantId`.")]
        product_id: Option<ID>,
        #[graphql(desc = "The variant.")] variant_id: Option<ID>,
        #[graphql(
            desc = "A cart of the caller's (its `id`); the caller's own cart when left \
                          out."
        )]
        cart_id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, cart_id.as_ref())?;
        let target = target(product_id, variant_id)?;
        let view = cart::save_for_later(ctx.db()?, viewer, named.as_ref(), target).await?;
        Ok(Cart(view))
    }

    /// Moves a saved variant back into the cart (users only).
    #[graphql(guard = "LoggedInGuard")]
    async fn move_to_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product, when it has one variant; else give `variantId`.")]
        product_id: Option<ID>,
        #[graphql(desc = "The variant.")] variant_id: Option<ID>,
        #[graphql(
            desc = "A cart of the caller's (its `id`); the caller's own cart when left \
                          out."
        )]
        cart_id: Option<ID>,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let named = named(viewer, cart_id.as_ref())?;
        let target = target(product_id, variant_id)?;
        let view = cart::move_to_cart(ctx.db()?, viewer, named.as_ref(), target).await?;
        Ok(Cart(view))
    }

    /// Puts the caller's cart aside under a name (users only): its items become a saved
    /// cart and leave the cart; lines saved for later stay. At most 20 saved carts.
    #[graphql(guard = "LoggedInGuard")]
    async fn save_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "1 to 100 characters, e.g. \"Birthday party\".")] name: String,
    ) -> Result<SavedCart> {
        let name = SavedCartName::parse(&name, "name")?;
        Ok(SavedCart(cart::save(ctx.db()?, ctx.viewer()?, name).await?))
    }

    /// Adds a saved cart's lines to the caller's cart (quantities of a variant already
    /// there add up, to at most 999) and deletes the saved cart.
    #[graphql(guard = "LoggedInGuard")]
    async fn restore_saved_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The saved cart's ID.")] id: ID,
    ) -> Result<Cart> {
        let id = required_id(&id, "id", NodeKind::SavedCart, "saved cart")?;
        Ok(Cart(cart::restore(ctx.db()?, ctx.viewer()?, id).await?))
    }

    /// Deletes one of the caller's saved carts.
    #[graphql(guard = "LoggedInGuard")]
    async fn delete_saved_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The saved cart's ID.")] id: ID,
    ) -> Result<bool> {
        let id = required_id(&id, "id", NodeKind::SavedCart, "saved cart")?;
        Ok(cart::delete_saved(ctx.db()?, ctx.viewer()?, id).await?)
    }

    /// Moves a guest cart's lines into the caller's cart (users only); the guest cart is
    /// gone afterwards. Quantities of the same variant add up, to at most 999.
    #[graphql(guard = "LoggedInGuard")]
    async fn merge_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The guest cart's `id`.")] cart_id: ID,
    ) -> Result<Cart> {
        let viewer = ctx.viewer()?;
        let secret = CartId::parse(&cart_id)?.into_guest()?;
        let view = cart::merge(ctx.db()?, viewer.user_id()?, &secret).await?;
        Ok(Cart(view))
    }
}
