use entity::user;
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::error::{AppError, AppResult};

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
