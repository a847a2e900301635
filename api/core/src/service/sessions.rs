//! Sessions: a short-lived access token plus a rotating refresh token. Each login starts a
//! token family; every refresh retires the presented token and issues its successor in the
//! same family. Presenting a retired token again means it was stolen (or the client is
//! broken), so the whole family is revoked; except within a short grace after its
//! rotation, when it is most likely a twin request (two tabs refreshing at once) and gets
//! the same successor back, which only the holder of the token can compute.

use chrono::{DateTime, Duration, Utc};
use entity::{refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, sea_query::Expr,
};

use crate::{
    auth::{ACCESS_TOKEN_TTL_SECS, Auth, RefreshToken},
    db,
    domain::hash_secret,
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
    let refresh = RefreshToken::generate();
    insert(db, &user, family.clone(), &refresh, None, Utc::now()).await?;
    session(auth, user, &family, refresh.token)
}

/// Stores a refresh token (its hash) of `family`, the successor of `rotated_from` if any.
async fn insert(
    db: &impl ConnectionTrait,
    user: &user::Model,
    family: String,
    refresh: &RefreshToken,
    rotated_from: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    refresh_token::ActiveModel {
        user_id: Set(user.id),
        family: Set(family),
        token_hash: Set(refresh.hash.clone()),
        expires_at: Set(now + Duration::days(REFRESH_TOKEN_TTL_DAYS)),
        created_at: Set(now),
        rotated_from: Set(rotated_from),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A fresh access token for `user` in session `family`, with `refresh_token` to renew it.
fn session(
    auth: &Auth,
    user: user::Model,
    family: &str,
    refresh_token: String,
) -> AppResult<Session> {
    Ok(Session {
        access_token: auth.tokens.issue(user.id, family)?,
        refresh_token,
        expires_in_secs: ACCESS_TOKEN_TTL_SECS,
        user,
    })
}

fn invalid_refresh_token() -> AppError {
    AppError::Unauthenticated("the refresh token is invalid, expired or revoked")
}

async fn find_by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> AppResult<Option<refresh_token::Model>> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_secret(token)))
        .one(db)
        .await?)
}

/// Exchanges a refresh token for a new session. The presented token stops working, except
/// that within the reuse grace after its rotation it gets the same successor again.
pub async fn refresh(
    db: &DatabaseConnection,
    auth: &Auth,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    let Some(mut stored) = find_by_token(db, token).await? else {
        return Err(invalid_refresh_token());
    };
    if stored.used_at.is_none() && stored.revoked_at.is_none() {
        if stored.expires_at <= now {
            return Err(invalid_refresh_token());
        }
        if let Some(session) = rotate(db, auth, &stored, token, now).await? {
            return Ok(session);
        }
        // A concurrent request rotated (or revoked) it between our read and our write:
        // judge this one as a second presentation, on the row as it is now.
        stored = refresh_token::Entity::find_by_id(stored.id)
            .one(db)
            .await?
            .ok_or_else(invalid_refresh_token)?;
    }
    present_again(db, auth, stored, token, now).await
}

/// Retires `stored` and issues its successor, in one transaction. `None` when another
/// request retired or revoked it first: the conditional update lets exactly one win.
async fn rotate(
    db: &DatabaseConnection,
    auth: &Auth,
    stored: &refresh_token::Model,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Session>> {
    let txn = db::begin_write(db).await?;
    let retired = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if retired != 1 {
        txn.rollback().await?;
        return Ok(None);
    }
    let user = user::Entity::find_by_id(stored.user_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid_refresh_token)?;
    let successor = auth.refresh.successor_of(token);
    insert(
        &txn,
        &user,
        stored.family.clone(),
        &successor,
        Some(stored.id),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Some(session(auth, user, &stored.family, successor.token)?))
}

/// A token that was already rotated or revoked. Within the reuse grace after its
/// rotation, and while its successor is the family's live token, it gets that successor
/// again (with a new access token). Anything else is reuse and revokes the family, except
/// when this server cannot recompute the successor (see [`Successor::Unknown`]).
async fn present_again(
    db: &DatabaseConnection,
    auth: &Auth,
    stored: refresh_token::Model,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    let within_grace = stored.revoked_at.is_none()
        && stored
            .used_at
            .is_some_and(|used_at| now - used_at <= auth.refresh.reuse_grace);
    if !within_grace {
        return Err(reuse(db, &stored).await?);
    }
    match successor(db, auth, &stored, token, now).await? {
        Successor::Live(successor) => {
            let user = user::Entity::find_by_id(stored.user_id)
                .one(db)
                .await?
                .ok_or_else(invalid_refresh_token)?;
            session(auth, user, &stored.family, successor.token)
        }
        Successor::Moved => Err(reuse(db, &stored).await?),
        Successor::Ended => Err(invalid_refresh_token()),
        Successor::Unknown => {
            tracing::warn!(
                user_id = stored.user_id,
                "a just-rotated refresh token was presented again, but its successor was \
                 made with another key (is SHOP_JWT_SECRET the same in every process, and \
                 set?); refused without revoking the session"
            );
            Err(invalid_refresh_token())
        }
    }
}

/// What became of the token that replaced a rotated one.
enum Successor {
    /// Neither used, revoked nor expired: the family's live token, to hand out again.
    Live(RefreshToken),
    /// Already rotated itself: the presented token is two steps behind, which a twin
    /// request never is.
    Moved,
    /// Revoked or expired: the session is over.
    Ended,
    /// Not the token this server would make: another key made it (a process with another
    /// SHOP_JWT_SECRET, or a random one before a restart), or the rotation predates
    /// recorded successors. The client may be innocent, so the family is not revoked; and
    /// no token is handed out that the database does not know.
    Unknown,
}

async fn successor(
    db: &DatabaseConnection,
    auth: &Auth,
    stored: &refresh_token::Model,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Successor> {
    let expected = auth.refresh.successor_of(token);
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::RotatedFrom.eq(stored.id))
        .one(db)
        .await?;
    Ok(match found {
        None => Successor::Unknown,
        Some(row) if row.token_hash != expected.hash || row.family != stored.family => {
            Successor::Unknown
        }
        Some(row) if row.revoked_at.is_some() || row.expires_at <= now => Successor::Ended,
        Some(row) if row.used_at.is_some() => Successor::Moved,
        Some(_) => Successor::Live(expected),
    })
}

/// Revokes the family of a token presented when it should not have been, and the error to
/// answer with.
async fn reuse(db: &DatabaseConnection, stored: &refresh_token::Model) -> AppResult<AppError> {
    revoke_family(db, &stored.family).await?;
    tracing::warn!(
        user_id = stored.user_id,
        "refresh token reuse; token family revoked"
    );
    Ok(invalid_refresh_token())
}

/// Revokes the session a refresh token belongs to. Answers whether it was live.
pub async fn logout(db: &DatabaseConnection, token: &str) -> AppResult<bool> {
    let Some(stored) = find_by_token(db, token).await? else {
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
