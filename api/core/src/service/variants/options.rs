//! A product's options, and what their change does to its variants.

use chrono::Utc;
use entity::{product, product_variant};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};

use super::{lock_product, of_products, selection, sync_product};
use crate::{
    db,
    domain::{ProductOptions, Selection},
    error::{AppError, AppResult},
    service::viewer::{Viewer, require_admin},
};

/// Replaces a product's options (admin). Adding options or values is always allowed;
/// every variant takes the first value of a new option. Taking away a value an active
/// variant has, or an option without which two variants would be the same, is refused,
/// and nothing changes.
pub async fn set_options(
    db: &DatabaseConnection,
    viewer: &Viewer,
    product_id: i32,
    next: ProductOptions,
) -> AppResult<product::Model> {
    require_admin(db, viewer).await?;
    db::write(db, async |txn| {
        let product = lock_product(txn, product_id).await?;
        if product.archived {
            return Err(AppError::NotFound("product"));
        }
        let current = ProductOptions::from_stored(&product.options);
        let variants = of_products(txn, &[product_id]).await?;
        let selections: Vec<Selection> = variants.iter().map(selection).collect();
        let reshaped = current.reshape(&next, &selections)?;
        product::Entity::update_many()
            .col_expr(product::Column::Options, Expr::value(next.to_stored()))
            .filter(product::Column::Id.eq(product_id))
            .exec(txn)
            .await?;
        let changed: Vec<(i32, String)> = variants
            .iter()
            .zip(reshaped)
            .map(|(variant, selection)| (variant.id, selection.to_stored()))
            .filter(|(id, stored)| {
                variants
                    .iter()
                    .any(|variant| variant.id == *id && variant.selected_options != *stored)
            })
            .collect();
        // Two variants may swap combinations: the unique index over combinations must
        // never see two equal ones in between, so each changed row first takes a
        // placeholder of its own.
        for (id, _) in &changed {
            set_combination(txn, *id, format!("changing:{id}")).await?;
        }
        for (id, stored) in changed {
            set_combination(txn, id, stored).await?;
        }
        sync_product(txn, product_id).await
    })
    .await
}

async fn set_combination(txn: &impl ConnectionTrait, id: i32, stored: String) -> AppResult<()> {
    product_variant::Entity::update_many()
        .col_expr(
            product_variant::Column::SelectedOptions,
            Expr::value(stored),
        )
        .col_expr(product_variant::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(product_variant::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}
