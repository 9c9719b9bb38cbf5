//! How the desk shows a run as it happens: streamed text, tool calls and
//! their outputs, handoffs, the run's totals.

use std::io::{self, Write};

use agents_core::run::RunEvent;

/// Writes a run's events to `out` as readable lines; streamed text and
/// arguments go out as they arrive (flushed after each piece).
pub(crate) struct Printer<W> {
    out: W,
    /// Whether the last write ended a line.
    at_line_start: bool,
}

impl<W: Write> Printer<W> {
    pub(crate) fn new(out: W) -> Self {
        Printer {
            out,
            at_line_start: true,
        }
    }

    /// The writer back (a test's buffer).
    pub(crate) fn into_inner(self) -> W {
        self.out
    }

    /// Ends the line in progress, if any.
    fn end_line(&mut self) -> io::Result<()> {
        if !self.at_line_start {
            writeln!(self.out)?;
            self.at_line_start = true;
        }
        Ok(())
    }

    /// One whole line.
    pub(crate) fn line(&mut self, text: impl std::fmt::Display) -> io::Result<()> {
        self.end_line()?;
        writeln!(self.out, "{text}")
    }

    /// A prompt: text left open for the answer typed after it.
    pub(crate) fn prompt(&mut self, text: &str) -> io::Result<()> {
        self.end_line()?;
        write!(self.out, "{text}")?;
        self.out.flush()?;
        self.at_line_start = false;
        Ok(())
    }

    /// The answer to a prompt: shown when the terminal did not echo it
    /// (input from a pipe or a script), else only the line ends.
    pub(crate) fn answer(&mut self, text: &str, echo: bool) -> io::Result<()> {
        if echo {
            write!(self.out, "{text}")?;
        }
        // The terminal's own echo ended the line.
        self.at_line_start = !echo;
        self.end_line()
    }

    fn piece(&mut self, text: &str) -> io::Result<()> {
        write!(self.out, "{text}")?;
        self.out.flush()?;
        self.at_line_start = false;
        Ok(())
    }

    /// Shows one event of a run.
    pub(crate) fn event(&mut self, event: &RunEvent) -> io::Result<()> {
        match event {
            RunEvent::TurnStarted { agent, turn } => {
                self.line(format_args!("[{agent}] turn {turn}"))
            }
            RunEvent::TextDelta { delta, .. } => {
                if self.at_line_start {
                    self.piece("  says: ")?;
                }
                self.piece(delta)
            }
            RunEvent::ToolCallStarted { name, .. } => {
                self.end_line()?;
                self.piece(&format!("  calls {name} "))
            }
            RunEvent::ToolCallArgumentsDelta { delta, .. } => self.piece(delta),
            RunEvent::ToolOutput { output, .. } => {
                let kind = if output.is_error { "error" } else { "output" };
                self.line(format_args!("  {kind}: {}", output.output))
            }
            RunEvent::AgentSwitched { from, to } => {
                self.line(format_args!("  handoff: {from} -> {to}"))
            }
            RunEvent::RunFinished {
                usage,
                turns,
                last_agent,
            } => {
                let tokens = if usage.input_tokens == 0 && usage.output_tokens == 0 {
                    // llama.cpp's server, among others, sends no usage in
                    // streamed responses; nothing is estimated here.
                    "token usage not reported".to_owned()
                } else {
                    format!(
                        "{} input tokens, {} output tokens",
                        usage.input_tokens, usage.output_tokens
                    )
                };
                let plural = if *turns == 1 { "" } else { "s" };
                self.line(format_args!(
                    "  ({turns} turn{plural}, last agent {last_agent}; usage: {} requests, {tokens})",
                    usage.requests
                ))
            }
            _ => Ok(()),
        }
    }
}
