//! Password reset by emailed token: random, stored only as a hash, single-use, valid 30
//! minutes. Asking never reveals whether an email is registered.

use chrono::{Duration, Utc};
use entity::{password_reset, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set, sea_query::Expr,
};

use crate::{
    auth::{Auth, RefreshToken},
    db,
    domain::hash_secret,
    domain::{CandidatePassword, Email},
    error::{AppError, AppResult, Refusal},
    service::{
        outbox::{self, Notice},
        sessions, throttle,
    },
};

/// How long a reset link works.
pub const TOKEN_TTL_MINUTES: i64 = 30;

/// Mails a one-time reset link if the email belongs to an account. Always answers true,
/// so the answer says nothing about which emails are registered; requests are rate
/// limited per email and per client address.
pub async fn request(db: &DatabaseConnection, client_addr: &str, email: &Email) -> AppResult<bool> {
    // Counted, never "succeeded": every request uses up one of the allowance.
    let _attempt =
        throttle::begin_limited(db, throttle::PASSWORD_RESET, &email.key(), client_addr).await?;
    let Some(user) = user::Entity::find()
        .filter(user::Column::EmailKey.eq(email.key()))
        .one(db)
        .await?
    else {
        return Ok(true);
    };
    let token = RefreshToken::generate();
    let now = Utc::now();
    let txn = db::begin_write(db).await?;
    password_reset::ActiveModel {
        user_id: Set(user.id),
        token_hash: Set(token.hash),
        expires_at: Set(now + Duration::minutes(TOKEN_TTL_MINUTES)),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    outbox::enqueue(
        &txn,
        Some(user.id),
        None,
        Notice::PasswordReset { token: token.token },
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

fn invalid_token() -> AppError {
    Refusal::ResetTokenInvalid.into()
}

/// Sets a new password with a reset token. The token then stops working, as do all other
/// reset tokens and every session of the account.
pub async fn reset(
    db: &DatabaseConnection,
    auth: &Auth,
    token: &str,
    new_password: CandidatePassword,
) -> AppResult<bool> {
    let Some(reset) = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(hash_secret(token.trim())))
        .one(db)
        .await?
    else {
        return Err(invalid_token());
    };
    if reset.used_at.is_some() || reset.expires_at <= Utc::now() {
        return Err(invalid_token());
    }
    let user = user::Entity::find_by_id(reset.user_id)
        .one(db)
        .await?
        .ok_or_else(invalid_token)?;
    let password = new_password.for_user(&user.username)?;
    let password_hash = auth.passwords.hash(&password).await?;

    let txn = db::begin_write(db).await?;
    // Of two concurrent resets with one token, exactly one gets to use it.
    let used = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(Utc::now()))
        .filter(password_reset::Column::UserId.eq(user.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let still_valid = password_reset::Entity::find_by_id(reset.id)
        .filter(password_reset::Column::UsedAt.is_not_null())
        .one(&txn)
        .await?
        .is_some();
    if used == 0 || !still_valid {
        return Err(invalid_token());
    }
    let user_id = user.id;
    let mut active = user.into_active_model();
    active.password_hash = Set(password_hash);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    sessions::revoke_all(&txn, user_id).await?;
    txn.commit().await?;
    Ok(true)
}
