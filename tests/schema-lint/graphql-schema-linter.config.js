// The graphql-schema-linter rules shop keeps, read by tests/schema.rs (`-c` this folder).
// README.md ("Schema documentation and lint") says the same in short.
module.exports = {
  rules: [
    // GraphiQL shows descriptions as the API's documentation: every type, field,
    // argument, enum value and input field must have one.
    'types-have-descriptions',
    'fields-have-descriptions',
    'arguments-have-descriptions',
    'enum-values-have-descriptions',
    'input-object-values-have-descriptions',
    'descriptions-are-capitalized',
    // A deprecation must tell clients what to use instead.
    'deprecations-have-a-reason',
    // The naming every GraphQL client expects: PascalCase types, camelCase fields and
    // input fields, ALL_CAPS enum values.
    'types-are-capitalized',
    'fields-are-camel-cased',
    'input-object-values-are-camel-cased',
    'enum-values-all-caps',
    // A type nothing reaches is dead weight in the schema.
    'defined-types-are-used',
    // Lists page as Relay connections (first/after, last/before, PageInfo), which Relay
    // and Apollo's pagination helpers rely on.
    'relay-connection-types-spec',
    'relay-connection-arguments-spec',
    'relay-page-info-spec',
  ],
  // Left out: type-fields-, input-object-fields-, interface-fields- and
  // enum-values-sorted-alphabetically. The order is chosen for the reader (id first,
  // OrderStatus in lifecycle order), and reordering would churn the published SDL.
};
