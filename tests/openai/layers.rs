//! Layers around a model against the loopback server: a rate limit shared
//! by many runs, a 429 storm, a circuit breaker, a fallback chain, a
//! concurrency limit and a response cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agents_core::model::layers::{
    CircuitBreakerLayer, CircuitState, ConcurrencyLimitLayer, Fallback, ModelExt, RateLimitLayer,
    RateLimits, ResponseCacheLayer,
};
use agents_core::model::{BoxFuture, Model, ModelErrorKind, ModelResponse};
use agents_core::openai::{OpenAiChat, RetryPolicy};
use agents_core::run::{RunStatus, ToleratedFailure};
use agents_core::{Agent, Item, ModelError, ModelRequest, Runner, Usage, tool};
use agents_testing::{MockModel, Step};
use futures::StreamExt;

use crate::faults::OK;
use crate::server::{Recorded, Reply, TestServer, config};

/// The loopback client with no retries of its own: the layers decide.
fn client(server: &TestServer) -> OpenAiChat {
    OpenAiChat::new(config(server).retry(RetryPolicy::none())).unwrap()
}

fn request() -> ModelRequest {
    ModelRequest::new("A", vec![])
}

/// Looks up an order.
#[tool]
fn lookup(order: String) -> String {
    format!("{order}: shipped")
}

/// A tool call on a run's first turn, a final answer once the tool's
/// output is in.
fn two_turns(request: &Recorded) -> Reply {
    let answered = request.body["messages"]
        .as_array()
        .is_some_and(|messages| messages.iter().any(|m| m["role"] == "tool"));
    if answered {
        Reply::json(200, OK)
    } else {
        Reply::json(
            200,
            r#"{"choices":[{"message":{"tool_calls":[{"id":"c1","function":{"name":"lookup","arguments":"{\"order\":\"A-1\"}"}}]}}]}"#,
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_runs_sharing_600_requests_a_minute_stay_under_it_and_finish() {
    let server = TestServer::responding(|request, _| two_turns(request)).await;
    let limit = RateLimitLayer::new(RateLimits::new().requests_per_minute(600));
    let runner = Arc::new(Runner::new(client(&server).with(limit.clone())));
    let agent = Arc::new(
        Agent::<()>::builder("Desk")
            .tool(lookup {})
            .build()
            .unwrap(),
    );
    let runs = (0..50).map(|_| {
        let (runner, agent) = (Arc::clone(&runner), Arc::clone(&agent));
        tokio::spawn(async move { runner.run(&*agent, (), "where is A-1?").await })
    });
    for run in futures::future::join_all(runs).await {
        assert_eq!(run.unwrap().unwrap().final_output, "fine");
    }

    let times: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 100);
    assert_eq!(limit.stats().requests, 100);
    // 600 a minute is one per 100 ms: no second holds more than 10 (one
    // more allowed for the jitter of arrival on a loaded machine).
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < *start + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap();
    eprintln!("shared limit: busiest second {busiest}");
    assert!(busiest <= 11, "{busiest} requests in one second");
    let span = *times.iter().max().unwrap() - *times.iter().min().unwrap();
    assert!(
        span >= Duration::from_millis(9_500),
        "100 requests in {span:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_pauses_everyone_and_every_run_completes() {
    const RUNS: usize = 20;
    let server = TestServer::responding(|_, since_start| {
        if since_start < Duration::from_secs(2) {
            Reply::json(429, r#"{"error":{"message":"slow down"}}"#).with_header("retry-after", "2")
        } else {
            Reply::json(200, OK)
        }
    })
    .await;
    let limit = RateLimitLayer::new(
        RateLimits::new()
            .requests_per_minute(60_000)
            .request_burst(RUNS as u32),
    );
    let model = Arc::new(client(&server).with(limit.clone()));
    let calls = (0..RUNS).map(|n| {
        let model = Arc::clone(&model);
        tokio::spawn(async move {
            // Staggered: later calls arrive while the limiter is paused.
            tokio::time::sleep(Duration::from_millis(50 * n as u64)).await;
            model.call(request()).await
        })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    let sent = server.requests().len();
    eprintln!(
        "storm: {sent} requests for {RUNS} calls, {:?}",
        limit.stats()
    );
    assert!(sent >= RUNS, "{sent}");
    assert!(
        sent - RUNS < 2 * RUNS,
        "{} extra requests for {RUNS} runs",
        sent - RUNS
    );
    // Calls that arrived during the pause waited instead of meeting a 429.
    assert!(
        limit.stats().rate_limited < RUNS as u64,
        "{:?}",
        limit.stats()
    );
}

#[tokio::test]
async fn token_usage_beyond_the_estimate_is_paid_by_the_next_request() {
    let mock = MockModel::script([
        Step::text("long").with_usage(Usage::new(1_900, 100)),
        Step::text("next"),
    ]);
    // 60,000 a minute: 1,000 tokens a second, bursts of 1,000.
    let limit = RateLimitLayer::new(RateLimits::new().tokens_per_minute(60_000));
    let model = mock.with(limit.clone());
    model.call(request()).await.unwrap();
    let started = Instant::now();
    model.call(request()).await.unwrap();
    // The first call used 2,000 tokens, not its estimate (~40): the second
    // paid for them, waiting for about a second's refill.
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert!(limit.stats().tokens_charged >= 2_000, "{:?}", limit.stats());
}

#[tokio::test]
async fn the_breaker_opens_after_n_failures_fails_fast_then_recovers() {
    let failing = Arc::new(AtomicUsize::new(3));
    let left = Arc::clone(&failing);
    let server = TestServer::responding(move |_, _| {
        let failing = left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            Reply::json(503, r#"{"error":{"message":"down"}}"#)
        } else {
            Reply::json(200, OK)
        }
    })
    .await;
    let breaker = CircuitBreakerLayer::new(3, Duration::from_millis(300));
    let model = client(&server).with(breaker.clone());
    for _ in 0..3 {
        let error = model.call(request()).await.unwrap_err();
        assert!(
            matches!(error, ModelError::Server { status: 503, .. }),
            "{error:?}"
        );
    }
    assert_eq!(breaker.stats().state, CircuitState::Open);
    let error = model.call(request()).await.unwrap_err();
    assert!(matches!(error, ModelError::CircuitOpen { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 3, "an open breaker calls nobody");
    assert_eq!(breaker.stats().rejected, 1);

    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(breaker.stats().state, CircuitState::HalfOpen);
    model.call(request()).await.unwrap();
    let stats = breaker.stats();
    assert_eq!(
        (stats.state, stats.consecutive_failures, stats.opened),
        (CircuitState::Closed, 0, 1)
    );
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again() {
    let server = TestServer::responding(|_, _| Reply::json(500, "{}")).await;
    let breaker = CircuitBreakerLayer::new(1, Duration::from_millis(100));
    let model = client(&server).with(breaker.clone());
    model.call(request()).await.unwrap_err();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let probe = model.call(request()).await.unwrap_err();
    assert!(matches!(probe, ModelError::Server { .. }), "{probe:?}");
    assert_eq!(breaker.stats().state, CircuitState::Open);
    assert_eq!(breaker.stats().opened, 2);
    // A 400 is the server answering: it does not count.
    let answering = TestServer::responding(|_, _| Reply::json(400, "{}")).await;
    let breaker = CircuitBreakerLayer::new(1, Duration::from_secs(60));
    let model = client(&answering).with(breaker.clone());
    model.call(request()).await.unwrap_err();
    model.call(request()).await.unwrap_err();
    assert_eq!(breaker.stats().state, CircuitState::Closed);
    assert_eq!(answering.requests().len(), 2);
}

/// A port nobody listens on.
fn closed_port() -> OpenAiChat {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    OpenAiChat::new(
        agents_core::openai::OpenAiConfig::new()
            .base_url(url)
            .retry(RetryPolicy::none()),
    )
    .unwrap()
}

#[tokio::test]
async fn the_fallback_chain_switches_on_5xx_and_connection_errors_not_on_400() {
    let down =
        TestServer::responding(|_, _| Reply::json(502, r#"{"error":{"message":"bad gateway"}}"#))
            .await;
    let backup = TestServer::responding(|_, _| Reply::json(200, OK)).await;
    let chain = Fallback::new("primary", client(&down)).or("backup", client(&backup));
    let response = chain.call(request()).await.unwrap();
    assert_eq!(response.model.as_deref(), Some("backup"));
    assert_eq!(response.failovers.len(), 1);
    assert_eq!(response.failovers[0].model, "primary");
    assert_eq!(response.failovers[0].kind, ModelErrorKind::Server);

    let chain = Fallback::new("unreachable", closed_port()).or("backup", client(&backup));
    let response = chain.call(request()).await.unwrap();
    assert_eq!(response.failovers[0].kind, ModelErrorKind::Connection);

    let refusing =
        TestServer::responding(|_, _| Reply::json(400, r#"{"error":{"message":"bad schema"}}"#))
            .await;
    let calls_before = backup.requests().len();
    let chain = Fallback::new("primary", client(&refusing)).or("backup", client(&backup));
    let error = chain.call(request()).await.unwrap_err();
    assert!(
        matches!(error, ModelError::BadRequest { status: 400, .. }),
        "{error:?}"
    );
    assert_eq!(
        backup.requests().len(),
        calls_before,
        "a 400 is not a reason to switch"
    );
}

#[tokio::test]
async fn a_run_answered_by_a_fallback_is_degraded_and_says_by_whom() {
    let down = TestServer::responding(|_, _| Reply::json(503, "{}")).await;
    let backup = TestServer::responding(|request, _| two_turns(request)).await;
    let chain = Fallback::new("primary", client(&down)).or("backup", client(&backup));
    let agent = Agent::<()>::builder("Desk")
        .tool(lookup {})
        .build()
        .unwrap();
    let result = Runner::new(chain).run(&agent, (), "where?").await.unwrap();
    assert_eq!(result.status, RunStatus::Degraded);
    let answered: Vec<_> = result
        .raw_responses
        .iter()
        .map(|r| r.model.as_deref())
        .collect();
    assert_eq!(answered, [Some("backup"), Some("backup")]);
    let failures = result.tolerated_failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(matches!(
        &failures[0],
        ToleratedFailure::ModelFailover { turn: 1, failover, answered_by: Some(by) }
            if failover.model == "primary" && failover.kind == ModelErrorKind::Server && by == "backup"
    ));
}

#[tokio::test]
async fn a_stream_falls_back_before_its_first_event() {
    let down = TestServer::responding(|_, _| Reply::json(500, "{}")).await;
    let backup = TestServer::responding(|_, _| Reply::Events {
        messages: vec![
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n".to_owned(),
        ],
        end: "data: [DONE]\n\n".to_owned(),
    })
    .await;
    let chain = Fallback::new("primary", client(&down)).or("backup", client(&backup));
    let mut assembler = agents_core::model::ResponseAssembler::new();
    let mut events = chain.stream(request());
    while let Some(event) = events.next().await {
        assembler.push(event.unwrap()).unwrap();
    }
    let response = assembler.finish().unwrap();
    assert_eq!(*response.output[0], Item::assistant("hi"));
    assert_eq!(response.model.as_deref(), Some("backup"));
    assert_eq!(response.failovers[0].model, "primary");
}

/// Counts calls in flight and the most at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Model for Gauge {
    fn call(&self, _: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(ModelResponse::new(vec![Item::assistant("ok")]))
        })
    }
}

#[tokio::test]
async fn a_concurrency_limit_keeps_calls_in_flight_under_it() {
    let gauge = Arc::new(Gauge::default());
    let model = Arc::clone(&gauge).with(ConcurrencyLimitLayer::new(2));
    let calls = (0..10).map(|_| model.call(request()));
    for response in futures::future::join_all(calls).await {
        response.unwrap();
    }
    assert_eq!(gauge.most.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_response_cache_answers_an_identical_request_without_the_model() {
    let mock = MockModel::script([Step::text("first"), Step::text("second")]);
    let cache = ResponseCacheLayer::new(16);
    let model = mock.clone().with(cache.clone());
    let hello = ModelRequest::new("A", vec![Arc::new(Item::user("hello"))]);
    let bye = ModelRequest::new("A", vec![Arc::new(Item::user("bye"))]);
    let first = model.call(hello.clone()).await.unwrap();
    let again = model.call(hello.clone()).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(mock.calls(), 1);
    let other = model.call(bye).await.unwrap();
    assert_eq!(*other.output[0], Item::assistant("second"));
    // A stream of a cached request replays it.
    let events: Vec<_> = model.stream(hello).collect().await;
    assert!(events.iter().any(
        |e| matches!(e, Ok(agents_core::model::ModelStreamEvent::TextDelta(t)) if t == "first")
    ));
    assert_eq!((cache.hits(), cache.misses()), (2, 2));
}

#[tokio::test]
async fn layers_stack_with_tower_service_builder() {
    let mock = MockModel::script([Step::text("stacked")]);
    let breaker = CircuitBreakerLayer::new(3, Duration::from_secs(1));
    let model = tower::ServiceBuilder::new()
        .layer(ConcurrencyLimitLayer::new(4))
        .layer(breaker.clone())
        .service(mock);
    let response = model.call(request()).await.unwrap();
    assert_eq!(*response.output[0], Item::assistant("stacked"));
    assert_eq!(breaker.stats().state, CircuitState::Closed);
}
