//! The one place where failures become the contract's error codes.
//!
//! async-graphql turns any `Display` error into a bare message; this extension looks at
//! every error of every response and of every subscription event, and gives it its code:
//! from the [`AppError`] inside it, BAD_USER_INPUT for a document that fails to parse or
//! validate, and otherwise (an error we did not anticipate) INTERNAL_SERVER_ERROR with the
//! details logged and masked.

use std::sync::Arc;

use async_graphql::{
    ErrorExtensionValues, Response, ServerError,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
};
use futures_util::stream::{BoxStream, StreamExt};

use crate::error::{AppError, ErrorCode};

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        classify_all(next.run(ctx).await)
    }

    /// Subscriptions (over the WebSocket) never pass through `request`: without this, their
    /// errors would reach the client without a code, and unanticipated ones unmasked.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(classify_all).boxed()
    }
}

fn classify_all(mut response: Response) -> Response {
    for error in &mut response.errors {
        classify(error);
    }
    response
}

fn classify(error: &mut ServerError) {
    if let Some(app_error) = error.source::<AppError>() {
        let app_error = describe(app_error);
        apply(error, app_error);
    } else if has_code(error) {
        // Already classified (e.g. built by the HTTP layer).
    } else if error.source.is_none() && is_client_mistake(error) {
        set_code(error, ErrorCode::BadUserInput);
    } else {
        tracing::error!(message = %error.message, path = ?error.path, "unclassified GraphQL error");
        error.message = "internal error".into();
        error.extensions = None;
        set_code(error, ErrorCode::InternalServerError);
    }
}

/// Errors async-graphql produces itself for a bad document: a syntax error, a validation
/// rule, a limit, an argument value that does not fit its type, or a variable the operation
/// declares (non-null, without a default) but the request does not provide, which
/// async-graphql only notices while resolving the field that uses it.
fn is_client_mistake(error: &ServerError) -> bool {
    error.path.is_empty()
        || error.message.starts_with("Failed to parse")
        || error.message.starts_with("Invalid value")
        || (error.message.starts_with("Variable ") && error.message.ends_with(" is not defined."))
}

/// What the client is told about an [`AppError`], as owned values.
struct Described {
    message: String,
    code: ErrorCode,
    extras: Vec<(&'static str, async_graphql::Value)>,
}

fn describe(error: &AppError) -> Described {
    let mut extras = Vec::new();
    match error {
        AppError::BadUserInput { field, .. } => extras.push(("field", field.clone().into())),
        AppError::Conflict {
            field: Some(field), ..
        } => extras.push(("field", (*field).into())),
        AppError::OutOfStock {
            product_id,
            available,
        } => {
            extras.push(("productId", product_id.clone().into()));
            extras.push(("available", (*available).into()));
        }
        AppError::RateLimited { retry_after_secs } => {
            extras.push(("retryAfter", (*retry_after_secs).into()))
        }
        AppError::Internal(source) => {
            tracing::error!(error = ?source, "internal error");
        }
        _ => {}
    }
    let message = match error {
        AppError::BadUserInput { message, .. } => message.clone(),
        other => other.to_string(),
    };
    Described {
        message,
        code: error.code(),
        extras,
    }
}

fn apply(error: &mut ServerError, described: Described) {
    error.message = described.message;
    error.extensions = None;
    set_code(error, described.code);
    if let Some(extensions) = error.extensions.as_mut() {
        for (name, value) in described.extras {
            extensions.set(name, value);
        }
    }
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some())
}

fn set_code(error: &mut ServerError, code: ErrorCode) {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
}

#[cfg(test)]
mod tests {
    use std::any::Any;

    use async_graphql::{PathSegment, Pos, Value};
    use sea_orm::DbErr;

    use super::*;

    const POS: Pos = Pos { line: 1, column: 3 };

    /// An error as a resolver's `?` leaves it: the source's message, a path, the source.
    fn from_resolver(source: impl Any + Send + Sync + std::fmt::Display) -> ServerError {
        let mut error = ServerError::new(source.to_string(), Some(POS));
        error.path = vec![PathSegment::Field("register".into())];
        error.source = Some(Arc::new(source));
        error
    }

    fn extension(error: &ServerError, name: &str) -> Option<Value> {
        error.extensions.as_ref()?.get(name).cloned()
    }

    fn code(error: &ServerError) -> Option<Value> {
        extension(error, "code")
    }

    #[test]
    fn an_app_error_source_gives_its_code_and_names_the_field() {
        let mut error = from_resolver(AppError::bad_input("email", "is not an email address"));

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("BAD_USER_INPUT")));
        assert_eq!(extension(&error, "field"), Some(Value::from("email")));
        assert_eq!(error.message, "is not an email address");
    }

    #[test]
    fn a_rate_limited_app_error_says_when_to_retry() {
        let mut error = from_resolver(AppError::RateLimited {
            retry_after_secs: 42,
        });

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("RATE_LIMITED")));
        assert_eq!(extension(&error, "retryAfter"), Some(Value::from(42u64)));
    }

    #[test]
    fn a_conflict_names_its_field_and_other_app_errors_just_their_code() {
        let mut conflict = from_resolver(AppError::conflict("username", "is taken"));
        let mut forbidden = from_resolver(AppError::Forbidden);
        let mut not_found = from_resolver(AppError::NotFound("order"));

        for error in [&mut conflict, &mut forbidden, &mut not_found] {
            classify(error);
        }

        assert_eq!(code(&conflict), Some(Value::from("CONFLICT")));
        assert_eq!(extension(&conflict, "field"), Some(Value::from("username")));
        assert_eq!(code(&forbidden), Some(Value::from("FORBIDDEN")));
        assert_eq!(extension(&forbidden, "field"), None);
        assert_eq!(code(&not_found), Some(Value::from("NOT_FOUND")));
    }

    #[test]
    fn a_foreign_error_source_is_masked_as_an_internal_error_without_a_trace_of_it() {
        let mut error = from_resolver(DbErr::Custom("SELECT secret FROM x".into()));
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("sql", "SELECT secret FROM x");

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("INTERNAL_SERVER_ERROR")));
        assert_eq!(error.message, "internal error");
        let json = serde_json::to_string(&error).expect("serializable");
        assert!(!json.contains("SELECT"), "{json}");
        assert!(!json.contains("secret"), "{json}");
    }

    #[test]
    fn an_internal_app_error_is_masked_too() {
        let mut error = from_resolver(AppError::internal(anyhow::anyhow!("SELECT secret FROM x")));

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("INTERNAL_SERVER_ERROR")));
        let json = serde_json::to_string(&error).expect("serializable");
        assert!(!json.contains("secret"), "{json}");
    }

    #[test]
    fn an_error_with_neither_source_nor_path_is_a_bad_document() {
        let mut error = ServerError::new("Unknown field \"passwordHash\" on type \"User\".", None);

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("BAD_USER_INPUT")));
        assert_eq!(
            error.message,
            "Unknown field \"passwordHash\" on type \"User\"."
        );
    }

    #[test]
    fn a_missing_variable_noticed_while_resolving_is_a_bad_document() {
        let mut error = ServerError::new("Variable id is not defined.", Some(POS));
        error.path = vec![PathSegment::Field("node".into())];

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("BAD_USER_INPUT")));
    }

    #[test]
    fn an_unrecognised_error_at_a_path_without_a_source_is_masked() {
        let mut error = ServerError::new("connection to 10.0.0.7 refused", Some(POS));
        error.path = vec![PathSegment::Field("me".into())];

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("INTERNAL_SERVER_ERROR")));
        assert_eq!(error.message, "internal error");
    }

    #[test]
    fn an_error_that_already_has_a_code_keeps_it() {
        let mut error = ServerError::new("send mutations with POST", None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "UNAUTHENTICATED");

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("UNAUTHENTICATED")));
    }
}
