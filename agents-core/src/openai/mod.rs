//! OpenAI and OpenAI-compatible models (feature `openai`).
//!
//! - [`OpenAiChat`]: the Chat Completions API, spoken by OpenAI and by
//!   llama.cpp, vLLM, Ollama and LM Studio.
//! - [`OpenAiResponses`]: the Responses API (OpenAI, and servers that
//!   implement it).
//!
//! Both take an [`OpenAiConfig`] (base URL, key, model, headers, timeouts,
//! [`RetryPolicy`]); wire types come from `async-openai`, HTTP from
//! `reqwest` (rustls with *ring*), event streams from `sse-parse` (linear in
//! the bytes received, a leading byte-order mark skipped), backoff from
//! `backon`.
//!
//! Faults are typed [`ModelError`](crate::ModelError)s: `Auth` (401/403),
//! `RateLimited` (429, with `Retry-After`), `BadRequest` (other 4xx, with
//! the server's message), `Server` (5xx), `Connection`, `Timeout`, `Decode`
//! (malformed JSON, a stream cut before it completed). 429, 500, 502, 503,
//! 504 and connection errors are retried with exponential backoff and
//! jitter, waiting `Retry-After` when the server says.
//!
//! # The server is not trusted
//!
//! - **Sizes are bounded** by [`ResponseLimits`]: a body over 32 MiB, or one
//!   server-sent event over 8 MiB, is a `ModelError::TooLarge`, read no
//!   further than the limit.
//! - **Secrets stay secret**: `Debug` shows neither the key nor extra header
//!   values (both are sent as sensitive headers), and an error message that
//!   repeats one (a 401 body echoing the key) has it replaced by
//!   `[redacted]`.
//! - **The conversation stays where it was sent**: a redirect to another
//!   origin is not followed (it would re-send the request body there),
//!   unless [`OpenAiConfig::cross_origin_redirects`] allows it.
//! - **The key is not sent in clear text**: a plain `http://` base URL to a
//!   host other than loopback, with a key, is refused unless
//!   [`OpenAiConfig::allow_insecure_http`] allows it.
//! - Token counts of any size add up without overflow (they saturate).
//!
//! # What the runtime and the allocator change
//!
//! A turn's client CPU is mostly the HTTP exchange, JSON and, streamed,
//! one wake-up per server-sent event. Two choices outside this crate move
//! it; measured with `examples/bench_wire` against a local server
//! (`--runtime`, `--features mimalloc`; BENCHMARKS.md, "The runtime and
//! the allocator"), as client CPU per turn against tokio's multi-thread
//! runtime with the system allocator:
//!
//! - **A current-thread runtime** (`#[tokio::main(flavor =
//!   "current_thread")]`): a streamed turn about 0.6× when one run streams
//!   at a time (each event goes from the connection's task to the run's
//!   task on the same thread, instead of waking the other worker), a
//!   non-streamed turn about 0.65× with a hundred runs at once; no gain
//!   for a lone non-streamed run (about 1.1×) or for a hundred streamed
//!   runs. The price: every run shares one core, and a tool or hook that
//!   computes for long holds up all of them (mark such a tool
//!   `#[tool(blocking)]`: it then runs on tokio's blocking pool, not on
//!   that thread).
//! - **Another allocator** (mimalloc as the program's
//!   `#[global_allocator]`): a non-streamed turn about 0.9× (one at a time)
//!   to 0.8× (a hundred at once), a streamed one about 0.8× with a hundred
//!   at once; about twice the peak resident memory.
//!
//! Both together: about 0.55× for a hundred non-streamed runs at once and
//! for one streamed run at a time.

mod chat;
mod chat_request;
mod config;
mod decode;
#[cfg(test)]
mod decode_fuzz_test;
mod http;
mod responses;
mod responses_request;
mod sse;

pub use chat::OpenAiChat;
pub use config::{
    DEFAULT_BASE_URL, DEFAULT_MODEL, OpenAiConfig, ResponseLimits, RetryPolicy, SchemaFormat,
};
pub use responses::OpenAiResponses;
