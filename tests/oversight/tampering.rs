//! A run state is data a client hands back: every way of changing or
//! reusing it is refused with a typed error before a tool runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::run::{ApprovalError, InvalidStateKind, RunState, StateKey};
use agents_core::session::{MemorySession, Session, SqliteSession};
use agents_core::{Item, RunError};
use agents_testing::{MockModel, Step, call};
use serde_json::{Value, json};

/// Counts the refunds that ran.
#[derive(Default)]
struct Till {
    refunds: AtomicU32,
    notes: AtomicU32,
}

/// Refund part of an order. Amount in cents.
#[tool(needs_approval)]
fn refund(ctx: &RunContext<Arc<Till>>, order_id: String, amount_cents: u32) -> String {
    ctx.refunds.fetch_add(1, Ordering::SeqCst);
    format!("refunded {amount_cents} on {order_id}")
}

/// Write a note on an order.
#[tool]
fn note(ctx: &RunContext<Arc<Till>>, text: String) -> String {
    ctx.notes.fetch_add(1, Ordering::SeqCst);
    format!("noted: {text}")
}

fn billing() -> Agent<Arc<Till>> {
    Agent::<Arc<Till>>::builder("Billing")
        .tool(refund {})
        .tool(note {})
        .build()
        .unwrap()
}

fn key(byte: u8) -> StateKey {
    StateKey::new([byte; 32]).unwrap()
}

/// A model that asks for a 5.00 refund.
fn asking() -> MockModel {
    MockModel::script([Step::tool_calls([call(
        refund {},
        json!({"order_id": "A-1", "amount_cents": 500}),
    )])])
}

/// A model that answers once (after the approved refund ran).
fn answering() -> MockModel {
    MockModel::script([Step::text("Refunded.")])
}

/// A model that must not be called.
fn silent() -> MockModel {
    MockModel::script([])
}

/// A run paused for the refund's approval, by a runner sealing with `key(1)`.
async fn paused(till: &Arc<Till>) -> RunState {
    let error = Runner::new(asking())
        .state_key(key(1))
        .run(&billing(), Arc::clone(till), "refund A-1")
        .await
        .unwrap_err();
    match error {
        RunError::ApprovalRequired { state } => *state,
        other => panic!("expected a pause, got {other:?}"),
    }
}

/// Approves the pending refund.
fn approve(state: &mut RunState) {
    let call_id = state.pending()[0].call_id.clone();
    state.approve(call_id).unwrap();
}

/// The state as JSON, changed by `edit`, read back.
fn edited(state: &RunState, edit: impl FnOnce(&mut Value)) -> RunState {
    let mut json = serde_json::to_value(state).unwrap();
    edit(&mut json);
    serde_json::from_value(json).unwrap()
}

/// Resumes `state` on a runner with `key(1)`; the kind of the refusal.
async fn refused(till: &Arc<Till>, state: RunState) -> InvalidStateKind {
    let error = Runner::new(silent())
        .state_key(key(1))
        .resume(&billing(), Arc::clone(till), state)
        .await
        .unwrap_err();
    match error {
        RunError::InvalidState { kind, .. } => kind,
        other => panic!("expected a refused state, got {other:?}"),
    }
}

#[tokio::test]
async fn changed_arguments_break_the_seal() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);
    let forged = edited(&state, |json| {
        let bigger = r#"{"amount_cents":500000,"order_id":"A-1"}"#;
        json["pending_turn"][0]["arguments"] = json!(bigger);
        json["pending"][0]["arguments"] = json!(bigger);
    });
    assert_eq!(refused(&till, forged).await, InvalidStateKind::Seal);
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_changed_tool_name_breaks_the_seal() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);
    let forged = edited(&state, |json| {
        json["pending_turn"][0]["name"] = json!("note");
        json["pending"][0]["tool"] = json!("note");
    });
    assert_eq!(refused(&till, forged).await, InvalidStateKind::Seal);
    assert_eq!(
        till.refunds.load(Ordering::SeqCst) + till.notes.load(Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn an_added_approved_call_breaks_the_seal() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);
    let forged = edited(&state, |json| {
        let extra = json!({"type": "tool_call", "call_id": "call_x", "name": "refund",
                           "arguments": r#"{"amount_cents":99900,"order_id":"B-2"}"#});
        json["pending_turn"].as_array_mut().unwrap().push(extra);
        json["pending"].as_array_mut().unwrap().push(json!({
            "agent": "Billing", "tool": "refund", "call_id": "call_x",
            "arguments": r#"{"amount_cents":99900,"order_id":"B-2"}"#}));
        json["decisions"]["call_x"] = json!({"decision": "approve"});
    });
    assert_eq!(refused(&till, forged).await, InvalidStateKind::Seal);
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_added_always_rule_is_refused() {
    let till = Arc::new(Till::default());
    let state = paused(&till).await;
    // In the sealed rules: the seal breaks.
    let forged = edited(&state, |json| {
        json["rules"]["refund"] = json!({"decision": "approve"});
    });
    assert_eq!(refused(&till, forged).await, InvalidStateKind::Seal);
    // As an answer for a tool nobody was asked about: refused too.
    let forged = edited(&state, |json| {
        json["always"]["note"] = json!({"decision": "approve"});
    });
    assert_eq!(refused(&till, forged).await, InvalidStateKind::UnknownCall);
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_state_resumed_twice_runs_its_approved_call_once() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);
    let runner = Runner::new(answering()).state_key(key(1));
    let first = runner
        .resume(&billing(), Arc::clone(&till), state.clone())
        .await
        .unwrap();
    assert_eq!(first.final_output, "Refunded.");
    let again = runner
        .resume(&billing(), Arc::clone(&till), state)
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            RunError::InvalidState {
                kind: InvalidStateKind::Replayed,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(till.refunds.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_state_sealed_with_another_key_is_refused() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);
    let error = Runner::new(silent())
        .state_key(key(2))
        .resume(&billing(), Arc::clone(&till), state)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RunError::InvalidState {
                kind: InvalidStateKind::Seal,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);
    // A runner without a key seals with a random one: another runner cannot
    // resume its states.
    let own = Runner::new(asking())
        .run(&billing(), Arc::clone(&till), "refund A-1")
        .await
        .unwrap_err()
        .into_state();
    assert_eq!(refused(&till, own).await, InvalidStateKind::Seal);
}

#[tokio::test]
async fn an_unsealed_state_is_refused_unless_the_runner_opts_in() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);
    state.seal = None;
    assert_eq!(
        refused(&till, state.clone()).await,
        InvalidStateKind::Unsealed
    );
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);
    Runner::new(answering())
        .accept_unsealed_states(true)
        .resume(&billing(), Arc::clone(&till), state)
        .await
        .unwrap();
    assert_eq!(till.refunds.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unknown_call_id_is_an_error_at_once_and_on_resume() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    let pending = state.pending()[0].call_id.clone();
    let error = state.approve("call_9").unwrap_err();
    assert_eq!(
        error,
        ApprovalError::UnknownCall {
            call_id: "call_9".to_owned(),
            pending
        }
    );
    assert!(matches!(
        state.approve_always("note"),
        Err(ApprovalError::ToolNotPending { .. })
    ));
    let forged = edited(&state, |json| {
        json["decisions"]["call_9"] = json!({"decision": "approve"});
    });
    assert_eq!(refused(&till, forged).await, InvalidStateKind::UnknownCall);
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_expired_approval_is_refused() {
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let error = Runner::new(silent())
        .state_key(key(1))
        .approval_max_age(Duration::from_secs(1))
        .resume(&billing(), Arc::clone(&till), state)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RunError::InvalidState {
                kind: InvalidStateKind::Expired,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_run_paused_with_a_session_resumes_only_with_it() {
    let till = Arc::new(Till::default());
    let session = MemorySession::new("customer-1");
    let runner = Runner::new(silent()).state_key(key(1));
    let mut state = Runner::new(asking())
        .state_key(key(1))
        .run(&billing(), Arc::clone(&till), "refund A-1")
        .session(session.clone())
        .await
        .unwrap_err()
        .into_state();
    approve(&mut state);
    let stored = session.items(None).await.unwrap().len();

    // Without it: refused, and nothing lands in the session.
    let error = runner
        .resume(&billing(), Arc::clone(&till), state.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RunError::InvalidState {
                kind: InvalidStateKind::Session,
                ..
            }
        ),
        "{error:?}"
    );
    // With another session: refused too.
    let error = runner
        .resume(&billing(), Arc::clone(&till), state.clone())
        .session(MemorySession::new("customer-2"))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RunError::InvalidState {
            kind: InvalidStateKind::Session,
            ..
        }
    ));
    assert_eq!(session.items(None).await.unwrap().len(), stored);
    assert_eq!(till.refunds.load(Ordering::SeqCst), 0);

    // With it: runs, and the session records the output.
    Runner::new(answering())
        .state_key(key(1))
        .resume(&billing(), Arc::clone(&till), state.clone())
        .session(session.clone())
        .await
        .unwrap();
    assert_eq!(till.refunds.load(Ordering::SeqCst), 1);
    // Another runner (its own ledger, same key) finds the output in the
    // session: the call does not run again.
    let error = Runner::new(silent())
        .state_key(key(1))
        .resume(&billing(), Arc::clone(&till), state)
        .session(session.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RunError::InvalidState {
                kind: InvalidStateKind::Replayed,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(till.refunds.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_resumes_of_one_state_on_one_sqlite_file_run_the_call_once() {
    let dir = std::env::temp_dir().join(format!("agents-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ledger.db");
    let _ = std::fs::remove_file(&file);
    let till = Arc::new(Till::default());
    let mut state = paused(&till).await;
    approve(&mut state);

    // One answer between them all: the one resume that runs calls it.
    let model = answering();
    let resumes = (0..50).map(|_| {
        let (state, till, file) = (state.clone(), Arc::clone(&till), file.clone());
        let model = model.clone();
        tokio::spawn(async move {
            // A runner of its own, as in another process: the file is all
            // they share.
            let ledger = SqliteSession::open(&file, "ledger").unwrap();
            Runner::new(model)
                .state_key(key(1))
                .resume_ledger(ledger)
                .resume(&billing(), till, state)
                .await
        })
    });
    let outcomes = futures::future::join_all(resumes).await;
    let finished = outcomes
        .iter()
        .filter(|outcome| outcome.as_ref().unwrap().is_ok())
        .count();
    let replayed = outcomes
        .iter()
        .filter(|outcome| {
            matches!(
                outcome.as_ref().unwrap(),
                Err(RunError::InvalidState {
                    kind: InvalidStateKind::Replayed,
                    ..
                })
            )
        })
        .count();
    assert_eq!((finished, replayed), (1, 49));
    assert_eq!(till.refunds.load(Ordering::SeqCst), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_approval_is_used_up_by_its_call_a_reused_call_id_asks_again() {
    // Servers number calls per response (`call_0`, `call_1`, ...): the same
    // id in a later turn is another call and needs its own approval.
    let till = Arc::new(Till::default());
    let refund_call = |order: &str, cents: u32| {
        Step::items([Item::ToolCall(agents_core::ToolCall {
            call_id: "call_0".to_owned(),
            name: "refund".to_owned(),
            arguments: json!({"order_id": order, "amount_cents": cents}).to_string(),
        })])
    };
    let model = MockModel::script([refund_call("A-1", 500), refund_call("B-2", 90_000)]);
    let runner = Runner::new(model).state_key(key(1));
    let mut state = runner
        .run(&billing(), Arc::clone(&till), "refund A-1")
        .await
        .unwrap_err()
        .into_state();
    approve(&mut state);
    let error = runner
        .resume(&billing(), Arc::clone(&till), state)
        .await
        .unwrap_err();
    let again = error.into_state();
    assert_eq!(again.pending()[0].call_id, "call_0");
    assert!(again.pending()[0].arguments.contains("B-2"));
    assert_eq!(till.refunds.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn records_survive_the_pause_and_a_malformed_record_is_refused_when_read() {
    let till = Arc::new(Till::default());
    // A note runs before the refund pauses the run.
    let model = MockModel::script([
        Step::tool_calls([call(note {}, json!({"text": "customer called"}))]),
        Step::tool_calls([call(
            refund {},
            json!({"order_id": "A-1", "amount_cents": 500}),
        )]),
        Step::text("Refunded."),
    ]);
    let runner = Runner::new(model).state_key(key(1));
    let mut state = runner
        .run(&billing(), Arc::clone(&till), "note, then refund")
        .await
        .unwrap_err()
        .into_state();
    let stored = serde_json::to_string(&state).unwrap();
    approve(&mut state);
    let result = runner
        .resume(&billing(), Arc::clone(&till), state)
        .await
        .unwrap();
    let tools: Vec<&str> = result
        .tool_executions
        .iter()
        .map(|record| record.call().name.as_str())
        .collect();
    assert_eq!(tools, ["note", "refund"]);

    // A record whose call is not a tool call could not come from a runner.
    let mut json: Value = serde_json::from_str(&stored).unwrap();
    json["tool_executions"][0]["call"] = json!({"type": "user_message", "content": "hi"});
    let error = serde_json::from_value::<RunState>(json).unwrap_err();
    assert!(error.to_string().contains("pairs a tool call"), "{error}");
}
