use std::time::Duration;

use crate::model::ModelError;

/// Default base URL: OpenAI's API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Default model name when neither the agent nor the configuration names one.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// How failed requests are retried: exponential backoff with jitter on HTTP
/// 429 and 5xx and on connection errors, honouring the server's
/// `Retry-After`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry). Default 3.
    pub max_retries: u32,
    /// The first delay. Default 500 ms.
    pub initial_delay: Duration,
    /// The longest delay, also the cap on `Retry-After`. Default 30 s.
    pub max_delay: Duration,
    /// Whether delays are randomised (full jitter) so clients do not retry in
    /// lockstep. Default on.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the first delay.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the longest delay.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Turns jitter on or off.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }
}

/// How structured output's JSON schema is sent in Chat Completions
/// requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaFormat {
    /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`:
    /// OpenAI's structured outputs, also vLLM and Ollama. Default.
    #[default]
    JsonSchema,
    /// `{"type": "json_object", "schema": {...}}`: llama-cpp-python's server,
    /// which rejects `json_schema` and constrains the output with the
    /// schema given this way.
    JsonObject,
}

/// Size limits on what a server sends back: a response bigger than a limit
/// is a [`ModelError::TooLarge`], read no further than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseLimits {
    /// Bytes of one response body; for a stream, of all its events together.
    /// Default 32 MiB.
    pub max_response_bytes: usize,
    /// Bytes of one server-sent event (its lines up to the blank line that
    /// ends it). Default 8 MiB.
    pub max_event_bytes: usize,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        ResponseLimits {
            max_response_bytes: 32 << 20,
            max_event_bytes: 8 << 20,
        }
    }
}

impl ResponseLimits {
    /// Sets the limit on one response body, in bytes.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Sets the limit on one server-sent event, in bytes.
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }
}

/// Where and how to reach an OpenAI-compatible server.
///
/// [`from_env`](OpenAiConfig::from_env) reads `OPENAI_API_KEY` (optional:
/// local servers need none), `OPENAI_BASE_URL` (default OpenAI's) and
/// `OPENAI_MODEL` (default [`DEFAULT_MODEL`]) and `OPENAI_SCHEMA_FORMAT`
/// (`json_object` selects [`SchemaFormat::JsonObject`]).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct OpenAiConfig {
    /// Base URL up to and including the version, e.g.
    /// `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// The API key sent as a bearer token, if any.
    pub api_key: Option<String>,
    /// The model used when the agent names none.
    pub model: String,
    /// Extra headers sent with every request (e.g. an organisation id).
    pub headers: Vec<(String, String)>,
    /// Limit for one HTTP request (for streams: until the response starts,
    /// then between chunks). Default 60 s.
    pub timeout: Duration,
    /// Limit for connecting. Default 10 s.
    pub connect_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// How structured output schemas are sent (Chat Completions).
    pub schema_format: SchemaFormat,
    /// Size limits on responses.
    pub limits: ResponseLimits,
    /// Whether an API key may be sent over plain `http://` to a host that
    /// is not loopback (`localhost`, `127.0.0.0/8`, `::1`). Default off: the
    /// client refuses to be built, rather than send the key in clear text.
    pub allow_insecure_http: bool,
    /// Whether a redirect to another origin (scheme, host or port) is
    /// followed. Default off: a redirect would re-send the whole
    /// conversation to the other host; the 3xx answer becomes a
    /// [`ModelError::BadRequest`] naming where it pointed. Same-origin
    /// redirects are followed (up to 10).
    pub cross_origin_redirects: bool,
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            // Header values may be credentials too (`api-key`, a session
            // token): only their names are shown.
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        OpenAiConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            model: DEFAULT_MODEL.to_owned(),
            headers: Vec::new(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            schema_format: SchemaFormat::default(),
            limits: ResponseLimits::default(),
            allow_insecure_http: false,
            cross_origin_redirects: false,
        }
    }
}

impl OpenAiConfig {
    /// The defaults: OpenAI's base URL, no key, [`DEFAULT_MODEL`].
    ///
    /// Differs from async-openai's `OpenAIConfig::new()`, which reads
    /// `OPENAI_API_KEY`: this reads no environment variable, so a program
    /// configured in code is not changed by its environment. Use
    /// [`from_env`](Self::from_env) to read them.
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration from `OPENAI_API_KEY`, `OPENAI_BASE_URL` and
    /// `OPENAI_MODEL`; unset or empty variables keep the defaults.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = OpenAiConfig {
            api_key: var("OPENAI_API_KEY"),
            ..Self::default()
        };
        if let Some(url) = var("OPENAI_BASE_URL") {
            config.base_url = url;
        }
        if let Some(model) = var("OPENAI_MODEL") {
            config.model = model;
        }
        if var("OPENAI_SCHEMA_FORMAT").as_deref() == Some("json_object") {
            config.schema_format = SchemaFormat::JsonObject;
        }
        config
    }

    /// Sets the base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the default model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Adds a header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how structured output schemas are sent.
    pub fn schema_format(mut self, format: SchemaFormat) -> Self {
        self.schema_format = format;
        self
    }

    /// Sets the size limits on responses.
    pub fn limits(mut self, limits: ResponseLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Allows sending the API key over `http://` to a host that is not
    /// loopback (see [`allow_insecure_http`](Self::allow_insecure_http)).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Follows redirects to another origin (see
    /// [`cross_origin_redirects`](Self::cross_origin_redirects)).
    pub fn cross_origin_redirects(mut self, follow: bool) -> Self {
        self.cross_origin_redirects = follow;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// The base URL, parsed, if it is one the client may use.
    pub(crate) fn check(&self) -> Result<reqwest::Url, ModelError> {
        let refuse = |message: String| ModelError::BadRequest { status: 0, message };
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|error| refuse(format!("base URL `{}`: {error}", self.base_url)))?;
        match url.scheme() {
            "https" => {}
            "http" if self.api_key.is_none() || self.allow_insecure_http || is_loopback(&url) => {}
            "http" => {
                return Err(refuse(format!(
                    "base URL `{}` is plain http:// to a host that is not loopback: the API key \
                     would travel in clear text (use https://, or allow_insecure_http(true))",
                    self.base_url
                )));
            }
            _ => {
                return Err(refuse(format!(
                    "base URL `{}` must start with http:// or https://",
                    self.base_url
                )));
            }
        }
        Ok(url)
    }
}

/// Whether `url` names this machine: `localhost`, `127.0.0.0/8` or `::1`.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
