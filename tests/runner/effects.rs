//! The effect seam: a run recorded through one `Effects` implementation and
//! replayed through another, without calling the model or a tool again,
//! gives the same transcript. The loop is deterministic given its effects.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use agents_core::model::{BoxFuture, ModelError, ModelResponse};
use agents_core::prelude::*;
use agents_core::run::{
    Effects, InProcess, ModelCall, RunState, SessionHistory, StateKey, ToolInvocation,
};
use agents_core::session::{MemorySession, Session, SessionError};
use agents_core::{Item, ToolFailure};
use agents_testing::{MockModel, Step, call, transcript};
use serde_json::json;

#[derive(Default)]
struct Shop {
    lookups: AtomicU32,
    refunds: AtomicU32,
}

/// Look up an order by its id.
#[tool]
fn lookup_order(ctx: &RunContext<Arc<Shop>>, order_id: String) -> String {
    ctx.lookups.fetch_add(1, Ordering::SeqCst);
    format!("{order_id}: charged twice")
}

/// Refund part of an order. Amount in cents.
#[tool(needs_approval)]
fn refund(ctx: &RunContext<Arc<Shop>>, order_id: String, amount_cents: u32) -> String {
    ctx.refunds.fetch_add(1, Ordering::SeqCst);
    format!("refunded {amount_cents} on {order_id}")
}

fn triage() -> Agent<Arc<Shop>> {
    let billing = Agent::<Arc<Shop>>::builder("Billing")
        .tool(refund {})
        .build()
        .unwrap();
    Agent::<Arc<Shop>>::builder("Triage")
        .tool(lookup_order {})
        .handoff(&billing)
        .build()
        .unwrap()
}

/// Every effect result, in the order the loop asked for it (tool results
/// by call id: a turn's tools run concurrently).
/// One session write: the items and the agent holding the conversation.
type Save = (Vec<Arc<Item>>, Option<String>);

#[derive(Default)]
struct Journal {
    model: Vec<(Arc<str>, ModelResponse)>,
    tools: BTreeMap<String, Result<String, ToolFailure>>,
    run_ids: Vec<Arc<str>>,
    state_ids: Vec<Arc<str>>,
    times: Vec<SystemTime>,
    loads: Vec<SessionHistory>,
    saves: Vec<Save>,
}

/// Makes every effect in process and writes down its result.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Journal>>);

impl<Ctx: Send + Sync> Effects<Ctx> for Recorder {
    fn model_call<'a>(
        &'a self,
        call: ModelCall<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let agent = call.request().agent.clone();
            let response = call.run().await?;
            let mut journal = self.0.lock().unwrap();
            journal.model.push((agent, response.clone()));
            Ok(response)
        })
    }

    fn tool_call<'a>(
        &'a self,
        call: ToolInvocation<'a, Ctx>,
    ) -> BoxFuture<'a, Result<String, ToolFailure>> {
        Box::pin(async move {
            let call_id = call.call().call_id.clone();
            let result = call.run().await;
            let mut journal = self.0.lock().unwrap();
            journal.tools.insert(call_id, result.clone());
            result
        })
    }

    fn run_id(&self) -> Arc<str> {
        let id = <InProcess as Effects<Ctx>>::run_id(&InProcess);
        self.0.lock().unwrap().run_ids.push(Arc::clone(&id));
        id
    }

    fn state_id(&self) -> Arc<str> {
        let id = <InProcess as Effects<Ctx>>::state_id(&InProcess);
        self.0.lock().unwrap().state_ids.push(Arc::clone(&id));
        id
    }

    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        self.0.lock().unwrap().times.push(now);
        now
    }

    fn load_session<'a>(
        &'a self,
        session: &'a dyn Session,
        limit: Option<usize>,
    ) -> BoxFuture<'a, Result<SessionHistory, SessionError>> {
        Box::pin(async move {
            let history =
                <InProcess as Effects<Ctx>>::load_session(&InProcess, session, limit).await?;
            self.0.lock().unwrap().loads.push(history.clone());
            Ok(history)
        })
    }

    fn save_session<'a>(
        &'a self,
        session: &'a dyn Session,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        self.0
            .lock()
            .unwrap()
            .saves
            .push((items.clone(), agent.clone()));
        session.add_items(items, agent)
    }
}

/// Answers every effect from a journal; calls nothing. Session writes are
/// collected for comparison, not applied.
#[derive(Clone)]
struct Replayer {
    journal: Arc<Mutex<Journal>>,
    saves: Arc<Mutex<Vec<Save>>>,
}

impl<Ctx: Send + Sync> Effects<Ctx> for Replayer {
    fn model_call<'a>(
        &'a self,
        call: ModelCall<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let mut journal = self.journal.lock().unwrap();
        assert!(!journal.model.is_empty(), "a model call not in the journal");
        let (agent, response) = journal.model.remove(0);
        assert_eq!(call.request().agent, agent, "the replayed call's agent");
        Box::pin(async move { Ok(response) })
    }

    fn tool_call<'a>(
        &'a self,
        call: ToolInvocation<'a, Ctx>,
    ) -> BoxFuture<'a, Result<String, ToolFailure>> {
        let call_id = &call.call().call_id;
        let result = self.journal.lock().unwrap().tools.remove(call_id);
        let result = result.unwrap_or_else(|| panic!("tool call {call_id} not in the journal"));
        Box::pin(async move { result })
    }

    fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
        // A replayed run's timer never fires: nothing is slow in a replay.
        Box::pin(std::future::pending())
    }

    fn run_id(&self) -> Arc<str> {
        self.journal.lock().unwrap().run_ids.remove(0)
    }

    fn state_id(&self) -> Arc<str> {
        self.journal.lock().unwrap().state_ids.remove(0)
    }

    fn now(&self) -> SystemTime {
        self.journal.lock().unwrap().times.remove(0)
    }

    fn load_session<'a>(
        &'a self,
        _session: &'a dyn Session,
        _limit: Option<usize>,
    ) -> BoxFuture<'a, Result<SessionHistory, SessionError>> {
        let history = self.journal.lock().unwrap().loads.remove(0);
        Box::pin(async move { Ok(history) })
    }

    fn save_session<'a>(
        &'a self,
        _session: &'a dyn Session,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        self.saves.lock().unwrap().push((items, agent));
        Box::pin(async { Ok(()) })
    }
}

/// A state as JSON without what a replay observes anew: the times of the
/// execution records, and so the seal over them.
fn comparable(state: &RunState) -> serde_json::Value {
    let mut json = serde_json::to_value(state).unwrap();
    json.as_object_mut().unwrap().remove("seal");
    for record in json["tool_executions"].as_array_mut().unwrap() {
        record["started_at"] = serde_json::Value::Null;
        record["duration"] = serde_json::Value::Null;
    }
    json
}

fn paused(error: RunError) -> RunState {
    match error {
        RunError::ApprovalRequired { state } => *state,
        other => panic!("expected a pause for approval, got {other:?}"),
    }
}

/// Runs the conversation (a tool, a handoff, an approval pause, the
/// approval, the resume) with `effects` and `model`, in a session whose
/// history is one earlier exchange.
async fn conversation(
    effects: impl Effects<Arc<Shop>> + Clone + 'static,
    model: MockModel,
    shop: &Arc<Shop>,
) -> (RunState, String) {
    let session = MemorySession::new("customer-7");
    session
        .add_items(
            vec![
                Arc::new(Item::user("hello")),
                Arc::new(Item::assistant("Hi!")),
            ],
            Some("Triage".to_owned()),
        )
        .await
        .unwrap();
    // One key for the recording and the replay, as for runners on several
    // workers of a durable engine.
    let key = StateKey::new([7u8; 32]).unwrap();
    let runner = Runner::new(model).state_key(key);
    let error = runner
        .run(&triage(), Arc::clone(shop), "I was charged twice for A-1")
        .session(session.clone())
        .effects(effects.clone())
        .await
        .unwrap_err();
    let mut state = paused(error);
    let stored = serde_json::to_string(&state).unwrap();
    let call_id = state.pending()[0].call_id.clone();
    state.approve(call_id).unwrap();
    let result = runner
        .resume(&triage(), Arc::clone(shop), state)
        .session(session)
        .effects(effects)
        .await
        .unwrap();
    let state: RunState = serde_json::from_str(&stored).unwrap();
    (state, transcript(&result))
}

#[tokio::test]
async fn a_recorded_run_replays_to_the_same_transcript_without_calling_anything() {
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::handoff_to("Billing"),
        Step::tool_calls([call(
            refund {},
            json!({"order_id": "A-1", "amount_cents": 500}),
        )]),
        Step::text("Refunded 5.00 on A-1."),
    ]);
    let recorder = Recorder::default();
    let (recorded_state, recorded) = conversation(recorder.clone(), model.clone(), &shop).await;
    model.assert_complete();
    assert_eq!(shop.lookups.load(Ordering::SeqCst), 1);
    assert_eq!(shop.refunds.load(Ordering::SeqCst), 1);
    assert!(recorded.contains("Refunded 5.00 on A-1."), "{recorded}");
    assert!(recorded.contains("Triage -> Billing"), "{recorded}");

    let journal = std::mem::take(&mut *recorder.0.lock().unwrap());
    let (model_calls, tool_calls) = (journal.model.len(), journal.tools.len());
    assert_eq!((model_calls, tool_calls), (4, 2));
    let recorded_saves = journal.saves.clone();
    let replayer = Replayer {
        journal: Arc::new(Mutex::new(journal)),
        saves: Arc::default(),
    };
    // A model with no script: any call it receives fails the run.
    let silent = MockModel::script([]);
    let (replayed_state, replayed) = conversation(replayer.clone(), silent.clone(), &shop).await;

    assert_eq!(replayed, recorded, "the replayed transcript");
    assert_eq!(
        comparable(&replayed_state),
        comparable(&recorded_state),
        "the paused state, run id included"
    );
    assert!(replayed_state.seal.is_some() && recorded_state.seal.is_some());
    assert!(
        silent.requests().is_empty(),
        "the model was called on replay"
    );
    assert_eq!(shop.lookups.load(Ordering::SeqCst), 1, "a tool ran again");
    assert_eq!(shop.refunds.load(Ordering::SeqCst), 1, "a tool ran again");
    let replayed_saves = replayer.saves.lock().unwrap().clone();
    assert_eq!(replayed_saves, recorded_saves, "the session writes");
    let journal = replayer.journal.lock().unwrap();
    assert!(journal.model.is_empty() && journal.tools.is_empty());
}
