//! Refusals on the wire: Chat Completions' `message.refusal` and the
//! Responses API's refusal content, whole and streamed, become
//! `Item::Refusal`.

use agents_core::model::{Model, ResponseAssembler};
use agents_core::openai::OpenAiResponses;
use agents_core::{Item, ModelRequest};
use futures::StreamExt;

use crate::chat::model;
use crate::server::{Reply, TestServer, config};

fn refused() -> Item {
    Item::Refusal {
        content: "I can't help with that.".to_owned(),
    }
}

async fn assembled(model: &impl Model) -> Vec<Item> {
    let mut assembler = ResponseAssembler::new();
    let mut stream = model.stream(ModelRequest::new("A", vec![]));
    while let Some(event) = stream.next().await {
        assembler.push(event.unwrap()).unwrap();
    }
    let response = assembler.finish().unwrap();
    response
        .output
        .iter()
        .map(|item| (**item).clone())
        .collect()
}

#[tokio::test]
async fn a_chat_refusal_is_its_own_item() {
    let body = r#"{"choices":[{"message":{"content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}"#;
    let server = TestServer::start([Reply::json(200, body)]).await;
    let response = model(&server)
        .call(ModelRequest::new("A", vec![]))
        .await
        .unwrap();
    assert_eq!(*response.output[0], refused());
    assert_eq!(response.output.len(), 1);
}

#[tokio::test]
async fn a_streamed_chat_refusal_arrives_whole_at_the_end() {
    let chunk = |piece: &str| {
        format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"refusal\":\"{piece}\"}}}}]}}\n\n")
    };
    let server = TestServer::start([Reply::Events {
        messages: vec![chunk("I can't "), chunk("help with that.")],
        end: "data: [DONE]\n\n".to_owned(),
    }])
    .await;
    assert_eq!(assembled(&model(&server)).await, [refused()]);
}

#[tokio::test]
async fn a_responses_refusal_is_its_own_item_whole_and_streamed() {
    let body = r#"{"id":"resp_1","status":"completed","output":[{"type":"message","role":"assistant",
        "content":[{"type":"refusal","refusal":"I can't help with that."}]}]}"#;
    let events = [
        r#"{"type":"response.refusal.delta","delta":"I can't "}"#,
        r#"{"type":"response.refusal.delta","delta":"help with that."}"#,
        r#"{"type":"response.completed","response":{"id":"resp_2"}}"#,
    ];
    let server = TestServer::start([
        Reply::json(200, body),
        Reply::Events {
            messages: events.iter().map(|e| format!("data: {e}\n\n")).collect(),
            end: String::new(),
        },
    ])
    .await;
    let responses = OpenAiResponses::new(config(&server)).unwrap();
    let whole = responses
        .call(ModelRequest::new("A", vec![]))
        .await
        .unwrap();
    assert_eq!(*whole.output[0], refused());
    assert_eq!(assembled(&responses).await, [refused()]);
}
