//! Session compaction: older items summarised into one item.

use std::sync::Arc;

use agents_core::Item;
use agents_core::session::{MemorySession, Session, compact};
use agents_testing::{MockModel, Step};

fn conversation() -> Vec<Arc<Item>> {
    vec![
        Arc::new(Item::user("My order A-1 is late.")),
        Arc::new(Item::tool_call("c1", "track", r#"{"id":"A-1"}"#)),
        Arc::new(Item::tool_output("c1", "in transit")),
        Arc::new(Item::assistant("It is in transit.")),
        Arc::new(Item::user("And A-2?")),
        Arc::new(Item::tool_call("c2", "track", r#"{"id":"A-2"}"#)),
        Arc::new(Item::tool_output("c2", "delivered")),
    ]
}

#[tokio::test]
async fn compaction_replaces_older_items_with_a_summary() {
    let session = MemorySession::new("c");
    session.add_items(conversation(), None).await.unwrap();
    let model = MockModel::script([Step::text("Customer asked about A-1 (in transit).")]);

    let report = compact(&session, &model, 3).await.unwrap();
    assert_eq!(report.replaced, 4);
    assert_eq!(report.kept, 3);

    let items = session.items(None).await.unwrap();
    assert_eq!(
        *items[0],
        Item::Summary {
            text: "Customer asked about A-1 (in transit).".into(),
            replaced_items: 4
        }
    );
    assert_eq!(items[1..].to_vec(), conversation()[4..].to_vec());
    // The model summarised exactly the older items.
    let request = &model.requests()[0];
    assert_eq!(request.input, conversation()[..4].to_vec());
    assert!(
        request
            .instructions
            .as_deref()
            .unwrap()
            .starts_with("Summarise the conversation")
    );
}

#[tokio::test]
async fn the_kept_part_never_starts_with_an_orphaned_tool_output() {
    let session = MemorySession::new("c");
    session.add_items(conversation(), None).await.unwrap();
    let model = MockModel::script([Step::text("summary")]);
    // Keeping 1 would start at the output of c2; the boundary moves back.
    let report = compact(&session, &model, 1).await.unwrap();
    assert_eq!((report.replaced, report.kept), (5, 2));
    let items = session.items(None).await.unwrap();
    assert!(matches!(&*items[1], Item::ToolCall(c) if c.call_id == "c2"));
}

#[tokio::test]
async fn a_short_session_is_left_alone() {
    let session = MemorySession::new("c");
    session
        .add_items(conversation()[..2].to_vec(), None)
        .await
        .unwrap();
    let model = MockModel::script([]);
    let report = compact(&session, &model, 5).await.unwrap();
    assert_eq!((report.replaced, report.summary), (0, None));
    assert_eq!(model.calls(), 0);
}
