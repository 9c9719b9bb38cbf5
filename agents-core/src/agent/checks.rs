//! Compile-time checks of a handoff's target: traits whose only job is a
//! clear error when a handoff leads to an agent of another context, or to
//! an agent whose output the handing-off agent cannot give as its own.
//! Every agent declared with `#[agent]` implements them where it fits.

use super::def::AgentDef;

/// An agent that runs on the context `Ctx`: what a handoff target of an
/// agent with context `Ctx` must be (a handoff keeps the run's context).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an agent of context `{Ctx}`, the context of the agent handing off to it",
    label = "not an agent of context `{Ctx}`",
    note = "a handoff target is an `#[agent]` of the handing-off agent's context (a handoff keeps the run's context): give `{Self}` `context = {Ctx}`, or give both agents one context type that holds what each needs"
)]
pub trait HandoffContext<Ctx>: AgentDef<Context = Ctx> {}

#[diagnostic::do_not_recommend]
impl<A, Ctx> HandoffContext<Ctx> for A where A: AgentDef<Context = Ctx> {}

/// An agent whose output converts into `Out`, the output of the agent
/// handing off to it: a run ends with the last agent's output, given as
/// the first agent's output type.
#[diagnostic::on_unimplemented(
    message = "the output of `{Self}` does not convert into `{Out}`, the output of the agent handing off to it",
    label = "`{Self}`'s output does not convert into `{Out}`",
    note = "a run ends with the output of the agent that answers last: give the agent handing off `convert_output = Reply` (an enum with `From` impls for `{Out}` and `{Self}`'s output), or make the outputs the same type"
)]
pub trait HandoffOutput<Out>: AgentDef {
    /// The target's output as the handing-off agent's.
    fn into_handoff_output(output: Self::Output) -> Out;
}

#[diagnostic::do_not_recommend]
impl<A, Out> HandoffOutput<Out> for A
where
    A: AgentDef,
    A::Output: Into<Out>,
{
    fn into_handoff_output(output: Self::Output) -> Out {
        output.into()
    }
}

/// A function that writes an agent's instructions for each turn:
/// `fn(&RunContext<Ctx>) -> String` (what `instructions = f` takes).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an instructions function `fn(&RunContext<{Ctx}>) -> String`",
    label = "expected `fn(&RunContext<{Ctx}>) -> String`",
    note = "an `async fn` is named with the keyword: `instructions = async name`; a fixed text is a string literal"
)]
pub trait SyncInstructions<Ctx>: Send + Sync + 'static {
    /// The instructions for this turn.
    fn instructions(&self, ctx: &crate::context::RunContext<Ctx>) -> String;
}

#[diagnostic::do_not_recommend]
impl<Ctx, F> SyncInstructions<Ctx> for F
where
    F: Fn(&crate::context::RunContext<Ctx>) -> String + Send + Sync + 'static,
{
    fn instructions(&self, ctx: &crate::context::RunContext<Ctx>) -> String {
        self(ctx)
    }
}
