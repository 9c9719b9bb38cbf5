//! JSON schemas derived from Rust types with schemars.

use schemars::JsonSchema;

/// The JSON schema of `T` as a JSON value, with subschemas inlined where
/// schemars allows it.
pub fn schema_for<T: JsonSchema>() -> serde_json::Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let schema = settings.into_generator().into_root_schema_for::<T>();
    schema.to_value()
}

/// A schema name made of the characters OpenAI accepts
/// (`^[a-zA-Z0-9_-]{1,64}$`), taken from `T`'s schema name.
pub fn schema_name<T: JsonSchema>() -> String {
    let name: String = T::schema_name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "output".to_owned()
    } else {
        name
    }
}
