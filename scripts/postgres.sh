#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the session tests: Debian's
# `postgresql` package (installed if missing, without its default cluster),
# a cluster in a new temporary directory, owned by an unprivileged user
# (PostgreSQL refuses to run as root), listening on 127.0.0.1 only.
#
#   scripts/postgres.sh start   # prints the URL once the server answers
#   scripts/postgres.sh stop    # stops it and deletes the directory
#
# Environment: AGENTS_PG_PORT (default 54329), AGENTS_PG_CACHE (default
# ~/.cache/agents-pg: where the running cluster's directory is noted).
set -euo pipefail

port="${AGENTS_PG_PORT:-54329}"
cache="${AGENTS_PG_CACHE:-$HOME/.cache/agents-pg}"
note="$cache/current"

# The newest server's binaries (a client-only install has no initdb).
bindir() {
  local initdb
  initdb="$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)"
  [ -n "$initdb" ] && dirname "$initdb"
  return 0
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install() {
  if [ -z "$(bindir)" ]; then
    # The package would otherwise create and start a cluster of its own.
    as_root mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    # Keep the file above if the package ships its own.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >&2
  fi
}

# The user the server runs as: the current one, or `postgres` for root.
server_user() {
  if [ "$(id -u)" != 0 ]; then
    id -un
  else
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    echo postgres
  fi
}

as_user() {
  local user="$1"; shift
  if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

start() {
  install
  local bin user dir
  bin="$(bindir)"
  user="$(server_user)"
  mkdir -p "$cache"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/agents-pg.XXXXXX")"
  chown "$user" "$dir"
  echo "$dir" > "$note"
  as_user "$user" "$bin/initdb" -D "$dir/data" --auth=trust -U agents >"$dir/initdb.log"
  as_user "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null
  as_user "$user" "$bin/createdb" -h 127.0.0.1 -p "$port" -U agents agents
  echo "postgres://agents@127.0.0.1:$port/agents"
}

stop() {
  [ -f "$note" ] || return 0
  local dir bin
  dir="$(cat "$note")"
  bin="$(bindir)"
  if [ -d "$dir/data" ]; then
    as_user "$(server_user)" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir" "$note"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
