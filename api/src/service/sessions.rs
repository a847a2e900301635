//! Sessions: a short-lived access token plus a rotating refresh token. Each login starts a
//! token family; every refresh retires the presented token and issues its successor in the
//! same family. Presenting a retired token again means it was stolen (or the client is
//! broken), so the whole family is revoked.

use chrono::{Duration, Utc};
use entity::{refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, sea_query::Expr,
};

use crate::{
    auth::{ACCESS_TOKEN_TTL_SECS, Auth, RefreshToken, hash_refresh_token},
    db,
    error::{AppError, AppResult},
};

/// How long an unused refresh token stays valid.
pub const REFRESH_TOKEN_TTL_DAYS: i64 = 30;

/// What a successful login, registration or refresh hands to the client.
#[derive(Debug)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in_secs: i64,
    pub user: user::Model,
}

/// Starts a new token family for `user`.
pub async fn start(
    db: &impl ConnectionTrait,
    auth: &Auth,
    user: user::Model,
) -> AppResult<Session> {
    let family = RefreshToken::generate().hash;
    issue(db, auth, user, family).await
}

async fn issue(
    db: &impl ConnectionTrait,
    auth: &Auth,
    user: user::Model,
    family: String,
) -> AppResult<Session> {
    let refresh = RefreshToken::generate();
    let now = Utc::now();
    refresh_token::ActiveModel {
        user_id: Set(user.id),
        family: Set(family.clone()),
        token_hash: Set(refresh.hash),
        expires_at: Set(now + Duration::days(REFRESH_TOKEN_TTL_DAYS)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Session {
        access_token: auth.tokens.issue(user.id, &family)?,
        refresh_token: refresh.token,
        expires_in_secs: ACCESS_TOKEN_TTL_SECS,
        user,
    })
}

fn invalid_refresh_token() -> AppError {
    AppError::Unauthenticated("the refresh token is invalid, expired or revoked")
}

/// Exchanges a refresh token for a new session; the presented token stops working.
pub async fn refresh(db: &DatabaseConnection, auth: &Auth, token: &str) -> AppResult<Session> {
    let hash = hash_refresh_token(token);
    let Some(stored) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    else {
        return Err(invalid_refresh_token());
    };
    if stored.used_at.is_some() || stored.revoked_at.is_some() {
        revoke_family(db, &stored.family).await?;
        tracing::warn!(
            user_id = stored.user_id,
            "refresh token reuse; token family revoked"
        );
        return Err(invalid_refresh_token());
    }
    if stored.expires_at <= Utc::now() {
        return Err(invalid_refresh_token());
    }

    let txn = db::begin_write(db).await?;
    // Retire the token only if nobody else has: of two concurrent refreshes with one
    // token, exactly one wins and the other is treated as reuse.
    let retired = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if retired != 1 {
        txn.rollback().await?;
        revoke_family(db, &stored.family).await?;
        return Err(invalid_refresh_token());
    }
    let user = user::Entity::find_by_id(stored.user_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid_refresh_token)?;
    let session = issue(&txn, auth, user, stored.family).await?;
    txn.commit().await?;
    Ok(session)
}

/// Revokes the session a refresh token belongs to. Answers whether it was live.
pub async fn logout(db: &DatabaseConnection, token: &str) -> AppResult<bool> {
    let hash = hash_refresh_token(token);
    let Some(stored) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let live = stored.used_at.is_none() && stored.revoked_at.is_none();
    revoke_family(db, &stored.family).await?;
    Ok(live)
}

async fn revoke_family(db: &impl ConnectionTrait, family: &str) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::Family.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user, e.g. after a password change.
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: i32) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
