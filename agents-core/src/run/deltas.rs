//! A streamed model call's events as the run's stream reports them: text
//! and argument deltas (handoff calls are not tool calls), and the raw
//! events for runs that ask for them.

use std::sync::Arc;

use super::stream::{EventSender, RunEvent};
use crate::agent::AgentCore;
use crate::item::Item;
use crate::model::ModelStreamEvent;

/// Turns a streamed model call's events into [`RunEvent`]s for the run's
/// stream (deltas have no other observer). Part of a [`ModelCall`](super::ModelCall); an effect
/// implementation that streams feeds it every event it receives.
#[derive(Debug)]
pub struct DeltaSink<'a> {
    sender: &'a EventSender,
    agent: &'a Arc<str>,
    /// The agent, as the judge of which calls are handoffs: a call of a
    /// handoff tool is not a tool call, and is reported as an item once
    /// complete.
    handoffs: &'a (dyn IsHandoff + Sync),
    /// Whether every model event is also sent as is.
    raw: bool,
    /// Tool call ids by the index the stream gives them (`None`: a
    /// handoff call, not reported).
    call_ids: Vec<(usize, Option<Arc<str>>)>,
}

impl<'a> DeltaSink<'a> {
    /// The sink of a streamed model call of `agent`, sending to `sender`;
    /// `raw`: also every model event as is.
    pub(super) fn new<Ctx>(sender: &'a EventSender, agent: &'a AgentCore<Ctx>, raw: bool) -> Self {
        DeltaSink {
            sender,
            agent: &agent.name,
            handoffs: agent,
            raw,
            call_ids: Vec::new(),
        }
    }

    /// Reports one model stream event (text and tool-call deltas are
    /// forwarded; the others are the assembler's business).
    pub fn push(&mut self, event: &ModelStreamEvent) {
        let agent = self.agent;
        if self.raw {
            self.sender.send(RunEvent::RawModelEvent {
                agent: Arc::clone(agent),
                event: Arc::new(event.clone()),
            });
        }
        let run_event = match event {
            ModelStreamEvent::TextDelta(delta) => Some(RunEvent::TextDelta {
                agent: Arc::clone(agent),
                delta: Arc::from(delta.as_str()),
            }),
            ModelStreamEvent::ToolCallStarted {
                index,
                call_id,
                name,
            } => {
                let handoff = self.handoffs.is_handoff(name);
                let call_id: Option<Arc<str>> = (!handoff).then(|| Arc::from(call_id.as_str()));
                self.call_ids.push((*index, call_id.clone()));
                call_id.map(|call_id| RunEvent::ToolCallStarted {
                    agent: Arc::clone(agent),
                    call_id,
                    name: Arc::from(name.as_str()),
                })
            }
            ModelStreamEvent::ToolCallArgumentsDelta { index, delta } => self
                .call_ids
                .iter()
                .rev()
                .find(|(i, _)| i == index)
                .and_then(|(_, call_id)| call_id.as_ref())
                .map(|call_id| RunEvent::ToolCallArgumentsDelta {
                    agent: Arc::clone(agent),
                    call_id: Arc::clone(call_id),
                    delta: Arc::from(delta.as_str()),
                }),
            ModelStreamEvent::Response(response) => {
                self.push_whole(&response.output);
                None
            }
            _ => None,
        };
        if let Some(run_event) = run_event {
            self.sender.send(run_event);
        }
    }

    /// Reports a whole response's items as the deltas a streaming model
    /// would have sent (as [`ModelStreamEvent::from_response`] streams
    /// them): a message's text as one delta (a message right after another
    /// is an item, not a delta: the two would read as one), a tool call as
    /// its start and its whole arguments.
    fn push_whole(&mut self, output: &[Arc<Item>]) {
        let agent = self.agent;
        let mut last_was_text = false;
        for item in output {
            match &**item {
                Item::AssistantMessage { content } if !last_was_text => {
                    self.sender.send(RunEvent::TextDelta {
                        agent: Arc::clone(agent),
                        delta: Arc::from(content.as_str()),
                    });
                    last_was_text = true;
                    continue;
                }
                Item::ToolCall(call) if !self.handoffs.is_handoff(&call.name) => {
                    let call_id: Arc<str> = Arc::from(call.call_id.as_str());
                    self.sender.send(RunEvent::ToolCallStarted {
                        agent: Arc::clone(agent),
                        call_id: Arc::clone(&call_id),
                        name: Arc::from(call.name.as_str()),
                    });
                    self.sender.send(RunEvent::ToolCallArgumentsDelta {
                        agent: Arc::clone(agent),
                        call_id,
                        delta: Arc::from(call.arguments.as_str()),
                    });
                }
                _ => {}
            }
            last_was_text = false;
        }
    }
}

/// Whether a tool name is one of an agent's handoffs, asked of the agent
/// in place (a model call's sink makes no list of them).
trait IsHandoff {
    fn is_handoff(&self, name: &str) -> bool;
}

impl<Ctx> IsHandoff for AgentCore<Ctx> {
    fn is_handoff(&self, name: &str) -> bool {
        self.handoff(name).is_some()
    }
}

impl std::fmt::Debug for dyn IsHandoff + Sync + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IsHandoff")
    }
}
