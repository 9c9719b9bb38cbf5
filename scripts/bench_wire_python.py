"""The wire benchmark's workload on the OpenAI Agents SDK for Python, against
the same fake server (`cargo run --release --example bench_wire -- serve`):
three-turn runs (two parallel `lookup_order` calls, one call, a final text)
through `OpenAIChatCompletionsModel`, streamed or not, at concurrency 1 and
100; prints the same JSON lines as `bench_wire` (client CPU per turn is this
process's CPU time, `time.process_time()`).

    python scripts/bench_wire_python.py --url http://127.0.0.1:8090/v1 [--quick]
"""

import asyncio
import json
import resource
import sys
import time

from openai import AsyncOpenAI
from agents import (Agent, ModelSettings, OpenAIChatCompletionsModel, Runner,
                    function_tool, set_tracing_disabled)

set_tracing_disabled(True)


@function_tool
def lookup_order(order_id: str) -> str:
    """Look up an order."""
    return f"{order_id}: shipped"


def agent(url: str) -> Agent:
    client = AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
    return Agent(name="Clerk", instructions="You look orders up.", tools=[lookup_order],
                 model=model, model_settings=ModelSettings())


async def one(clerk: Agent, stream: bool) -> None:
    question = "Where are A-1, A-2 and A-3?"
    if stream:
        result = Runner.run_streamed(clerk, question)
        async for _ in result.stream_events():
            pass
    else:
        result = await Runner.run(clerk, question)
    assert "A-3" in str(result.final_output), result.final_output


async def measure(clerk: Agent, stream: bool, concurrency: int, runs: int) -> dict:
    times = []

    async def worker(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await one(clerk, stream)
            times.append(time.perf_counter() - started)

    cpu = time.process_time()
    started = time.perf_counter()
    counts = [runs // concurrency + (1 if i < runs % concurrency else 0) for i in range(concurrency)]
    await asyncio.gather(*(worker(c) for c in counts))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    times.sort()
    at = lambda q: times[min(int(len(times) * q), len(times) - 1)]
    return {
        "client": "openai-agents-python", "api": "chat", "stream": stream,
        "concurrency": concurrency, "runs": runs,
        "cpu_us_per_turn": round(cpu * 1e6 / (runs * 3), 1),
        "runs_per_s": round(runs / wall, 1),
        "p50_ms": round(at(0.5) * 1e3, 3), "p99_ms": round(at(0.99) * 1e3, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


async def main() -> None:
    args = sys.argv[1:]
    url = args[args.index("--url") + 1]
    quick = "--quick" in args
    clerk = agent(url)
    await one(clerk, False)  # warm up: the connection, imports
    for stream in (False, True):
        for concurrency in (1, 100):
            runs = (20 if quick else 100) if concurrency == 1 else (200 if quick else 1000)
            print(json.dumps(await measure(clerk, stream, concurrency, runs)), flush=True)


asyncio.run(main())
