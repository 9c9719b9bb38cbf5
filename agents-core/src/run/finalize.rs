//! The final output: parsed, checked, converted.

use std::sync::Arc;

use super::ending::Stop;
use super::events::Event;
use super::live::LiveRun;
use super::result::{GuardrailKind, GuardrailResult};
use super::turn_loop::Env;
use crate::agent::output::AnyOutput;
use crate::guardrail::GuardrailOutput;

/// The final output: parsed into the agent's type, checked by the agent's
/// output guardrails (each at the conversion stage it was declared for),
/// converted back through every handoff taken, checked by the run's output
/// guardrails.
pub(super) async fn finalize<Ctx: Send + Sync, Out: Send + 'static>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    text: &str,
) -> Stop<Out> {
    let agent = Arc::clone(&live.agent);
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
            let check = (guardrail.check)(&live.ctx, &*value);
            let result = checked(live, env, &guardrail.name, check).await;
            if let Some(stop) = record(live, result) {
                return stop;
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
    for guardrail in &env.extras.output_guardrails {
        let check = (guardrail.check)(&live.ctx, &output);
        let result = checked(live, env, &guardrail.name, check).await;
        if let Some(stop) = record(live, result) {
            return stop;
        }
    }
    let ended = Event::AgentEnded { output: text };
    env.events.emit(&live.ctx, &agent, ended).await;
    Stop::Final(output)
}

/// Runs one output guardrail's check in its own scope.
async fn checked<Ctx: Send + Sync, Out>(
    live: &LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    name: &str,
    check: impl Future<Output = GuardrailOutput>,
) -> GuardrailResult {
    let started = Event::GuardrailStarted {
        parent: None,
        name,
        kind: "output",
    };
    let scope = env.events.emit(&live.ctx, &live.agent, started).await;
    let output = scope.instrument(check).await;
    let triggered = output.tripwire_triggered;
    let ended = Event::GuardrailEnded {
        scope: &scope,
        triggered,
    };
    env.events.emit(&live.ctx, &live.agent, ended).await;
    GuardrailResult {
        guardrail: name.to_owned(),
        kind: GuardrailKind::Output,
        output,
    }
}

/// Keeps a guardrail's result on the run; a trip stops it.
fn record<Ctx, Out>(live: &mut LiveRun<Ctx>, result: GuardrailResult) -> Option<Stop<Out>> {
    let stop = result
        .output
        .tripwire_triggered
        .then(|| Stop::OutputTripwire {
            guardrail: result.guardrail.clone(),
            output: result.output.clone(),
        });
    live.guardrail_results.push(result);
    stop
}
