//! DataLoaders: nested lookups batched into one query per level, never one per parent.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::address;
use sea_orm::DatabaseConnection;

use crate::service::accounts;

/// The address book of each user.
pub struct AddressesByUser(pub DatabaseConnection);

impl Loader<i32> for AddressesByUser {
    type Value = Vec<address::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, user_ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut by_user: HashMap<i32, Self::Value> = HashMap::new();
        for address in accounts::addresses_of(&self.0, user_ids).await? {
            by_user.entry(address.user_id).or_default().push(address);
        }
        Ok(by_user)
    }
}
