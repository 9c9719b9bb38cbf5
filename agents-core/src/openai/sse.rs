//! Server-sent event streams (parsed by `eventsource-stream`) turned into
//! [`ModelStreamEvent`]s by an API-specific decoder.

use std::collections::VecDeque;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};

use crate::model::{ModelError, ModelStreamEvent};

/// Decodes one API's stream messages.
pub(super) trait Decoder: Send + 'static {
    /// The events carried by one message (`event` is the SSE event type,
    /// empty when the server sends none).
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<ModelStreamEvent>, ModelError>;

    /// The stream ended without a completion event: complete it if the
    /// response had finished, fail otherwise.
    fn finish(&mut self) -> Result<Vec<ModelStreamEvent>, ModelError>;
}

struct State<S, D> {
    inner: S,
    decoder: D,
    queue: VecDeque<Result<ModelStreamEvent, ModelError>>,
    done: bool,
}

/// The events of `response`'s body. Ends after the completion event or the
/// first error; a body cut before completion is a
/// [`ModelError::Decode`], never a silently partial response.
pub(super) fn events<D: Decoder>(
    response: reqwest::Response,
    decoder: D,
) -> impl Stream<Item = Result<ModelStreamEvent, ModelError>> + Send {
    let state = State {
        inner: response.bytes_stream().eventsource(),
        decoder,
        queue: VecDeque::new(),
        done: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.queue.pop_front() {
                return Some((event, state));
            }
            if state.done {
                return None;
            }
            match state.inner.next().await {
                Some(Ok(message)) => match state.decoder.decode(&message.event, &message.data) {
                    Ok(events) => {
                        for event in events {
                            if matches!(event, ModelStreamEvent::Completed { .. }) {
                                state.done = true;
                            }
                            state.queue.push_back(Ok(event));
                        }
                    }
                    Err(error) => {
                        state.queue.push_back(Err(error));
                        state.done = true;
                    }
                },
                Some(Err(error)) => {
                    let error = match error {
                        EventStreamError::Transport(error) => ModelError::Connection {
                            message: format!("stream interrupted: {error}"),
                        },
                        other => ModelError::decode(format!("malformed event stream: {other}")),
                    };
                    state.queue.push_back(Err(error));
                    state.done = true;
                }
                None => {
                    match state.decoder.finish() {
                        Ok(events) => state.queue.extend(events.into_iter().map(Ok)),
                        Err(error) => state.queue.push_back(Err(error)),
                    }
                    state.done = true;
                }
            }
        }
    })
}
