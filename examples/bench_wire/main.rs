//! The wire benchmark: what a turn costs the client against a real HTTP
//! server. A fake OpenAI-compatible server (`server.rs`, a child process,
//! loopback) answers a three-turn workload (two parallel tool calls, one
//! call, a final text); this process drives it through `OpenAiChat` and
//! `OpenAiResponses`, and
//! through a floor client on the same HTTP stack (reqwest/hyper, the same
//! runtime) that posts the same request bodies, pre-serialised, and reads
//! the responses as bytes, with no agent logic. Reported per
//! configuration (streamed or not, concurrency 1 or 100): client CPU per
//! turn (this process only: user + system, the process CPU-time clock),
//! runs/s, p50/p99 wall per run, peak RSS so far.
//!
//! ```text
//! cargo run --release --example bench_wire [-- --quick] [--padding BYTES] [--api chat|responses] [--only plain-1|plain-100|streamed-1|streamed-100] [--allocs (with --features count-allocs)] [--client agents|floor] [--runtime multi-thread|current-thread]
//! cargo run --release --example bench_wire -- serve --port 8090   # the server alone (for peers)
//! ```

mod allocs;
mod responses_api;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agents_core::openai::{OpenAiChat, OpenAiConfig, OpenAiResponses};
use agents_core::prelude::*;
use futures::StreamExt;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Look up an order.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: shipped")
}

/// One configuration's figures.
struct Figures {
    client: &'static str,
    api: &'static str,
    stream: bool,
    concurrency: usize,
    runs: usize,
    cpu_us_per_turn: f64,
    runs_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_mb: f64,
    /// Allocations and bytes allocated per turn (with `--allocs`).
    allocs: Option<(f64, f64)>,
}

impl Figures {
    fn json(&self) -> String {
        let allocs = self.allocs.map_or(String::new(), |(count, bytes)| {
            format!(",\"allocs_per_turn\":{count:.1},\"bytes_per_turn\":{bytes:.0}")
        });
        format!(
            "{{\"client\":\"{}\",\"api\":\"{}\",\"stream\":{},\"concurrency\":{},\"runs\":{},\"cpu_us_per_turn\":{:.1},\"runs_per_s\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"peak_rss_mb\":{:.1}{allocs}}}",
            self.client,
            self.api,
            self.stream,
            self.concurrency,
            self.runs,
            self.cpu_us_per_turn,
            self.runs_per_s,
            self.p50_ms,
            self.p99_ms,
            self.peak_rss_mb
        )
    }
}

/// This process's CPU time so far (user + system, all threads), from
/// the process CPU-time clock (nanoseconds).
fn cpu_time() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

/// The peak resident set so far, in MB (`VmHWM`).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// What one batch of runs cost: CPU, wall time, each run's time, and the
/// allocations and bytes (when counting). Batches add up.
#[derive(Default)]
struct Sample {
    runs: usize,
    cpu: Duration,
    wall: Duration,
    times: Vec<Duration>,
    allocs: Option<(u64, u64)>,
}

impl Sample {
    fn add(&mut self, other: Sample) {
        self.runs += other.runs;
        self.cpu += other.cpu;
        self.wall += other.wall;
        self.times.extend(other.times);
        self.allocs = match (self.allocs, other.allocs) {
            (Some((count, bytes)), Some((more, more_bytes))) => {
                Some((count + more, bytes + more_bytes))
            }
            (mine, theirs) => mine.or(theirs),
        };
    }

    fn figures(
        mut self,
        client: &'static str,
        api: &'static str,
        stream: bool,
        concurrency: usize,
    ) -> Figures {
        let turns = (self.runs * 3).max(1) as f64;
        self.times.sort();
        let at = |q: f64| {
            let last = self.times.len().saturating_sub(1);
            self.times
                .get(((self.times.len() as f64 * q) as usize).min(last))
                .copied()
                .unwrap_or_default()
        };
        Figures {
            client,
            api,
            stream,
            concurrency,
            runs: self.runs,
            cpu_us_per_turn: self.cpu.as_secs_f64() * 1e6 / turns,
            runs_per_s: self.runs as f64 / self.wall.as_secs_f64(),
            p50_ms: at(0.5).as_secs_f64() * 1e3,
            p99_ms: at(0.99).as_secs_f64() * 1e3,
            peak_rss_mb: peak_rss_mb(),
            allocs: self
                .allocs
                .map(|(count, bytes)| (count as f64 / turns, bytes as f64 / turns)),
        }
    }
}

/// Runs `runs` runs of `one` with `concurrency` at a time.
async fn measure<F, Fut>(concurrency: usize, runs: usize, one: &Arc<F>) -> Result<Sample, Error>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), Error>> + Send,
{
    let counted = allocs::snapshot();
    let cpu = cpu_time();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let one = Arc::clone(one);
        let mine = runs / concurrency + usize::from(task < runs % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(mine);
            for _ in 0..mine {
                let run = Instant::now();
                one().await?;
                times.push(run.elapsed());
            }
            Ok::<_, Error>(times)
        }));
    }
    let mut times = Vec::with_capacity(runs);
    for task in tasks {
        times.extend(task.await??);
    }
    Ok(Sample {
        runs,
        wall: started.elapsed(),
        cpu: cpu_time().saturating_sub(cpu),
        times,
        allocs: allocs::since(counted),
    })
}

fn value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|at| args.get(at + 1).cloned())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--runtime current-thread`: the clients on one thread (tokio's
    // current-thread runtime), to measure what it buys; by default the
    // multi-thread runtime `#[tokio::main]` makes.
    let runtime = match value(&args, "--runtime").as_deref() {
        None | Some("multi-thread") => tokio::runtime::Builder::new_multi_thread(),
        Some("current-thread") => tokio::runtime::Builder::new_current_thread(),
        Some(other) => {
            return Err(format!("--runtime {other}: multi-thread or current-thread").into());
        }
    }
    .enable_all()
    .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Vec<String>) -> Result<(), Error> {
    if args.first().map(String::as_str) == Some("serve") {
        let port = value(&args, "--port").map_or(Ok(8090), |p| p.parse())?;
        server::serve(port, value(&args, "--capture").map(PathBuf::from)).await?;
        return Ok(());
    }
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "--allocs") && !allocs::counting() {
        return Err("--allocs needs the examples built with `--features count-allocs`".into());
    }
    let padding: usize = value(&args, "--padding").map_or(Ok(0), |p| p.parse())?;
    // `--only streamed-100` (or `plain-1`, ...): one configuration, for a
    // profiler.
    let only = value(&args, "--only");
    // `--client agents` (or `floor`): that client alone, for a profiler.
    let client = value(&args, "--client");

    // The server: this program, in a child process of its own.
    let port = 18_000 + (std::process::id() % 1000) as u16;
    let capture = std::env::temp_dir().join(format!("bench-wire-{}", std::process::id()));
    std::fs::create_dir_all(&capture)?;
    let server = Server(
        std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--port", &port.to_string(), "--capture"])
            .arg(&capture)
            .spawn()?,
    );
    let url = format!("http://127.0.0.1:{port}/v1");
    let options = Options {
        quick,
        padding,
        only: only.as_deref(),
        client: client.as_deref(),
        api: value(&args, "--api"),
    };
    let outcome = bench(&url, &capture, &options).await;
    drop(server);
    let _ = std::fs::remove_dir_all(&capture);
    outcome
}

/// The server's process, stopped when dropped (a panic included: it
/// would otherwise outlive this one).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What to measure, from the command line.
struct Options<'a> {
    quick: bool,
    padding: usize,
    /// One configuration (`plain-1`, `streamed-100`, ...).
    only: Option<&'a str>,
    /// One client (`agents` or `floor`).
    client: Option<&'a str>,
    /// One API (`chat` or `responses`).
    api: Option<String>,
}

const QUESTION: &str = "Where are A-1, A-2 and A-3?";

/// Batches per configuration and client, the clients alternating.
const BATCHES: usize = 5;

async fn bench(url: &str, capture: &std::path::Path, options: &Options<'_>) -> Result<(), Error> {
    let instructions = format!("You look orders up.{}", " ".repeat(options.padding));
    let agent: Agent<()> = Agent::builder("Clerk")
        .instructions(instructions)
        .tool(lookup_order {})
        .build()?;
    println!(
        "# three-turn runs against the fake server at {url}; instructions {} bytes",
        options.padding + 19
    );
    // Made after the first model client, which installs the TLS crypto
    // provider reqwest needs.
    let mut http: Option<reqwest::Client> = None;
    let mut all = Vec::new();
    for (api, path) in [("chat", "chat/completions"), ("responses", "responses")] {
        if options.api.as_deref().is_some_and(|only| only != api) {
            continue;
        }
        let config = OpenAiConfig::new()
            .base_url(url)
            .api_key("bench")
            .model("gpt-4o-mini");
        let runner = match api {
            "chat" => Runner::new(OpenAiChat::new(config)?),
            _ => Runner::new(OpenAiResponses::new(config)?),
        };
        let http = http.get_or_insert_with(reqwest::Client::new);
        warm_up(&runner, &agent).await?;
        // The first run's three requests, captured by the server, are the
        // floor client's bodies.
        let bodies: Vec<Vec<u8>> = (0..3)
            .map(|n| std::fs::read(capture.join(format!("{api}-{n}.json"))))
            .collect::<Result<_, _>>()?;
        let endpoint = format!("{url}/{path}");
        for stream in [false, true] {
            let floor_bodies: Arc<Vec<Vec<u8>>> = Arc::new(
                bodies
                    .iter()
                    .map(|body| with_stream(body, api, stream))
                    .collect::<Result<_, _>>()?,
            );
            for concurrency in [1, 100] {
                let name = format!(
                    "{}-{concurrency}",
                    if stream { "streamed" } else { "plain" }
                );
                if options.only.is_some_and(|only| only != name) {
                    continue;
                }
                let runs = match (concurrency, options.quick) {
                    (1, false) => 500,
                    (1, true) => 50,
                    (_, false) => 5_000,
                    (_, true) => 500,
                };
                let ours = {
                    let (runner, agent) = (runner.clone(), agent.clone());
                    Arc::new(move || {
                        let (runner, agent) = (runner.clone(), agent.clone());
                        async move { one_run(&runner, &agent, stream).await }
                    })
                };
                let floor = {
                    let (http, endpoint, bodies) =
                        (http.clone(), endpoint.clone(), Arc::clone(&floor_bodies));
                    Arc::new(move || {
                        let (http, endpoint, bodies) =
                            (http.clone(), endpoint.clone(), Arc::clone(&bodies));
                        async move { floor_run(&http, &endpoint, &bodies).await }
                    })
                };
                // The two clients take turns, a batch each, so a change in
                // what else the machine runs weighs on both alike.
                let (mut ours_sample, mut floor_sample) = (Sample::default(), Sample::default());
                for _ in 0..BATCHES {
                    if options.client != Some("floor") {
                        ours_sample.add(measure(concurrency, runs / BATCHES, &ours).await?);
                    }
                    if options.client != Some("agents") {
                        floor_sample.add(measure(concurrency, runs / BATCHES, &floor).await?);
                    }
                }
                let ours = (ours_sample.runs > 0)
                    .then(|| ours_sample.figures("agents", api, stream, concurrency));
                let floor = (floor_sample.runs > 0)
                    .then(|| floor_sample.figures("floor", api, stream, concurrency));
                for figures in ours.iter().chain(&floor) {
                    println!("{}", figures.json());
                }
                if let (Some(ours), Some(floor)) = (ours, floor) {
                    all.push((ours, floor));
                }
            }
        }
    }
    println!(
        "\n| client CPU per turn | agents | floor | agents / floor | agents runs/s | agents p50 | agents p99 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (ours, floor) in &all {
        println!(
            "| {} {}, concurrency {} | {:.0} µs | {:.0} µs | {:.2}× | {:.0} | {:.2} ms | {:.2} ms |",
            ours.api,
            if ours.stream {
                "streamed"
            } else {
                "non-streamed"
            },
            ours.concurrency,
            ours.cpu_us_per_turn,
            floor.cpu_us_per_turn,
            ours.cpu_us_per_turn / floor.cpu_us_per_turn,
            ours.runs_per_s,
            ours.p50_ms,
            ours.p99_ms
        );
    }
    println!("peak RSS: {:.1} MB", peak_rss_mb());
    Ok(())
}

/// Waits for the server (up to 10 s) with the workload's first run, which
/// the server captures.
async fn warm_up(runner: &Runner<()>, agent: &Agent<()>) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        match runner.run(agent, (), QUESTION).await {
            Ok(result) if result.turns == 3 => return Ok(()),
            Ok(result) => {
                return Err(format!("the workload took {} turns, not 3", result.turns).into());
            }
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// One run of the workload by this project's runner, streamed or not.
async fn one_run(runner: &Runner<()>, agent: &Agent<()>, stream: bool) -> Result<(), Error> {
    let run = runner.run(agent, (), QUESTION);
    let result = if stream {
        let mut events = run.stream();
        while events.next().await.is_some() {}
        events.result().await?
    } else {
        run.await?
    };
    debug_assert_eq!(result.turns, 3);
    Ok(())
}

/// One run's worth of exchanges by the floor client: each body posted,
/// each response read as bytes.
async fn floor_run(
    http: &reqwest::Client,
    endpoint: &str,
    bodies: &[Vec<u8>],
) -> Result<(), Error> {
    for body in bodies {
        let response = http
            .post(endpoint)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            chunk?;
        }
    }
    Ok(())
}

/// A captured request body with `stream` set (and, for Chat Completions,
/// usage asked for when streamed), as the client under test would send it.
fn with_stream(body: &[u8], api: &str, stream: bool) -> Result<Vec<u8>, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_slice(body)?;
    value["stream"] = serde_json::Value::Bool(stream);
    if api != "chat" {
        if let Some(map) = value.as_object_mut().filter(|_| !stream) {
            map.remove("stream");
        }
    } else if stream {
        value["stream_options"] = serde_json::json!({"include_usage": true});
    } else if let Some(map) = value.as_object_mut() {
        map.remove("stream_options");
    }
    serde_json::to_vec(&value)
}
