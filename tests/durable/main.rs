//! Durable runs on Temporal.
//!
//! Without a server (the normal test command): a committed workflow
//! history of a refund run replays against today's loop, and a loop that
//! would run differently fails the replay.
//!
//! With a server (`#[ignore]`d; CI runs them with
//! `AGENTS_TEMPORAL_ADDRESS` from `scripts/temporal.sh start`): a run
//! waits for approval and completes; a worker process killed after the
//! first tool call is replaced and nothing runs twice.

mod agents;
mod server;

use agents_core::temporal::replay;

/// The committed history of a refund run: Triage hands off to Billing,
/// which looks the order up, asks to refund, waits for the approval, and
/// answers. Recorded from the dev server by `a_run_waits_for_approval`
/// with `AGENTS_TEMPORAL_RECORD` set to this path.
const HISTORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/durable/fixtures/refund.history.json"
);

fn history() -> Vec<u8> {
    std::fs::read(HISTORY).unwrap_or_else(|e| {
        panic!(
            "{HISTORY}: {e}; record it: scripts/temporal.sh start, then \
             AGENTS_TEMPORAL_ADDRESS=127.0.0.1:7239 AGENTS_TEMPORAL_RECORD={HISTORY} \
             cargo test -p agents-tests --test durable -- --ignored a_run_waits_for_approval"
        )
    })
}

/// What the history says the workflow did: its activities in order, and
/// its result.
fn summary(history: &[u8]) -> serde_json::Value {
    let history: serde_json::Value = serde_json::from_slice(history).unwrap();
    let events = history["events"].as_array().unwrap();
    let activities: Vec<&str> = events
        .iter()
        .filter_map(|e| {
            e["attributes"]["ActivityTaskScheduledEventAttributes"]["activity_type"]["name"]
                .as_str()
        })
        .collect();
    let result = events
        .iter()
        .find_map(|e| {
            e["attributes"]["WorkflowExecutionCompletedEventAttributes"]["result"]["payloads"]
                    [0]["data"]
                    .as_str()
        })
        .expect("the history ends with the workflow's result");
    let result: serde_json::Value = serde_json::from_slice(&base64_decode(result)).unwrap();
    let updates = events
        .iter()
        .filter(|e| {
            e["attributes"]
                .get("WorkflowExecutionUpdateAcceptedEventAttributes")
                .is_some()
        })
        .count();
    let timers = events
        .iter()
        .filter(|e| e["attributes"].get("TimerStartedEventAttributes").is_some())
        .count();
    serde_json::json!({
        "activities": activities,
        "timers": timers,
        "updates": updates,
        "result": result,
    })
}

/// Standard base64 (the JSON form of a payload's bytes).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = text.bytes().filter(|c| *c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_history_replays_on_todays_loop() {
    let history = history();
    replay(agents::durable_agents(None), &history)
        .await
        .expect("today's loop makes the recorded calls in the recorded order");
    insta::assert_json_snapshot!(summary(&history));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_that_would_run_differently_fails_the_replay() {
    // One turn at most: the loop would stop where the history goes on.
    let agents = agents::durable_agents_with(None, |config| config.max_turns(1));
    let error = replay(agents, &history())
        .await
        .expect_err("a different loop does not replay");
    let message = error.to_string();
    assert!(message.contains("nondeterministic"), "{message}");
}
