//! Email verification by emailed link. The welcome message carries one; a logged-in
//! account can ask for a fresh one. Like a password reset's, a token is random (256 bits),
//! stored only as a hash, single-use and valid for [`TOKEN_TTL_HOURS`]. It also verifies
//! only the address it was sent to: the account must still have that address when the
//! link is used, and changing the address voids every link issued before.
//!
//! Asking for a fresh link leaves the earlier ones working until they expire: mail comes
//! late and out of order, and a customer who clicks the link of the first message after
//! asking for a second should not be told it is invalid. They all verify the same address
//! of the same account, so an older one proves no less. Once one is used, the others stop
//! working: there is nothing left for them to do.

use chrono::{Duration, Utc};
use entity::{email_verification, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, sea_query::Expr,
};

use crate::{
    auth::RefreshToken,
    db,
    domain::hash_secret,
    error::{AppError, AppResult, Refusal},
    service::{
        outbox::{self, Notice, VerificationLink},
        throttle,
        viewer::{Viewer, current_user},
    },
};

/// How long a verification link works: three days, as a welcome message may wait unread
/// over a weekend. A later one is a `requestEmailVerification` away.
pub const TOKEN_TTL_HOURS: i64 = 72;

/// Issues a token for the address `user` has now, on `db` (the transaction of the message
/// that will carry it).
pub(crate) async fn issue(
    db: &impl ConnectionTrait,
    user: &user::Model,
) -> AppResult<VerificationLink> {
    let token = RefreshToken::generate();
    let now = Utc::now();
    email_verification::ActiveModel {
        user_id: Set(user.id),
        email_key: Set(user.email_key.clone()),
        token_hash: Set(token.hash),
        expires_at: Set(now + Duration::hours(TOKEN_TTL_HOURS)),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(VerificationLink {
        token: token.token,
        email_key: user.email_key.clone(),
    })
}

/// Mails the caller a fresh verification link. False, mailing nothing, when the address is
/// verified already. Rate limited per account and per client address, every request
/// counting (RATE_LIMITED).
pub async fn request(
    db: &DatabaseConnection,
    viewer: &Viewer,
    client_addr: &str,
) -> AppResult<bool> {
    let user = current_user(db, viewer).await?;
    if user.email_verified_at.is_some() {
        return Ok(false);
    }
    let _attempt = throttle::begin_limited(
        db,
        throttle::EMAIL_VERIFICATION,
        &user.id.to_string(),
        client_addr,
    )
    .await?;
    let txn = db::begin_write(db).await?;
    let link = issue(&txn, &user).await?;
    outbox::enqueue(&txn, Some(user.id), None, Notice::EmailVerification(link)).await?;
    txn.commit().await?;
    Ok(true)
}

fn invalid_token() -> AppError {
    Refusal::VerificationTokenInvalid.into()
}

/// Verifies the address a token was sent to, whoever presents it (the link may be opened
/// on another device, logged in as someone else or not at all). The token then stops
/// working, as do the account's other verification links. An unknown, used or expired
/// token, or one sent to an address the account no longer has, is refused.
pub async fn verify(db: &DatabaseConnection, token: &str) -> AppResult<bool> {
    // Read outside the write transaction: a made-up token costs no write lock.
    let Some(link) = email_verification::Entity::find()
        .filter(email_verification::Column::TokenHash.eq(hash_secret(token.trim())))
        .one(db)
        .await?
    else {
        return Err(invalid_token());
    };
    let now = Utc::now();
    if link.used_at.is_some() || link.expires_at <= now {
        return Err(invalid_token());
    }

    let txn = db::begin_write(db).await?;
    // Of two concurrent verifications with one token, exactly one gets to use it.
    let used = email_verification::Entity::update_many()
        .col_expr(email_verification::Column::UsedAt, Expr::value(now))
        .filter(email_verification::Column::Id.eq(link.id))
        .filter(email_verification::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    // Only the address the link went to: a change of address since (committed just now,
    // perhaps) leaves this row alone and the transaction is dropped, so rolled back.
    let verified = user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
        .filter(user::Column::Id.eq(link.user_id))
        .filter(user::Column::EmailKey.eq(link.email_key.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if used == 0 || verified == 0 {
        return Err(invalid_token());
    }
    email_verification::Entity::update_many()
        .col_expr(email_verification::Column::UsedAt, Expr::value(now))
        .filter(email_verification::Column::UserId.eq(link.user_id))
        .filter(email_verification::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}

/// The account's address changed: every link issued before stops working. Called in the
/// transaction of the change, which also makes the account unverified.
pub(crate) async fn forget(db: &impl ConnectionTrait, user_id: i32) -> AppResult<()> {
    email_verification::Entity::delete_many()
        .filter(email_verification::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
