//! Whether a scripted call's arguments fit the tool the request offers:
//! the checks OpenAI's strict mode makes on a real model's arguments
//! (every required field there, no field the schema does not have).

use agents_core::ToolDefinition;

/// A scripted call whose arguments do not fit the parameters of the tool
/// or handoff the request offers (a missing required field, a field the
/// schema does not have, arguments that are not a JSON object): the model
/// call fails with `ModelError::Custom` holding this. A typed
/// `call(tool {}, ..)` is checked when the script is built; this catches
/// `json!` arguments the tool changed under, and a handoff that takes an
/// input scripted without one (`Step::handoff::<A>()`; use
/// `Step::handoff_via_with`). Opt out with
/// [`MockModel::allow_unknown_tools`](crate::MockModel::allow_unknown_tools).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArgumentsDoNotFit {
    /// Which call it was, from 1.
    pub number: u64,
    /// The tool or handoff.
    pub tool: String,
    /// What does not fit.
    pub problem: String,
}

impl std::fmt::Display for ArgumentsDoNotFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mock model: call #{} scripts `{}` with arguments that do not fit its parameters: {}",
            self.number, self.tool, self.problem
        )
    }
}

impl std::error::Error for ArgumentsDoNotFit {}

/// What in `arguments` does not fit `tool`'s parameters, if anything.
pub(crate) fn misfit(tool: &ToolDefinition, arguments: &str) -> Option<String> {
    let text = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return Some(format!("not JSON: {error}")),
    };
    let Some(given) = value.as_object() else {
        return Some("not a JSON object".to_owned());
    };
    let parameters = &tool.parameters;
    let missing: Vec<&str> = parameters["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .filter(|field| !given.contains_key(*field))
        .collect();
    if !missing.is_empty() {
        return Some(format!("missing required field(s) {}", quoted(&missing)));
    }
    if parameters["additionalProperties"] == serde_json::Value::Bool(false) {
        let known = parameters["properties"].as_object();
        let extra: Vec<&str> = given
            .keys()
            .map(String::as_str)
            .filter(|field| !known.is_some_and(|known| known.contains_key(*field)))
            .collect();
        if !extra.is_empty() {
            return Some(format!("field(s) {} not in the schema", quoted(&extra)));
        }
    }
    None
}

fn quoted(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|field| format!("`{field}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
