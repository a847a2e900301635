use std::sync::OnceLock;

use async_graphql::{Context, dataloader::DataLoader};
use sea_orm::DatabaseConnection;

use crate::{
    auth::Auth,
    domain::Currency,
    error::AppError,
    payments::Payments,
    service::{Viewer, browse::SearchIndex, throttle},
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
    db: DatabaseConnection,
    loaders: Loaders,
}

impl RequestContext {
    pub fn new(db: DatabaseConnection, viewer: Viewer, client_addr: String) -> Self {
        Self {
            viewer,
            client_addr,
            db,
            loaders: Loaders::default(),
        }
    }
}

/// Declares the request's DataLoaders, each made the first time a field asks for it: a
/// request uses one or two of them, and making all of them for each request cost a
/// dozen allocations and connection handles that most requests threw away unused.
macro_rules! loaders {
    ($($name:ident: $loader:ident,)+) => {
        #[derive(Default)]
        struct Loaders {
            $($name: OnceLock<DataLoader<$loader>>,)+
        }

        impl RequestContext {
            $(
                pub(super) fn $name(&self) -> &DataLoader<$loader> {
                    self.loaders
                        .$name
                        .get_or_init(|| DataLoader::new($loader(self.db.clone()), tokio::spawn))
                }
            )+
        }
    };
}

loaders! {
    addresses: AddressesByUser,
    categories: CategoryById,
    children: ChildrenByCategory,
    users: UserById,
    products: ProductById,
    order_items: ItemsByOrder,
    refunds: RefundsByOrder,
    charges: ChargeByOrder,
    variants: VariantsByProduct,
    variant: VariantById,
    saved_carts: SavedCartsByUser,
}

/// How many accounts a client address may create per hour: schema data, set from the
/// configuration, under a type of its own so it cannot be mistaken for other limits.
#[derive(Clone, Copy, Debug)]
pub struct RegistrationLimits(pub throttle::Limits);

/// Typed access to the context. A missing entry is a wiring bug; it surfaces as an internal
/// error rather than a panic.
pub(super) trait ContextExt {
    fn db(&self) -> Result<&DatabaseConnection, AppError>;
    fn search_index(&self) -> Result<&SearchIndex, AppError>;
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
    fn search_index(&self) -> Result<&SearchIndex, AppError> {
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
