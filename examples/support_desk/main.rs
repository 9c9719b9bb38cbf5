//! The support desk: Triage hands the customer to Billing (refunds,
//! answered with a structured receipt) or Shipping (parcels); every agent's
//! answer converts into the desk's typed `Reply`.
//!
//! ```text
//! cargo run --example support_desk -- "I was charged twice for A-1001"
//!     offline: replays the committed recording of a real model's run
//! cargo run --example support_desk -- --base-url http://127.0.0.1:8089/v1 "..."
//!     live against any OpenAI-compatible server (or set OPENAI_BASE_URL)
//! cargo run --example support_desk -- --base-url ... --record target/desk.json "..."
//!     live, writing a new recording (an existing file only with --overwrite)
//! --reject the supervisor refuses what support_desk/policy.json sends them
//!     (live runs: the committed recording holds the approved path)
//! cargo run --example support_desk -- --chat
//!     a long-lived chat: type messages, approve refunds at the prompt
//!     (offline, a stand-in model answers from the request's words)
//! printf 'ana: charged twice for A-1001\nben: where is my parcel?\n' |
//!     cargo run --example support_desk -- --customers
//!     several customers at once, one long-lived agent each, one runtime
//! --guided forces each agent's step and sends schemas as llama.cpp's
//!     `json_object`, for small local models (the committed recording was
//!     made with Gemma 3 270M on llama-cpp-python, guided)
//! ```

mod chat;
mod desk;
mod offline;
mod print;

use std::path::PathBuf;

use agents_core::Model;
use agents_core::openai::{OpenAiChat, OpenAiConfig, SchemaFormat};
use agents_core::policy::RulePolicy;
use agents_core::prelude::*;
use agents_core::run::{MaxTurnsFallback, Run};
use agents_core::runtime::AgentRuntime;
use agents_testing::{RecordingModel, ReplayModel};
use futures::StreamExt;

use desk::{Reply, Shop, Triage};
use print::Printer;

const RECORDING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/recordings/support_desk.json");
const DEFAULT_QUESTION: &str = "I was charged twice for A-1001";
/// The desk's policy: which actions need a supervisor.
const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/support_desk/policy.json");

struct Options {
    question: String,
    base_url: Option<String>,
    model: Option<String>,
    record: Option<PathBuf>,
    /// Whether `record` may replace an existing file.
    overwrite: bool,
    /// Force each agent's step (for small local models that do not pick
    /// tools on their own).
    guided: bool,
    /// The supervisor refuses what the policy sends them.
    reject: bool,
    /// Long-lived agents: a chat, or several customers from stdin.
    mode: Mode,
}

/// How the desk runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One question, one run.
    Question,
    /// A chat on the terminal with one long-lived agent (`--chat`).
    Chat,
    /// Several customers' `name: message` lines from stdin (`--customers`).
    Customers,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        question: DEFAULT_QUESTION.to_owned(),
        base_url: std::env::var("OPENAI_BASE_URL")
            .ok()
            .filter(|v| !v.is_empty()),
        model: None,
        record: None,
        overwrite: false,
        guided: false,
        reject: false,
        mode: Mode::Question,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--base-url" => options.base_url = Some(value("--base-url")?),
            "--model" => options.model = Some(value("--model")?),
            "--record" => options.record = Some(PathBuf::from(value("--record")?)),
            "--guided" => options.guided = true,
            "--reject" => options.reject = true,
            "--overwrite" => options.overwrite = true,
            "--chat" => options.mode = Mode::Chat,
            "--customers" => options.mode = Mode::Customers,
            "--help" | "-h" => {
                return Err("usage: support_desk [--chat | --customers] [--base-url URL] [--model NAME] [--guided] [--reject] [--record FILE [--overwrite]] [QUESTION]".to_owned());
            }
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            question => options.question = question.to_owned(),
        }
    }
    // The committed recording was made guided; replaying it sends the same
    // requests. The chat modes make their runs through the runtime, without
    // per-run settings.
    if options.base_url.is_none() && options.mode == Mode::Question {
        options.guided = true;
    }
    if let Some(path) = &options.record {
        if options.base_url.is_none() {
            return Err("--record needs a live server: --base-url or OPENAI_BASE_URL".to_owned());
        }
        if path.exists() && !options.overwrite {
            return Err(format!(
                "{} exists: record to a new file, or add --overwrite to replace it \
                 (the committed recordings in examples/recordings feed the offline run and the replay tests)",
                path.display()
            ));
        }
    }
    Ok(options)
}

/// The model to run on, and the replay to check for completeness offline.
type Chosen = (Box<dyn Model>, Option<ReplayModel>);

fn model(options: &Options) -> Result<Chosen, Box<dyn std::error::Error>> {
    let Some(base_url) = &options.base_url else {
        if options.mode != Mode::Question {
            println!("(offline: a stand-in model answers from the customer's words)\n");
            return Ok((Box::new(offline::DeskModel::new()), None));
        }
        println!(
            "(offline: replaying {})\n",
            RECORDING.rsplit('/').next().unwrap_or(RECORDING)
        );
        let replay = ReplayModel::from_file(RECORDING)?;
        return Ok((Box::new(replay.clone()), Some(replay)));
    };
    let mut config = OpenAiConfig::from_env().base_url(base_url);
    if options.guided {
        // llama-cpp-python's server takes schemas as `json_object`.
        config = config.schema_format(SchemaFormat::JsonObject);
    }
    let model_named =
        options.model.is_some() || std::env::var("OPENAI_MODEL").is_ok_and(|m| !m.is_empty());
    if let Some(model) = &options.model {
        config = config.model(model);
    }
    if model_named {
        println!("(live: model {} at {})\n", config.model, config.base_url);
    } else {
        // A single-model local server (llama.cpp) ignores the name; others
        // need --model.
        println!(
            "(live: {}, sending the default model name {}; choose one with --model)\n",
            config.base_url, config.model
        );
    }
    let live = OpenAiChat::new(config)?;
    Ok(match &options.record {
        Some(path) => (Box::new(RecordingModel::new(live, path)), None),
        None => (Box::new(live), None),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let (model, replay) = model(&options)?;
    let policy = RulePolicy::from_file(POLICY)?;
    let runner = Runner::from_shared(model.into()).policy(policy);
    if options.mode != Mode::Question {
        return long_lived(runner, &options).await;
    }
    println!("customer: {}\n", options.question);

    let start = runner.run(
        &Triage,
        Shop::demo(&options.question),
        options.question.clone(),
    );
    let mut outcome = show(configure(start, &options)).await;
    if let Err(RunError::ApprovalRequired { state }) = outcome {
        // The policy file sent a call to a person: show it, decide, resume.
        let mut state = *state;
        for pending in state.pending() {
            println!(
                "\n  paused: {} wants {}({}); the policy in {} asks a person",
                pending.agent,
                pending.tool,
                pending.arguments,
                POLICY.rsplit('/').next().unwrap_or(POLICY)
            );
        }
        let ids: Vec<String> = state.pending().iter().map(|p| p.call_id.clone()).collect();
        for call_id in ids {
            if options.reject {
                println!("  supervisor: rejected (--reject)\n");
                state.reject(
                    call_id,
                    "A supervisor declined this refund; tell the customer a colleague will call.",
                )?;
            } else {
                println!("  supervisor: approved (pass --reject to refuse)\n");
                state.approve(call_id)?;
            }
        }
        // The state could be stored and resumed elsewhere; here, at once.
        let resumed = runner.resume(&Triage, Shop::demo(&options.question), state);
        outcome = show(configure(resumed, &options)).await;
    }
    match outcome {
        Ok(result) => {
            println!("\n{}", result.final_output);
            println!("\nstatus: {:?}", result.status);
            for failure in result.tolerated_failures() {
                println!("  tolerated: {failure:?}");
            }
            println!("tool executions:");
            for record in &result.tool_executions {
                let outcome = if record.succeeded() { "ok" } else { "error" };
                println!(
                    "  {} {}({}) by {}: {outcome} in {:.1} ms",
                    record.call().call_id,
                    record.call().name,
                    record.call().arguments,
                    record.agent,
                    record.duration.as_secs_f64() * 1000.0
                );
            }
            if let Some(replay) = replay {
                replay.assert_complete();
            }
            if let Some(path) = &options.record {
                println!("recorded to {}", path.display());
            }
            Ok(())
        }
        Err(error) if replay.is_some() && error.to_string().contains("replay:") => {
            eprintln!(
                "\nThe offline recording answers {DEFAULT_QUESTION:?} only; for other questions run live \
                 with --base-url (any OpenAI-compatible server).\n{error}"
            );
            std::process::exit(1);
        }
        Err(error) => {
            eprintln!("\nThe run failed: {error}");
            std::process::exit(1);
        }
    }
}

/// The chat modes: the desk's agents as long-lived agents of one runtime.
async fn long_lived(
    runner: Runner<Shop>,
    options: &Options,
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::IsTerminal;
    let runtime = AgentRuntime::new(runner.with_config(RunConfig::new().max_turns(8)));
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let stdout = std::io::stdout();
    if options.mode == Mode::Chat {
        // The customer's page is the order of the default question.
        let echo = !std::io::stdin().is_terminal();
        chat::chat(
            &runtime,
            Shop::demo(DEFAULT_QUESTION),
            stdin,
            stdout.lock(),
            echo,
        )
        .await
        .map_err(|e| e as Box<dyn std::error::Error>)?;
        return Ok(());
    }
    let started = std::time::Instant::now();
    let answered = chat::customers(&runtime, stdin, stdout.lock(), options.reject)
        .await
        .map_err(|e| e as Box<dyn std::error::Error>)?;
    println!(
        "({answered} messages answered by one runtime in {:.1} ms)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

/// The run's options: the turn limit with its fallback, and (guided) each
/// agent's forced step.
fn configure(mut run: Run<Shop, Reply>, options: &Options) -> Run<Shop, Reply> {
    if options.guided {
        // Small models answer in text instead of choosing a tool: force
        // each agent's one step.
        for (agent, settings) in desk::guided_settings(&options.question) {
            run = run.agent_model_settings(agent, settings);
        }
    }
    run.max_turns(8).on_max_turns(|partial| {
        Some(MaxTurnsFallback::new(Reply::Text(format!(
            "I could not finish this in {} turns; a colleague will follow up.",
            partial.turns
        ))))
    })
}

/// Prints a run's events as they come; its outcome.
async fn show(run: Run<Shop, Reply>) -> Result<RunResult<Reply>, RunError> {
    let mut stream = run.stream();
    let mut printer = Printer::new(std::io::stdout().lock());
    while let Some(event) = stream.next().await {
        // A closed stdout (`| head`) does not stop the run.
        let _ = printer.event(&event);
    }
    drop(printer);
    stream.result().await
}
