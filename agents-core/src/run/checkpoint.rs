//! Session reads and writes of a run, through the effect seam.

use std::sync::Arc;

use super::live::LiveRun;
use super::turn_loop::Env;
use crate::agent::AgentCore;
use crate::item::Item;
use crate::session::{Session, SessionError};

/// Stores the items not stored yet as one batch (a completed turn), with the
/// agent now holding the conversation; `exclude` stays out (a withheld
/// output).
pub(super) async fn checkpoint<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    exclude: Option<&Arc<Item>>,
) -> Result<(), SessionError> {
    let Some(session) = &env.extras.session else {
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
    let agent = Some(live.agent.name.to_string());
    env.effects.save_session(&**session, batch, agent).await?;
    live.saved = live.new_items.len();
    Ok(())
}

/// Loads a session's history in front of the new input, continues with the
/// agent that answered last (when the starting agent's graph reaches it),
/// and stores the new input at once.
pub(super) async fn open_session<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    session: &dyn Session,
    new_input: Vec<Arc<Item>>,
) -> Result<(), SessionError> {
    let stored = env
        .effects
        .load_session(session, env.extras.session_limit)
        .await?;
    let mut history = stored.items;
    history.extend(new_input.iter().cloned());
    live.input = history.clone();
    live.history = history;
    if let Some(last) = stored.last_agent {
        for tool_name in path_to(&live.agent, &last).unwrap_or_default() {
            let agent = Arc::clone(&live.agent);
            if let Some(handoff) = agent.handoff(&tool_name) {
                live.switch_to(handoff);
            }
        }
    }
    let agent = Some(live.agent.name.to_string());
    env.effects.save_session(session, new_input, agent).await
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
