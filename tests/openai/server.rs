//! A scripted HTTP/1.1 server on 127.0.0.1 for hermetic model tests: it
//! answers each request with the next scripted reply and records requests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted answer.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// A complete response.
    Full {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A `text/event-stream` body written message by message; `end` is
    /// written last as is (e.g. `data: [DONE]\n\n`, or half a message for a
    /// cut stream).
    Events { messages: Vec<String>, end: String },
    /// Waits, then answers.
    Slow { delay: Duration, then: Box<Reply> },
    /// A `text/event-stream` body that sends `messages`, then nothing for
    /// `stall`, then ends.
    Stalled {
        messages: Vec<String>,
        stall: Duration,
    },
}

impl Reply {
    pub(crate) fn json(status: u16, body: &str) -> Self {
        Reply::Full {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub(crate) fn with_header(self, name: &'static str, value: &str) -> Self {
        match self {
            Reply::Full {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_owned()));
                Reply::Full {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// An SSE body from a fixture: blank-line separated `data:` messages.
    pub(crate) fn sse(text: &str) -> Self {
        let messages = text
            .split("\n\n")
            .filter(|m| !m.trim().is_empty())
            .map(|m| format!("{}\n\n", m.trim_end()))
            .collect();
        Reply::Events {
            messages,
            end: String::new(),
        }
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// When the request arrived.
    pub(crate) at: Instant,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: serde_json::Value,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers a request from what it asked and when (time since the server
/// started).
pub(crate) type Responder = dyn Fn(&Recorded, Duration) -> Reply + Send + Sync;

#[derive(Clone)]
pub(crate) struct TestServer {
    pub(crate) base_url: String,
    started: Instant,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    responder: Option<Arc<Responder>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    pub(crate) async fn start(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self::listen(replies.into_iter().collect(), None).await
    }

    /// A server that answers every request with `responder`.
    pub(crate) async fn responding(
        responder: impl Fn(&Recorded, Duration) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::listen(VecDeque::new(), Some(Arc::new(responder))).await
    }

    async fn listen(replies: VecDeque<Reply>, responder: Option<Arc<Responder>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = TestServer {
            base_url: format!("http://{}/v1", listener.local_addr().unwrap()),
            started: Instant::now(),
            replies: Arc::new(Mutex::new(replies)),
            responder,
            requests: Arc::default(),
        };
        let state = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move { state.serve(socket).await });
            }
        });
        server
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    async fn serve(&self, mut socket: TcpStream) {
        let Some(request) = read_request(&mut socket).await else {
            return;
        };
        let reply = match &self.responder {
            Some(responder) => responder(&request, request.at - self.started),
            None => self.replies.lock().unwrap().pop_front().unwrap_or_else(|| {
                Reply::json(599, r#"{"error":{"message":"no scripted reply left"}}"#)
            }),
        };
        self.requests.lock().unwrap().push(request);
        write_reply(&mut socket, reply).await;
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
    let mut lines = head.lines();
    let path = lines.next()?.split_whitespace().nth(1)?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buffer[header_end..]).unwrap_or(serde_json::Value::Null);
    Some(Recorded {
        at: Instant::now(),
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// The head of a `text/event-stream` response.
const EVENT_STREAM_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";

async fn write_reply(socket: &mut TcpStream, reply: Reply) {
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        }
        Reply::Events { messages, end } => {
            let _ = socket.write_all(EVENT_STREAM_HEAD.as_bytes()).await;
            for message in messages {
                let _ = socket.write_all(message.as_bytes()).await;
                let _ = socket.flush().await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let _ = socket.write_all(end.as_bytes()).await;
        }
        Reply::Slow { delay, then } => {
            tokio::time::sleep(delay).await;
            Box::pin(write_reply(socket, *then)).await;
        }
        Reply::Stalled { messages, stall } => {
            let _ = socket.write_all(EVENT_STREAM_HEAD.as_bytes()).await;
            for message in messages {
                let _ = socket.write_all(message.as_bytes()).await;
            }
            let _ = socket.flush().await;
            tokio::time::sleep(stall).await;
        }
    }
    let _ = socket.shutdown().await;
}

/// The configuration the tests point at `server`: quick retries without
/// jitter, a 5 s timeout.
pub(crate) fn config(server: &TestServer) -> agents_core::openai::OpenAiConfig {
    use agents_core::openai::{OpenAiConfig, RetryPolicy};
    OpenAiConfig::new()
        .base_url(&server.base_url)
        .model("test-model")
        .timeout(Duration::from_secs(5))
        .retry(
            RetryPolicy::default()
                .initial_delay(Duration::from_millis(10))
                .jitter(false),
        )
}

/// A fixture file under `tests/openai/fixtures/`.
pub(crate) fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/openai/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}
