//! [`RulePolicy`]: rules over tool calls and model calls, written in code
//! or loaded from JSON.

use std::collections::BTreeMap;
use std::path::Path;

use glob::Pattern;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Action, Decision, Policy};
use crate::context::RunContext;

/// What a [`Rule`] applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleTarget {
    /// Tool calls (default).
    #[default]
    ToolCall,
    /// Model calls.
    ModelCall,
    /// Handoffs; `tool` matches the handoff's tool name
    /// (`transfer_to_billing`), `agent` the agent handing off.
    Handoff,
}

/// A condition on one argument value, found by JSON pointer. Every field
/// given must hold; a missing value never matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ArgumentCondition {
    /// The value equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    /// The value is one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
    /// The value is a number at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The value is a number at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl ArgumentCondition {
    /// The value equals `value`.
    pub fn equals(value: impl Into<Value>) -> Self {
        ArgumentCondition {
            equals: Some(value.into()),
            ..Self::default()
        }
    }

    /// The value is a number in `min..=max`.
    pub fn in_range(min: f64, max: f64) -> Self {
        ArgumentCondition {
            min: Some(min),
            max: Some(max),
            ..Self::default()
        }
    }

    /// The value is a number at least `min`.
    pub fn at_least(min: f64) -> Self {
        ArgumentCondition {
            min: Some(min),
            ..Self::default()
        }
    }

    fn holds(&self, value: Option<&Value>) -> bool {
        let Some(value) = value else {
            return false;
        };
        let number = value.as_f64();
        self.equals.as_ref().is_none_or(|equals| equals == value)
            && self
                .one_of
                .as_ref()
                .is_none_or(|values| values.contains(value))
            && self.min.is_none_or(|min| number.is_some_and(|n| n >= min))
            && self.max.is_none_or(|max| number.is_some_and(|n| n <= max))
    }
}

/// What a matching [`Rule`] decides. In JSON: `"allow"`,
/// `"require_approval"`, `{"deny": "message"}`, or
/// `{"set": {"/pointer": value}}` (rewrite those argument values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleDecision {
    /// Allow.
    Allow,
    /// A person must approve it.
    RequireApproval,
    /// Deny, with this message.
    Deny(String),
    /// Rewrite the tool call's arguments: set the values at these JSON
    /// pointers (an existing value, or a new key of an existing object).
    Set(BTreeMap<String, Value>),
}

/// One rule: what it matches, and what it decides. In JSON:
///
/// ```json
/// {"name": "large refunds need a person", "priority": 10,
///  "tool": "refund*", "agent": "Billing",
///  "arguments": {"/amount_cents": {"min": 10000}},
///  "decision": "require_approval"}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Rule {
    /// A name, for people and error messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Higher goes first; equal priorities keep their order. Default 0.
    #[serde(default)]
    pub priority: i32,
    /// Tool calls (default) or model calls.
    #[serde(default)]
    pub on: RuleTarget,
    /// The tool's name: exact, or a glob (`refund*`, `db_?`). Any tool when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The agent's name, exact or a glob. Any agent when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Conditions on the call's arguments, by JSON pointer
    /// (`/amount_cents`, `/address/country`). All must hold.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arguments: BTreeMap<String, ArgumentCondition>,
    /// What it decides.
    pub decision: RuleDecision,
}

impl Rule {
    /// A rule for calls of the tool `tool` (a name or a glob) that decides
    /// `decision`.
    pub fn tool(tool: impl Into<String>, decision: RuleDecision) -> Self {
        Rule {
            name: None,
            priority: 0,
            on: RuleTarget::ToolCall,
            tool: Some(tool.into()),
            agent: None,
            arguments: BTreeMap::new(),
            decision,
        }
    }

    /// A rule for model calls that decides `decision`.
    pub fn model_call(decision: RuleDecision) -> Self {
        Rule {
            on: RuleTarget::ModelCall,
            tool: None,
            ..Rule::tool("*", decision)
        }
    }

    /// Only for the agent `agent` (a name or a glob).
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// Only when the argument at `pointer` meets `condition`.
    pub fn when(mut self, pointer: impl Into<String>, condition: ArgumentCondition) -> Self {
        self.arguments.insert(pointer.into(), condition);
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the name.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Why rules could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read the policy file: {0}")]
    Io(#[from] std::io::Error),
    /// The JSON is not a rule set (field path and message).
    #[error("not a rule set: {0}")]
    Parse(String),
    /// A glob does not compile.
    #[error("rule {rule}: bad pattern `{pattern}`: {message}")]
    Pattern {
        /// The rule's name or position.
        rule: String,
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
}

/// A compiled rule.
#[derive(Debug)]
struct Compiled {
    rule: Rule,
    tool: Option<Pattern>,
    agent: Option<Pattern>,
}

/// Rules, the first matching one (highest priority, then file order)
/// decides; no match allows. Written in code ([`Rule`]) or loaded from
/// JSON: `{"rules": [ ... ]}` (see [`Rule`] for one rule's shape).
///
/// A `RulePolicy` is a [`Policy`] for runs of any context type.
#[derive(Debug)]
pub struct RulePolicy {
    rules: Vec<Compiled>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<Rule>,
}

impl RulePolicy {
    /// A policy of `rules`.
    ///
    /// # Errors
    /// [`PolicyError::Pattern`] for a glob that does not compile.
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Result<Self, PolicyError> {
        let mut compiled = Vec::new();
        for (index, rule) in rules.into_iter().enumerate() {
            let label = rule
                .name
                .clone()
                .unwrap_or_else(|| format!("#{}", index + 1));
            let pattern = |text: &Option<String>| -> Result<Option<Pattern>, PolicyError> {
                text.as_deref()
                    .map(|text| {
                        Pattern::new(text).map_err(|error| PolicyError::Pattern {
                            rule: label.clone(),
                            pattern: text.to_owned(),
                            message: error.msg.to_owned(),
                        })
                    })
                    .transpose()
            };
            compiled.push(Compiled {
                tool: pattern(&rule.tool)?,
                agent: pattern(&rule.agent)?,
                rule,
            });
        }
        // Stable: equal priorities keep their order.
        compiled.sort_by_key(|c| std::cmp::Reverse(c.rule.priority));
        Ok(RulePolicy { rules: compiled })
    }

    /// The rules of a JSON document `{"rules": [...]}`.
    ///
    /// # Errors
    /// [`PolicyError::Parse`] naming the field that does not fit,
    /// [`PolicyError::Pattern`].
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let file: RuleFile = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| PolicyError::Parse(error.to_string()))?;
        Self::new(file.rules)
    }

    /// The rules of the JSON file at `path`.
    ///
    /// # Errors
    /// [`PolicyError::Io`], and as [`from_json`](Self::from_json).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    /// The rules, highest priority first.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|c| &c.rule)
    }

    /// The decision of the first rule matching `action`; allow if none.
    pub fn decide_action(&self, action: &Action<'_>) -> Decision {
        let arguments: Option<Value> = match action {
            Action::ToolCall { call, .. } => serde_json::from_str(&call.arguments).ok(),
            Action::ModelCall { .. } | Action::Handoff { .. } => None,
        };
        for compiled in &self.rules {
            if !matches(compiled, action, arguments.as_ref()) {
                continue;
            }
            return match &compiled.rule.decision {
                RuleDecision::Allow => Decision::Allow,
                RuleDecision::RequireApproval => Decision::RequireApproval,
                RuleDecision::Deny(message) => Decision::Deny {
                    message: message.clone(),
                },
                RuleDecision::Set(values) => match (action, arguments.clone()) {
                    (Action::ToolCall { .. }, Some(mut arguments)) => {
                        for (pointer, value) in values {
                            set(&mut arguments, pointer, value.clone());
                        }
                        Decision::Rewrite {
                            arguments: arguments.to_string(),
                        }
                    }
                    _ => Decision::Allow,
                },
            };
        }
        Decision::Allow
    }
}

impl<Ctx> Policy<Ctx> for RulePolicy {
    fn decide(&self, _ctx: &RunContext<Ctx>, action: &Action<'_>) -> Decision {
        self.decide_action(action)
    }
}

fn matches(compiled: &Compiled, action: &Action<'_>, arguments: Option<&Value>) -> bool {
    let agent_ok = compiled
        .agent
        .as_ref()
        .is_none_or(|agent| agent.matches(action.agent()));
    let target_ok = match (action, compiled.rule.on) {
        (Action::ToolCall { call, .. }, RuleTarget::ToolCall) => {
            compiled
                .tool
                .as_ref()
                .is_none_or(|tool| tool.matches(&call.name))
                && compiled.rule.arguments.iter().all(|(pointer, condition)| {
                    condition.holds(arguments.and_then(|arguments| arguments.pointer(pointer)))
                })
        }
        (Action::ModelCall { .. }, RuleTarget::ModelCall) => true,
        (Action::Handoff { call, .. }, RuleTarget::Handoff) => compiled
            .tool
            .as_ref()
            .is_none_or(|tool| tool.matches(&call.name)),
        _ => false,
    };
    agent_ok && target_ok
}

/// Sets the value at `pointer` in `document`: an existing value, or a new
/// key of an existing object. Anything else is left alone.
fn set(document: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = document.pointer_mut(pointer) {
        *slot = value;
        return;
    }
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(object)) = document.pointer_mut(parent) {
        object.insert(key, value);
    }
}
