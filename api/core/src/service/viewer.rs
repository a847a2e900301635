use chrono::Utc;
use entity::{refresh_token, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    auth::AccessGrant,
    error::{AppError, AppResult},
};

/// Who is calling: decided once per request from the access token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Viewer {
    #[default]
    Anonymous,
    User {
        id: i32,
    },
}

impl Viewer {
    /// The caller's user id, or UNAUTHENTICATED.
    pub fn user_id(&self) -> AppResult<i32> {
        match self {
            Self::User { id } => Ok(*id),
            Self::Anonymous => Err(AppError::Unauthenticated("you must be logged in")),
        }
    }
}

/// The caller's account, read fresh from the database.
pub async fn current_user(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<user::Model> {
    let id = viewer.user_id()?;
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated("the account no longer exists"))
}

/// The caller's account if it is an admin. The flag is read from the database on every
/// admin operation, never trusted from a token, so a demoted admin loses power at once.
pub async fn require_admin(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<user::Model> {
    let user = current_user(db, viewer).await?;
    if user.is_admin {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether the caller is an admin right now (false when anonymous).
pub async fn viewer_is_admin(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<bool> {
    match require_admin(db, viewer).await {
        Ok(_) => Ok(true),
        Err(AppError::Forbidden | AppError::Unauthenticated(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// What the holder of an access token may do right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rights {
    Customer,
    Admin,
}

/// The rights an access token still carries, read fresh: UNAUTHENTICATED once the token has
/// expired, its account is gone, or the session it was issued for has been revoked (logout,
/// a password change, a replayed refresh token). One query, by primary key and the indexed
/// refresh-token family, so a long-lived connection can afford it per delivered event.
pub async fn rights_of(db: &impl ConnectionTrait, grant: &AccessGrant) -> AppResult<Rights> {
    if grant.expires_at <= Utc::now() {
        return Err(AppError::Unauthenticated(
            "the access token has expired; reconnect with a fresh one",
        ));
    }
    let mut query = user::Entity::find_by_id(grant.user_id)
        .select_only()
        .column(user::Column::IsAdmin);
    // A token from before sessions were named cannot be matched to one; it is still bound
    // by its expiry, which is at most one access-token lifetime away.
    if let Some(session) = &grant.session {
        query = query
            .inner_join(refresh_token::Entity)
            .filter(refresh_token::Column::Family.eq(session.as_str()))
            .filter(refresh_token::Column::RevokedAt.is_null());
    }
    match query.into_tuple::<bool>().one(db).await? {
        Some(true) => Ok(Rights::Admin),
        Some(false) => Ok(Rights::Customer),
        None => Err(AppError::Unauthenticated(
            "the session has ended; log in again",
        )),
    }
}
