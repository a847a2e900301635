//! Names the operation a request runs in the request's log line: the HTTP layer's span
//! declares `operation_type` and `operation_name` empty, and this extension fills them in
//! once the document is parsed. Only the document's own operation name is recorded: never
//! the variables (they hold passwords and tokens), and never a name the document does not
//! define.

use std::sync::{Arc, OnceLock};

use async_graphql::{
    ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
    },
    parser::types::{ExecutableDocument, OperationType},
};
use tracing::{Span, field::display};

use super::documents::selected_operation;

/// Longer operation names are cut in the log line: a name is free text of the client's,
/// and a request of 256 KiB must not make a log line of that size.
const MAX_LOGGED_NAME_CHARS: usize = 100;

pub struct RequestSpan;

impl ExtensionFactory for RequestSpan {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Naming::default())
    }
}

/// One request's naming: the factory makes one per request.
#[derive(Default)]
struct Naming {
    /// Which operation of the document runs: only to pick it.
    operation_name: OnceLock<Option<String>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Naming {
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
        let requested = self.operation_name.get().and_then(Option::as_deref);
        if let Some((kind, name)) = selected(&document, requested) {
            // The handler runs inside the request's span (TraceLayer enters it on every
            // poll), so this is that span; outside a request, recording does nothing.
            let span = Span::current();
            span.record("operation_type", display(kind));
            if let Some(name) = name {
                let name: String = name.chars().take(MAX_LOGGED_NAME_CHARS).collect();
                span.record("operation_name", display(name));
            }
        }
        Ok(document)
    }
}

/// The type and the name (when it has one) of the operation async-graphql will run.
fn selected<'d>(
    document: &'d ExecutableDocument,
    requested: Option<&str>,
) -> Option<(&'static str, Option<&'d str>)> {
    let (name, operation) = selected_operation(document, requested)?;
    let kind = match operation.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    Some((kind, name))
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn pick(query: &str, requested: Option<&str>) -> Option<(&'static str, Option<String>)> {
        let document = parse_query(query).ok()?;
        selected(&document, requested).map(|(kind, name)| (kind, name.map(str::to_owned)))
    }

    #[test]
    fn the_operation_is_named_by_the_document_never_by_the_request_alone() {
        assert_eq!(pick("{ me { id } }", None), Some(("query", None)));
        assert_eq!(
            pick("mutation Login { login { id } }", None),
            Some(("mutation", Some("Login".into())))
        );
        let two = "query A { me { id } } mutation B { logout }";
        assert_eq!(pick(two, Some("B")), Some(("mutation", Some("B".into()))));
        assert_eq!(pick(two, None), None);
        assert_eq!(pick(two, Some("password123")), None);
        assert_eq!(pick("{ me { id } }", Some("Invented")), None);
    }
}
