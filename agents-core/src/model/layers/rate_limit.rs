//! Request and token limits shared by every run that uses a model.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use super::{Layer, StreamItem, deferred, prepend};
use crate::model::{BoxFuture, BoxStream, Model, ModelError, ModelRequest, ModelResponse};
use crate::usage::Usage;

/// The limits of a [`RateLimitLayer`].
///
/// Limits are enforced by GCRA (the `governor` crate): up to a burst at
/// once, then evenly spread at the rate. With the default burst of 1
/// request, requests start at least `60 s / requests_per_minute` apart, so
/// no window of any length sees more than the rate allows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Requests per minute; `None`: no request limit.
    pub requests_per_minute: Option<u32>,
    /// Requests that may start at once before the rate applies. Default 1.
    pub request_burst: u32,
    /// Tokens per minute, input and output; `None`: no token limit. A
    /// request is charged an estimate before it is sent (its JSON size / 4),
    /// corrected from the usage the response reports (the difference is
    /// charged to the next requests).
    pub tokens_per_minute: Option<u32>,
    /// Tokens that may be spent at once. Default: one second's worth of
    /// `tokens_per_minute`. A request estimated larger (or paying for
    /// earlier ones) waits for several bursts.
    pub token_burst: Option<u32>,
    /// How many times one call is retried after HTTP 429. Default 3.
    pub retries_on_429: u32,
    /// How long a 429 without `Retry-After` pauses the limiter. Default 1 s.
    pub default_pause: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            requests_per_minute: None,
            request_burst: 1,
            tokens_per_minute: None,
            token_burst: None,
            retries_on_429: 3,
            default_pause: Duration::from_secs(1),
        }
    }
}

impl RateLimits {
    /// No limits yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the requests per minute (0 counts as 1).
    pub fn requests_per_minute(mut self, requests: u32) -> Self {
        self.requests_per_minute = Some(requests);
        self
    }

    /// Sets the requests that may start at once.
    pub fn request_burst(mut self, requests: u32) -> Self {
        self.request_burst = requests;
        self
    }

    /// Sets the tokens per minute (0 counts as 1).
    pub fn tokens_per_minute(mut self, tokens: u32) -> Self {
        self.tokens_per_minute = Some(tokens);
        self
    }

    /// Sets the tokens that may be spent at once.
    pub fn token_burst(mut self, tokens: u32) -> Self {
        self.token_burst = Some(tokens);
        self
    }

    /// Sets how many times a call is retried after HTTP 429.
    pub fn retries_on_429(mut self, retries: u32) -> Self {
        self.retries_on_429 = retries;
        self
    }

    /// Sets the pause after a 429 that names no `Retry-After`.
    pub fn default_pause(mut self, pause: Duration) -> Self {
        self.default_pause = pause;
        self
    }
}

/// A limiter's counters, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimitStats {
    /// Requests let through.
    pub requests: u64,
    /// 429 answers seen (each paused the limiter).
    pub rate_limited: u64,
    /// Tokens charged: estimates, and corrections from usage.
    pub tokens_charged: u64,
}

struct Limiter {
    limits: RateLimits,
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<(DefaultDirectRateLimiter, u32)>,
    /// Tokens used beyond what was charged; the next requests pay them.
    owed: AtomicU64,
    paused_until: Mutex<Option<Instant>>,
    sent: AtomicU64,
    rate_limited: AtomicU64,
    charged: AtomicU64,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A GCRA limiter of `per_minute` cells with bursts of `burst`.
fn limiter(per_minute: u32, burst: u32) -> DefaultDirectRateLimiter {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_minute(per_minute).allow_burst(burst))
}

impl Limiter {
    /// Waits out a 429 pause, if one is on.
    async fn pause(&self) {
        loop {
            let until = *self
                .paused_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }

    /// Waits for capacity for `request`; the tokens charged for it.
    async fn acquire(&self, request: &ModelRequest) -> u64 {
        self.pause().await;
        if let Some(requests) = &self.requests {
            requests.until_ready().await;
        }
        let mut charged = 0;
        if let Some((tokens, burst)) = &self.tokens {
            let estimate = estimate_tokens(request);
            // The estimate and what earlier calls owe, a burst at a time.
            let mut due = estimate.saturating_add(self.owed.swap(0, Ordering::SeqCst));
            while due > 0 {
                let now = due.min(u64::from(*burst));
                due -= now;
                let cells = NonZeroU32::new(u32::try_from(now).unwrap_or(*burst))
                    .unwrap_or(NonZeroU32::MIN);
                // Cannot fail: `cells` is at most the burst.
                let _ = tokens.until_n_ready(cells).await;
            }
            self.charged.fetch_add(estimate, Ordering::Relaxed);
            charged = estimate;
        }
        // A 429 may have paused everyone while this call waited.
        self.pause().await;
        self.sent.fetch_add(1, Ordering::Relaxed);
        charged
    }

    /// Charges the tokens `usage` reports beyond the estimate.
    fn correct(&self, charged: u64, usage: &Usage) {
        if self.tokens.is_none() {
            return;
        }
        let used = usage
            .total_tokens
            .max(usage.input_tokens.saturating_add(usage.output_tokens));
        if used > charged {
            self.owed.fetch_add(used - charged, Ordering::SeqCst);
            self.charged.fetch_add(used - charged, Ordering::Relaxed);
        }
    }

    /// After a 429: pauses every call of the limiter for `retry_after`.
    fn rate_limited(&self, retry_after: Option<Duration>) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
        let until = Instant::now() + retry_after.unwrap_or(self.limits.default_pause);
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

/// The token estimate of `request`: its JSON size in bytes / 4, rounded up.
fn estimate_tokens(request: &ModelRequest) -> u64 {
    let bytes = serde_json::to_vec(request).map_or(0, |json| json.len());
    u64::try_from(bytes.div_ceil(4)).unwrap_or(u64::MAX)
}

/// Requests-per-minute and tokens-per-minute limits shared by every model
/// it wraps and every run using them: calls wait for capacity rather than
/// meet a wall of 429s. An HTTP 429 that still arrives pauses the whole
/// limiter for its `Retry-After` (every waiting call, not just the one that
/// got it), then the call is retried (up to
/// [`RateLimits::retries_on_429`]).
///
/// Wrap the models of one API key in clones of one layer for a per-key
/// limit, or each model in its own for per-model limits. Give the client
/// below no 429 retries of its own (`RetryPolicy` retries 429 by default),
/// or a 429 waits out its `Retry-After` there, unseen by the limiter.
///
/// Feature `rate-limit`.
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<Limiter>,
}

impl RateLimitLayer {
    /// A limiter with `limits`.
    pub fn new(limits: RateLimits) -> Self {
        let requests = limits
            .requests_per_minute
            .map(|rate| limiter(rate, limits.request_burst));
        let tokens = limits.tokens_per_minute.map(|rate| {
            let burst = limits.token_burst.unwrap_or(rate / 60).max(1);
            (limiter(rate, burst), burst)
        });
        RateLimitLayer {
            limiter: Arc::new(Limiter {
                limits,
                requests,
                tokens,
                owed: AtomicU64::new(0),
                paused_until: Mutex::new(None),
                sent: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
                charged: AtomicU64::new(0),
            }),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> RateLimitStats {
        RateLimitStats {
            requests: self.limiter.sent.load(Ordering::Relaxed),
            rate_limited: self.limiter.rate_limited.load(Ordering::Relaxed),
            tokens_charged: self.limiter.charged.load(Ordering::Relaxed),
        }
    }
}

impl<M> Layer<M> for RateLimitLayer {
    type Service = RateLimit<M>;

    fn layer(&self, inner: M) -> RateLimit<M> {
        RateLimit {
            inner,
            limiter: Arc::clone(&self.limiter),
        }
    }
}

/// A model behind a [`RateLimitLayer`].
#[derive(Debug, Clone)]
pub struct RateLimit<M> {
    inner: M,
    limiter: Arc<Limiter>,
}

impl<M: Model> Model for RateLimit<M> {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let mut retries = 0;
            loop {
                let charged = self.limiter.acquire(&request).await;
                match self.inner.call(request.clone()).await {
                    Ok(response) => {
                        self.limiter.correct(charged, &response.usage);
                        return Ok(response);
                    }
                    Err(ModelError::RateLimited { retry_after, .. })
                        if retries < self.limiter.limits.retries_on_429 =>
                    {
                        self.limiter.rate_limited(retry_after);
                        retries += 1;
                    }
                    Err(error) => {
                        if let ModelError::RateLimited { retry_after, .. } = &error {
                            self.limiter.rate_limited(*retry_after);
                        }
                        return Err(error);
                    }
                }
            }
        })
    }

    /// A 429 as the stream's first event is retried as in
    /// [`call`](Model::call); usage events are charged as they pass.
    fn stream(&self, request: ModelRequest) -> BoxStream<'_, StreamItem> {
        deferred(async move {
            let mut retries = 0;
            loop {
                let charged = self.limiter.acquire(&request).await;
                let mut stream = self.inner.stream(request.clone());
                match stream.next().await {
                    Some(Err(ModelError::RateLimited { retry_after, .. }))
                        if retries < self.limiter.limits.retries_on_429 =>
                    {
                        self.limiter.rate_limited(retry_after);
                        retries += 1;
                    }
                    first => {
                        let limiter = Arc::clone(&self.limiter);
                        let mut usage = Usage::default();
                        let rest = stream.map(move |event| {
                            if let Ok(event) = &event {
                                if let Some(more) = event.usage() {
                                    usage += more;
                                }
                                if event.ends_stream() {
                                    limiter.correct(charged, &usage);
                                }
                            }
                            event
                        });
                        return prepend(first.into_iter().collect(), Box::pin(rest));
                    }
                }
            }
        })
    }
}
