use std::any::{Any, TypeId};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::handoff::ConvertFn;
use crate::model::OutputSchema;
use crate::schema;

/// A parsed final output, type-erased until the run returns it as `Out`.
pub(crate) type AnyOutput = Box<dyn Any + Send>;

/// Parses a final answer's text into the output type.
pub(crate) type ParseFn = fn(&str) -> Result<AnyOutput, serde_json::Error>;

/// How an agent's final answer becomes its output type.
#[derive(Clone)]
pub(crate) struct OutputSpec {
    pub(crate) type_name: &'static str,
    pub(crate) schema: Option<Arc<OutputSchema>>,
    pub(crate) parse: ParseFn,
    /// `Into` conversions applied after `parse`, in order
    /// ([`AgentBuilder::convert_output`](super::AgentBuilder::convert_output)).
    pub(crate) conversions: Vec<ConvertFn>,
    /// The agent's output type after the conversions.
    pub(crate) out_type_id: TypeId,
}

impl OutputSpec {
    pub(crate) fn text() -> Self {
        OutputSpec {
            type_name: std::any::type_name::<String>(),
            schema: None,
            parse: |text| Ok(Box::new(text.to_owned())),
            conversions: Vec::new(),
            out_type_id: TypeId::of::<String>(),
        }
    }

    pub(crate) fn structured<T: DeserializeOwned + JsonSchema + Send + 'static>() -> Self {
        if TypeId::of::<T>() == TypeId::of::<String>() {
            return Self::text();
        }
        let (schema, strict) = schema::schema_for_mode::<T>(true);
        // Providers want an object at the root: another type (a number, a
        // list, an enum of strings) is wrapped as `{"response": ...}`, as
        // the OpenAI Agents SDK does, and unwrapped when parsed.
        let object = schema.get("type").and_then(serde_json::Value::as_str) == Some("object");
        let (schema, parse): (_, ParseFn) = if object {
            (schema, parse_object::<T>)
        } else {
            (wrap(schema), parse_wrapped::<T>)
        };
        OutputSpec {
            type_name: std::any::type_name::<T>(),
            schema: Some(Arc::new(OutputSchema {
                name: schema::schema_name::<T>(),
                schema,
                strict,
            })),
            parse,
            conversions: Vec::new(),
            out_type_id: TypeId::of::<T>(),
        }
    }
}

/// The key a non-object output is wrapped under.
const WRAPPER_KEY: &str = "response";

/// `{"type": "object", "properties": {"response": schema}, ...}`, the
/// inner schema's definitions moved to the root (its `$ref`s point there).
fn wrap(mut inner: serde_json::Value) -> serde_json::Value {
    let definitions = inner
        .as_object_mut()
        .and_then(|object| object.remove("$defs"));
    if let Some(object) = inner.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    let mut root = serde_json::json!({
        "type": "object",
        "properties": { WRAPPER_KEY: inner },
        "required": [WRAPPER_KEY],
        "additionalProperties": false,
    });
    if let (Some(definitions), Some(root)) = (definitions, root.as_object_mut()) {
        root.insert("$defs".to_owned(), definitions);
    }
    root
}

/// An object output. A strict schema turns optional fields into nullable
/// ones: a `null` is read as an absent field (`None` or its default).
fn parse_object<T: DeserializeOwned + Send + 'static>(
    text: &str,
) -> Result<AnyOutput, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_str(text)?;
    schema::drop_null_properties(&mut value);
    Ok(Box::new(serde_json::from_value::<T>(value)?))
}

/// A wrapped output: `{"response": value}`.
fn parse_wrapped<T: DeserializeOwned + Send + 'static>(
    text: &str,
) -> Result<AnyOutput, serde_json::Error> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wrapper<T> {
        response: T,
    }
    let mut value: serde_json::Value = serde_json::from_str(text)?;
    schema::drop_null_properties(&mut value);
    let wrapper: Wrapper<T> = serde_json::from_value(value)?;
    Ok(Box::new(wrapper.response))
}
