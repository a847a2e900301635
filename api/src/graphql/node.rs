//! The `Node` interface, `node(id:)` and `nodes(ids:)`: any objects by their global IDs.

use async_graphql::{Context, ID, Interface, Object, Result};

use super::{
    account::{Address, User},
    cart::SavedCart,
    catalog::{Category, Product, ProductVariant},
    context::ContextExt,
    discounts::DiscountCode,
    shipping::ShippingMethod,
    shopping::Order,
};
use crate::{
    domain::{GlobalId, GlobalIds},
    service::nodes::{self, Found},
};

/// An object with a globally unique ID that `node(id:)` resolves.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The object's globally unique, opaque ID."
))]
pub enum Node {
    User(User),
    Address(Address),
    Category(Category),
    Product(Product),
    ProductVariant(ProductVariant),
    Order(Order),
    SavedCart(SavedCart),
    ShippingMethod(ShippingMethod),
    DiscountCode(DiscountCode),
}

impl From<Found> for Node {
    fn from(found: Found) -> Self {
        match found {
            Found::User(user) => Self::User(User(user)),
            Found::Address(address) => Self::Address(Address::book(address)),
            Found::Category(category) => Self::Category(Category(category)),
            Found::Product(product) => Self::Product(Product::from(product)),
            Found::ProductVariant(variant) => Self::ProductVariant(ProductVariant(variant)),
            Found::Order(order) => Self::Order(Order(order)),
            Found::OrderAddress(order) => Self::Address(Address::of_order(&order)),
            Found::SavedCart(saved) => Self::SavedCart(SavedCart(saved)),
            Found::ShippingMethod(method) => Self::ShippingMethod(ShippingMethod(method)),
            Found::DiscountCode(code) => Self::DiscountCode(DiscountCode(code)),
        }
    }
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID; null when there is none that the caller may see. An
    /// order that is not the caller's is NOT_FOUND, as `order(id:)` answers.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global ID of any object: the `id` of a User, Product, Order, ...")]
        id: ID,
    ) -> Result<Option<Node>> {
        let (db, viewer) = (ctx.db()?, ctx.viewer()?);
        let id = GlobalId::parse(&id, "id")?;
        let mut found = nodes::find(db, viewer, &[id]).await?;
        Ok(found.pop().transpose()?.flatten().map(Node::from))
    }

    /// Many objects by their global IDs at once (at most 100), as a client refetching
    /// them needs: in the order given, each answered as `node(id:)` answers it. Null where
    /// that is null; where it is an error, null with that error (its `path` ends in the
    /// index). A malformed ID, or more than 100, is BAD_USER_INPUT (`ids`) for the whole
    /// list. Each kind of object costs one lookup, however many IDs name it.
    #[graphql(complexity = "ids.len().clamp(1, GlobalIds::MAX) * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Global IDs of any objects, at most 100; repeats are answered each time."
        )]
        ids: Vec<ID>,
    ) -> Result<Vec<Option<Result<Node>>>> {
        let (db, viewer) = (ctx.db()?, ctx.viewer()?);
        let ids = GlobalIds::parse(&ids, "ids")?;
        let found = nodes::find(db, viewer, ids.as_slice()).await?;
        Ok(found
            .into_iter()
            .map(|answer| match answer {
                Ok(found) => found.map(|found| Ok(Node::from(found))),
                Err(err) => Some(Err(err.into())),
            })
            .collect())
    }
}
