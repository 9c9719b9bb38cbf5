//! HTTP for OpenAI-compatible servers: one POST with retries, and typed
//! errors from status codes.

use std::time::Duration;

use backon::BackoffBuilder;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde::Serialize;

use super::config::{OpenAiConfig, RetryPolicy};
use super::sse::{self, Decoder};
use crate::model::{BoxStream, ModelError, ModelStreamEvent};

/// A configured client.
pub(crate) struct Http {
    client: reqwest::Client,
    pub(crate) config: OpenAiConfig,
    /// The one URL this client posts to, parsed once.
    endpoint: reqwest::Url,
    /// The length of the last body serialised: the next one (the same
    /// conversation, a turn longer) is written into a buffer of about that
    /// size instead of one grown by doubling.
    last_body: std::sync::atomic::AtomicUsize,
    /// Values no error message may repeat: the key and the extra headers'
    /// values.
    secrets: Vec<String>,
}

/// Shows the configuration (key redacted), never the client: its default
/// headers hold the key.
impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client posting to `path` under the configured base URL.
    pub(crate) fn new(config: OpenAiConfig, path: &str) -> Result<Self, ModelError> {
        let base = config.check()?;
        let endpoint = reqwest::Url::parse(&config.endpoint(path)).map_err(|error| {
            ModelError::BadRequest {
                status: 0,
                message: format!("base URL `{}`: {error}", config.base_url),
            }
        })?;
        // reqwest is built without a bundled crypto provider; use *ring*
        // unless the program installed another one first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Every request is a JSON body: its content type is a default
        // header, set once, not one more header built per request.
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(key) = &config.api_key {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| ModelError::Auth {
                    message: "the API key contains characters not allowed in a header".to_owned(),
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        for (name, value) in &config.headers {
            let bad = |what: &str| ModelError::BadRequest {
                status: 0,
                message: format!("invalid header {what} `{name}`"),
            };
            let name_value = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("name"))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| bad("value for"))?;
            value.set_sensitive(true);
            headers.insert(name_value, value);
        }
        let cross_origin = config.cross_origin_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 {
                attempt.error("more than 10 redirects")
            } else if cross_origin || attempt.url().origin() == base.origin() {
                attempt.follow()
            } else {
                // Stopped: the 3xx response is the answer.
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .redirect(redirects)
            .build()
            .map_err(|error| ModelError::Connection {
                message: format!("cannot build the HTTP client: {error}"),
            })?;
        let secrets = config
            .api_key
            .iter()
            .chain(config.headers.iter().map(|(_, value)| value))
            .filter(|secret| secret.len() >= 4)
            .cloned()
            .collect();
        Ok(Http {
            client,
            config,
            endpoint,
            last_body: std::sync::atomic::AtomicUsize::new(0),
            secrets,
        })
    }

    /// POSTs `body` (JSON, from [`serialize`](Self::serialize)) to the
    /// endpoint, retrying as the policy says, and hands the successful
    /// response to `finish` (which reads its body, or keeps it unread for a
    /// stream). Every attempt shares the body's bytes.
    ///
    /// One timer per attempt, around the exchange and `finish`: for a plain
    /// response the timeout covers the whole exchange, body included; for a
    /// server-sent event stream `finish` returns at once, so it covers
    /// getting the response, and the client's read timeout each chunk.
    async fn post<T, Fut>(
        &self,
        body: bytes::Bytes,
        accept: Option<HeaderValue>,
        finish: impl Fn(reqwest::Response) -> Fut,
    ) -> Result<T, ModelError>
    where
        Fut: std::future::Future<Output = Result<T, ModelError>>,
    {
        // Made on the first retry: most requests never need it.
        let mut delays = None;
        let timeout = self.config.timeout;
        let limit = self.config.limits.max_response_bytes;
        loop {
            let mut request = self.client.post(self.endpoint.clone()).body(body.clone());
            if let Some(accept) = &accept {
                request = request.header(reqwest::header::ACCEPT, accept.clone());
            }
            // `Ok`: the outcome to return; `Err`: a failed attempt and the
            // server's `Retry-After`.
            let attempt = async {
                match request.send().await {
                    Ok(response) if response.status().is_success() => Ok(finish(response).await),
                    Ok(response) => {
                        let (error, retry_after) = status_error(response, limit).await;
                        Err((self.redact(error), retry_after))
                    }
                    Err(error) if error.is_timeout() => Ok(Err(ModelError::Timeout(timeout))),
                    Err(error) => Err((
                        self.redact(ModelError::Connection {
                            message: error_chain(&error),
                        }),
                        None,
                    )),
                }
            };
            let (error, retry_after) = match tokio::time::timeout(timeout, attempt).await {
                Err(_elapsed) => return Err(ModelError::Timeout(timeout)),
                Ok(Ok(outcome)) => return outcome,
                Ok(Err(failed)) => failed,
            };
            let retryable = match &error {
                ModelError::RateLimited { .. } | ModelError::Connection { .. } => true,
                ModelError::Server { status, .. } => matches!(status, 500 | 502 | 503 | 504),
                _ => false,
            };
            let next = delays
                .get_or_insert_with(|| backoff(&self.config.retry))
                .next();
            let Some(delay) = next.filter(|_| retryable) else {
                return Err(error);
            };
            let delay = retry_after
                .map(|after| after.min(self.config.retry.max_delay))
                .unwrap_or(delay);
            tracing::debug!(?delay, %error, "retrying model request");
            tokio::time::sleep(delay).await;
        }
    }
}

impl Http {
    /// POSTs `body` and reads the whole answer, up to the response limit.
    pub(crate) async fn post_body(
        &self,
        body: &impl Serialize,
    ) -> Result<bytes::Bytes, ModelError> {
        let limit = self.config.limits.max_response_bytes;
        self.post(self.serialize(body)?, None, |response| async move {
            read_body(response, limit)
                .await?
                .ok_or_else(|| ModelError::too_large("the response body", limit))
        })
        .await
    }

    /// `body` serialised to JSON bytes, once: straight from the borrowed
    /// request, no `serde_json::Value` in between, into a buffer sized
    /// after the last body.
    ///
    /// # Errors
    /// [`ModelError::BadRequest`] when it does not serialise (a map with
    /// non-string keys).
    fn serialize(&self, body: &impl Serialize) -> Result<bytes::Bytes, ModelError> {
        use std::sync::atomic::Ordering::Relaxed;
        let last = self.last_body.load(Relaxed);
        let mut buffer = Vec::with_capacity(last + last / 4);
        serde_json::to_writer(&mut buffer, body).map_err(|error| ModelError::BadRequest {
            status: 0,
            message: format!("request does not serialize: {error}"),
        })?;
        self.last_body.store(buffer.len(), Relaxed);
        Ok(bytes::Bytes::from(buffer))
    }

    /// `error` with every secret of the configuration replaced by
    /// `[redacted]` (a server may echo the key it was sent).
    pub(crate) fn redact(&self, error: ModelError) -> ModelError {
        let clean = |message: String| {
            self.secrets.iter().fold(message, |message, secret| {
                if message.contains(secret.as_str()) {
                    message.replace(secret.as_str(), "[redacted]")
                } else {
                    message
                }
            })
        };
        match error {
            ModelError::Auth { message } => ModelError::Auth {
                message: clean(message),
            },
            ModelError::RateLimited {
                message,
                retry_after,
            } => ModelError::RateLimited {
                message: clean(message),
                retry_after,
            },
            ModelError::BadRequest { status, message } => ModelError::BadRequest {
                status,
                message: clean(message),
            },
            ModelError::Server { status, message } => ModelError::Server {
                status,
                message: clean(message),
            },
            ModelError::Connection { message } => ModelError::Connection {
                message: clean(message),
            },
            ModelError::Decode { message } => ModelError::Decode {
                message: clean(message),
            },
            other => other,
        }
    }

    /// POSTs `body` (once it is built) for a server-sent event stream, and
    /// yields its events as `decoder` reads them. The body is serialised
    /// now: it may borrow from a request the stream outlives.
    pub(crate) fn post_stream<D>(
        &self,
        body: Result<impl Serialize, ModelError>,
        decoder: D,
    ) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>>
    where
        D: Decoder,
    {
        let body = body.and_then(|body| self.serialize(&body));
        let connect = Box::pin(async move {
            let events = HeaderValue::from_static("text/event-stream");
            self.post(body?, Some(events), |response| async move { Ok(response) })
                .await
        });
        Box::pin(sse::events(
            connect,
            decoder,
            self.config.limits,
            self.config.timeout,
        ))
    }
}

fn backoff(policy: &RetryPolicy) -> impl Iterator<Item = Duration> + use<> {
    let mut builder = backon::ExponentialBuilder::default()
        .with_min_delay(policy.initial_delay)
        .with_max_delay(policy.max_delay)
        .with_factor(2.0)
        .with_max_times(usize::try_from(policy.max_retries).unwrap_or(usize::MAX));
    if policy.jitter {
        builder = builder.with_jitter();
    }
    builder.build()
}

/// The body of `response`, or `None` when it is longer than `limit` bytes
/// (read no further than that). A body that arrives in one chunk (most
/// do) is that chunk's bytes, not a copy.
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<bytes::Bytes>, ModelError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Ok(None);
    }
    let failed = |error: reqwest::Error| ModelError::Connection {
        message: format!("reading the response failed: {}", error_chain(&error)),
    };
    let Some(first) = response.chunk().await.map_err(failed)? else {
        return Ok(Some(bytes::Bytes::new()));
    };
    if first.len() > limit {
        return Ok(None);
    }
    let Some(second) = response.chunk().await.map_err(failed)? else {
        return Ok(Some(first));
    };
    let mut body = bytes::BytesMut::with_capacity(first.len() + second.len());
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await.map_err(failed)?;
    }
    Ok(Some(body.freeze()))
}

/// The typed error for a non-2xx response, and its `Retry-After`. At most
/// `limit` bytes of the body are read.
async fn status_error(response: reqwest::Response, limit: usize) -> (ModelError, Option<Duration>) {
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("(no Location header)")
            .chars()
            .take(200)
            .collect::<String>();
        let message = format!(
            "the server redirected to `{location}`, another origin; not followed \
             (see OpenAiConfig::cross_origin_redirects)"
        );
        return (ModelError::BadRequest { status, message }, None);
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map(Duration::from_secs_f64);
    let body = match read_body(response, limit).await {
        Ok(Some(body)) => String::from_utf8_lossy(&body).into_owned(),
        Ok(None) => format!("(an error body larger than {limit} bytes)"),
        Err(_) => String::new(),
    };
    let message = error_message(&body);
    let error = match status {
        401 | 403 => ModelError::Auth { message },
        429 => ModelError::RateLimited {
            message,
            retry_after,
        },
        500..=599 => ModelError::Server { status, message },
        _ => ModelError::BadRequest { status, message },
    };
    (error, retry_after)
}

/// The server's message: `error.message`, `error` or `message` of a JSON
/// body, or the body itself (shortened).
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let message = value
            .pointer("/error/message")
            .or_else(|| value.get("error").filter(|e| e.is_string()))
            .or_else(|| value.get("message"))
            .and_then(serde_json::Value::as_str);
        if let Some(message) = message {
            return message.to_owned();
        }
    }
    let body = body.trim();
    if body.is_empty() {
        return "(empty response body)".to_owned();
    }
    body.chars().take(500).collect()
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
