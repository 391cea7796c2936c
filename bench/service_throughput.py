"""Benchmark: the station service end to end, beside the bounds it is measured against.

    python bench/service_throughput.py [--files 2000] [--steps 20] [--idle-s 60] [--latency-samples 20]

The emulator and the service each run in a process of their own on loopback (the service exactly as a station
runs it: ``python -m pywats_client service``); this script only drops files and watches. Measured:

1. **throughput**: ``--files`` generated WSJF files written into the watch folder at once, timed from the
   first write until the emulator holds all of them; once with no added latency and once with 50 ms per
   request. Beside it, the same reports posted by a plain ``httpx`` loop with ``upload_concurrency`` requests
   in flight (the server's own limit on this machine) and the bound ``concurrency / latency``;
2. **idle**: CPU (share of one core) and RSS of the service with an empty queue, over ``--idle-s`` seconds;
3. **latency**: file-drop-to-server latency, one file at a time at low load (p50, p95).

Prints one JSON document. Targets (issue 4) on this 2-core machine, emulator included: >= 300 reports/s with no
added latency; at 50 ms >= 80% of ``concurrency / latency``; idle CPU < 1% and RSS < 80 MB; drop-to-server p50 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from _emulator_process import TOKEN, emulator_process, set_faults

from pywats.formats import wsjf
from pywats.synthetic import synthetic_report
from pywats_client import config as config_module

CONCURRENCY = 5  # the service's default upload_concurrency


_POLL: dict[str, httpx.Client] = {}


def _client(url: str) -> httpx.Client:
    # One client for all polling: a new one per call would build a TLS context each time, and that CPU
    # would be taken from the service and the emulator being measured.
    if url not in _POLL:
        _POLL[url] = httpx.Client(base_url=url, headers={"Authorization": f"Basic {TOKEN}"}, timeout=30)
    return _POLL[url]


def stored(url: str) -> int:
    return _client(url).get("/_emulator/stats").json()["reports_stored"]


def reset(url: str) -> None:
    _client(url).post("/_emulator/reset").raise_for_status()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def texts(count: int, steps: int, tag: str) -> list[str]:
    base = synthetic_report(steps)
    return [wsjf.dumps(base.model_copy(update={"id": uuid.uuid4(), "sn": f"{tag}-{index:06d}"})) for index in range(count)]


def raw_floor(url: str, bodies: list[str], in_flight: int) -> float:
    """reports/s of a plain httpx.AsyncClient posting the same bodies, ``in_flight`` at a time."""

    async def main() -> float:
        headers = {"Authorization": f"Basic {TOKEN}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            gate = asyncio.Semaphore(in_flight)

            async def one(body: str) -> None:
                async with gate:
                    (await client.post("/api/Report/WSJF", content=body)).raise_for_status()

            start = time.perf_counter()
            await asyncio.gather(*(one(body) for body in bodies))
            return len(bodies) / (time.perf_counter() - start)

    return asyncio.run(main())


def drop_all(watch: Path, bodies: list[str]) -> None:
    for index, body in enumerate(bodies):
        temporary = watch / f"r{index:06d}.json.tmp"
        temporary.write_text(body, encoding="utf-8")
        os.replace(temporary, watch / f"r{index:06d}.json")


def wait_stored(url: str, count: int, timeout: float) -> float:
    """When the emulator held ``count`` reports (polled often near the end, rarely before it)."""
    deadline = time.monotonic() + timeout
    while True:
        have = stored(url)
        if have >= count:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the emulator holds {have} of {count} after {timeout} s")
        time.sleep(0.01 if count - have <= 20 else 0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--latency-samples", type=int, default=20)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="pywats-bench-"))
    watch = home / "in"
    watch.mkdir()
    result: dict = {"benchmark": "service_throughput", "python": sys.version.split()[0], "machine": platform.machine(),
                    "cpus": os.cpu_count(), "files": args.files, "steps_per_report": args.steps}  # fmt: skip
    try:
        with emulator_process() as url:
            config_module.save({
                "server_url": url, "api_token": TOKEN, "disk_reserve_mb": 0, "stability_window_s": 0.1,
                "upload_concurrency": CONCURRENCY, "ping_interval_s": 30,
                "converters": [{"name": "bench", "converter": "wsjf", "watch": str(watch), "post_action": "delete"}],
            }, home / "instances" / "bench" / "config.json")  # fmt: skip
            environment = {**os.environ, "PYWATS_HOME": str(home)}
            service = subprocess.Popen([sys.executable, "-m", "pywats_client", "--instance", "bench", "service"],
                                       env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                time.sleep(3)  # started and settled
                runs = []
                for latency in (0, 50):
                    bodies = texts(args.files, args.steps, f"T{latency}")  # new ids: the queue skips known content
                    result["report_bytes"] = len(bodies[0].encode())
                    reset(url)
                    set_faults(url, latency_ms=latency)
                    before = cpu_seconds(service.pid)
                    start = time.monotonic()
                    drop_all(watch, bodies)
                    end = wait_stored(url, args.files, timeout=600)
                    service_cpu = cpu_seconds(service.pid) - before
                    rate = args.files / (end - start)
                    reset(url)
                    floor = raw_floor(url, texts(min(args.files, 1000), args.steps, f"F{latency}"), CONCURRENCY)
                    run = {"latency_ms": latency, "service_reports_per_s": round(rate, 1),
                           "raw_httpx_same_concurrency_reports_per_s": round(floor, 1),
                           "service_vs_raw": round(rate / floor, 3),
                           "service_cpu_ms_per_report": round(service_cpu / args.files * 1000, 3)}  # fmt: skip
                    if latency:
                        bound = CONCURRENCY / (latency / 1000)
                        run["bound_concurrency_over_latency"] = bound
                        run["share_of_bound"] = round(rate / bound, 3)
                    runs.append(run)
                result["throughput"] = runs
                set_faults(url, latency_ms=0)
                reset(url)

                time.sleep(2)
                before, start = cpu_seconds(service.pid), time.monotonic()
                time.sleep(args.idle_s)
                idle_cpu = (cpu_seconds(service.pid) - before) / (time.monotonic() - start)
                result["idle"] = {"seconds": args.idle_s, "cpu_share_of_one_core": round(idle_cpu, 5),
                                  "rss_mb": round(rss_mb(service.pid), 1)}  # fmt: skip

                latencies = []
                for index, body in enumerate(texts(args.latency_samples, args.steps, "L")):
                    have = stored(url)
                    start = time.monotonic()
                    (watch / f"l{index}.json.tmp").write_text(body, encoding="utf-8")
                    os.replace(watch / f"l{index}.json.tmp", watch / f"l{index}.json")
                    latencies.append(wait_stored(url, have + 1, timeout=60) - start)
                    time.sleep(0.3)
                latencies.sort()
                result["drop_to_server_s"] = {
                    "p50": round(statistics.median(latencies), 3),
                    "p95": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))], 3),
                    "stability_window_s": 0.1,
                }
            finally:
                service.terminate()
                service.wait(30)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    no_latency = result["throughput"][0]
    with_latency = result["throughput"][1]
    result["targets"] = {
        "at_least_300_per_s_no_latency": no_latency["service_reports_per_s"] >= 300,
        "at_50ms_at_least_80pct_of_bound": with_latency["share_of_bound"] >= 0.8,
        "idle_cpu_under_1pct": result["idle"]["cpu_share_of_one_core"] < 0.01,
        "idle_rss_under_80_mb": result["idle"]["rss_mb"] < 80,
        "drop_to_server_p50_under_1_s": result["drop_to_server_s"]["p50"] < 1.0,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
