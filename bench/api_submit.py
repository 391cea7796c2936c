"""Benchmark: report submission to the emulator: the raw-HTTP floor, pyWATS sync, AsyncWATS 8 in flight.

    python bench/api_submit.py [--count 1000] [--steps 186] [--latency-ms 0 20]

For each added server latency, N distinct reports of the same shape are submitted
(a) with a plain ``httpx.Client`` posting the pre-serialised WSJF bytes (the floor: HTTP and the server only),
(b) with ``pyWATS.report.submit(report)`` one after another, and
(c) with ``AsyncWATS.report.submit(report)``, 8 in flight.
The emulator runs in its own process on loopback. The clients' rate limiter is off (its default, 500
requests / 60 s, would otherwise be what is measured). Prints one JSON document.
Targets (issue 3): sync within 15% of the raw floor; async 8-in-flight at least 5x sync at 20 ms latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid

import httpx
from _emulator_process import TOKEN, emulator_process, set_faults

from pywats import AsyncWATS, pyWATS
from pywats.formats import wsjf
from pywats.synthetic import synthetic_report


def make_reports(count: int, steps: int) -> list:
    base = synthetic_report(steps)
    return [base.model_copy(update={"id": uuid.uuid4()}) for _ in range(count)]


def raw_floor(url: str, bodies: list[bytes]) -> float:
    headers = {"Authorization": f"Basic {TOKEN}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        for body in bodies:
            client.post("/api/Report/WSJF", content=body).raise_for_status()
        return time.perf_counter() - start


def pywats_sync(url: str, reports: list) -> float:
    with pyWATS(url, TOKEN, rate_limit=None) as api:
        start = time.perf_counter()
        for report in reports:
            api.report.submit(report)
        return time.perf_counter() - start


def pywats_async(url: str, reports: list, in_flight: int) -> float:
    async def main() -> float:
        async with AsyncWATS(url, TOKEN, rate_limit=None) as api:
            gate = asyncio.Semaphore(in_flight)

            async def one(report) -> None:
                async with gate:
                    await api.report.submit(report)

            start = time.perf_counter()
            await asyncio.gather(*(one(report) for report in reports))
            return time.perf_counter() - start

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=186)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 20])
    args = parser.parse_args()

    runs = []
    with emulator_process() as url:
        for latency in args.latency_ms:
            set_faults(url, latency_ms=latency)
            rate = {}
            rate["raw_httpx_floor"] = args.count / raw_floor(url, [wsjf.dumps(r).encode() for r in make_reports(args.count, args.steps)])
            rate["pywats_sync"] = args.count / pywats_sync(url, make_reports(args.count, args.steps))
            rate[f"asyncwats_{args.in_flight}_in_flight"] = args.count / pywats_async(
                url, make_reports(args.count, args.steps), args.in_flight)
            async_rate = rate[f"asyncwats_{args.in_flight}_in_flight"]
            runs.append({
                "latency_ms": latency,
                "reports_per_s": {key: round(value, 1) for key, value in rate.items()},
                "sync_vs_floor": round(rate["pywats_sync"] / rate["raw_httpx_floor"], 3),
                "async_vs_sync": round(async_rate / rate["pywats_sync"], 2),
            })  # fmt: skip
    by_latency = {run["latency_ms"]: run for run in runs}
    targets = {"sync_within_15pct_of_floor": all(run["sync_vs_floor"] >= 0.85 for run in runs)}
    if 20 in by_latency:
        targets["async_at_least_5x_sync_at_20ms"] = by_latency[20]["async_vs_sync"] >= 5
    print(json.dumps({"benchmark": "api_submit", "python": sys.version.split()[0], "reports": args.count,
                      "steps_per_report": args.steps, "runs": runs, "targets": targets}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
