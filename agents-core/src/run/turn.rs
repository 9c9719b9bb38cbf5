//! The turn loop.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use futures::future::join_all;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::{RunConfig, ToolErrorPolicy};
use super::context::{RunContext, Runtime};
use super::error::{RunError, ToolFailure};
use super::result::{PartialRun, RunResult};
use super::tools::{handoff_accepted, run_tool_call};
use crate::agent::handoff::ConvertFn;
use crate::agent::output::AnyOutput;
use crate::agent::{Agent, AgentCore, ToolUseBehavior};
use crate::item::{HandoffOutput, Item, RunItem, ToolCall, ToolOutput};
use crate::model::{Model, ModelError, ModelRequest, ModelResponse};

/// Everything a run owns. Lives outside the loop's future so that a timeout
/// or cancellation, which drops that future, still leaves every item.
struct RunState<Ctx> {
    ctx: RunContext<Ctx>,
    input: Vec<Arc<Item>>,
    /// What the next model call sees (handoff input filters rewrite it).
    history: Vec<Arc<Item>>,
    new_items: Vec<RunItem>,
    raw_responses: Vec<ModelResponse>,
    agent: Arc<AgentCore<Ctx>>,
    /// Output conversions of the handoffs taken, in order.
    conversions: Vec<Vec<ConvertFn>>,
}

impl<Ctx> RunState<Ctx> {
    fn push(&mut self, item: Arc<Item>) {
        self.history.push(Arc::clone(&item));
        self.new_items.push(RunItem {
            agent: Arc::clone(&self.agent.name),
            item,
        });
    }

    fn partial(self) -> Box<PartialRun> {
        Box::new(PartialRun {
            run_id: self.ctx.run_id,
            input: self.input,
            new_items: self.new_items,
            last_agent: Arc::clone(&self.agent.name),
            usage: self.ctx.usage,
            raw_responses: self.raw_responses,
            turns: self.ctx.turn,
        })
    }
}

/// How the loop ended; the partial run is attached afterwards.
enum Stop {
    Final(AnyOutput),
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
}

pub(crate) async fn execute<Ctx, Out>(
    model: Arc<dyn Model>,
    agent: Agent<Ctx, Out>,
    context: Arc<Ctx>,
    input: Vec<Arc<Item>>,
    config: RunConfig,
    cancellation: Option<CancellationToken>,
    depth: u32,
) -> Result<RunResult<Out>, RunError>
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    let deadline = Instant::now() + config.timeout;
    let agent = agent.core;
    let mut state = RunState {
        ctx: RunContext {
            context,
            run_id: config.run_id.clone().unwrap_or_else(new_run_id),
            metadata: Arc::clone(&config.metadata),
            usage: Default::default(),
            agent: Arc::clone(&agent.name),
            turn: 0,
            runtime: Some(Runtime {
                model: Arc::clone(&model),
                config: config.clone(),
                depth,
            }),
        },
        history: input.clone(),
        input,
        new_items: Vec::new(),
        raw_responses: Vec::new(),
        agent,
        conversions: Vec::new(),
    };

    let stop = {
        let turns = tokio::time::timeout_at(deadline, run_turns(&mut state, &*model, &config));
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

    match stop {
        None => Err(RunError::Cancelled {
            partial: state.partial(),
        }),
        Some(Err(_elapsed)) => Err(RunError::Timeout {
            timeout: config.timeout,
            partial: state.partial(),
        }),
        Some(Ok(Stop::Final(output))) => finish(state, output),
        Some(Ok(Stop::MaxTurns)) => Err(RunError::MaxTurnsExceeded {
            max_turns: config.max_turns,
            partial: state.partial(),
        }),
        Some(Ok(Stop::Model(agent, source))) => Err(RunError::Model {
            agent,
            source,
            partial: state.partial(),
        }),
        Some(Ok(Stop::OutputParse {
            agent,
            output_type,
            output,
            source,
        })) => Err(RunError::OutputParse {
            agent,
            output_type,
            output,
            source,
            partial: state.partial(),
        }),
        Some(Ok(Stop::Tool {
            agent,
            call_id,
            failure,
        })) => Err(RunError::Tool {
            agent,
            call_id,
            failure,
            partial: state.partial(),
        }),
    }
}

/// Converts the last agent's output back through every handoff taken into
/// the starting agent's output type.
fn finish<Ctx, Out: 'static>(
    state: RunState<Ctx>,
    output: AnyOutput,
) -> Result<RunResult<Out>, RunError> {
    let mut value = output;
    for chain in state.conversions.iter().rev() {
        for convert in chain {
            value = match convert(value) {
                Ok(value) => value,
                Err(_) => return Err(output_type_error(state)),
            };
        }
    }
    let final_output = match value.downcast::<Out>() {
        Ok(output) => *output,
        Err(_) => return Err(output_type_error(state)),
    };
    Ok(RunResult {
        final_output,
        run_id: state.ctx.run_id,
        input: state.input,
        new_items: state.new_items,
        last_agent: Arc::clone(&state.agent.name),
        usage: state.ctx.usage,
        raw_responses: state.raw_responses,
        turns: state.ctx.turn,
    })
}

fn output_type_error<Ctx>(state: RunState<Ctx>) -> RunError {
    RunError::OutputType {
        agent: state.agent.name.to_string(),
        produced: state.agent.output.type_name,
        partial: state.partial(),
    }
}

async fn run_turns<Ctx: Send + Sync>(
    state: &mut RunState<Ctx>,
    model: &dyn Model,
    config: &RunConfig,
) -> Stop {
    loop {
        if state.ctx.turn >= config.max_turns {
            return Stop::MaxTurns;
        }
        state.ctx.turn += 1;
        let agent = Arc::clone(&state.agent);

        let request = ModelRequest {
            agent: Arc::clone(&agent.name),
            model: agent.model.clone(),
            instructions: agent.instructions.resolve(&state.ctx).await,
            input: state.history.clone(),
            tools: Arc::clone(&agent.tool_definitions),
            output_schema: agent.output.schema.clone(),
            settings: agent.model_settings.merge(&config.model_settings),
        };
        let response =
            match tokio::time::timeout(config.model_call_timeout, model.call(request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(error)) => return Stop::Model(agent.name.to_string(), error),
                Err(_) => {
                    return Stop::Model(
                        agent.name.to_string(),
                        ModelError::Timeout(config.model_call_timeout),
                    );
                }
            };
        let mut usage = response.usage;
        usage.requests = usage.requests.max(1);
        state.ctx.usage += usage;

        // Append the model's items; a call to a handoff tool is recorded as a
        // handoff call.
        let first_new = state.new_items.len();
        for item in &response.output {
            let item = match &**item {
                Item::ToolCall(call) if agent.handoff(&call.name).is_some() => {
                    Arc::new(Item::HandoffCall(call.clone()))
                }
                _ => Arc::clone(item),
            };
            state.push(item);
        }
        state.raw_responses.push(response);

        let calls: Vec<Arc<Item>> = state.new_items[first_new..]
            .iter()
            .filter(|i| matches!(*i.item, Item::ToolCall(_) | Item::HandoffCall(_)))
            .map(|i| Arc::clone(&i.item))
            .collect();

        if calls.is_empty() {
            let last_message = state.raw_responses.last().and_then(|response| {
                response.output.iter().rev().find_map(|item| match &**item {
                    Item::AssistantMessage { content } => Some(content.as_str()),
                    _ => None,
                })
            });
            match last_message {
                Some(text) => return parse_final(&agent, text),
                // Nothing to act on (e.g. only reasoning): ask again.
                None => continue,
            }
        }

        if let Some(stop) = run_calls(state, &agent, &calls, config).await {
            return stop;
        }
    }
}

/// Runs one turn's tool and handoff calls and records their outputs in call
/// order. Returns how the run stops, or `None` to call the model again.
async fn run_calls<Ctx: Send + Sync>(
    state: &mut RunState<Ctx>,
    agent: &Arc<AgentCore<Ctx>>,
    calls: &[Arc<Item>],
    config: &RunConfig,
) -> Option<Stop> {
    let winner = calls.iter().find_map(|item| match &**item {
        Item::HandoffCall(call) => Some(call),
        _ => None,
    });

    // Function tools of this turn, run concurrently on this task.
    let tool_calls: Vec<&ToolCall> = calls
        .iter()
        .filter_map(|item| match &**item {
            Item::ToolCall(call) => Some(call),
            _ => None,
        })
        .collect();
    let results = {
        let ctx = &state.ctx;
        join_all(
            tool_calls
                .iter()
                .map(|call| run_tool_call(agent, ctx, call, config.tool_timeout)),
        )
        .await
    };

    let mut results = results.into_iter();
    let mut refused = false;
    let mut first_failure = None;
    let mut stop_output: Option<String> = None;
    for item in calls {
        match &**item {
            Item::ToolCall(call) => {
                let result = results.next().unwrap_or_else(|| {
                    Err(ToolFailure::Failed {
                        tool: call.name.clone(),
                        message: "no result".to_owned(),
                    })
                });
                let (output, is_error) = match result {
                    Ok(output) => (output, false),
                    Err(failure) => {
                        let text = failure.to_string();
                        if first_failure.is_none() {
                            first_failure = Some((call.call_id.clone(), failure));
                        }
                        (text, true)
                    }
                };
                let stops_here = match &agent.tool_use_behavior {
                    ToolUseBehavior::RunLlmAgain => false,
                    ToolUseBehavior::StopOnFirstTool => true,
                    ToolUseBehavior::StopAtTools(names) => names.contains(&call.name),
                };
                if stops_here && stop_output.is_none() {
                    stop_output = Some(output.clone());
                }
                state.push(Arc::new(Item::ToolOutput(ToolOutput {
                    call_id: call.call_id.clone(),
                    output,
                    is_error,
                })));
            }
            Item::HandoffCall(call) => {
                let is_winner = winner.is_some_and(|w| std::ptr::eq(w, call));
                let output = if is_winner {
                    let handoff = agent.handoff(&call.name);
                    let target = handoff
                        .map(|h| Arc::clone(&h.target_name))
                        .unwrap_or_else(|| Arc::from(call.name.as_str()));
                    let refusal = match handoff.and_then(|h| h.on_handoff.as_ref()) {
                        Some(on_handoff) => on_handoff(&state.ctx, &call.arguments).err(),
                        None => None,
                    };
                    match refusal {
                        None => HandoffOutput {
                            call_id: call.call_id.clone(),
                            from_agent: agent.name.to_string(),
                            to_agent: Some(target.to_string()),
                            output: handoff_accepted(&target),
                        },
                        Some(reason) => {
                            refused = true;
                            HandoffOutput {
                                call_id: call.call_id.clone(),
                                from_agent: agent.name.to_string(),
                                to_agent: None,
                                output: format!(
                                    "error: invalid handoff input for `{}`: {reason}",
                                    call.name
                                ),
                            }
                        }
                    }
                } else {
                    HandoffOutput {
                        call_id: call.call_id.clone(),
                        from_agent: agent.name.to_string(),
                        to_agent: None,
                        output: format!(
                            "error: several handoffs were requested in one response; only the first (`{}`) was carried out",
                            winner.map_or("", |w| w.name.as_str())
                        ),
                    }
                };
                state.push(Arc::new(Item::HandoffOutput(output)));
            }
            _ => {}
        }
    }

    if config.tool_error_policy == ToolErrorPolicy::FailRun {
        if let Some((call_id, failure)) = first_failure {
            return Some(Stop::Tool {
                agent: agent.name.to_string(),
                call_id,
                failure,
            });
        }
    }

    if let Some(call) = winner.filter(|_| !refused) {
        if let Some(handoff) = agent.handoff(&call.name) {
            if let Some(filter) = &handoff.input_filter {
                let history = std::mem::take(&mut state.history);
                state.history = filter(history);
            }
            state.conversions.push(handoff.convert.clone());
            state.agent = handoff.target.resolve();
            state.ctx.agent = Arc::clone(&handoff.target_name);
            return None;
        }
    }

    stop_output.map(|output| parse_final(agent, &output))
}

fn parse_final<Ctx>(agent: &AgentCore<Ctx>, text: &str) -> Stop {
    match (agent.output.parse)(text) {
        Ok(mut output) => {
            for convert in &agent.output.conversions {
                output = match convert(output) {
                    Ok(output) => output,
                    // Unreachable: conversions are typed by the builder.
                    Err(output) => return Stop::Final(output),
                };
            }
            Stop::Final(output)
        }
        Err(source) => Stop::OutputParse {
            agent: agent.name.to_string(),
            output_type: agent.output.type_name,
            output: text.to_owned(),
            source,
        },
    }
}

/// A fresh run id: `run_` and 16 hex digits from the standard library's
/// randomly keyed hasher (no global state, no extra dependency).
fn new_run_id() -> Arc<str> {
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(u64::from(Instant::now().elapsed().subsec_nanos()));
    Arc::from(format!("run_{:016x}", hasher.finish()))
}
