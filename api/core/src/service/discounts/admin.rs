//! Creating, changing and listing discount codes (admins only).

use chrono::{DateTime, Utc};
use entity::discount_code;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, Order, QueryFilter, Set, sea_query::Expr,
};

use super::is_unique_violation;
use crate::{
    db,
    domain::{DiscountCodeText, DiscountValue, Money, Period, UsageLimit, to_stored_precision},
    error::{AppError, AppResult, Refusal},
    service::{
        Patch,
        pagination::{Page, PageArgs, page_by_id},
        viewer::{Viewer, require_admin, viewer_is_admin},
    },
};

/// A code to create, parsed.
#[derive(Clone, Debug)]
pub struct NewDiscountCode {
    pub code: DiscountCodeText,
    pub value: DiscountValue,
    pub min_subtotal: Option<Money>,
    pub usage_limit: Option<UsageLimit>,
    pub once_per_customer: bool,
    pub period: Period,
}

/// Changes to a code: `None` and [`Patch::Keep`] leave a value as it is. What a code is
/// worth, its spelling and its start never change: orders and carts refer to them.
#[derive(Clone, Debug, Default)]
pub struct DiscountCodeChanges {
    pub active: Option<bool>,
    pub usage_limit: Patch<UsageLimit>,
    pub ends_at: Patch<DateTime<Utc>>,
    pub min_subtotal: Patch<Money>,
}

/// Creates a code, active at once (within its period). A code spelled like another in any
/// case is CONFLICT on `code`.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &Viewer,
    new: NewDiscountCode,
) -> AppResult<discount_code::Model> {
    require_admin(db, viewer).await?;
    let txn = db::begin_write(db).await?;
    if find_by_code(&txn, &new.code).await?.is_some() {
        return Err(Refusal::DiscountCodeTaken.into());
    }
    let now = Utc::now();
    let created = discount_code::ActiveModel {
        code: Set(new.code.as_str().to_owned()),
        percent_off_bp: Set(new.value.percent_off_bp()),
        amount_off_cents: Set(new.value.amount_off_cents()),
        min_subtotal_cents: Set(new.min_subtotal.map(Money::cents)),
        usage_limit: Set(new.usage_limit.map(UsageLimit::get)),
        times_used: Set(0),
        once_per_customer: Set(new.once_per_customer),
        starts_at: Set(new.period.starts_at()),
        ends_at: Set(new.period.ends_at()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&*txn)
    .await
    // The same code created concurrently (on PostgreSQL) meets the unique index.
    .map_err(|err| {
        if is_unique_violation(&err) {
            Refusal::DiscountCodeTaken.into()
        } else {
            AppError::from(err)
        }
    })?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a code. NOT_FOUND when there is none; a usage limit below the uses the code
/// already has is BAD_USER_INPUT on `usageLimit`, an end not after its start on `endsAt`.
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    mut changes: DiscountCodeChanges,
) -> AppResult<discount_code::Model> {
    require_admin(db, viewer).await?;
    // Compared with the start as it will be stored.
    if let Patch::Set(end) = &mut changes.ends_at {
        *end = to_stored_precision(*end);
    }
    let txn = db::begin_write(db).await?;
    // Writing the row first takes its lock on PostgreSQL (SQLite's IMMEDIATE transaction
    // already runs alone): a checkout taking a use waits, so the count read next stays
    // true until the new limit is written, and the CHECK `times_used <= usage_limit`
    // cannot fail.
    discount_code::Entity::update_many()
        .col_expr(discount_code::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(discount_code::Column::Id.eq(id))
        .exec(&*txn)
        .await?;
    let code = super::find(&*txn, id)
        .await?
        .ok_or(AppError::NotFound("discount code"))?;
    if let Patch::Set(limit) = &changes.usage_limit
        && limit.get() < code.times_used
    {
        return Err(Refusal::UsageLimitBelowUses {
            used: code.times_used,
        }
        .into());
    }
    if let (Patch::Set(end), Some(start)) = (&changes.ends_at, code.starts_at)
        && *end <= start
    {
        return Err(Refusal::DiscountEndsBeforeStart.into());
    }
    let mut changed = code.into_active_model();
    if let Some(active) = changes.active {
        changed.active = Set(active);
    }
    if let Some(limit) = changes.usage_limit.change() {
        changed.usage_limit = Set(limit.map(UsageLimit::get));
    }
    if let Some(end) = changes.ends_at.change() {
        changed.ends_at = Set(end);
    }
    if let Some(min) = changes.min_subtotal.change() {
        changed.min_subtotal_cents = Set(min.map(Money::cents));
    }
    changed.updated_at = Set(Utc::now());
    let updated = changed.update(&*txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Every code, newest first.
pub async fn list(
    db: &DatabaseConnection,
    viewer: &Viewer,
    args: &PageArgs,
) -> AppResult<Page<discount_code::Model>> {
    require_admin(db, viewer).await?;
    page_by_id(
        db,
        discount_code::Entity::find(),
        discount_code::Column::Id,
        Order::Desc,
        args,
        |code| code.id,
    )
    .await
}

/// Of the codes `ids`, those the caller may see: all of them for an admin, none for
/// anyone else (a code is a secret until it is handed out).
pub async fn visible_by_ids(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> AppResult<Vec<discount_code::Model>> {
    if ids.is_empty() || !viewer_is_admin(db, viewer).await? {
        return Ok(Vec::new());
    }
    Ok(discount_code::Entity::find()
        .filter(discount_code::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The code spelled `code` (codes are stored upper case, as [`DiscountCodeText`] is).
pub(super) async fn find_by_code(
    db: &impl ConnectionTrait,
    code: &DiscountCodeText,
) -> AppResult<Option<discount_code::Model>> {
    Ok(discount_code::Entity::find()
        .filter(discount_code::Column::Code.eq(code.as_str()))
        .one(db)
        .await?)
}
