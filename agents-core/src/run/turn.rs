//! The turn loop: starting or resuming a run, one model call per turn,
//! input guardrails on the first turn, the final output through its
//! guardrails and conversions.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use futures::future::join_all;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::calls::run_calls;
use super::config::RunConfig;
use super::context::{RunContext, Runtime};
use super::error::{RunError, ToolFailure};
use super::live::LiveRun;
use super::result::{PartialRun, RunResult};
use super::state::{PendingApproval, RUN_STATE_SCHEMA_VERSION, RunState};
use super::stream::{EventSender, RunEvent};
use super::trace::{self, Spans};
use crate::agent::output::AnyOutput;
use crate::agent::{Agent, AgentCore};
use crate::guardrail::{
    GuardrailMode, GuardrailOutput, InputGuardrail, OutputGuardrail, ToolGuardrail,
};
use crate::hooks::DynRunHooks;
use crate::item::Item;
use crate::model::{
    Model, ModelError, ModelRequest, ModelResponse, ModelSettings, ModelStreamEvent,
    ResponseAssembler,
};
use crate::session::{Session, SessionError};

/// A fallback final output for a run that used up its turns.
#[derive(Debug, Clone)]
pub struct MaxTurnsFallback<Out> {
    pub(crate) output: Out,
    pub(crate) message: Option<String>,
}

impl<Out> MaxTurnsFallback<Out> {
    /// `output` becomes the final output; nothing is added to the items.
    pub fn new(output: Out) -> Self {
        MaxTurnsFallback {
            output,
            message: None,
        }
    }

    /// Also records `message` as the last agent's assistant message, so a
    /// continued conversation sees it.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// Decides a fallback when a run exceeds its turn limit.
pub(crate) type MaxTurnsHandler<Out> =
    Box<dyn FnOnce(&PartialRun) -> Option<MaxTurnsFallback<Out>> + Send + Sync>;

/// What a run has beside its agent: run-level hooks and guardrails.
pub(crate) struct RunExtras<Ctx, Out> {
    pub(crate) hooks: Vec<Arc<dyn DynRunHooks<Ctx>>>,
    pub(crate) input_guardrails: Vec<InputGuardrail<Ctx>>,
    pub(crate) output_guardrails: Vec<OutputGuardrail<Ctx, Out>>,
    pub(crate) tool_guardrails: Vec<ToolGuardrail<Ctx>>,
    pub(crate) max_turns_handler: Option<MaxTurnsHandler<Out>>,
    pub(crate) session: Option<Arc<dyn Session>>,
    pub(crate) session_limit: Option<usize>,
    /// Where a streamed run reports its events.
    pub(crate) events: Option<EventSender>,
    /// Model settings for one agent in this run, by agent name.
    pub(crate) agent_settings: Vec<(String, ModelSettings)>,
}

impl<Ctx, Out> Default for RunExtras<Ctx, Out> {
    fn default() -> Self {
        RunExtras {
            hooks: Vec::new(),
            input_guardrails: Vec::new(),
            output_guardrails: Vec::new(),
            tool_guardrails: Vec::new(),
            max_turns_handler: None,
            session: None,
            session_limit: None,
            events: None,
            agent_settings: Vec::new(),
        }
    }
}

/// Where a run starts.
pub(crate) enum Start {
    Input(Vec<Arc<Item>>),
    Resume(Box<RunState>),
}

/// How the loop ended; the partial run is attached afterwards.
pub(super) enum Stop<Out> {
    Final(Out),
    /// A tool's output is the final output (tool-use behaviour).
    FinalText(String),
    MaxTurns,
    Model(String, ModelError),
    OutputParse {
        agent: String,
        output_type: &'static str,
        output: String,
        source: serde_json::Error,
    },
    Tool {
        agent: String,
        call_id: String,
        failure: ToolFailure,
    },
    Interrupted {
        pending_turn: Vec<Arc<Item>>,
        pending: Vec<PendingApproval>,
    },
    InputTripwire {
        guardrail: String,
        output: GuardrailOutput,
    },
    OutputTripwire {
        guardrail: String,
        output: GuardrailOutput,
    },
    ToolTripwire {
        guardrail: String,
        call_id: String,
        info: serde_json::Value,
    },
    Session(SessionError),
    OutputType,
}

#[allow(
    clippy::too_many_arguments,
    reason = "internal entry point of every run"
)]
pub(crate) async fn execute<Ctx, Out>(
    model: Arc<dyn Model>,
    agent: Agent<Ctx, Out>,
    context: Arc<Ctx>,
    start: Start,
    config: RunConfig,
    cancellation: Option<CancellationToken>,
    depth: u32,
    mut extras: RunExtras<Ctx, Out>,
) -> Result<RunResult<Out>, RunError>
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    let deadline = Instant::now() + config.timeout;
    let starting = agent.core;
    let ctx = RunContext {
        context,
        run_id: config.run_id.clone().unwrap_or_else(new_run_id),
        metadata: Arc::clone(&config.metadata),
        usage: Default::default(),
        agent: Arc::clone(&starting.name),
        turn: 0,
        runtime: Some(Runtime {
            model: Arc::clone(&model),
            config: config.clone(),
            depth,
        }),
    };
    let (mut live, pending_turn, resumed) = match start {
        Start::Input(input) if extras.session.is_some() => {
            let mut live = LiveRun::start(ctx, starting, input.clone());
            if let Some(session) = &extras.session {
                if let Err(source) =
                    open_session(&mut live, &**session, extras.session_limit, input).await
                {
                    return Err(RunError::Session {
                        source,
                        partial: live.partial(),
                    });
                }
            }
            (live, Vec::new(), false)
        }
        Start::Input(input) => (LiveRun::start(ctx, starting, input), Vec::new(), false),
        Start::Resume(state) => {
            let (live, pending_turn) = resume(starting, ctx, *state)?;
            (live, pending_turn, true)
        }
    };

    let run_span = trace::run(&live.starting_agent, &live.ctx.run_id);
    live.spans = Spans::new(run_span.clone());
    let stop = {
        let turns = tokio::time::timeout_at(
            deadline,
            run_turns(&mut live, &*model, &config, &extras, pending_turn, resumed)
                .instrument(run_span.clone()),
        );
        let cancelled = async {
            match &cancellation {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = cancelled => None,
            stop = turns => Some(stop),
        }
    };

    trace::record_run_end(&run_span, live.ctx.usage, live.ctx.turn);
    if let Some(events) = &extras.events {
        let _ = events.send(RunEvent::RunFinished {
            last_agent: Arc::clone(&live.agent.name),
            turns: live.ctx.turn,
            usage: live.ctx.usage,
        });
    }
    match stop {
        None => Err(RunError::Cancelled {
            partial: live.partial(),
        }),
        Some(Err(_elapsed)) => Err(RunError::Timeout {
            timeout: config.timeout,
            partial: live.partial(),
        }),
        Some(Ok(stop)) => match stop {
            Stop::Final(output) => Ok(RunResult {
                final_output: output,
                run_id: Arc::clone(&live.ctx.run_id),
                input: live.input,
                new_items: live.new_items,
                last_agent: Arc::clone(&live.agent.name),
                usage: live.ctx.usage,
                usage_by_agent: live.usage_by_agent,
                raw_responses: live.raw_responses,
                turns: live.ctx.turn,
            }),
            Stop::MaxTurns => {
                let partial = live.into_partial();
                let fallback = extras
                    .max_turns_handler
                    .take()
                    .and_then(|handler| handler(&partial));
                match fallback {
                    Some(fallback) => Ok(fallback_result(partial, fallback)),
                    None => Err(RunError::MaxTurnsExceeded {
                        max_turns: config.max_turns,
                        partial: Box::new(partial),
                    }),
                }
            }
            Stop::Model(agent, source) => Err(RunError::Model {
                agent,
                source,
                partial: live.partial(),
            }),
            Stop::OutputParse {
                agent,
                output_type,
                output,
                source,
            } => Err(RunError::OutputParse {
                agent,
                output_type,
                output,
                source,
                partial: live.partial(),
            }),
            Stop::Tool {
                agent,
                call_id,
                failure,
            } => Err(RunError::Tool {
                agent,
                call_id,
                failure,
                partial: live.partial(),
            }),
            Stop::Interrupted {
                pending_turn,
                pending,
            } => {
                let decisions = std::mem::take(&mut live.decisions);
                let always = std::mem::take(&mut live.always);
                Err(RunError::ApprovalRequired {
                    state: Box::new(RunState {
                        schema_version: RUN_STATE_SCHEMA_VERSION,
                        run: live.into_partial(),
                        pending_turn,
                        pending,
                        decisions,
                        always,
                    }),
                })
            }
            Stop::InputTripwire { guardrail, output } => Err(RunError::InputGuardrailTripwire {
                guardrail,
                output,
                partial: live.partial(),
            }),
            Stop::OutputTripwire { guardrail, output } => Err(RunError::OutputGuardrailTripwire {
                guardrail,
                output,
                partial: live.partial(),
            }),
            Stop::ToolTripwire {
                guardrail,
                call_id,
                info,
            } => Err(RunError::ToolGuardrailTripwire {
                guardrail,
                call_id,
                info,
                partial: live.partial(),
            }),
            Stop::Session(source) => Err(RunError::Session {
                source,
                partial: live.partial(),
            }),
            Stop::OutputType | Stop::FinalText(_) => Err(RunError::OutputType {
                agent: live.agent.name.to_string(),
                produced: live.agent.output.type_name,
                partial: live.partial(),
            }),
        },
    }
}

fn fallback_result<Out>(
    mut partial: PartialRun,
    fallback: MaxTurnsFallback<Out>,
) -> RunResult<Out> {
    if let Some(message) = fallback.message {
        partial.new_items.push(crate::item::RunItem {
            agent: Arc::clone(&partial.last_agent),
            item: Arc::new(Item::assistant(message)),
        });
    }
    RunResult {
        final_output: fallback.output,
        run_id: partial.run_id,
        input: partial.input,
        new_items: partial.new_items,
        last_agent: partial.last_agent,
        usage: partial.usage,
        usage_by_agent: partial.usage_by_agent,
        raw_responses: partial.raw_responses,
        turns: partial.turns,
    }
}

/// Rebuilds a live run from a stored state: the current agent and the
/// output conversions are found again by following the handoff path from
/// the starting agent.
fn resume<Ctx>(
    starting: Arc<AgentCore<Ctx>>,
    mut ctx: RunContext<Ctx>,
    state: RunState,
) -> Result<(LiveRun<Ctx>, Vec<Arc<Item>>), RunError> {
    let invalid = |message: String, run: PartialRun| RunError::InvalidState {
        message,
        partial: Box::new(run),
    };
    if state.schema_version > RUN_STATE_SCHEMA_VERSION {
        return Err(invalid(
            format!(
                "the state has schema version {}, this release reads up to {RUN_STATE_SCHEMA_VERSION}",
                state.schema_version
            ),
            state.run,
        ));
    }
    if state.run.starting_agent != starting.name {
        return Err(invalid(
            format!(
                "the state's run started with agent `{}`, not `{}`",
                state.run.starting_agent, starting.name
            ),
            state.run,
        ));
    }
    let mut agent = Arc::clone(&starting);
    let mut conversions = Vec::new();
    for tool_name in &state.run.handoff_path {
        let Some(handoff) = agent.handoff(tool_name) else {
            let message = format!("agent `{}` has no handoff `{tool_name}`", agent.name);
            return Err(invalid(message, state.run));
        };
        conversions.push(handoff.convert.clone());
        let next = handoff.target.resolve();
        agent = next;
    }
    if agent.name != state.run.last_agent {
        let message = format!(
            "the handoff path leads to `{}`, the state says `{}`",
            agent.name, state.run.last_agent
        );
        return Err(invalid(message, state.run));
    }
    let run = state.run;
    // Everything in a stored state was saved to the session before.
    let saved = run.new_items.len();
    ctx.run_id = run.run_id;
    ctx.usage = run.usage;
    ctx.turn = run.turns;
    ctx.agent = Arc::clone(&agent.name);
    Ok((
        LiveRun {
            ctx,
            starting_agent: run.starting_agent,
            input: run.input,
            history: run.history,
            new_items: run.new_items,
            raw_responses: run.raw_responses,
            started: Some(Arc::clone(&agent.name)),
            agent,
            conversions,
            handoff_path: run.handoff_path,
            decisions: state.decisions,
            always: state.always,
            usage_by_agent: run.usage_by_agent,
            saved,
            spans: Spans::new(tracing::Span::none()),
        },
        state.pending_turn,
    ))
}

/// Loads a session's history in front of the new input, continues with the
/// agent that answered last (when the starting agent's graph reaches it),
/// and stores the new input at once.
async fn open_session<Ctx>(
    live: &mut LiveRun<Ctx>,
    session: &dyn Session,
    limit: Option<usize>,
    new_input: Vec<Arc<Item>>,
) -> Result<(), SessionError> {
    let mut history = session.items(limit).await?;
    history.extend(new_input.iter().cloned());
    live.input = history.clone();
    live.history = history;
    if let Some(last) = session.last_agent().await? {
        for tool_name in path_to(&live.agent, &last).unwrap_or_default() {
            let agent = Arc::clone(&live.agent);
            if let Some(handoff) = agent.handoff(&tool_name) {
                live.switch_to(handoff);
            }
        }
    }
    session
        .add_items(new_input, Some(live.agent.name.to_string()))
        .await
}

/// The handoff tool names leading from `start` to the agent named `target`
/// (shortest path), or `None` when it is not reachable.
fn path_to<Ctx>(start: &Arc<AgentCore<Ctx>>, target: &str) -> Option<Vec<String>> {
    if &*start.name == target {
        return Some(Vec::new());
    }
    let mut seen: Vec<Arc<str>> = vec![Arc::clone(&start.name)];
    let mut queue = std::collections::VecDeque::from([(Arc::clone(start), Vec::new())]);
    while let Some((agent, path)) = queue.pop_front() {
        for handoff in &agent.handoffs {
            if seen.contains(&handoff.target_name) {
                continue;
            }
            let mut next_path: Vec<String> = path.clone();
            next_path.push(handoff.tool_name.clone());
            if &*handoff.target_name == target {
                return Some(next_path);
            }
            seen.push(Arc::clone(&handoff.target_name));
            queue.push_back((handoff.target.resolve(), next_path));
        }
    }
    None
}

/// Stores the items produced since the last checkpoint as one batch (one
/// turn), with the current agent, leaving out `exclude`.
async fn checkpoint<Ctx, Out>(
    live: &mut LiveRun<Ctx>,
    extras: &RunExtras<Ctx, Out>,
    exclude: Option<&Arc<Item>>,
) -> Result<(), SessionError> {
    let Some(session) = &extras.session else {
        return Ok(());
    };
    if live.saved == live.new_items.len() {
        return Ok(());
    }
    let batch: Vec<Arc<Item>> = live.new_items[live.saved..]
        .iter()
        .map(|i| Arc::clone(&i.item))
        .filter(|item| exclude.is_none_or(|excluded| !Arc::ptr_eq(item, excluded)))
        .collect();
    session
        .add_items(batch, Some(live.agent.name.to_string()))
        .await?;
    live.saved = live.new_items.len();
    Ok(())
}

async fn run_turns<Ctx: Send + Sync, Out: Send + 'static>(
    live: &mut LiveRun<Ctx>,
    model: &dyn Model,
    config: &RunConfig,
    extras: &RunExtras<Ctx, Out>,
    pending_turn: Vec<Arc<Item>>,
    resumed: bool,
) -> Stop<Out> {
    let stop = turns(live, model, config, extras, pending_turn, resumed).await;
    // The last turn's items; a withheld output stays out of the session.
    let exclude = match &stop {
        Stop::OutputTripwire { .. } => live
            .new_items
            .iter()
            .rev()
            .find(|i| matches!(*i.item, Item::AssistantMessage { .. }))
            .map(|i| Arc::clone(&i.item)),
        _ => None,
    };
    match checkpoint(live, extras, exclude.as_ref()).await {
        Ok(()) => stop,
        Err(error) => Stop::Session(error),
    }
}

async fn turns<Ctx: Send + Sync, Out: Send + 'static>(
    live: &mut LiveRun<Ctx>,
    model: &dyn Model,
    config: &RunConfig,
    extras: &RunExtras<Ctx, Out>,
    pending_turn: Vec<Arc<Item>>,
    resumed: bool,
) -> Stop<Out> {
    if !pending_turn.is_empty() {
        let agent = Arc::clone(&live.agent);
        match run_calls(live, &agent, &pending_turn, config, extras).await {
            Some(Stop::FinalText(text)) => return finalize(live, &agent, &text, extras).await,
            Some(stop) => return stop,
            None => {}
        }
    }
    let mut first_turn = !resumed;
    loop {
        // The previous turn is complete: store it before the next starts.
        if let Err(error) = checkpoint(live, extras, None).await {
            return Stop::Session(error);
        }
        if live.ctx.turn >= config.max_turns {
            return Stop::MaxTurns;
        }
        let agent = Arc::clone(&live.agent);
        let hooks: Vec<&dyn DynRunHooks<Ctx>> = extras
            .hooks
            .iter()
            .chain(agent.hooks.iter())
            .map(|h| &**h)
            .collect();
        if live.started.as_deref() != Some(&*agent.name) {
            live.started = Some(Arc::clone(&agent.name));
            for hook in &hooks {
                hook.agent_start(&live.ctx, &agent.name).await;
            }
        }
        live.ctx.turn += 1;
        if live.spans.agent_name.as_deref() != Some(&*agent.name) {
            live.spans.agent = trace::agent(&live.spans.run, &agent.name);
            live.spans.agent_name = Some(Arc::clone(&agent.name));
        }
        live.spans.turn = trace::turn(&live.spans.agent, live.ctx.turn);
        if let Some(events) = &extras.events {
            let _ = events.send(RunEvent::TurnStarted {
                agent: Arc::clone(&agent.name),
                turn: live.ctx.turn,
            });
        }
        let sensitive = config.trace_sensitive_data;

        let request = ModelRequest {
            agent: Arc::clone(&agent.name),
            model: agent.model.clone(),
            instructions: agent.instructions.resolve(&live.ctx).await,
            input: live.history.clone(),
            tools: Arc::clone(&agent.tool_definitions),
            output_schema: agent.output.schema.clone(),
            settings: {
                let settings = agent.model_settings.merge(&config.model_settings);
                match extras
                    .agent_settings
                    .iter()
                    .find(|(name, _)| **name == *agent.name)
                {
                    Some((_, overrides)) => settings.merge(overrides),
                    None => settings,
                }
            },
        };
        for hook in &hooks {
            hook.model_start(&live.ctx, &agent.name, &request).await;
        }
        let model_span = trace::model_call(&live.spans.turn, &request, sensitive);
        // Lazy: the model is not called before the blocking input guardrails
        // have passed.
        // Boxed: a parked run (waiting on its tools) then holds a pointer,
        // not the model call's whole state, which keeps many concurrent runs
        // small.
        let call = Box::pin(
            async {
                let response = async {
                    match &extras.events {
                        Some(events) => streamed_call(model, request, events, &agent.name).await,
                        None => model.call(request).await,
                    }
                };
                tokio::time::timeout(config.model_call_timeout, response).await
            }
            .instrument(model_span.clone()),
        );
        let outcome = if first_turn {
            first_turn = false;
            let guardrails: Vec<&InputGuardrail<Ctx>> = extras
                .input_guardrails
                .iter()
                .chain(agent.input_guardrails.iter())
                .collect();
            match Box::pin(call_with_input_guardrails(live, &guardrails, call)).await {
                Ok(outcome) => outcome,
                Err(stop) => return stop,
            }
        } else {
            call.await
        };
        let response = match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                trace::record_error(&model_span, "model_error");
                return Stop::Model(agent.name.to_string(), error);
            }
            Err(_) => {
                trace::record_error(&model_span, "timeout");
                return Stop::Model(
                    agent.name.to_string(),
                    ModelError::Timeout(config.model_call_timeout),
                );
            }
        };
        trace::record_model_end(&model_span, &response, sensitive);
        for hook in &hooks {
            hook.model_end(&live.ctx, &agent.name, &response).await;
        }
        let mut usage = response.usage;
        usage.requests = usage.requests.max(1);
        live.ctx.usage += usage;
        // Looked up by `&str` first: no allocation on the turns after an
        // agent's first.
        match live.usage_by_agent.get_mut(&*agent.name) {
            Some(total) => *total += usage,
            None => {
                live.usage_by_agent.insert(agent.name.to_string(), usage);
            }
        }
        if let Some(events) = &extras.events {
            let _ = events.send(RunEvent::Usage {
                agent: Arc::clone(&agent.name),
                usage,
            });
        }

        // Append the model's items; a call to a handoff tool is recorded as a
        // handoff call.
        let first_new = live.new_items.len();
        for item in &response.output {
            let item = match &**item {
                Item::ToolCall(call) if agent.handoff(&call.name).is_some() => {
                    Arc::new(Item::HandoffCall(call.clone()))
                }
                _ => Arc::clone(item),
            };
            live.push(item);
        }
        live.raw_responses.push(response);

        let calls: Vec<Arc<Item>> = live.new_items[first_new..]
            .iter()
            .filter(|i| matches!(*i.item, Item::ToolCall(_) | Item::HandoffCall(_)))
            .map(|i| Arc::clone(&i.item))
            .collect();

        if calls.is_empty() {
            let last_message = live.raw_responses.last().and_then(|response| {
                response.output.iter().rev().find_map(|item| match &**item {
                    Item::AssistantMessage { content } => Some(content.clone()),
                    _ => None,
                })
            });
            match last_message {
                Some(text) => return finalize(live, &agent, &text, extras).await,
                // Nothing to act on (e.g. only reasoning): ask again.
                None => continue,
            }
        }

        match run_calls(live, &agent, &calls, config, extras).await {
            Some(Stop::FinalText(text)) => return finalize(live, &agent, &text, extras).await,
            Some(stop) => return stop,
            None => {}
        }
    }
}

type CallOutcome = Result<Result<ModelResponse, ModelError>, tokio::time::error::Elapsed>;

/// A model call in streaming mode: every delta is reported as a run event,
/// and the events are assembled into the same response a plain call gives.
async fn streamed_call(
    model: &dyn Model,
    request: ModelRequest,
    events: &EventSender,
    agent: &Arc<str>,
) -> Result<ModelResponse, ModelError> {
    use futures::StreamExt;

    let mut stream = model.stream(request);
    let mut assembler = ResponseAssembler::new();
    let mut call_ids: Vec<(usize, String)> = Vec::new();
    while let Some(event) = stream.next().await {
        let event = event?;
        let run_event = match &event {
            ModelStreamEvent::TextDelta(delta) => Some(RunEvent::TextDelta {
                agent: Arc::clone(agent),
                delta: delta.clone(),
            }),
            ModelStreamEvent::ToolCallStarted {
                index,
                call_id,
                name,
            } => {
                call_ids.push((*index, call_id.clone()));
                Some(RunEvent::ToolCallStarted {
                    agent: Arc::clone(agent),
                    call_id: call_id.clone(),
                    name: name.clone(),
                })
            }
            ModelStreamEvent::ToolCallArgumentsDelta { index, delta } => call_ids
                .iter()
                .rev()
                .find(|(i, _)| i == index)
                .map(|(_, call_id)| RunEvent::ToolCallArgumentsDelta {
                    agent: Arc::clone(agent),
                    call_id: call_id.clone(),
                    delta: delta.clone(),
                }),
            _ => None,
        };
        if let Some(run_event) = run_event {
            let _ = events.send(run_event);
        }
        assembler.push(event)?;
    }
    assembler.finish()
}

/// The first model call with the input guardrails: blocking ones before it
/// (a trip means no call), parallel ones beside it (a trip discards the
/// answer, or drops the call if it is still running).
async fn call_with_input_guardrails<Ctx, Out>(
    live: &LiveRun<Ctx>,
    guardrails: &[&InputGuardrail<Ctx>],
    call: impl std::future::Future<Output = CallOutcome>,
) -> Result<CallOutcome, Stop<Out>> {
    let check = |mode: GuardrailMode| {
        let selected: Vec<&InputGuardrail<Ctx>> = guardrails
            .iter()
            .copied()
            .filter(|g| g.mode == mode)
            .collect();
        async move {
            let outputs =
                join_all(selected.iter().map(|g| (g.check)(&live.ctx, &live.input))).await;
            selected
                .iter()
                .zip(outputs)
                .find(|(_, output)| output.tripwire_triggered)
                .map(|(g, output)| Stop::InputTripwire {
                    guardrail: g.name.to_string(),
                    output,
                })
        }
    };
    if let Some(stop) = check(GuardrailMode::Blocking).await {
        return Err(stop);
    }
    let parallel = check(GuardrailMode::Parallel);
    tokio::pin!(parallel, call);
    tokio::select! {
        biased;
        tripped = &mut parallel => match tripped {
            Some(stop) => Err(stop),
            None => Ok(call.await),
        },
        outcome = &mut call => match parallel.await {
            Some(stop) => Err(stop),
            None => Ok(outcome),
        },
    }
}

/// The final output: parsed into the agent's type, checked by the agent's
/// output guardrails (each at the conversion stage it was declared for),
/// converted back through every handoff taken, checked by the run's output
/// guardrails.
async fn finalize<Ctx: Send + Sync, Out: Send + 'static>(
    live: &LiveRun<Ctx>,
    agent: &AgentCore<Ctx>,
    text: &str,
    extras: &RunExtras<Ctx, Out>,
) -> Stop<Out> {
    let mut value: AnyOutput = match (agent.output.parse)(text) {
        Ok(value) => value,
        Err(source) => {
            return Stop::OutputParse {
                agent: agent.name.to_string(),
                output_type: agent.output.type_name,
                output: text.to_owned(),
                source,
            };
        }
    };
    let stages = agent.output.conversions.len();
    for stage in 0..=stages {
        for guardrail in agent.output_guardrails.iter().filter(|g| g.stage == stage) {
            let span = trace::guardrail(&live.spans.turn, &guardrail.name, "output");
            let output = (guardrail.check)(&live.ctx, &*value)
                .instrument(span.clone())
                .await;
            trace::record_guardrail(&span, output.tripwire_triggered);
            if output.tripwire_triggered {
                return Stop::OutputTripwire {
                    guardrail: guardrail.name.to_string(),
                    output,
                };
            }
        }
        if stage < stages {
            value = match (agent.output.conversions[stage])(value) {
                Ok(value) => value,
                Err(_) => return Stop::OutputType,
            };
        }
    }
    for chain in live.conversions.iter().rev() {
        for convert in chain {
            value = match convert(value) {
                Ok(value) => value,
                Err(_) => return Stop::OutputType,
            };
        }
    }
    let output = match value.downcast::<Out>() {
        Ok(output) => *output,
        Err(_) => return Stop::OutputType,
    };
    for guardrail in &extras.output_guardrails {
        let span = trace::guardrail(&live.spans.turn, &guardrail.name, "output");
        let result = (guardrail.check)(&live.ctx, &output)
            .instrument(span.clone())
            .await;
        trace::record_guardrail(&span, result.tripwire_triggered);
        if result.tripwire_triggered {
            return Stop::OutputTripwire {
                guardrail: guardrail.name.to_string(),
                output: result,
            };
        }
    }
    for hook in extras.hooks.iter().chain(agent.hooks.iter()) {
        hook.agent_end(&live.ctx, &agent.name, text).await;
    }
    Stop::Final(output)
}

/// A fresh run id: `run_` and 16 hex digits from the standard library's
/// randomly keyed hasher (no global state, no extra dependency).
fn new_run_id() -> Arc<str> {
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(u64::from(Instant::now().elapsed().subsec_nanos()));
    Arc::from(format!("run_{:016x}", hasher.finish()))
}
