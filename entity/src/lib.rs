//! SeaORM entities: tables, relations, and the states their columns hold (enums, so a
//! misspelt state cannot be written). Every other rule about what may be stored lives in
//! the api crate's domain types and services.

pub mod address;
pub mod cart;
pub mod cart_item;
pub mod category;
pub mod discount_code;
pub mod discount_redemption;
pub mod email_verification;
pub mod login_failure;
pub mod order;
pub mod order_item;
pub mod order_status;
pub mod outbox_message;
pub mod password_reset;
pub mod payment;
pub mod product;
pub mod product_variant;
pub mod refresh_token;
pub mod saved_cart;
pub mod saved_cart_item;
pub mod shipping_method;
pub mod tax_rate;
pub mod user;
pub mod webhook_event;
pub mod write_probe;

/// Asserts that every state of `E` is stored under the name `stored` gives it, and that the
/// name reads back as that state: the names rows already hold, which only a migration may
/// change.
#[cfg(test)]
fn assert_stored_names<E>(stored: &[(E, &str)])
where
    E: sea_orm::ActiveEnum<Value = String> + Copy + PartialEq + std::fmt::Debug,
{
    assert_eq!(E::iter().count(), stored.len(), "every state is listed");
    for &(state, name) in stored {
        assert_eq!(state.to_value(), name);
        assert_eq!(E::try_from_value(&name.to_owned()).ok(), Some(state));
    }
}
