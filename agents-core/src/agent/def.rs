use super::Agent;

/// An agent declared as a type with `#[agent]`.
///
/// The type names the agent in handoff enums and test scripts
/// (`Step::handoff::<Billing>()`), so a typo or a wrong type does not
/// compile. [`agent`](AgentDef::agent) builds the agent once per process and
/// hands out cheap clones.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an agent type",
    label = "not declared with `#[agent]`",
    note = "declare it with `#[agent(context = ..., instructions = ...)]` on a struct"
)]
pub trait AgentDef: Send + Sync + 'static {
    /// The run context type of the agent's tools and handoffs.
    type Context: Send + Sync + 'static;
    /// The agent's final output type.
    type Output: Send + 'static;
    /// The agent's name.
    const NAME: &'static str;
    /// What other agents' models read about a handoff to this agent.
    const HANDOFF_DESCRIPTION: Option<&'static str> = None;

    /// The agent (built on first call, then shared).
    fn agent() -> Agent<Self::Context, Self::Output>;
}
