//! Tools: functions the model can call.
//!
//! A tool is anything implementing [`Tool<Ctx>`]: `#[tool]` writes the impl
//! for a plain function, [`FunctionTool`] wraps a closure, and a hand-written
//! impl is a few lines. The runner stores tools type-erased as
//! [`DynTool<Ctx>`].

mod filter;
mod function;

use std::any::Any;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use filter::{OutputFilter, SharedOutputFilter, Truncate, Untrusted};
pub use function::FunctionTool;

use crate::context::RunContext;
use crate::model::BoxFuture;
/// Moved to [`model`](crate::model), which sends definitions to the model;
/// re-exported here where tools are defined.
pub use crate::model::ToolDefinition;

/// A tool usable by agents whose context type is `Ctx`.
///
/// A tool that does not read the context implements `Tool<Ctx>` for every
/// `Ctx`; one that does implements it for its context type only, so the
/// compiler rejects it on an agent of another context type.
///
/// ```
/// use agents_core::prelude::*;
/// use agents_core::tool::parse_arguments;
///
/// /// Adds two numbers.
/// struct Add;
///
/// #[derive(serde::Deserialize)]
/// struct AddArgs { a: i64, b: i64 }
///
/// impl<Ctx: Send + Sync + 'static> Tool<Ctx> for Add {
///     fn name(&self) -> &str { "add" }
///     fn description(&self) -> &str { "Adds two integers." }
///     fn parameters(&self) -> serde_json::Value {
///         serde_json::json!({
///             "type": "object",
///             "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
///             "required": ["a", "b"],
///             "additionalProperties": false
///         })
///     }
///     async fn call(&self, _ctx: &RunContext<Ctx>, arguments: &str) -> Result<String, ToolError> {
///         let args: AddArgs = parse_arguments(arguments)?;
///         Ok((args.a + args.b).to_string())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tool for agents whose context is `{Ctx}`",
    label = "not a `Tool<{Ctx}>`",
    note = "mark a function with `#[tool]`, or implement `agents_core::Tool<{Ctx}>`; a tool whose context parameter names another context type cannot be used here",
    note = "a `#[tool]` function's tool is the value `name {{}}`, not the function: `.tool(lookup_order {{}})`"
)]
pub trait Tool<Ctx>: Send + Sync + 'static {
    /// The name the model calls the tool by.
    fn name(&self) -> &str;

    /// What the tool does, shown to the model.
    fn description(&self) -> &str;

    /// JSON schema of the arguments object. Called once when the tool is
    /// added to an agent.
    fn parameters(&self) -> serde_json::Value;

    /// Whether the schema follows OpenAI's strict rules and the provider
    /// should enforce it. Default `false`.
    fn strict(&self) -> bool {
        false
    }

    /// Whether a person must approve each call before it runs (`#[tool(needs_approval)]`).
    /// Default `false`.
    fn needs_approval(&self) -> bool {
        false
    }

    /// Whether this call needs a person's approval: by default
    /// [`needs_approval`](Tool::needs_approval); a tool may decide from the
    /// arguments and the context (see [`with_approval`]).
    fn needs_approval_for(&self, ctx: &RunContext<Ctx>, arguments: &str) -> bool {
        let _ = (ctx, arguments);
        self.needs_approval()
    }

    /// Whether the tool is offered on this turn (default: always), asked
    /// before each model call: the model does not see a disabled tool, and
    /// a call to it anyway is an unknown-tool error output. See
    /// [`enabled_when`]. The OpenAI Agents SDK's `is_enabled`.
    fn is_enabled(&self, ctx: &RunContext<Ctx>) -> bool {
        let _ = ctx;
        true
    }

    /// Runs the tool with the raw JSON arguments the model wrote.
    ///
    /// The returned text goes to the model as the tool output.
    ///
    /// # Errors
    /// A [`ToolError`], sent to the model as an error output (or ending the
    /// run, per the run's [`ToolErrorPolicy`](crate::context::ToolErrorPolicy)).
    fn call(
        &self,
        ctx: &RunContext<Ctx>,
        arguments: &str,
    ) -> impl Future<Output = Result<String, ToolError>> + Send;

    /// The definition sent to the model.
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: self.name().to_owned(),
            description: self.description().to_owned(),
            parameters: self.parameters(),
            strict: self.strict(),
        }
    }
}

/// A tool whose name and argument type are known at compile time: every
/// `#[tool]` function's tool type. Test scripts use it to name tools by type
/// (`call(lookup_order {}, ...)`), so a typo does not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `#[tool]` function's tool",
    label = "not a `#[tool]` tool value",
    note = "pass the tool value `name {{}}` of a `#[tool]` function (`call(lookup_order {{}}, ...)`); for a tool made at run time (a `FunctionTool`, an MCP tool, an agent as a tool), script the call by name: `call_named(\"name\", json!({{...}}))`"
)]
pub trait TypedTool {
    /// The name the model calls the tool by.
    const NAME: &'static str;
    /// The decoded arguments (`Serialize` when every argument type is).
    type Args: DeserializeOwned;
}

/// Typed arguments of the tool `T`, built by the `args` function `#[tool]`
/// generates (`lookup_order::args("A-1001".into())`).
pub struct TypedArgs<T: TypedTool>(pub T::Args);

impl<T: TypedTool> std::fmt::Debug for TypedArgs<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TypedArgs").field(&T::NAME).finish()
    }
}

/// The object-safe form of [`Tool<Ctx>`] that agents store.
///
/// Implemented for every `Tool<Ctx>`; there is no reason to implement it by
/// hand.
pub trait DynTool<Ctx>: Send + Sync {
    /// See [`Tool::definition`].
    fn dyn_definition(&self) -> ToolDefinition;

    /// See [`Tool::needs_approval_for`].
    fn dyn_needs_approval(&self, ctx: &RunContext<Ctx>, arguments: &str) -> bool;

    /// See [`Tool::is_enabled`].
    fn dyn_is_enabled(&self, ctx: &RunContext<Ctx>) -> bool;

    /// See [`Tool::call`].
    fn dyn_call<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolError>>;
}

impl<Ctx, T: Tool<Ctx>> DynTool<Ctx> for T {
    fn dyn_definition(&self) -> ToolDefinition {
        self.definition()
    }

    fn dyn_needs_approval(&self, ctx: &RunContext<Ctx>, arguments: &str) -> bool {
        self.needs_approval_for(ctx, arguments)
    }

    fn dyn_is_enabled(&self, ctx: &RunContext<Ctx>) -> bool {
        self.is_enabled(ctx)
    }

    fn dyn_call<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(self.call(ctx, arguments))
    }
}

/// `tool`, needing a person's approval for the calls where `rule` says so
/// (a function of the context and the raw JSON arguments).
///
/// ```
/// use agents_core::prelude::*;
/// use agents_core::tool::with_approval;
///
/// /// Refund an order. Amount in cents.
/// #[tool]
/// fn refund(order_id: String, amount_cents: u32) -> String { format!("{order_id} {amount_cents}") }
///
/// // Refunds above 100.00 need a person.
/// let guarded = with_approval(refund {}, |_ctx: &RunContext<()>, arguments: &str| {
///     serde_json::from_str::<serde_json::Value>(arguments)
///         .ok()
///         .and_then(|v| v["amount_cents"].as_u64())
///         .is_none_or(|cents| cents > 10_000)
/// });
/// let agent = Agent::<()>::builder("Billing").tool(guarded).build()?;
/// # Ok::<(), agents_core::AgentError>(())
/// ```
pub fn with_approval<Ctx, T, F>(tool: T, rule: F) -> ApprovalTool<T, F>
where
    T: Tool<Ctx>,
    F: Fn(&RunContext<Ctx>, &str) -> bool + Send + Sync + 'static,
{
    ApprovalTool { tool, rule }
}

/// A tool whose calls need approval by a rule. Made by [`with_approval`].
#[derive(Debug, Clone)]
pub struct ApprovalTool<T, F> {
    tool: T,
    rule: F,
}

impl<Ctx, T, F> Tool<Ctx> for ApprovalTool<T, F>
where
    T: Tool<Ctx>,
    F: Fn(&RunContext<Ctx>, &str) -> bool + Send + Sync + 'static,
{
    fn name(&self) -> &str {
        self.tool.name()
    }
    fn description(&self) -> &str {
        self.tool.description()
    }
    fn parameters(&self) -> serde_json::Value {
        self.tool.parameters()
    }
    fn strict(&self) -> bool {
        self.tool.strict()
    }
    fn needs_approval(&self) -> bool {
        true
    }
    fn needs_approval_for(&self, ctx: &RunContext<Ctx>, arguments: &str) -> bool {
        (self.rule)(ctx, arguments)
    }
    fn is_enabled(&self, ctx: &RunContext<Ctx>) -> bool {
        self.tool.is_enabled(ctx)
    }
    fn call(
        &self,
        ctx: &RunContext<Ctx>,
        arguments: &str,
    ) -> impl Future<Output = Result<String, ToolError>> + Send {
        self.tool.call(ctx, arguments)
    }
}

/// Why a tool did not produce an output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The arguments were not valid JSON or did not match the schema. The
    /// message names the field path and the expected type.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The tool ran and failed.
    #[error("{0}")]
    Failed(String),
}

impl ToolError {
    /// A [`Failed`](ToolError::Failed) error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError::Failed(message.into())
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError::Failed(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError::Failed(message.to_owned())
    }
}

/// Decodes a tool's raw JSON arguments into `T`.
///
/// An empty string counts as `{}` (some servers send no arguments for a
/// tool without parameters).
///
/// # Errors
/// [`ToolError::InvalidArguments`] naming the path of the offending field and
/// what was expected, e.g. `amount_cents: invalid type: string "5", expected
/// u32`, or the position of a JSON syntax error.
pub fn parse_arguments<T: DeserializeOwned>(arguments: &str) -> Result<T, ToolError> {
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let mut de = serde_json::Deserializer::from_str(arguments);
    let value = serde_path_to_error::deserialize(&mut de).map_err(argument_error)?;
    de.end()
        .map_err(|err| ToolError::InvalidArguments(format!("malformed JSON: {err}")))?;
    Ok(value)
}

/// Like [`parse_arguments`], for a tool with a strict schema: properties
/// that are `null` are removed first, so a nullable stand-in for an optional
/// field decodes as the field being absent (see
/// [`to_strict`](crate::schema::to_strict)), and a property the schema does
/// not have is an error (a strict schema forbids additional properties).
///
/// # Errors
/// As [`parse_arguments`]; also [`ToolError::InvalidArguments`] naming an
/// unknown property (`unknown field `amount``).
pub fn parse_strict_arguments<T: DeserializeOwned>(arguments: &str) -> Result<T, ToolError> {
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let value: serde_json::Value = serde_json::from_str(arguments)
        .map_err(|err| ToolError::InvalidArguments(format!("malformed JSON: {err}")))?;
    parse_strict_value(value)
}

/// [`parse_strict_arguments`] for arguments already parsed as JSON.
///
/// # Errors
/// As [`parse_strict_arguments`].
pub fn parse_strict_value<T: DeserializeOwned>(
    mut value: serde_json::Value,
) -> Result<T, ToolError> {
    crate::schema::drop_null_properties(&mut value);
    let mut unknown = Vec::new();
    let decoded = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        value,
        &mut |path: serde_ignored::Path<'_>| unknown.push(path.to_string()),
    ))
    .map_err(argument_error)?;
    match unknown.first() {
        None => Ok(decoded),
        Some(path) => Err(ToolError::InvalidArguments(format!(
            "unknown field `{path}`: the tool's parameters do not have it"
        ))),
    }
}

fn argument_error(err: serde_path_to_error::Error<serde_json::Error>) -> ToolError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = if inner.is_syntax() || inner.is_eof() {
        format!("malformed JSON: {inner}")
    } else if path == "." {
        strip_position(&inner)
    } else {
        format!("{path}: {}", strip_position(&inner))
    };
    ToolError::InvalidArguments(message)
}

/// serde_json's data errors end with " at line L column C", which says
/// nothing useful to a model once the field path is given.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// A tool's return value on its way to the model, for
/// [`ToolOutputResult`] and [`ToolOutputValue`]: the macro calls
/// `(&&ToolReturn::new(value)).tool_output()`, and method resolution picks
/// the `Result` conversion whenever the type is a `Result` (through a type
/// alias too), by type, not by how its name is spelled.
#[doc(hidden)]
pub struct ToolReturn<T>(std::cell::Cell<Option<T>>);

impl<T> ToolReturn<T> {
    /// Wraps a tool's return value.
    pub fn new(value: T) -> Self {
        ToolReturn(std::cell::Cell::new(Some(value)))
    }

    fn take(&self) -> Result<T, ToolError> {
        self.0
            .take()
            .ok_or_else(|| ToolError::Failed("tool output already taken".to_owned()))
    }
}

/// The `Result` conversion of a tool's return value ([`result_to_string`]).
#[doc(hidden)]
pub trait ToolOutputResult {
    /// See [`ToolReturn`].
    fn tool_output(self) -> Result<String, ToolError>;
}

impl<T: Serialize + 'static, E: std::fmt::Display + 'static> ToolOutputResult
    for &&ToolReturn<Result<T, E>>
{
    fn tool_output(self) -> Result<String, ToolError> {
        result_to_string(self.take()?)
    }
}

/// The value conversion of a tool's return value ([`output_to_string`]).
#[doc(hidden)]
pub trait ToolOutputValue {
    /// See [`ToolReturn`].
    fn tool_output(self) -> Result<String, ToolError>;
}

impl<T: Serialize + 'static> ToolOutputValue for &ToolReturn<T> {
    fn tool_output(self) -> Result<String, ToolError> {
        output_to_string(self.take()?)
    }
}

/// Turns a tool's `Result` into the text sent to the model: `Ok` as
/// [`output_to_string`] does, `Err` as a [`ToolError`] (kept as is when it
/// already is one, its `Display` text otherwise).
///
/// # Errors
/// The tool's error, or [`ToolError::Failed`] when the value does not
/// serialize.
pub fn result_to_string<T: Serialize + 'static, E: std::fmt::Display + 'static>(
    result: Result<T, E>,
) -> Result<String, ToolError> {
    match result {
        Ok(value) => output_to_string(value),
        Err(error) => {
            let any: &dyn Any = &error;
            match any.downcast_ref::<ToolError>() {
                Some(tool_error) => Err(tool_error.clone()),
                None => Err(ToolError::Failed(error.to_string())),
            }
        }
    }
}

/// Turns a tool's return value into the text sent to the model: a `String`
/// or `&str` as is, anything else as JSON.
///
/// # Errors
/// [`ToolError::Failed`] when the value does not serialize.
pub fn output_to_string<T: Serialize + 'static>(value: T) -> Result<String, ToolError> {
    let any: &dyn Any = &value;
    if let Some(text) = any.downcast_ref::<String>() {
        return Ok(text.clone());
    }
    if let Some(text) = any.downcast_ref::<&'static str>() {
        return Ok((*text).to_owned());
    }
    serde_json::to_string(&value)
        .map_err(|err| ToolError::Failed(format!("tool output does not serialize: {err}")))
}

/// `tool`, offered only on turns where `predicate` holds for the run
/// context (evaluated before each model call).
///
/// ```
/// use agents_core::prelude::*;
/// use agents_core::tool::enabled_when;
///
/// struct Shop { refunds_open: bool }
///
/// /// Refund an order.
/// #[tool]
/// fn refund(order_id: String) -> String { order_id }
///
/// let agent = Agent::<Shop>::builder("Billing")
///     .tool(enabled_when(refund {}, |ctx: &RunContext<Shop>| ctx.refunds_open))
///     .build()?;
/// # Ok::<(), agents_core::AgentError>(())
/// ```
pub fn enabled_when<Ctx, T, F>(tool: T, predicate: F) -> EnabledTool<T, F>
where
    T: Tool<Ctx>,
    F: Fn(&RunContext<Ctx>) -> bool + Send + Sync + 'static,
{
    EnabledTool { tool, predicate }
}

/// A tool offered only while a predicate holds. Made by [`enabled_when`].
#[derive(Debug, Clone)]
pub struct EnabledTool<T, F> {
    tool: T,
    predicate: F,
}

impl<Ctx, T, F> Tool<Ctx> for EnabledTool<T, F>
where
    T: Tool<Ctx>,
    F: Fn(&RunContext<Ctx>) -> bool + Send + Sync + 'static,
{
    fn name(&self) -> &str {
        self.tool.name()
    }
    fn description(&self) -> &str {
        self.tool.description()
    }
    fn parameters(&self) -> serde_json::Value {
        self.tool.parameters()
    }
    fn strict(&self) -> bool {
        self.tool.strict()
    }
    fn needs_approval(&self) -> bool {
        self.tool.needs_approval()
    }
    fn needs_approval_for(&self, ctx: &RunContext<Ctx>, arguments: &str) -> bool {
        self.tool.needs_approval_for(ctx, arguments)
    }
    fn is_enabled(&self, ctx: &RunContext<Ctx>) -> bool {
        (self.predicate)(ctx) && self.tool.is_enabled(ctx)
    }
    fn call(
        &self,
        ctx: &RunContext<Ctx>,
        arguments: &str,
    ) -> impl Future<Output = Result<String, ToolError>> + Send {
        self.tool.call(ctx, arguments)
    }
}
