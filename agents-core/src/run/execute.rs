//! A run from start to end: set up, run the turn loop against the deadline
//! and the cancellation token, conclude.

use std::sync::{Arc, PoisonError};

use tokio_util::sync::CancellationToken;

use super::Run;
use super::checkpoint::{checkpoint, open_session};
use super::control::{Halt, RunControl};
use super::effects::{Effects, InProcess};
use super::ending::{Ending, Handlers, Sealing, Stop, conclude};
use super::error::RunError;
use super::events::{Event, Observers};
use super::live::LiveRun;
use super::result::RunResult;
use super::setup::Start;
use super::start::resume;
use super::trace::TraceGroup;
use super::turn_loop::{Env, run_loop};
use crate::context::{RunContext, RunTree, Runtime, top_level_path};
use crate::item::Item;

/// Where a run sits: the top-level run, or a nested run of an agent used as
/// a tool inside the agents of `path`.
pub(super) struct Nesting {
    pub(super) depth: u32,
    pub(super) path: Arc<[Arc<str>]>,
    pub(super) tree: Arc<RunTree>,
}

impl Nesting {
    /// A run a runner started.
    pub(super) fn top() -> Self {
        Nesting {
            depth: 0,
            path: top_level_path(),
            tree: Arc::new(RunTree::new()),
        }
    }
}

/// Executes `run` where `nesting` says.
///
/// Not an `async fn`: the run is taken apart before the future is made, so
/// the future (which a parked run keeps alive) holds its parts, not a
/// second copy of the whole `Run`.
pub(super) fn execute<Ctx, Out>(
    run: Run<Ctx, Out>,
    nesting: Nesting,
) -> impl Future<Output = Result<RunResult<Out>, RunError>> + Send
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    let Run {
        model,
        agent,
        context,
        start,
        config,
        cancellation,
        mut extras,
        guard,
    } = run;
    let starting = agent.core;
    let config = Arc::new(config);
    // An async block, not an async fn: its captures are not copied into
    // locals a second time.
    async move {
        let custom = extras.effects.take();
        let effects: &dyn Effects<Ctx> = match &custom {
            Some(effects) => &**effects,
            None => &InProcess,
        };
        let deadline = effects.sleep(config.timeout);
        let events = Observers::new(
            std::mem::take(&mut extras.hooks),
            extras.events.take(),
            config.trace_sensitive_data,
        );
        let handlers = Handlers {
            max_turns: extras.max_turns_handler.take(),
            output_parse: extras.output_parse_handler.take(),
            refusal: extras.refusal_handler.take(),
        };
        let control = extras.control.clone();
        let ctx = RunContext {
            context,
            run_id: config.run_id.clone().unwrap_or_else(|| effects.run_id()),
            metadata: Arc::clone(&config.metadata),
            usage: Default::default(),
            agent: Arc::clone(&starting.name),
            turn: 0,
            runtime: Some(Runtime {
                model: Arc::clone(&model),
                config: Arc::clone(&config),
                depth: nesting.depth,
                path: nesting.path,
                tree: Arc::clone(&nesting.tree),
            }),
        };
        let env = Env {
            model: &*model,
            config: &config,
            extras: &extras,
            events: &events,
            effects,
        };
        let (mut live, pending_turn, resumed) = match start {
            Start::Input(input) => match &extras.session {
                Some(_) if extras.server_conversation().is_on() => {
                    let live = LiveRun::start(ctx, starting, input);
                    return Err(RunError::InvalidConfig {
                        message:
                            "a session and a server-managed conversation (previous_response_id, \
                              conversation_id) both keep the history: use one"
                                .to_owned(),
                        partial: live.partial(),
                    });
                }
                Some(session) => {
                    let mut live = LiveRun::start(ctx, starting, input.clone());
                    if let Err(source) = open_session(&mut live, &env, &**session, input).await {
                        let partial = live.partial();
                        return Err(RunError::Session { source, partial });
                    }
                    (live, Vec::new(), false)
                }
                None => (LiveRun::start(ctx, starting, input), Vec::new(), false),
            },
            Start::Resume(state) => {
                if let Err((kind, message)) = guard
                    .admit(&state, extras.session.as_deref(), effects)
                    .await
                {
                    return Err(RunError::InvalidState {
                        kind,
                        message,
                        partial: Box::new(state.run),
                    });
                }
                let (live, pending_turn) = resume(starting, ctx, *state)?;
                // The budget goes on from what the run spent before it stopped.
                let model_calls = u32::try_from(live.raw_responses.len()).unwrap_or(u32::MAX);
                let tool_calls = u32::try_from(live.tool_executions.len()).unwrap_or(u32::MAX);
                nesting
                    .tree
                    .spent
                    .resume_from(model_calls, tool_calls, &live.ctx.usage);
                (live, pending_turn, true)
            }
        };

        let group = TraceGroup {
            workflow: config.workflow_name.as_deref(),
            group_id: config.group_id.as_deref(),
            metadata: &config.trace_metadata,
        };
        let started = Event::RunStarted {
            starting_agent: &live.starting_agent,
            run_id: &live.ctx.run_id,
            group: &group,
        };
        let run_scope = events.emit(&live.ctx, &live.agent, started).await;
        let ending = {
            let turns = run_scope.instrument(run_and_save(&mut live, &env, pending_turn, resumed));
            tokio::select! {
                biased;
                () = signal(cancellation.as_ref()) => Ending::Cancelled,
                halt = halted(control.as_deref()) => match halt {
                    Halt::Cancel => Ending::Cancelled,
                    Halt::Interrupt => Ending::Interrupted,
                },
                stop = turns => Ending::Stopped(stop),
                () = deadline => Ending::TimedOut,
            }
        };
        let ended = Event::RunEnded {
            turns: live.ctx.turn,
            usage: live.ctx.usage,
        };
        events.emit(&live.ctx, &live.agent, ended).await;
        collect_executions(&mut live, nesting.depth, &nesting.tree);
        let session_id = extras.session.as_ref().map(|session| session.session_id());
        let sealing = Sealing {
            guard: &guard,
            effects,
            session_id,
        };
        conclude(live, ending, &config, handlers, sealing)
    }
}

/// Completes when `token` is cancelled; never without one.
async fn signal(token: Option<&CancellationToken>) {
    match token {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

/// Completes when the run's handle asks it to stop now; never without a
/// handle.
async fn halted(control: Option<&RunControl>) -> Halt {
    match control {
        Some(control) => control.halted().await,
        None => std::future::pending().await,
    }
}

/// A nested run leaves a copy of its tool executions for the top-level
/// run; the top-level run takes every nested run's into its own, by start
/// time.
fn collect_executions<Ctx>(live: &mut LiveRun<Ctx>, depth: u32, tree: &RunTree) {
    let mut shared = tree
        .executions
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if depth > 0 {
        shared.extend(live.tool_executions.iter().cloned());
    } else if !shared.is_empty() {
        live.tool_executions.append(&mut shared);
        live.tool_executions.sort_by_key(|record| record.started_at);
    }
}

/// The turn loop, then the last turn stored in the session (an output a
/// guardrail withheld stays out of it).
async fn run_and_save<Ctx: Send + Sync, Out: Send + 'static>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    pending_turn: Vec<Arc<Item>>,
    resumed: bool,
) -> Stop<Out> {
    let stop = run_loop(live, env, pending_turn, resumed).await;
    let exclude = match &stop {
        Stop::OutputTripwire { .. } => live
            .new_items
            .iter()
            .rev()
            .find(|i| matches!(*i.item, Item::AssistantMessage { .. }))
            .map(|i| Arc::clone(&i.item)),
        _ => None,
    };
    match checkpoint(live, env, exclude.as_ref()).await {
        Ok(()) => stop,
        Err(error) => Stop::Session(error),
    }
}
