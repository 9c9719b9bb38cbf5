//! A hostile or broken server: byte-order marks, endless lines, oversized
//! bodies, echoed keys, redirects to another host, huge usage counts.

use std::time::Duration;

use agents_core::model::{Model, ModelStreamEvent};
use agents_core::openai::{OpenAiChat, OpenAiConfig, OpenAiResponses, ResponseLimits, RetryPolicy};
use agents_core::{Agent, ModelError, ModelRequest, Runner, tool};
use futures::StreamExt;

use crate::chat::model;
use crate::server::{Reply, TestServer, config};

const KEY: &str = "sk-very-secret-key-123";

fn request() -> ModelRequest {
    ModelRequest::new("A", vec![])
}

fn chunk(text: &str) -> String {
    format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n")
}

fn events(messages: Vec<String>) -> Reply {
    Reply::Events {
        messages,
        end: "data: [DONE]\n\n".to_owned(),
    }
}

async fn texts(model: &impl Model) -> Vec<Result<String, ModelError>> {
    model
        .stream(request())
        .filter_map(|event| async move {
            match event {
                Ok(ModelStreamEvent::TextDelta(text)) => Some(Ok(text)),
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            }
        })
        .collect()
        .await
}

#[tokio::test]
async fn a_stream_opening_with_a_byte_order_mark_is_read() {
    let first = format!("\u{feff}{}", chunk("Hel"));
    let server = TestServer::start([events(vec![first, chunk("lo")])]).await;
    let texts = texts(&model(&server)).await;
    assert_eq!(
        texts.into_iter().collect::<Result<Vec<_>, _>>().unwrap(),
        ["Hel", "lo"]
    );
}

#[tokio::test]
async fn a_line_without_end_is_cut_off_at_the_event_limit() {
    // 50 MB with no newline: read up to the limit (8 MiB by default), then
    // a typed error.
    let endless = format!("data: {}", "x".repeat(50 << 20));
    let server = TestServer::start([Reply::Events {
        messages: vec![endless],
        end: String::new(),
    }])
    .await;
    let texts = texts(&model(&server)).await;
    assert!(
        matches!(
            texts.as_slice(),
            [Err(ModelError::TooLarge { what, limit })] if what == "one server-sent event" && *limit == 8 << 20
        ),
        "{texts:?}"
    );
}

#[tokio::test]
async fn a_stream_longer_than_the_response_limit_stops_there() {
    let server =
        TestServer::start([events((0..200).map(|_| chunk(&"y".repeat(100))).collect())]).await;
    let model = OpenAiChat::new(
        config(&server).limits(ResponseLimits::default().max_response_bytes(4_000)),
    )
    .unwrap();
    let texts = texts(&model).await;
    assert!(
        matches!(
            texts.last(),
            Some(Err(ModelError::TooLarge { limit: 4_000, .. }))
        ),
        "{texts:?}"
    );
    assert!(texts.len() < 60, "{} deltas read", texts.len());
}

#[tokio::test]
async fn a_body_longer_than_the_response_limit_is_an_error() {
    let long = format!(
        r#"{{"choices":[{{"message":{{"content":"{}"}}}}]}}"#,
        "z".repeat(10_000)
    );
    let server = TestServer::start([Reply::json(200, &long)]).await;
    let model = OpenAiChat::new(
        config(&server).limits(ResponseLimits::default().max_response_bytes(1_000)),
    )
    .unwrap();
    let error = model.call(request()).await.unwrap_err();
    assert!(
        matches!(&error, ModelError::TooLarge { what, limit: 1_000 } if what == "the response body"),
        "{error:?}"
    );
}

#[test]
fn debug_output_never_shows_the_key_or_header_values() {
    let config = OpenAiConfig::new()
        .base_url("https://api.example.com/v1")
        .api_key(KEY)
        .header("api-key", "hdr-secret-value");
    let chat = OpenAiChat::new(config.clone()).unwrap();
    let responses = OpenAiResponses::new(config).unwrap();
    for shown in [format!("{chat:?}"), format!("{responses:?}")] {
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains("hdr-secret-value"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}

#[tokio::test]
async fn an_error_body_echoing_the_key_is_redacted() {
    let echo = format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#);
    let server = TestServer::start([Reply::json(401, &echo)]).await;
    let model = OpenAiChat::new(config(&server).api_key(KEY)).unwrap();
    let error = model.call(request()).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert_eq!(
        error.to_string(),
        "authentication failed: Incorrect API key provided: [redacted]"
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere = TestServer::start([Reply::json(200, crate::faults::OK)]).await;
    let server = TestServer::start([Reply::json(307, "").with_header(
        "location",
        &format!("{}/chat/completions", elsewhere.base_url),
    )])
    .await;
    let error = model(&server).call(request()).await.unwrap_err();
    assert!(
        matches!(&error, ModelError::BadRequest { status: 307, message } if message.contains("another origin")),
        "{error:?}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "the conversation went elsewhere"
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_followed_when_allowed() {
    let elsewhere = TestServer::start([Reply::json(200, crate::faults::OK)]).await;
    let server = TestServer::start([Reply::json(307, "").with_header(
        "location",
        &format!("{}/chat/completions", elsewhere.base_url),
    )])
    .await;
    let model = OpenAiChat::new(config(&server).cross_origin_redirects(true)).unwrap();
    model.call(request()).await.unwrap();
    assert_eq!(elsewhere.requests().len(), 1);
}

#[test]
fn a_key_over_plain_http_to_another_host_is_refused() {
    let remote = OpenAiConfig::new()
        .base_url("http://models.example.com/v1")
        .api_key(KEY);
    let error = OpenAiChat::new(remote.clone()).unwrap_err();
    assert!(error.to_string().contains("clear text"), "{error}");
    assert!(!error.to_string().contains(KEY));
    OpenAiChat::new(remote.allow_insecure_http(true)).unwrap();
    // Loopback, https, or no key at all: nothing to leak.
    for url in [
        "http://127.0.0.1:8080/v1",
        "http://localhost:8080/v1",
        "http://[::1]:8080/v1",
        "https://models.example.com/v1",
    ] {
        OpenAiChat::new(OpenAiConfig::new().base_url(url).api_key(KEY)).unwrap();
    }
    OpenAiChat::new(OpenAiConfig::new().base_url("http://models.example.com/v1")).unwrap();
}

fn huge_usage(text: &str) -> Reply {
    Reply::json(
        200,
        &format!(
            r#"{{"choices":[{{"message":{{"content":"{text}"}}}}],
                "usage":{{"prompt_tokens":18446744073709551615,"completion_tokens":7,"total_tokens":0}}}}"#
        ),
    )
}

#[tokio::test]
async fn huge_usage_counts_saturate() {
    let server = TestServer::start([huge_usage("one")]).await;
    let response = model(&server).call(request()).await.unwrap();
    assert_eq!(response.usage.input_tokens, u64::MAX);
    assert_eq!(response.usage.total_tokens, u64::MAX);
}

/// Answers with a lot.
#[tool]
fn flood() -> String {
    "w".repeat(5_000)
}

#[tokio::test]
async fn huge_usage_over_turns_saturates_in_the_run() {
    let call = r#"{"choices":[{"message":{"tool_calls":[{"id":"c1","function":{"name":"flood","arguments":"{}"}}]}}],
        "usage":{"prompt_tokens":18446744073709551615,"completion_tokens":1}}"#;
    let server = TestServer::start([Reply::json(200, call), huge_usage("done")]).await;
    let agent = Agent::<()>::builder("A").tool(flood {}).build().unwrap();
    let result = Runner::new(model(&server))
        .run(&agent, (), "go")
        .max_tool_output_bytes(1_000)
        .await
        .unwrap();
    assert_eq!(result.usage.input_tokens, u64::MAX);
    assert_eq!(result.usage.requests, 2);
    // The tool's 5,000 bytes were over the limit: the model was told.
    let output = &server.requests()[1].body["messages"][2]["content"];
    assert_eq!(
        output,
        "the output of tool `flood` (5000 bytes) is larger than the limit of 1000 bytes"
    );
}

#[tokio::test]
async fn a_validation_error_answered_with_500_is_retried_a_bounded_number_of_times() {
    // What llama.cpp's server answers to a request it cannot take.
    let body = r#"{"error":{"code":500,"message":"tools param requires --jinja flag","type":"server_error"}}"#;
    let server = TestServer::start((0..5).map(|_| Reply::json(500, body))).await;
    let model = OpenAiChat::new(
        config(&server).retry(
            RetryPolicy::default()
                .max_retries(2)
                .initial_delay(Duration::from_millis(5)),
        ),
    )
    .unwrap();
    let error = model.call(request()).await.unwrap_err();
    assert!(
        matches!(&error, ModelError::Server { status: 500, message } if message == "tools param requires --jinja flag"),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3);
}
