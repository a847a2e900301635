//! What the WebSocket endpoint runs: subscriptions, and nothing else.
//!
//! Queries and mutations belong on POST /graphql, where every request passes the body
//! limit, the content-type check against cross-site posts, the request timeout, the
//! request id and the access log, and carries a token checked at that moment. A socket
//! authenticates once, at connection_init, and lives for hours: a mutation sent over it
//! would run on a token checked long ago. So the socket refuses them with a clear error,
//! and a connection holds a bounded number of subscriptions.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_graphql::{Data, Executor, Request, Response, ServerError, parser::types::OperationType};
use futures_util::stream::{self, BoxStream, StreamExt};

use crate::{
    error::ErrorCode,
    graphql::{ShopExecutor, coded, selected_operation},
};

/// The most subscriptions one connection may hold at once; a page needs a handful.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 16;

/// The executor, as one WebSocket connection may use it.
#[derive(Clone)]
pub struct SubscriptionsOnly {
    executor: ShopExecutor,
    /// Subscriptions of this connection still running.
    active: Arc<AtomicUsize>,
}

impl SubscriptionsOnly {
    /// One per connection: the subscription count is the connection's.
    pub fn new(executor: ShopExecutor) -> Self {
        Self {
            executor,
            active: Arc::default(),
        }
    }
}

impl Executor for SubscriptionsOnly {
    async fn execute(&self, _request: Request) -> Response {
        not_a_subscription()
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let requested = request.operation_name.clone();
        // A document that does not parse, or a request that picks no operation of it, is
        // the executor's to refuse, with its proper error.
        let subscription = match request.parsed_query() {
            Ok(document) => selected_operation(document, requested.as_deref())
                .is_none_or(|(_, operation)| operation.ty == OperationType::Subscription),
            Err(_) => true,
        };
        if !subscription {
            return stream::once(async { not_a_subscription() }).boxed();
        }
        let Some(slot) = Slot::take(&self.active) else {
            return stream::once(async {
                refusal(
                    ErrorCode::BadUserInput,
                    "this connection holds too many subscriptions; complete one first",
                )
            })
            .boxed();
        };
        self.executor
            .execute_stream(request, session_data)
            // The slot is released when the stream ends or the client completes it.
            .map(move |response| {
                let _held = &slot;
                response
            })
            .boxed()
    }
}

/// One of a connection's subscription slots, released when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(active: &Arc<AtomicUsize>) -> Option<Self> {
        active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held < MAX_SUBSCRIPTIONS_PER_CONNECTION).then_some(held + 1)
            })
            .ok()
            .map(|_| Self(active.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn not_a_subscription() -> Response {
    refusal(
        ErrorCode::GraphqlValidationFailed,
        "only subscriptions are served over the WebSocket; send queries and mutations with \
         POST /graphql",
    )
}

fn refusal(code: ErrorCode, message: &str) -> Response {
    Response::from_errors(vec![coded(ServerError::new(message, None), code)])
}
