//! Tax rates: one per country, set by admins, read by carts and checkout.

use chrono::Utc;
use entity::tax_rate;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Set, sea_query::OnConflict,
};

use crate::{
    db,
    domain::{Country, Percent},
    error::{AppError, AppResult},
    service::viewer::{Viewer, require_admin},
};

/// Sets the tax rate of `country` (admin), replacing the one it had.
pub async fn set_rate(
    db: &DatabaseConnection,
    viewer: &Viewer,
    country: Country,
    rate: Percent,
) -> AppResult<tax_rate::Model> {
    require_admin(db, viewer).await?;
    let row = tax_rate::ActiveModel {
        country: Set(country.code().to_owned()),
        rate_basis_points: Set(basis_points(rate)),
        updated_at: Set(Utc::now()),
    };
    // One statement, so that two admins setting a new country's rate at once both succeed
    // (the later wins) instead of one of them colliding on the primary key.
    let txn = db::begin_write(db).await?;
    tax_rate::Entity::insert(row)
        .on_conflict(
            OnConflict::column(tax_rate::Column::Country)
                .update_columns([
                    tax_rate::Column::RateBasisPoints,
                    tax_rate::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&*txn)
        .await?;
    let stored = tax_rate::Entity::find_by_id(country.code().to_owned())
        .one(&*txn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("tax rate of {country} vanished")))?;
    txn.commit().await?;
    Ok(stored)
}

/// Removes the tax rate of `country` (admin): its orders are then untaxed. NOT_FOUND when
/// it has none.
pub async fn delete_rate(
    db: &DatabaseConnection,
    viewer: &Viewer,
    country: Country,
) -> AppResult<bool> {
    require_admin(db, viewer).await?;
    let deleted = tax_rate::Entity::delete_by_id(country.code().to_owned())
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::NotFound("tax rate"));
    }
    Ok(true)
}

/// Every tax rate (admin), by country code.
pub async fn rates(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<Vec<tax_rate::Model>> {
    require_admin(db, viewer).await?;
    Ok(tax_rate::Entity::find()
        .order_by_asc(tax_rate::Column::Country)
        .all(db)
        .await?)
}

/// The tax rate of `country`, `None` when it has none (no tax). Reads only, through `db`:
/// it can run inside the caller's transaction.
pub async fn rate_for(db: &impl ConnectionTrait, country: &Country) -> AppResult<Option<Percent>> {
    let Some(row) = tax_rate::Entity::find_by_id(country.code().to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    stored_rate(&row).map(Some)
}

/// The rate a row holds, which the CHECK constraint keeps from 0 to 100%.
pub fn stored_rate(row: &tax_rate::Model) -> AppResult<Percent> {
    u32::try_from(row.rate_basis_points)
        .ok()
        .and_then(Percent::from_basis_points)
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "the tax rate of {} holds {} basis points",
                row.country,
                row.rate_basis_points
            ))
        })
}

/// A rate as the column holds it; at most 10,000, so it always fits.
fn basis_points(rate: Percent) -> i32 {
    i32::try_from(rate.basis_points()).unwrap_or(i32::MAX)
}
