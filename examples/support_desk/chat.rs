//! The desk as long-lived agents: a chat with one customer (`--chat`), and
//! several customers served at once by one runtime (`--customers`).

use std::collections::BTreeMap;
use std::io::Write;

use agents_core::AgentDef;
use agents_core::run::{PendingApproval, RunStatus};
use agents_core::runtime::{AgentEvent, AgentHandle, AgentRuntime, AgentState, Answer};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::broadcast::error::RecvError;

use crate::desk::{Shop, Triage};
use crate::print::Printer;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the model is told when the supervisor declines a call.
const DECLINED: &str = "A supervisor declined this; tell the customer a colleague will call.";

/// Chats with one customer: each line of `input` is a message to the desk
/// (an empty line is skipped, `/quit` or the end of input ends the chat);
/// the answer streams to `out`. A call the policy sends to a supervisor is
/// asked on `input` (`y` approves, anything else declines). `echo` writes
/// each line read after its prompt (input from a pipe or a script, which
/// the terminal does not show). The agent stays alive between messages and
/// continues with whichever agent answered last; at the end it shuts down
/// and its session keeps the conversation.
pub(crate) async fn chat(
    runtime: &AgentRuntime<Shop>,
    shop: Shop,
    input: impl AsyncBufRead + Unpin,
    out: impl Write,
    echo: bool,
) -> Result<(), Error> {
    let mut lines = input.lines();
    let mut printer = Printer::new(out);
    let desk = runtime.spawn("customer", &Triage::agent(), shop)?;
    let mut events = desk.subscribe();
    printer.line("(chat with the desk: one message per line; /quit or end of input leaves)")?;
    loop {
        printer.prompt("you> ")?;
        let Some(line) = lines.next_line().await? else {
            printer.answer("", false)?;
            break;
        };
        printer.answer(&line, echo)?;
        let message = line.trim();
        if message == "/quit" {
            break;
        }
        if message.is_empty() {
            continue;
        }
        desk.send(message)?;
        // The supervisor answers at the prompt, on the same input.
        let answer = follow(&desk, &mut events, &mut printer, async |printer, call| {
            printer.prompt(&format!(
                "  supervisor, approve {}({}) by {}? [y/N] ",
                call.tool, call.arguments, call.agent
            ))?;
            let answer = lines.next_line().await?.unwrap_or_default();
            printer.answer(&answer, echo)?;
            Ok(answer.trim().eq_ignore_ascii_case("y"))
        })
        .await?;
        printer.line(describe(&answer))?;
    }
    runtime.shutdown(desk.id()).await;
    printer.line("(chat ended: the agent is shut down, its session keeps the conversation)")?;
    Ok(())
}

/// Follows the agent's events until the message's answer: prints the
/// run's events, and asks `supervise` about each call the policy sends to
/// a supervisor (`true` approves, `false` declines).
async fn follow<W: Write>(
    desk: &AgentHandle,
    events: &mut tokio::sync::broadcast::Receiver<AgentEvent>,
    printer: &mut Printer<W>,
    mut supervise: impl AsyncFnMut(&mut Printer<W>, &PendingApproval) -> Result<bool, Error>,
) -> Result<Answer, Error> {
    loop {
        match events.recv().await {
            Ok(AgentEvent::Run(event)) => printer.event(&event)?,
            Ok(AgentEvent::State(AgentState::WaitingForApproval { pending })) => {
                for call in pending {
                    if supervise(printer, &call).await? {
                        desk.approve(call.call_id).await?;
                    } else {
                        desk.reject(call.call_id, DECLINED).await?;
                    }
                }
            }
            // A run paused for the supervisor goes on once they decide.
            Ok(AgentEvent::Answered {
                status: RunStatus::WaitingForApproval,
                ..
            }) => {}
            Ok(AgentEvent::Answered {
                status,
                output,
                error,
            }) => {
                return Ok(Answer {
                    status,
                    output,
                    error,
                });
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                printer.line(format_args!("  ({missed} events not shown)"))?;
            }
            Err(RecvError::Closed) => return Err("the desk's agent stopped".into()),
        }
    }
}

/// An answer as the customer reads it.
fn describe(answer: &Answer) -> String {
    match (&answer.output, &answer.error) {
        (Some(output), _) => format!("desk {output}  [{:?}]", answer.status),
        (None, Some(error)) => format!("desk could not answer: {error}  [{:?}]", answer.status),
        (None, None) => format!("desk: no answer  [{:?}]", answer.status),
    }
}

/// Serves several customers at once from one runtime: each line of
/// `input` is `name: message`; each customer is a long-lived agent of its
/// own (spawned at its first message, its shop's open order taken from
/// it), their messages answered concurrently, each customer's in order.
/// The supervisor approves what the policy sends them (declines with
/// `reject`). Prints each customer's conversation, by name, once all are
/// answered; returns how many messages were answered.
pub(crate) async fn customers(
    runtime: &AgentRuntime<Shop>,
    input: impl AsyncBufRead + Unpin,
    mut out: impl Write,
    reject: bool,
) -> Result<usize, Error> {
    let mut lines = input.lines();
    let mut queued: BTreeMap<String, Vec<String>> = BTreeMap::new();
    while let Some(line) = lines.next_line().await? {
        let Some((name, message)) = line.split_once(':') else {
            if !line.trim().is_empty() {
                writeln!(out, "(skipped {line:?}: lines are `name: message`)")?;
            }
            continue;
        };
        queued
            .entry(name.trim().to_owned())
            .or_default()
            .push(message.trim().to_owned());
    }
    let mut served = Vec::new();
    for (name, messages) in queued {
        let desk = runtime.spawn(name.clone(), &Triage::agent(), Shop::demo(&messages[0]))?;
        served.push(tokio::spawn(serve(desk, messages, reject)));
    }
    let mut answered = 0;
    for customer in served {
        let (name, count, transcript) = customer.await??;
        answered += count;
        writeln!(out, "--- {name} ---")?;
        out.write_all(&transcript)?;
    }
    runtime.shutdown_all().await;
    Ok(answered)
}

/// Sends one customer's messages and follows their answers; the
/// customer's name, how many were answered, and the conversation.
async fn serve(
    desk: AgentHandle,
    messages: Vec<String>,
    reject: bool,
) -> Result<(String, usize, Vec<u8>), Error> {
    let mut events = desk.subscribe();
    let mut printer = Printer::new(Vec::new());
    let mut answered = 0;
    for message in &messages {
        printer.line(format_args!("customer: {message}"))?;
        // The queue holds 32 messages; a customer who sends more is told.
        if desk.send(message.as_str()).is_err() {
            printer.line("  (not queued: too many messages waiting)")?;
            continue;
        }
        let answer = follow(
            &desk,
            &mut events,
            &mut printer,
            async move |printer, call| {
                let verdict = if reject { "declines" } else { "approves" };
                printer.line(format_args!(
                    "  supervisor {verdict} {}({})",
                    call.tool, call.arguments
                ))?;
                Ok(!reject)
            },
        )
        .await?;
        printer.line(describe(&answer))?;
        answered += 1;
    }
    Ok((desk.id().to_owned(), answered, printer.into_inner()))
}

#[cfg(test)]
mod tests {
    use agents_core::Runner;
    use agents_core::policy::RulePolicy;

    use super::*;
    use crate::offline::DeskModel;

    fn runtime() -> AgentRuntime<Shop> {
        let policy = RulePolicy::from_file(crate::POLICY).unwrap();
        AgentRuntime::new(Runner::new(DeskModel::new()).policy(policy))
    }

    /// A customer's session typed on stdin: a double charge refunded after
    /// the supervisor's approval, then a second refund answered by Billing
    /// (the agent that answered last), then one the supervisor declines.
    #[tokio::test]
    async fn a_chat_typed_on_stdin() {
        let typed = "I was charged twice for A-1001\ny\n\
                     Please also refund 15.00 on A-1002\n\
                     And refund 120.00 on A-1001\nn\n/quit\n";
        let mut out = Vec::new();
        chat(
            &runtime(),
            Shop::demo("A-1001"),
            typed.as_bytes(),
            &mut out,
            true,
        )
        .await
        .unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }

    #[tokio::test]
    async fn several_customers_at_once() {
        let typed = "ana: I was charged twice for A-1001\n\
                     ben: Where is my parcel for A-1002?\n\
                     ana: Please also refund 15.00 on A-1002\n\
                     cy: hello\n";
        let runtime = runtime();
        let mut out = Vec::new();
        let answered = customers(&runtime, typed.as_bytes(), &mut out, false)
            .await
            .unwrap();
        assert_eq!(answered, 4);
        assert_eq!(runtime.count(), 0);
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }
}
