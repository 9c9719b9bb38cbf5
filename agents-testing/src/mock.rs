//! The scripted mock model.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use agents_core::agent::{HandoffTo, NoInput};
use agents_core::model::{BoxFuture, BoxStream, ModelStreamEvent, ResponseAssembler};

/// The input type of a handoff that takes none ([`NoInput`]): what
/// [`Step::handoff_via`] requires.
#[diagnostic::on_unimplemented(
    message = "this handoff takes an input of type `{Self}`",
    label = "the handoff's `#[handoff(input = ...)]`",
    note = "script it with `Step::handoff_via_with::<Route, Agent>(input)`, giving the input"
)]
pub trait WithoutInput {}

impl WithoutInput for NoInput {}
use agents_core::{
    AgentDef, Item, Model, ModelError, ModelRequest, ModelResponse, TypedArgs, TypedTool, Usage,
    handoff_tool_name,
};

/// A tool call in a script: the tool's name and its JSON arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedCall {
    name: String,
    arguments: String,
}

/// A scripted call to the `#[tool]` tool `tool`, named by its type so a
/// typo does not compile.
///
/// `arguments` is either JSON (`json!({...})`), checked against the tool's
/// arguments type when the script is built, or typed arguments from the
/// `args` function `#[tool]` generates (`refund::args("A-1".into(), 500)`).
///
/// # Panics
/// When JSON arguments do not decode into the tool's arguments type: a
/// script that could never have come from a model following the schema is a
/// bug in the test. Use [`call_named`] to script malformed arguments.
#[track_caller]
pub fn call<T: TypedTool>(tool: T, arguments: impl IntoScriptArgs<T>) -> ScriptedCall {
    let _ = tool;
    ScriptedCall {
        name: T::NAME.to_owned(),
        arguments: arguments.into_arguments(),
    }
}

/// A scripted call to a tool by name, with any JSON value as arguments (a
/// string is sent as is, so malformed arguments can be scripted). For tools
/// defined at run time ([`FunctionTool`](agents_core::FunctionTool), agents as
/// tools) and for scripting mistakes; prefer [`call`] for `#[tool]` tools.
pub fn call_named(name: impl Into<String>, arguments: serde_json::Value) -> ScriptedCall {
    let arguments = match arguments {
        serde_json::Value::String(raw) => raw,
        other => other.to_string(),
    };
    ScriptedCall {
        name: name.into(),
        arguments,
    }
}

/// Arguments a script may give the tool `T`: JSON checked against its
/// arguments type, or [`TypedArgs<T>`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` are not arguments of the tool `{T}`",
    label = "expected `json!({{...}})` or `{T}::args(...)`",
    note = "scripted tool calls take JSON checked against the tool's parameters, or the typed arguments built by the tool's `args` function"
)]
pub trait IntoScriptArgs<T> {
    /// The arguments as the JSON text the model would send.
    fn into_arguments(self) -> String;
}

impl<T: TypedTool> IntoScriptArgs<T> for serde_json::Value {
    #[track_caller]
    fn into_arguments(self) -> String {
        // As a strict tool decodes them: unknown fields are errors too. The
        // common case (the arguments fit) is checked without tracking
        // paths; the exact error is worked out only when they do not.
        let mut unknown = false;
        let fits = serde_ignored::deserialize::<_, _, T::Args>(&self, |_| unknown = true).is_ok();
        if fits && !unknown {
            return self.to_string();
        }
        if let Err(error) = agents_core::tool::parse_strict_value::<T::Args>(self.clone()) {
            panic!(
                "scripted call to `{}`: {self} does not match the tool's parameters: {error}",
                T::NAME
            );
        }
        self.to_string()
    }
}

impl<T: TypedTool> IntoScriptArgs<T> for TypedArgs<T>
where
    T::Args: serde::Serialize,
{
    fn into_arguments(self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|error| {
            panic!(
                "scripted call to `{}`: arguments do not serialize: {error}",
                T::NAME
            )
        })
    }
}

enum Part {
    Text(String),
    Call(ScriptedCall),
    Item(Item),
}

enum Answer {
    Parts(Vec<Part>),
    Error(ModelError),
    Respond(Box<dyn FnOnce(&ModelRequest) -> Step + Send>),
    Stream(Vec<ModelStreamEvent>),
}

/// One scripted model response.
///
/// Steps combine with [`and`](Step::and): `Step::handoff::<Billing>().and(Step::text("..."))`
/// is one response holding a handoff call and a message.
pub struct Step {
    answer: Answer,
    usage: Usage,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Step {
    fn parts(parts: Vec<Part>) -> Self {
        Step {
            answer: Answer::Parts(parts),
            usage: Usage::default(),
        }
    }

    /// An assistant message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::parts(vec![Part::Text(text.into())])
    }

    /// An assistant message holding `value` as JSON: a structured output.
    pub fn json(value: serde_json::Value) -> Self {
        Self::parts(vec![Part::Text(value.to_string())])
    }

    /// One tool call by name (see [`call_named`]); for `#[tool]` tools prefer
    /// `Step::tool_calls([call(tool {}, ...)])`.
    pub fn tool_call(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self::tool_calls([call_named(name, arguments)])
    }

    /// Several tool calls in one response, in order.
    pub fn tool_calls(calls: impl IntoIterator<Item = ScriptedCall>) -> Self {
        Self::parts(calls.into_iter().map(Part::Call).collect())
    }

    /// A handoff to the agent type `A` (declared with `#[agent]`): a call
    /// to `transfer_to_<snake_case_name>`. A type that is not an agent does
    /// not compile. A handoff with a custom `#[handoff(tool_name = ..)]` or
    /// a typed input is scripted with [`handoff_via`](Self::handoff_via)
    /// (the mock reports this step as [`NotOffered`] there).
    pub fn handoff<A: AgentDef>() -> Self {
        Self::handoff_to(A::NAME)
    }

    /// A handoff to the agent type `A` passing `input`, for handoffs that
    /// take a typed input (`#[handoff(input = ...)]`).
    pub fn handoff_with<A: AgentDef>(input: serde_json::Value) -> Self {
        Self::handoff_with_input(A::NAME, input)
    }

    /// The handoff of the `#[derive(Handoffs)]` enum `R` to the agent type
    /// `A`, by the handoff's own tool name (a `#[handoff(tool_name = ..)]`
    /// included). Does not compile when `R` does not hand off to `A`, or
    /// when that handoff takes an input (use
    /// [`handoff_via_with`](Self::handoff_via_with)).
    pub fn handoff_via<R, A>() -> Self
    where
        R: HandoffTo<A>,
        R::Input: WithoutInput,
        A: AgentDef,
    {
        Self::parts(vec![Part::Call(ScriptedCall {
            name: R::tool_name(),
            arguments: "{}".to_owned(),
        })])
    }

    /// [`handoff_via`](Self::handoff_via) with the handoff's typed input
    /// (`#[handoff(input = T)]`).
    ///
    /// # Panics
    /// When `input` does not serialize to JSON (a `Serialize` impl that
    /// fails).
    pub fn handoff_via_with<R, A>(input: R::Input) -> Self
    where
        R: HandoffTo<A>,
        R::Input: serde::Serialize,
        A: AgentDef,
    {
        let arguments = serde_json::to_string(&input)
            .unwrap_or_else(|error| panic!("the handoff input does not serialize: {error}"));
        Self::parts(vec![Part::Call(ScriptedCall {
            name: R::tool_name(),
            arguments,
        })])
    }

    /// A handoff to the agent named `agent`, for agents built at run time.
    pub fn handoff_to(agent: &str) -> Self {
        Self::handoff_with_input(agent, serde_json::json!({}))
    }

    /// A handoff to the agent named `agent` passing `input` (for handoffs
    /// that take a typed input).
    pub fn handoff_with_input(agent: &str, input: serde_json::Value) -> Self {
        Self::parts(vec![Part::Call(ScriptedCall {
            name: handoff_tool_name(agent),
            arguments: input.to_string(),
        })])
    }

    /// The model refuses, explaining why ([`Item::Refusal`]).
    pub fn refusal(content: impl Into<String>) -> Self {
        Self::items([Item::Refusal {
            content: content.into(),
        }])
    }

    /// Arbitrary output items (e.g. reasoning).
    pub fn items(items: impl IntoIterator<Item = Item>) -> Self {
        Self::parts(items.into_iter().map(Part::Item).collect())
    }

    /// The model call fails with `error`.
    pub fn error(error: ModelError) -> Self {
        Step {
            answer: Answer::Error(error),
            usage: Usage::default(),
        }
    }

    /// The answer is computed from the request the model received.
    pub fn respond(f: impl FnOnce(&ModelRequest) -> Step + Send + 'static) -> Self {
        Step {
            answer: Answer::Respond(Box::new(f)),
            usage: Usage::default(),
        }
    }

    /// A streamed answer: [`Model::stream`] yields exactly these events and
    /// [`Model::call`] returns what they assemble into (an error if they do
    /// not end with `Completed`).
    pub fn stream(events: impl IntoIterator<Item = ModelStreamEvent>) -> Self {
        Step {
            answer: Answer::Stream(events.into_iter().collect()),
            usage: Usage::default(),
        }
    }

    /// Sets the usage the response reports.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// This step's output followed by `other`'s, as one response. Only
    /// output steps (text, JSON, calls, handoffs, items) combine.
    ///
    /// # Panics
    /// When either step is not an output step (an error, a stream, a
    /// `respond` closure): one response cannot be both, and silently
    /// dropping one would hide a mistake in the test.
    #[track_caller]
    pub fn and(mut self, other: Step) -> Self {
        let other_kind = other.describe();
        match (&mut self.answer, other.answer) {
            (Answer::Parts(mine), Answer::Parts(theirs)) => {
                mine.extend(theirs);
                self.usage += other.usage;
                self
            }
            _ => panic!(
                "Step::and combines output steps (text, JSON, calls, handoffs, items) only: \
                 cannot combine `{}` with `{other_kind}`; script them as two steps",
                self.describe()
            ),
        }
    }

    fn describe(&self) -> String {
        match &self.answer {
            Answer::Parts(parts) => {
                let parts: Vec<String> = parts
                    .iter()
                    .map(|part| match part {
                        Part::Text(text) => format!("text {text:?}"),
                        Part::Call(call) => format!("call {}({})", call.name, call.arguments),
                        Part::Item(item) => format!("item {item:?}"),
                    })
                    .collect();
                parts.join(" + ")
            }
            Answer::Error(error) => format!("error ({error})"),
            Answer::Respond(_) => "respond(closure)".to_owned(),
            Answer::Stream(events) => format!("stream of {} events", events.len()),
        }
    }
}

struct Inner {
    steps: VecDeque<Step>,
    total_steps: usize,
    requests: Vec<ModelRequest>,
    next_call_id: u64,
    check_on_drop: bool,
    /// Whether a scripted call may name a tool the request does not offer.
    allow_unknown_tools: bool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.check_on_drop && !self.steps.is_empty() && !std::thread::panicking() {
            panic!("{}", unconsumed_message(self));
        }
    }
}

fn unconsumed_message(inner: &Inner) -> String {
    let left: Vec<String> = inner
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            format!(
                "  step {}: {}",
                inner.total_steps - inner.steps.len() + i + 1,
                step.describe()
            )
        })
        .collect();
    format!(
        "mock model: {} of {} scripted steps were never used (the model was called {} times):\n{}",
        inner.steps.len(),
        inner.total_steps,
        inner.requests.len(),
        left.join("\n")
    )
}

/// A deterministic model that answers from a script, for offline tests.
///
/// Strict, like tokio-test's mock I/O: a call after the script ends is a
/// [`ModelError`] naming the call (so the run ends with the partial run);
/// [`assert_complete`](MockModel::assert_complete) fails on unused steps, and
/// so does dropping the last handle of a model with unused steps (unless
/// [`allow_unused_steps`](MockModel::allow_unused_steps) was called). Every
/// request is recorded. Clones share the script, so a test keeps one handle
/// and gives another to the runner.
///
/// Tool call ids are `call_1`, `call_2`, ... and response ids `resp_1`,
/// `resp_2`, ... in call order.
#[derive(Clone)]
pub struct MockModel {
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for MockModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("MockModel")
            .field("steps_left", &inner.steps.len())
            .field("calls", &inner.requests.len())
            .finish()
    }
}

impl MockModel {
    /// A model answering with `steps`, one per call, in order.
    pub fn script(steps: impl IntoIterator<Item = Step>) -> Self {
        let steps: VecDeque<Step> = steps.into_iter().collect();
        MockModel {
            inner: Arc::new(Mutex::new(Inner {
                total_steps: steps.len(),
                steps,
                requests: Vec::new(),
                next_call_id: 1,
                check_on_drop: true,
                allow_unknown_tools: false,
            })),
        }
    }

    /// Appends steps to the script.
    pub fn push(&self, steps: impl IntoIterator<Item = Step>) {
        let mut inner = self.lock();
        let before = inner.steps.len();
        inner.steps.extend(steps);
        inner.total_steps += inner.steps.len() - before;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.lock().requests.clone()
    }

    /// The number of calls received so far.
    pub fn calls(&self) -> usize {
        self.lock().requests.len()
    }

    /// The number of steps not used yet.
    pub fn remaining(&self) -> usize {
        self.lock().steps.len()
    }

    /// Turns off the check on drop, for tests that stop a run before its
    /// script ends on purpose.
    pub fn allow_unused_steps(&self) -> &Self {
        self.lock().check_on_drop = false;
        self
    }

    /// Lets scripted calls name tools (or handoffs) the request does not
    /// offer, or pass arguments that do not fit their parameters, for
    /// tests of those paths. By default such a call fails the model call
    /// with [`NotOffered`] or [`ArgumentsDoNotFit`](crate::ArgumentsDoNotFit).
    pub fn allow_unknown_tools(&self) -> &Self {
        self.lock().allow_unknown_tools = true;
        self
    }

    /// Panics, listing them, if any scripted step was not used.
    #[track_caller]
    pub fn assert_complete(&self) {
        let inner = self.lock();
        if !inner.steps.is_empty() {
            let message = unconsumed_message(&inner);
            drop(inner);
            panic!("{message}");
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock (e.g. in a `respond` closure) must
        // not hide the script from later assertions.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the request and takes the next step, or names the call that
    /// had no step.
    fn next(&self, request: &ModelRequest) -> Result<(Step, u64), ModelError> {
        let mut inner = self.lock();
        inner.requests.push(request.clone());
        let number = inner.requests.len();
        match inner.steps.pop_front() {
            Some(step) => Ok((step, number as u64)),
            None => Err(ModelError::custom(UnexpectedCall {
                number: number as u64,
                request: request.clone(),
                script_steps: inner.total_steps,
            })),
        }
    }

    fn materialize(
        &self,
        step: Step,
        request: &ModelRequest,
        number: u64,
    ) -> Result<Resolved, ModelError> {
        let usage = step.usage;
        match step.answer {
            Answer::Parts(parts) => {
                let mut inner = self.lock();
                if !inner.allow_unknown_tools {
                    let unknown = parts.iter().find_map(|part| match part {
                        Part::Call(call)
                            if !request.tools.iter().any(|tool| tool.name == call.name) =>
                        {
                            Some(call.name.clone())
                        }
                        Part::Item(Item::ToolCall(call) | Item::HandoffCall(call))
                            if !request.tools.iter().any(|tool| tool.name == call.name) =>
                        {
                            Some(call.name.clone())
                        }
                        _ => None,
                    });
                    if let Some(tool) = unknown {
                        return Err(ModelError::custom(NotOffered {
                            number,
                            agent: request.agent.to_string(),
                            tool,
                            offered: request.tools.iter().map(|t| t.name.clone()).collect(),
                        }));
                    }
                    let misfit = parts.iter().find_map(|part| {
                        let (name, arguments) = match part {
                            Part::Call(call) => (&call.name, &call.arguments),
                            Part::Item(Item::ToolCall(call) | Item::HandoffCall(call)) => {
                                (&call.name, &call.arguments)
                            }
                            _ => return None,
                        };
                        let tool = request.tools.iter().find(|tool| &tool.name == name)?;
                        crate::fits::misfit(tool, arguments).map(|problem| (name.clone(), problem))
                    });
                    if let Some((tool, problem)) = misfit {
                        return Err(ModelError::custom(crate::fits::ArgumentsDoNotFit {
                            number,
                            tool,
                            problem,
                        }));
                    }
                }
                let output = parts
                    .into_iter()
                    .map(|part| match part {
                        Part::Text(text) => Item::assistant(text),
                        Part::Call(call) => {
                            let id = inner.next_call_id;
                            inner.next_call_id += 1;
                            Item::tool_call(format!("call_{id}"), call.name, call.arguments)
                        }
                        Part::Item(item) => item,
                    })
                    .collect();
                Ok(Resolved::Response(
                    ModelResponse::new(output)
                        .with_usage(usage)
                        .with_response_id(format!("resp_{number}")),
                ))
            }
            Answer::Error(error) => Err(error),
            Answer::Respond(f) => {
                let step = f(request);
                self.materialize(step, request, number)
            }
            Answer::Stream(events) => Ok(Resolved::Stream(events)),
        }
    }
}

enum Resolved {
    Response(ModelResponse),
    Stream(Vec<ModelStreamEvent>),
}

impl Model for MockModel {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        let result = self.next(&request).and_then(|(step, number)| {
            match self.materialize(step, &request, number)? {
                Resolved::Response(response) => Ok(response),
                Resolved::Stream(events) => {
                    let mut assembler = ResponseAssembler::new();
                    for event in events {
                        assembler.push(event)?;
                    }
                    assembler.finish()
                }
            }
        });
        Box::pin(std::future::ready(result))
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        match self
            .next(&request)
            .and_then(|(step, number)| self.materialize(step, &request, number))
        {
            Ok(Resolved::Stream(events)) => {
                Box::pin(futures::stream::iter(events.into_iter().map(Ok)))
            }
            Ok(Resolved::Response(response)) => Box::pin(futures::stream::once(
                std::future::ready(Ok(ModelStreamEvent::Response(Box::new(response)))),
            )),
            Err(error) => Box::pin(futures::stream::once(std::future::ready(Err(error)))),
        }
    }
}

/// A scripted call of a tool or handoff the request it answers does not
/// offer (the agent lacks it, or it is disabled on that turn): the model
/// call fails with [`ModelError::Custom`] holding this, so a script that
/// does not fit the agent fails the test instead of passing through an
/// "unknown tool" output. Opt out with
/// [`MockModel::allow_unknown_tools`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotOffered {
    /// Which call it was, from 1.
    pub number: u64,
    /// The agent the request was for.
    pub agent: String,
    /// The tool the script named.
    pub tool: String,
    /// The tools and handoffs the request offered.
    pub offered: Vec<String>,
}

impl std::fmt::Display for NotOffered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let offered = if self.offered.is_empty() {
            "none".to_owned()
        } else {
            self.offered.join(", ")
        };
        write!(
            f,
            "mock model: call #{} scripts a call of `{}`, which agent `{}` does not offer in this request \
             (offered: {offered}); fix the script or the agent, or use `allow_unknown_tools()` to test the unknown-tool path",
            self.number, self.tool, self.agent
        )
    }
}

impl std::error::Error for NotOffered {}

/// A call to a [`MockModel`] past the end of its script: the run fails with
/// [`ModelError::Custom`] holding this, which a test matches with
/// `error.downcast_ref::<UnexpectedCall>()`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UnexpectedCall {
    /// Which call it was, from 1.
    pub number: u64,
    /// The request the model received.
    pub request: ModelRequest,
    /// How many steps the script had (all used).
    pub script_steps: usize,
}

impl std::fmt::Display for UnexpectedCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mock model: unexpected call #{} (agent `{}`, {} input items, last: {}): the script had {} steps and all were used",
            self.number,
            self.request.agent,
            self.request.input.len(),
            self.request
                .input
                .last()
                .map_or_else(|| "none".to_owned(), |item| format!("{item:?}")),
            self.script_steps,
        )
    }
}

impl std::error::Error for UnexpectedCall {}
