//! Accounts: registration, login, the account itself, its address book (with its default
//! address), and the admin's view of all users.

use chrono::Utc;
use entity::{address, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};

use crate::{
    auth::Auth,
    db,
    domain::{CandidatePassword, Email, GuestSecret, Password, PostalAddress, Username},
    error::{AppError, AppResult, Refusal},
    service::{
        cart, email_verification,
        outbox::{self, Notice},
        pagination::{Page, PageArgs, page_by_id},
        sessions::{self, Session},
        throttle,
        viewer::{Viewer, current_user, require_admin},
    },
};

/// The most addresses one account may keep.
pub const MAX_ADDRESSES: u64 = 50;

/// What it takes to create a user. The password was parsed for this username, so it is
/// not the username.
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    pub password: Password,
    pub is_admin: bool,
}

/// Creates an account and logs it in. Only an admin may create an admin
/// ([`may_create_admin`]): nothing is created for anyone else who asks. Each client
/// address may create only so many accounts per hour (`limits`); past that, RATE_LIMITED.
/// A guest cart given with it is merged into the new account's cart ([`bring_cart`]).
pub async fn register(
    db: &DatabaseConnection,
    auth: &Auth,
    viewer: &Viewer,
    limits: throttle::Limits,
    client_addr: &str,
    new_user: NewUser,
    guest_cart: Option<&GuestSecret>,
) -> AppResult<Session> {
    if let Some(secret) = guest_cart {
        cart::ensure_guest(db, secret).await?;
    }
    if new_user.is_admin {
        may_create_admin(db, viewer).await?;
    }
    // Counted before the password is hashed, so a refusal is cheap: a flood of
    // registrations must not buy an argon2 hash each.
    let attempt =
        throttle::begin_limited(db, limits, new_user.username.key().as_str(), client_addr).await?;
    let user = match create_user(db, auth, new_user).await {
        Ok(user) => user,
        Err(err) => {
            // Only accounts created count: a name already taken costs no allowance.
            attempt.withdraw(db).await?;
            return Err(err);
        }
    };
    let session = sessions::start(db, auth, user).await?;
    bring_cart(db, session.user.id, guest_cart).await?;
    Ok(session)
}

/// Merges the guest cart a shopper filled before logging in or registering into their
/// account's cart. The cart was found before the account was touched (a wrong cart id is
/// NOT_FOUND then, with nothing done); if it is gone by now, another merge or a sweep took
/// it, and if its checkout is under way its lines stay in it: the login stands either way.
async fn bring_cart(
    db: &DatabaseConnection,
    user_id: i32,
    guest_cart: Option<&GuestSecret>,
) -> AppResult<()> {
    let Some(secret) = guest_cart else {
        return Ok(());
    };
    match cart::merge(db, user_id, secret).await {
        Ok(_) | Err(AppError::NotFound(_)) => Ok(()),
        Err(AppError::Conflict { .. }) => {
            tracing::info!(user_id, "guest cart not merged: its checkout is under way");
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// Whether the caller may create an admin: only an admin may, anyone else is FORBIDDEN,
/// anonymous callers included (a registration needs no login).
pub async fn may_create_admin(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<()> {
    match viewer {
        Viewer::Anonymous => Err(AppError::Forbidden),
        Viewer::User { .. } => require_admin(db, viewer).await.map(drop),
    }
}

/// Inserts a user after checking that the name and email are free.
pub async fn create_user(
    db: &DatabaseConnection,
    auth: &Auth,
    new_user: NewUser,
) -> AppResult<user::Model> {
    ensure_free(db, Unique::Username(&new_user.username), None).await?;
    ensure_free(db, Unique::Email(&new_user.email), None).await?;
    let password_hash = auth.passwords.hash(&new_user.password).await?;
    let now = Utc::now();
    let txn = db::begin_write(db).await?;
    let user = user::ActiveModel {
        username: Set(new_user.username.to_string()),
        username_key: Set(new_user.username.key()),
        email: Set(new_user.email.to_string()),
        email_key: Set(new_user.email.key()),
        password_hash: Set(password_hash),
        is_admin: Set(new_user.is_admin),
        email_verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(lost_race)?;
    // The welcome carries the link that verifies the address.
    let verification = email_verification::issue(&txn, &user).await?;
    let welcome = Notice::Welcome {
        verification: Some(verification),
    };
    outbox::enqueue(&txn, Some(user.id), None, welcome).await?;
    txn.commit().await?;
    Ok(user)
}

/// What no two accounts may share, regardless of case.
enum Unique<'a> {
    Username(&'a Username),
    Email(&'a Email),
}

/// Refuses a username or email that an account other than `except` already has.
async fn ensure_free(
    db: &impl ConnectionTrait,
    value: Unique<'_>,
    except: Option<i32>,
) -> AppResult<()> {
    let (column, key, taken) = match value {
        Unique::Username(name) => (
            user::Column::UsernameKey,
            name.key(),
            Refusal::UsernameTaken,
        ),
        Unique::Email(email) => (user::Column::EmailKey, email.key(), Refusal::EmailTaken),
    };
    let mut query = user::Entity::find().filter(column.eq(key));
    if let Some(id) = except {
        query = query.filter(user::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(taken.into());
    }
    Ok(())
}

/// A write that the unique indexes refused lost a race with a concurrent request for the
/// same username or email, after [`ensure_free`] had found both free.
fn lost_race(err: sea_orm::DbErr) -> AppError {
    match AppError::from(err) {
        AppError::Conflict { .. } => Refusal::UsernameOrEmailTaken.into(),
        other => other,
    }
}

/// Logs in with a username or an email. An unknown account and a wrong password get the
/// same answer after the same amount of work. A guest cart given with it is merged into
/// the account's cart ([`bring_cart`]).
pub async fn login(
    db: &DatabaseConnection,
    auth: &Auth,
    client_addr: &str,
    login: &str,
    password: &str,
    guest_cart: Option<&GuestSecret>,
) -> AppResult<Session> {
    if let Some(secret) = guest_cart {
        cart::ensure_guest(db, secret).await?;
    }
    let key = login.trim().to_ascii_lowercase();
    let user = user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::UsernameKey.eq(key.as_str()))
                .add(user::Column::EmailKey.eq(key.as_str())),
        )
        .one(db)
        .await?;
    // Failures count against the account, not the name it was called by: keyed on what was
    // typed, the username and the email would each get their own five guesses.
    let account_key = user
        .as_ref()
        .map_or(key.as_str(), |u| u.username_key.as_str());
    let attempt = throttle::begin_attempt(db, account_key, client_addr).await?;
    let hash = user.as_ref().map(|user| user.password_hash.as_str());
    let plausible = password.chars().count() <= Password::MAX_LEN;
    let verified = plausible && auth.passwords.verify(password, hash).await?;
    match user {
        Some(user) if verified => {
            attempt.succeeded(db).await?;
            let session = sessions::start(db, auth, user).await?;
            bring_cart(db, session.user.id, guest_cart).await?;
            Ok(session)
        }
        _ => Err(AppError::Unauthenticated("wrong username or password")),
    }
}

/// The caller's account; `None` when anonymous.
pub async fn me(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<Option<user::Model>> {
    match viewer {
        Viewer::Anonymous => Ok(None),
        Viewer::User { .. } => current_user(db, viewer).await.map(Some),
    }
}

/// A change to the caller's own account. The new password is checked against the
/// username the account will have, which may be the stored one.
pub struct AccountChange {
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub new_password: Option<CandidatePassword>,
    /// As typed: it is only compared with the stored hash.
    pub current_password: String,
}

/// Changes the caller's name, email or password after checking the current password.
/// A new password ends every other session: all refresh tokens are revoked. A new address
/// is unverified, and the verification links sent before stop working.
pub async fn update_account(
    db: &DatabaseConnection,
    auth: &Auth,
    viewer: &Viewer,
    client_addr: &str,
    change: AccountChange,
) -> AppResult<user::Model> {
    let user = current_user(db, viewer).await?;
    let AccountChange {
        username,
        email,
        new_password,
        current_password,
    } = change;
    // Refuse a new password that is the username before checking the current one, so a
    // slip costs no attempt.
    let effective_name = username
        .as_ref()
        .map_or(user.username.as_str(), Username::as_str);
    let new_password = new_password
        .map(|candidate| candidate.for_user(effective_name))
        .transpose()?;

    // Guessing the current password with a stolen access token is throttled like a login.
    let attempt = throttle::begin_attempt(db, &user.username_key, client_addr).await?;
    if !auth
        .passwords
        .verify(&current_password, Some(&user.password_hash))
        .await?
    {
        return Err(Refusal::NotCurrentPassword.into());
    }
    attempt.succeeded(db).await?;

    if let Some(name) = &username {
        ensure_free(db, Unique::Username(name), Some(user.id)).await?;
    }
    if let Some(email) = &email {
        ensure_free(db, Unique::Email(email), Some(user.id)).await?;
    }
    let password_hash = match &new_password {
        Some(password) => Some(auth.passwords.hash(password).await?),
        None => None,
    };

    let txn = db::begin_write(db).await?;
    let user_id = user.id;
    // Another address, not the same one in other letter case.
    let moved = email
        .as_ref()
        .is_some_and(|email| email.key() != user.email_key);
    let mut active = user.into_active_model();
    if let Some(name) = username {
        active.username = Set(name.to_string());
        active.username_key = Set(name.key());
    }
    if let Some(email) = email {
        active.email = Set(email.to_string());
        active.email_key = Set(email.key());
    }
    if moved {
        // Nothing has proved the new address yet, and links sent to the old one must not.
        active.email_verified_at = Set(None);
        email_verification::forget(&txn, user_id).await?;
    }
    let password_changed = password_hash.is_some();
    if let Some(hash) = password_hash {
        active.password_hash = Set(hash);
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await.map_err(lost_race)?;
    if password_changed {
        sessions::revoke_all(&txn, user_id).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

// The address book. A user with addresses has exactly one default, a user without has
// none: the first address added becomes the default, `set_default_address` moves it, and
// deleting the default hands it to the newest remaining address. Every change to a book
// runs in one write transaction that first locks the user's row, so changes to one book
// run one at a time (on SQLite every write transaction already does), and the database's
// partial unique index (one default per user) never has to refuse a lost race.

/// Adds an address to the caller's address book; the first one becomes the default.
pub async fn add_address(
    db: &DatabaseConnection,
    viewer: &Viewer,
    input: PostalAddress,
) -> AppResult<address::Model> {
    let user_id = viewer.user_id()?;
    let txn = db::begin_write(db).await?;
    lock_address_book(&txn, viewer).await?;
    let count = address::Entity::find()
        .filter(address::Column::UserId.eq(user_id))
        .count(&txn)
        .await?;
    if count >= MAX_ADDRESSES {
        return Err(Refusal::AddressBookFull { max: MAX_ADDRESSES }.into());
    }
    let added = address::ActiveModel {
        user_id: Set(user_id),
        full_name: Set(input.full_name),
        line1: Set(input.line1),
        line2: Set(input.line2),
        city: Set(input.city),
        postal_code: Set(input.postal_code),
        country: Set(input.country.to_string()),
        created_at: Set(Utc::now()),
        is_default: Set(count == 0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(added)
}

/// Replaces every part of one of the caller's addresses (someone else's is NOT_FOUND). It
/// stays the default, or not; orders shipped to it keep the copy they took.
pub async fn update_address(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
    input: PostalAddress,
) -> AppResult<address::Model> {
    let txn = db::begin_write(db).await?;
    lock_address_book(&txn, viewer).await?;
    let mut address = own_address(&txn, viewer, id).await?.into_active_model();
    address.full_name = Set(input.full_name);
    address.line1 = Set(input.line1);
    address.line2 = Set(input.line2);
    address.city = Set(input.city);
    address.postal_code = Set(input.postal_code);
    address.country = Set(input.country.to_string());
    let updated = address.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Makes one of the caller's addresses the default (someone else's is NOT_FOUND); the
/// previous default stops being it.
pub async fn set_default_address(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
) -> AppResult<address::Model> {
    let txn = db::begin_write(db).await?;
    lock_address_book(&txn, viewer).await?;
    let address = own_address(&txn, viewer, id).await?;
    if address.is_default {
        txn.commit().await?;
        return Ok(address);
    }
    // The old default first: the unique index checks each row as it is written.
    address::Entity::update_many()
        .col_expr(address::Column::IsDefault, Expr::value(false))
        .filter(address::Column::UserId.eq(address.user_id))
        .filter(address::Column::IsDefault.eq(true))
        .exec(&txn)
        .await?;
    let mut active = address.into_active_model();
    active.is_default = Set(true);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes one of the caller's addresses; someone else's is NOT_FOUND. When it was the
/// default, the newest remaining address becomes the default.
pub async fn delete_address(db: &DatabaseConnection, viewer: &Viewer, id: i32) -> AppResult<bool> {
    let txn = db::begin_write(db).await?;
    lock_address_book(&txn, viewer).await?;
    let address = own_address(&txn, viewer, id).await?;
    address::Entity::delete_by_id(address.id).exec(&txn).await?;
    if address.is_default {
        let newest = address::Entity::find()
            .filter(address::Column::UserId.eq(address.user_id))
            .order_by_desc(address::Column::Id)
            .one(&txn)
            .await?;
        if let Some(newest) = newest {
            let mut active = newest.into_active_model();
            active.is_default = Set(true);
            active.update(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(true)
}

/// The address checkout ships to when the caller names one of its saved addresses, copied
/// into the order as it is now. Anyone else's, and any for an anonymous caller, is
/// NOT_FOUND. A saved address that no longer passes today's rules (a country saved as
/// text that the upgrade to country codes could not recognise) is refused until the
/// customer updates it.
pub async fn address_to_ship_to(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i32,
) -> AppResult<PostalAddress> {
    if matches!(viewer, Viewer::Anonymous) {
        return Err(AppError::NotFound("address"));
    }
    let address = own_address(db, viewer, id).await?;
    PostalAddress::parse(
        &address.full_name,
        &address.line1,
        address.line2.as_deref(),
        &address.city,
        &address.postal_code,
        &address.country,
    )
    .map_err(|err| Refusal::SavedAddressOutdated(err.to_string()).into())
}

/// One of the caller's addresses; NOT_FOUND when there is none with this id, or it is
/// someone else's.
async fn own_address(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i32,
) -> AppResult<address::Model> {
    address::Entity::find_by_id(id)
        .filter(address::Column::UserId.eq(viewer.user_id()?))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("address"))
}

/// Locks the caller's row until the transaction ends, so that changes to its address book
/// run one at a time on PostgreSQL too (SQLite's write transactions already do, and
/// `FOR UPDATE` is not emitted there).
async fn lock_address_book(txn: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<()> {
    user::Entity::find_by_id(viewer.user_id()?)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(AppError::Unauthenticated("the account no longer exists"))?;
    Ok(())
}

/// The addresses of many users at once, oldest first (for the DataLoader).
pub async fn addresses_of(
    db: &impl ConnectionTrait,
    user_ids: &[i32],
) -> AppResult<Vec<address::Model>> {
    Ok(address::Entity::find()
        .filter(address::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_asc(address::Column::Id)
        .all(db)
        .await?)
}

/// Of the users `ids`, those the caller may see: itself, or anyone for an admin. One
/// query, and one more for the caller's admin flag when others are asked for.
pub async fn visible_users(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> AppResult<Vec<user::Model>> {
    let sight = AccountSight::of(db, viewer, ids.iter().copied()).await?;
    let ids: Vec<i32> = ids.iter().copied().filter(|id| sight.sees(*id)).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users_by_ids(db, &ids).await
}

/// Of the addresses `ids`, those the caller may see: its own, or any for an admin.
pub async fn visible_addresses(
    db: &DatabaseConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> AppResult<Vec<address::Model>> {
    if *viewer == Viewer::Anonymous || ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = address::Entity::find()
        .filter(address::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let sight = AccountSight::of(db, viewer, found.iter().map(|a| a.user_id)).await?;
    Ok(found
        .into_iter()
        .filter(|a| sight.sees(a.user_id))
        .collect())
}

/// Whose accounts (and what belongs to them) the caller may see.
enum AccountSight {
    Nobody,
    Own(i32),
    Everyone,
}

impl AccountSight {
    /// The caller's sight over the accounts of `owners`; the admin flag is read only when
    /// one of them is someone else.
    async fn of(
        db: &DatabaseConnection,
        viewer: &Viewer,
        mut owners: impl Iterator<Item = i32>,
    ) -> AppResult<Self> {
        Ok(match viewer {
            Viewer::Anonymous => Self::Nobody,
            Viewer::User { id } if owners.all(|owner| owner == *id) => Self::Own(*id),
            Viewer::User { id } => {
                if current_user(db, viewer).await?.is_admin {
                    Self::Everyone
                } else {
                    Self::Own(*id)
                }
            }
        })
    }

    fn sees(&self, owner: i32) -> bool {
        match self {
            Self::Nobody => false,
            Self::Own(id) => *id == owner,
            Self::Everyone => true,
        }
    }
}

/// All users, oldest first (admin).
pub async fn list_users(
    db: &DatabaseConnection,
    viewer: &Viewer,
    args: &PageArgs,
) -> AppResult<Page<user::Model>> {
    require_admin(db, viewer).await?;
    page_by_id(
        db,
        user::Entity::find(),
        user::Column::Id,
        Order::Asc,
        args,
        |u| u.id,
    )
    .await
}

/// Grants or removes admin rights (admin). The last admin cannot be demoted, so the shop
/// never locks itself out of its own catalog.
pub async fn set_admin(
    db: &DatabaseConnection,
    viewer: &Viewer,
    user_id: i32,
    is_admin: bool,
) -> AppResult<user::Model> {
    require_admin(db, viewer).await?;
    let txn = db::begin_write(db).await?;
    let user = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if user.is_admin == is_admin {
        return Ok(user);
    }
    if !is_admin {
        // Lock the admin rows (in id order, so demotions cannot deadlock) before counting:
        // on PostgreSQL two concurrent demotions would otherwise each still count the other
        // and together remove every admin. On SQLite the IMMEDIATE transaction serialises
        // them already.
        let admins = user::Entity::find()
            .filter(user::Column::IsAdmin.eq(true))
            .order_by_asc(user::Column::Id)
            .lock_exclusive()
            .all(&txn)
            .await?;
        if admins.iter().all(|admin| admin.id == user_id) {
            return Err(Refusal::LastAdmin.into());
        }
    }
    let mut active = user.into_active_model();
    active.is_admin = Set(is_admin);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Makes the user with this username an admin, if there is one (the CLI's
/// `create-admin`, which creates the user otherwise).
pub async fn promote_to_admin(
    db: &DatabaseConnection,
    username: &Username,
) -> AppResult<Option<user::Model>> {
    let Some(existing) = user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username.key()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut active = existing.into_active_model();
    active.is_admin = Set(true);
    active.updated_at = Set(Utc::now());
    Ok(Some(active.update(db).await?))
}

/// Creates an admin, or promotes the existing user with that username. Answers the user
/// and whether it was newly created.
pub async fn create_admin(
    db: &DatabaseConnection,
    auth: &Auth,
    new_user: NewUser,
) -> AppResult<(user::Model, bool)> {
    if let Some(promoted) = promote_to_admin(db, &new_user.username).await? {
        return Ok((promoted, false));
    }
    let new_admin = NewUser {
        is_admin: true,
        ..new_user
    };
    Ok((create_user(db, auth, new_admin).await?, true))
}

/// Users by id (for the DataLoader that answers an order's customer: whoever may see the
/// order may see who placed it, and that was checked when the order was read).
pub async fn users_by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
