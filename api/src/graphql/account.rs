//! Accounts: users, their addresses and sessions.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{address, order, user};

use super::{
    cart::SavedCart,
    connection::{ConnectionOf, connection, page_cost},
    context::ContextExt,
    guards::{AdminGuard, CreateAdminGuard, LoggedInGuard},
    ids::node_id,
    input::optional,
};
use crate::{
    domain::{
        CandidatePassword, CartId, Email, GlobalId, GuestSecret, NodeKind, Password, PostalAddress,
        Username,
    },
    error::AppResult,
    service::{
        accounts::{self, AccountChange, NewUser},
        email_verification,
        pagination::PageArgs,
        password_reset,
        sessions::{self, Session},
    },
};

pub struct User(pub user::Model);

/// A registered account. Only the account itself and admins can see it.
#[Object]
impl User {
    /// The user's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(NodeKind::User, self.0.id)
    }
    /// The name the user logs in with; unique regardless of case.
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// The user's email address; unique regardless of case.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// Whether the user administers the shop.
    async fn is_admin(&self) -> bool {
        self.0.is_admin
    }
    /// Whether the current email address is verified: true once a link from the welcome
    /// or a verification email sent to it was used; false again after every change of
    /// address.
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The user's saved addresses, oldest first.
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Vec<Address>> {
        let addresses = ctx.request()?.addresses().load_one(self.0.id).await?;
        Ok(addresses
            .unwrap_or_default()
            .into_iter()
            .map(Address::book)
            .collect())
    }
    /// The address checkout suggests: one of `addresses`, null only when there are none.
    /// The first address saved becomes the default; `setDefaultAddress` chooses another;
    /// when the default is deleted, the newest remaining address takes its place.
    async fn default_address(&self, ctx: &Context<'_>) -> Result<Option<Address>> {
        let addresses = ctx.request()?.addresses().load_one(self.0.id).await?;
        Ok(addresses
            .unwrap_or_default()
            .into_iter()
            .find(|address| address.is_default)
            .map(Address::book))
    }
    /// The user's saved carts, newest first.
    async fn saved_carts(&self, ctx: &Context<'_>) -> Result<Vec<SavedCart>> {
        let saved = ctx.request()?.saved_carts().load_one(self.0.id).await?;
        Ok(saved
            .unwrap_or_default()
            .into_iter()
            .map(SavedCart)
            .collect())
    }
}

pub struct Address {
    kind: NodeKind,
    model: address::Model,
}

impl Address {
    pub fn book(model: address::Model) -> Self {
        Self {
            kind: NodeKind::Address,
            model,
        }
    }

    pub fn of_order(order: &order::Model) -> Self {
        Self {
            kind: NodeKind::OrderAddress,
            model: address::Model {
                id: order.id,
                // Not shown: an order's address is reached through its order.
                user_id: order.user_id.unwrap_or_default(),
                full_name: order.ship_full_name.clone(),
                line1: order.ship_line1.clone(),
                line2: order.ship_line2.clone(),
                city: order.ship_city.clone(),
                postal_code: order.ship_postal_code.clone(),
                country: order.ship_country.clone(),
                created_at: order.placed_at,
                is_default: false,
            },
        }
    }
}

/// A postal address: an entry of the caller's address book, or the address an order
/// ships to (a copy taken at checkout, which later address-book changes do not touch).
/// A user with saved addresses has exactly one default address.
#[Object]
impl Address {
    /// The address's globally unique ID.
    pub async fn id(&self) -> ID {
        node_id(self.kind, self.model.id)
    }
    /// The recipient's name.
    async fn full_name(&self) -> &str {
        &self.model.full_name
    }
    /// Street and number.
    async fn line1(&self) -> &str {
        &self.model.line1
    }
    /// Apartment, suite or other second line.
    async fn line2(&self) -> Option<&str> {
        self.model.line2.as_deref()
    }
    /// City or town.
    async fn city(&self) -> &str {
        &self.model.city
    }
    /// Postal or ZIP code.
    async fn postal_code(&self) -> &str {
        &self.model.postal_code
    }
    /// The ISO 3166-1 alpha-2 code of the country, upper case, e.g. "GB". Addresses saved
    /// before codes were required were given theirs where their country could be
    /// recognised; the rest (and orders placed then) keep the text they were saved with.
    async fn country(&self) -> &str {
        &self.model.country
    }
    /// Whether this is the user's default address (`User.defaultAddress`); always false
    /// for an order's shipping address.
    async fn is_default(&self) -> bool {
        self.model.is_default
    }
}

/// Credentials of a fresh session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`. Valid for `expiresIn` seconds.
    access_token: String,
    /// Exchange for a new session with `refreshToken` before it expires (30 days). Each
    /// refresh token works once: presented again shortly after (30 s by default), as two
    /// tabs refreshing at once do, it gets the same new refresh token back; later, it
    /// revokes the whole session.
    refresh_token: String,
    /// Seconds until the access token expires.
    expires_in: i32,
    /// The logged-in user.
    user: User,
}

impl From<Session> for AuthPayload {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            expires_in: i32::try_from(session.expires_in_secs).unwrap_or(i32::MAX),
            user: User(session.user),
        }
    }
}

/// A new account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// 3 to 32 letters, digits, `_`, `.` or `-`.
    username: String,
    /// A valid email address.
    email: String,
    /// 8 to 128 characters, not the username.
    password: String,
    /// Only an admin may create an admin; anyone else gets FORBIDDEN.
    #[graphql(default_with = "Some(false)")]
    is_admin: Option<bool>,
    /// A guest cart (its `id`) to merge into the new account's cart.
    cart_id: Option<ID>,
}

/// The guest cart to merge on login or registration: only a guest cart will do.
fn guest_cart(cart_id: Option<&ID>) -> AppResult<Option<GuestSecret>> {
    cart_id
        .map(|id| CartId::parse(id)?.into_guest())
        .transpose()
}

/// Credentials to log in with.
#[derive(InputObject)]
pub struct LoginInput {
    /// The username or the email address.
    username: String,
    /// The password.
    password: String,
    /// A guest cart (its `id`) to merge into the account's cart.
    cart_id: Option<ID>,
}

/// Changes to the caller's account; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateAccountInput {
    /// A new username.
    username: Option<String>,
    /// A new email address; it is unverified until a link sent to it is used
    /// (`requestEmailVerification`).
    email: Option<String>,
    /// A new password; all other sessions end when it changes.
    new_password: Option<String>,
    /// The current password, required for any change.
    current_password: String,
}

/// A postal address.
#[derive(InputObject)]
pub struct AddressInput {
    /// The recipient's name.
    pub full_name: String,
    /// Street and number.
    pub line1: String,
    /// Apartment, suite or other second line.
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// Postal or ZIP code.
    pub postal_code: String,
    /// The ISO 3166-1 alpha-2 code of the country, in any case ("GB" or "gb"); anything
    /// else (a name, an alpha-3 code) is BAD_USER_INPUT.
    pub country: String,
}

impl AddressInput {
    pub fn parse(&self) -> crate::error::AppResult<PostalAddress> {
        PostalAddress::parse(
            &self.full_name,
            &self.line1,
            self.line2.as_deref(),
            &self.city,
            &self.postal_code,
            &self.country,
        )
    }
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The logged-in user; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let user = accounts::me(ctx.db()?, ctx.viewer()?).await?;
        Ok(user.map(User))
    }

    /// All users, oldest first (admin).
    #[graphql(
        guard = "AdminGuard",
        complexity = "page_cost(first, last) * child_complexity"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page forward: how many items, 0 to 100 (20 when no size is given).")]
        first: Option<i32>,
        #[graphql(desc = "Page forward from this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, 0 to 100; not with `first`.")]
        last: Option<i32>,
        #[graphql(desc = "Page backward from this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> Result<ConnectionOf<User>> {
        let args = PageArgs::new(first, after, last, before);
        let page = accounts::list_users(ctx.db()?, ctx.viewer()?, &args).await?;
        Ok(connection(page, User))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and logs it in. Each client address may create only a few
    /// accounts per hour (RATE_LIMITED with `retryAfter`).
    #[graphql(guard = "CreateAdminGuard(input.is_admin == Some(true))")]
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account: username, email, password.")] input: RegisterInput,
    ) -> Result<AuthPayload> {
        let username = Username::parse(&input.username, "username")?;
        let new_user = NewUser {
            email: Email::parse(&input.email, "email")?,
            password: Password::parse(&input.password, &username, "password")?,
            username,
            is_admin: input.is_admin.unwrap_or(false),
        };
        let guest_cart = guest_cart(input.cart_id.as_ref())?;
        let request = ctx.request()?;
        let session = accounts::register(
            ctx.db()?,
            ctx.auth()?,
            &request.viewer,
            ctx.registration_limits()?,
            &request.client_addr,
            new_user,
            guest_cart.as_ref(),
        )
        .await?;
        Ok(session.into())
    }

    /// Logs in with a username or email and a password. Repeated failures are throttled
    /// (RATE_LIMITED with `retryAfter`).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who logs in, and the password.")] input: LoginInput,
    ) -> Result<AuthPayload> {
        let guest_cart = guest_cart(input.cart_id.as_ref())?;
        let session = accounts::login(
            ctx.db()?,
            ctx.auth()?,
            &ctx.request()?.client_addr,
            &input.username,
            &input.password,
            guest_cart.as_ref(),
        )
        .await?;
        Ok(session.into())
    }

    /// Exchanges a refresh token for a new session; the old refresh token stops working,
    /// but for a short grace in which it gets the same new refresh token again.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's latest `refreshToken`.")] refresh_token: String,
    ) -> Result<AuthPayload> {
        let session = sessions::refresh(ctx.db()?, ctx.auth()?, &refresh_token, Utc::now()).await?;
        Ok(session.into())
    }

    /// Ends the session of a refresh token. True when it was still live.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `refreshToken` of the session to end.")] refresh_token: String,
    ) -> Result<bool> {
        Ok(sessions::logout(ctx.db()?, &refresh_token).await?)
    }

    /// Changes the caller's username, email or password.
    #[graphql(guard = "LoggedInGuard")]
    async fn update_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes, with the current password.")] input: UpdateAccountInput,
    ) -> Result<User> {
        let change = AccountChange {
            username: optional(input.username.as_deref(), "username", Username::parse)?,
            email: optional(input.email.as_deref(), "email", Email::parse)?,
            new_password: optional(
                input.new_password.as_deref(),
                "newPassword",
                CandidatePassword::parse,
            )?,
            current_password: input.current_password,
        };
        let request = ctx.request()?;
        let user = accounts::update_account(
            ctx.db()?,
            ctx.auth()?,
            &request.viewer,
            &request.client_addr,
            change,
        )
        .await?;
        Ok(User(user))
    }

    /// Adds an address to the caller's address book (at most 50). The first one becomes
    /// the default address.
    #[graphql(guard = "LoggedInGuard")]
    async fn add_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address to save.")] input: AddressInput,
    ) -> Result<Address> {
        let address = accounts::add_address(ctx.db()?, ctx.viewer()?, input.parse()?).await?;
        Ok(Address::book(address))
    }

    /// Deletes one of the caller's addresses (NOT_FOUND for anyone else's). When it was
    /// the default, the newest remaining address becomes the default. Orders shipped to it
    /// keep their copy.
    #[graphql(guard = "LoggedInGuard")]
    async fn delete_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of one of the caller's addresses.")] id: ID,
    ) -> Result<bool> {
        let id = GlobalId::parse_kind(&id, "id", NodeKind::Address, "address")?;
        Ok(accounts::delete_address(ctx.db()?, ctx.viewer()?, id).await?)
    }

    /// Replaces every part of one of the caller's addresses (NOT_FOUND for anyone
    /// else's); whether it is the default does not change. Orders already shipped to it
    /// keep the copy they took.
    #[graphql(guard = "LoggedInGuard")]
    async fn update_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of one of the caller's addresses.")] id: ID,
        #[graphql(desc = "The address as it is to be: every part, as for `addAddress`.")]
        input: AddressInput,
    ) -> Result<Address> {
        let id = GlobalId::parse_kind(&id, "id", NodeKind::Address, "address")?;
        let input = input.parse()?;
        let address = accounts::update_address(ctx.db()?, ctx.viewer()?, id, input).await?;
        Ok(Address::book(address))
    }

    /// Makes one of the caller's addresses the default (NOT_FOUND for anyone else's); the
    /// previous default stops being it. A user never has two defaults, however many of
    /// these run at once: the last to run wins.
    #[graphql(guard = "LoggedInGuard")]
    async fn set_default_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of one of the caller's addresses.")] id: ID,
    ) -> Result<Address> {
        let id = GlobalId::parse_kind(&id, "id", NodeKind::Address, "address")?;
        let address = accounts::set_default_address(ctx.db()?, ctx.viewer()?, id).await?;
        Ok(Address::book(address))
    }

    /// Mails a one-time link to reset the password, if the email belongs to an account.
    /// Always answers true, so nobody learns which emails are registered. Rate limited.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email address of the account.")] email: String,
    ) -> Result<bool> {
        let email = Email::parse(&email, "email")?;
        let client_addr = &ctx.request()?.client_addr;
        Ok(password_reset::request(ctx.db()?, client_addr, &email).await?)
    }

    /// Sets a new password with the token from the reset email. The token works once,
    /// for 30 minutes; every session of the account ends.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the link in the reset email.")] token: String,
        #[graphql(desc = "8 to 128 characters, not the username.")] new_password: String,
    ) -> Result<bool> {
        let new_password = CandidatePassword::parse(&new_password, "newPassword")?;
        Ok(password_reset::reset(ctx.db()?, ctx.auth()?, &token, new_password).await?)
    }

    /// Mails the caller a fresh one-time link that verifies its email address (valid 72
    /// hours; links mailed before keep working until they expire or one is used). False,
    /// mailing nothing, when the address is verified already. Rate limited (RATE_LIMITED
    /// with `retryAfter`).
    #[graphql(guard = "LoggedInGuard")]
    async fn request_email_verification(&self, ctx: &Context<'_>) -> Result<bool> {
        let request = ctx.request()?;
        Ok(email_verification::request(ctx.db()?, &request.viewer, &request.client_addr).await?)
    }

    /// Verifies the email address a link was mailed to, for whoever holds its token, logged
    /// in or not. True on success; the link then stops working, as do the account's other
    /// verification links. An unknown, used or expired token, or one mailed to an address
    /// the account has since changed, is BAD_USER_INPUT (`token`).
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the link in the welcome or verification email.")]
        token: String,
    ) -> Result<bool> {
        Ok(email_verification::verify(ctx.db()?, &token).await?)
    }

    /// Grants or removes admin rights (admin). The last admin cannot be demoted.
    #[graphql(guard = "AdminGuard")]
    async fn set_admin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID of the user to change.")] user_id: ID,
        #[graphql(desc = "True grants admin rights, false takes them away.")] is_admin: bool,
    ) -> Result<User> {
        let user_id = GlobalId::parse_kind(&user_id, "userId", NodeKind::User, "user")?;
        let user = accounts::set_admin(ctx.db()?, ctx.viewer()?, user_id, is_admin).await?;
        Ok(User(user))
    }
}
