#!/usr/bin/env bash
# Runs the runner benchmark in Rust and its peer on the OpenAI Agents SDK
# for Python (PyPI `openai-agents`, installed into a cache outside the
# repository), back to back; prints one JSON line per configuration each.
#
#   scripts/bench.sh            # full
#   scripts/bench.sh --quick    # a tenth of the runs (1,000 concurrent for Python)
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${AGENTS_BENCH_CACHE:-$HOME/.cache/agents-bench}"
if [ ! -x "$cache/venv/bin/python" ]; then
  mkdir -p "$cache"
  python3 -m venv "$cache/venv"
fi
if ! "$cache/venv/bin/python" -c "import agents.testing" 2>/dev/null; then
  "$cache/venv/bin/pip" install --quiet openai-agents
fi

cargo build --quiet --release --example bench
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "# rust: $(rustc --version); python: $("$cache/venv/bin/python" --version 2>&1), openai-agents $("$cache/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("openai-agents"))')"
./target/release/examples/bench "$@"
"$cache/venv/bin/python" scripts/bench_python.py "$@"
