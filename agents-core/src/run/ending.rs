//! How a run ends, and the one place an ending becomes the run's
//! [`RunResult`] or [`RunError`].

use std::sync::Arc;

use super::control::RunStatus;
use super::effects::Effects;
use super::error::{RunError, ToolFailure};
use super::live::LiveRun;
use super::result::{PartialRun, RunResult, ToleratedFailure};
use super::seal::StateGuard;
use super::state::{PendingApproval, RunState};
use crate::context::{BudgetLimit, RunConfig};
use crate::guardrail::GuardrailOutput;
use crate::item::{Item, RunItem};
use crate::model::{ModelError, ModelResponse};
use crate::session::SessionError;

/// Why the turn loop stopped; the partial run is attached in [`conclude`].
pub(super) enum Stop<Out> {
    Final(Out),
    MaxTurns,
    /// A structured agent's model refused to answer.
    Refusal {
        agent: String,
        refusal: String,
    },
    /// A policy refused the model call of this agent.
    PolicyDenied {
        agent: String,
        message: String,
    },
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
    /// Calls wait for a person's decision.
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
    /// Cancelled at a turn boundary (after the turn, by a handle).
    Cancelled,
    /// A budget limit was reached.
    Budget(BudgetLimit),
    /// An output conversion of the handoff chain failed.
    OutputType,
}

/// How the whole run ended: the loop stopped, or something outside it
/// stopped the loop.
pub(super) enum Ending<Out> {
    Stopped(Stop<Out>),
    Cancelled,
    /// A handle interrupted the run.
    Interrupted,
    TimedOut,
}

/// A fallback final output a handler gives for a run that would fail: one
/// that used up its turns ([`Run::on_max_turns`](super::Run::on_max_turns)),
/// whose final output does not parse
/// ([`Run::on_output_parse_error`](super::Run::on_output_parse_error)), or
/// whose structured agent's model refused ([`Run::on_refusal`](super::Run::on_refusal)). The
/// result is then [`Degraded`](super::RunStatus::Degraded).
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

/// A fallback final output, whatever the failure it replaces.
pub type FallbackOutput<Out> = MaxTurnsFallback<Out>;

/// Decides a fallback when a run exceeds its turn limit.
pub(crate) type MaxTurnsHandler<Out> =
    Box<dyn FnOnce(&PartialRun) -> Option<MaxTurnsFallback<Out>> + Send + Sync>;

/// Decides a fallback when the final output does not parse: given the
/// partial run and the text the model wrote.
pub(crate) type OutputParseHandler<Out> =
    Box<dyn FnOnce(&PartialRun, &str) -> Option<MaxTurnsFallback<Out>> + Send + Sync>;

/// Decides a fallback when a structured agent's model refuses: given the
/// partial run and the refusal.
pub(crate) type RefusalHandler<Out> =
    Box<dyn FnOnce(&PartialRun, &str) -> Option<MaxTurnsFallback<Out>> + Send + Sync>;

/// The handlers that may turn a failing run into a degraded result.
pub(crate) struct Handlers<Out> {
    pub(crate) max_turns: Option<MaxTurnsHandler<Out>>,
    pub(crate) output_parse: Option<OutputParseHandler<Out>>,
    pub(crate) refusal: Option<RefusalHandler<Out>>,
}

/// What sealing a paused run's state needs: the runner's key, the effects
/// that give the state's id and time, and the run's session.
pub(super) struct Sealing<'a, Ctx> {
    pub(super) guard: &'a StateGuard,
    pub(super) effects: &'a dyn Effects<Ctx>,
    pub(super) session_id: Option<&'a str>,
}

/// The run's outcome: every ending keeps the items produced so far.
pub(super) fn conclude<Ctx, Out>(
    mut live: LiveRun<Ctx>,
    ending: Ending<Out>,
    config: &RunConfig,
    handlers: Handlers<Out>,
    sealing: Sealing<'_, Ctx>,
) -> Result<RunResult<Out>, RunError> {
    if !matches!(
        ending,
        Ending::Stopped(Stop::Final(_) | Stop::Interrupted { .. })
    ) {
        // The run stopped early: no call is left without an output. A call
        // paused for approval stays open: it runs on resume.
        live.close_open_calls();
    }
    let stop = match ending {
        Ending::Interrupted => {
            return Err(RunError::Interrupted {
                partial: live.partial(),
            });
        }
        Ending::Cancelled => {
            return Err(RunError::Cancelled {
                partial: live.partial(),
            });
        }
        Ending::TimedOut => {
            return Err(RunError::Timeout {
                timeout: config.timeout,
                partial: live.partial(),
            });
        }
        Ending::Stopped(stop) => stop,
    };
    match stop {
        Stop::Final(output) => Ok(RunResult {
            final_output: output,
            run_id: Arc::clone(&live.ctx.run_id),
            input: live.input,
            status: status_of(&live.new_items, &live.raw_responses),
            new_items: live.new_items,
            last_agent: Arc::clone(&live.agent.name),
            usage: live.ctx.usage,
            usage_by_agent: live.usage_by_agent.into_map(),
            raw_responses: live.raw_responses,
            turns: live.ctx.turn,
            tool_executions: live.tool_executions,
            guardrail_results: live.guardrail_results,
            fallback: None,
        }),
        Stop::MaxTurns => {
            let partial = live.into_partial();
            match handlers.max_turns.and_then(|handler| handler(&partial)) {
                Some(fallback) => {
                    let failure = ToleratedFailure::MaxTurnsFallback {
                        turns: partial.turns,
                    };
                    Ok(fallback_result(partial, fallback, failure))
                }
                None => Err(RunError::MaxTurnsExceeded {
                    max_turns: config.max_turns,
                    partial: Box::new(partial),
                }),
            }
        }
        Stop::Refusal { agent, refusal } => {
            let partial = live.into_partial();
            match handlers
                .refusal
                .and_then(|handler| handler(&partial, &refusal))
            {
                Some(fallback) => {
                    let failure = ToleratedFailure::RefusalFallback { agent, refusal };
                    Ok(fallback_result(partial, fallback, failure))
                }
                None => Err(RunError::Refusal {
                    agent,
                    refusal,
                    partial: Box::new(partial),
                }),
            }
        }
        Stop::PolicyDenied { agent, message } => Err(RunError::PolicyDenied {
            agent,
            message,
            partial: live.partial(),
        }),
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
        } => {
            let partial = live.into_partial();
            match handlers
                .output_parse
                .and_then(|handler| handler(&partial, &output))
            {
                Some(fallback) => {
                    let failure = ToleratedFailure::OutputParseFallback {
                        agent,
                        output,
                        error: source.to_string(),
                    };
                    Ok(fallback_result(partial, fallback, failure))
                }
                None => Err(RunError::OutputParse {
                    agent,
                    output_type,
                    output,
                    source,
                    partial: Box::new(partial),
                }),
            }
        }
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
            // The rules in force go on, sealed; answers given before were
            // used up by the calls they answered.
            let rules = std::mem::take(&mut live.always);
            let mut state = RunState::from_partial(live.into_partial());
            state.pending_turn = pending_turn;
            state.pending = pending;
            state.rules = rules;
            let (state_id, now) = (sealing.effects.state_id(), sealing.effects.now());
            sealing
                .guard
                .seal(&mut state, &state_id, now, sealing.session_id);
            Err(RunError::ApprovalRequired {
                state: Box::new(state),
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
        Stop::Cancelled => Err(RunError::Cancelled {
            partial: live.partial(),
        }),
        Stop::Budget(limit) => Err(RunError::BudgetExceeded {
            limit,
            partial: live.partial(),
        }),
        Stop::Session(source) => Err(RunError::Session {
            source,
            partial: live.partial(),
        }),
        Stop::OutputType => Err(RunError::OutputType {
            agent: live.agent.name.to_string(),
            produced: live.agent.output.type_name,
            partial: live.partial(),
        }),
    }
}

fn fallback_result<Out>(
    mut partial: PartialRun,
    fallback: MaxTurnsFallback<Out>,
    failure: ToleratedFailure,
) -> RunResult<Out> {
    if let Some(message) = fallback.message {
        partial.new_items.push(RunItem {
            agent: Arc::clone(&partial.last_agent),
            item: Arc::new(Item::assistant(message)),
        });
    }
    RunResult {
        final_output: fallback.output,
        run_id: partial.run_id,
        input: partial.input,
        status: RunStatus::Degraded,
        fallback: Some(failure),
        new_items: partial.new_items,
        last_agent: partial.last_agent,
        usage: partial.usage,
        usage_by_agent: partial.usage_by_agent,
        raw_responses: partial.raw_responses,
        turns: partial.turns,
        tool_executions: partial.tool_executions,
        guardrail_results: partial.guardrail_results,
    }
}

/// `Degraded` when the run went on after a tool error output or a model
/// that failed over to another, `Completed` otherwise (a fallback output is
/// `Degraded` by itself).
fn status_of(items: &[RunItem], responses: &[ModelResponse]) -> RunStatus {
    let tool_failed = items
        .iter()
        .any(|item| matches!(&*item.item, Item::ToolOutput(output) if output.is_error));
    let failed_over = responses
        .iter()
        .any(|response| !response.failovers.is_empty());
    if tool_failed || failed_over {
        RunStatus::Degraded
    } else {
        RunStatus::Completed
    }
}
