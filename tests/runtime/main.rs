//! Long-lived agents: a runtime of agents that stay alive between
//! messages, driven through handles, on the scripted mock model.

use std::sync::Arc;
use std::time::Duration;

use agents_core::Item;
use agents_core::prelude::*;
use agents_core::run::RunStatus;
use agents_core::runtime::{
    AgentEvent, AgentRuntime, AgentState, INPUT_QUEUE, SendError, SpawnError,
};
use agents_core::session::{MemorySession, Session};
use agents_testing::{MockModel, Step, call};
use serde_json::json;
use tokio::sync::{Notify, broadcast};

/// The context: a gate a tool can wait on.
#[derive(Clone, Default)]
struct Desk {
    gate: Arc<Notify>,
}

/// Looks up an order.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: paid")
}

/// Waits until the desk's gate opens.
#[tool]
async fn wait_for_gate(desk: &Desk) -> String {
    desk.gate.notified().await;
    "opened".to_owned()
}

fn agent() -> Agent<Desk> {
    Agent::builder("Clerk")
        .instructions("Help.")
        .tool(lookup_order {})
        .tool(wait_for_gate {})
        .build()
        .unwrap()
}

/// The events up to and including the `n`th `Answered`.
async fn until_answered(events: &mut broadcast::Receiver<AgentEvent>, n: usize) -> Vec<AgentEvent> {
    let mut seen = Vec::new();
    let mut answered = 0;
    while answered < n {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event within 5 s")
            .expect("the agent's events go on");
        if matches!(event, AgentEvent::Answered { .. }) {
            answered += 1;
        }
        seen.push(event);
    }
    seen
}

/// The status and output of the last `Answered` among `seen`.
fn last_answer(seen: &[AgentEvent]) -> (RunStatus, Option<String>) {
    seen.iter()
        .rev()
        .find_map(|event| match event {
            AgentEvent::Answered { status, output, .. } => {
                Some((*status, output.as_deref().map(str::to_owned)))
            }
            _ => None,
        })
        .expect("an answer among the events")
}

/// The tool outputs of the runs among `seen`, in order.
fn tool_outputs(seen: &[AgentEvent]) -> Vec<String> {
    seen.iter()
        .filter_map(|event| match event {
            AgentEvent::Run(agents_core::run::RunEvent::ToolOutput { output, .. }) => {
                Some(output.output.clone())
            }
            _ => None,
        })
        .collect()
}

fn states(events: &[AgentEvent]) -> Vec<AgentState> {
    events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::State(state) => Some(state.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_message_goes_through_tool_and_answer_back_to_idle() {
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::text("A-1 is paid."),
    ]);
    let runtime = AgentRuntime::new(Runner::new(model));
    let clerk = runtime.spawn("c-1", &agent(), Desk::default()).unwrap();
    let mut events = clerk.subscribe();
    clerk.send("Is A-1 paid?").unwrap();
    let seen = until_answered(&mut events, 1).await;
    // The state after the answer is published right after it.
    let mut state = clerk.state();
    state.wait_for(|s| *s == AgentState::Idle).await.unwrap();
    let mut sequence = states(&seen);
    if sequence.last() != Some(&AgentState::Idle) {
        sequence.push(AgentState::Idle);
    }
    assert_eq!(
        sequence,
        [
            AgentState::Processing,
            AgentState::ExecutingTool {
                name: "lookup_order".into(),
                call_id: "call_1".into()
            },
            AgentState::Processing,
            AgentState::Idle,
        ]
    );
    assert_eq!(
        last_answer(&seen),
        (RunStatus::Completed, Some("A-1 is paid.".to_owned()))
    );
}

#[tokio::test]
async fn an_interrupted_tool_leaves_the_agent_alive_and_the_session_consistent() {
    let model = MockModel::script([
        Step::tool_calls([call(wait_for_gate {}, json!({}))]),
        Step::text("Next question answered."),
    ]);
    let session = MemorySession::new("c-2");
    let store = session.clone();
    let runtime = AgentRuntime::with_sessions(Runner::new(model.clone()), move |_| {
        Arc::new(store.clone()) as Arc<dyn Session>
    });
    let clerk = runtime.spawn("c-2", &agent(), Desk::default()).unwrap();
    let mut events = clerk.subscribe();
    let mut state = clerk.state();
    clerk.send("Wait for the gate.").unwrap();
    state
        .wait_for(|s| matches!(s, AgentState::ExecutingTool { .. }))
        .await
        .unwrap();
    clerk.interrupt();
    let seen = until_answered(&mut events, 1).await;
    assert_eq!(last_answer(&seen).0, RunStatus::Interrupted);
    // Alive: the next message is answered.
    clerk.send("Something else?").unwrap();
    let seen = until_answered(&mut events, 1).await;
    assert_eq!(last_answer(&seen).0, RunStatus::Completed);
    // No call in the session without its output.
    let items = session.items(None).await.unwrap();
    for (i, item) in items.iter().enumerate() {
        if let Item::ToolCall(call) = &**item {
            assert!(
                items[i..].iter().any(
                    |later| matches!(&**later, Item::ToolOutput(o) if o.call_id == call.call_id)
                ),
                "an orphan call in the session: {items:?}"
            );
        }
    }
    // The second request saw the first message, not a dangling call.
    let second = &model.requests()[1];
    assert!(
        second
            .input
            .iter()
            .any(|i| i.message_text() == Some("Something else?"))
    );
    runtime.shutdown_all().await;
}

#[tokio::test]
async fn a_shut_down_agent_spawned_again_continues_its_conversation() {
    let model = MockModel::script([Step::text("Noted: blue."), Step::text("You said blue.")]);
    let runtime = AgentRuntime::new(Runner::new(model.clone()));
    let clerk = runtime.spawn("c-3", &agent(), Desk::default()).unwrap();
    let mut events = clerk.subscribe();
    clerk.send("My favourite colour is blue.").unwrap();
    until_answered(&mut events, 1).await;
    assert_eq!(clerk.shutdown().await, AgentState::Done);
    assert!(!runtime.is_running("c-3"));
    assert!(matches!(clerk.send("hello?"), Err(SendError::Closed(_))));

    let again = runtime.spawn("c-3", &agent(), Desk::default()).unwrap();
    let mut events = again.subscribe();
    again.send("What is my favourite colour?").unwrap();
    until_answered(&mut events, 1).await;
    let texts: Vec<String> = model.requests()[1]
        .input
        .iter()
        .filter_map(|item| item.message_text().map(str::to_owned))
        .collect();
    assert_eq!(
        texts,
        [
            "My favourite colour is blue.",
            "Noted: blue.",
            "What is my favourite colour?"
        ]
    );
    runtime.shutdown_all().await;
}

#[tokio::test]
async fn spawning_a_running_id_is_refused() {
    let runtime = AgentRuntime::new(Runner::new(MockModel::script([])));
    let _clerk = runtime.spawn("c-4", &agent(), Desk::default()).unwrap();
    let error = runtime.spawn("c-4", &agent(), Desk::default()).unwrap_err();
    assert_eq!(error, SpawnError::AlreadyRunning("c-4".into()));
    assert_eq!(runtime.list(), ["c-4"]);
    runtime.shutdown_all().await;
}

#[tokio::test]
async fn a_full_queue_gives_the_message_back() {
    let desk = Desk::default();
    let model = MockModel::script([
        Step::tool_calls([call(wait_for_gate {}, json!({}))]),
        Step::text("done"),
    ]);
    model.allow_unused_steps();
    let runtime = AgentRuntime::new(Runner::new(model));
    let clerk = runtime.spawn("c-5", &agent(), desk.clone()).unwrap();
    let mut state = clerk.state();
    clerk.send("first").unwrap();
    state
        .wait_for(|s| matches!(s, AgentState::ExecutingTool { .. }))
        .await
        .unwrap();
    for i in 0..INPUT_QUEUE {
        clerk.send(format!("queued {i}")).unwrap();
    }
    match clerk.send("one too many") {
        Err(SendError::Full(input)) => {
            assert_eq!(input.into_items()[0].message_text(), Some("one too many"));
        }
        other => panic!("expected a full queue, got {other:?}"),
    }
    // Shutdown is not queued behind the messages: the current turn ends,
    // the queued messages are dropped.
    let shutdown = tokio::spawn({
        let clerk = clerk.clone();
        async move { clerk.shutdown().await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    desk.gate.notify_one();
    let ended = tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .expect("shut down within 5 s")
        .unwrap();
    assert_eq!(ended, AgentState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_all_leaves_no_task_behind() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let model = MockModel::script((0..20).map(|i| Step::text(format!("answer {i}"))));
    // A message still queued at the shutdown is dropped (documented): how
    // many are answered first depends on timing.
    model.allow_unused_steps();
    let runtime = AgentRuntime::new(Runner::new(model));
    let mut handles = Vec::new();
    for i in 0..20 {
        let clerk = runtime
            .spawn(format!("c-{i}"), &agent(), Desk::default())
            .unwrap();
        clerk.send("hello").unwrap();
        handles.push(clerk);
    }
    assert_eq!(runtime.count(), 20);
    let ended = runtime.shutdown_all().await;
    assert_eq!(ended.len(), 20);
    assert!(ended.iter().all(|(_, state)| *state == AgentState::Done));
    assert_eq!(runtime.count(), 0);
    let mut alive = metrics.num_alive_tasks();
    for _ in 0..100 {
        if alive <= before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        alive = metrics.num_alive_tasks();
    }
    assert!(alive <= before, "{alive} tasks alive, {before} before");
}

/// Refunds an order: a person approves each call.
#[tool(needs_approval)]
fn refund(desk: &Desk, order_id: String) -> String {
    let _ = desk;
    format!("refunded {order_id}")
}

fn billing() -> Agent<Desk> {
    Agent::builder("Billing")
        .tool(refund {})
        .tool(lookup_order {})
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_approval_is_waited_for_then_the_run_goes_on() {
    let model = MockModel::script([
        Step::tool_calls([call(refund {}, json!({"order_id": "A-1"}))]),
        Step::text("Refunded A-1."),
    ]);
    let runtime = AgentRuntime::new(Runner::new(model));
    let agent = runtime.spawn("b-1", &billing(), Desk::default()).unwrap();
    let mut events = agent.subscribe();
    let mut state = agent.state();
    assert!(matches!(
        agent.approve("call_1").await,
        Err(agents_core::runtime::DecideError::NotWaiting)
    ));
    agent.send("Refund A-1").unwrap();
    let waiting = state
        .wait_for(|s| matches!(s, AgentState::WaitingForApproval { .. }))
        .await
        .unwrap()
        .clone();
    let AgentState::WaitingForApproval { pending } = waiting else {
        unreachable!("waited for this state")
    };
    let calls: Vec<(&str, &str)> = pending
        .iter()
        .map(|p| (p.tool.as_str(), p.call_id.as_str()))
        .collect();
    assert_eq!(calls, [("refund", "call_1")]);
    // A message sent meanwhile waits for the decision.
    agent.send("And A-2?").unwrap();
    assert!(agent.approve("call_9").await.is_err());
    agent.approve("call_1").await.unwrap();
    let seen = until_answered(&mut events, 2).await;
    let answers: Vec<RunStatus> = seen
        .iter()
        .filter_map(|event| match event {
            AgentEvent::Answered { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(
        answers,
        [RunStatus::WaitingForApproval, RunStatus::Completed]
    );
    assert_eq!(
        tool_outputs(&seen),
        ["refunded A-1"],
        "the approved call ran once"
    );
    runtime.shutdown_all().await;
}

#[tokio::test]
async fn approve_always_is_remembered_for_the_agents_life() {
    let model = MockModel::script([
        Step::tool_calls([call(refund {}, json!({"order_id": "A-1"}))]),
        Step::text("Refunded A-1."),
        Step::tool_calls([call(refund {}, json!({"order_id": "A-2"}))]),
        Step::text("Refunded A-2."),
    ]);
    let runtime = AgentRuntime::new(Runner::new(model));
    let agent = runtime.spawn("b-2", &billing(), Desk::default()).unwrap();
    let mut events = agent.subscribe();
    let mut state = agent.state();
    agent.send("Refund A-1").unwrap();
    state
        .wait_for(|s| matches!(s, AgentState::WaitingForApproval { .. }))
        .await
        .unwrap();
    agent.approve_always("refund").await.unwrap();
    until_answered(&mut events, 2).await;
    // The second refund is not asked about.
    agent.send("Refund A-2").unwrap();
    let seen = until_answered(&mut events, 1).await;
    assert!(
        !states(&seen)
            .iter()
            .any(|s| matches!(s, AgentState::WaitingForApproval { .. })),
        "{seen:?}"
    );
    assert_eq!(
        last_answer(&seen),
        (RunStatus::Completed, Some("Refunded A-2.".to_owned()))
    );
    runtime.shutdown_all().await;
}

#[tokio::test]
async fn global_rules_apply_to_every_agent_and_local_ones_to_theirs() {
    use agents_core::policy::{Action, Decision};
    use agents_core::runtime::SpawnOptions;

    let deny = |tool: &'static str| {
        move |_: &RunContext<Desk>, action: &Action<'_>| match action {
            Action::ToolCall { call, .. } if call.name == tool => Decision::Deny {
                message: format!("{tool} is not allowed here"),
            },
            _ => Decision::Allow,
        }
    };
    let script = || {
        MockModel::script([
            Step::tool_calls([
                call(lookup_order {}, json!({"order_id": "A-1"})),
                call(wait_for_gate {}, json!({})),
            ]),
            Step::text("done"),
        ])
    };
    // Global: no `wait_for_gate` anywhere. Local: no `lookup_order` for
    // the first agent only.
    let runtime = AgentRuntime::new(Runner::new(script()).policy(deny("wait_for_gate")));
    let first = runtime
        .spawn_with(
            "r-1",
            &agent(),
            Desk::default(),
            SpawnOptions::new().policy(deny("lookup_order")),
        )
        .unwrap();
    let mut events = first.subscribe();
    first.send("go").unwrap();
    let seen = until_answered(&mut events, 1).await;
    let got = tool_outputs(&seen);
    assert!(
        got.iter().all(|o| o.contains("is not allowed here")),
        "{got:?}"
    );

    let runtime = AgentRuntime::new(Runner::new(script()).policy(deny("wait_for_gate")));
    let second = runtime.spawn("r-2", &agent(), Desk::default()).unwrap();
    let mut events = second.subscribe();
    second.send("go").unwrap();
    let seen = until_answered(&mut events, 1).await;
    let got = tool_outputs(&seen);
    assert!(got.contains(&"A-1: paid".to_owned()), "{got:?}");
    assert!(
        got.iter()
            .any(|o| o.contains("wait_for_gate is not allowed here")),
        "{got:?}"
    );
}

/// A model whose first call never answers; the later ones are the mock's.
struct SilentFirst {
    calls: std::sync::atomic::AtomicU32,
    then: MockModel,
}

impl Model for SilentFirst {
    fn call(
        &self,
        request: agents_core::ModelRequest,
    ) -> agents_core::model::BoxFuture<
        '_,
        Result<agents_core::ModelResponse, agents_core::ModelError>,
    > {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            return Box::pin(std::future::pending());
        }
        self.then.call(request)
    }
}

#[tokio::test]
async fn an_interrupted_model_call_leaves_the_agent_ready_for_the_next_message() {
    let model = SilentFirst {
        calls: Default::default(),
        then: MockModel::script([Step::text("Here now.")]),
    };
    let runtime = AgentRuntime::new(Runner::new(model));
    let clerk = runtime.spawn("m-1", &agent(), Desk::default()).unwrap();
    let mut events = clerk.subscribe();
    let mut state = clerk.state();
    clerk.send("Hello?").unwrap();
    state
        .wait_for(|s| *s == AgentState::Processing)
        .await
        .unwrap();
    clerk.interrupt();
    let seen = until_answered(&mut events, 1).await;
    assert_eq!(last_answer(&seen).0, RunStatus::Interrupted);
    clerk.send("Hello again?").unwrap();
    let seen = until_answered(&mut events, 1).await;
    assert_eq!(
        last_answer(&seen),
        (RunStatus::Completed, Some("Here now.".to_owned()))
    );
    runtime.shutdown_all().await;
}

/// The context of a parent that consults its sub-agent.
#[derive(Clone, Default)]
struct Team {
    expert: Arc<std::sync::Mutex<Option<agents_core::runtime::AgentHandle>>>,
}

/// Asks the expert sub-agent.
#[tool]
async fn consult(team: &Team, question: String) -> String {
    let expert = team
        .expert
        .lock()
        .unwrap()
        .clone()
        .expect("the expert is spawned");
    match expert.ask(question).await {
        Ok(answer) => answer.output.as_deref().unwrap_or("").to_owned(),
        Err(error) => format!("no answer: {error}"),
    }
}

#[tokio::test]
async fn a_parent_waits_on_its_sub_agent_and_shuts_down_with_its_children() {
    let lead: Agent<Team> = Agent::builder("Lead").tool(consult {}).build().unwrap();
    let expert: Agent<Team> = Agent::builder("Expert").build().unwrap();
    // One script for the three agents, in the order they call the model.
    let model = MockModel::script([
        Step::tool_calls([call(consult {}, json!({"question": "Is A-1 refundable?"}))]),
        Step::text("Yes, within 30 days."),
        Step::text("The expert says: yes."),
    ]);
    let runtime = AgentRuntime::new(Runner::new(model));
    let team = Team::default();
    let parent = runtime.spawn("lead", &lead, team.clone()).unwrap();
    let child = runtime
        .spawn_child("lead", "expert", &expert, team.clone())
        .unwrap();
    let other = runtime
        .spawn_child("lead", "archivist", &expert, team.clone())
        .unwrap();
    *team.expert.lock().unwrap() = Some(child.clone());
    assert!(matches!(
        runtime.spawn_child("nobody", "x", &expert, team.clone()),
        Err(SpawnError::NoParent(parent)) if parent == "nobody"
    ));
    assert_eq!(runtime.children("lead"), ["archivist", "expert"]);

    let mut events = parent.subscribe();
    parent.send("Can I get a refund for A-1?").unwrap();
    let seen = until_answered(&mut events, 1).await;
    assert!(
        states(&seen).contains(&AgentState::WaitingForSubAgent {
            id: "expert".into()
        }),
        "{:?}",
        states(&seen)
    );
    assert_eq!(
        last_answer(&seen).1.as_deref(),
        Some("The expert says: yes.")
    );

    // Shutting the parent down takes its sub-agents first.
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let watchers: Vec<_> = [("lead", &parent), ("expert", &child), ("archivist", &other)]
        .into_iter()
        .map(|(id, handle)| {
            let mut state = handle.state();
            let order = Arc::clone(&order);
            tokio::spawn(async move {
                let _ = state.wait_for(|s| *s == AgentState::Done).await;
                order.lock().unwrap().push(id);
            })
        })
        .collect();
    assert_eq!(runtime.shutdown("lead").await, Some(AgentState::Done));
    for watcher in watchers {
        watcher.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    assert_eq!(order.last(), Some(&"lead"), "{order:?}");
    assert_eq!(runtime.count(), 0);
}

/// An output whose text cannot be made: showing it panics.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Unprintable {
    value: u32,
}

impl std::fmt::Display for Unprintable {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("cannot show {}", self.value)
    }
}

#[tokio::test]
async fn an_agent_whose_task_fails_is_failed_and_leaves_the_registry() {
    let agent: Agent<Desk, Unprintable> = Agent::builder("Fragile")
        .output_type::<Unprintable>()
        .build()
        .unwrap();
    let runtime = AgentRuntime::new(Runner::new(MockModel::script([Step::json(
        json!({"value": 7}),
    )])));
    let fragile = runtime.spawn("f-1", &agent, Desk::default()).unwrap();
    fragile.send("show it").unwrap();
    let mut state = fragile.state();
    let failed = state
        .wait_for(|s| matches!(s, AgentState::Failed { .. }))
        .await
        .unwrap()
        .clone();
    assert_eq!(
        failed,
        AgentState::Failed {
            error: "cannot show 7".into()
        }
    );
    for _ in 0..100 {
        if runtime.count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(runtime.count(), 0);
    assert!(matches!(fragile.send("again?"), Err(SendError::Closed(_))));
}
