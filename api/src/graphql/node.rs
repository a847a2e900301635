//! The `Node` interface and `node(id:)`: any object by its global ID.

use async_graphql::{Context, ID, Interface, Object, Result};

use super::{
    account::{Address, User},
    cart::SavedCart,
    catalog::{Category, Product, ProductVariant},
    context::ContextExt,
    shopping::Order,
};
use crate::{
    domain::{GlobalId, IdOrSlug, NodeKind},
    service::{accounts, cart, categories, orders, products, variants},
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
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID; null when there is none that the caller may see.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global ID of any object: the `id` of a User, Product, Order, ...")]
        id: ID,
    ) -> Result<Option<Node>> {
        let (db, viewer) = (ctx.db()?, ctx.viewer()?);
        let id = GlobalId::parse(&id, "id")?;
        Ok(match id.kind {
            NodeKind::User => accounts::visible_user(db, viewer, id.id)
                .await?
                .map(|user| Node::User(User(user))),
            NodeKind::Address => accounts::visible_address(db, viewer, id.id)
                .await?
                .map(|address| Node::Address(Address::book(address))),
            NodeKind::Category => categories::find(db, &IdOrSlug::Id(id.id))
                .await?
                .map(|category| Node::Category(Category(category))),
            NodeKind::Product => products::find_visible(db, viewer, &IdOrSlug::Id(id.id))
                .await?
                .map(|product| Node::Product(Product::from(product))),
            NodeKind::ProductVariant => variants::find_visible(db, viewer, id.id)
                .await?
                .map(|variant| Node::ProductVariant(ProductVariant(variant))),
            // Carts are no nodes: a guest's is named by its secret, and a user has one.
            NodeKind::Cart => None,
            NodeKind::SavedCart => cart::saved_visible(db, viewer, id.id)
                .await?
                .map(|saved| Node::SavedCart(SavedCart(saved))),
            // Orders answer NOT_FOUND, not null, to anyone but their owner and admins,
            // exactly as `order(id:)` does.
            NodeKind::Order => Some(Node::Order(Order(
                orders::find_visible(db, viewer, id.id).await?,
            ))),
            NodeKind::OrderAddress => Some(Node::Address(Address::of_order(
                &orders::find_visible(db, viewer, id.id).await?,
            ))),
        })
    }
}
