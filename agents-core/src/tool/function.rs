use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Tool, ToolError, output_to_string, parse_arguments};
use crate::context::RunContext;
use crate::schema;

/// A tool made from a closure over typed arguments, for tools defined at run
/// time. The closure does not see the run context, so the tool works on
/// agents of every context type.
///
/// The arguments schema comes from `Args`'s [`JsonSchema`] impl; the output
/// goes to the model as is for a `String`, as JSON otherwise; an `Err`
/// becomes an error output.
///
/// ```
/// use agents_core::prelude::*;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Args { city: String }
///
/// let weather = FunctionTool::new("get_weather", "Current weather in a city.", |args: Args| async move {
///     Ok::<_, String>(format!("Sunny in {}", args.city))
/// });
/// let agent: Agent<()> = Agent::builder("Weather").tool(weather).build()?;
/// # Ok::<(), agents_core::AgentError>(())
/// ```
pub struct FunctionTool<Args, F> {
    name: String,
    description: String,
    function: F,
    _args: PhantomData<fn(Args)>,
}

impl<Args, F> std::fmt::Debug for FunctionTool<Args, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionTool")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<Args, F, Fut, T, E> FunctionTool<Args, F>
where
    Args: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(Args) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send,
    T: Serialize + 'static,
    E: Display,
{
    /// A tool called `name`, described by `description`, running `function`.
    pub fn new(name: impl Into<String>, description: impl Into<String>, function: F) -> Self {
        FunctionTool {
            name: name.into(),
            description: description.into(),
            function,
            _args: PhantomData,
        }
    }
}

impl<Ctx, Args, F, Fut, T, E> Tool<Ctx> for FunctionTool<Args, F>
where
    Ctx: Send + Sync,
    Args: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(Args) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send,
    T: Serialize + 'static,
    E: Display,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> serde_json::Value {
        schema::schema_for::<Args>()
    }

    async fn call(&self, _ctx: &RunContext<Ctx>, arguments: &str) -> Result<String, ToolError> {
        let args: Args = parse_arguments(arguments)?;
        match (self.function)(args).await {
            Ok(value) => output_to_string(value),
            Err(err) => Err(ToolError::Failed(err.to_string())),
        }
    }
}
