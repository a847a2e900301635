//! The cart: what a shopper is about to buy, and what they saved for later. It lives in
//! the database, so it follows its shopper across devices and server processes.
//!
//! A user's cart is made on first use; a guest's is made by [`guests::create`] and found
//! by its secret (see [`CartId`]). Whoever names a cart with its secret may use it; a
//! user's cart only its user.

mod guests;
mod lines;
mod saved;

pub use guests::{create, ensure_guest, merge, sweep_expired_guests};
pub use lines::{add, move_to_cart, remove, save_for_later, update};
pub use saved::{SavedCartView, delete_saved, restore, save, saved_carts_of, saved_visible_by_ids};

use chrono::Utc;
use entity::{cart, cart_item, product, product_variant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, IntoCondition},
};

use crate::{
    db::{self, WriteTransaction},
    domain::{CartId, GuestSecret, Money, Quantity},
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

/// A line of a cart (or of a saved cart) with its product and variant as they are now.
#[derive(Clone, Debug)]
pub struct CartLine {
    pub quantity: i32,
    /// Kept in the cart, not bought.
    pub saved_for_later: bool,
    pub product: product::Model,
    pub variant: product_variant::Model,
}

impl CartLine {
    /// The line's total at the variant's current price.
    pub fn total(&self) -> Money {
        Money::from_cents(
            self.variant
                .price_cents
                .saturating_mul(i64::from(self.quantity)),
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

/// A variant a target names, with its product (read in the same statement).
type Named = (product_variant::Model, Option<product::Model>);

impl Target {
    /// The variant named, archived or not, with its product: NOT_FOUND when there is none.
    async fn resolve(self, db: &impl ConnectionTrait) -> AppResult<Named> {
        match self {
            Self::Variant {
                variant_id,
                product_id,
            } => {
                let (variant, product) = product_variant::Entity::find_by_id(variant_id)
                    .find_also_related(product::Entity)
                    .one(db)
                    .await?
                    .ok_or(AppError::NotFound("variant"))?;
                if product_id.is_some_and(|product| product != variant.product_id) {
                    return Err(Refusal::VariantNotOfProduct.into());
                }
                Ok((variant, product))
            }
            Self::OnlyVariantOf(product_id) => {
                let mut active = product_variant::Entity::find()
                    .filter(product_variant::Column::ProductId.eq(product_id))
                    .filter(product_variant::Column::Archived.eq(false))
                    .find_also_related(product::Entity)
                    .limit(2)
                    .all(db)
                    .await?;
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
    /// A guest cart's secret, when the caller named the cart by it (or just made it): its
    /// id as the client knows it. Only its hash is stored.
    pub secret: Option<GuestSecret>,
    /// What checkout will buy, oldest line first.
    pub items: Vec<CartLine>,
    /// Kept, not bought.
    pub saved: Vec<CartLine>,
}

impl CartView {
    pub fn total_quantity(&self) -> i32 {
        self.items.iter().map(|line| line.quantity).sum()
    }

    pub fn subtotal(&self) -> Money {
        Money::from_cents(self.items.iter().map(|line| line.total().cents()).sum())
    }
}

/// The cart a call names (see [`CartId`]), or the caller's own without a name: a user's
/// cart is made on first use; an anonymous caller without a name is UNAUTHENTICATED.
async fn find(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    named: Option<&CartId>,
) -> AppResult<cart::Model> {
    match named {
        None => ensure_cart(db, viewer.user_id()?).await,
        Some(CartId::Guest(secret)) => find_guest(db, secret)
            .await?
            .ok_or(AppError::NotFound("cart")),
        Some(CartId::User(id)) => cart::Entity::find_by_id(*id)
            .one(db)
            .await?
            .filter(|cart| cart.user_id.is_some() && cart.user_id == viewer.user_id().ok())
            .ok_or(AppError::NotFound("cart")),
    }
}

async fn find_guest(
    db: &impl ConnectionTrait,
    secret: &GuestSecret,
) -> AppResult<Option<cart::Model>> {
    Ok(cart::Entity::find()
        .filter(cart::Column::SecretHash.eq(secret.hash()))
        .one(db)
        .await?)
}

/// The guest secret of a named cart, which its view answers as the cart's id.
fn secret_of(named: Option<&CartId>) -> Option<GuestSecret> {
    match named {
        Some(CartId::Guest(secret)) => Some(secret.clone()),
        _ => None,
    }
}

/// The cart a call names, or the caller's own.
pub async fn get(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
) -> AppResult<CartView> {
    let cart = find(db, viewer, named).await?;
    view(db, cart, secret_of(named)).await
}

/// The id of the cart a call names (or of the caller's own), for a checkout.
pub async fn id_of(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
) -> AppResult<i32> {
    Ok(find(db, viewer, named).await?.id)
}

/// The user's cart row, created on first use.
async fn ensure_cart(db: &impl ConnectionTrait, user_id: i32) -> AppResult<cart::Model> {
    if let Some(cart) = find_cart(db, user_id).await? {
        return Ok(cart);
    }
    create_cart(db, user_id).await?;
    find_cart(db, user_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("cart of user {user_id} vanished")))
}

/// Creates the user's empty cart, unless it exists: two first requests may race to
/// create it, and the unique `user_id` keeps one.
async fn create_cart(db: &impl ConnectionTrait, user_id: i32) -> AppResult<()> {
    let now = Utc::now();
    cart::Entity::insert(cart::ActiveModel {
        user_id: Set(Some(user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([cart::Column::UserId])
    .exec(db)
    .await?;
    Ok(())
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
    let rows = rows
        .into_iter()
        .filter_map(|(item, product)| {
            Some(StoredLine {
                tag: (),
                variant_id: item.variant_id,
                quantity: item.quantity,
                saved_for_later: item.saved_for_later,
                product: product?,
            })
        })
        .collect();
    Ok(complete(db, rows)
        .await?
        .into_iter()
        .map(|((), line)| line)
        .collect())
}

/// A line as stored, to complete with its variant: whatever the caller keeps with it
/// (`tag`), the variant, the quantity, whether it is saved for later, and its product.
pub(crate) struct StoredLine<T> {
    pub tag: T,
    pub variant_id: i32,
    pub quantity: i32,
    pub saved_for_later: bool,
    pub product: product::Model,
}

/// Stored lines with their variants, in the order given, each with its tag: one query for
/// all the variants. A line whose variant is gone (deleted with its product) is left out.
pub(crate) async fn complete<T>(
    db: &impl ConnectionTrait,
    rows: Vec<StoredLine<T>>,
) -> AppResult<Vec<(T, CartLine)>> {
    let variant_ids: Vec<i32> = rows.iter().map(|row| row.variant_id).collect();
    let variants: std::collections::HashMap<i32, product_variant::Model> =
        variants::by_ids(db, &variant_ids)
            .await?
            .into_iter()
            .map(|variant| (variant.id, variant))
            .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let line = CartLine {
                quantity: row.quantity,
                saved_for_later: row.saved_for_later,
                product: row.product,
                variant: variants.get(&row.variant_id)?.clone(),
            };
            Some((row.tag, line))
        })
        .collect())
}

async fn view(
    db: &impl ConnectionTrait,
    cart: cart::Model,
    secret: Option<GuestSecret>,
) -> AppResult<CartView> {
    let (saved, items) = lines(db, cart.id)
        .await?
        .into_iter()
        .partition(|line| line.saved_for_later);
    Ok(CartView {
        cart,
        secret,
        items,
        saved,
    })
}

/// A cart opened for a change: its write transaction, its row as it is inside it, and
/// the secret it was named by.
pub(crate) struct Opened {
    pub(crate) txn: WriteTransaction,
    pub(crate) cart: cart::Model,
    pub(crate) secret: Option<GuestSecret>,
}

/// Opens a write transaction on the cart a call names (or the caller's own). Dropping the
/// transaction (on any error) leaves the cart as it was.
pub(crate) async fn open(
    db: &DatabaseConnection,
    viewer: &Viewer,
    named: Option<&CartId>,
) -> AppResult<Opened> {
    let (txn, cart) = match named {
        // The caller's own cart is looked up inside the write transaction, where a user's
        // first change also creates it: on SQLite that change waits its turn in the
        // writer queue too instead of racing for the lock.
        None => {
            let user_id = viewer.user_id()?;
            let txn = db::begin_write(db).await?;
            let cart = lock_own(&txn, user_id).await?;
            (txn, cart)
        }
        // A named cart is found before the write transaction begins, so that a name that
        // fits no cart never takes the writer's place.
        Some(_) => {
            let id = find(db, viewer, named).await?.id;
            let txn = db::begin_write(db).await?;
            let cart = lock(&txn, cart::Column::Id.eq(id)).await?;
            (txn, cart)
        }
    };
    let cart = cart.ok_or(AppError::NotFound("cart"))?;
    if cart.checkout_order_id.is_some() {
        return Err(checkout_in_progress());
    }
    Ok(Opened {
        txn,
        cart,
        secret: secret_of(named),
    })
}

/// Takes the row of the cart `which` picks for the rest of the transaction, marking it
/// changed, and answers it as it is then (one statement): changes to one cart queue up.
/// Writing its row first takes a row lock on PostgreSQL (SQLite's IMMEDIATE transaction
/// already serialises writers), so the line count and the existing line read next are
/// never stale; a checkout that claimed the cart meanwhile shows, and a cart merged or
/// swept away meanwhile is `None`. Without it, concurrent adds pass the 100-line check
/// together, or insert the same variant twice and fail with CONFLICT.
async fn lock(
    txn: &impl ConnectionTrait,
    which: impl IntoCondition,
) -> AppResult<Option<cart::Model>> {
    Ok(cart::Entity::update_many()
        .col_expr(cart::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(which)
        .exec_with_returning(txn)
        .await?
        .pop())
}

/// Takes the row of the user's own cart as [`lock`] does, creating the cart first if the
/// user has none yet.
async fn lock_own(txn: &impl ConnectionTrait, user_id: i32) -> AppResult<Option<cart::Model>> {
    let mine = cart::Column::UserId.eq(user_id);
    if let Some(cart) = lock(txn, mine.clone()).await? {
        return Ok(Some(cart));
    }
    create_cart(txn, user_id).await?;
    lock(txn, mine).await
}

/// Commits the change (the cart was marked changed when it was opened) and answers the
/// cart as it is now.
pub(crate) async fn commit(opened: Opened) -> AppResult<CartView> {
    let Opened { txn, cart, secret } = opened;
    let view = view(&txn, cart, secret).await?;
    txn.commit().await?;
    Ok(view)
}

/// A line a merge or a restore pours into a cart.
struct Poured {
    product_id: i32,
    variant_id: i32,
    quantity: i32,
    saved_for_later: bool,
}

/// Pours lines into a cart, in the caller's transaction (which holds the cart's row).
/// Lines of a variant the cart has add up (to at most 999); a line stays saved for later
/// only when it was saved on both sides. No line is dropped for the cart's line limit: that
/// limit refuses new lines, it never takes away what a shopper put in.
async fn pour(txn: &impl ConnectionTrait, cart_id: i32, lines: Vec<Poured>) -> AppResult<()> {
    let now = Utc::now();
    for line in lines {
        match lines::find_line(txn, cart_id, line.variant_id).await? {
            Some(existing) => {
                let quantity = existing
                    .quantity
                    .saturating_add(line.quantity)
                    .min(Quantity::MAX);
                let saved = existing.saved_for_later && line.saved_for_later;
                let mut existing = existing.into_active_model();
                existing.quantity = Set(quantity);
                existing.saved_for_later = Set(saved);
                existing.updated_at = Set(now);
                existing.update(txn).await?;
            }
            None => {
                cart_item::ActiveModel {
                    cart_id: Set(cart_id),
                    product_id: Set(line.product_id),
                    variant_id: Set(line.variant_id),
                    quantity: Set(line.quantity),
                    saved_for_later: Set(line.saved_for_later),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
    }
    Ok(())
}
