//! The start of a turn: its events, and the request for the model.

use std::sync::Arc;

use super::events::Event;
use super::live::LiveRun;
use super::turn_loop::Env;
use crate::model::{ModelRequest, ToolChoice};

/// Starts a turn: the agent's start (once per agent in a row), the turn
/// counter, the turn's event.
pub(super) async fn begin_turn<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
) {
    let agent = Arc::clone(&live.agent);
    if live.started.as_deref() != Some(&*agent.name) {
        live.started = Some(Arc::clone(&agent.name));
        env.events
            .emit(&live.ctx, &agent, Event::AgentStarted)
            .await;
    }
    live.ctx.turn += 1;
    let turn = live.ctx.turn;
    env.events
        .emit(&live.ctx, &agent, Event::TurnStarted { turn })
        .await;
}

/// The current agent's request: its instructions (resolved now), the
/// history, its tools and output schema, and its model settings merged
/// over the run's and under this run's settings for that agent; a forced
/// tool choice is dropped once the agent has run tools (unless the agent
/// opts out, `reset_tool_choice(false)`).
pub(super) async fn build_request<Ctx: Send + Sync, Out>(
    live: &LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
) -> ModelRequest {
    let agent = &live.agent;
    let settings = agent.model_settings.merge(&env.config.model_settings);
    let mut settings = env.extras.settings_for(&agent.name, settings);
    let forced = matches!(
        settings.tool_choice,
        Some(ToolChoice::Required | ToolChoice::Tool(_))
    );
    if forced && agent.reset_tool_choice && live.used_tools.contains(&agent.name) {
        // The agent ran tools: let it answer now.
        settings.tool_choice = None;
    }
    let mut instructions = agent.instructions.resolve(&live.ctx).await;
    let notes: Vec<&str> = agent
        .output_filters
        .iter()
        .map(|(_, filter)| filter)
        .chain(env.extras.output_filters())
        .filter_map(|filter| filter.instructions())
        .collect();
    if !notes.is_empty() {
        // What the filters tell the model (e.g. how untrusted data is
        // marked), after the agent's own instructions.
        let mut text = instructions.as_deref().unwrap_or_default().to_owned();
        for note in notes {
            if !text.contains(note) {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(note);
            }
        }
        instructions = Some(Arc::from(text));
    }
    // A server-managed conversation: the server has every item up to the
    // last response; send the new ones, naming that response.
    let server = env.extras.server_conversation();
    let (input, previous_response_id) = if server.is_on() {
        let previous = match live.raw_responses.last() {
            Some(last) if server.chains() => last.response_id.clone(),
            Some(_) => None,
            None => server.previous_response_id.clone(),
        };
        (
            live.history[live.server_mark.min(live.history.len())..].to_vec(),
            previous,
        )
    } else {
        (live.history.clone(), None)
    };
    ModelRequest {
        agent: Arc::clone(&agent.name),
        model: agent.model.clone(),
        instructions,
        input,
        tools: agent.offered_definitions(&live.ctx),
        output_schema: agent.output.schema.clone(),
        settings,
        previous_response_id,
        conversation_id: server.conversation_id.clone(),
    }
}
