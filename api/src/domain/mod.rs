//! Types that can only hold valid values. Client input is parsed into these at the edge
//! ("parse, don't validate"); everything behind the edge can trust them.

mod address;
mod cursor;
mod email;
mod global_id;
mod password;
mod username;

pub use address::PostalAddress;
pub use cursor::Cursor;
pub use email::Email;
pub use global_id::{GlobalId, NodeKind};
pub use password::Password;
pub use username::Username;
