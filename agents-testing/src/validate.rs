//! Checks a request the way OpenAI's API does before it accepts it.

use std::collections::BTreeSet;

use agents_core::Item;
use agents_core::model::ModelRequest;

/// Checks `request`'s input as OpenAI's API does: every tool and handoff
/// call is answered by an output with its `call_id` before the next
/// message, and no output answers a call that is not there. OpenAI answers
/// such a request with HTTP 400 ("No tool output found for function call
/// ...").
///
/// ```
/// use std::sync::Arc;
/// use agents_core::Item;
/// use agents_core::model::ModelRequest;
///
/// let call = Item::tool_call("call_1", "lookup_order", "{}");
/// let orphan = ModelRequest::new("Clerk", vec![Arc::new(call), Arc::new(Item::user("and?"))]);
/// assert!(agents_testing::check_request(&orphan).unwrap_err().contains("call_1"));
/// ```
///
/// # Errors
/// Each problem found, one line each, naming the `call_id`.
pub fn check_request(request: &ModelRequest) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut open: Vec<&str> = Vec::new();
    let mut called: BTreeSet<&str> = BTreeSet::new();
    for item in &request.input {
        match &**item {
            Item::ToolCall(call) | Item::HandoffCall(call) => {
                open.push(&call.call_id);
                called.insert(&call.call_id);
            }
            Item::ToolOutput(_) | Item::HandoffOutput(_) => {
                let call_id = item.call_id().unwrap_or_default();
                if !called.contains(call_id) {
                    problems.push(format!("output for `{call_id}` answers no call"));
                }
                open.retain(|id| *id != call_id);
            }
            Item::UserMessage { .. } | Item::AssistantMessage { .. } => {
                for call_id in open.drain(..) {
                    problems.push(format!("no output for call `{call_id}`"));
                }
            }
            _ => {}
        }
    }
    problems.extend(open.iter().map(|id| format!("no output for call `{id}`")));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
