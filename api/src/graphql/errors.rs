//! The one place where failures become the contract's error codes.
//!
//! async-graphql turns any `Display` error into a bare message; this extension looks at
//! every error of every response and gives it its code: from the [`AppError`] inside it,
//! BAD_USER_INPUT for a document that fails to parse or validate, and otherwise (an error
//! we did not anticipate) INTERNAL_SERVER_ERROR with the details logged and masked.

use std::sync::Arc;

use async_graphql::{
    ErrorExtensionValues, Response, ServerError,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest},
};

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
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            classify(error);
        }
        response
    }
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
/// rule, a limit, or an argument value that does not fit its type.
fn is_client_mistake(error: &ServerError) -> bool {
    error.path.is_empty()
        || error.message.starts_with("Failed to parse")
        || error.message.starts_with("Invalid value")
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
