//! DataLoaders: nested lookups batched into one query per level, never one per parent.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{address, category};
use sea_orm::DatabaseConnection;

use crate::service::{accounts, categories};

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

/// Categories by id: a product's category, a category's parent.
pub struct CategoryById(pub DatabaseConnection);

impl Loader<i32> for CategoryById {
    type Value = category::Model;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let found = categories::by_ids(&self.0, ids).await?;
        Ok(found.into_iter().map(|c| (c.id, c)).collect())
    }
}

/// The direct children of each category.
pub struct ChildrenByCategory(pub DatabaseConnection);

impl Loader<i32> for ChildrenByCategory {
    type Value = Vec<category::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut by_parent: HashMap<i32, Self::Value> = HashMap::new();
        for child in categories::children_of(&self.0, ids).await? {
            if let Some(parent) = child.parent_id {
                by_parent.entry(parent).or_default().push(child);
            }
        }
        Ok(by_parent)
    }
}
