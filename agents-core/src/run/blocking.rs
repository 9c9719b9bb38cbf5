//! Running a run from synchronous code.

use std::future::IntoFuture;

use super::builder::Run;
use super::error::RunError;
use super::result::RunResult;

impl<Ctx, Out> Run<Ctx, Out>
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    /// Runs to the end on a runtime of its own (tokio's current-thread
    /// runtime, made for this run and dropped after it), for programs
    /// without an async runtime. The OpenAI Agents SDK's `run_sync`.
    ///
    /// ```
    /// use agents_core::prelude::*;
    /// use agents_testing::{MockModel, Step};
    ///
    /// let agent: Agent<()> = Agent::builder("Greeter").build().unwrap();
    /// let runner = Runner::new(MockModel::script([Step::text("Hello!")]));
    /// let result = runner.run(&agent, (), "hi").run_blocking().unwrap();
    /// assert_eq!(result.final_output, "Hello!");
    /// ```
    ///
    /// # Errors
    /// The run's [`RunError`], as awaiting it gives.
    ///
    /// # Panics
    /// When called on a thread that is running an async runtime (blocking
    /// there would stall every task of that runtime: `.await` the run
    /// instead), or when the operating system refuses to build the runtime.
    pub fn run_blocking(self) -> Result<RunResult<Out>, RunError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            panic!(
                "`Run::run_blocking` called inside an async runtime, where it would block the \
                 runtime's thread: `.await` the run instead"
            );
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|error| panic!("cannot build a runtime for the run: {error}"));
        runtime.block_on(self.into_future())
    }
}
