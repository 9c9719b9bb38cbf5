use std::any::{Any, TypeId};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::handoff::ConvertFn;
use crate::model::OutputSchema;
use crate::schema;

/// A parsed final output, type-erased until the run returns it as `Out`.
pub(crate) type AnyOutput = Box<dyn Any + Send>;

/// How an agent's final answer becomes its output type.
#[derive(Clone)]
pub(crate) struct OutputSpec {
    pub(crate) type_name: &'static str,
    pub(crate) schema: Option<Arc<OutputSchema>>,
    pub(crate) parse: fn(&str) -> Result<AnyOutput, serde_json::Error>,
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
        OutputSpec {
            type_name: std::any::type_name::<T>(),
            schema: Some(Arc::new({
                let (schema, strict) = schema::schema_for_mode::<T>(true);
                OutputSchema {
                    name: schema::schema_name::<T>(),
                    schema,
                    strict,
                }
            })),
            // A strict schema turns optional fields into nullable ones: a
            // `null` is read as an absent field (`None` or its default).
            parse: |text| {
                let mut value: serde_json::Value = serde_json::from_str(text)?;
                schema::drop_null_properties(&mut value);
                Ok(Box::new(serde_json::from_value::<T>(value)?))
            },
            conversions: Vec::new(),
            out_type_id: TypeId::of::<T>(),
        }
    }
}
