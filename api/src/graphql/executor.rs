//! The one way the server runs a GraphQL document, over HTTP and the WebSocket alike.
//!
//! Everything the server does around a request (refusing documents that are too large,
//! naming the operation in the log line, giving every error its code, counting the request
//! for `/metrics`) happens here, once per request, around async-graphql's `execute` and
//! `execute_stream`. None of it is a schema extension: with any extension registered,
//! async-graphql builds a `ResolveInfo` and runs every extension's `resolve` hook for every
//! field of every response (async-graphql 7.2.1, `resolver_utils/container.rs`), which a
//! page of 20 products makes a couple of hundred times per request. With none, it resolves
//! fields directly.

use std::{sync::Arc, time::Instant};

use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    parser::types::{ExecutableDocument, OperationDefinition, OperationType},
};
use futures_util::stream::{self, BoxStream, StreamExt};

use super::{
    ShopSchema,
    document_cache::DocumentCache,
    documents,
    errors::{ErrorCodes, coded},
    request_metrics::{self, INVALID, OperationLabels},
    request_span,
};
use crate::error::ErrorCode;

/// The schema, with all the server does around running a document.
#[derive(Clone)]
pub struct ShopExecutor {
    schema: ShopSchema,
    /// Set unless metrics are off: then nothing is counted.
    labels: Option<Arc<OperationLabels>>,
    documents: Arc<DocumentCache>,
}

impl ShopExecutor {
    /// Runs `schema`'s documents; with `metrics`, counts and times every query and
    /// mutation for `/metrics`.
    pub fn new(schema: ShopSchema, metrics: bool) -> anyhow::Result<Self> {
        let labels = if metrics {
            Some(Arc::new(OperationLabels::from_sdl(&schema.sdl())?))
        } else {
            None
        };
        Ok(Self {
            schema,
            labels,
            documents: Arc::default(),
        })
    }

    /// The response to a query or mutation, and the request's metrics label (`None` when
    /// metrics are off or the document was refused before one could be given).
    async fn run(&self, mut request: Request) -> (Option<String>, Response) {
        let has_variables = !request.variables.is_empty();
        let admitted = match admit(&self.documents, &mut request) {
            Ok(admitted) => admitted,
            Err(refusal) => return (None, Response::from_errors(vec![refusal])),
        };
        let label = self
            .labels
            .as_ref()
            .map(|labels| labels.label(admitted.document, admitted.operation));
        if admitted.operation.ty == OperationType::Subscription {
            // async-graphql would refuse it too, but only after validating it, and with an
            // error the classification could not tell from a validation error.
            return (
                label,
                refused(ErrorCode::BadUserInput, SUBSCRIPTION_IS_A_STREAM),
            );
        }
        let codes = ErrorCodes::for_document(admitted.document, has_variables);
        (label, codes.apply(self.schema.execute(request).await))
    }
}

const SUBSCRIPTION_IS_A_STREAM: &str =
    "subscriptions are served over the WebSocket (graphql-transport-ws at /graphql/ws)";

impl Executor for ShopExecutor {
    async fn execute(&self, request: Request) -> Response {
        let started = Instant::now();
        let (label, response) = self.run(request).await;
        if self.labels.is_some() {
            let label = label.unwrap_or_else(|| INVALID.to_owned());
            request_metrics::record(label, started, &response);
        }
        response
    }

    /// Subscriptions: admitted as requests are, every event's errors coded, and never
    /// counted (a stream that lives for hours is not a request).
    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let has_variables = !request.variables.is_empty();
        let codes = match admit(&self.documents, &mut request) {
            Ok(admitted) => ErrorCodes::for_document(admitted.document, has_variables),
            Err(refusal) => {
                return stream::once(async { Response::from_errors(vec![refusal]) }).boxed();
            }
        };
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |response| codes.apply(response))
            .boxed()
    }
}

/// A request's document, admitted to run, and the operation of it that runs.
struct Admitted<'r> {
    document: &'r ExecutableDocument,
    operation: &'r OperationDefinition,
}

/// Parses and checks the request's document, or finds it in `documents` (see
/// [`documents::admit`] and [`DocumentCache`]), and picks the operation that runs, naming
/// it in the request's log line. A request that picks none of its document's operations is
/// refused here, before async-graphql validates the document: it would refuse it after,
/// with an error the classification could not tell from a validation error.
fn admit<'r>(
    documents: &DocumentCache,
    request: &'r mut Request,
) -> Result<Admitted<'r>, ServerError> {
    let requested = request.operation_name.clone();
    let document = documents.admit(request)?;
    let Some((name, operation)) = documents::selected_operation(document, requested.as_deref())
    else {
        // async-graphql's own words for the same refusals.
        let message = match requested {
            Some(requested) => format!(r#"Unknown operation named "{requested}""#),
            None => "Operation name required in request.".to_owned(),
        };
        return Err(coded(
            ServerError::new(message, None),
            ErrorCode::BadUserInput,
        ));
    };
    request_span::record(operation, name);
    Ok(Admitted {
        document,
        operation,
    })
}

fn refused(code: ErrorCode, message: &str) -> Response {
    Response::from_errors(vec![coded(ServerError::new(message, None), code)])
}

#[cfg(test)]
mod tests {
    use async_graphql::Value;

    use super::*;

    /// An executor over the schema alone: no database, so resolvers that need one fail,
    /// which none of these tests reaches.
    fn executor() -> ShopExecutor {
        ShopExecutor::new(crate::graphql::builder().finish(), true).expect("the SDL parses")
    }

    fn codes(response: &Response) -> Vec<Value> {
        response
            .errors
            .iter()
            .filter_map(|error| error.extensions.as_ref()?.get("code").cloned())
            .collect()
    }

    #[tokio::test]
    async fn a_document_that_does_not_parse_is_refused_and_labelled_invalid() {
        let (label, response) = executor().run(Request::new("{ not even graphql")).await;

        assert_eq!(label, None);
        assert_eq!(codes(&response), [Value::from("GRAPHQL_PARSE_FAILED")]);
    }

    #[tokio::test]
    async fn a_document_the_limits_refuse_fails_validation_and_is_labelled_invalid() {
        let cycle = "{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }";

        let (label, response) = executor().run(Request::new(cycle)).await;

        assert_eq!(label, None);
        assert_eq!(codes(&response), [Value::from("GRAPHQL_VALIDATION_FAILED")]);
    }

    #[tokio::test]
    async fn a_request_naming_none_of_its_documents_operations_is_bad_input_labelled_invalid() {
        let two = "query A { __typename } query B { __typename }";

        for request in [
            Request::new(two),
            Request::new(two).operation_name("C"),
            Request::new("{ __typename }").operation_name("A"),
        ] {
            let (label, response) = executor().run(request).await;

            assert_eq!(label, None);
            assert_eq!(codes(&response), [Value::from("BAD_USER_INPUT")]);
        }
    }

    #[tokio::test]
    async fn a_subscription_is_refused_outside_a_stream_but_labelled_by_its_field() {
        let request = Request::new("subscription { orderUpdated { number } }");

        let (label, response) = executor().run(request).await;

        assert_eq!(label.as_deref(), Some("subscription:orderUpdated"));
        assert_eq!(codes(&response), [Value::from("BAD_USER_INPUT")]);
    }

    #[tokio::test]
    async fn async_graphqls_own_limits_fail_validation() {
        let directives = " @skip(if: false)".repeat(crate::graphql::MAX_DIRECTIVES + 1);
        let request = Request::new(format!("{{ __typename{directives} }}"));

        let (_, response) = executor().run(request).await;

        assert_eq!(codes(&response), [Value::from("GRAPHQL_VALIDATION_FAILED")]);
        assert!(response.errors[0].path.is_empty());
    }

    #[tokio::test]
    async fn a_document_that_runs_is_answered_and_labelled() {
        let (label, response) = executor().run(Request::new("{ __typename }")).await;

        assert_eq!(label.as_deref(), Some("query:__typename"));
        assert!(response.errors.is_empty(), "{:?}", response.errors);
    }
}
