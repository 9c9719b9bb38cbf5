//! Compile-time guarantees: runners and runs cross threads and tasks.

use std::future::IntoFuture;
use std::rc::Rc;
use std::sync::Arc;

use agents_core::prelude::*;
use agents_core::{AsAgent, Run};
use agents_testing::{MockModel, Step};

/// A context that is neither `Clone` nor `Debug`.
struct Shop {
    _name: String,
}

const fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}
const fn assert_send_static<T: Send + 'static>() {}

// `Runner<Ctx>` is `Clone + Send + Sync` for any context type, even one
// that is neither `Clone` nor `Sync` (the runner holds no context).
const _: () = assert_clone_send_sync::<Runner<Shop>>();
const _: () = assert_clone_send_sync::<Runner<Rc<()>>>();
const _: () = assert_clone_send_sync::<Agent<Shop, String>>();
// The run future is `Send + 'static`: it can be spawned.
const _: () = assert_send_static::<<Run<Shop, String> as IntoFuture>::IntoFuture>();
const _: () = assert_send_static::<RunResult<String>>();
const _: () = assert_send_static::<RunError>();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_runner_serves_many_concurrent_runs_each_with_its_own_state() {
    let model = MockModel::script((0..32).map(|_| {
        Step::respond(|request| {
            let text = request.input[0]
                .message_text()
                .unwrap_or_default()
                .to_owned();
            Step::text(format!("answer to {text}"))
        })
    }));
    let agent: Agent<Shop> = Agent::builder("Desk").build().unwrap();
    let runner = Arc::new(Runner::new(model.clone()));
    let handles: Vec<_> = (0..32)
        .map(|i| {
            let runner = Arc::clone(&runner);
            let agent = agent.as_agent();
            tokio::spawn(
                runner
                    .run(
                        &agent,
                        Shop {
                            _name: format!("shop {i}"),
                        },
                        format!("question {i}"),
                    )
                    .into_future(),
            )
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let result = handle.await.unwrap().unwrap();
        assert_eq!(result.final_output, format!("answer to question {i}"));
        assert_eq!(result.new_items.len(), 1);
    }
    model.assert_complete();
}
