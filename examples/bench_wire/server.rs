//! A fake OpenAI-compatible server for the wire benchmark: Chat
//! Completions (`/v1/chat/completions`) and the Responses API
//! (`/v1/responses`, in `responses_api.rs`), non-streamed and streamed
//! (SSE), answering the benchmark's three-turn workload from the request
//! (no tool output yet: two parallel calls; two: one more call; three: the
//! final text). Loopback only, request bodies bounded; it can keep the
//! first requests' bodies of each API for the floor client.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};

pub(crate) type Body = BoxBody<Bytes, Infallible>;

/// What the workload's model says at one turn: tool calls (id,
/// arguments), or the final text.
pub(crate) struct Answer {
    pub(crate) calls: Vec<(String, String)>,
    pub(crate) text: Option<&'static str>,
}

impl Answer {
    /// The answer to a request that holds `outputs` tool outputs.
    fn after(outputs: usize) -> Self {
        let call = |n: usize, order: &str| {
            (
                format!("call_{outputs}_{n}"),
                format!(r#"{{"order_id":"{order}"}}"#),
            )
        };
        match outputs {
            0 => Answer {
                calls: vec![call(0, "A-1"), call(1, "A-2")],
                text: None,
            },
            1 | 2 => Answer {
                calls: vec![call(0, "A-3")],
                text: None,
            },
            _ => Answer {
                calls: Vec::new(),
                text: Some("Orders A-1 and A-2 have shipped; A-3 arrives tomorrow."),
            },
        }
    }
}

/// The largest request body read (a padded history stays well under).
const MAX_BODY: usize = 16 << 20;

/// Serves on `127.0.0.1:port` until killed; keeps the first three request
/// bodies of each API as `DIR/chat-N.json` and `DIR/responses-N.json`.
pub(crate) async fn serve(port: u16, capture: Option<PathBuf>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let captured = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let capture = capture.clone();
        let captured = Arc::clone(&captured);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                answer(request, capture.clone(), Arc::clone(&captured))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    capture: Option<PathBuf>,
    captured: Arc<[AtomicUsize; 2]>,
) -> Result<Response<Body>, Infallible> {
    let api = match request.uri().path() {
        "/v1/chat/completions" => 0,
        "/v1/responses" => 1,
        _ => return Ok(status(404, "no such endpoint")),
    };
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(status(413, "request body too large")),
    };
    if let Some(dir) = capture {
        let n = captured[api].fetch_add(1, Ordering::Relaxed);
        if n < 3 {
            let name = ["chat", "responses"][api];
            let _ = std::fs::write(dir.join(format!("{name}-{n}.json")), &body);
        }
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return Ok(status(400, "not JSON"));
    };
    let stream = request["stream"] == Value::Bool(true);
    let response = if api == 1 {
        let answer = Answer::after(super::responses_api::outputs(&request));
        if stream {
            super::responses_api::sse(&answer)
        } else {
            super::responses_api::full(&answer)
        }
    } else {
        let outputs = request["messages"]
            .as_array()
            .map_or(0, |m| m.iter().filter(|m| m["role"] == "tool").count());
        let answer = Answer::after(outputs);
        if stream {
            sse(&answer.calls, answer.text)
        } else {
            full(&answer.calls, answer.text)
        }
    };
    Ok(response)
}

fn status(code: u16, message: &str) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(
            json!({"error": {"message": message}}).to_string(),
        ))
        .boxed(),
    );
    *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or_default();
    response
}

const USAGE: &str = r#"{"prompt_tokens":120,"completion_tokens":24,"total_tokens":144}"#;

fn full(calls: &[(String, String)], text: Option<&str>) -> Response<Body> {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|(id, arguments)| {
            json!({"id": id, "type": "function", "function": {"name": "lookup_order", "arguments": arguments}})
        })
        .collect();
    let message = match text {
        Some(text) => json!({"role": "assistant", "content": text}),
        None => json!({"role": "assistant", "content": null, "tool_calls": tool_calls}),
    };
    let finish = if text.is_some() { "stop" } else { "tool_calls" };
    let body = json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": serde_json::from_str::<Value>(USAGE).unwrap_or_default(),
    });
    json_body(body.to_string())
}

/// A 200 with `body`, JSON.
pub(crate) fn json_body(body: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A streamed answer chunked as a model streams: about four characters of
/// text per event, tool-call arguments in pieces of eight; each event its
/// own frame of the chunked body, written when the one before is out.
fn sse(calls: &[(String, String)], text: Option<&str>) -> Response<Body> {
    let mut events: Vec<String> = Vec::new();
    let mut chunk = |delta: Value, finish: Value| {
        let event = json!({
            "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        events.push(format!("data: {event}\n\n"));
    };
    match text {
        Some(text) => {
            chunk(json!({"role": "assistant", "content": ""}), Value::Null);
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(4) {
                chunk(
                    json!({"content": piece.iter().collect::<String>()}),
                    Value::Null,
                );
            }
            chunk(json!({}), json!("stop"));
        }
        None => {
            for (index, (id, arguments)) in calls.iter().enumerate() {
                chunk(
                    json!({"role": "assistant", "tool_calls": [{"index": index, "id": id, "type": "function",
                        "function": {"name": "lookup_order", "arguments": ""}}]}),
                    Value::Null,
                );
                let chars: Vec<char> = arguments.chars().collect();
                for piece in chars.chunks(8) {
                    chunk(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": piece.iter().collect::<String>()}}]}),
                        Value::Null,
                    );
                }
            }
            chunk(json!({}), json!("tool_calls"));
        }
    }
    events.push(format!(
        "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{USAGE}}}\n\n"
    ));
    events.push("data: [DONE]\n\n".to_owned());
    event_stream(events)
}

/// A 200 whose `text/event-stream` body is `events`, each its own frame of
/// the chunked body, written when the one before is out.
pub(crate) fn event_stream(events: Vec<String>) -> Response<Body> {
    let frames = futures::stream::iter(
        events
            .into_iter()
            .map(|event| Ok::<_, Infallible>(Frame::data(Bytes::from(event)))),
    );
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/event-stream"),
    );
    response
}
