//! Names the operation a request runs in the request's log line: the HTTP layer's span
//! declares `operation_type` and `operation_name` empty, and the executor fills them in
//! once it has admitted the document. Only the document's own operation name is recorded:
//! never the variables (they hold passwords and tokens), and never a name the document
//! does not define.

use async_graphql::parser::types::OperationDefinition;
use tracing::{Span, field::display};

use super::documents::operation_kind;

/// Longer operation names are cut in the log line: a name is free text of the client's,
/// and a request of 256 KiB must not make a log line of that size.
const MAX_LOGGED_NAME_CHARS: usize = 100;

/// Records the operation that runs, with its name in the document when it has one (as
/// [`super::documents::selected_operation`] picks them), in the current span.
pub fn record(operation: &OperationDefinition, name: Option<&str>) {
    // The handler runs inside the request's span (TraceLayer enters it on every poll), so
    // this is that span; outside a request, recording does nothing.
    let span = Span::current();
    span.record("operation_type", display(operation_kind(operation.ty)));
    if let Some(name) = name {
        let name: String = name.chars().take(MAX_LOGGED_NAME_CHARS).collect();
        span.record("operation_name", display(name));
    }
}
