use async_graphql::{Context, dataloader::DataLoader};
use sea_orm::DatabaseConnection;

use crate::{
    auth::Auth,
    domain::Currency,
    error::AppError,
    payments::Payments,
    service::{Viewer, throttle},
};

use super::loaders::{
    AddressesByUser, CategoryById, ChargeByOrder, ChildrenByCategory, ItemsByOrder, ProductById,
    RefundsByOrder, SavedCartsByUser, UserById, VariantById, VariantsByProduct,
};

/// What one request knows beyond the schema's shared data: who is calling, from where,
/// and the request's DataLoaders.
pub struct RequestContext {
    pub viewer: Viewer,
    pub client_addr: String,
    pub(super) addresses: DataLoader<AddressesByUser>,
    pub(super) categories: DataLoader<CategoryById>,
    pub(super) children: DataLoader<ChildrenByCategory>,
    pub(super) users: DataLoader<UserById>,
    pub(super) products: DataLoader<ProductById>,
    pub(super) order_items: DataLoader<ItemsByOrder>,
    pub(super) refunds: DataLoader<RefundsByOrder>,
    pub(super) charges: DataLoader<ChargeByOrder>,
    pub(super) variants: DataLoader<VariantsByProduct>,
    pub(super) variant: DataLoader<VariantById>,
    pub(super) saved_carts: DataLoader<SavedCartsByUser>,
}

impl RequestContext {
    pub fn new(db: DatabaseConnection, viewer: Viewer, client_addr: String) -> Self {
        Self {
            viewer,
            client_addr,
            addresses: DataLoader::new(AddressesByUser(db.clone()), tokio::spawn),
            categories: DataLoader::new(CategoryById(db.clone()), tokio::spawn),
            children: DataLoader::new(ChildrenByCategory(db.clone()), tokio::spawn),
            users: DataLoader::new(UserById(db.clone()), tokio::spawn),
            products: DataLoader::new(ProductById(db.clone()), tokio::spawn),
            order_items: DataLoader::new(ItemsByOrder(db.clone()), tokio::spawn),
            refunds: DataLoader::new(RefundsByOrder(db.clone()), tokio::spawn),
            charges: DataLoader::new(ChargeByOrder(db.clone()), tokio::spawn),
            variants: DataLoader::new(VariantsByProduct(db.clone()), tokio::spawn),
            variant: DataLoader::new(VariantById(db.clone()), tokio::spawn),
            saved_carts: DataLoader::new(SavedCartsByUser(db), tokio::spawn),
        }
    }
}

/// How many accounts a client address may create per hour: schema data, set from the
/// configuration, under a type of its own so it cannot be mistaken for other limits.
#[derive(Clone, Copy, Debug)]
pub struct RegistrationLimits(pub throttle::Limits);

/// Typed access to the context. A missing entry is a wiring bug; it surfaces as an internal
/// error rather than a panic.
pub(super) trait ContextExt {
    fn db(&self) -> Result<&DatabaseConnection, AppError>;
    fn auth(&self) -> Result<&Auth, AppError>;
    fn request(&self) -> Result<&RequestContext, AppError>;
    fn currency(&self) -> Result<&Currency, AppError>;
    fn payments(&self) -> Result<&Payments, AppError>;
    fn registration_limits(&self) -> Result<throttle::Limits, AppError>;
    fn viewer(&self) -> Result<&Viewer, AppError> {
        Ok(&self.request()?.viewer)
    }
}

impl ContextExt for Context<'_> {
    fn db(&self) -> Result<&DatabaseConnection, AppError> {
        data(self)
    }
    fn auth(&self) -> Result<&Auth, AppError> {
        data(self)
    }
    fn request(&self) -> Result<&RequestContext, AppError> {
        data(self)
    }
    fn currency(&self) -> Result<&Currency, AppError> {
        data(self)
    }
    fn payments(&self) -> Result<&Payments, AppError> {
        data(self)
    }
    fn registration_limits(&self) -> Result<throttle::Limits, AppError> {
        data::<RegistrationLimits>(self).map(|limits| limits.0)
    }
}

fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> Result<&'a T, AppError> {
    ctx.data::<T>().map_err(|err| {
        AppError::internal(anyhow::anyhow!(
            "missing context data {}: {}",
            std::any::type_name::<T>(),
            err.message
        ))
    })
}
