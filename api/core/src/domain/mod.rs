//! Types that can only hold valid values. Client input is parsed into these at the edge
//! ("parse, don't validate"); everything behind the edge can trust them.

mod address;
mod cart_id;
mod catalog;
mod checkout;
mod country;
mod cursor;
mod discount;
mod email;
mod fulfilment;
mod global_id;
mod lookup;
mod money;
mod options;
mod order_number;
mod password;
mod percent;
mod pricing;
mod quantity;
mod search;
mod secret;
mod shipping;
mod slug;
/// Proptest strategies for client input, shared by the property tests of this crate and
/// (through the `testing` feature) of the server's GraphQL scalars.
#[cfg(any(test, feature = "testing"))]
pub mod strategies;
mod text;
mod username;

pub use address::PostalAddress;
pub use cart_id::{CartId, GuestSecret};
pub use catalog::{
    CategoryDescription, CategoryName, ImageUrls, MAX_IMAGES, ProductDescription, ProductName,
    SavedCartName, Sku, Stock,
};
pub use checkout::{IdempotencyKey, PaymentToken};
pub use country::Country;
pub use cursor::Cursor;
pub use discount::{
    Customer, DiscountCodeText, DiscountValue, Period, UsageLimit, to_stored_precision,
};
pub use email::Email;
pub use fulfilment::{RefundReason, Tracking};
pub use global_id::{GlobalId, GlobalIds, NodeKind};
pub use lookup::IdOrSlug;
pub use money::{Currency, Money, PriceBounds};
// Stored as it is spelled in `orders.status`, so the type is the entity's; its life-cycle
// rules sit with it there.
pub use entity::order_status::OrderStatus;
pub use options::{
    DEFAULT_VARIANT_TITLE, MAX_OPTIONS, MAX_VALUES, ProductOption, ProductOptions, SelectedOption,
    Selection,
};
pub use order_number::new_order_number;
pub use password::{CandidatePassword, Password};
pub use percent::Percent;
pub use pricing::{
    Discount, OrderTotals, PriceRules, ShippingRate, TaxMode, TotalTooLarge, price, subtotal,
};
pub use quantity::Quantity;
pub use search::{MAX_SEARCH_LEN, Search, SearchTerms};
pub use secret::hash_secret;
pub use shipping::{Countries, Days, DeliveryDays, ShippingMethodName};
pub use slug::Slug;
pub use text::{Description, Name, bounded, required};
pub use username::Username;
