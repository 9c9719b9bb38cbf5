//! What a run is started with beside its agent, context and configuration.

use std::sync::Arc;

use super::control::RunControl;
use super::effects::Effects;
use super::ending::{MaxTurnsHandler, OutputParseHandler, RefusalHandler};
use super::state::RunState;
use super::stream::EventSender;
use crate::guardrail::{InputGuardrail, OutputGuardrail, ToolGuardrail};
use crate::hooks::DynRunHooks;
use crate::item::Item;
use crate::model::ModelSettings;
use crate::policy::SharedPolicy;
use crate::session::Session;
use crate::tool::SharedOutputFilter;

/// What a run has beside its agent: run-level hooks and guardrails, its
/// session, its stream and its effects.
pub(crate) struct RunExtras<Ctx, Out> {
    pub(crate) hooks: Vec<Arc<dyn DynRunHooks<Ctx>>>,
    pub(crate) input_guardrails: Vec<InputGuardrail<Ctx>>,
    pub(crate) output_guardrails: Vec<OutputGuardrail<Ctx, Out>>,
    pub(crate) tool_guardrails: Vec<ToolGuardrail<Ctx>>,
    pub(crate) max_turns_handler: Option<MaxTurnsHandler<Out>>,
    pub(crate) output_parse_handler: Option<OutputParseHandler<Out>>,
    pub(crate) refusal_handler: Option<RefusalHandler<Out>>,
    pub(crate) session: Option<Arc<dyn Session>>,
    pub(crate) session_limit: Option<usize>,
    /// Where a streamed run reports its events.
    pub(crate) events: Option<EventSender>,
    /// Model settings for one agent in this run, by agent name.
    pub(crate) agent_settings: Vec<(String, ModelSettings)>,
    /// The effect seam; `None` is [`InProcess`](super::InProcess).
    pub(crate) effects: Option<Arc<dyn Effects<Ctx>>>,
    /// A handle's requests (pause, stop after the turn, cancel and
    /// interrupt now); `None` for a run without a handle.
    pub(crate) control: Option<Arc<RunControl>>,
    /// Whether a streamed run also sends every model stream event as is.
    pub(crate) raw_model_events: bool,
    /// Output filters, policies and a server-managed conversation; boxed,
    /// and absent for the many runs without any, to keep a run small.
    pub(crate) governance: Option<Box<Governance<Ctx>>>,
}

/// A run's output filters, policies and server-managed conversation.
pub(crate) struct Governance<Ctx> {
    /// Output filters of the runner, then of the run.
    pub(crate) output_filters: Vec<SharedOutputFilter>,
    /// The runner's policies (asked first).
    pub(crate) runner_policies: Vec<SharedPolicy<Ctx>>,
    /// This run's policies (asked last, after the agent's).
    pub(crate) policies: Vec<SharedPolicy<Ctx>>,
    /// A server-managed conversation, if the run uses one.
    pub(crate) server_conversation: ServerConversation,
}

impl<Ctx> Default for Governance<Ctx> {
    fn default() -> Self {
        Governance {
            output_filters: Vec::new(),
            runner_policies: Vec::new(),
            policies: Vec::new(),
            server_conversation: ServerConversation::default(),
        }
    }
}

/// Nothing, for runs without governance.
const NO_SERVER_CONVERSATION: &ServerConversation = &ServerConversation {
    previous_response_id: None,
    auto_previous: false,
    conversation_id: None,
};

impl<Ctx, Out> Default for RunExtras<Ctx, Out> {
    fn default() -> Self {
        RunExtras {
            hooks: Vec::new(),
            input_guardrails: Vec::new(),
            output_guardrails: Vec::new(),
            tool_guardrails: Vec::new(),
            max_turns_handler: None,
            output_parse_handler: None,
            refusal_handler: None,
            session: None,
            session_limit: None,
            events: None,
            agent_settings: Vec::new(),
            effects: None,
            control: None,
            raw_model_events: false,
            governance: None,
        }
    }
}

impl<Ctx, Out> RunExtras<Ctx, Out> {
    /// The policies on `agent`'s actions, in the order they are asked: the
    /// runner's, the agent's, the run's.
    pub(super) fn policies_for<'a>(
        &'a self,
        agent: &'a crate::agent::AgentCore<Ctx>,
    ) -> impl Iterator<Item = &'a SharedPolicy<Ctx>> + Clone {
        let (runner, run): (&[SharedPolicy<Ctx>], &[SharedPolicy<Ctx>]) = match &self.governance {
            Some(governance) => (&governance.runner_policies, &governance.policies),
            None => (&[], &[]),
        };
        runner.iter().chain(&agent.policies).chain(run)
    }

    /// Whether any policy may be asked.
    pub(super) fn has_policies(&self, agent: &crate::agent::AgentCore<Ctx>) -> bool {
        let none_here = self.governance.as_ref().is_none_or(|governance| {
            governance.runner_policies.is_empty() && governance.policies.is_empty()
        });
        !(none_here && agent.policies.is_empty())
    }

    /// The output filters of the runner, then of the run.
    pub(super) fn output_filters(&self) -> &[SharedOutputFilter] {
        self.governance
            .as_ref()
            .map_or(&[], |governance| &governance.output_filters)
    }

    /// The run's server-managed conversation (off for most runs).
    pub(super) fn server_conversation(&self) -> &ServerConversation {
        self.governance
            .as_ref()
            .map_or(NO_SERVER_CONVERSATION, |governance| {
                &governance.server_conversation
            })
    }

    /// The governance to add to, made on first use.
    pub(super) fn governance_mut(&mut self) -> &mut Governance<Ctx> {
        self.governance.get_or_insert_with(Box::default)
    }

    /// The settings this run gives `agent`, over `base`.
    pub(super) fn settings_for(&self, agent: &str, base: ModelSettings) -> ModelSettings {
        match self.agent_settings.iter().find(|(name, _)| name == agent) {
            Some((_, overrides)) => base.merge(overrides),
            None => base,
        }
    }
}

/// How a run uses a server-managed conversation (the Responses API).
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerConversation {
    /// The response the first request continues.
    pub(crate) previous_response_id: Option<String>,
    /// Chain each request to the previous turn's response.
    pub(crate) auto_previous: bool,
    /// The conversation every request belongs to.
    pub(crate) conversation_id: Option<String>,
}

impl ServerConversation {
    /// Whether the server keeps the conversation (send only new items).
    pub(crate) fn is_on(&self) -> bool {
        self.previous_response_id.is_some() || self.auto_previous || self.conversation_id.is_some()
    }

    /// Whether each request names the previous turn's response (not with
    /// a conversation id, which the server follows by itself).
    pub(crate) fn chains(&self) -> bool {
        self.conversation_id.is_none()
    }
}

/// Where a run starts.
pub(crate) enum Start {
    Input(Vec<Arc<Item>>),
    Resume(Box<RunState>),
}
