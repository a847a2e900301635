//! The GraphQL schema: thin resolvers that parse input, call one service, and shape the
//! answer. Limits on depth, complexity and directives are always on. Documents run through
//! [`ShopExecutor`], which does the server's work around each request; the schema itself
//! has no extension (see [`executor`] for why).

mod account;
mod cart;
mod catalog;
mod catalog_admin;
mod connection;
mod context;
mod discounts;
mod document_cache;
mod documents;
mod errors;
mod executor;
mod guards;
mod ids;
mod input;
mod loaders;
mod money;
mod node;
mod request_metrics;
mod request_span;
mod shipping;
mod shopping;
mod totals;
mod variant_admin;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

pub use context::RequestContext;
pub use documents::{MAX_EXPANDED_SELECTIONS, MAX_MUTATION_FIELDS, selected_operation};
pub use errors::coded;
pub use executor::ShopExecutor;

use crate::{
    auth::Auth,
    payments::Payments,
    service::{browse::SearchIndex, events::OrderEvents, throttle},
};

/// The deepest selection nesting accepted. GraphiQL's own introspection query needs 13.
pub const MAX_DEPTH: usize = 15;
/// The most a document may cost; a list field costs its page size times its selection.
pub const MAX_COMPLEXITY: usize = 2_500;
/// The most directives on one field.
pub const MAX_DIRECTIVES: usize = 8;
/// The deepest nesting of any kind (input values included) the parser will follow.
pub const MAX_RECURSIVE_DEPTH: usize = 32;

/// Every query field of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    account::AccountQuery,
    catalog::CatalogQuery,
    cart::CartQuery,
    shopping::ShoppingQuery,
    shipping::ShippingQuery,
    discounts::DiscountQuery,
    node::NodeQuery,
);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    catalog_admin::CatalogMutation,
    variant_admin::VariantMutation,
    cart::CartMutation,
    shopping::ShoppingMutation,
    shipping::ShippingMutation,
    discounts::DiscountMutation,
);

/// Every subscription of the API.
#[derive(MergedSubscription, Default)]
pub struct Subscription(shopping::ShoppingSubscription);

type ShopSchema = Schema<Query, Mutation, Subscription>;

/// The schema with its limits, and no extension: what any extension would do runs in
/// [`ShopExecutor`] instead.
fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    );
    describe_library_types(builder)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(MAX_DIRECTIVES)
        .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
}

/// Descriptions for the types async-graphql defines, which no doc comment of ours reaches:
/// chrono's DateTime scalar (whose own says how it is implemented, not what a client gets)
/// and the connection types. Their names and wire formats stay as they are.
fn describe_library_types(
    builder: SchemaBuilder<Query, Mutation, Subscription>,
) -> SchemaBuilder<Query, Mutation, Subscription> {
    builder
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(
            "A point in time in UTC, as an RFC 3339 string: \"2026-12-02T05:07:09.123456+00:00\".\n\
             Fractional seconds have 0, 3, 6 or 9 digits, as many as the instant needs.",
        )
        .override_output_type_description::<connection::ConnectionOf<catalog::Product>>(
            "A page of products; page on with `first`/`after` or `last`/`before`.",
        )
        .override_output_type_description::<connection::ConnectionOf<shopping::Order>>(
            "A page of orders; page on with `first`/`after` or `last`/`before`.",
        )
        .override_output_type_description::<connection::ConnectionOf<account::User>>(
            "A page of users; page on with `first`/`after` or `last`/`before`.",
        )
        .override_output_type_description::<connection::ConnectionOf<discounts::DiscountCode>>(
            "A page of discount codes; page on with `first`/`after` or `last`/`before`.",
        )
}

/// What the resolvers share: the database and the services that outlive a request.
pub struct Shared {
    pub db: DatabaseConnection,
    pub auth: Auth,
    pub payments: Payments,
    pub events: OrderEvents,
    pub search: SearchIndex,
}

/// What runs the server's documents: the schema, holding its shared resources. With
/// `metrics`, every query and mutation is counted and timed for `/metrics`; each client
/// address may register `registrations_per_hour` accounts per hour.
pub fn build(
    shared: Shared,
    introspection: bool,
    metrics: bool,
    registrations_per_hour: u32,
) -> anyhow::Result<ShopExecutor> {
    let Shared {
        db,
        auth,
        payments,
        events,
        search,
    } = shared;
    let builder = builder()
        .data(context::RegistrationLimits(throttle::registrations(
            registrations_per_hour,
        )))
        .data(events)
        .data(db)
        .data(auth)
        .data(search)
        .data(payments.currency.clone())
        .data(payments);
    let schema = if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    };
    ShopExecutor::new(schema, metrics)
}

/// The schema in SDL: what `shop print-schema` prints and schema.graphql holds.
pub fn sdl() -> String {
    builder().finish().sdl()
}
