//! schema.graphql is generated from the code; it must never drift from it, and everything
//! in it must say what it is to the storefront developer reading it in GraphiQL.
//!
//! graphql-schema-linter checks the SDL too, with the rules tests/schema-lint keeps. It
//! needs Node.js and `npm ci` in tests/schema-lint; .ci/run installs both. A machine
//! without them skips that test with a message, except under CI, where it fails.

use std::{io::Write, path::PathBuf, process::Stdio};

use async_graphql::{
    Positioned,
    parser::{
        parse_schema,
        types::{InputValueDefinition, TypeDefinition, TypeKind, TypeSystemDefinition},
    },
};

#[test]
fn schema_graphql_is_exactly_what_print_schema_prints() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.graphql exists");
    assert!(
        checked_in == shop::graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -- print-schema > schema.graphql`"
    );
}

/// The scalars every GraphQL server has; the specification describes them.
const STANDARD_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

#[test]
fn every_type_field_argument_enum_value_and_input_field_has_a_description() {
    let document = parse_schema(shop::graphql::sdl()).expect("the SDL parses");

    // Directive definitions are async-graphql's own (@skip, @include, @specifiedBy).
    let mut undescribed: Vec<String> = document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            TypeSystemDefinition::Type(definition) => Some(&definition.node),
            _ => None,
        })
        .filter(|definition| !STANDARD_SCALARS.contains(&definition.name.node.as_str()))
        .flat_map(described_parts)
        .filter(|(_, description)| !has_text(*description))
        .map(|(name, _)| name)
        .collect();

    undescribed.sort();
    assert_eq!(
        undescribed,
        Vec::<String>::new(),
        "these have no description"
    );
}

type Description<'a> = Option<&'a Positioned<String>>;

/// A type and every part of it a client can read about, each by its schema coordinate
/// (`Type`, `Type.field`, `Type.field(argument:)`, `Enum.VALUE`, `Input.field`), with its
/// description.
fn described_parts(definition: &TypeDefinition) -> Vec<(String, Description<'_>)> {
    let name = definition.name.node.as_str();
    let mut parts = vec![(name.to_owned(), definition.description.as_ref())];
    let fields = match &definition.kind {
        TypeKind::Object(object) => object.fields.as_slice(),
        TypeKind::Interface(interface) => interface.fields.as_slice(),
        _ => &[],
    };
    for field in fields {
        let field_name = format!("{name}.{}", field.node.name.node);
        parts.extend(input_values(&field_name, "(", ":)", &field.node.arguments));
        parts.push((field_name, field.node.description.as_ref()));
    }
    match &definition.kind {
        TypeKind::Enum(enumeration) => parts.extend(enumeration.values.iter().map(|value| {
            let value_name = format!("{name}.{}", value.node.value.node);
            (value_name, value.node.description.as_ref())
        })),
        TypeKind::InputObject(input) => parts.extend(input_values(name, ".", "", &input.fields)),
        _ => {}
    }
    parts
}

/// Arguments (`owner(name:)`) or input fields (`Owner.name`) with their descriptions.
fn input_values<'a>(
    owner: &str,
    open: &str,
    close: &str,
    values: &'a [Positioned<InputValueDefinition>],
) -> Vec<(String, Description<'a>)> {
    values
        .iter()
        .map(|value| {
            let name = format!("{owner}{open}{}{close}", value.node.name.node);
            (name, value.node.description.as_ref())
        })
        .collect()
}

/// Whether a description is there and says something: a blank one helps no reader, nor
/// does async-graphql's note on how it implements a scalar ("Implement the DateTime<Utc>
/// scalar").
fn has_text(description: Description<'_>) -> bool {
    description.is_some_and(|text| {
        let text = text.node.trim();
        !text.is_empty() && !text.starts_with("Implement the ")
    })
}

/// The linter's command line, or `None` (with a message) when node or the npm packages
/// are missing outside CI.
fn schema_linter() -> Option<(PathBuf, PathBuf)> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/schema-lint");
    let cli = folder.join("node_modules/graphql-schema-linter/lib/cli.js");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if cli.is_file() && node {
        return Some((folder, cli));
    }
    let missing = "graphql-schema-linter needs node and `npm ci --prefix tests/schema-lint`";
    assert!(std::env::var_os("CI").is_none(), "{missing}");
    eprintln!("skipped: {missing}");
    None
}

#[test]
fn graphql_schema_linter_finds_nothing_with_the_rules_the_project_keeps() {
    let Some((folder, cli)) = schema_linter() else {
        return;
    };

    // The SDL the code makes, not the file, so a stale schema.graphql cannot hide a
    // finding; `-c` reads the kept rules from the folder's config.
    let mut linter = std::process::Command::new("node")
        .arg(cli)
        .args(["--stdin", "--format", "text", "-c"])
        .arg(&folder)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the linter starts");
    linter
        .stdin
        .take()
        .expect("the linter's stdin")
        .write_all(shop::graphql::sdl().as_bytes())
        .expect("the SDL reaches the linter");
    let output = linter.wait_with_output().expect("the linter ran");

    assert!(
        output.status.success(),
        "graphql-schema-linter:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
