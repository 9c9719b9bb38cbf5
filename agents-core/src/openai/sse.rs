//! Server-sent event streams turned into [`ModelStreamEvent`]s by an
//! API-specific decoder.
//!
//! Parsing is `sse-parse`'s: the WHATWG algorithm, a leading byte-order mark
//! skipped, time linear in the bytes received whatever their chunking. The
//! limits of [`ResponseLimits`] bound what is held: one event, and the whole
//! stream.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Poll, ready};
use std::time::Duration;

use futures::{Stream, StreamExt};
use sse_parse::SseParser;
use tokio::time::{Instant, Sleep, sleep_until};

use super::config::ResponseLimits;
use crate::model::{BoxFuture, BoxStream, ModelError, ModelStreamEvent};

/// Decodes one API's stream messages.
pub(super) trait Decoder: Send + 'static {
    /// Appends the events carried by one message to `events` (`event` is
    /// the SSE event type, `message` when the server sends none). On an
    /// error, what it appended is dropped.
    fn decode(
        &mut self,
        event: &str,
        data: &str,
        events: &mut Vec<ModelStreamEvent>,
    ) -> Result<(), ModelError>;

    /// The stream ended without a completion event: complete it (appending
    /// to `events`) if the response had finished, fail otherwise.
    fn finish(&mut self, events: &mut Vec<ModelStreamEvent>) -> Result<(), ModelError>;
}

/// Bytes in, decoded events out: the sans-IO part, also driven by the
/// decoder property tests.
pub(super) struct Reader<D> {
    parser: SseParser,
    decoder: D,
    /// The events of the message being decoded; kept, so that a message
    /// costs no new vector.
    decoded: Vec<ModelStreamEvent>,
    limits: ResponseLimits,
    received: usize,
    done: bool,
}

impl<D: Decoder> Reader<D> {
    pub(super) fn new(decoder: D, limits: ResponseLimits) -> Self {
        Reader {
            parser: SseParser::new().max_buffer(limits.max_event_bytes),
            decoder,
            decoded: Vec::new(),
            limits,
            received: 0,
            done: false,
        }
    }

    /// Whether the stream is over: completed, or failed.
    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    /// Reads one chunk of the body into `out`.
    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        out: &mut VecDeque<Result<ModelStreamEvent, ModelError>>,
    ) {
        if self.done {
            return;
        }
        self.received = self.received.saturating_add(chunk.len());
        if self.received > self.limits.max_response_bytes {
            return self.fail(
                ModelError::too_large("the event stream", self.limits.max_response_bytes),
                out,
            );
        }
        self.parser.feed(chunk);
        self.drain(out);
        // The parser drops an oversized event and reads on; a response with
        // a hole in it is not a response.
        if !self.done && self.parser.overflows() > 0 {
            self.fail(
                ModelError::too_large("one server-sent event", self.limits.max_event_bytes),
                out,
            );
        }
    }

    /// The body ended.
    pub(super) fn end(&mut self, out: &mut VecDeque<Result<ModelStreamEvent, ModelError>>) {
        if self.done {
            return;
        }
        self.parser.finish();
        self.drain(out);
        if self.done {
            return;
        }
        self.done = true;
        self.decoded.clear();
        match self.decoder.finish(&mut self.decoded) {
            Ok(()) => out.extend(self.decoded.drain(..).map(Ok)),
            Err(error) => out.push_back(Err(error)),
        }
    }

    fn drain(&mut self, out: &mut VecDeque<Result<ModelStreamEvent, ModelError>>) {
        while let Some(message) = self.parser.next_event() {
            if self.done {
                return;
            }
            self.decoded.clear();
            match self
                .decoder
                .decode(&message.event, &message.data, &mut self.decoded)
            {
                Ok(()) => {
                    for event in self.decoded.drain(..) {
                        if matches!(event, ModelStreamEvent::Completed { .. }) {
                            self.done = true;
                        }
                        out.push_back(Ok(event));
                    }
                }
                Err(error) => self.fail(error, out),
            }
        }
    }

    fn fail(
        &mut self,
        error: ModelError,
        out: &mut VecDeque<Result<ModelStreamEvent, ModelError>>,
    ) {
        out.push_back(Err(error));
        self.done = true;
    }
}

/// Where a stream stands: waiting for the response, or reading its body.
enum Source<'a> {
    Connecting(BoxFuture<'a, Result<reqwest::Response, ModelError>>),
    Body {
        body: BoxStream<'a, reqwest::Result<bytes::Bytes>>,
        /// When the last chunk arrived.
        last: Instant,
        /// Fires at the idle limit after some earlier chunk: moved on to
        /// `last`'s limit when it fires, not at every chunk (moving a timer
        /// takes the timer wheel's lock; a stream has a chunk per event).
        idle: Option<Pin<Box<Sleep>>>,
    },
}

/// The events of the body of the response `connect` yields (its error, if
/// it fails). Ends after the completion event or the first error; a body
/// cut before completion is a [`ModelError::Decode`], and a body that
/// sends nothing for `idle` is a [`ModelError::Timeout`], never a silently
/// partial response.
///
/// One state machine polled in place: no future made per event, no state
/// moved in and out of one, no stream of streams.
pub(super) fn events<'a, D: Decoder>(
    connect: BoxFuture<'a, Result<reqwest::Response, ModelError>>,
    decoder: D,
    limits: ResponseLimits,
    idle: Duration,
) -> impl Stream<Item = Result<ModelStreamEvent, ModelError>> + Send + 'a {
    let mut source = Source::Connecting(connect);
    let mut reader = Reader::new(decoder, limits);
    let mut queue = VecDeque::new();
    futures::stream::poll_fn(move |cx| {
        loop {
            if let Some(event) = queue.pop_front() {
                return Poll::Ready(Some(event));
            }
            if reader.is_done() {
                return Poll::Ready(None);
            }
            match &mut source {
                Source::Connecting(connect) => match ready!(connect.as_mut().poll(cx)) {
                    Ok(response) => {
                        let now = Instant::now();
                        source = Source::Body {
                            body: Box::pin(response.bytes_stream()),
                            last: now,
                            idle: now.checked_add(idle).map(|at| Box::pin(sleep_until(at))),
                        };
                    }
                    Err(error) => reader.fail(error, &mut queue),
                },
                Source::Body {
                    body,
                    last,
                    idle: timer,
                } => match body.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        *last = Instant::now();
                        reader.feed(&chunk, &mut queue);
                    }
                    Poll::Ready(Some(Err(error))) => {
                        let error = ModelError::Connection {
                            message: format!("stream interrupted: {error}"),
                        };
                        reader.fail(error, &mut queue);
                    }
                    Poll::Ready(None) => reader.end(&mut queue),
                    Poll::Pending => {
                        let Some(timer) = timer else {
                            return Poll::Pending;
                        };
                        ready!(timer.as_mut().poll(cx));
                        match last.checked_add(idle) {
                            Some(limit) if limit > Instant::now() => timer.as_mut().reset(limit),
                            _ => reader.fail(ModelError::Timeout(idle), &mut queue),
                        }
                    }
                },
            }
        }
    })
}
