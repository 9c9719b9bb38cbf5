//! [`McpTool`]: one tool of an MCP server, as a [`Tool`].

use std::fmt::Write as _;

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents, Tool as RemoteTool};
use serde_json::Value;
use tracing::Instrument as _;

use super::server::McpServer;
use crate::context::RunContext;
use crate::schema::{drop_null_properties, to_strict};
use crate::tool::{Tool, ToolError};

/// One tool of an [`McpServer`], listed by [`McpServer::tools`]: add it to
/// an agent like any [`Tool`] (it is one for every context type).
///
/// A call sends the model's arguments to the server (`tools/call`, with
/// the server's `_meta` if set). The output the model sees is the result's
/// structured content as JSON when there is some, else its content blocks
/// one per line: text as it is, an image or audio as
/// `[image: <mime type>, <n> bytes base64]`, an embedded resource as its
/// text (or `[resource: <uri>]`), a resource link as `[resource link: <uri>]`.
/// A result with `isError` is a [`ToolError::Failed`] with that text; so is
/// a server that cannot be reached or answers with a protocol error.
#[derive(Clone, Debug)]
pub struct McpTool {
    server: McpServer,
    remote: String,
    name: String,
    description: String,
    parameters: Value,
    strict: bool,
    strict_error: Option<String>,
}

impl McpTool {
    pub(super) fn new(server: McpServer, tool: &RemoteTool, prefix: &str) -> Self {
        let original = Value::Object((*tool.input_schema).clone());
        let mut strict = original.clone();
        let (parameters, strict, strict_error) = match to_strict(&mut strict) {
            Ok(()) => (strict, true, None),
            Err(error) => (original, false, Some(error.to_string())),
        };
        McpTool {
            server,
            remote: tool.name.to_string(),
            name: format!("{prefix}{}", tool.name),
            description: tool.description.as_deref().unwrap_or_default().to_owned(),
            parameters,
            strict,
            strict_error,
        }
    }

    /// The name the server knows the tool by (without the prefix).
    pub fn remote_name(&self) -> &str {
        &self.remote
    }

    /// The server the tool belongs to.
    pub fn server(&self) -> &McpServer {
        &self.server
    }

    /// Why the server's input schema could not be made strict (then it is
    /// sent as the server wrote it, not strict); `None` when it is strict.
    pub fn strict_error(&self) -> Option<&str> {
        self.strict_error.as_deref()
    }
}

impl<Ctx> Tool<Ctx> for McpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        self.parameters.clone()
    }

    fn strict(&self) -> bool {
        self.strict
    }

    /// Disabled once a refreshed list from the server no longer has it.
    fn is_enabled(&self, _ctx: &RunContext<Ctx>) -> bool {
        self.server.still_listed(&self.remote)
    }

    fn call(
        &self,
        _ctx: &RunContext<Ctx>,
        arguments: &str,
    ) -> impl Future<Output = Result<String, ToolError>> + Send {
        // The context is not used: the future holds only the arguments.
        let arguments = if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        };
        let parsed = serde_json::from_str::<Value>(arguments);
        self.call_remote(parsed)
    }
}

impl McpTool {
    async fn call_remote(
        &self,
        arguments: Result<Value, serde_json::Error>,
    ) -> Result<String, ToolError> {
        let mut arguments =
            arguments.map_err(|error| ToolError::InvalidArguments(error.to_string()))?;
        if self.strict {
            // Strict mode makes optional fields nullable: a `null` stands
            // for an omitted field, which is what the server expects.
            drop_null_properties(&mut arguments);
        }
        let Value::Object(arguments) = arguments else {
            return Err(ToolError::InvalidArguments(
                "the arguments must be a JSON object".to_owned(),
            ));
        };
        let span = tracing::info_span!(
            "mcp_call",
            mcp.server = self.server.name(),
            mcp.tool = self.remote.as_str()
        );
        let result = self
            .server
            .call(&self.remote, Some(arguments))
            .instrument(span)
            .await
            .map_err(|error| ToolError::Failed(error.to_string()))?;
        output(&result)
    }
}

/// The text of a result for the model; an error result is an error.
fn output(result: &CallToolResult) -> Result<String, ToolError> {
    let failed = result.is_error == Some(true);
    let text = match &result.structured_content {
        Some(structured) if !failed => structured.to_string(),
        _ => blocks(&result.content),
    };
    if failed {
        Err(ToolError::Failed(text))
    } else {
        Ok(text)
    }
}

fn blocks(content: &[ContentBlock]) -> String {
    let mut text = String::new();
    for (i, block) in content.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let _ = match block {
            ContentBlock::Text(block) => write!(text, "{}", block.text),
            ContentBlock::Image(block) => write!(
                text,
                "[image: {}, {} bytes base64]",
                block.mime_type,
                block.data.len()
            ),
            ContentBlock::Audio(block) => write!(
                text,
                "[audio: {}, {} bytes base64]",
                block.mime_type,
                block.data.len()
            ),
            ContentBlock::Resource(block) => match &block.resource {
                ResourceContents::TextResourceContents { text: body, .. } => {
                    write!(text, "{body}")
                }
                ResourceContents::BlobResourceContents { uri, .. } => {
                    write!(text, "[resource: {uri}]")
                }
                _ => write!(text, "[resource]"),
            },
            ContentBlock::ResourceLink(link) => write!(text, "[resource link: {}]", link.uri),
            _ => write!(text, "[content]"),
        };
    }
    text
}
