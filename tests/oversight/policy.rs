//! Policies: every decision from every level, the combination rule, rules
//! loaded from a file, argument rewriting on the record.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use agents_core::policy::{
    Action, ArgumentCondition, Decision, PolicyError, Rule, RuleDecision, RulePolicy,
};
use agents_core::prelude::*;
use agents_core::{Item, RunError};
use agents_testing::{MockModel, Step, call, transcript};
use serde_json::json;

/// Counts what ran.
#[derive(Default)]
struct Desk {
    refunds: AtomicU32,
    searches: AtomicU32,
}

/// Refund part of an order. Amount in cents.
#[tool]
fn refund(ctx: &RunContext<Arc<Desk>>, order_id: String, amount_cents: u32) -> String {
    ctx.refunds.fetch_add(1, Ordering::SeqCst);
    format!("refunded {amount_cents} on {order_id}")
}

/// Search orders.
#[tool]
fn search_orders(ctx: &RunContext<Arc<Desk>>, query: String, limit: u32) -> String {
    ctx.searches.fetch_add(1, Ordering::SeqCst);
    format!("{limit} rows for {query}")
}

fn agent(policy: Option<Arc<dyn agents_core::policy::Policy<Arc<Desk>>>>) -> Agent<Arc<Desk>> {
    let mut builder = Agent::<Arc<Desk>>::builder("Billing")
        .tool(refund {})
        .tool(search_orders {});
    if let Some(policy) = policy {
        builder = builder.policy(move |ctx: &RunContext<Arc<Desk>>, action: &Action<'_>| {
            policy.decide(ctx, action)
        });
    }
    builder.build().unwrap()
}

fn refund_step(order: &str, cents: u32) -> Step {
    Step::tool_calls([call(
        refund {},
        json!({"order_id": order, "amount_cents": cents}),
    )])
}

/// The output the model received for the first tool call.
fn first_output(model: &MockModel) -> String {
    model.requests()[1]
        .input
        .iter()
        .find_map(|item| match &**item {
            Item::ToolOutput(output) => Some(output.output.clone()),
            _ => None,
        })
        .unwrap()
}

fn deny(_: &RunContext<Arc<Desk>>, action: &Action<'_>) -> Decision {
    match action {
        Action::ToolCall { .. } => Decision::Deny {
            message: "refunds are closed today".to_owned(),
        },
        _ => Decision::Allow,
    }
}

#[tokio::test]
async fn a_runner_policy_denies_and_the_model_is_told() {
    let desk = Arc::new(Desk::default());
    let model = MockModel::script([refund_step("A-1", 500), Step::text("Sorry.")]);
    let result = Runner::new(model.clone())
        .policy(deny)
        .run(&agent(None), Arc::clone(&desk), "refund")
        .await
        .unwrap();
    assert_eq!(result.final_output, "Sorry.");
    assert_eq!(desk.refunds.load(Ordering::SeqCst), 0);
    assert_eq!(
        first_output(&model),
        "tool `refund` was not run: refunds are closed today"
    );
}

#[tokio::test]
async fn an_agent_policy_requires_approval_and_the_approved_call_runs_once() {
    let desk = Arc::new(Desk::default());
    let model = MockModel::script([refund_step("A-1", 500), Step::text("Done.")]);
    let ask: Arc<dyn agents_core::policy::Policy<Arc<Desk>>> =
        Arc::new(|_: &RunContext<Arc<Desk>>, _: &Action<'_>| Decision::RequireApproval);
    let runner = Runner::new(model.clone());
    // The policy also asks about model calls: a required approval there
    // cannot be met, so only tool calls get it.
    let only_tools: Arc<dyn agents_core::policy::Policy<Arc<Desk>>> = Arc::new(
        move |ctx: &RunContext<Arc<Desk>>, action: &Action<'_>| match action {
            Action::ToolCall { .. } => ask.decide(ctx, action),
            _ => Decision::Allow,
        },
    );
    let mut state = runner
        .run(
            &agent(Some(Arc::clone(&only_tools))),
            Arc::clone(&desk),
            "refund",
        )
        .await
        .unwrap_err()
        .into_state();
    assert_eq!(state.pending().len(), 1);
    assert_eq!(desk.refunds.load(Ordering::SeqCst), 0);
    let call_id = state.pending()[0].call_id.clone();
    state.approve(call_id).unwrap();
    let result = runner
        .resume(&agent(Some(only_tools)), Arc::clone(&desk), state)
        .await
        .unwrap();
    assert_eq!(result.final_output, "Done.");
    assert_eq!(desk.refunds.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_run_policy_rewrites_arguments_on_the_record() {
    let desk = Arc::new(Desk::default());
    let model = MockModel::script([
        Step::tool_calls([call(
            search_orders {},
            json!({"query": "late", "limit": 5000}),
        )]),
        Step::text("Found them."),
    ]);
    let cap = RulePolicy::new([Rule::tool(
        "search_orders",
        RuleDecision::Set([("/limit".to_owned(), json!(20))].into()),
    )])
    .unwrap();
    let result = Runner::new(model.clone())
        .run(&agent(None), Arc::clone(&desk), "late orders?")
        .policy(cap)
        .await
        .unwrap();
    assert_eq!(first_output(&model), "20 rows for late");
    let record = &result.tool_executions[0];
    assert_eq!(record.call().arguments, r#"{"limit":20,"query":"late"}"#);
    assert_eq!(
        record.original_arguments(),
        Some(r#"{"limit":5000,"query":"late"}"#)
    );
    insta::assert_snapshot!(transcript(&result));
}

#[tokio::test]
async fn any_deny_wins_and_approval_beats_allow_and_rewrites_pass_on() {
    let desk = Arc::new(Desk::default());
    // The runner rewrites, the agent's policy sees the rewritten call and
    // asks for approval, the run's denies: the deny wins.
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let witness = Arc::clone(&seen);
    let agent_policy: Arc<dyn agents_core::policy::Policy<Arc<Desk>>> =
        Arc::new(move |_: &RunContext<Arc<Desk>>, action: &Action<'_>| {
            if let Action::ToolCall { call, .. } = action {
                *witness.lock().unwrap() = call.arguments.clone();
                return Decision::RequireApproval;
            }
            Decision::Allow
        });
    let rewrite = |_: &RunContext<Arc<Desk>>, action: &Action<'_>| match action {
        Action::ToolCall { .. } => Decision::Rewrite {
            arguments: r#"{"order_id":"A-1","amount_cents":1}"#.to_owned(),
        },
        _ => Decision::Allow,
    };
    let model = MockModel::script([refund_step("A-1", 500), Step::text("No.")]);
    Runner::new(model.clone())
        .policy(rewrite)
        .run(
            &agent(Some(Arc::clone(&agent_policy))),
            Arc::clone(&desk),
            "refund",
        )
        .policy(deny)
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        r#"{"order_id":"A-1","amount_cents":1}"#
    );
    assert!(first_output(&model).contains("refunds are closed today"));
    assert_eq!(desk.refunds.load(Ordering::SeqCst), 0);

    // Without the deny, the approval beats the rewrite's allow: a pause.
    let model = MockModel::script([refund_step("A-1", 500)]);
    let error = Runner::new(model)
        .policy(rewrite)
        .run(&agent(Some(agent_policy)), Arc::clone(&desk), "refund")
        .await
        .unwrap_err();
    let state = error.into_state();
    assert_eq!(
        state.pending()[0].arguments,
        r#"{"order_id":"A-1","amount_cents":1}"#
    );
}

#[tokio::test]
async fn a_denied_model_call_ends_the_run_with_a_typed_error() {
    let desk = Arc::new(Desk::default());
    let closed = RulePolicy::new([Rule::model_call(RuleDecision::Deny(
        "the billing desk is closed".to_owned(),
    ))
    .agent("Bill*")])
    .unwrap();
    let model = MockModel::script([]);
    let error = Runner::new(model)
        .policy(closed)
        .run(&agent(None), Arc::clone(&desk), "refund")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RunError::PolicyDenied { agent, message, .. }
            if agent == "Billing" && message == "the billing desk is closed"),
        "{error:?}"
    );
}

fn sample() -> RulePolicy {
    RulePolicy::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/oversight/fixtures/policy.json"
    ))
    .unwrap()
}

fn decide(policy: &RulePolicy, agent: &str, tool: &str, arguments: serde_json::Value) -> Decision {
    let call = agents_core::ToolCall {
        call_id: "c".to_owned(),
        name: tool.to_owned(),
        arguments: arguments.to_string(),
    };
    policy.decide_action(&Action::ToolCall { agent, call: &call })
}

#[test]
fn rules_from_the_sample_file_match_by_glob_arguments_and_priority() {
    let policy = sample();
    assert_eq!(policy.rules().count(), 4);
    // Glob and range.
    assert_eq!(
        decide(
            &policy,
            "Billing",
            "refund",
            json!({"order_id": "A-1", "amount_cents": 25000})
        ),
        Decision::RequireApproval
    );
    assert_eq!(
        decide(
            &policy,
            "Billing",
            "refund_duplicate",
            json!({"order_id": "A-1", "amount_cents": 10000})
        ),
        Decision::RequireApproval
    );
    assert_eq!(
        decide(
            &policy,
            "Billing",
            "refund",
            json!({"order_id": "A-1", "amount_cents": 9999})
        ),
        Decision::Allow
    );
    // The higher priority wins when both match.
    assert!(matches!(
        decide(&policy, "Billing", "refund", json!({"order_id": "X-1", "amount_cents": 50000})),
        Decision::Deny { message } if message.contains("fraud desk")
    ));
    // `?` matches one character; `set` rewrites.
    assert_eq!(
        decide(
            &policy,
            "Billing",
            "search_orders",
            json!({"query": "q", "limit": 999})
        ),
        Decision::Rewrite {
            arguments: r#"{"limit":20,"query":"q"}"#.to_owned()
        }
    );
    // By agent.
    assert!(matches!(
        decide(&policy, "Intern", "delete_order", json!({})),
        Decision::Deny { .. }
    ));
    assert_eq!(
        decide(&policy, "Manager", "delete_order", json!({})),
        Decision::Allow
    );
}

#[test]
fn rules_in_code_and_bad_files_fail_clearly() {
    let policy = RulePolicy::new([Rule::tool("refund", RuleDecision::RequireApproval)
        .when("/amount_cents", ArgumentCondition::in_range(100.0, 200.0))])
    .unwrap();
    assert_eq!(
        decide(&policy, "A", "refund", json!({"amount_cents": 150})),
        Decision::RequireApproval
    );
    assert_eq!(
        decide(&policy, "A", "refund", json!({"amount_cents": "150"})),
        Decision::Allow
    );
    let error =
        RulePolicy::from_json(r#"{"rules": [{"tool": "x", "decision": "maybe"}]}"#).unwrap_err();
    assert!(
        matches!(&error, PolicyError::Parse(message) if message.contains("rules[0].decision")),
        "{error}"
    );
    let error =
        RulePolicy::from_json(r#"{"rules": [{"tool": "[x", "decision": "allow"}]}"#).unwrap_err();
    assert!(matches!(error, PolicyError::Pattern { .. }), "{error}");
}

#[tokio::test]
async fn a_denied_handoff_keeps_the_agent_and_tells_the_model() {
    let desk = Arc::new(Desk::default());
    let billing = agent(None);
    let triage = Agent::<Arc<Desk>>::builder("Triage")
        .handoff(&billing)
        .build()
        .unwrap();
    let rules = RulePolicy::from_json(
        r#"{"rules": [{"on": "handoff", "agent": "Triage", "tool": "transfer_to_*",
                       "decision": {"deny": "billing is closed; answer yourself"}}]}"#,
    )
    .unwrap();
    let model = MockModel::script([
        Step::handoff_to("Billing"),
        Step::text("Billing is closed today."),
    ]);
    let result = Runner::new(model.clone())
        .policy(rules)
        .run(&triage, Arc::clone(&desk), "refund")
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Triage");
    let told = model.requests()[1]
        .input
        .iter()
        .find_map(|item| match &**item {
            Item::HandoffOutput(output) => Some(output.output.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        told,
        "error: the handoff `transfer_to_billing` was refused: billing is closed; answer yourself"
    );
}

/// Where a policy is set.
#[derive(Debug, Clone, Copy)]
enum Level {
    Runner,
    Agent,
    Run,
}

/// Runs a refund of 5.00 on A-1 with `decision` (for tool calls) set at
/// `level`; what happened: refunds made, the output the model saw (if the
/// run went on), whether it paused.
async fn with_decision_at(level: Level, decision: Decision) -> (u32, Option<String>, bool) {
    let desk = Arc::new(Desk::default());
    let pauses = decision == Decision::RequireApproval;
    let policy = move |_: &RunContext<Arc<Desk>>, action: &Action<'_>| match action {
        Action::ToolCall { .. } => decision.clone(),
        _ => Decision::Allow,
    };
    // A second answer only when the run goes on after the tool call.
    let model = MockModel::script([refund_step("A-1", 500)]);
    if !pauses {
        model.push([Step::text("ok")]);
    }
    let mut runner = Runner::new(model.clone());
    let mut builder = Agent::<Arc<Desk>>::builder("Billing").tool(refund {});
    match level {
        Level::Runner => runner = runner.policy(policy.clone()),
        Level::Agent => builder = builder.policy(policy.clone()),
        Level::Run => {}
    }
    let agent = builder.build().unwrap();
    let mut run = runner.run(&agent, Arc::clone(&desk), "refund");
    if let Level::Run = level {
        run = run.policy(policy);
    }
    let paused = matches!(run.await, Err(RunError::ApprovalRequired { .. }));
    let seen = (!paused).then(|| first_output(&model));
    (desk.refunds.load(Ordering::SeqCst), seen, paused)
}

#[tokio::test]
async fn every_decision_works_from_every_level() {
    for level in [Level::Runner, Level::Agent, Level::Run] {
        let (refunds, seen, paused) = with_decision_at(level, Decision::Allow).await;
        assert_eq!((refunds, paused), (1, false), "{level:?} allow");
        assert_eq!(
            seen.as_deref(),
            Some("refunded 500 on A-1"),
            "{level:?} allow"
        );

        let deny = Decision::Deny {
            message: "no".to_owned(),
        };
        let (refunds, seen, paused) = with_decision_at(level, deny).await;
        assert_eq!((refunds, paused), (0, false), "{level:?} deny");
        assert_eq!(
            seen.as_deref(),
            Some("tool `refund` was not run: no"),
            "{level:?} deny"
        );

        let (refunds, _, paused) = with_decision_at(level, Decision::RequireApproval).await;
        assert_eq!((refunds, paused), (0, true), "{level:?} approval");

        let rewrite = Decision::Rewrite {
            arguments: r#"{"order_id":"A-1","amount_cents":7}"#.to_owned(),
        };
        let (refunds, seen, paused) = with_decision_at(level, rewrite).await;
        assert_eq!((refunds, paused), (1, false), "{level:?} rewrite");
        assert_eq!(
            seen.as_deref(),
            Some("refunded 7 on A-1"),
            "{level:?} rewrite"
        );
    }
}
