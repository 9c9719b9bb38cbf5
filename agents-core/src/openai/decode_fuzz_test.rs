//! Property tests of everything that reads a server's bytes: the Chat
//! Completions and Responses decoders, whole and streamed, and the SSE
//! reader under any chunking. Whatever arrives, nothing panics, a stream
//! yields at most one error and nothing after it or after completion.
//!
//! `PROPTEST_CASES` sets the cases per property (256 by default);
//! `scripts/fuzz-decoders.sh` runs a million inputs in all.

use std::collections::VecDeque;

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::config::ResponseLimits;
use super::sse::{Decoder, Reader};
use super::{chat, responses};
use crate::model::{ModelError, ModelStreamEvent, ResponseAssembler};

/// Keys and strings the decoders look for, so generated JSON reaches past
/// the first `match`.
const WORDS: &[&str] = &[
    "id",
    "choices",
    "message",
    "delta",
    "content",
    "reasoning_content",
    "refusal",
    "tool_calls",
    "index",
    "function",
    "name",
    "arguments",
    "finish_reason",
    "usage",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "input_tokens",
    "output_tokens",
    "prompt_tokens_details",
    "cached_tokens",
    "output",
    "status",
    "type",
    "text",
    "call_id",
    "output_text",
    "function_call",
    "reasoning",
    "summary",
    "response",
    "item",
    "item_id",
    "output_index",
    "response.created",
    "response.output_text.delta",
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.output_item.done",
    "response.completed",
    "response.failed",
    "error",
    "completed",
    "incomplete",
    "stop",
    "tool_calls",
    "[DONE]",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

/// JSON values built from the decoders' vocabulary, with numbers at the
/// edges (huge, negative, fractional).
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![Just(u64::MAX), Just(0u64), any::<u64>(), (0u64..4),].prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((word(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An SSE body: messages of generated JSON (or `[DONE]`, or noise), with
/// field names, comments and line ends varied.
fn sse_body() -> impl Strategy<Value = Vec<u8>> {
    let message = (
        prop_oneof![
            Just(""),
            Just("event: x\n"),
            Just(": comment\n"),
            Just("id: 7\n")
        ],
        prop_oneof![
            6 => json().prop_map(|value| value.to_string()),
            1 => Just("[DONE]".to_owned()),
            1 => ".{0,40}",
        ],
        prop_oneof![Just("\n\n"), Just("\r\n\r\n"), Just("\r\r"), Just("\n")],
        any::<bool>(),
    )
        .prop_map(|(head, data, end, type_field)| {
            let event = if type_field {
                "event: response.output_text.delta\n"
            } else {
                ""
            };
            format!("{head}{event}data: {data}{end}")
        });
    (any::<bool>(), proptest::collection::vec(message, 0..12)).prop_map(|(bom, messages)| {
        let mut body = if bom {
            "\u{feff}".as_bytes().to_vec()
        } else {
            Vec::new()
        };
        for message in messages {
            body.extend_from_slice(message.as_bytes());
        }
        body
    })
}

/// Splits `body` at the given points (any byte, inside UTF-8 sequences too).
fn chunks(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (body.len() + 1)).collect();
    cuts.sort_unstable();
    let mut start = 0;
    let mut out = Vec::new();
    for cut in cuts.into_iter().chain([body.len()]) {
        out.push(body[start..cut].to_vec());
        start = cut;
    }
    out
}

/// Reads `chunks` through `decoder` and checks the stream's shape: one
/// error at most and last, nothing after completion, and events that
/// assemble (or fail to, with an error) without a panic.
fn read_stream(decoder: impl Decoder, chunks: &[Vec<u8>], limits: ResponseLimits) {
    let mut reader = Reader::new(decoder, limits);
    let mut out = VecDeque::new();
    for chunk in chunks {
        reader.feed(chunk, &mut out);
    }
    reader.end(&mut out);
    let events: Vec<Result<ModelStreamEvent, ModelError>> = out.into_iter().collect();
    let errors = events.iter().filter(|event| event.is_err()).count();
    assert!(errors <= 1, "{errors} errors");
    if errors == 1 {
        assert!(
            events.last().is_some_and(Result::is_err),
            "an event after the error"
        );
    }
    if let Some(done) = events
        .iter()
        .position(|event| matches!(event, Ok(ModelStreamEvent::Completed { .. })))
    {
        assert_eq!(done, events.len() - 1, "an event after completion");
    }
    let mut assembler = ResponseAssembler::new();
    for event in events.into_iter().flatten() {
        if assembler.push(event).is_err() {
            return;
        }
    }
    let _ = assembler.finish();
}

proptest! {
    #[test]
    fn chat_bodies_of_any_bytes_decode_or_fail(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = chat::decode_response(&body);
    }

    #[test]
    fn chat_bodies_of_any_json_decode_or_fail(value in json()) {
        let _ = chat::decode_response(value.to_string().as_bytes());
    }

    #[test]
    fn responses_bodies_of_any_json_decode_or_fail(value in json()) {
        let _ = responses::decode_response(value.to_string().as_bytes());
    }

    #[test]
    fn chat_streams_read_whatever_the_chunking(
        body in sse_body(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        read_stream(chat::ChunkDecoder::default(), &chunks(&body, &cuts), ResponseLimits::default());
    }

    #[test]
    fn responses_streams_read_whatever_the_chunking(
        body in sse_body(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        read_stream(responses::EventDecoder::default(), &chunks(&body, &cuts), ResponseLimits::default());
    }

    #[test]
    fn streams_of_any_bytes_under_tight_limits_end_cleanly(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        event_limit in 1usize..128,
        response_limit in 1usize..512,
    ) {
        let limits = ResponseLimits::default()
            .max_event_bytes(event_limit)
            .max_response_bytes(response_limit);
        read_stream(chat::ChunkDecoder::default(), &chunks(&body, &cuts), limits);
    }
}
