//! Faults: rate limits, server errors, auth, malformed payloads, cut
//! streams, slow servers.

use std::time::{Duration, Instant};

use agents_core::ModelError;
use agents_core::ModelRequest;
use agents_core::model::{Model, ModelStreamEvent};
use agents_core::openai::{OpenAiChat, OpenAiConfig, RetryPolicy};
use futures::StreamExt;

use crate::chat::model;
use crate::server::{Reply, TestServer};

pub(crate) const OK: &str =
    r#"{"id":"x","choices":[{"message":{"content":"fine"},"finish_reason":"stop"}]}"#;

fn request() -> ModelRequest {
    ModelRequest::new("A", vec![])
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let server = TestServer::start([
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
        )
        .with_header("retry-after", "1"),
        Reply::json(200, OK),
    ])
    .await;
    let started = Instant::now();
    let response = model(&server).call(request()).await.unwrap();
    assert_eq!(*response.output[0], agents_core::Item::assistant("fine"));
    assert_eq!(server.requests().len(), 2);
    // The policy's own first delay is 10 ms; the server asked for 1 s.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_500_is_retried() {
    let server = TestServer::start([
        Reply::json(500, r#"{"error":{"message":"boom"}}"#),
        Reply::json(200, OK),
    ])
    .await;
    model(&server).call(request()).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retries_give_up_with_the_last_error() {
    let server = TestServer::start(
        (0..3).map(|_| Reply::json(503, r#"{"error":{"message":"overloaded"}}"#)),
    )
    .await;
    let model = OpenAiChat::new(
        OpenAiConfig::new().base_url(&server.base_url).retry(
            RetryPolicy::default()
                .max_retries(2)
                .initial_delay(Duration::from_millis(5)),
        ),
    )
    .unwrap();
    let error = model.call(request()).await.unwrap_err();
    assert!(
        matches!(error, ModelError::Server { status: 503, ref message } if message == "overloaded"),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_401_is_an_auth_error_and_not_retried() {
    let server = TestServer::start([Reply::json(
        401,
        r#"{"error":{"message":"Incorrect API key provided"}}"#,
    )])
    .await;
    let error = model(&server).call(request()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "authentication failed: Incorrect API key provided"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_400_carries_the_servers_message() {
    let server = TestServer::start([Reply::json(
        400,
        r#"{"error":{"message":"Invalid schema for function 'x'"}}"#,
    )])
    .await;
    let error = model(&server).call(request()).await.unwrap_err();
    assert!(
        matches!(error, ModelError::BadRequest { status: 400, ref message } if message == "Invalid schema for function 'x'")
    );
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let server = TestServer::start([Reply::json(200, r#"{"choices":[{"message":"#)]).await;
    let error = model(&server).call(request()).await.unwrap_err();
    assert!(matches!(error, ModelError::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn a_stream_cut_mid_event_is_an_error_not_a_partial_item() {
    let full = std::fs::read_to_string(format!(
        "{}/openai/fixtures/openai/chat_stream_tool_calls.sse",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let Reply::Events { mut messages, .. } = Reply::sse(&full) else {
        unreachable!()
    };
    messages.truncate(3);
    let cut = Reply::Events {
        messages,
        end: "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_c".to_owned(),
    };
    let server = TestServer::start([cut]).await;
    let results: Vec<_> = model(&server).stream(request()).collect().await;
    let last = results.last().unwrap();
    assert!(
        matches!(last, Err(ModelError::Decode { message }) if message.contains("stream ended before the response completed")),
        "{last:?}"
    );
    assert!(!results.iter().any(|r| matches!(
        r,
        Ok(agents_core::model::ModelStreamEvent::Completed { .. })
    )));
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_a_timeout_error() {
    let server = TestServer::start([Reply::Slow {
        delay: Duration::from_secs(3),
        then: Box::new(Reply::json(200, OK)),
    }])
    .await;
    let model = OpenAiChat::new(
        OpenAiConfig::new()
            .base_url(&server.base_url)
            .timeout(Duration::from_millis(300))
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    let started = Instant::now();
    let error = model.call(request()).await.unwrap_err();
    assert!(
        matches!(error, ModelError::Timeout(d) if d == Duration::from_millis(300)),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A 200 whose JSON body arrives in `pieces` writes (whitespace first),
/// 2 ms apart: no single read waits long, the whole body does.
fn trickled(pieces: usize) -> Reply {
    let mut messages = vec![" ".to_owned(); pieces];
    messages.push(OK.to_owned());
    Reply::Events {
        messages,
        end: String::new(),
    }
}

fn with_timeout(server: &TestServer, timeout: Duration) -> OpenAiChat {
    OpenAiChat::new(
        OpenAiConfig::new()
            .base_url(&server.base_url)
            .timeout(timeout)
            .retry(RetryPolicy::none()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_body_slower_than_the_timeout_is_a_timeout_error() {
    // About 600 ms of body, each piece well within the 300 ms limit.
    let server = TestServer::start([trickled(300)]).await;
    let started = Instant::now();
    let error = with_timeout(&server, Duration::from_millis(300))
        .call(request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ModelError::Timeout(d) if d == Duration::from_millis(300)),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(550));
}

const HI: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n";

/// The events of a stream `reply` sends, read under `timeout`, and how
/// long they took.
async fn streamed(
    reply: Reply,
    timeout: Duration,
) -> (Vec<Result<ModelStreamEvent, ModelError>>, Duration) {
    let server = TestServer::start([reply]).await;
    let started = Instant::now();
    let events = with_timeout(&server, timeout)
        .stream(request())
        .collect()
        .await;
    (events, started.elapsed())
}

#[tokio::test]
async fn a_stream_that_goes_quiet_for_the_timeout_is_a_timeout_error() {
    let quiet = Reply::Stalled {
        messages: vec![HI.to_owned()],
        stall: Duration::from_secs(5),
    };
    let (events, took) = streamed(quiet, Duration::from_millis(300)).await;
    assert!(
        matches!(&events[0], Ok(ModelStreamEvent::TextDelta(text)) if text == "hi"),
        "{events:?}"
    );
    assert!(
        matches!(&events[1..], [Err(ModelError::Timeout(d))] if *d == Duration::from_millis(300)),
        "{events:?}"
    );
    assert!(took < Duration::from_millis(1500));
}

#[tokio::test]
async fn a_stream_longer_than_the_timeout_that_keeps_sending_completes() {
    // About 400 ms of events, each well within the 150 ms limit.
    let mut messages = vec![": keep-alive\n\n".to_owned(); 200];
    messages.push(HI.to_owned());
    let lively = Reply::Events {
        messages,
        end: "data: [DONE]\n\n".to_owned(),
    };
    let (events, took) = streamed(lively, Duration::from_millis(150)).await;
    assert!(took > Duration::from_millis(150));
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert!(matches!(
        events.last(),
        Some(Ok(ModelStreamEvent::Completed { .. }))
    ));
}

#[tokio::test]
async fn a_body_in_many_pieces_is_read_whole() {
    let server = TestServer::start([trickled(20)]).await;
    let response = with_timeout(&server, Duration::from_secs(10))
        .call(request())
        .await
        .unwrap();
    assert_eq!(
        response.output,
        vec![std::sync::Arc::new(agents_core::Item::AssistantMessage {
            content: "fine".to_owned()
        })]
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_connection_error_after_retries() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let model = OpenAiChat::new(
        OpenAiConfig::new().base_url(url).retry(
            RetryPolicy::default()
                .max_retries(1)
                .initial_delay(Duration::from_millis(5)),
        ),
    )
    .unwrap();
    let error = model.call(request()).await.unwrap_err();
    assert!(matches!(error, ModelError::Connection { .. }), "{error:?}");
}

#[test]
fn a_base_url_without_a_scheme_is_refused() {
    let error = OpenAiChat::new(OpenAiConfig::new().base_url("localhost:8080")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("must start with http:// or https://")
    );
}

#[tokio::test]
async fn an_empty_object_is_a_decode_error_not_an_empty_answer() {
    let server = TestServer::start([Reply::json(200, "{}")]).await;
    let error = model(&server).call(request()).await.unwrap_err();
    assert!(
        matches!(&error, ModelError::Decode { message } if message.contains("choices")),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_empty_object_from_the_responses_api_is_a_decode_error() {
    let server = TestServer::start([Reply::json(200, "{}")]).await;
    let responses =
        agents_core::openai::OpenAiResponses::new(crate::server::config(&server)).unwrap();
    let error = responses.call(request()).await.unwrap_err();
    assert!(
        matches!(&error, ModelError::Decode { message } if message.contains("Responses API")),
        "{error:?}"
    );
}
