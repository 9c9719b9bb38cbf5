//! The span tree of a run, captured with `agents_testing::SpanCapture`.
//!
//! Its own test binary, with its tests serialised: `tracing` caches which
//! callsites are enabled process-wide, and a test running spans without a
//! subscriber on another thread can race that cache.

use agents_core::prelude::*;
use agents_testing::{MockModel, SpanCapture, Step, call};
use serde_json::json;

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: card 4242")
}

/// One traced run at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn traced_run(sensitive: bool) -> SpanCapture {
    let _serial = SERIAL.lock().await;
    let (capture, _guard) = SpanCapture::install();

    let billing = Agent::<()>::builder("Billing")
        .model("gpt-4o-mini")
        .build()
        .unwrap();
    let triage = Agent::<()>::builder("Triage")
        .tool(lookup_order {})
        .handoff(&billing)
        .model_settings(ModelSettings::new().temperature(0.5))
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))])
            .with_usage(Usage::new(100, 10)),
        Step::handoff_to("Billing").with_usage(Usage::new(120, 5)),
        Step::text("Refunded.").with_usage(Usage::new(140, 3)),
    ]);
    Runner::new(model)
        .run(&triage, (), "refund A-1, card 4242")
        .config(RunConfig::new().trace_sensitive_data(sensitive))
        .await
        .unwrap();
    capture
}

#[tokio::test]
async fn a_run_with_a_tool_call_and_a_handoff_has_this_span_tree() {
    let capture = traced_run(false).await;
    insta::assert_snapshot!(capture.tree());
}

#[tokio::test]
async fn sensitive_data_is_absent_by_default_and_present_when_enabled() {
    let capture = traced_run(false).await;
    let tree = capture.tree();
    assert!(!tree.contains("4242"), "{tree}");
    for field in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
    ] {
        assert!(!capture.has_field(field), "{field} recorded by default");
    }

    let capture = traced_run(true).await;
    for field in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
    ] {
        assert!(
            capture.has_field(field),
            "{field} missing with sensitive data on"
        );
    }
    assert!(capture.tree().contains("4242"));
}

#[tokio::test]
async fn a_failed_model_call_marks_the_agent_and_the_run_span() {
    let _serial = SERIAL.lock().await;
    let (capture, _guard) = SpanCapture::install();

    let agent = Agent::<()>::builder("Triage").build().unwrap();
    let model = MockModel::script([Step::error(agents_core::ModelError::Server {
        status: 503,
        message: "overloaded".to_owned(),
    })]);
    let error = Runner::new(model).run(&agent, (), "hi").await.unwrap_err();
    assert!(matches!(error, RunError::Model { .. }), "{error:?}");

    for name in ["agents.run", "invoke_agent", "chat"] {
        let span = capture
            .find(name)
            .unwrap_or_else(|| panic!("no {name} span"));
        assert_eq!(
            span.fields.get("error.type").map(String::as_str),
            Some("model_error"),
            "{name}: {:?}",
            span.fields
        );
        assert_eq!(
            span.fields.get("otel.status_code").map(String::as_str),
            Some("ERROR"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_run_span_carries_the_workflow_group_and_trace_metadata() {
    let _serial = SERIAL.lock().await;
    let (capture, _guard) = SpanCapture::install();
    let agent = Agent::<()>::builder("Triage").build().unwrap();
    Runner::new(MockModel::script([Step::text("hi")]))
        .with_config(
            RunConfig::new()
                .workflow_name("support desk")
                .group_id("conversation-7")
                .trace_metadata("channel", "email"),
        )
        .run(&agent, (), "hello")
        .await
        .unwrap();
    let run = capture.find("agents.run").expect("a run span");
    assert_eq!(run.fields["agents.workflow.name"], "support desk");
    assert_eq!(run.fields["agents.group.id"], "conversation-7");
    assert_eq!(
        run.fields["agents.trace.metadata"],
        r#"{"channel":"email"}"#
    );
    let agent_span = capture.find("invoke_agent").expect("an agent span");
    assert_eq!(
        agent_span.fields["agents.agent.output_type"],
        "alloc::string::String"
    );
}

#[tokio::test]
async fn the_model_call_span_names_the_model_that_answered_and_those_that_failed() {
    use agents_core::model::layers::Fallback;
    let _serial = SERIAL.lock().await;
    let (capture, _guard) = SpanCapture::install();

    let agent = Agent::<()>::builder("Triage").build().unwrap();
    let down = MockModel::script([Step::error(agents_core::ModelError::Connection {
        message: "refused".to_owned(),
    })]);
    let chain = Fallback::new("primary", down).or("backup", MockModel::script([Step::text("hi")]));
    let result = Runner::new(chain).run(&agent, (), "hi").await.unwrap();
    assert_eq!(result.final_output, "hi");

    let span = capture.find("chat").expect("a chat span");
    assert_eq!(
        span.fields.get("gen_ai.response.model").map(String::as_str),
        Some("backup")
    );
    assert_eq!(
        span.fields
            .get("agents.model.failovers")
            .map(String::as_str),
        Some("primary (connection)")
    );
}

#[path = "../mcp/server.rs"]
mod mcp_server;

#[tokio::test]
async fn an_mcp_tool_call_has_a_span_naming_the_server_under_execute_tool() {
    use agents_core::mcp::McpServer;
    use rmcp::ServiceExt;

    let _serial = SERIAL.lock().await;
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = mcp_server::TestServer::default().serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    let server = McpServer::serve("calc", client)
        .await
        .unwrap()
        .allow(["add"]);
    let agent = Agent::<()>::builder("Calculator")
        .tools(server.tools().await.unwrap())
        .build()
        .unwrap();
    let (capture, _guard) = SpanCapture::install();
    let model = MockModel::script([
        Step::tool_call("add", json!({"a": 1, "b": 2})),
        Step::text("3"),
    ]);
    Runner::new(model).run(&agent, (), "1+2").await.unwrap();
    let call = capture.find("mcp_call").expect("an mcp_call span");
    assert_eq!(call.fields["mcp.server"], "calc");
    assert_eq!(call.fields["mcp.tool"], "add");
    // Nested in the runner's span of the tool call.
    let tree = capture.tree();
    let execute = tree
        .lines()
        .position(|l| l.trim_start().starts_with("execute_tool"));
    let mcp = tree
        .lines()
        .position(|l| l.trim_start().starts_with("mcp_call"));
    let indent = |i: usize| {
        tree.lines().nth(i).unwrap().len() - tree.lines().nth(i).unwrap().trim_start().len()
    };
    match (execute, mcp) {
        (Some(e), Some(m)) => assert!(m == e + 1 && indent(m) > indent(e), "{tree}"),
        _ => panic!("{tree}"),
    }
}
