//! Tool execution: concurrency, call order, every way a tool call fails.

use std::sync::Arc;
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::{Item, RunError, ToolFailure, ToolResult};
use agents_testing::{MockModel, Step, call_named};
use serde_json::json;
use tokio::sync::Barrier;

use crate::support::{echo, failing, panicking, refund, sleeper};

fn outputs(result: &RunResult<String>) -> Vec<(String, bool)> {
    result
        .new_items
        .iter()
        .filter_map(|i| match &*i.item {
            Item::ToolOutput(o) => Some((o.output.clone(), o.is_error)),
            _ => None,
        })
        .collect()
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct MeetArgs {
    name: String,
}

#[tokio::test]
async fn tools_of_one_turn_run_concurrently_and_keep_call_order() {
    // Each tool waits at a barrier for the other: run one after the other,
    // neither could finish and both would hit the tool timeout.
    let barrier = Arc::new(Barrier::new(2));
    let meet = {
        let barrier = Arc::clone(&barrier);
        FunctionTool::new(
            "meet",
            "Waits for the other call.",
            move |args: MeetArgs| {
                let barrier = Arc::clone(&barrier);
                async move {
                    // The first call finishes last, to show outputs keep call order.
                    let delay = if args.name == "first" { 30 } else { 0 };
                    barrier.wait().await;
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    Ok::<_, String>(format!("{} met", args.name))
                }
            },
        )
    };
    let model = MockModel::script([
        Step::tool_calls([
            call_named("meet", json!({"name": "first"})),
            call_named("meet", json!({"name": "second"})),
        ]),
        Step::text("both met"),
    ]);
    let agent: Agent<()> = Agent::builder("A").tool(meet).build().unwrap();
    let result = Runner::new(model)
        .run(&agent, (), "go")
        .tool_timeout(Duration::from_secs(2))
        .await
        .unwrap();

    assert_eq!(
        outputs(&result),
        [
            ("first met".to_owned(), false),
            ("second met".to_owned(), false)
        ]
    );
    let ids: Vec<_> = result
        .new_items
        .iter()
        .filter_map(|i| i.item.call_id())
        .collect();
    assert_eq!(ids, ["call_1", "call_2", "call_1", "call_2"]);
}

#[tokio::test]
async fn unknown_tool_becomes_an_error_output_and_the_run_continues() {
    let model = MockModel::script([
        Step::tool_call("lookup_ordr", json!({})),
        Step::text("sorry"),
    ]);
    model.allow_unknown_tools();
    let agent: Agent<()> = Agent::builder("A").tool(echo()).build().unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "go")
        .await
        .unwrap();
    assert_eq!(result.final_output, "sorry");
    assert_eq!(
        outputs(&result),
        [(
            "unknown tool `lookup_ordr`; available tools: echo".to_owned(),
            true
        )]
    );
    model.assert_complete();
}

#[tokio::test]
async fn malformed_json_arguments_become_an_error_output() {
    let model = MockModel::script([
        Step::tool_call("echo", json!("{\"text\": \"unterminated")),
        Step::text("retrying"),
    ]);
    // Arguments that do not fit are what this test sends.
    model.allow_unknown_tools();
    let agent: Agent<()> = Agent::builder("A").tool(echo()).build().unwrap();
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    let (text, is_error) = &outputs(&result)[0];
    assert!(*is_error);
    assert!(
        text.starts_with("invalid arguments for tool `echo`: malformed JSON: EOF while parsing"),
        "{text}"
    );
}

#[tokio::test]
async fn mistyped_arguments_name_the_field_and_the_expected_type() {
    let model = MockModel::script([
        Step::tool_call("refund", json!({"order_id": "A-1", "amount_cents": "5"})),
        Step::tool_call("refund", json!({"order_id": "A-1"})),
        Step::text("done"),
    ]);
    model.allow_unknown_tools();
    let agent: Agent<()> = Agent::builder("A").tool(refund()).build().unwrap();
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    assert_eq!(
        outputs(&result),
        [
            (
                "invalid arguments for tool `refund`: amount_cents: invalid type: string \"5\", expected u32"
                    .to_owned(),
                true
            ),
            (
                "invalid arguments for tool `refund`: missing field `amount_cents`".to_owned(),
                true
            ),
        ]
    );
}

#[tokio::test]
async fn a_failing_tool_becomes_an_error_output() {
    let model = MockModel::script([Step::tool_call("fail", json!({})), Step::text("it failed")]);
    let agent: Agent<()> = Agent::builder("A").tool(failing()).build().unwrap();
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    assert_eq!(result.final_output, "it failed");
    assert_eq!(
        outputs(&result),
        [(
            "tool `fail` failed: the order database is down".to_owned(),
            true
        )]
    );
}

#[tokio::test]
async fn a_panicking_tool_becomes_an_error_output() {
    let model = MockModel::script([
        Step::tool_calls([
            call_named("explode", json!({})),
            call_named("echo", json!({"text": "still here"})),
        ]),
        Step::text("recovered"),
    ]);
    let agent: Agent<()> = Agent::builder("A")
        .tool(panicking())
        .tool(echo())
        .build()
        .unwrap();
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    assert_eq!(result.final_output, "recovered");
    assert_eq!(
        outputs(&result),
        [
            ("tool `explode` panicked: boom".to_owned(), true),
            ("still here".to_owned(), false)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_tool_slower_than_the_tool_timeout_becomes_an_error_output() {
    let model = MockModel::script([
        Step::tool_call("sleep", json!({"millis": 5_000})),
        Step::text("too slow"),
    ]);
    let agent: Agent<()> = Agent::builder("A").tool(sleeper()).build().unwrap();
    let result = Runner::new(model)
        .run(&agent, (), "go")
        .tool_timeout(Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        outputs(&result),
        [("tool `sleep` timed out after 1s".to_owned(), true)]
    );
}

#[tokio::test]
async fn fail_run_policy_ends_the_run_with_a_typed_error() {
    let model = MockModel::script([Step::tool_call("fail", json!({}))]);
    let agent: Agent<()> = Agent::builder("A").tool(failing()).build().unwrap();
    let error = Runner::new(model)
        .run(&agent, (), "go")
        .tool_error_policy(ToolErrorPolicy::FailRun)
        .await
        .unwrap_err();
    let RunError::Tool {
        agent,
        call_id,
        failure,
        partial,
    } = error
    else {
        panic!("expected a tool error, got {error:?}");
    };
    assert_eq!((agent.as_str(), call_id.as_str()), ("A", "call_1"));
    assert!(matches!(failure, ToolFailure::Failed { ref tool, .. } if tool == "fail"));
    // The call and its error output are both kept.
    assert_eq!(partial.new_items.len(), 2);
}

#[tokio::test]
async fn stop_on_first_tool_returns_the_tool_output() {
    let model = MockModel::script([Step::tool_calls([
        call_named("echo", json!({"text": "from the tool"})),
        call_named("echo", json!({"text": "second"})),
    ])]);
    let agent: Agent<()> = Agent::builder("A")
        .tool(echo())
        .tool_use_behavior(ToolUseBehavior::StopOnFirstTool)
        .build()
        .unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "go")
        .await
        .unwrap();
    assert_eq!(result.final_output, "from the tool");
    assert_eq!(model.calls(), 1);
}

#[tokio::test]
async fn stop_at_tools_stops_only_for_the_named_tools() {
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "not final"})),
        Step::tool_call("refund", json!({"order_id": "A-1", "amount_cents": 100})),
    ]);
    let agent: Agent<()> = Agent::builder("A")
        .tool(echo())
        .tool(refund())
        .tool_use_behavior(ToolUseBehavior::StopAtTools(vec!["refund".into()]))
        .build()
        .unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "go")
        .await
        .unwrap();
    assert_eq!(result.final_output, "refunded 100 on A-1");
    assert_eq!(result.turns, 2);
    model.assert_complete();
}

#[tokio::test]
async fn a_tool_use_function_decides_from_the_context_and_the_results() {
    // Final once two echoes succeeded in one turn, from the second turn on
    // (the context says which turn it is), joined.
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "only one"})),
        Step::tool_calls([
            call_named("echo", json!({"text": "a"})),
            call_named("echo", json!({"text": "b"})),
        ]),
    ]);
    let agent: Agent<()> = Agent::builder("A")
        .tool(echo())
        .tool_use_behavior_fn(|ctx: &RunContext<()>, results: &[ToolResult<'_>]| {
            let ok: Vec<&str> = results
                .iter()
                .filter(|r| r.tool == "echo" && !r.is_error)
                .map(|r| r.output)
                .collect();
            (ctx.turn() >= 2 && ok.len() >= 2).then(|| ok.join(" + "))
        })
        .build()
        .unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "go")
        .await
        .unwrap();
    assert_eq!(result.final_output, "a + b");
    assert_eq!(result.turns, 2);
    model.assert_complete();
}

#[tokio::test]
async fn empty_arguments_count_as_an_empty_object() {
    let model = MockModel::script([Step::tool_call("fail", json!("")), Step::text("ok")]);
    let agent: Agent<()> = Agent::builder("A").tool(failing()).build().unwrap();
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    // The tool ran (and failed on purpose) instead of rejecting its arguments.
    assert_eq!(
        outputs(&result)[0].0,
        "tool `fail` failed: the order database is down"
    );
}

/// Writes a report, blocking its thread for two seconds.
#[tool(blocking)]
fn slow_report(ctx: &RunContext<String>, order_id: String) -> String {
    std::thread::sleep(Duration::from_secs(2));
    format!("{order_id} for {}", ctx.context())
}

/// Reads the context on the blocking pool.
#[tool(blocking)]
fn quick_report(customer: &String, order_id: String) -> String {
    format!("{order_id} for {customer}")
}

/// Panics on the blocking pool.
#[tool(blocking)]
fn broken_report() -> String {
    panic!("report template missing")
}

fn reporter() -> Agent<String> {
    Agent::<String>::builder("Reporter")
        .tool(slow_report {})
        .tool(quick_report {})
        .tool(broken_report {})
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_blocking_tool_past_its_timeout_is_a_timeout_within_a_second() {
    let model = MockModel::script([
        Step::tool_calls([agents_testing::call(
            slow_report {},
            json!({"order_id": "A-1"}),
        )]),
        Step::text("The report is late."),
    ]);
    let started = std::time::Instant::now();
    let result = Runner::new(model)
        .run(&reporter(), "Ada".to_owned(), "report A-1")
        .tool_timeout(Duration::from_millis(200))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    let output = &result.tool_executions[0];
    assert!(!output.succeeded());
    assert!(
        output.output().output.contains("timed out"),
        "{}",
        output.output().output
    );
}

#[tokio::test]
async fn a_blocking_tool_reads_the_context_and_its_panic_is_a_tool_error() {
    let model = MockModel::script([
        Step::tool_calls([
            agents_testing::call(quick_report {}, json!({"order_id": "A-2"})),
            agents_testing::call(broken_report {}, json!({})),
        ]),
        Step::text("done"),
    ]);
    let result = Runner::new(model)
        .run(&reporter(), "Ada".to_owned(), "report A-2")
        .await
        .unwrap();
    let outputs = outputs(&result);
    assert_eq!(outputs[0], ("A-2 for Ada".to_owned(), false));
    assert!(outputs[1].1, "{outputs:?}");
    assert!(
        outputs[1].0.contains("report template missing"),
        "{outputs:?}"
    );
}

/// Counts the calls running at once, and the most seen.
#[derive(Clone, Default)]
struct InFlight {
    now: Arc<std::sync::atomic::AtomicUsize>,
    most: Arc<std::sync::atomic::AtomicUsize>,
}

/// Works a little while, counted.
#[tool]
async fn work(flight: &InFlight, job: u32) -> String {
    use std::sync::atomic::Ordering::SeqCst;
    let now = flight.now.fetch_add(1, SeqCst) + 1;
    flight.most.fetch_max(now, SeqCst);
    tokio::time::sleep(Duration::from_millis(20 - u64::from(job) * 4)).await;
    flight.now.fetch_sub(1, SeqCst);
    format!("job {job}")
}

fn four_jobs() -> MockModel {
    MockModel::script([
        Step::tool_calls((0..4).map(|job| agents_testing::call(work {}, json!({"job": job})))),
        Step::text("done"),
    ])
}

async fn most_at_once(agent: &Agent<InFlight>, run_cap: Option<usize>) -> (usize, Vec<String>) {
    let flight = InFlight::default();
    let mut run = Runner::new(four_jobs()).run(agent, flight.clone(), "work");
    if let Some(cap) = run_cap {
        run = run.max_concurrent_tool_calls(cap);
    }
    let result = run.await.unwrap();
    let order = outputs_of(&result);
    (flight.most.load(std::sync::atomic::Ordering::SeqCst), order)
}

fn outputs_of(result: &RunResult<String>) -> Vec<String> {
    result
        .new_items
        .iter()
        .filter_map(|i| match &*i.item {
            Item::ToolOutput(o) => Some(o.output.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn tool_calls_beyond_the_cap_wait_and_outputs_keep_call_order() {
    let agent = Agent::<InFlight>::builder("Worker")
        .tool(work {})
        .build()
        .unwrap();
    let in_call_order = ["job 0", "job 1", "job 2", "job 3"]
        .map(String::from)
        .to_vec();

    let (most, order) = most_at_once(&agent, None).await;
    assert_eq!((most, &order), (4, &in_call_order), "no cap: all at once");

    let (most, order) = most_at_once(&agent, Some(2)).await;
    assert_eq!((most, &order), (2, &in_call_order), "the run's cap");

    let (most, _) = most_at_once(&agent, Some(0)).await;
    assert_eq!(most, 1, "a cap of 0 counts as 1");

    let capped = Agent::<InFlight>::builder("Worker")
        .tool(work {})
        .max_concurrent_tool_calls(1)
        .build()
        .unwrap();
    let (most, order) = most_at_once(&capped, Some(3)).await;
    assert_eq!(
        (most, &order),
        (1, &in_call_order),
        "the agent's lower cap wins"
    );
}
