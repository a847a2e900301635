//! The one place where failures become the contract's error codes.
//!
//! async-graphql turns any `Display` error into a bare message; this extension looks at
//! every error of every response and of every subscription event, and gives it its code:
//! from the [`AppError`] inside it; GRAPHQL_VALIDATION_FAILED for a document that does not
//! fit the schema or its limits (a bug in the client); BAD_USER_INPUT for a variable whose
//! value does not fit (the user's input); and otherwise (an error we did not anticipate)
//! INTERNAL_SERVER_ERROR with the details logged and masked. Documents that do not parse
//! are refused earlier, by [`super::documents`], with GRAPHQL_PARSE_FAILED.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{
    ErrorExtensionValues, Pos, Positioned, Response, ServerError, ServerResult, ValidationResult,
    Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe,
        NextValidation,
    },
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};
use futures_util::stream::{BoxStream, StreamExt};

use crate::error::{AppError, ErrorCode, Refusal, VariantAttribute};

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Classifier::default())
    }
}

/// One request's classifier: the factory makes one per request.
#[derive(Default)]
struct Classifier {
    /// Where the document passes a variable as an argument (the argument's name, and the
    /// field it is an argument of): a value async-graphql finds wrong there came from the
    /// user, not from the client's code.
    variable_arguments: Mutex<Vec<Pos>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Classifier {
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

    /// The document was parsed before (by the document limits); what fails here is
    /// async-graphql's own depth and directive limits, both about the document.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| coded(error, ErrorCode::GraphqlValidationFailed))?;
        if !variables.is_empty() {
            let mut positions = Vec::new();
            for (_, operation) in document.operations.iter() {
                variable_argument_positions(&operation.node.selection_set, &mut positions);
            }
            for fragment in document.fragments.values() {
                variable_argument_positions(&fragment.node.selection_set, &mut positions);
            }
            *self
                .variable_arguments
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = positions;
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            let variable_arguments = self
                .variable_arguments
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            errors
                .into_iter()
                .map(|error| validation_error(error, &variable_arguments))
                .collect()
        })
    }
}

/// A validation error is the client's bug, unless it is about a value the user gave in a
/// variable (a Decimal that is not a number): that is BAD_USER_INPUT, naming the field.
fn validation_error(error: ServerError, variable_arguments: &[Pos]) -> ServerError {
    // The argument rule reports at the argument; the complexity count, which parses page
    // sizes, reports at the field.
    let about_a_value = [
        "Invalid value for argument",
        "Expected input type",
        "Failed to parse",
    ]
    .iter()
    .any(|start| error.message.starts_with(start));
    let from_variable = about_a_value
        && error
            .locations
            .iter()
            .any(|pos| variable_arguments.contains(pos));
    if !from_variable {
        return coded(error, ErrorCode::GraphqlValidationFailed);
    }
    let field = invalid_argument_field(&error.message).map(str::to_owned);
    let mut error = coded(error, ErrorCode::BadUserInput);
    if let (Some(field), Some(extensions)) = (field, error.extensions.as_mut()) {
        extensions.set("field", field);
    }
    error
}

/// The input field an "Invalid value for argument" message names: the last segment of its
/// quoted path (`"input.price", expected type "Decimal"` names `price`).
fn invalid_argument_field(message: &str) -> Option<&str> {
    let path = message.split('"').nth(1)?;
    path.rsplit('.').next().filter(|field| !field.is_empty())
}

/// `error` with `code` in `extensions.code`, unless it already carries one: for errors
/// made before or outside the resolvers (document limits, the WebSocket's refusals).
pub fn coded(error: ServerError, code: ErrorCode) -> ServerError {
    let mut error = error;
    if !has_code(&error) {
        set_code(&mut error, code);
    }
    error
}

/// The positions of the arguments (of fields and directives) whose value holds a variable.
fn variable_argument_positions(set: &Positioned<SelectionSet>, positions: &mut Vec<Pos>) {
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                let directive_arguments = field
                    .node
                    .directives
                    .iter()
                    .flat_map(|directive| &directive.node.arguments);
                let mut any = false;
                for (name, value) in field.node.arguments.iter().chain(directive_arguments) {
                    // Only a value that holds a variable has no constant form.
                    if value.node.clone().into_const().is_none() {
                        positions.push(name.pos);
                        any = true;
                    }
                }
                if any {
                    positions.push(field.pos);
                }
                variable_argument_positions(&field.node.selection_set, positions);
            }
            Selection::InlineFragment(inline) => {
                variable_argument_positions(&inline.node.selection_set, positions)
            }
            Selection::FragmentSpread(_) => {}
        }
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
        AppError::Refused(refusal) => extras.push(("field", refused_field(refusal).into())),
        AppError::OutOfStock {
            product_id,
            variant_id,
            available,
        } => {
            extras.push(("productId", product_id.clone().into()));
            extras.push(("variantId", variant_id.clone().into()));
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

/// The input field a service's refusal is about, as the schema spells it: services say
/// which rule refused, only the API knows what the client called the value. Each rule is
/// reported on one field wherever it applies.
fn refused_field(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::UsernameTaken | Refusal::UsernameOrEmailTaken => "username",
        Refusal::EmailTaken => "email",
        Refusal::NotCurrentPassword => "currentPassword",
        // A registration checks its password against its username as it parses them.
        Refusal::PasswordIsUsername => "newPassword",
        Refusal::ResetTokenInvalid | Refusal::VerificationTokenInvalid => "token",
        Refusal::AddressBookFull { .. } => "input",
        Refusal::SavedAddressOutdated(_) => "shippingAddressId",
        Refusal::LastAdmin => "isAdmin",
        Refusal::SkuTaken => "sku",
        Refusal::OptionsMismatch(_) | Refusal::CombinationTaken => "selectedOptions",
        Refusal::OptionValueInUse { .. } | Refusal::OptionsWouldMergeVariants => "options",
        Refusal::LastVariant => "id",
        Refusal::TooManyVariants { .. } => "productId",
        Refusal::ProductHasVariants(attribute) => match attribute {
            VariantAttribute::Price => "price",
            VariantAttribute::Stock => "stock",
            VariantAttribute::Sku => "sku",
            VariantAttribute::CompareAtPrice => "compareAtPrice",
        },
        Refusal::CompareAtNotAbovePrice => "compareAtPrice",
        Refusal::VariantRequired | Refusal::VariantNotOfProduct => "variantId",
        Refusal::SlugTaken(_) => "slug",
        Refusal::CategoryCycle => "parentId",
        Refusal::CategoryHasSubcategories | Refusal::CategoryHasProducts => "id",
        Refusal::CartFull { .. } => "productId",
        Refusal::SavedCartsFull { .. } => "name",
        Refusal::CheckoutKeyFailed => "idempotencyKey",
        Refusal::NotCancellable(_) => "id",
        Refusal::NotNextStatus { .. } => "status",
        Refusal::DeliveryEndsBeforeItStarts => "maxDays",
        Refusal::NoShippingToCountry => "country",
        Refusal::ShippingMethodNotAvailable | Refusal::ShippingMethodRequired => "shippingMethodId",
        Refusal::DiscountCodeTaken | Refusal::DiscountNotApplicable(_) => "code",
        Refusal::UsageLimitBelowUses { .. } => "usageLimit",
        Refusal::DiscountEndsBeforeStart => "endsAt",
        Refusal::TrackingNotShipping => "tracking",
        Refusal::NotRefundable(_) => "id",
        Refusal::RefundNotPositive | Refusal::RefundTooLarge { .. } => "amount",
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
    fn a_service_s_refusal_gets_its_code_message_and_the_input_field_it_concerns() {
        for (refusal, expected_code, field, message) in [
            (
                Refusal::SlugTaken("category"),
                "CONFLICT",
                "slug",
                "another category has this slug",
            ),
            (
                Refusal::NotCurrentPassword,
                "BAD_USER_INPUT",
                "currentPassword",
                "is not your current password",
            ),
            (
                Refusal::NoShippingToCountry,
                "BAD_USER_INPUT",
                "country",
                "we do not ship to this country",
            ),
            (
                Refusal::ShippingMethodNotAvailable,
                "BAD_USER_INPUT",
                "shippingMethodId",
                "this shipping method is not available for this country",
            ),
            (
                Refusal::ShippingMethodRequired,
                "BAD_USER_INPUT",
                "shippingMethodId",
                "choose one of the shipping methods for this country",
            ),
            (
                Refusal::DeliveryEndsBeforeItStarts,
                "BAD_USER_INPUT",
                "maxDays",
                "the most days a delivery takes must not be less than the fewest",
            ),
        ] {
            let mut error = from_resolver(AppError::from(refusal));

            classify(&mut error);

            assert_eq!(code(&error), Some(Value::from(expected_code)));
            assert_eq!(extension(&error, "field"), Some(Value::from(field)));
            assert_eq!(error.message, message);
        }
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
    fn an_error_with_neither_source_nor_path_is_a_bad_request() {
        let mut error = ServerError::new("Unknown operation named \"Cart\"", None);

        classify(&mut error);

        assert_eq!(code(&error), Some(Value::from("BAD_USER_INPUT")));
        assert_eq!(error.message, "Unknown operation named \"Cart\"");
    }

    #[test]
    fn a_validation_error_is_the_clients_bug_unless_a_variable_holds_the_wrong_value() {
        let variable_at = Pos { line: 2, column: 9 };
        let literal_at = Pos { line: 3, column: 9 };
        let message = "Invalid value for argument \"input.price\", expected type \"Decimal\"";
        let unknown_field = ServerError::new("Unknown field \"passwordHash\"", Some(POS));

        let from_variable =
            validation_error(ServerError::new(message, Some(variable_at)), &[variable_at]);
        let from_literal =
            validation_error(ServerError::new(message, Some(literal_at)), &[variable_at]);
        let unknown_field = validation_error(unknown_field, &[variable_at]);

        assert_eq!(code(&from_variable), Some(Value::from("BAD_USER_INPUT")));
        assert_eq!(
            extension(&from_variable, "field"),
            Some(Value::from("price"))
        );
        assert_eq!(
            code(&from_literal),
            Some(Value::from("GRAPHQL_VALIDATION_FAILED"))
        );
        assert_eq!(
            code(&unknown_field),
            Some(Value::from("GRAPHQL_VALIDATION_FAILED"))
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
