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
//! The `outcome` is `ok` or the code of the first error: the executor records a request
//! once [`super::errors::ErrorCodes`] has given every error its final code.
//!
//! Subscriptions are long-lived streams, not requests, and are not counted here.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    time::Instant,
};

use async_graphql::{
    Response, Value,
    parser::{
        parse_schema,
        types::{
            ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
            TypeKind, TypeSystemDefinition,
        },
    },
};

use super::documents::operation_kind;
use crate::{error::ErrorCode, telemetry};

/// The most root fields named one by one; a document selecting more is `<type>:several`.
/// Each further one multiplies the label values clients can produce (every pair of 24
/// mutations is already 276 of them).
pub const MAX_ROOT_FIELDS: usize = 2;
/// The label of a document that does not parse, is refused before it runs, or names fields
/// the schema does not have.
pub const INVALID: &str = "invalid";
/// Fragments nested deeper than this at the root make the document `invalid` (the parser
/// bounds nested selections, but not chains of fragment spreads).
const MAX_FRAGMENT_DEPTH: usize = 16;
/// The fields async-graphql gives every query root for introspection, which the SDL does
/// not show.
const INTROSPECTION_FIELDS: [&str; 2] = ["__schema", "__type"];

/// The root fields of each operation type, as the schema names them: all a label can hold.
pub struct OperationLabels {
    query: HashSet<String>,
    mutation: HashSet<String>,
    subscription: HashSet<String>,
}

impl OperationLabels {
    /// Read once from the schema's SDL (async-graphql offers no other public view of the
    /// fields a schema has).
    pub fn from_sdl(sdl: &str) -> anyhow::Result<Self> {
        let document = parse_schema(sdl)?;
        let mut roots = [
            (OperationType::Query, "Query".to_owned()),
            (OperationType::Mutation, "Mutation".to_owned()),
            (OperationType::Subscription, "Subscription".to_owned()),
        ];
        let mut fields: HashMap<String, HashSet<String>> = HashMap::new();
        for definition in &document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let named = [
                        &schema.node.query,
                        &schema.node.mutation,
                        &schema.node.subscription,
                    ];
                    for ((_, root), name) in roots.iter_mut().zip(named) {
                        if let Some(name) = name {
                            *root = name.node.to_string();
                        }
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    if let TypeKind::Object(object) = &ty.node.kind {
                        fields
                            .entry(ty.node.name.node.to_string())
                            .or_default()
                            .extend(
                                object
                                    .fields
                                    .iter()
                                    .map(|field| field.node.name.node.to_string()),
                            );
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        let [mut query, mutation, subscription] =
            roots.map(|(_, root)| fields.remove(&root).unwrap_or_default());
        query.extend(INTROSPECTION_FIELDS.map(str::to_owned));
        Ok(Self {
            query,
            mutation,
            subscription,
        })
    }

    /// The label of `operation`, the operation of `document` that runs.
    pub fn label(&self, document: &ExecutableDocument, operation: &OperationDefinition) -> String {
        let root = match operation.ty {
            OperationType::Query => &self.query,
            OperationType::Mutation => &self.mutation,
            OperationType::Subscription => &self.subscription,
        };
        let mut roots = RootFields {
            document,
            root,
            fields: BTreeSet::new(),
            fragments_seen: HashSet::new(),
        };
        if root.is_empty()
            || !roots.collect(&operation.selection_set.node, 0)
            || roots.fields.is_empty()
        {
            return INVALID.into();
        }
        let kind = operation_kind(operation.ty);
        if roots.fields.len() > MAX_ROOT_FIELDS {
            return format!("{kind}:several");
        }
        let fields: Vec<&str> = roots.fields.into_iter().collect();
        format!("{kind}:{}", fields.join("+"))
    }
}

/// Counts and times one query or mutation, under `operation` (its label, or [`INVALID`])
/// and the outcome of its `response`.
pub fn record(operation: String, started: Instant, response: &Response) {
    metrics::histogram!(telemetry::GRAPHQL_DURATION, "operation" => operation.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        telemetry::GRAPHQL_REQUESTS,
        "operation" => operation,
        "outcome" => outcome(response),
    )
    .increment(1);
}

/// `ok`, or the code of the first error. Codes come from [`ErrorCode`] only: anything
/// else (which [`super::errors::ErrorCodes`] makes impossible) counts as an internal error.
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

/// The distinct root fields an operation selects, through fragments.
struct RootFields<'d> {
    document: &'d ExecutableDocument,
    root: &'d HashSet<String>,
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
                    let known = name == "__typename" || self.root.contains(name);
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

    use async_graphql::parser::parse_query;

    use crate::graphql::documents::selected_operation;

    /// The label of the operation the request would run (a document that does not parse
    /// or picks no operation is refused before it is labelled: see the executor's tests).
    fn label(query: &str, operation_name: Option<&str>) -> String {
        let labels = OperationLabels::from_sdl(&crate::graphql::sdl()).expect("the SDL parses");
        let document = parse_query(query).expect("the test document parses");
        let (_, operation) =
            selected_operation(&document, operation_name).expect("the request picks one");
        labels.label(&document, operation)
    }

    #[test]
    fn an_operation_is_labelled_by_its_type_and_root_field() {
        assert_eq!(label("{ products { totalCount } }", None), "query:products");
        assert_eq!(
            label("mutation Buy { checkout(input: {}) { id } }", None),
            "mutation:checkout"
        );
    }

    #[test]
    fn the_client_s_operation_name_never_appears_in_the_label() {
        let query = "query EveryoneGetsTheirOwnSeries { me { id } } mutation Other { logout }";

        assert_eq!(label(query, Some("EveryoneGetsTheirOwnSeries")), "query:me");
        assert_eq!(label(query, Some("Other")), "mutation:logout");
    }

    #[test]
    fn aliases_and_repeats_name_the_field_once_sorted() {
        assert_eq!(
            label("{ b: me { id } cart { totalQuantity } a: me { id } }", None),
            "query:cart+me"
        );
    }

    #[test]
    fn root_fields_inside_fragments_count() {
        let query = "query { ...F ... on Query { me { id } } } \
                     fragment F on Query { cart { totalQuantity } }";

        assert_eq!(label(query, None), "query:cart+me");
    }

    #[test]
    fn a_field_the_schema_does_not_have_makes_the_document_invalid() {
        assert_eq!(label("{ attackerChosenName }", None), INVALID);
        assert_eq!(label("{ me { id } ...Missing }", None), INVALID);
        assert_eq!(label("mutation { products { totalCount } }", None), INVALID);
    }

    #[test]
    fn more_root_fields_than_the_cap_become_several() {
        assert_eq!(
            label(
                "{ me { id } cart { totalQuantity } categories { id } }",
                None
            ),
            "query:several"
        );
    }

    #[test]
    fn a_fragment_spread_many_times_names_its_fields_once() {
        let query = "{ ...A ...B ...C } fragment A on Query { ...C ...C } \
                     fragment B on Query { ...C } fragment C on Query { me { id } }";

        assert_eq!(label(query, None), "query:me");
    }

    #[test]
    fn introspection_has_labels_of_its_own() {
        assert_eq!(label("{ __typename }", None), "query:__typename");
        assert_eq!(
            label("{ __schema { queryType { name } } }", None),
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
