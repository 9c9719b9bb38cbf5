use std::sync::Arc;

use super::{Session, SessionError};
use crate::item::Item;
use crate::model::{Model, ModelRequest};

/// The instructions of the summarising model call.
const SUMMARY_INSTRUCTIONS: &str = "Summarise the conversation so far for the assistant who \
will continue it. Keep names, ids, amounts, decisions made and questions still open. \
Answer with the summary only.";

/// What [`compact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactionReport {
    /// How many items the summary replaced (0: nothing to compact).
    pub replaced: usize,
    /// How many recent items were kept as they were.
    pub kept: usize,
    /// The summary text, when a summary was made.
    pub summary: Option<String>,
}

/// Compacts a session: every item but the last `keep_last` is summarised by
/// one model call into a single [`Item::Summary`], which replaces them
/// (atomically, [`Session::replace_items`]). The OpenAI Agents SDK and AFK
/// offer the same step to keep long conversations within the context window.
///
/// The kept part never starts with a tool or handoff output whose call was
/// summarised away: the boundary moves back to include the call.
///
/// # Errors
/// [`SessionError::Summary`] when the model call fails or answers without
/// text (the session is unchanged then); store errors as they come.
pub async fn compact(
    session: &dyn Session,
    model: &dyn Model,
    keep_last: usize,
) -> Result<CompactionReport, SessionError> {
    let items = session.items(None).await?;
    let mut boundary = items.len().saturating_sub(keep_last);
    while boundary > 0
        && items
            .get(boundary)
            .is_some_and(|item| matches!(**item, Item::ToolOutput(_) | Item::HandoffOutput(_)))
    {
        boundary -= 1;
    }
    if boundary == 0 {
        return Ok(CompactionReport {
            replaced: 0,
            kept: items.len(),
            summary: None,
        });
    }
    let older = items[..boundary].to_vec();
    let request = ModelRequest::new("compaction", older).with_instructions(SUMMARY_INSTRUCTIONS);
    let response = model
        .call(request)
        .await
        .map_err(|error| SessionError::Summary(error.to_string()))?;
    let summary = response
        .output
        .iter()
        .rev()
        .find_map(|item| match &**item {
            Item::AssistantMessage { content } if !content.trim().is_empty() => {
                Some(content.clone())
            }
            _ => None,
        })
        .ok_or_else(|| SessionError::Summary("the model answered without text".to_owned()))?;
    let mut compacted = Vec::with_capacity(items.len() - boundary + 1);
    compacted.push(Arc::new(Item::Summary {
        text: summary.clone(),
        replaced_items: boundary,
    }));
    compacted.extend(items[boundary..].iter().cloned());
    session.replace_items(compacted).await?;
    Ok(CompactionReport {
        replaced: boundary,
        kept: items.len() - boundary,
        summary: Some(summary),
    })
}
