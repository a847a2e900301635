//! The cart: what a user is about to buy, and what they saved for later. It lives in the
//! database, so it follows the user across devices and server processes.

use chrono::Utc;
use entity::{cart, cart_item, product, product_variant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};

use crate::{
    db::{self, WriteTransaction},
    domain::{GlobalId, Money, NodeKind, Quantity},
    error::{AppError, AppResult, Refusal},
    service::{variants, viewer::Viewer},
};

/// The most lines (in the cart and saved for later together) one cart may hold.
pub const MAX_LINES: u64 = 100;

/// What a checkout or a cart change meets while another checkout holds the cart.
pub fn checkout_in_progress() -> AppError {
    AppError::conflict(
        "cart",
        "a checkout of this cart is in progress; wait for its result",
    )
}

/// A cart line with its product and variant as they are now.
#[derive(Clone, Debug)]
pub struct CartLine {
    pub item: cart_item::Model,
    pub product: product::Model,
    pub variant: product_variant::Model,
}

impl CartLine {
    /// The line's total at the variant's current price.
    pub fn total(&self) -> Money {
        Money::from_cents(
            self.variant
                .price_cents
                .saturating_mul(i64::from(self.item.quantity)),
        )
    }
}

/// Which variant a cart operation is about, as the client named it: the variant itself
/// (perhaps with its product, which must then be its own), or a product that has exactly
/// one variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Variant {
        variant_id: i32,
        product_id: Option<i32>,
    },
    OnlyVariantOf(i32),
}

impl Target {
    /// The variant named, archived or not: NOT_FOUND when there is none.
    async fn resolve(self, db: &impl ConnectionTrait) -> AppResult<product_variant::Model> {
        match self {
            Self::Variant {
                variant_id,
                product_id,
            } => {
                let variant = product_variant::Entity::find_by_id(variant_id)
                    .one(db)
                    .await?
                    .ok_or(AppError::NotFound("variant"))?;
                if product_id.is_some_and(|product| product != variant.product_id) {
                    return Err(Refusal::VariantNotOfProduct.into());
                }
                Ok(variant)
            }
            Self::OnlyVariantOf(product_id) => {
                let mut active = variants::of_products(db, &[product_id]).await?;
                match (active.pop(), active.is_empty()) {
                    (Some(only), true) => Ok(only),
                    (Some(_), false) => Err(Refusal::VariantRequired.into()),
                    (None, _) => Err(AppError::NotFound("product")),
                }
            }
        }
    }
}

/// A cart as the client sees it.
#[derive(Clone, Debug)]
pub struct CartView {
    pub cart: cart::Model,
    /// What checkout will buy, oldest line first.
    pub items: Vec<CartLine>,
    /// Kept, not bought.
    pub saved: Vec<CartLine>,
}

impl CartView {
    pub fn total_quantity(&self) -> i32 {
        self.items.iter().map(|line| line.item.quantity).sum()
    }

    pub fn subtotal(&self) -> Money {
        Money::from_cents(self.items.iter().map(|line| line.total().cents()).sum())
    }
}

/// The caller's cart.
pub async fn get(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<CartView> {
    let user_id = viewer.user_id()?;
    let cart = ensure_cart(db, user_id).await?;
    view(db, cart).await
}

/// The user's cart row, created on first use.
async fn ensure_cart(db: &impl ConnectionTrait, user_id: i32) -> AppResult<cart::Model> {
    if let Some(cart) = find_cart(db, user_id).await? {
        return Ok(cart);
    }
    let now = Utc::now();
    // Two first requests may race to create it; the unique user_id keeps one.
    cart::Entity::insert(cart::ActiveModel {
        user_id: Set(user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([cart::Column::UserId])
    .exec(db)
    .await?;
    find_cart(db, user_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("cart of user {user_id} vanished")))
}

async fn find_cart(db: &impl ConnectionTrait, user_id: i32) -> AppResult<Option<cart::Model>> {
    Ok(cart::Entity::find()
        .filter(cart::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// Loads every line of `cart` with its product and variant.
pub async fn lines(db: &impl ConnectionTrait, cart_id: i32) -> AppResult<Vec<CartLine>> {
    let rows = cart_item::Entity::find()
        .filter(cart_item::Column::CartId.eq(cart_id))
        .find_also_related(product::Entity)
        .order_by_asc(cart_item::Column::Id)
        .all(db)
        .await?;
    let variant_ids: Vec<i32> = rows.iter().map(|(item, _)| item.variant_id).collect();
    let mut variants: std::collections::HashMap<i32, product_variant::Model> =
        variants::by_ids(db, &variant_ids)
            .await?
            .into_iter()
            .map(|variant| (variant.id, variant))
            .collect();
    Ok(rows
        .into_iter()
        .filter_map(|(item, product)| {
            let variant = variants.remove(&item.variant_id)?;
            product.map(|product| CartLine {
                item,
                product,
                variant,
            })
        })
        .collect())
}

async fn view(db: &impl ConnectionTrait, cart: cart::Model) -> AppResult<CartView> {
    let (saved, items) = lines(db, cart.id)
        .await?
        .into_iter()
        .partition(|line| line.item.saved_for_later);
    Ok(CartView { cart, items, saved })
}

/// The variant named, if it can be put in a cart: neither it nor its product archived.
async fn buyable(
    db: &impl ConnectionTrait,
    target: Target,
) -> AppResult<(product::Model, product_variant::Model)> {
    let variant = target.resolve(db).await?;
    match product::Entity::find_by_id(variant.product_id)
        .one(db)
        .await?
    {
        Some(product) if !product.archived && !variant.archived => Ok((product, variant)),
        Some(_) if variant.archived => Err(AppError::NotFound("variant")),
        _ => Err(AppError::NotFound("product")),
    }
}

fn ensure_stock(variant: &product_variant::Model, quantity: i32) -> AppResult<()> {
    if quantity > variant.stock {
        return Err(AppError::OutOfStock {
            product_id: GlobalId::new(NodeKind::Product, variant.product_id).to_string(),
            variant_id: GlobalId::new(NodeKind::ProductVariant, variant.id).to_string(),
            available: variant.stock,
        });
    }
    Ok(())
}

async fn find_line(
    db: &impl ConnectionTrait,
    cart_id: i32,
    variant_id: i32,
) -> AppResult<Option<cart_item::Model>> {
    Ok(cart_item::Entity::find()
        .filter(cart_item::Column::CartId.eq(cart_id))
        .filter(cart_item::Column::VariantId.eq(variant_id))
        .one(db)
        .await?)
}

/// The line of the cart holding the variant named: NOT_FOUND when there is none.
async fn line_of(
    db: &impl ConnectionTrait,
    cart_id: i32,
    target: Target,
) -> AppResult<cart_item::Model> {
    let variant = target.resolve(db).await?;
    find_line(db, cart_id, variant.id)
        .await?
        .ok_or(AppError::NotFound("cart item"))
}

/// Opens a write transaction on the caller's cart. Dropping the transaction (on any
/// error) leaves the cart as it was.
async fn open(
    db: &DatabaseConnection,
    viewer: &Viewer,
) -> AppResult<(WriteTransaction, cart::Model)> {
    let user_id = viewer.user_id()?;
    // A missing cart is created inside the write transaction, so that on SQLite a user's
    // first change waits its turn in the writer queue too instead of racing for the lock.
    let existing = find_cart(db, user_id).await?;
    let txn = db::begin_write(db).await?;
    let cart = match existing {
        Some(cart) => cart,
        None => ensure_cart(&txn, user_id).await?,
    };
    // Changes to one cart queue up: writing its row first takes a row lock on PostgreSQL
    // (SQLite's IMMEDIATE transaction already serialises writers), so the line count and
    // the existing line read next are never stale. Without it, concurrent adds pass the
    // 100-line check together, or insert the same product twice and fail with CONFLICT.
    cart::Entity::update_many()
        .col_expr(cart::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(cart::Column::Id.eq(cart.id))
        .exec(&txn)
        .await?;
    // Read again inside the transaction: a checkout may have claimed the cart meanwhile.
    let cart = cart::Entity::find_by_id(cart.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("cart {} vanished", cart.id)))?;
    if cart.checkout_order_id.is_some() {
        return Err(checkout_in_progress());
    }
    Ok((txn, cart))
}

/// Marks the cart changed, commits, and answers the cart as it is now.
async fn commit(txn: WriteTransaction, cart: cart::Model) -> AppResult<CartView> {
    let mut touched = cart.into_active_model();
    touched.updated_at = Set(Utc::now());
    let cart = touched.update(&txn).await?;
    let view = view(&txn, cart).await?;
    txn.commit().await?;
    Ok(view)
}

/// Puts `quantity` more units of a variant in the cart (a saved line moves back to the
/// cart). More than the stock is OUT_OF_STOCK; more than 999 on one line BAD_USER_INPUT.
pub async fn add(
    db: &DatabaseConnection,
    viewer: &Viewer,
    target: Target,
    quantity: Quantity,
) -> AppResult<CartView> {
    let (txn, cart) = open(db, viewer).await?;
    let (product, variant) = buyable(&txn, target).await?;
    let now = Utc::now();
    match find_line(&txn, cart.id, variant.id).await? {
        Some(line) => {
            let total = Quantity::parse(line.quantity.saturating_add(quantity.get()))?;
            ensure_stock(&variant, total.get())?;
            let mut line = line.into_active_model();
            line.quantity = Set(total.get());
            line.saved_for_later = Set(false);
            line.updated_at = Set(now);
            line.update(&txn).await?;
        }
        None => {
            ensure_stock(&variant, quantity.get())?;
            let count = cart_item::Entity::find()
                .filter(cart_item::Column::CartId.eq(cart.id))
                .count(&txn)
                .await?;
            if count >= MAX_LINES {
                return Err(Refusal::CartFull { max: MAX_LINES }.into());
            }
            cart_item::ActiveModel {
                cart_id: Set(cart.id),
                product_id: Set(product.id),
                variant_id: Set(variant.id),
                quantity: Set(quantity.get()),
                saved_for_later: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    commit(txn, cart).await
}

/// Sets a line's quantity; none (a quantity of 0) removes the line.
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    target: Target,
    quantity: Option<Quantity>,
) -> AppResult<CartView> {
    let Some(quantity) = quantity else {
        return remove(db, viewer, target).await;
    };
    let (txn, cart) = open(db, viewer).await?;
    let line = line_of(&txn, cart.id, target).await?;
    let (_, variant) = buyable(&txn, target).await?;
    ensure_stock(&variant, quantity.get())?;
    let mut line = line.into_active_model();
    line.quantity = Set(quantity.get());
    line.updated_at = Set(Utc::now());
    line.update(&txn).await?;
    commit(txn, cart).await
}

/// Takes a variant out of the cart (or the saved list).
pub async fn remove(
    db: &DatabaseConnection,
    viewer: &Viewer,
    target: Target,
) -> AppResult<CartView> {
    let (txn, cart) = open(db, viewer).await?;
    let line = line_of(&txn, cart.id, target).await?;
    cart_item::Entity::delete_by_id(line.id).exec(&txn).await?;
    commit(txn, cart).await
}

/// Moves a line from the cart to the saved list, or back (checking the stock).
async fn set_saved(
    db: &DatabaseConnection,
    viewer: &Viewer,
    target: Target,
    saved: bool,
) -> AppResult<CartView> {
    let (txn, cart) = open(db, viewer).await?;
    let line = line_of(&txn, cart.id, target).await?;
    if line.saved_for_later == saved {
        return Err(AppError::NotFound("cart item"));
    }
    if !saved {
        let (_, variant) = buyable(&txn, target).await?;
        ensure_stock(&variant, line.quantity)?;
    }
    let mut line = line.into_active_model();
    line.saved_for_later = Set(saved);
    line.updated_at = Set(Utc::now());
    line.update(&txn).await?;
    commit(txn, cart).await
}

/// Moves a variant from the cart to "saved for later".
pub async fn save_for_later(
    db: &DatabaseConnection,
    viewer: &Viewer,
    target: Target,
) -> AppResult<CartView> {
    set_saved(db, viewer, target, true).await
}

/// Moves a saved variant back into the cart.
pub async fn move_to_cart(
    db: &DatabaseConnection,
    viewer: &Viewer,
    target: Target,
) -> AppResult<CartView> {
    set_saved(db, viewer, target, false).await
}
