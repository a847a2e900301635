//! What a document may be before anything walks it fragment by fragment.
//!
//! async-graphql's directive and depth checks and its validation rules follow every
//! fragment spread anew. A kilobyte of fragments that each spread the next one twice
//! (`fragment F0 on Query { ...F1 ...F1 }` ...) makes them walk 2^N selections: one request
//! pins a runtime thread for minutes, and since that work never reaches an await point, the
//! request timeout cannot cut it off. The complexity limit does not help either: it is
//! itself computed by such a walk, and `__typename` costs nothing.
//!
//! So every document is parsed here first, in linear time, and measured as the validator
//! would see it with each fragment measured once (memoised). A document whose expansion is
//! too large or too deep, or a mutation with too many root fields, is refused before any
//! of async-graphql's walks start. (async-graphql 7.2.1, the newest stable release, has no
//! such bound; 8.0 is a release candidate.)

use std::collections::HashMap;

use async_graphql::{
    Pos, Positioned, Request, ServerError,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
        SelectionSet,
    },
};

use super::{MAX_RECURSIVE_DEPTH, errors::coded};
use crate::error::ErrorCode;

/// The most selections a document may hold once its fragments are spread out.
/// GraphiQL's introspection query expands to a few hundred; a storefront's largest page to
/// fewer than a hundred.
pub const MAX_EXPANDED_SELECTIONS: u64 = 5_000;
/// The most root fields one mutation may hold. Each is a write that may send an email or
/// hash a password: aliases would otherwise let one request register hundreds of users.
pub const MAX_MUTATION_FIELDS: u64 = 10;

/// Parses the request's document (once: async-graphql reuses the parse when it runs the
/// request) and refuses it, before validation, when it is too large or too deep expanded,
/// or holds too many mutations. [`super::executor`] admits every request through this,
/// over HTTP and the WebSocket alike.
pub fn admit(request: &mut Request) -> Result<&ExecutableDocument, ServerError> {
    let document = request
        .parsed_query()
        .map_err(|error| coded(error, ErrorCode::GraphqlParseFailed))?;
    check(document).map_err(|refusal| {
        coded(
            ServerError::new(refusal.to_string(), refusal.pos()),
            ErrorCode::GraphqlValidationFailed,
        )
    })?;
    Ok(document)
}

/// Why a document is refused before validation.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the document expands to more than {MAX_EXPANDED_SELECTIONS} selections once its \
         fragments are spread; send a smaller one"
    )]
    TooLarge,
    #[error("the document nests selections and fragments deeper than {MAX_RECURSIVE_DEPTH}")]
    TooDeep(Pos),
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String, Pos),
    #[error(
        "a mutation may hold at most {MAX_MUTATION_FIELDS} root fields; send the others in \
         requests of their own"
    )]
    TooManyMutationFields(Pos),
}

impl Refusal {
    fn pos(&self) -> Option<Pos> {
        match self {
            Self::TooLarge => None,
            Self::TooDeep(pos) | Self::FragmentCycle(_, pos) | Self::TooManyMutationFields(pos) => {
                Some(*pos)
            }
        }
    }
}

/// Refuses a document whose expansion is too large or too deep, that spreads a fragment
/// into itself, or whose mutations hold too many root fields.
pub fn check(document: &ExecutableDocument) -> Result<(), Refusal> {
    let mut expansion = Expansion {
        document,
        fragments: HashMap::new(),
    };
    let mut total: u64 = 0;
    for (_, operation) in document.operations.iter() {
        let measure = expansion.selection_set(&operation.node.selection_set, 0)?;
        total = total.saturating_add(measure.selections);
        if total > MAX_EXPANDED_SELECTIONS {
            return Err(Refusal::TooLarge);
        }
        if operation.node.ty == OperationType::Mutation {
            // Bounded by the expansion just measured: this walk cannot blow up.
            let fields = root_fields(document, &operation.node.selection_set);
            if fields > MAX_MUTATION_FIELDS {
                return Err(Refusal::TooManyMutationFields(operation.pos));
            }
        }
    }
    Ok(())
}

/// A selection set as the validator sees it with every spread replaced by its fragment.
#[derive(Clone, Copy)]
struct Measure {
    /// Fields, spreads and inline fragments, each counted once per place it appears.
    selections: u64,
    /// How many levels of fields, spreads and inline fragments lie below it.
    height: usize,
}

enum Fragment {
    /// Being measured further up the current path: reaching it again is a cycle.
    Measuring,
    Measured(Measure),
}

struct Expansion<'d> {
    document: &'d ExecutableDocument,
    fragments: HashMap<&'d str, Fragment>,
}

impl<'d> Expansion<'d> {
    /// Depth counts as async-graphql's recursion check counts it (one level per field with
    /// a selection, per spread, per inline fragment), so the recursion here stops at the
    /// same bound and the stack stays small whatever the document.
    fn selection_set(
        &mut self,
        set: &'d Positioned<SelectionSet>,
        depth: usize,
    ) -> Result<Measure, Refusal> {
        if depth > MAX_RECURSIVE_DEPTH {
            return Err(Refusal::TooDeep(set.pos));
        }
        let mut total = Measure {
            selections: 0,
            height: 0,
        };
        for selection in &set.node.items {
            let below = match &selection.node {
                Selection::Field(field) if field.node.selection_set.node.items.is_empty() => {
                    Measure {
                        selections: 0,
                        height: 0,
                    }
                }
                Selection::Field(field) => {
                    self.selection_set(&field.node.selection_set, depth + 1)?
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set, depth + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, spread.pos, depth + 1)?
                }
            };
            total.selections = total.selections.saturating_add(1 + below.selections);
            total.height = total.height.max(below.height + 1);
            if total.selections > MAX_EXPANDED_SELECTIONS {
                return Err(Refusal::TooLarge);
            }
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'d str, pos: Pos, depth: usize) -> Result<Measure, Refusal> {
        let measure = match self.fragments.get(name) {
            Some(Fragment::Measured(measure)) => *measure,
            Some(Fragment::Measuring) => return Err(Refusal::FragmentCycle(name.to_owned(), pos)),
            None => {
                // An unknown fragment is the validator's to report.
                let Some(definition) = self.document.fragments.get(name) else {
                    return Ok(Measure {
                        selections: 0,
                        height: 0,
                    });
                };
                self.fragments.insert(name, Fragment::Measuring);
                let measure = self.selection_set(&definition.node.selection_set, depth)?;
                self.fragments.insert(name, Fragment::Measured(measure));
                measure
            }
        };
        if depth + measure.height > MAX_RECURSIVE_DEPTH + 1 {
            return Err(Refusal::TooDeep(pos));
        }
        Ok(measure)
    }
}

/// The operation async-graphql runs for a request naming `requested`: the one it names, or
/// the document's only one; with its name, when the document gives it one. `None` when the
/// request picks none, or one the document does not have (async-graphql refuses those).
pub fn selected_operation<'d>(
    document: &'d ExecutableDocument,
    requested: Option<&str>,
) -> Option<(Option<&'d str>, &'d OperationDefinition)> {
    match (&document.operations, requested) {
        (DocumentOperations::Single(operation), None) => Some((None, &operation.node)),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(operations), Some(requested)) => operations
            .get_key_value(requested)
            .map(|(name, operation)| (Some(name.as_str()), &operation.node)),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .iter()
            .next()
            .map(|(name, operation)| (Some(name.as_str()), &operation.node)),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// How the log line and the metrics name an operation's type.
pub fn operation_kind(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// The fields a root selection set selects, through its spreads and inline fragments.
fn root_fields(document: &ExecutableDocument, set: &Positioned<SelectionSet>) -> u64 {
    set.node
        .items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(inline) => root_fields(document, &inline.node.selection_set),
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |fragment| {
                    root_fields(document, &fragment.node.selection_set)
                }),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn checked(document: &str) -> Result<(), Refusal> {
        check(&parse_query(document).expect("the test document parses"))
    }

    /// `query{...F0} fragment F0 on Query{...F1 ...F1} ... fragment Fn on Query{__typename}`
    fn doubling_fragments(levels: usize) -> String {
        let mut document = String::from("query { ...F0 }\n");
        for level in 0..levels {
            let next = level + 1;
            document.push_str(&format!(
                "fragment F{level} on Query {{ ...F{next} ...F{next} }}\n"
            ));
        }
        document.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
        document
    }

    /// The kind and the name of the operation `selected_operation` picks.
    fn pick(query: &str, requested: Option<&str>) -> Option<(&'static str, Option<String>)> {
        let document = parse_query(query).expect("the test document parses");
        selected_operation(&document, requested)
            .map(|(name, operation)| (operation_kind(operation.ty), name.map(str::to_owned)))
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

    #[test]
    fn fragments_that_double_at_each_level_are_refused_without_expanding_them() {
        // 2^30 selections: counted one fragment at a time, this returns at once.
        assert_eq!(checked(&doubling_fragments(30)), Err(Refusal::TooLarge));
    }

    #[test]
    fn a_few_doubling_levels_stay_within_the_limit() {
        assert_eq!(checked(&doubling_fragments(8)), Ok(()));
    }

    #[test]
    fn a_fragment_spread_into_itself_is_refused() {
        let document = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(matches!(
            checked(document),
            Err(Refusal::FragmentCycle(name, _)) if name == "A"
        ));
    }

    #[test]
    fn a_long_chain_of_fragments_is_refused_as_too_deep() {
        let mut document = String::from("query { ...F0 }\n");
        for level in 0..1_000 {
            document.push_str(&format!(
                "fragment F{level} on Query {{ ...F{} }}\n",
                level + 1
            ));
        }
        document.push_str("fragment F1000 on Query { __typename }\n");
        assert!(matches!(checked(&document), Err(Refusal::TooDeep(_))));
    }

    #[test]
    fn a_fragment_used_deeper_than_where_it_was_first_measured_is_still_bounded() {
        let deep = (0..MAX_RECURSIVE_DEPTH - 2).fold(String::from("__typename"), |inner, _| {
            format!("me {{ {inner} }}")
        });
        let document = format!(
            "query {{ ...Deep  me {{ me {{ me {{ ...Deep }} }} }} }} fragment Deep on Query {{ {deep} }}"
        );
        assert!(matches!(checked(&document), Err(Refusal::TooDeep(_))));
    }

    #[test]
    fn mutations_are_limited_in_root_fields_even_through_fragments() {
        let fields = |n: usize| {
            (0..n)
                .map(|i| format!("r{i}: logout"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let limit = MAX_MUTATION_FIELDS as usize;
        let at_the_limit = format!("mutation {{ {} }}", fields(limit));
        let one_more_through_a_fragment = format!(
            "mutation {{ ...M ... on Mutation {{ x: logout }} }} fragment M on Mutation {{ {} }}",
            fields(limit)
        );
        let as_many_queries = format!("query {{ {} }}", fields(limit + 1));

        assert_eq!(checked(&at_the_limit), Ok(()));
        assert!(matches!(
            checked(&one_more_through_a_fragment),
            Err(Refusal::TooManyMutationFields(_))
        ));
        assert_eq!(checked(&as_many_queries), Ok(()));
    }
}
