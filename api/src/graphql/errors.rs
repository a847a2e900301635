//! The one place where failures become the contract's error codes.
//!
//! async-graphql turns any `Display` error into a bare message; [`ErrorCodes`] looks at
//! every error of every response and of every subscription event, and gives it its code:
//! from the [`AppError`] inside it; GRAPHQL_VALIDATION_FAILED for a document that does not
//! fit the schema or its limits (a bug in the client); BAD_USER_INPUT for a variable whose
//! value does not fit (the user's input); and otherwise (an error we did not anticipate)
//! INTERNAL_SERVER_ERROR with the details logged and masked. Documents that do not parse
//! are refused earlier, by [`super::documents`], with GRAPHQL_PARSE_FAILED.
//!
//! This runs on the finished response (see [`super::executor`]), not as a schema extension:
//! any extension makes async-graphql run its per-field hooks on every field of every
//! response. What tells a refused document from a failed resolver there is the error's
//! `path`: async-graphql gives every error raised while resolving a field the path of that
//! field (its object macros, lists and subscription streams all set it), while the errors
//! of its parse, limit and validation steps come back before anything runs, without one.
//! The only other path-less errors it makes (a request naming no operation of its document,
//! a subscription sent to `execute`) never reach it: the executor refuses those first.

use async_graphql::{
    ErrorExtensionValues, Pos, Positioned, Response, ServerError,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::error::{AppError, ErrorCode, Refusal, VariantAttribute};

/// Gives the errors of one document's responses their codes.
#[derive(Debug, Default)]
pub struct ErrorCodes {
    /// Where the document passes a variable as an argument (the argument's name, and the
    /// field it is an argument of): a value async-graphql finds wrong there came from the
    /// user, not from the client's code.
    variable_arguments: Vec<Pos>,
}

impl ErrorCodes {
    /// For a request running `document`; `has_variables` when the request gives any (if it
    /// gives none, no value can have come from one, and the document is not walked).
    pub fn for_document(document: &ExecutableDocument, has_variables: bool) -> Self {
        let mut variable_arguments = Vec::new();
        if has_variables {
            for (_, operation) in document.operations.iter() {
                variable_argument_positions(&operation.node.selection_set, &mut variable_arguments);
            }
            for fragment in document.fragments.values() {
                variable_argument_positions(&fragment.node.selection_set, &mut variable_arguments);
            }
        }
        Self { variable_arguments }
    }

    /// `response` with every error coded.
    pub fn apply(&self, mut response: Response) -> Response {
        for error in &mut response.errors {
            self.classify(error);
        }
        response
    }

    fn classify(&self, error: &mut ServerError) {
        if let Some(app_error) = error.source::<AppError>() {
            let app_error = describe(app_error);
            apply(error, app_error);
        } else if has_code(error) {
            // Already classified (e.g. a refusal of the document limits).
        } else if error.source.is_none() && error.path.is_empty() {
            // async-graphql refused the document before running any of it.
            classify_refusal(error, &self.variable_arguments);
        } else if error.source.is_none() && is_bad_value(error) {
            set_code(error, ErrorCode::BadUserInput);
        } else {
            tracing::error!(message = %error.message, path = ?error.path, "unclassified GraphQL error");
            error.message = "internal error".into();
            error.extensions = None;
            set_code(error, ErrorCode::InternalServerError);
        }
    }
}

/// A document async-graphql refused (a validation rule, a limit) is the client's bug,
/// unless the refusal is about a value the user gave in a variable (a Decimal that is not a
/// number): that is BAD_USER_INPUT, naming the field.
fn classify_refusal(error: &mut ServerError, variable_arguments: &[Pos]) {
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
        set_code(error, ErrorCode::GraphqlValidationFailed);
        return;
    }
    let field = invalid_argument_field(&error.message).map(str::to_owned);
    set_code(error, ErrorCode::BadUserInput);
    if let (Some(field), Some(extensions)) = (field, error.extensions.as_mut()) {
        extensions.set("field", field);
    }
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

/// Errors async-graphql raises while resolving a field about a value the request gave: an
/// argument value that does not fit its type, or a variable the operation declares
/// (non-null, without a default) but the request does not provide, which async-graphql
/// only notices while resolving the field that uses it.
fn is_bad_value(error: &ServerError) -> bool {
    error.message.starts_with("Failed to parse")
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
    use std::{any::Any, sync::Arc};

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

    /// Classified as the error of a request that gives no variables.
    fn classify(error: &mut ServerError) {
        ErrorCodes::default().classify(error);
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
    fn an_error_with_neither_source_nor_path_is_a_refused_document() {
        let mut too_complex = ServerError::new("Query is too complex.", None);
        let mut unknown_field = ServerError::new("Unknown field \"passwordHash\"", Some(POS));

        classify(&mut too_complex);
        classify(&mut unknown_field);

        for error in [&too_complex, &unknown_field] {
            assert_eq!(code(error), Some(Value::from("GRAPHQL_VALIDATION_FAILED")));
        }
        assert_eq!(too_complex.message, "Query is too complex.");
    }

    #[test]
    fn a_refused_document_is_the_clients_bug_unless_a_variable_holds_the_wrong_value() {
        let variable_at = Pos { line: 2, column: 9 };
        let literal_at = Pos { line: 3, column: 9 };
        let message = "Invalid value for argument \"input.price\", expected type \"Decimal\"";
        let codes = ErrorCodes {
            variable_arguments: vec![variable_at],
        };
        let mut from_variable = ServerError::new(message, Some(variable_at));
        let mut from_literal = ServerError::new(message, Some(literal_at));

        codes.classify(&mut from_variable);
        codes.classify(&mut from_literal);

        assert_eq!(code(&from_variable), Some(Value::from("BAD_USER_INPUT")));
        assert_eq!(
            extension(&from_variable, "field"),
            Some(Value::from("price"))
        );
        assert_eq!(
            code(&from_literal),
            Some(Value::from("GRAPHQL_VALIDATION_FAILED"))
        );
    }

    #[test]
    fn only_arguments_holding_a_variable_count_as_the_users_input() {
        let document = async_graphql::parser::parse_query(
            "query($n: Int) {\n  a: users(first: $n) { totalCount }\n  b: users(first: 3) { totalCount }\n}",
        )
        .expect("the test document parses");

        let with_variables = ErrorCodes::for_document(&document, true);
        let without = ErrorCodes::for_document(&document, false);

        // `first: $n`, and the field `a: users` it is an argument of.
        assert_eq!(
            with_variables.variable_arguments,
            [
                Pos {
                    line: 2,
                    column: 12
                },
                Pos { line: 2, column: 3 }
            ]
        );
        assert!(without.variable_arguments.is_empty());
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
