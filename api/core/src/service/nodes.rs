//! Objects by global ID, one or many at once: what `node(id:)` and `nodes(ids:)` answer,
//! both through [`find`], so the two can never disagree. Each kind is read with one query
//! for all its IDs (and one more for the caller's admin flag where a rule needs it),
//! however many IDs there are; who may see what is each kind's own rule, in its module.

use std::collections::HashMap;

use entity::{
    address, category, discount_code, order, product, product_variant, shipping_method, user,
};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{GlobalId, NodeKind},
    error::{AppError, AppResult},
    service::{
        Viewer, accounts,
        cart::{self, SavedCartView},
        categories, discounts, orders, products, shipping, variants,
    },
};

/// An object a global ID names.
#[derive(Clone, Debug)]
pub enum Found {
    User(user::Model),
    Address(address::Model),
    Category(category::Model),
    Product(product::Model),
    ProductVariant(product_variant::Model),
    Order(order::Model),
    /// The shipping address of this order.
    OrderAddress(order::Model),
    SavedCart(SavedCartView),
    ShippingMethod(shipping_method::Model),
    DiscountCode(discount_code::Model),
}

/// What each of `ids` names, in their order (a repeated ID is answered each time): the
/// object; `None` when there is none the caller may see; or the error its kind's own
/// lookup gives, as `order(id:)` does for an order (UNAUTHENTICATED when anonymous,
/// NOT_FOUND when it is someone else's). A failure of the database fails the whole call.
pub async fn find(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[GlobalId],
) -> AppResult<Vec<AppResult<Option<Found>>>> {
    let of = |kinds: &[NodeKind]| -> Vec<i32> {
        let mut found: Vec<i32> = ids
            .iter()
            .filter(|id| kinds.contains(&id.kind))
            .map(|id| id.id)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    };
    let users = by_id(
        accounts::visible_users(db, viewer, &of(&[NodeKind::User])).await?,
        |user| user.id,
    );
    let addresses = by_id(
        accounts::visible_addresses(db, viewer, &of(&[NodeKind::Address])).await?,
        |address| address.id,
    );
    let category_ids = of(&[NodeKind::Category]);
    let categories = by_id(
        if category_ids.is_empty() {
            Vec::new()
        } else {
            categories::by_ids(db, &category_ids).await?
        },
        |category| category.id,
    );
    let products = by_id(
        products::visible_by_ids(db, viewer, &of(&[NodeKind::Product])).await?,
        |product| product.id,
    );
    let variants = by_id(
        variants::visible_by_ids(db, viewer, &of(&[NodeKind::ProductVariant])).await?,
        |variant| variant.id,
    );
    let saved_carts = by_id(
        cart::saved_visible_by_ids(db, viewer, &of(&[NodeKind::SavedCart])).await?,
        |saved| saved.saved.id,
    );
    // Shipping methods are public: anyone choosing how to be shipped may see them all.
    let shipping_methods = by_id(
        shipping::by_ids(db, &of(&[NodeKind::ShippingMethod])).await?,
        |method| method.id,
    );
    let discount_codes = by_id(
        discounts::visible_by_ids(db, viewer, &of(&[NodeKind::DiscountCode])).await?,
        |code| code.id,
    );
    let order_ids = of(&[NodeKind::Order, NodeKind::OrderAddress]);
    // An anonymous caller's refusal is each order's answer; anything else fails the call.
    let orders = match orders::visible_by_ids(db, viewer, &order_ids).await {
        Ok(found) => Ok(by_id(found, |order| order.id)),
        Err(AppError::Unauthenticated(why)) => Err(why),
        Err(other) => return Err(other),
    };
    let order = |id: i32| match &orders {
        Ok(found) => found.get(&id).cloned().ok_or(AppError::NotFound("order")),
        Err(why) => Err(AppError::Unauthenticated(why)),
    };

    Ok(ids
        .iter()
        .map(|id| {
            Ok(match id.kind {
                NodeKind::User => users.get(&id.id).cloned().map(Found::User),
                NodeKind::Address => addresses.get(&id.id).cloned().map(Found::Address),
                NodeKind::Category => categories.get(&id.id).cloned().map(Found::Category),
                NodeKind::Product => products.get(&id.id).cloned().map(Found::Product),
                NodeKind::ProductVariant => {
                    variants.get(&id.id).cloned().map(Found::ProductVariant)
                }
                NodeKind::SavedCart => saved_carts.get(&id.id).cloned().map(Found::SavedCart),
                NodeKind::ShippingMethod => shipping_methods
                    .get(&id.id)
                    .cloned()
                    .map(Found::ShippingMethod),
                NodeKind::DiscountCode => {
                    discount_codes.get(&id.id).cloned().map(Found::DiscountCode)
                }
                // Carts are no nodes: a guest's is named by its secret, and a user has one.
                NodeKind::Cart => None,
                NodeKind::Order => Some(Found::Order(order(id.id)?)),
                NodeKind::OrderAddress => Some(Found::OrderAddress(order(id.id)?)),
            })
        })
        .collect())
}

fn by_id<T>(rows: Vec<T>, id: impl Fn(&T) -> i32) -> HashMap<i32, T> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}
