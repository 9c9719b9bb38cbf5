//! The fake server's Responses API answers (`POST /v1/responses`): the
//! same three-turn workload as its Chat Completions answers, as OpenAI
//! sends it: a whole response, or the stream of typed events (an item
//! added, its deltas, its end, then `response.completed` with the whole
//! response), each event its own frame.

use hyper::Response;
use serde_json::{Value, json};

use super::server::{Answer, Body, event_stream, json_body};

/// How many tool outputs the request's input holds (the turn, less one).
pub(crate) fn outputs(request: &Value) -> usize {
    request["input"].as_array().map_or(0, |input| {
        input
            .iter()
            .filter(|item| item["type"] == "function_call_output")
            .count()
    })
}

fn usage() -> Value {
    json!({"input_tokens": 120, "output_tokens": 24, "total_tokens": 144})
}

fn call_item(id: &str, arguments: &str) -> Value {
    json!({"type": "function_call", "id": format!("fc_{id}"), "call_id": id,
        "name": "lookup_order", "arguments": arguments, "status": "completed"})
}

fn message_item(text: &str) -> Value {
    json!({"type": "message", "id": "msg_bench", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

fn whole(answer: &Answer) -> Value {
    let output: Vec<Value> = match answer.text {
        Some(text) => vec![message_item(text)],
        None => answer
            .calls
            .iter()
            .map(|(id, arguments)| call_item(id, arguments))
            .collect(),
    };
    json!({"id": "resp_bench", "object": "response", "created_at": 1, "status": "completed",
        "model": "gpt-4o-mini", "output": output, "usage": usage()})
}

/// The whole response.
pub(crate) fn full(answer: &Answer) -> Response<Body> {
    json_body(whole(answer).to_string())
}

/// The response as typed events: about four characters of text per
/// delta, arguments in pieces of eight.
pub(crate) fn sse(answer: &Answer) -> Response<Body> {
    let mut events: Vec<String> = Vec::new();
    let mut event = |data: Value| {
        let kind = data["type"].as_str().unwrap_or_default().to_owned();
        events.push(format!("event: {kind}\ndata: {data}\n\n"));
    };
    event(json!({"type": "response.created", "response":
        {"id": "resp_bench", "object": "response", "status": "in_progress", "output": []}}));
    match answer.text {
        Some(text) => {
            let mut item = message_item("");
            item["status"] = json!("in_progress");
            item["content"] = json!([]);
            event(json!({"type": "response.output_item.added", "output_index": 0, "item": item}));
            event(
                json!({"type": "response.content_part.added", "item_id": "msg_bench",
                "output_index": 0, "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []}}),
            );
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(4) {
                event(
                    json!({"type": "response.output_text.delta", "item_id": "msg_bench",
                    "output_index": 0, "content_index": 0,
                    "delta": piece.iter().collect::<String>()}),
                );
            }
            event(
                json!({"type": "response.output_text.done", "item_id": "msg_bench",
                "output_index": 0, "content_index": 0, "text": text}),
            );
            event(
                json!({"type": "response.output_item.done", "output_index": 0,
                "item": message_item(text)}),
            );
        }
        None => {
            for (index, (id, arguments)) in answer.calls.iter().enumerate() {
                let mut item = call_item(id, "");
                item["status"] = json!("in_progress");
                event(
                    json!({"type": "response.output_item.added", "output_index": index, "item": item}),
                );
                let chars: Vec<char> = arguments.chars().collect();
                for piece in chars.chunks(8) {
                    event(json!({"type": "response.function_call_arguments.delta",
                        "item_id": format!("fc_{id}"), "output_index": index,
                        "delta": piece.iter().collect::<String>()}));
                }
                event(json!({"type": "response.function_call_arguments.done",
                    "item_id": format!("fc_{id}"), "output_index": index, "arguments": arguments}));
                event(
                    json!({"type": "response.output_item.done", "output_index": index,
                    "item": call_item(id, arguments)}),
                );
            }
        }
    }
    event(json!({"type": "response.completed", "response": whole(answer)}));
    event_stream(events)
}
