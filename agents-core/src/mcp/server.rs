//! [`McpServer`]: one connection to a Model Context Protocol server.

use std::collections::HashSet;
use std::fmt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool as RemoteTool};
use rmcp::service::{MaybeSendFuture, NotificationContext, RunningService, ServiceError};
use rmcp::transport::{IntoTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};

use super::tool::McpTool;

/// Why an MCP server could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The server's process could not be started.
    #[error("MCP server `{server}`: cannot start its process: {source}")]
    Spawn {
        /// The server's name.
        server: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The connection or the protocol handshake failed.
    #[error("MCP server `{server}`: cannot connect: {message}")]
    Connect {
        /// The server's name.
        server: String,
        /// What failed.
        message: String,
    },
    /// A request failed (the server answered with an error, or the
    /// connection broke).
    #[error("MCP server `{server}`: {message}")]
    Request {
        /// The server's name.
        server: String,
        /// What failed.
        message: String,
    },
    /// The connection of a server given as an open transport is closed:
    /// it cannot be reopened.
    #[error("MCP server `{server}`: the connection is closed")]
    Closed {
        /// The server's name.
        server: String,
    },
}

/// A connection to one Model Context Protocol server, shared by clones
/// (and by the [`McpTool`]s it lists). See the [module docs](super).
///
/// The filters, prefix and `_meta` belong to each value: a clone
/// configured otherwise (`server.clone().allow(["read"])`) is another view
/// of the same connection.
///
/// `Debug` shows the name and the kind of transport, never a URL or the
/// `_meta` values (which may carry credentials).
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
    settings: Arc<Settings>,
}

/// What a view of the server offers and sends.
#[derive(Clone, Default)]
struct Settings {
    allow: Option<HashSet<String>>,
    deny: HashSet<String>,
    prefix: String,
    meta: Option<JsonObject>,
}

struct Inner {
    name: String,
    connector: Connector,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    /// Set when the server said its tool list changed.
    stale: Arc<AtomicBool>,
    /// The last tool list fetched, and its names (asked once per tool and
    /// turn).
    listed: Mutex<Option<Listed>>,
}

type Connection = RunningService<RoleClient, Listener>;

/// A tool list and its names.
type Listed = (Arc<[RemoteTool]>, HashSet<String>);

/// How to (re)connect.
enum Connector {
    /// A child process: the program, arguments, environment and directory
    /// of the command given, copied for each start.
    Stdio(std::process::Command),
    /// Streamable HTTP at this URL.
    Http(String),
    /// An open transport: no reconnecting.
    Given,
}

/// The client side of the connection: notes a tool-list change.
#[derive(Clone)]
struct Listener {
    stale: Arc<AtomicBool>,
}

impl ClientHandler for Listener {
    fn on_tool_list_changed(
        &self,
        _context: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.stale.store(true, Ordering::SeqCst);
        std::future::ready(())
    }
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.inner.connector {
            Connector::Stdio(_) => "stdio",
            Connector::Http(_) => "streamable HTTP",
            Connector::Given => "transport",
        };
        f.debug_struct("McpServer")
            .field("name", &self.inner.name)
            .field("transport", &transport)
            .field("prefix", &self.settings.prefix)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    fn new(name: impl Into<String>, connector: Connector) -> Self {
        McpServer {
            inner: Arc::new(Inner {
                name: name.into(),
                connector,
                connection: tokio::sync::Mutex::new(None),
                stale: Arc::new(AtomicBool::new(false)),
                listed: Mutex::new(None),
            }),
            settings: Arc::default(),
        }
    }

    /// A server run as a child process and spoken to over its stdin and
    /// stdout; its stderr is discarded. Started on first use (see
    /// [`connect`](Self::connect)), with `kill_on_drop`: the process is
    /// stopped when the last clone of this server is dropped.
    pub fn stdio(name: impl Into<String>, command: tokio::process::Command) -> Self {
        McpServer::new(name, Connector::Stdio(copy(command.as_std())))
    }

    /// A server over streamable HTTP at `url` (`http://127.0.0.1:3001/mcp`),
    /// connected on first use.
    pub fn http(name: impl Into<String>, url: impl Into<String>) -> Self {
        McpServer::new(name, Connector::Http(url.into()))
    }

    /// A server over a transport already open (anything `rmcp` takes as a
    /// client transport: a `(reader, writer)` pair, a
    /// `tokio::io::duplex` end, ...). Connects now.
    ///
    /// # Errors
    /// [`McpError::Connect`] when the handshake fails.
    pub async fn serve<T, E, A>(name: impl Into<String>, transport: T) -> Result<Self, McpError>
    where
        T: IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let server = McpServer::new(name, Connector::Given);
        let listener = Listener {
            stale: Arc::clone(&server.inner.stale),
        };
        let connection = listener
            .serve(transport)
            .await
            .map_err(|error| server.connect_error(error))?;
        *server.inner.connection.lock().await = Some(Arc::new(connection));
        Ok(server)
    }

    /// Only the tools with these names (the server's names, before any
    /// prefix), in the tools [`tools`](Self::tools) lists from this value.
    #[must_use]
    pub fn allow<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.configure().allow = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Never the tools with these names (the server's names).
    #[must_use]
    pub fn deny<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.configure()
            .deny
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Prefixes every tool's name as the model sees it (`files_` makes
    /// `read` into `files_read`), to keep clear of other tools' names.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.configure().prefix = prefix.into();
        self
    }

    /// `_meta` sent with every tool call (an auth token, a tenant id): the
    /// application's, never shown to the model.
    #[must_use]
    pub fn with_meta(mut self, meta: serde_json::Map<String, serde_json::Value>) -> Self {
        self.configure().meta = Some(meta);
        self
    }

    /// This value's settings (copied if other values share them).
    fn configure(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    /// The server's name, as errors and spans give it.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Connects now (a no-op when connected), to fail early.
    ///
    /// # Errors
    /// [`McpError::Spawn`], [`McpError::Connect`], or [`McpError::Closed`]
    /// for a closed transport.
    pub async fn connect(&self) -> Result<(), McpError> {
        self.connection().await.map(drop)
    }

    /// The server's tools (filtered and prefixed), from the cached list, or
    /// fetched when there is none or the server said it changed.
    ///
    /// # Errors
    /// Connecting ([`connect`](Self::connect)) or listing
    /// ([`McpError::Request`]) failed.
    pub async fn tools(&self) -> Result<Vec<McpTool>, McpError> {
        let listed = match self.cached() {
            Some(listed) => listed,
            None => self.refresh().await?,
        };
        Ok(listed
            .iter()
            .filter(|tool| self.offered(&tool.name))
            .map(|tool| McpTool::new(self.clone(), tool, &self.settings.prefix))
            .collect())
    }

    /// Fetches the tool list again, whatever the cache holds.
    ///
    /// # Errors
    /// As [`tools`](Self::tools).
    pub async fn refresh(&self) -> Result<Arc<[RemoteTool]>, McpError> {
        // Cleared before the request: a change announced while it is in
        // flight fetches again next time.
        self.inner.stale.store(false, Ordering::SeqCst);
        let connection = self.connection().await?;
        let listed: Arc<[RemoteTool]> = connection
            .list_all_tools()
            .await
            .map_err(|error| self.request_error(&connection, error))?
            .into();
        let names = listed.iter().map(|tool| tool.name.to_string()).collect();
        *self.listed() = Some((Arc::clone(&listed), names));
        Ok(listed)
    }

    /// Closes the connection (stopping a child process); the next use of
    /// a stdio or HTTP server connects again.
    pub async fn close(&self) {
        let connection = self.inner.connection.lock().await.take();
        if let Some(connection) = connection.and_then(|c| Arc::try_unwrap(c).ok()) {
            let _ = connection.cancel().await;
        }
    }

    /// Calls the tool the server knows as `name`.
    pub(super) async fn call(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, McpError> {
        let connection = self.connection().await?;
        let mut params = CallToolRequestParams::new(name.to_owned());
        params.arguments = arguments;
        params.meta = self.settings.meta.clone().map(Into::into);
        connection
            .call_tool(params)
            .await
            .map_err(|error| self.request_error(&connection, error))
    }

    /// Whether the last list fetched has `name` (true before any list).
    pub(super) fn still_listed(&self, name: &str) -> bool {
        match &*self.listed() {
            Some((_, names)) => names.contains(name),
            None => true,
        }
    }

    fn offered(&self, name: &str) -> bool {
        let settings = &self.settings;
        settings
            .allow
            .as_ref()
            .is_none_or(|allow| allow.contains(name))
            && !settings.deny.contains(name)
    }

    fn cached(&self) -> Option<Arc<[RemoteTool]>> {
        if self.inner.stale.load(Ordering::SeqCst) {
            return None;
        }
        self.listed().as_ref().map(|(listed, _)| Arc::clone(listed))
    }

    fn listed(&self) -> std::sync::MutexGuard<'_, Option<Listed>> {
        self.inner
            .listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The open connection, (re)connecting a stdio or HTTP server whose
    /// connection is missing or closed.
    async fn connection(&self) -> Result<Arc<Connection>, McpError> {
        let mut slot = self.inner.connection.lock().await;
        if let Some(connection) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(connection));
        }
        if matches!(self.inner.connector, Connector::Given) {
            return Err(McpError::Closed {
                server: self.inner.name.clone(),
            });
        }
        *slot = None;
        let connection = Arc::new(
            (|| self.open())
                .retry(
                    ExponentialBuilder::default()
                        .with_min_delay(Duration::from_millis(100))
                        .with_max_times(3),
                )
                .await?,
        );
        *slot = Some(Arc::clone(&connection));
        Ok(connection)
    }

    async fn open(&self) -> Result<Connection, McpError> {
        let listener = Listener {
            stale: Arc::clone(&self.inner.stale),
        };
        match &self.inner.connector {
            Connector::Stdio(command) => {
                let mut command = tokio::process::Command::from(copy(command));
                command.kill_on_drop(true);
                let (process, _stderr) = TokioChildProcess::builder(command)
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|source| McpError::Spawn {
                        server: self.inner.name.clone(),
                        source,
                    })?;
                listener
                    .serve(process)
                    .await
                    .map_err(|error| self.connect_error(error))
            }
            Connector::Http(url) => {
                use rmcp::transport::StreamableHttpClientTransport;
                use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::Client::builder()
                    .build()
                    .map_err(|error| self.connect_error(error))?;
                let transport = StreamableHttpClientTransport::with_client(
                    client,
                    StreamableHttpClientTransportConfig::with_uri(url.as_str()),
                );
                listener
                    .serve(transport)
                    .await
                    .map_err(|error| self.connect_error(error))
            }
            Connector::Given => Err(McpError::Closed {
                server: self.inner.name.clone(),
            }),
        }
    }

    fn connect_error(&self, error: impl fmt::Display) -> McpError {
        McpError::Connect {
            server: self.inner.name.clone(),
            message: error.to_string(),
        }
    }

    fn request_error(&self, connection: &Connection, error: ServiceError) -> McpError {
        if connection.is_closed() || matches!(error, ServiceError::TransportClosed) {
            // Forgotten at the next use, which reconnects.
            return McpError::Request {
                server: self.inner.name.clone(),
                message: format!("the connection closed ({error})"),
            };
        }
        McpError::Request {
            server: self.inner.name.clone(),
            message: error.to_string(),
        }
    }
}

/// A copy of `command`'s program, arguments, environment and directory.
fn copy(command: &std::process::Command) -> std::process::Command {
    let mut copy = std::process::Command::new(command.get_program());
    copy.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => copy.env(key, value),
            None => copy.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        copy.current_dir(dir);
    }
    copy
}
