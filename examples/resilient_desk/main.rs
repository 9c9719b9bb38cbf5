//! The support desk on a model that survives its provider: a primary
//! OpenAI-compatible server behind a shared rate limit and a circuit
//! breaker, falling back to a second model when the primary fails.
//!
//! ```text
//! cargo run --example resilient_desk
//!     the primary is a port nobody listens on (an outage); the backup, the
//!     committed recording of a real model, answers every turn
//! cargo run --example resilient_desk -- --base-url http://127.0.0.1:8089/v1
//!     the primary is that server; the recording answers only if it fails
//! ```

#[path = "../support_desk/desk.rs"]
mod desk;

use std::time::Duration;

use agents_core::model::layers::{
    CircuitBreakerLayer, Fallback, ModelExt, RateLimitLayer, RateLimits,
};
use agents_core::openai::{OpenAiChat, OpenAiConfig, RetryPolicy};
use agents_core::prelude::*;
use agents_testing::ReplayModel;

use desk::{Shop, Triage};

const RECORDING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/recordings/support_desk.json");
const QUESTION: &str = "I was charged twice for A-1001";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [flag, url] if flag == "--base-url" => url.clone(),
        [] => {
            // An outage: a port that was free a moment ago.
            let free = std::net::TcpListener::bind("127.0.0.1:0")?;
            format!("http://{}/v1", free.local_addr()?)
        }
        _ => {
            eprintln!("usage: resilient_desk [--base-url URL]");
            std::process::exit(2);
        }
    };

    // One limiter and one breaker for every run on this provider. The
    // client does not retry 429s itself: the limiter pauses everyone.
    let limit = RateLimitLayer::new(RateLimits::new().requests_per_minute(120));
    let breaker = CircuitBreakerLayer::new(3, Duration::from_secs(30));
    let primary = OpenAiChat::new(
        OpenAiConfig::from_env()
            .base_url(&base_url)
            .retry(RetryPolicy::none()),
    )?
    .with(limit.clone())
    .with(breaker.clone());
    let backup = ReplayModel::from_file(RECORDING)?;
    let model = Fallback::new("primary", primary).or("recording", backup);

    println!("customer: {QUESTION}\nprimary: {base_url}\n");
    let mut run = Runner::new(model).run(&Triage, Shop::demo(QUESTION), QUESTION);
    // As the recording was made (a small local model, guided).
    for (agent, settings) in desk::guided_settings(QUESTION) {
        run = run.agent_model_settings(agent, settings);
    }
    let result = run.await?;
    println!("{}", result.final_output);
    println!("\nstatus: {:?}", result.status);
    for (turn, response) in (1..).zip(&result.raw_responses) {
        let failed: Vec<String> = response
            .failovers
            .iter()
            .map(|f| format!("{} ({:?})", f.model, f.kind))
            .collect();
        println!(
            "  turn {turn}: answered by {}; failed first: {}",
            response.model.as_deref().unwrap_or("?"),
            if failed.is_empty() {
                "none".to_owned()
            } else {
                failed.join(", ")
            }
        );
    }
    println!("rate limit: {:?}", limit.stats());
    println!("breaker: {:?}", breaker.stats());
    Ok(())
}
