//! The event pipeline: everything observable a run does is emitted once, as
//! one [`Event`], and fanned out here to every observer.
//!
//! Observers today: the lifecycle hooks (run-level first, then the current
//! agent's), the `tracing` spans ([`trace`](super::trace)) and the events of
//! a streamed run ([`RunEvent`]). A new observer is one more arm in
//! [`Observers::emit`]; the turn loop does not change.
//!
//! An event that opens an operation (a model call, a tool call, a
//! guardrail) returns a [`Scope`]: the observers' handle on that operation.
//! The step instruments the operation's future with it and hands it back in
//! the matching ending event.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use tracing::Span;
use tracing::instrument::{Instrument, Instrumented};

use super::deltas::DeltaSink;
use super::stream::{EventSender, RunEvent};
use super::trace::{self, Spans, TraceGroup};
use crate::agent::AgentCore;
use crate::context::RunContext;
use crate::hooks::{DynRunHooks, ToolStartDecision};
use crate::item::{Item, SharedToolOutput, ToolCall};
use crate::model::{BoxFuture, ModelRequest, ModelResponse};
use crate::usage::Usage;

/// Something a run did, emitted once by the step that did it. The agent it
/// concerns is passed beside it to [`Observers::emit`].
#[derive(Clone, Copy)]
pub(super) enum Event<'a> {
    /// The run starts (or resumes); opens the run's scope.
    RunStarted {
        starting_agent: &'a str,
        run_id: &'a str,
        group: &'a TraceGroup<'a>,
    },
    /// An agent starts: at the start of the run and after each handoff.
    AgentStarted,
    /// A turn starts (the turn counter already advanced).
    TurnStarted { turn: u32 },
    /// A model call is about to be made; opens its scope.
    ModelCallStarted { request: &'a ModelRequest },
    /// The model call failed; `kind` is the trace's `error.type`.
    ModelCallFailed {
        scope: &'a Scope,
        kind: &'static str,
    },
    /// The model answered; `usage` counts at least one request.
    ModelCallEnded {
        scope: &'a Scope,
        response: &'a ModelResponse,
        usage: Usage,
    },
    /// A tool call goes through its decisions and runs; opens its scope.
    ToolStarted { call: &'a ToolCall },
    /// A tool call has its output (or error output).
    ToolEnded {
        scope: &'a Scope,
        call: &'a ToolCall,
        output: &'a SharedToolOutput,
    },
    /// A guardrail starts checking; opens its scope, inside `parent`'s (a
    /// tool call's) or else the turn's.
    GuardrailStarted {
        parent: Option<&'a Scope>,
        name: &'a str,
        kind: &'static str,
    },
    /// A guardrail decided.
    GuardrailEnded { scope: &'a Scope, triggered: bool },
    /// The conversation is handed to `to` (emitted through
    /// [`Observers::handoff`], whose hooks are the receiving agent's).
    Handoff { to: &'a Arc<str> },
    /// The agent produced the final output (as the model wrote it).
    AgentEnded { output: &'a str },
    /// The run ended, successfully or not.
    RunEnded { turns: u32, usage: Usage },
}

/// An emitted event whose hooks may still be running: a future of the
/// event's [`Scope`]. A run without hooks never allocates one.
#[must_use = "the event's hooks run when this is awaited"]
pub(super) struct Emitted<'a> {
    scope: Scope,
    hooks: Option<BoxFuture<'a, ()>>,
}

impl Future for Emitted<'_> {
    type Output = Scope;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Scope> {
        let this = self.get_mut();
        if let Some(hooks) = &mut this.hooks {
            ready!(hooks.as_mut().poll(cx));
            this.hooks = None;
        }
        Poll::Ready(std::mem::replace(&mut this.scope, Scope::none()))
    }
}

/// The observers' handle on an operation in flight (today: its span).
#[derive(Debug, Clone)]
pub(super) struct Scope(Span);

impl Scope {
    fn none() -> Self {
        Scope(Span::none())
    }

    /// `future`, run inside this scope.
    pub(super) fn instrument<F: Future>(&self, future: F) -> Instrumented<F> {
        future.instrument(self.0.clone())
    }
}

/// The fan-out of one run's events.
pub(super) struct Observers<Ctx> {
    /// Run-level hooks; the current agent's are called after them.
    hooks: Vec<Arc<dyn DynRunHooks<Ctx>>>,
    /// Where a streamed run's events go.
    stream: Option<EventSender>,
    /// Whether spans record inputs and outputs.
    sensitive: bool,
    /// The open spans. Locked only for synchronous updates, never across an
    /// `.await`; concurrent tool calls are its only contenders.
    spans: Mutex<Spans>,
}

impl<Ctx> Observers<Ctx> {
    pub(super) fn new(
        hooks: Vec<Arc<dyn DynRunHooks<Ctx>>>,
        stream: Option<EventSender>,
        sensitive: bool,
    ) -> Self {
        Observers {
            hooks,
            stream,
            sensitive,
            spans: Mutex::new(Spans::new(Span::none())),
        }
    }

    fn hooks<'a>(
        &'a self,
        agent: &'a AgentCore<Ctx>,
    ) -> impl Iterator<Item = &'a dyn DynRunHooks<Ctx>> {
        self.hooks
            .iter()
            .chain(agent.hooks.iter())
            .map(|hook| &**hook)
    }

    /// Sends the stream event `make` builds, built only when the run is
    /// streamed.
    fn send(&self, make: impl FnOnce() -> RunEvent) {
        if let Some(stream) = self.stream.as_ref().filter(|s| s.is_listened()) {
            stream.send(make());
        }
    }

    fn spans(&self) -> std::sync::MutexGuard<'_, Spans> {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers `event` (about `agent`, seen through `ctx`) to every
    /// observer, in a fixed order: spans, then stream events, then hooks.
    /// Await the result: it completes when the hooks have run (at once in a
    /// run without hooks) and yields the event's [`Scope`].
    pub(super) fn emit<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a AgentCore<Ctx>,
        event: Event<'a>,
    ) -> Emitted<'a>
    where
        Ctx: Send + Sync,
    {
        let scope = self.observe(agent, event);
        let hooks: Option<BoxFuture<'a, ()>> = if self.hooks.is_empty() && agent.hooks.is_empty() {
            None
        } else {
            Some(Box::pin(self.call_hooks(ctx, agent, event)))
        };
        Emitted { scope, hooks }
    }

    /// The spans and the stream events of `event`.
    fn observe(&self, agent: &AgentCore<Ctx>, event: Event<'_>) -> Scope {
        let sensitive = self.sensitive;
        match event {
            Event::RunStarted {
                starting_agent,
                run_id,
                group,
            } => {
                let span = trace::run(starting_agent, run_id, group);
                *self.spans() = Spans::new(span.clone());
                return Scope(span);
            }
            Event::TurnStarted { turn } => {
                {
                    let mut spans = self.spans();
                    if spans.agent_name.as_deref() != Some(&*agent.name) {
                        spans.agent = trace::agent(&spans.run, agent);
                        spans.agent_name = Some(Arc::clone(&agent.name));
                    }
                    spans.turn = trace::turn(&spans.agent, turn);
                }
                self.send(|| RunEvent::TurnStarted {
                    agent: Arc::clone(&agent.name),
                    turn,
                });
            }
            Event::ModelCallStarted { request } => {
                let turn = self.spans().turn.clone();
                return Scope(trace::model_call(&turn, request, sensitive));
            }
            Event::ModelCallFailed { scope, kind } => {
                // The failure ends the agent and the run: mark them too.
                trace::record_error(&scope.0, kind);
                let spans = self.spans();
                trace::record_error(&spans.agent, kind);
                trace::record_error(&spans.run, kind);
            }
            Event::ModelCallEnded {
                scope,
                response,
                usage,
            } => {
                trace::record_model_end(&scope.0, response, sensitive);
                self.send(|| RunEvent::Usage {
                    agent: Arc::clone(&agent.name),
                    usage,
                });
            }
            Event::ToolStarted { call } => {
                let turn = self.spans().turn.clone();
                return Scope(trace::tool(&turn, call, sensitive));
            }
            Event::ToolEnded { scope, output, .. } => {
                trace::record_tool_end(&scope.0, output, sensitive);
                self.send(|| RunEvent::ToolOutput {
                    agent: Arc::clone(&agent.name),
                    output: output.clone(),
                });
            }
            Event::GuardrailStarted { parent, name, kind } => {
                let parent = match parent {
                    Some(scope) => scope.0.clone(),
                    None => self.spans().turn.clone(),
                };
                return Scope(trace::guardrail(&parent, name, kind));
            }
            Event::GuardrailEnded { scope, triggered } => {
                trace::record_guardrail(&scope.0, triggered);
            }
            Event::Handoff { to } => {
                let turn = self.spans().turn.clone();
                drop(trace::handoff(&turn, &agent.name, to));
                self.send(|| RunEvent::HandoffOccurred {
                    from: Arc::clone(&agent.name),
                    to: Arc::clone(to),
                });
                self.send(|| RunEvent::AgentSwitched {
                    from: Arc::clone(&agent.name),
                    to: Arc::clone(to),
                });
            }
            Event::RunEnded { turns, usage } => {
                trace::record_run_end(&self.spans().run, usage, turns);
                self.send(|| RunEvent::RunFinished {
                    last_agent: Arc::clone(&agent.name),
                    turns,
                    usage,
                });
            }
            Event::AgentStarted | Event::AgentEnded { .. } => {}
        }
        Scope::none()
    }

    /// The hooks of `event`: run-level first, then the agent's.
    async fn call_hooks(&self, ctx: &RunContext<Ctx>, agent: &AgentCore<Ctx>, event: Event<'_>) {
        let name = &*agent.name;
        for hook in self.hooks(agent) {
            match event {
                Event::AgentStarted => hook.agent_start(ctx, name).await,
                Event::ModelCallStarted { request } => hook.model_start(ctx, name, request).await,
                Event::ModelCallEnded { response, .. } => {
                    hook.model_end(ctx, name, response).await;
                }
                Event::ToolEnded { call, output, .. } => {
                    hook.tool_end(ctx, name, call, output).await;
                }
                Event::AgentEnded { output } => hook.agent_end(ctx, name, output).await,
                _ => return,
            }
        }
    }

    /// A handoff from `from` to `to`: spans and stream events as for any
    /// event (about `from`), then the run's hooks and the hooks of the
    /// agent receiving the conversation (the OpenAI Agents SDK's
    /// `AgentHooks.on_handoff` fires on the receiving agent too).
    pub(super) async fn handoff(
        &self,
        ctx: &RunContext<Ctx>,
        from: &AgentCore<Ctx>,
        to: &AgentCore<Ctx>,
    ) where
        Ctx: Send + Sync,
    {
        self.observe(from, Event::Handoff { to: &to.name });
        for hook in self.hooks(to) {
            hook.handoff(ctx, &from.name, &to.name).await;
        }
    }

    /// The one decision the hooks make: whether a tool call may run. The
    /// first hook that denies it wins (run-level hooks first).
    pub(super) async fn tool_start(
        &self,
        ctx: &RunContext<Ctx>,
        agent: &AgentCore<Ctx>,
        call: &ToolCall,
    ) -> Option<String> {
        for hook in self.hooks(agent) {
            if let ToolStartDecision::Deny(message) = hook.tool_start(ctx, &agent.name, call).await
            {
                return Some(message);
            }
        }
        None
    }

    /// Reports a response's `item` as the run records it (a call of a
    /// handoff tool as a handoff call), after the response's `Usage`.
    pub(super) fn item_created(&self, agent: &AgentCore<Ctx>, item: &Arc<Item>) {
        self.send(|| RunEvent::ItemCreated {
            agent: Arc::clone(&agent.name),
            item: Arc::clone(item),
        });
    }

    /// The sink of a streamed model call of `agent`, where it reports its
    /// deltas; `raw`: also send every model stream event as is.
    pub(super) fn deltas<'a>(
        &'a self,
        agent: &'a AgentCore<Ctx>,
        raw: bool,
    ) -> Option<DeltaSink<'a>> {
        let stream = self.stream.as_ref().filter(|s| s.is_listened());
        stream.map(|sender| DeltaSink::new(sender, agent, raw))
    }
}
