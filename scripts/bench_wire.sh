#!/usr/bin/env bash
# The wire benchmark and its peers, interleaved: ROUNDS rounds (default 3)
# of this project's client with its floor client, then rig 0.44
# (`scripts/bench_wire_rig`, a crate of its own built into the cache, so the
# project's build never compiles it), then the OpenAI Agents SDK for Python
# (PyPI `openai-agents`, in the same cache as scripts/bench.sh), each
# against the fake OpenAI-compatible server of `examples/bench_wire` on
# 127.0.0.1; then the medians per configuration and the ratios against
# this project.
#
#   scripts/bench_wire.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-3}"
cache="${AGENTS_BENCH_CACHE:-$HOME/.cache/agents-bench}"
if [ ! -x "$cache/venv/bin/python" ]; then
  mkdir -p "$cache"
  python3 -m venv "$cache/venv"
fi
if ! "$cache/venv/bin/python" -c "import agents" 2>/dev/null; then
  "$cache/venv/bin/pip" install --quiet openai-agents
fi
cargo build --quiet --release --example bench_wire
CARGO_TARGET_DIR="$cache/rig-target" cargo build --quiet --release --locked \
  --manifest-path scripts/bench_wire_rig/Cargo.toml
rig="$cache/rig-target/release/bench-wire-rig"
bin=./target/release/examples/bench_wire
port=18091
"$bin" serve --port "$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 0.5

out="$(mktemp)"
echo "# machine: $(nproc) cores, $(uname -sr); rust: $(rustc --version); rig-core/rig-agent 0.44.0; python: $("$cache/venv/bin/python" --version 2>&1), openai-agents $("$cache/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("openai-agents"))')"
for round in $(seq 1 "$rounds"); do
  echo "# round $round"
  "$bin" "$@" | grep '^{' | tee -a "$out"
  "$rig" --url "http://127.0.0.1:$port/v1" "$@" | tee -a "$out"
  "$cache/venv/bin/python" scripts/bench_wire_python.py --url "http://127.0.0.1:$port/v1" "$@" | tee -a "$out"
done

"$cache/venv/bin/python" - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
clients = ["agents", "floor", "rig", "openai-agents-python"]
configs = sorted({(r["stream"], r["concurrency"]) for r in rows})
med = lambda c, s, n, k: statistics.median(r[k] for r in rows if (r["client"], r["stream"], r["concurrency"]) == (c, s, n)) if any((r["client"], r["stream"], r["concurrency"]) == (c, s, n) for r in rows) else float("nan")
print("\n| client CPU per turn (median of rounds) | this project | floor client | rig 0.44 | OpenAI Agents SDK (Python) | project / floor | rig / project | Python / project |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for s, n in configs:
    a, f, r, p = (med(c, s, n, "cpu_us_per_turn") for c in clients)
    print(f"| {'streamed' if s else 'non-streamed'}, concurrency {n} | {a:,.0f} µs | {f:,.0f} µs | {r:,.0f} µs | {p:,.0f} µs | {a / f:.2f}× | {r / a:.1f}× | {p / a:.0f}× |")
print("\n| runs/s, p50 / p99 wall per run, peak RSS (median of rounds) | this project | rig 0.44 | OpenAI Agents SDK (Python) |")
print("|---|---|---|---|")
for s, n in configs:
    cell = lambda c: f"{med(c, s, n, 'runs_per_s'):,.0f} runs/s, {med(c, s, n, 'p50_ms'):.2f} / {med(c, s, n, 'p99_ms'):.2f} ms, {med(c, s, n, 'peak_rss_mb'):.0f} MB"
    print(f"| {'streamed' if s else 'non-streamed'}, concurrency {n} | {cell('agents')} | {cell('rig')} | {cell('openai-agents-python')} |")
PY
rm -f "$out"
