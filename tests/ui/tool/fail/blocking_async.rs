use agents_core::tool;

/// Waits for a reply.
#[tool(blocking)]
async fn wait_for_reply(topic: String) -> String {
    topic
}

fn main() {}
