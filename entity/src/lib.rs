//! SeaORM entities: tables, relations, and the states their columns hold (enums, so a
//! misspelt state cannot be written). Every other rule about what may be stored lives in
//! the api crate's domain types and services.

pub mod address;
pub mod cart;
pub mod cart_item;
pub mod category;
pub mod login_failure;
pub mod order;
pub mod order_item;
pub mod order_status;
pub mod outbox_message;
pub mod password_reset;
pub mod payment;
pub mod product;
pub mod refresh_token;
pub mod user;
pub mod webhook_event;
pub mod write_probe;
