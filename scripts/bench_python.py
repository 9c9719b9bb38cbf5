"""The runner benchmark's workload on the OpenAI Agents SDK for Python, with
its deterministic `agents.testing.ScriptedModel`; prints the same JSON lines
as `cargo run --release --example bench`.

    python scripts/bench_python.py [--quick]

Workload, per run: turn 1 Triage calls `lookup_order` and `get_weather` in
parallel; turn 2 Triage hands off to Billing; turn 3 Billing calls `refund`;
turn 4 Billing answers with text.
"""

import asyncio
import json
import resource
import statistics
import sys
import time

from agents import Agent, RunConfig, Runner, function_tool, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message, function_call

set_tracing_disabled(True)

TURNS_PER_RUN = 4


class Gate:
    """Holds every run at its first tool call until all runs of a batch are
    in flight (open: no wait)."""

    def __init__(self, open_: bool) -> None:
        self.event = asyncio.Event()
        if open_:
            self.event.set()
        self.arrived = 0


GATE = Gate(True)


@function_tool
async def lookup_order(order_id: str) -> str:
    """Look up an order by its id."""
    GATE.arrived += 1
    await GATE.event.wait()
    return f"{order_id}: paid"


@function_tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


@function_tool
def refund(order_id: str, amount_cents: int) -> str:
    """Refund part of an order. Amount in cents."""
    return f"refunded {amount_cents} on {order_id}"


BILLING = Agent(name="Billing", instructions="Handle refunds.", tools=[refund])
TRIAGE = Agent(
    name="Triage",
    instructions="Route the customer.",
    tools=[lookup_order, get_weather],
    handoffs=[BILLING],
)


def script() -> ScriptedModel:
    return ScriptedModel(
        [
            [
                function_call("lookup_order", {"order_id": "A-1001"}, call_id="call_1"),
                function_call("get_weather", {"city": "Paris"}, call_id="call_2"),
            ],
            [function_call("transfer_to_billing", {}, call_id="call_3")],
            [function_call("refund", {"order_id": "A-1001", "amount_cents": 2500}, call_id="call_4")],
            [assistant_message("Refunded 25.00.")],
        ]
    )


async def one_run() -> None:
    result = await Runner.run(TRIAGE, "I was charged twice", run_config=RunConfig(model=script()))
    assert result.final_output == "Refunded 25.00.", result.final_output


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(config, runs, concurrency, turns_per_run, seconds, **extra) -> None:
    turns = runs * turns_per_run
    line = {
        "impl": "openai-agents-python",
        "config": config,
        "runs": runs,
        "concurrency": concurrency,
        "seconds": round(seconds, 6),
        "runs_per_s": round(runs / seconds),
        "turns_per_s": round(turns / seconds),
        "us_per_turn": round(seconds * 1e6 / turns, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        **extra,
    }
    print(json.dumps(line, sort_keys=True), flush=True)


async def sequential(runs_per_batch: int, batches: int) -> None:
    for _ in range(20):
        await one_run()
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(runs_per_batch):
            await one_run()
        times.append(time.perf_counter() - start)
    report("sequential", runs_per_batch, 1, TURNS_PER_RUN, statistics.median(times), batches=batches)


async def history(length: int, runs: int, batches: int) -> None:
    items = [
        {"role": "user", "content": f"question {i}"} if i % 2 == 0 else {"role": "assistant", "content": f"answer {i}"}
        for i in range(length)
    ]
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(runs):
            model = ScriptedModel([[assistant_message("ok")]])
            result = await Runner.run(BILLING, list(items), run_config=RunConfig(model=model))
            assert result.final_output == "ok"
        times.append(time.perf_counter() - start)
    report(f"history_{length}", runs, 1, 1, statistics.median(times), history_items=length, batches=batches)


async def concurrent(runs: int) -> None:
    global GATE
    GATE = Gate(False)
    start = time.perf_counter()
    tasks = [asyncio.create_task(one_run()) for _ in range(runs)]
    while GATE.arrived < runs:
        await asyncio.sleep(0)
    in_flight = GATE.arrived
    GATE.event.set()
    await asyncio.gather(*tasks)
    report("concurrent", runs, runs, TURNS_PER_RUN, time.perf_counter() - start, in_flight_at_once=in_flight)


async def main() -> None:
    quick = "--quick" in sys.argv
    scale = 10 if quick else 1
    await sequential(2_000 // scale, 5)
    for length in (10, 100, 1000):
        await history(length, max(20, 2_000 // scale // (1 + length // 100)), 3)
    await concurrent(10_000 // (10 if quick else 1))


if __name__ == "__main__":
    asyncio.run(main())
