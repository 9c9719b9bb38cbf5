#!/usr/bin/env bash
# The wire benchmark and its peers, interleaved: ROUNDS rounds (default 3)
# of this project's client with its floor client (Chat Completions and the
# Responses API), then rig 0.44
# (`scripts/bench_wire_rig`, a crate of its own built into the cache, so the
# project's build never compiles it), then the OpenAI Agents SDK for Python
# (PyPI `openai-agents`, in the same cache as scripts/bench.sh), each
# against the fake OpenAI-compatible server of `examples/bench_wire` on
# 127.0.0.1; then the medians per configuration and the ratios against
# this project. The peers run the Chat Completions workload only.
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
import json, math, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
key = lambda r: (r["client"], r.get("api", "chat"), r["stream"], r["concurrency"])
clients = ["agents", "floor", "rig", "openai-agents-python"]
configs = sorted({key(r)[1:] for r in rows})
def med(client, config, field):
    values = [r[field] for r in rows if key(r) == (client, *config)]
    return statistics.median(values) if values else float("nan")
name = lambda api, s, n: f"{'Chat Completions' if api == 'chat' else 'Responses'}, {'streamed' if s else 'non-streamed'}, concurrency {n}"
cell = lambda v, unit: "—" if math.isnan(v) else f"{v:,.0f} {unit}"
ratio = lambda v, digits: "—" if math.isnan(v) else f"{v:.{digits}f}×"
print("\n| client CPU per turn (median of rounds) | this project | floor client | rig 0.44 | OpenAI Agents SDK (Python) | project / floor | rig / project | Python / project |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for config in configs:
    a, f, r, p = (med(c, config, "cpu_us_per_turn") for c in clients)
    print(f"| {name(*config)} | {cell(a, 'µs')} | {cell(f, 'µs')} | {cell(r, 'µs')} | {cell(p, 'µs')} | {ratio(a / f, 2)} | {ratio(r / a, 1)} | {ratio(p / a, 0)} |")
print("\n| runs/s, p50 / p99 wall per run, peak RSS (median of rounds) | this project | rig 0.44 | OpenAI Agents SDK (Python) |")
print("|---|---|---|---|")
for config in configs:
    def wall(c):
        if math.isnan(med(c, config, "runs_per_s")):
            return "—"
        return f"{med(c, config, 'runs_per_s'):,.0f} runs/s, {med(c, config, 'p50_ms'):.2f} / {med(c, config, 'p99_ms'):.2f} ms, {med(c, config, 'peak_rss_mb'):.0f} MB"
    print(f"| {name(*config)} | {wall('agents')} | {wall('rig')} | {wall('openai-agents-python')} |")
PY
rm -f "$out"
