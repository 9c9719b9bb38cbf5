#!/usr/bin/env bash
# Installs the reference MCP server `@modelcontextprotocol/server-everything`
# (a pinned version, from npm, with the machine's Node.js) into a cache
# outside the repository, and prints the path of its entry point. The MCP
# interop tests start it themselves over stdio (a child process: no port).
#
#   scripts/mcp-server.sh install   # prints .../dist/index.js
#
# Environment: AGENTS_MCP_CACHE (default ~/.cache/agents-mcp).
set -euo pipefail

cache="${AGENTS_MCP_CACHE:-$HOME/.cache/agents-mcp}"
version="2026.8.31"
package="@modelcontextprotocol/server-everything"
entry="$cache/node_modules/$package/dist/index.js"

install() {
  command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
  mkdir -p "$cache"
  installed="$(node -p "require('$cache/node_modules/$package/package.json').version" 2>/dev/null || true)"
  if [ "$installed" != "$version" ] || [ ! -f "$entry" ]; then
    npm install --silent --no-audit --no-fund --prefix "$cache" "$package@$version" >&2
  fi
  echo "$entry"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
