//! Throttling of logins, password-reset and email-verification requests and
//! registrations, kept in the database so that every server process sees the same counts.
//! An attempt is recorded *before* the expensive or harmful part (checking a password,
//! mailing a link, hashing a new password) and counted with itself, so concurrent attempts
//! cannot slip past the limit together.

use chrono::{DateTime, Duration, Utc};
use entity::login_failure;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::error::{AppError, AppResult};

/// The counter of attempts refused by throttling, by `scope`. The server's telemetry
/// describes it to the exporter; the name lives here, where it is recorded.
pub const THROTTLED: &str = "shop_throttled_total";

/// How far back failures count.
pub const WINDOW_MINUTES: i64 = 15;
/// Failed attempts allowed per account within the window.
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
/// Failed attempts allowed per client address within the window, over all accounts.
pub const MAX_FAILURES_PER_CLIENT: usize = 20;
/// How far back registrations count.
pub const REGISTER_WINDOW_MINUTES: i64 = 60;
/// Accounts one client address may create per hour unless configured otherwise: enough for
/// a household or an office behind one NAT address, far too few to farm accounts.
pub const DEFAULT_REGISTRATIONS_PER_HOUR: u32 = 5;

/// What is being throttled: each kind counts separately, with its own limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Names the kind in `shop_throttled_total`.
    pub name: &'static str,
    /// Keeps the counts of different kinds apart in the shared table.
    scope: &'static str,
    /// `None` when only the client address is limited.
    per_account: Option<usize>,
    per_client: usize,
    window_minutes: i64,
}

/// Logins: 5 failures per account, 20 per client address, per 15 minutes.
pub const LOGIN: Limits = Limits {
    name: "login",
    scope: "",
    per_account: Some(MAX_FAILURES_PER_ACCOUNT),
    per_client: MAX_FAILURES_PER_CLIENT,
    window_minutes: WINDOW_MINUTES,
};

/// Password-reset requests (every request counts): 3 per email, 10 per client address,
/// per 15 minutes, so the endpoint cannot be used to flood an inbox.
pub const PASSWORD_RESET: Limits = Limits {
    name: "password_reset",
    scope: "reset:",
    per_account: Some(3),
    per_client: 10,
    window_minutes: WINDOW_MINUTES,
};

/// Looking up an order by its number and email (what a guest has instead of a login):
/// like logins, 5 misses per order number and 20 per client address, per 15 minutes, so
/// neither numbers nor emails can be guessed.
pub const ORDER_LOOKUP: Limits = Limits {
    name: "order_lookup",
    scope: "order:",
    per_account: Some(MAX_FAILURES_PER_ACCOUNT),
    per_client: MAX_FAILURES_PER_CLIENT,
    window_minutes: WINDOW_MINUTES,
};

/// Requests for a fresh email-verification link (every request counts): 3 per account,
/// 10 per client address, per 15 minutes, so a stolen session cannot flood an inbox.
pub const EMAIL_VERIFICATION: Limits = Limits {
    name: "email_verification",
    scope: "verify:",
    per_account: Some(3),
    per_client: 10,
    window_minutes: WINDOW_MINUTES,
};

/// Registrations (every account created counts): `per_client` per client address per hour.
/// Only the address is limited: a new account has no history to count against.
pub const fn registrations(per_client: u32) -> Limits {
    Limits {
        name: "register",
        scope: "register:",
        per_account: None,
        // Zero would refuse everyone, which is no rate; a closed shop needs another switch.
        per_client: if per_client == 0 {
            1
        } else {
            per_client as usize
        },
        window_minutes: REGISTER_WINDOW_MINUTES,
    }
}

/// An attempt that has been counted. Unless [`Attempt::succeeded`] or
/// [`Attempt::withdraw`] is called it stays counted.
#[must_use]
pub struct Attempt {
    id: i32,
    account_key: String,
}

/// Counts one attempt on `account_key` from `client_addr`, or refuses it with RATE_LIMITED
/// when the account or the client has used up its failures.
pub async fn begin_attempt(
    db: &impl ConnectionTrait,
    account_key: &str,
    client_addr: &str,
) -> AppResult<Attempt> {
    begin_limited(db, LOGIN, account_key, client_addr).await
}

/// Counts one attempt of the kind `limits` describes, or refuses it with RATE_LIMITED.
pub async fn begin_limited(
    db: &impl ConnectionTrait,
    limits: Limits,
    account_key: &str,
    client_addr: &str,
) -> AppResult<Attempt> {
    let account_key = &format!("{}{account_key}", limits.scope);
    let client_addr = &format!("{}{client_addr}", limits.scope);
    let now = Utc::now();
    let window = Duration::minutes(limits.window_minutes);
    let since = now - window;
    let attempt = login_failure::ActiveModel {
        account_key: Set(account_key.to_owned()),
        client_addr: Set(client_addr.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;

    let counted = [
        limits
            .per_account
            .map(|limit| (login_failure::Column::AccountKey, account_key, limit)),
        Some((
            login_failure::Column::ClientAddr,
            client_addr,
            limits.per_client,
        )),
    ];
    for (column, value, limit) in counted.into_iter().flatten() {
        let earlier: Vec<DateTime<Utc>> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::CreatedAt)
            .filter(column.eq(value))
            .filter(login_failure::Column::CreatedAt.gt(since))
            .filter(login_failure::Column::Id.ne(attempt.id))
            .order_by_asc(login_failure::Column::CreatedAt)
            .into_tuple()
            .all(db)
            .await?;
        if earlier.len() >= limit {
            // A refused attempt is not a guess, so it does not extend the lock-out.
            login_failure::Entity::delete_by_id(attempt.id)
                .exec(db)
                .await?;
            // The lock lifts once enough of the earlier failures have aged out of the window.
            let frees_at = earlier[earlier.len() - limit] + window;
            let retry_after_secs = (frees_at - now).num_seconds().max(1) as u64;
            // A run of these is someone guessing passwords (or flooding an inbox).
            metrics::counter!(THROTTLED, "scope" => limits.name).increment(1);
            return Err(AppError::RateLimited { retry_after_secs });
        }
    }

    // Old rows of this account and client have no further use.
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::CreatedAt.lte(since))
        .filter(
            Condition::any()
                .add(login_failure::Column::AccountKey.eq(account_key))
                .add(login_failure::Column::ClientAddr.eq(client_addr)),
        )
        .exec(db)
        .await?;
    Ok(Attempt {
        id: attempt.id,
        account_key: account_key.to_owned(),
    })
}

impl Attempt {
    /// The credentials were right: the account's failure count starts over.
    pub async fn succeeded(self, db: &impl ConnectionTrait) -> AppResult<()> {
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::AccountKey.eq(self.account_key))
            .exec(db)
            .await?;
        Ok(())
    }

    /// The attempt did not do what is being limited (the registration was refused), so it
    /// uses up none of the allowance.
    pub async fn withdraw(self, db: &impl ConnectionTrait) -> AppResult<()> {
        login_failure::Entity::delete_by_id(self.id)
            .exec(db)
            .await?;
        Ok(())
    }
}
