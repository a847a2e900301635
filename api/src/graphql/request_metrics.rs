//! Counts and times every GraphQL query and mutation for `/metrics`, labelled by what it
//! ran, never by a name the client chose.
//!
//! The `operation` label is the operation type and the root fields it selects, as the
//! schema names them: `query:products`, `mutation:checkout`, `query:cart+me`. The client's
//! `operationName` is free text: a label made of it would let any client mint new series
//! without end. A root field the schema does not have makes the document `invalid`, and
//! more than [`MAX_ROOT_FIELDS`] make it `<type>:several`, so the schema alone bounds the
//! number of series, whatever clients send.
//!
//! The `outcome` is `ok` or the code of the first error. This extension must be registered
//! before [`super::errors::ErrorCodes`]: the first extension is the outermost, so this one
//! sees the response after every error has been given its final code.
//!
//! Subscriptions are long-lived streams, not requests, and are not counted here.

use std::{
    collections::{BTreeSet, HashSet},
    sync::{Arc, OnceLock},
    time::Instant,
};

use async_graphql::{
    Response, ServerResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextRequest,
    },
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
    registry::{MetaType, Registry},
};

use super::documents::selected_operation;
use crate::{error::ErrorCode, telemetry};

/// The most root fields named one by one; a document selecting more is `<type>:several`.
/// Each further one multiplies the label values clients can produce (every pair of 24
/// mutations is already 276 of them).
pub const MAX_ROOT_FIELDS: usize = 2;
/// The label of a document that does not parse or names fields the schema does not have.
pub const INVALID: &str = "invalid";
/// Fragments nested deeper than this at the root make the document `invalid` (the parser
/// bounds nested selections, but not chains of fragment spreads).
const MAX_FRAGMENT_DEPTH: usize = 16;

pub struct RequestMetrics;

impl ExtensionFactory for RequestMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Recording::default())
    }
}

/// One request's recording: the factory makes one per request.
#[derive(Default)]
struct Recording {
    /// Which operation of the document runs: only to pick it, never as a label.
    operation_name: OnceLock<Option<String>>,
    operation: OnceLock<String>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Recording {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let operation = self
            .operation
            .get()
            .cloned()
            .unwrap_or_else(|| INVALID.to_owned());
        metrics::histogram!(telemetry::GRAPHQL_DURATION, "operation" => operation.clone())
            .record(started.elapsed().as_secs_f64());
        metrics::counter!(
            telemetry::GRAPHQL_REQUESTS,
            "operation" => operation,
            "outcome" => outcome(&response),
        )
        .increment(1);
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        let _ = self.operation_name.set(request.operation_name.clone());
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let operation_name = self.operation_name.get().and_then(Option::as_deref);
        let _ = self.operation.set(operation_label(
            &ctx.schema_env.registry,
            &document,
            operation_name,
        ));
        Ok(document)
    }
}

/// `ok`, or the code of the first error. Codes come from [`ErrorCode`] only: anything
/// else (which the error extension makes impossible) counts as an internal error.
fn outcome(response: &Response) -> &'static str {
    let Some(error) = response.errors.first() else {
        return "ok";
    };
    let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(Value::String(code)) => ErrorCode::parse(code),
        _ => None,
    };
    code.unwrap_or(ErrorCode::InternalServerError).as_str()
}

/// The label of the operation that `operation_name` picks from `document`.
fn operation_label(
    registry: &Registry,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> String {
    let Some((_, operation)) = selected_operation(document, operation_name) else {
        return INVALID.into();
    };
    let (kind, root) = match operation.ty {
        OperationType::Query => ("query", Some(registry.query_type.as_str())),
        OperationType::Mutation => ("mutation", registry.mutation_type.as_deref()),
        OperationType::Subscription => ("subscription", registry.subscription_type.as_deref()),
    };
    let Some(root) = root.and_then(|name| registry.types.get(name)) else {
        return INVALID.into();
    };
    let mut roots = RootFields {
        document,
        root,
        fields: BTreeSet::new(),
        fragments_seen: HashSet::new(),
    };
    if !roots.collect(&operation.selection_set.node, 0) || roots.fields.is_empty() {
        return INVALID.into();
    }
    if roots.fields.len() > MAX_ROOT_FIELDS {
        return format!("{kind}:several");
    }
    let fields: Vec<&str> = roots.fields.into_iter().collect();
    format!("{kind}:{}", fields.join("+"))
}

/// The distinct root fields an operation selects, through fragments.
struct RootFields<'d> {
    document: &'d ExecutableDocument,
    root: &'d MetaType,
    fields: BTreeSet<&'d str>,
    /// Each fragment is read once: a document of fragments that spread each other many
    /// times over must not cost more than its size.
    fragments_seen: HashSet<&'d str>,
}

impl<'d> RootFields<'d> {
    /// False when the selection names a field the root type does not have.
    fn collect(&mut self, selection_set: &'d SelectionSet, depth: usize) -> bool {
        if depth > MAX_FRAGMENT_DEPTH {
            return false;
        }
        for selection in &selection_set.items {
            let known = match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let known = name == "__typename" || self.root.field_by_name(name).is_some();
                    self.fields.insert(name);
                    known
                }
                Selection::InlineFragment(fragment) => {
                    self.collect(&fragment.node.selection_set.node, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.document.fragments.get(&spread.node.fragment_name.node) {
                        None => false,
                        Some(_) if !self.fragments_seen.insert(name) => true,
                        Some(fragment) => {
                            self.collect(&fragment.node.selection_set.node, depth + 1)
                        }
                    }
                }
            };
            if !known {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands the test the recording the schema used.
    struct Shared(Arc<Recording>);

    impl ExtensionFactory for Shared {
        fn create(&self) -> Arc<dyn Extension> {
            self.0.clone()
        }
    }

    /// The label the schema's request gets. No database is attached: resolvers fail,
    /// which does not matter to the label.
    async fn label(query: &str, operation_name: Option<&str>) -> String {
        let recording = Arc::new(Recording::default());
        let schema = crate::graphql::builder(false)
            .extension(Shared(recording.clone()))
            .finish();
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        schema.execute(request).await;
        recording
            .operation
            .get()
            .cloned()
            .unwrap_or_else(|| INVALID.to_owned())
    }

    #[tokio::test]
    async fn an_operation_is_labelled_by_its_type_and_root_field() {
        assert_eq!(
            label("{ products { totalCount } }", None).await,
            "query:products"
        );
        assert_eq!(
            label("mutation Buy { checkout(input: {}) { id } }", None).await,
            "mutation:checkout"
        );
    }

    #[tokio::test]
    async fn the_client_s_operation_name_never_appears_in_the_label() {
        let query = "query EveryoneGetsTheirOwnSeries { me { id } } mutation Other { logout }";

        assert_eq!(
            label(query, Some("EveryoneGetsTheirOwnSeries")).await,
            "query:me"
        );
        assert_eq!(label(query, Some("Other")).await, "mutation:logout");
        assert_eq!(label(query, Some("NoSuchOperation")).await, INVALID);
        assert_eq!(label(query, None).await, INVALID);
    }

    #[tokio::test]
    async fn aliases_and_repeats_name_the_field_once_sorted() {
        assert_eq!(
            label("{ b: me { id } cart { totalQuantity } a: me { id } }", None).await,
            "query:cart+me"
        );
    }

    #[tokio::test]
    async fn root_fields_inside_fragments_count() {
        let query = "query { ...F ... on Query { me { id } } } \
                     fragment F on Query { cart { totalQuantity } }";

        assert_eq!(label(query, None).await, "query:cart+me");
    }

    #[tokio::test]
    async fn a_field_the_schema_does_not_have_makes_the_document_invalid() {
        assert_eq!(label("{ attackerChosenName }", None).await, INVALID);
        assert_eq!(label("{ me { id } ...Missing }", None).await, INVALID);
        assert_eq!(
            label("mutation { products { totalCount } }", None).await,
            INVALID
        );
        assert_eq!(label("{ not even graphql", None).await, INVALID);
    }

    #[tokio::test]
    async fn more_root_fields_than_the_cap_become_several() {
        assert_eq!(
            label(
                "{ me { id } cart { totalQuantity } categories { id } }",
                None
            )
            .await,
            "query:several"
        );
    }

    #[tokio::test]
    async fn a_fragment_spread_many_times_names_its_fields_once() {
        let query = "{ ...A ...B ...C } fragment A on Query { ...C ...C } \
                     fragment B on Query { ...C } fragment C on Query { me { id } }";

        assert_eq!(label(query, None).await, "query:me");
    }

    #[tokio::test]
    async fn fragments_that_spread_each_other_are_invalid() {
        let query = "{ ...A } fragment A on Query { me { id } ...B } \
                     fragment B on Query { ...A }";

        assert_eq!(label(query, None).await, INVALID);
    }

    #[tokio::test]
    async fn introspection_has_labels_of_its_own() {
        assert_eq!(label("{ __typename }", None).await, "query:__typename");
        assert_eq!(
            label("{ __schema { queryType { name } } }", None).await,
            "query:__schema"
        );
    }

    #[test]
    fn the_outcome_is_ok_or_a_known_code_never_free_text() {
        let mut coded = async_graphql::ServerError::new("nope", None);
        coded
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "FORBIDDEN");
        let mut odd = async_graphql::ServerError::new("nope", None);
        odd.extensions
            .get_or_insert_with(Default::default)
            .set("code", "SOMETHING_A_CLIENT_WROTE");

        assert_eq!(outcome(&Response::new(Value::Null)), "ok");
        assert_eq!(outcome(&Response::from_errors(vec![coded])), "FORBIDDEN");
        assert_eq!(
            outcome(&Response::from_errors(vec![odd])),
            "INTERNAL_SERVER_ERROR"
        );
    }
}
