//! JSON schemas derived from Rust types with schemars, and OpenAI's strict
//! mode transform.
//!
//! Tool argument schemas and structured output schemas both come from
//! [`schema_for`]. [`to_strict`] rewrites a schema to the subset OpenAI's
//! structured outputs accept.

use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The JSON schema of `T` as a JSON value, subschemas inlined where
/// schemars allows it (recursive types keep `$ref`s into `$defs`), without
/// the `$schema` and `title` keys (noise in a tool definition).
pub fn schema_for<T: JsonSchema>() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut value = schema.to_value();
    if let Value::Object(root) = &mut value {
        root.remove("$schema");
        root.remove("title");
    }
    value
}

/// `T`'s schema made strict when `strict` is asked for and possible
/// ([`to_strict`]), and whether it is strict. A schema that cannot be strict
/// (a map, a non-object root) is returned as generated, with `false`.
pub fn schema_for_mode<T: JsonSchema>(strict: bool) -> (Value, bool) {
    let schema = schema_for::<T>();
    if strict {
        let mut strict_schema = schema.clone();
        if to_strict(&mut strict_schema).is_ok() {
            return (strict_schema, true);
        }
    }
    (schema, false)
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

/// Why a schema cannot be made strict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrictSchemaError {
    /// OpenAI strict mode requires the root to be an object
    /// (`"type": "object"`), not an enum, array or scalar.
    #[error("a strict schema's root must be an object, found {found}")]
    RootNotObject {
        /// What the root was.
        found: String,
    },
    /// The schema has a map (an object with arbitrary keys, e.g. a
    /// `HashMap`), which strict mode cannot express: it requires
    /// `additionalProperties: false` on every object.
    #[error(
        "a strict schema cannot contain a map (an object with arbitrary keys), found one at `{path}`"
    )]
    OpenMap {
        /// JSON pointer of the map in the schema.
        path: String,
    },
}

/// Rewrites `schema` in place to follow OpenAI's strict structured outputs
/// rules, so the provider can enforce it.
///
/// The rules, from OpenAI's "Structured Outputs" guide, section "Supported
/// schemas":
///
/// 1. **Root is an object.** "The root level object of a schema must be an
///    object, and not use anyOf." A root of another type is an error.
/// 2. **`additionalProperties: false` on every object.** "additionalProperties:
///    false must always be set in objects."
/// 3. **Every property is required.** "All fields must be required."
///    Properties that were optional become nullable instead ("emulate an
///    optional parameter by using a union type with null"): `"type": "T"`
///    becomes `"type": ["T", "null"]`, other schemas gain a `{"type":
///    "null"}` branch in `anyOf`.
/// 4. **`oneOf` becomes `anyOf`.** Only `anyOf` is supported for unions.
///    (serde's tagged enums produce branches that are mutually exclusive by
///    their tag, so the meaning is unchanged.)
/// 5. **No maps.** An object with arbitrary keys (`additionalProperties`
///    other than `false`, from a `HashMap` or `BTreeMap`) contradicts rule 2
///    and is an error.
/// 6. **`$ref`s with sibling keys are resolved.** A `$ref` next to other keys
///    (e.g. a `description`) is replaced by the referenced definition merged
///    with the siblings; a bare `$ref` (recursive types) is kept.
///
/// Decoding arguments that were optional in Rust stays correct: the runner
/// drops `null` properties before deserializing strict tool arguments, so a
/// `null` becomes a missing field (`None`, or the `#[serde(default)]`).
///
/// # Errors
/// [`StrictSchemaError::RootNotObject`] or [`StrictSchemaError::OpenMap`]
/// when the schema cannot be made strict; `schema` is then unchanged. Tools
/// and outputs fall back to a non-strict schema in that case.
pub fn to_strict(schema: &mut Value) -> Result<(), StrictSchemaError> {
    let is_object = schema.get("type").and_then(Value::as_str) == Some("object")
        || (schema.get("properties").is_some() && schema.get("type").is_none());
    if !is_object {
        let found = match schema.get("type") {
            Some(kind) => kind.to_string(),
            None if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() => {
                "a union (oneOf/anyOf)".to_owned()
            }
            None => "a schema without a type".to_owned(),
        };
        return Err(StrictSchemaError::RootNotObject { found });
    }
    let mut path = String::new();
    check_no_open_maps(schema, &mut path)?;
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    strict_node(schema, &defs, 0);
    Ok(())
}

fn check_no_open_maps(node: &Value, path: &mut String) -> Result<(), StrictSchemaError> {
    match node {
        Value::Object(map) => {
            if let Some(extra) = map.get("additionalProperties") {
                if extra != &Value::Bool(false) {
                    return Err(StrictSchemaError::OpenMap {
                        path: if path.is_empty() {
                            "/".to_owned()
                        } else {
                            path.clone()
                        },
                    });
                }
            }
            for (key, child) in map {
                let len = path.len();
                path.push('/');
                path.push_str(key);
                check_no_open_maps(child, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                check_no_open_maps(child, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Deep enough for any schema a Rust type produces; stops runaway `$ref`
/// resolution on recursive definitions.
const MAX_DEPTH: usize = 64;

fn strict_node(node: &mut Value, defs: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let Value::Object(map) = node else {
        if let Value::Array(items) = node {
            for item in items {
                strict_node(item, defs, depth + 1);
            }
        }
        return;
    };

    // Rule 5: a `$ref` with siblings is inlined.
    if map.len() > 1 {
        if let Some(Value::String(reference)) = map.get("$ref").cloned() {
            if let Some(Value::Object(target)) = resolve(defs, &reference) {
                map.remove("$ref");
                for (key, value) in target {
                    map.entry(key).or_insert(value);
                }
            }
        }
    }

    // Rule 4.
    if let Some(one_of) = map.remove("oneOf") {
        map.insert("anyOf".to_owned(), one_of);
    }

    let is_object =
        map.get("type").and_then(Value::as_str) == Some("object") || map.contains_key("properties");
    if is_object {
        // Rule 2.
        map.insert("additionalProperties".to_owned(), Value::Bool(false));
        // Rule 3.
        let required: Vec<String> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            let mut all = Vec::with_capacity(properties.len());
            for (name, property) in properties.iter_mut() {
                if !required.contains(name) {
                    make_nullable(property);
                }
                all.push(Value::String(name.clone()));
            }
            map.insert("required".to_owned(), Value::Array(all));
        } else {
            map.insert("properties".to_owned(), Value::Object(Map::new()));
            map.insert("required".to_owned(), Value::Array(Vec::new()));
        }
    }

    for (key, child) in map.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "definitions" | "patternProperties" => {
                if let Value::Object(children) = child {
                    for grandchild in children.values_mut() {
                        strict_node(grandchild, defs, depth + 1);
                    }
                }
            }
            "items" | "anyOf" | "allOf" | "prefixItems" | "not" | "additionalProperties" => {
                strict_node(child, defs, depth + 1);
            }
            _ => {}
        }
    }
}

fn resolve(defs: &Value, reference: &str) -> Option<Value> {
    let name = reference
        .strip_prefix("#/$defs/")
        .or_else(|| reference.strip_prefix("#/definitions/"))?;
    defs.get(name).cloned()
}

fn is_nullable(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(kind)) => kind == "null",
        Some(Value::Array(kinds)) => kinds.iter().any(|k| k == "null"),
        _ => schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(is_nullable)),
    }
}

fn make_nullable(schema: &mut Value) {
    if is_nullable(schema) {
        return;
    }
    let Value::Object(map) = schema else {
        return;
    };
    let has_enum = map.contains_key("enum");
    match map.get_mut("type") {
        Some(Value::String(kind)) if !has_enum => {
            let kind = std::mem::take(kind);
            map.insert(
                "type".to_owned(),
                Value::Array(vec![Value::String(kind), Value::String("null".to_owned())]),
            );
        }
        Some(Value::Array(kinds)) => kinds.push(Value::String("null".to_owned())),
        _ => match map.get_mut("anyOf") {
            Some(Value::Array(branches)) => branches.push(serde_json::json!({"type": "null"})),
            _ => {
                let inner = std::mem::take(map);
                map.insert(
                    "anyOf".to_owned(),
                    serde_json::json!([Value::Object(inner), {"type": "null"}]),
                );
            }
        },
    }
}

/// Removes every object property whose value is `null`, recursively, so
/// strict-mode arguments decode like omitted optional fields.
pub fn drop_null_properties(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                drop_null_properties(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_properties),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn root_must_be_an_object() {
        let mut schema = json!({"type": "string"});
        assert_eq!(
            to_strict(&mut schema),
            Err(StrictSchemaError::RootNotObject {
                found: "\"string\"".into()
            })
        );
        let mut schema = json!({"oneOf": [{"type": "string"}]});
        assert!(to_strict(&mut schema).is_err());
    }

    #[test]
    fn every_object_closes_and_requires_all_properties() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "integer"},
                "nested": {"type": "object", "properties": {"c": {"type": "boolean"}}}
            },
            "required": ["a"]
        });
        to_strict(&mut schema).unwrap();
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "a": {"type": "string"},
                    "b": {"type": ["integer", "null"]},
                    "nested": {
                        "type": ["object", "null"],
                        "additionalProperties": false,
                        "properties": {"c": {"type": ["boolean", "null"]}},
                        "required": ["c"]
                    }
                },
                "required": ["a", "b", "nested"]
            })
        );
    }

    #[test]
    fn already_nullable_properties_stay_as_they_are() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]}
            }
        });
        to_strict(&mut schema).unwrap();
        assert_eq!(
            schema["properties"]["a"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            schema["properties"]["b"],
            json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})
        );
    }

    #[test]
    fn optional_enums_and_refs_gain_a_null_branch() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "color": {"type": "string", "enum": ["red", "blue"]},
            }
        });
        to_strict(&mut schema).unwrap();
        assert_eq!(
            schema["properties"]["color"],
            json!({"anyOf": [{"type": "string", "enum": ["red", "blue"]}, {"type": "null"}]})
        );
    }

    #[test]
    fn one_of_becomes_any_of() {
        let mut schema = json!({
            "type": "object",
            "properties": {"shape": {"oneOf": [{"type": "object", "properties": {"r": {"type": "number"}}, "required": ["r"]}]}},
            "required": ["shape"]
        });
        to_strict(&mut schema).unwrap();
        let shape = &schema["properties"]["shape"];
        assert!(shape.get("oneOf").is_none());
        assert_eq!(shape["anyOf"][0]["additionalProperties"], json!(false));
    }

    #[test]
    fn refs_with_siblings_are_resolved_and_bare_refs_kept() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "home": {"$ref": "#/$defs/Address", "description": "Home address."},
                "next": {"$ref": "#/$defs/Address"}
            },
            "required": ["home", "next"],
            "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
        });
        to_strict(&mut schema).unwrap();
        assert_eq!(
            schema["properties"]["home"],
            json!({
                "description": "Home address.",
                "type": "object",
                "additionalProperties": false,
                "properties": {"city": {"type": "string"}},
                "required": ["city"]
            })
        );
        assert_eq!(
            schema["properties"]["next"],
            json!({"$ref": "#/$defs/Address"})
        );
        assert_eq!(
            schema["$defs"]["Address"]["additionalProperties"],
            json!(false)
        );
    }

    #[test]
    fn maps_cannot_be_strict() {
        let mut schema = json!({
            "type": "object",
            "properties": {"stock": {"type": "object", "additionalProperties": {"type": "integer"}}}
        });
        let before = schema.clone();
        assert_eq!(
            to_strict(&mut schema),
            Err(StrictSchemaError::OpenMap {
                path: "/properties/stock".into()
            })
        );
        assert_eq!(schema, before);
    }

    #[test]
    fn null_properties_are_dropped_recursively() {
        let mut value = json!({"a": null, "b": {"c": null, "d": 1}, "e": [null, {"f": null}]});
        drop_null_properties(&mut value);
        assert_eq!(value, json!({"b": {"d": 1}, "e": [null, {}]}));
    }
}
