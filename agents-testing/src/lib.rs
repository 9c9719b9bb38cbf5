//! Offline testing for `agents`: a strict scripted [`MockModel`] and
//! readable, stable transcripts of runs for `insta` snapshots.
//!
//! ```
//! use agents_core::prelude::*;
//! use agents_testing::{MockModel, Step, call_named, transcript};
//! use serde_json::json;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Args { city: String }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let weather = FunctionTool::new("get_weather", "Weather in a city.", |a: Args| async move {
//!     Ok::<_, String>(format!("sunny in {}", a.city))
//! });
//! let agent: Agent<()> = Agent::builder("Forecaster").tool(weather).build()?;
//! let model = MockModel::script([
//!     Step::tool_calls([call_named("get_weather", json!({"city": "Lyon"}))]),
//!     Step::text("It is sunny in Lyon."),
//! ]);
//! let result = Runner::new(model.clone()).run(&agent, (), "Weather in Lyon?").await?;
//!
//! // The second request carried the tool output back to the model.
//! assert_eq!(model.requests()[1].input.len(), 3);
//! assert!(transcript(&result).contains("tool output [call#1]: sunny in Lyon"));
//! model.assert_complete();
//! # Ok(()) }
//! ```

mod fits;
mod mock;
pub mod record;
mod spans;
mod transcript;
mod validate;

pub use fits::ArgumentsDoNotFit;
pub use mock::{
    IntoScriptArgs, MockModel, NotOffered, ScriptedCall, Step, UnexpectedCall, WithoutInput, call,
    call_named,
};
pub use record::{RecordingModel, ReplayModel};
pub use spans::{CapturedSpan, SpanCapture};
pub use transcript::{RunView, transcript};
pub use validate::check_request;

/// Snapshot-tests a run's [`transcript`] with `insta`.
///
/// Takes a [`RunResult`](agents_core::RunResult), a
/// [`RunError`](agents_core::RunError) or a
/// [`PartialRun`](agents_core::PartialRun), optionally preceded by a snapshot
/// name. Call ids are renumbered (`call#1`, ...) and run ids left out, so
/// the snapshot is stable.
///
/// ```ignore
/// let result = runner.run(&agent, (), "hi").await?;
/// agents_testing::assert_run_snapshot!(result);
/// agents_testing::assert_run_snapshot!("greeting", result);
/// ```
#[macro_export]
macro_rules! assert_run_snapshot {
    ($run:expr $(,)?) => {{
        let transcript = $crate::transcript(&$run);
        $crate::__private::insta::assert_snapshot!(transcript)
    }};
    ($name:expr, $run:expr $(,)?) => {{
        let transcript = $crate::transcript(&$run);
        $crate::__private::insta::assert_snapshot!($name, transcript)
    }};
}

/// Paths the macros use. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use insta;
}
