//! What a PENDING order holds while its payment is under way (the stock of its lines, and
//! its buyer's cart, claimed by the checkout) and how it lets go of them: all of it when
//! the payment fails, the cart's bought lines when it succeeds.

use entity::{cart, cart_item, order, product, product_variant};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};

use super::items_of;
use crate::{error::AppResult, service::discounts};

/// Puts the units of an order's lines back on the shelf, in product order: on the
/// variant, and on its product's total while the variant is active (an archived variant's
/// stock is not for sale). The product's row goes first, as in checkout.
pub async fn restock(txn: &DatabaseTransaction, order_id: i32) -> AppResult<()> {
    let mut items = items_of(txn, &[order_id]).await?;
    items.sort_by_key(|item| (item.product_id, item.variant_id));
    for item in items {
        let Some(variant_id) = item.variant_id else {
            tracing::warn!(
                order_id,
                item = item.id,
                "order line without a variant: not restocked"
            );
            continue;
        };
        let variant_active = Query::select()
            .expr(Expr::val(1))
            .from(product_variant::Entity)
            .and_where(product_variant::Column::Id.eq(variant_id))
            .and_where(product_variant::Column::Archived.eq(false))
            .to_owned();
        product::Entity::update_many()
            .col_expr(
                product::Column::Stock,
                Expr::col(product::Column::Stock).add(item.quantity),
            )
            .filter(product::Column::Id.eq(item.product_id))
            .filter(Expr::exists(variant_active))
            .exec(txn)
            .await?;
        product_variant::Entity::update_many()
            .col_expr(
                product_variant::Column::Stock,
                Expr::col(product_variant::Column::Stock).add(item.quantity),
            )
            .filter(product_variant::Column::Id.eq(variant_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Frees the cart that the checkout of `order_id` held.
pub async fn release_cart(db: &impl ConnectionTrait, order_id: i32) -> AppResult<()> {
    cart::Entity::update_many()
        .col_expr(
            cart::Column::CheckoutOrderId,
            Expr::value(Option::<i32>::None),
        )
        .filter(cart::Column::CheckoutOrderId.eq(order_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes what an order bought from the cart it was bought from, in the transaction that
/// marks it paid, and the discount code it used (used once, it would only be refused next
/// time); saved lines and variants added since stay.
pub(super) async fn empty_bought_lines(
    db: &impl ConnectionTrait,
    order: &order::Model,
) -> AppResult<()> {
    let Some(cart_id) = order.cart_id else {
        return Ok(());
    };
    let bought: Vec<i32> = items_of(db, &[order.id])
        .await?
        .into_iter()
        .filter_map(|item| item.variant_id)
        .collect();
    cart_item::Entity::delete_many()
        .filter(cart_item::Column::CartId.eq(cart_id))
        .filter(cart_item::Column::SavedForLater.eq(false))
        .filter(cart_item::Column::VariantId.is_in(bought))
        .exec(db)
        .await?;
    if order.discount_code.is_some() {
        discounts::clear_from_cart(db, cart_id).await?;
    }
    Ok(())
}
