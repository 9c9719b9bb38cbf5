//! OpenAI and OpenAI-compatible models (feature `openai`).
//!
//! - [`OpenAiChat`]: the Chat Completions API, spoken by OpenAI and by
//!   llama.cpp, vLLM, Ollama and LM Studio.
//! - [`OpenAiResponses`]: the Responses API (OpenAI, and servers that
//!   implement it).
//!
//! Both take an [`OpenAiConfig`] (base URL, key, model, headers, timeouts,
//! [`RetryPolicy`]); wire types come from `async-openai`, HTTP from
//! `reqwest` (rustls with *ring*), event streams from `eventsource-stream`,
//! backoff from `backon`.
//!
//! Faults are typed [`ModelError`](crate::ModelError)s: `Auth` (401/403),
//! `RateLimited` (429, with `Retry-After`), `BadRequest` (other 4xx, with
//! the server's message), `Server` (5xx), `Connection`, `Timeout`, `Decode`
//! (malformed JSON, a stream cut before it completed). 429, 500, 502, 503,
//! 504 and connection errors are retried with exponential backoff and
//! jitter, waiting `Retry-After` when the server says.

mod chat;
mod config;
mod http;
mod responses;
mod sse;

pub use chat::OpenAiChat;
pub use config::{DEFAULT_BASE_URL, DEFAULT_MODEL, OpenAiConfig, RetryPolicy, SchemaFormat};
pub use responses::OpenAiResponses;
