//! Session behaviour through the runner, on both stores.

use std::sync::Arc;

use agents_core::guardrail::{GuardrailOutput, OutputGuardrail};
use agents_core::prelude::*;
use agents_core::session::{MemorySession, Session, SqliteSession};
use agents_core::{AgentDef, RunError};
use agents_testing::{MockModel, Step, call};
use serde_json::json;

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: paid")
}

#[agent(instructions = "Refunds.")]
struct Billing;

#[derive(Handoffs)]
enum Route {
    Billing(Billing),
}

#[agent(instructions = "Route.", tools = [lookup_order], handoffs = Route)]
struct Triage;

fn texts(items: &[Arc<Item>]) -> Vec<String> {
    items
        .iter()
        .map(|i| match &**i {
            Item::UserMessage { content } => format!("user: {content}"),
            Item::AssistantMessage { content } => format!("assistant: {content}"),
            Item::ToolCall(c) => format!("call: {}", c.name),
            Item::ToolOutput(o) => format!("output: {}", o.output),
            Item::HandoffCall(c) => format!("handoff: {}", c.name),
            Item::HandoffOutput(_) => "handoff output".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

async fn two_runs_share_history(session: impl Session + Clone + 'static) {
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::text("A-1 is paid."),
        Step::text("You asked about A-1."),
    ]);
    let runner = Runner::new(model.clone());
    runner
        .run(&Triage, (), "Is A-1 paid?")
        .session(session.clone())
        .await
        .unwrap();
    let second = runner
        .run(&Triage, (), "What did I ask?")
        .session(session.clone())
        .await
        .unwrap();
    assert_eq!(second.final_output, "You asked about A-1.");
    // The second run's model call saw the first run's whole conversation.
    assert_eq!(
        texts(&model.requests()[2].input),
        [
            "user: Is A-1 paid?",
            "call: lookup_order",
            "output: A-1: paid",
            "assistant: A-1 is paid.",
            "user: What did I ask?"
        ]
    );
    assert_eq!(session.items(None).await.unwrap().len(), 6);
    assert_eq!(
        session.last_agent().await.unwrap().as_deref(),
        Some("Triage")
    );
}

#[tokio::test]
async fn a_second_run_sees_the_first_runs_history_in_memory() {
    two_runs_share_history(MemorySession::new("s1")).await;
}

#[tokio::test]
async fn a_second_run_sees_the_first_runs_history_in_sqlite() {
    two_runs_share_history(SqliteSession::in_memory("s1").unwrap()).await;
}

async fn limit_pop_clear(session: impl Session + Clone + 'static) {
    session
        .add_items(
            ["one", "two", "three", "four"]
                .map(|t| Arc::new(Item::user(t)))
                .to_vec(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        texts(&session.items(Some(2)).await.unwrap()),
        ["user: three", "user: four"]
    );

    // A run with a limit only loads the last items.
    let model = MockModel::script([Step::text("ok")]);
    Runner::new(model.clone())
        .run(&Triage, (), "five")
        .session(session.clone())
        .session_limit(2)
        .await
        .unwrap();
    assert_eq!(
        texts(&model.requests()[0].input),
        ["user: three", "user: four", "user: five"]
    );

    assert_eq!(
        session.pop_item().await.unwrap(),
        Some(Item::assistant("ok"))
    );
    assert_eq!(session.items(None).await.unwrap().len(), 5);
    session.clear().await.unwrap();
    assert!(session.items(None).await.unwrap().is_empty());
    assert_eq!(session.last_agent().await.unwrap(), None);
    assert_eq!(session.pop_item().await.unwrap(), None);
}

#[tokio::test]
async fn limit_pop_and_clear_in_memory() {
    limit_pop_clear(MemorySession::new("s2")).await;
}

#[tokio::test]
async fn limit_pop_and_clear_in_sqlite() {
    limit_pop_clear(SqliteSession::in_memory("s2").unwrap()).await;
}

#[tokio::test]
async fn the_next_run_continues_with_the_agent_that_answered_last() {
    let session = SqliteSession::in_memory("s3").unwrap();
    let model = MockModel::script([
        Step::handoff::<Billing>(),
        Step::text("Refund issued."),
        Step::text("Anything else on the refund?"),
    ]);
    let runner = Runner::new(model.clone());
    let first = runner
        .run(&Triage, (), "refund")
        .session(session.clone())
        .await
        .unwrap();
    assert_eq!(&*first.last_agent, "Billing");
    assert_eq!(
        session.last_agent().await.unwrap().as_deref(),
        Some(Billing::NAME)
    );

    let second = runner
        .run(&Triage, (), "thanks")
        .session(session.clone())
        .await
        .unwrap();
    assert_eq!(&*second.last_agent, "Billing");
    assert_eq!(
        &*model.requests()[2].agent,
        "Billing",
        "no detour through Triage"
    );
}

#[tokio::test]
async fn a_tripped_output_guardrail_keeps_the_output_out_of_the_session() {
    let session = MemorySession::new("s4");
    let model = MockModel::script([Step::text("secret 4242")]);
    let error = Runner::new(model)
        .run(&Triage, (), "tell me")
        .session(session.clone())
        .output_guardrail(OutputGuardrail::new("no_secrets", |_ctx, out: &String| {
            let leaked = out.contains("4242");
            Box::pin(async move {
                if leaked {
                    GuardrailOutput::trip("leak")
                } else {
                    GuardrailOutput::pass()
                }
            })
        }))
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::OutputGuardrailTripwire { .. }));
    assert_eq!(
        texts(&session.items(None).await.unwrap()),
        ["user: tell me"]
    );
}

#[tokio::test]
async fn usage_is_totalled_per_run_and_per_agent() {
    let model = MockModel::script([
        Step::handoff::<Billing>().with_usage(Usage::new(10, 1)),
        Step::text("done").with_usage(Usage::new(20, 2)),
    ]);
    let result = Runner::new(model).run(&Triage, (), "refund").await.unwrap();
    assert_eq!(result.usage.input_tokens, 30);
    assert_eq!(result.usage_by_agent["Triage"], Usage::new(10, 1));
    assert_eq!(result.usage_by_agent["Billing"], Usage::new(20, 2));
}
