//! Server-sent event streams turned into [`ModelStreamEvent`]s by an
//! API-specific decoder.
//!
//! Parsing is `sse-parse`'s: the WHATWG algorithm, a leading byte-order mark
//! skipped, time linear in the bytes received whatever their chunking. The
//! limits of [`ResponseLimits`] bound what is held: one event, and the whole
//! stream.

use std::collections::VecDeque;

use futures::{Stream, StreamExt};
use sse_parse::SseParser;

use super::config::ResponseLimits;
use crate::model::{ModelError, ModelStreamEvent};

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

/// The events of `response`'s body. Ends after the completion event or the
/// first error; a body cut before completion is a
/// [`ModelError::Decode`], never a silently partial response.
pub(super) fn events<D: Decoder>(
    response: reqwest::Response,
    decoder: D,
    limits: ResponseLimits,
) -> impl Stream<Item = Result<ModelStreamEvent, ModelError>> + Send {
    let state = (
        response.bytes_stream(),
        Reader::new(decoder, limits),
        VecDeque::new(),
    );
    futures::stream::unfold(state, |(mut body, mut reader, mut queue)| async move {
        loop {
            if let Some(event) = queue.pop_front() {
                return Some((event, (body, reader, queue)));
            }
            if reader.is_done() {
                return None;
            }
            match body.next().await {
                Some(Ok(chunk)) => reader.feed(&chunk, &mut queue),
                Some(Err(error)) => {
                    let error = ModelError::Connection {
                        message: format!("stream interrupted: {error}"),
                    };
                    reader.fail(error, &mut queue);
                }
                None => reader.end(&mut queue),
            }
        }
    })
}
