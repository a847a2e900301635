//! DataLoaders: nested lookups batched into one query per level, never one per parent.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{address, category, order_item, payment, product, product_variant, user};
use sea_orm::DatabaseConnection;

use crate::service::{
    accounts,
    cart::{self, SavedCartView},
    categories, orders, products, variants,
};

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

/// Users by id: the customer of an order.
pub struct UserById(pub DatabaseConnection);

impl Loader<i32> for UserById {
    type Value = user::Model;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let found = accounts::users_by_ids(&self.0, ids).await?;
        Ok(found.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// Products by id, archived ones included: what an order line refers to.
pub struct ProductById(pub DatabaseConnection);

impl Loader<i32> for ProductById {
    type Value = product::Model;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let found = products::by_ids(&self.0, ids).await?;
        Ok(found.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// The lines of each order.
pub struct ItemsByOrder(pub DatabaseConnection);

impl Loader<i32> for ItemsByOrder {
    type Value = Vec<order_item::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut by_order: HashMap<i32, Self::Value> = HashMap::new();
        for item in orders::items_of(&self.0, ids).await? {
            by_order.entry(item.order_id).or_default().push(item);
        }
        Ok(by_order)
    }
}

/// The refunds of each order that did not fail, oldest first.
pub struct RefundsByOrder(pub DatabaseConnection);

impl Loader<i32> for RefundsByOrder {
    type Value = Vec<payment::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut by_order: HashMap<i32, Self::Value> = HashMap::new();
        for refund in orders::refunds_of(&self.0, ids).await? {
            by_order.entry(refund.order_id).or_default().push(refund);
        }
        Ok(by_order)
    }
}

/// The charge of each order: what `Order.payment` shows.
pub struct ChargeByOrder(pub DatabaseConnection);

impl Loader<i32> for ChargeByOrder {
    type Value = payment::Model;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let found = orders::charges_of(&self.0, ids).await?;
        Ok(found.into_iter().map(|c| (c.order_id, c)).collect())
    }
}

/// The active variants of each product, in display order.
pub struct VariantsByProduct(pub DatabaseConnection);

impl Loader<i32> for VariantsByProduct {
    type Value = Vec<product_variant::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut by_product: HashMap<i32, Self::Value> = HashMap::new();
        for variant in variants::of_products(&self.0, ids).await? {
            by_product
                .entry(variant.product_id)
                .or_default()
                .push(variant);
        }
        Ok(by_product)
    }
}

/// Variants by id, archived ones included: what an order line refers to.
pub struct VariantById(pub DatabaseConnection);

impl Loader<i32> for VariantById {
    type Value = product_variant::Model;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let found = variants::by_ids(&self.0, ids).await?;
        Ok(found.into_iter().map(|v| (v.id, v)).collect())
    }
}

/// The saved carts of each user, newest first.
pub struct SavedCartsByUser(pub DatabaseConnection);

impl Loader<i32> for SavedCartsByUser {
    type Value = Vec<SavedCartView>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut by_user: HashMap<i32, Self::Value> = HashMap::new();
        for saved in cart::saved_carts_of(&self.0, ids).await? {
            by_user.entry(saved.saved.user_id).or_default().push(saved);
        }
        Ok(by_user)
    }
}
