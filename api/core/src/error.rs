//! The one error type of the server and the one place where it becomes an error code.

use entity::order_status::OrderStatus;
use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx::error::DatabaseError};

pub type AppResult<T> = Result<T, AppError>;

/// Everything that can go wrong in a request. Each variant's doc says what the client sees;
/// [`AppError::code`] is the only mapping to the contract's `extensions.code`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// UNAUTHENTICATED: no, malformed, tampered or expired credentials where some are needed.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// FORBIDDEN: the caller is known but may not do this.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// BAD_USER_INPUT with `extensions.field` naming the offending input field.
    #[error("{field}: {message}")]
    BadUserInput { field: String, message: String },
    /// NOT_FOUND: no such object, or one the caller may not see (existence is never leaked).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// CONFLICT: a duplicate or an illegal state transition; `extensions.field` when known.
    #[error("{message}")]
    Conflict {
        field: Option<&'static str>,
        message: String,
    },
    /// OUT_OF_STOCK with `extensions.productId` and `extensions.variantId` (global IDs)
    /// and `extensions.available`, the variant's stock.
    #[error("only {available} left of this product")]
    OutOfStock {
        product_id: String,
        variant_id: String,
        available: i32,
    },
    /// PAYMENT_DECLINED: the gateway refused; nothing was charged, stock and cart unchanged.
    #[error("the payment was declined: {0}")]
    PaymentDeclined(String),
    /// RATE_LIMITED with `extensions.retryAfter` in whole seconds.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// BAD_USER_INPUT or CONFLICT (as [`Refusal::code`] says) with `extensions.field`: a
    /// rule that needs stored data refused one part of a command. The API names the input
    /// field it concerns, so that no service needs to know how the schema spells it.
    #[error("{0}")]
    Refused(Refusal),
    /// INTERNAL_SERVER_ERROR: logged in full, shown to the client only as "internal error".
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// A rule checked against stored data that refused one value of a command: services say
/// which rule, the API says which input field held the value. Each message is what the
/// client reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Another account has this username, in any case.
    #[error("this username is already taken")]
    UsernameTaken,
    /// Another account has this email, in any case.
    #[error("this email is already registered")]
    EmailTaken,
    /// A concurrent request took the username or the email between the check and the
    /// write; the database's unique index cannot say which.
    #[error("this username or email is already taken")]
    UsernameOrEmailTaken,
    /// The password given to confirm a change is not the account's.
    #[error("is not your current password")]
    NotCurrentPassword,
    /// A new password is the account's username.
    #[error("must not be the username")]
    PasswordIsUsername,
    /// A password reset token that was never issued, or is used up or expired.
    #[error("the reset link is invalid, used or expired")]
    ResetTokenInvalid,
    /// An email-verification token that was never issued, is used up or expired, or was
    /// sent to an address the account no longer has.
    #[error("the verification link is invalid, used or expired")]
    VerificationTokenInvalid,
    /// The address book already holds `max` addresses.
    #[error("an account can keep at most {max} addresses")]
    AddressBookFull { max: u64 },
    /// A saved address that today's rules refuse (the `String` says which part and why),
    /// such as a country kept as text the upgrade to country codes did not recognise:
    /// nothing can be shipped to it until it is updated.
    #[error("update this saved address before shipping to it: {0}")]
    SavedAddressOutdated(String),
    /// Demoting this admin would leave the shop without one.
    #[error("the last admin cannot be demoted")]
    LastAdmin,
    /// Another variant (of this product or another) has this SKU.
    #[error("another product has this SKU")]
    SkuTaken,
    /// A variant's options do not name exactly one known value of each of its product's
    /// options; the message says which.
    #[error("{0}")]
    OptionsMismatch(String),
    /// Another active variant of the product has this combination of values.
    #[error("another variant of this product has these options")]
    CombinationTaken,
    /// New options would take away a value that an active variant has.
    #[error("{option} {value:?} is used by a variant; change or delete that variant first")]
    OptionValueInUse { option: String, value: String },
    /// New options would leave two active variants with the same combination.
    #[error("without this option two variants would be the same; delete one first")]
    OptionsWouldMergeVariants,
    /// A product keeps at least one variant.
    #[error("the last variant of a product cannot be deleted; delete the product instead")]
    LastVariant,
    /// The product already has `max` active variants.
    #[error("a product has at most {max} variants")]
    TooManyVariants { max: u64 },
    /// A product with several variants has no single price, stock or SKU to change.
    #[error("this product has several variants; change it on the variant")]
    ProductHasVariants(VariantAttribute),
    /// A compare-at ("was") price must be above the price.
    #[error("must be greater than the price")]
    CompareAtNotAbovePrice,
    /// A product with several variants was named where one variant must be.
    #[error("this product has several variants; say which one with variantId")]
    VariantRequired,
    /// The variant named is not one of the product named with it.
    #[error("this variant is not one of the product's")]
    VariantNotOfProduct,
    /// Another row of the same kind (the `&str`: "product", "category") has this slug.
    #[error("another {0} has this slug")]
    SlugTaken(&'static str),
    /// A category would move under itself or one of its descendants.
    #[error("a category cannot move under itself or one of its descendants")]
    CategoryCycle,
    /// A category to delete still has subcategories.
    #[error("the category still has subcategories")]
    CategoryHasSubcategories,
    /// A category to delete still has products.
    #[error("the category still has products")]
    CategoryHasProducts,
    /// The user already keeps `max` saved carts.
    #[error("at most {max} saved carts; restore or delete one first")]
    SavedCartsFull { max: u64 },
    /// A new cart line would take the cart past `max` different products.
    #[error("a cart holds at most {max} different products")]
    CartFull { max: u64 },
    /// An earlier checkout with this idempotency key failed after claiming the key.
    #[error("a checkout with this key failed; retry")]
    CheckoutKeyFailed,
    /// Only PENDING and PAID orders can be cancelled.
    #[error("an order that is {0} cannot be cancelled")]
    NotCancellable(OrderStatus),
    /// Fulfilment moves forward one step at a time (PAID -> SHIPPED -> DELIVERED).
    #[error("an order that is {from} cannot become {to}")]
    NotNextStatus { from: OrderStatus, to: OrderStatus },
    /// A shipping method's changed delivery days would end before they start (a new
    /// maximum below the minimum it keeps, or the other way round).
    #[error("the most days a delivery takes must not be less than the fewest")]
    DeliveryEndsBeforeItStarts,
    /// Shipping methods exist, but none delivers to the country of the address.
    #[error("we do not ship to this country")]
    NoShippingToCountry,
    /// The shipping method named does not exist or does not deliver to the country of
    /// the address.
    #[error("this shipping method is not available for this country")]
    ShippingMethodNotAvailable,
    /// Shipping methods deliver to the country of the address, and none was chosen.
    #[error("choose one of the shipping methods for this country")]
    ShippingMethodRequired,
    /// Another discount code is spelled the same, in any case.
    #[error("another discount code is spelled the same")]
    DiscountCodeTaken,
    /// A discount code's usage limit below the uses it already has.
    #[error("must be at least {used}, the uses the code already has")]
    UsageLimitBelowUses { used: i32 },
    /// A discount code's new end is not after its start.
    #[error("must be after the code's start")]
    DiscountEndsBeforeStart,
    /// A discount code that cannot be used here and now; the reason says why.
    #[error("{0}")]
    DiscountNotApplicable(DiscountRefusal),
    /// Tracking is recorded when an order ships, with no other status.
    #[error("tracking can only be given when the order becomes SHIPPED")]
    TrackingNotShipping,
    /// Only orders that were paid and not cancelled can be refunded (a cancellation
    /// refunds the rest itself).
    #[error("an order that is {0} cannot be refunded")]
    NotRefundable(OrderStatus),
    /// A refund of nothing.
    #[error("must be more than 0")]
    RefundNotPositive,
    /// A refund beyond what was paid and not refunded yet; `left` says what is left, in
    /// the order's currency.
    #[error("only {left} is left to refund")]
    RefundTooLarge { left: String },
}

/// Why a discount code cannot be used: at `applyDiscountCode`, and again at checkout.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiscountRefusal {
    /// No code is spelled so, in any case.
    #[error("there is no such discount code")]
    Unknown,
    /// An admin deactivated it.
    #[error("this discount code is no longer active")]
    Inactive,
    /// Its start is still ahead.
    #[error("this discount code is not valid yet")]
    NotStarted,
    /// Its end has passed.
    #[error("this discount code has expired")]
    Ended,
    /// Its usage limit is reached (uses given back free it again).
    #[error("this discount code has been used up")]
    UsedUp,
    /// A once-per-customer code this customer (a user, or a guest's email) has used.
    #[error("you have already used this discount code")]
    AlreadyUsed,
    /// The cart's subtotal is below the code's minimum (`min`, an amount as the shop
    /// prints it, e.g. "25.00").
    #[error("this discount code needs a subtotal of at least {min}")]
    BelowMinimum { min: String },
}

/// What a variant has and a product with several variants does not have just one of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariantAttribute {
    Price,
    Stock,
    Sku,
    CompareAtPrice,
}

impl Refusal {
    /// CONFLICT when the value clashes with stored data, BAD_USER_INPUT when it is wrong.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UsernameTaken
            | Self::EmailTaken
            | Self::UsernameOrEmailTaken
            | Self::LastAdmin
            | Self::SkuTaken
            | Self::CombinationTaken
            | Self::OptionValueInUse { .. }
            | Self::OptionsWouldMergeVariants
            | Self::LastVariant
            | Self::SlugTaken(_)
            | Self::CategoryHasSubcategories
            | Self::CategoryHasProducts
            | Self::CheckoutKeyFailed
            | Self::NotCancellable(_)
            | Self::NotNextStatus { .. }
            | Self::DiscountCodeTaken
            | Self::NotRefundable(_) => ErrorCode::Conflict,
            Self::NotCurrentPassword
            | Self::PasswordIsUsername
            | Self::ResetTokenInvalid
            | Self::VerificationTokenInvalid
            | Self::AddressBookFull { .. }
            | Self::SavedAddressOutdated(_)
            | Self::CategoryCycle
            | Self::CartFull { .. }
            | Self::SavedCartsFull { .. }
            | Self::OptionsMismatch(_)
            | Self::TooManyVariants { .. }
            | Self::ProductHasVariants(_)
            | Self::CompareAtNotAbovePrice
            | Self::VariantRequired
            | Self::VariantNotOfProduct
            | Self::DeliveryEndsBeforeItStarts
            | Self::NoShippingToCountry
            | Self::ShippingMethodNotAvailable
            | Self::ShippingMethodRequired
            | Self::UsageLimitBelowUses { .. }
            | Self::DiscountEndsBeforeStart
            | Self::DiscountNotApplicable(_)
            | Self::TrackingNotShipping
            | Self::RefundNotPositive
            | Self::RefundTooLarge { .. } => ErrorCode::BadUserInput,
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

/// The error codes of the public contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadUserInput,
    NotFound,
    Conflict,
    OutOfStock,
    PaymentDeclined,
    RateLimited,
    InternalServerError,
    /// The document is not GraphQL: a bug in the client, not a user's mistake.
    GraphqlParseFailed,
    /// The document does not fit the schema (an unknown field, a missing argument) or
    /// exceeds a document limit: a bug in the client, not a user's mistake.
    GraphqlValidationFailed,
    /// An automatic persisted query's hash the server does not know (yet, or any more):
    /// send the same request again with its `query`. Apollo's links do so on their own.
    PersistedQueryNotFound,
}

impl ErrorCode {
    /// Every code, in the order of the contract.
    pub const ALL: [Self; 12] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::BadUserInput,
        Self::NotFound,
        Self::Conflict,
        Self::OutOfStock,
        Self::PaymentDeclined,
        Self::RateLimited,
        Self::InternalServerError,
        Self::GraphqlParseFailed,
        Self::GraphqlValidationFailed,
        Self::PersistedQueryNotFound,
    ];

    /// The code spelled `code`, if it is one of the contract's.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.as_str() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::OutOfStock => "OUT_OF_STOCK",
            Self::PaymentDeclined => "PAYMENT_DECLINED",
            Self::RateLimited => "RATE_LIMITED",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
        }
    }
}

/// What tests of a parser check: the input field its BAD_USER_INPUT names.
#[cfg(any(test, feature = "testing"))]
impl AppError {
    pub fn bad_input_field(&self) -> Option<&str> {
        match self {
            Self::BadUserInput { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::OutOfStock { .. } => ErrorCode::OutOfStock,
            Self::PaymentDeclined(_) => ErrorCode::PaymentDeclined,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Refused(refusal) => refusal.code(),
            Self::Internal(_) => ErrorCode::InternalServerError,
        }
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

/// Constraint violations are the database telling us about a race we lost (two requests
/// claiming one username): the client sees CONFLICT. Anything else is our fault.
impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict {
                field: None,
                message: "this value is already taken".into(),
            },
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Self::Conflict {
                field: None,
                message: "this object is still referenced or refers to a missing one".into(),
            },
            _ if is_sqlite_restrict_violation(&err) => Self::Conflict {
                field: None,
                message: "this object is still referenced or refers to a missing one".into(),
            },
            _ => Self::Internal(err.into()),
        }
    }
}

/// SQLite enforces `ON DELETE RESTRICT` with a trigger-style RAISE, so deleting a row that
/// is still referenced fails with SQLITE_CONSTRAINT_TRIGGER (1811), not the
/// SQLITE_CONSTRAINT_FOREIGNKEY (787) that `DbErr::sql_err()` recognises. The message tells
/// it apart from a RAISE in a trigger of our own.
fn is_sqlite_restrict_violation(err: &DbErr) -> bool {
    let (DbErr::Exec(err) | DbErr::Query(err)) = err else {
        return false;
    };
    sqlite_error(err).is_some_and(|err| {
        err.code().as_deref() == Some("1811") && err.message() == "FOREIGN KEY constraint failed"
    })
}

/// The error SQLite itself answered, under a database error as sea-orm reports it.
pub(crate) fn sqlite_error(err: &RuntimeErr) -> Option<&dyn DatabaseError> {
    let RuntimeErr::SqlxError(err) = err else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(err) = err.as_ref() else {
        return None;
    };
    err.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
        .then_some(err.as_ref())
}

impl From<tokio::task::JoinError> for AppError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Internal(err.into())
    }
}
