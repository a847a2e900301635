//! schema.graphql is generated from the code; it must never drift from it.

#[test]
fn schema_graphql_is_exactly_what_print_schema_prints() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.graphql exists");
    assert!(
        checked_in == shop::graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -- print-schema > schema.graphql`"
    );
}
