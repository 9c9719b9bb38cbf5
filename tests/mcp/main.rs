//! MCP: agents using the tools of Model Context Protocol servers, through
//! full runs on the scripted mock model. The server is the tests' own
//! (`server.rs`, written with `rmcp`): in process over an in-memory duplex,
//! and over stdio as a child process (`mcp-test-server`). `interop.rs`
//! runs a server nobody here wrote.

mod interop;
mod server;

use std::time::Duration;

use agents_core::mcp::{McpServer, McpTool};
use agents_core::prelude::*;
use agents_core::{AgentError, Item};
use agents_testing::{MockModel, Step, assert_run_snapshot, call_named};
use rmcp::ServiceExt;
use serde_json::json;

/// A new instance of the tests' server in process; the client's end of
/// the in-memory duplex it serves.
fn duplex() -> tokio::io::DuplexStream {
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server::TestServer::default().serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    client
}

/// The tests' server in process, connected.
async fn in_process() -> McpServer {
    McpServer::serve("test", duplex()).await.expect("connects")
}

async fn agent_with(server: &McpServer) -> Agent<()> {
    Agent::builder("Assistant")
        .instructions("Use the tools.")
        .tools(server.tools().await.expect("lists the tools"))
        .build()
        .expect("builds")
}

/// The outputs of a run's tool calls, in order.
fn outputs(result: &RunResult<String>) -> Vec<&str> {
    result
        .tool_executions
        .iter()
        .map(|record| record.output().output.as_str())
        .collect()
}

fn names(tools: &[McpTool]) -> Vec<String> {
    let mut names: Vec<String> = tools
        .iter()
        .map(|tool| Tool::<()>::name(tool).to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_servers_tools_are_listed_with_their_schemas() {
    let server = in_process().await;
    let tools = server.tools().await.unwrap();
    assert_eq!(
        names(&tools),
        [
            "add",
            "echo",
            "fail",
            "free_form",
            "lookup",
            "retire_echo",
            "slow",
            "whoami"
        ]
    );
    let lookup = tools.iter().find(|t| t.remote_name() == "lookup").unwrap();
    let definition = Tool::<()>::definition(lookup);
    assert_eq!(
        definition.description,
        "Looks a word up; the language is optional."
    );
    // Strict: every property required, the optional one nullable, no
    // other properties.
    assert!(definition.strict);
    assert_eq!(
        definition.parameters["required"],
        json!(["language", "word"])
    );
    assert_eq!(definition.parameters["additionalProperties"], json!(false));
    // An open object cannot be strict: sent as the server wrote it.
    let free = tools
        .iter()
        .find(|t| t.remote_name() == "free_form")
        .unwrap();
    assert!(!Tool::<()>::strict(free));
    assert!(free.strict_error().is_some());
    assert_eq!(
        Tool::<()>::parameters(free)["additionalProperties"],
        json!(true)
    );
}

#[tokio::test]
async fn a_prefix_and_filters_shape_the_tool_list() {
    let server = McpServer::serve("calc", duplex())
        .await
        .unwrap()
        .allow(["add", "echo", "fail"])
        .deny(["fail"])
        .with_prefix("calc_");
    let tools = server.tools().await.unwrap();
    assert_eq!(names(&tools), ["calc_add", "calc_echo"]);
    // The server is still called by its own name.
    let agent = agent_with(&server).await;
    let model = MockModel::script([
        Step::tool_call("calc_add", json!({"a": 2, "b": 3})),
        Step::text("5"),
    ]);
    let result = Runner::new(model).run(&agent, (), "2+3?").await.unwrap();
    let output = &result.tool_executions[0];
    assert_eq!(output.output().output, r#"{"sum":5}"#);
}

#[tokio::test]
async fn a_run_calls_mcp_tools_and_the_model_sees_their_results() {
    let server = in_process().await;
    let agent = agent_with(&server).await;
    let model = MockModel::script([
        Step::tool_calls([
            call_named("add", json!({"a": 40, "b": 2})),
            call_named("echo", json!({"text": "hello"})),
            call_named("lookup", json!({"word": "ship", "language": null})),
        ]),
        Step::tool_call("fail", json!({})),
        Step::text("All done."),
    ]);
    let runner = Runner::new(model.clone());
    let result = runner.run(&agent, (), "go").await.unwrap();
    assert_eq!(result.final_output, "All done.");
    // A result with isError went back to the model as an error output, and
    // the run went on: degraded, with the failure listed.
    assert_eq!(result.status, agents_core::run::RunStatus::Degraded);
    let outputs: Vec<(String, bool)> = result
        .tool_executions
        .iter()
        .map(|record| (record.output().output.clone(), record.succeeded()))
        .collect();
    assert_eq!(
        outputs,
        [
            (r#"{"sum":42}"#.to_owned(), true),
            ("hello".to_owned(), true),
            // The strict schema's null stands for an omitted field.
            ("ship (no language)".to_owned(), true),
            ("tool `fail` failed: the disk is on fire".to_owned(), false),
        ]
    );
    // The model's second request carries the outputs of the first turn.
    let second = &model.requests()[1];
    let seen: Vec<String> = second
        .input
        .iter()
        .filter_map(|item| match &**item {
            Item::ToolOutput(output) => Some(output.output.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(seen, [r#"{"sum":42}"#, "hello", "ship (no language)"]);
    assert_run_snapshot!(result);
}

#[tokio::test]
async fn a_slow_mcp_tool_times_out_like_any_tool() {
    let server = in_process().await;
    let agent = agent_with(&server).await;
    let model = MockModel::script([
        Step::tool_call("slow", json!({"ms": 5_000})),
        Step::text("gave up"),
    ]);
    let started = std::time::Instant::now();
    let result = Runner::new(model)
        .run(&agent, (), "go")
        .tool_timeout(Duration::from_millis(200))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    let record = &result.tool_executions[0];
    assert!(!record.succeeded());
    assert!(
        record.output().output.contains("timed out"),
        "{}",
        record.output().output
    );
    // The server is still usable after the abandoned call.
    let again = MockModel::script([Step::tool_call("slow", json!({"ms": 1})), Step::text("ok")]);
    let result = Runner::new(again).run(&agent, (), "go").await.unwrap();
    assert_eq!(result.tool_executions[0].output().output, "slept 1 ms");
}

#[tokio::test]
async fn meta_reaches_the_server_and_never_the_model() {
    let mut meta = serde_json::Map::new();
    meta.insert("token".to_owned(), json!("s3cr3t-token"));
    let server = McpServer::serve("auth", duplex())
        .await
        .unwrap()
        .allow(["whoami"])
        .with_meta(meta);
    assert!(!format!("{server:?}").contains("s3cr3t"));
    let agent = agent_with(&server).await;
    let model = MockModel::script([Step::tool_call("whoami", json!({})), Step::text("ok")]);
    let result = Runner::new(model.clone())
        .run(&agent, (), "who?")
        .await
        .unwrap();
    assert_eq!(
        result.tool_executions[0].output().output,
        "token: s3cr3t-token"
    );
    for request in model.requests() {
        let request = serde_json::to_string(&request.tools).unwrap();
        assert!(!request.contains("s3cr3t"), "{request}");
    }
}

#[tokio::test]
async fn a_list_change_refreshes_the_list_and_disables_a_retired_tool() {
    let server = in_process().await;
    let agent = agent_with(&server).await;
    let model = MockModel::script([
        Step::tool_call("retire_echo", json!({})),
        Step::text("retired"),
    ]);
    Runner::new(model).run(&agent, (), "go").await.unwrap();
    // The notification arrives on its own: wait for the refreshed list.
    let mut listed = names(&server.tools().await.unwrap());
    for _ in 0..100 {
        if !listed.contains(&"echo".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        listed = names(&server.tools().await.unwrap());
    }
    assert!(!listed.contains(&"echo".to_owned()), "{listed:?}");
    // The agent built from the earlier list no longer offers `echo`.
    let model = MockModel::script([Step::text("ok")]);
    Runner::new(model.clone())
        .run(&agent, (), "go")
        .await
        .unwrap();
    let offered: Vec<String> = model.requests()[0]
        .tools
        .iter()
        .map(|tool| tool.name.clone())
        .collect();
    assert!(!offered.contains(&"echo".to_owned()), "{offered:?}");
    assert!(offered.contains(&"add".to_owned()));
}

/// Echo the text back.
#[tool]
fn echo(text: String) -> String {
    text
}

#[tokio::test]
async fn a_name_collision_with_the_agents_own_tool_fails_the_build() {
    let server = in_process().await;
    let error = Agent::<()>::builder("Assistant")
        .tool(echo {})
        .tools(server.tools().await.unwrap())
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, AgentError::DuplicateToolName { name, .. } if name == "echo"),
        "{error:?}"
    );
    // A prefix is the way out.
    let prefixed = McpServer::serve("test", duplex())
        .await
        .unwrap()
        .with_prefix("mcp_");
    Agent::<()>::builder("Assistant")
        .tool(echo {})
        .tools(prefixed.tools().await.unwrap())
        .build()
        .unwrap();
}

#[tokio::test]
async fn a_closed_transport_is_an_error_output_and_the_run_goes_on() {
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn(async move {
        let running = server::TestServer::default()
            .serve(server_end)
            .await
            .unwrap();
        // Serves the listing, then goes away.
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(running);
    });
    let server = McpServer::serve("flaky", client).await.unwrap();
    let agent = agent_with(&server).await;
    serving.await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "anyone?"})),
        Step::text("the server is gone"),
    ]);
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    assert_eq!(result.final_output, "the server is gone");
    let record = &result.tool_executions[0];
    assert!(!record.succeeded());
    assert!(
        record.output().output.contains("MCP server `flaky`"),
        "{}",
        record.output().output
    );
}

/// The `mcp-test-server` binary as a stdio server.
fn stdio_server() -> McpServer {
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-test-server"));
    McpServer::stdio("stdio", command)
}

/// The ids of this process's children running `mcp-test-server`.
fn test_server_children() -> Vec<u32> {
    let me = std::process::id();
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        let state = rest.split_whitespace().next();
        let pid = head.split_whitespace().next().and_then(|p| p.parse().ok());
        if let Some(pid) = pid
            && ppid == Some(me)
            && head.contains("mcp-test-serv")
            && state != Some("Z")
        {
            children.push(pid);
        }
    }
    children
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_server_is_started_used_and_stopped_with_no_orphan() {
    let before = test_server_children();
    {
        let server = stdio_server();
        let agent = agent_with(&server).await;
        let model = MockModel::script([
            Step::tool_call("add", json!({"a": 1, "b": 2})),
            Step::text("3"),
        ]);
        let result = Runner::new(model).run(&agent, (), "1+2?").await.unwrap();
        assert_eq!(result.tool_executions[0].output().output, r#"{"sum":3}"#);
        let running: Vec<u32> = test_server_children()
            .into_iter()
            .filter(|pid| !before.contains(pid))
            .collect();
        assert_eq!(running.len(), 1, "one child while connected");
        // The agent (its tools) and the server are dropped here.
    }
    let mut left = Vec::new();
    for _ in 0..100 {
        left = test_server_children()
            .into_iter()
            .filter(|pid| !before.contains(pid))
            .collect();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(left.is_empty(), "orphaned children: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_server_that_died_is_restarted_on_the_next_call() {
    let server = stdio_server().allow(["echo"]);
    let agent = agent_with(&server).await;
    // Stopping the connection stops the child; the next call starts one.
    server.close().await;
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "back again"})),
        Step::text("ok"),
    ]);
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    assert_eq!(result.tool_executions[0].output().output, "back again");
}

#[tokio::test]
async fn a_server_that_cannot_start_is_a_typed_error() {
    let command = tokio::process::Command::new("/nonexistent/mcp-server");
    let error = McpServer::stdio("ghost", command)
        .tools()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, agents_core::mcp::McpError::Spawn { server, .. } if server == "ghost"),
        "{error}"
    );
}

#[tokio::test]
async fn an_mcp_tool_behind_approval_pauses_and_runs_once_approved() {
    let server = in_process().await;
    let tools = server.tools().await.unwrap();
    let echo = tools
        .into_iter()
        .find(|tool| tool.remote_name() == "echo")
        .unwrap();
    let agent: Agent<()> = Agent::builder("Assistant")
        .tool(agents_core::tool::with_approval(echo, |_, _| true))
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "approved words"})),
        Step::text("done"),
    ]);
    let runner = Runner::new(model);
    let mut state = match runner.run(&agent, (), "go").await.unwrap_err() {
        agents_core::RunError::ApprovalRequired { state } => *state,
        other => panic!("expected a pause for approval, got {other:?}"),
    };
    // Nothing reached the server before the decision.
    assert!(state.run.tool_executions.is_empty());
    let call_id = state.pending()[0].call_id.clone();
    state.approve(&call_id).unwrap();
    let result = runner.resume(&agent, (), state).await.unwrap();
    let outputs = outputs(&result);
    assert_eq!(outputs, ["approved words"]);
}

/// The tests' server over streamable HTTP on a loopback port (rmcp's
/// server-side service on hyper); its URL.
async fn http_server() -> String {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
    };

    let service: StreamableHttpService<server::TestServer, LocalSessionManager> =
        StreamableHttpService::new(
            || Ok(server::TestServer::default()),
            Default::default(),
            StreamableHttpServerConfig::default().with_sse_keep_alive(None),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{address}/mcp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_over_streamable_http_serves_a_run() {
    let url = http_server().await;
    let server = McpServer::http("remote", url).allow(["add", "echo"]);
    let agent = agent_with(&server).await;
    let model = MockModel::script([
        Step::tool_calls([
            call_named("add", json!({"a": 20, "b": 22})),
            call_named("echo", json!({"text": "over HTTP"})),
        ]),
        Step::text("ok"),
    ]);
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    let outputs = outputs(&result);
    assert_eq!(outputs, [r#"{"sum":42}"#, "over HTTP"]);
    assert!(!format!("{server:?}").contains("127.0.0.1"));
    server.close().await;
}

#[tokio::test]
async fn an_http_server_that_is_not_there_is_an_error_output() {
    // A port nothing listens on: bound, then closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let server = McpServer::http("nowhere", url);
    let error = server.tools().await.unwrap_err();
    assert!(
        matches!(&error, agents_core::mcp::McpError::Connect { server, .. } if server == "nowhere"),
        "{error}"
    );
}

#[tokio::test]
async fn a_servers_tools_can_be_added_for_one_run() {
    let server = in_process().await;
    let base: Agent<()> = Agent::builder("Assistant").tool(echo {}).build().unwrap();
    // A collision is refused, naming the name.
    let error = base.with_tools(server.tools().await.unwrap()).unwrap_err();
    assert!(
        matches!(&error, AgentError::DuplicateToolName { name, .. } if name == "echo"),
        "{error:?}"
    );
    let tools = McpServer::serve("calc", duplex())
        .await
        .unwrap()
        .allow(["add"])
        .tools()
        .await
        .unwrap();
    let for_this_run = base.with_tools(tools).unwrap();
    let model = MockModel::script([
        Step::tool_call("add", json!({"a": 1, "b": 1})),
        Step::text("2"),
    ]);
    let result = Runner::new(model.clone())
        .run(&for_this_run, (), "1+1")
        .await
        .unwrap();
    assert_eq!(result.tool_executions[0].output().output, r#"{"sum":2}"#);
    let offered: Vec<String> = model.requests()[0]
        .tools
        .iter()
        .map(|tool| tool.name.clone())
        .collect();
    assert_eq!(offered, ["echo", "add"]);
    // The agent itself is unchanged.
    assert_eq!(base.tool_definitions().len(), 1);
}
