"""Benchmark: control API round trips (``ping`` and ``status``) while the service uploads at full speed.

    python bench/control_api.py [--calls 2000] [--files 3000]

The emulator and the service run in processes of their own on loopback (the service as a station runs it:
``python -m pywats_client service``); this script keeps the service busy with ``--files`` generated WSJF files
and meanwhile calls the control API over its Unix socket with the sync :class:`ControlClient`, one call after
another, timing each. Beside it, the same calls while the service is idle, so the cost of the load shows.
Prints one JSON document with p50/p99 in milliseconds. Targets (issue 5): p50 under 5 ms, p99 under 20 ms
under load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _emulator_process import TOKEN, emulator_process
from service_throughput import drop_all, stored, texts

from pywats_client import config as config_module
from pywats_client.control.client import ControlClient, running
from pywats_client.instance import InstancePaths


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def measure(control: ControlClient, calls: int) -> dict[str, dict[str, float]]:
    results = {}
    for name, call in (("ping", control.ping), ("status", control.status)):
        call()  # warm up the connection
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        results[name] = percentiles(times)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--files", type=int, default=3000)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="pywats-bench-control-"))
    watch = home / "in"
    watch.mkdir()
    result: dict = {"benchmark": "control_api", "python": sys.version.split()[0], "machine": platform.machine(),
                    "calls": args.calls}  # fmt: skip
    try:
        with emulator_process() as url:
            paths = InstancePaths("bench", home / "instances" / "bench")
            config_module.save({
                "server_url": url, "api_token": TOKEN, "disk_reserve_mb": 0, "stability_window_s": 0.1,
                "control_rate_per_minute": 10**6, "control_burst": 10**5,
                "converters": [{"name": "bench", "converter": "wsjf", "watch": str(watch), "post_action": "delete"}],
            }, paths.config_file)  # fmt: skip
            environment = {**os.environ, "PYWATS_HOME": str(home), "PYWATS_KEYRING": "0"}
            service = subprocess.Popen([sys.executable, "-m", "pywats_client", "--instance", "bench", "service"],
                                       env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                os.environ["PYWATS_HOME"] = str(home)
                deadline = time.monotonic() + 30
                while not running(paths):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the service did not start")
                    time.sleep(0.1)
                with ControlClient(paths) as control:
                    result["idle"] = measure(control, args.calls)
                    bodies = texts(args.files, 20, "C")
                    dropper = threading.Thread(target=drop_all, args=(watch, bodies))
                    start = time.monotonic()
                    dropper.start()
                    result["under_load"] = measure(control, args.calls)
                    during = stored(url)
                    dropper.join()
                    elapsed = time.monotonic() - start
                result["load"] = {"files": args.files, "uploaded_while_measuring": during,
                                  "reports_per_s_while_measuring": round(during / elapsed, 1)}  # fmt: skip
            finally:
                service.terminate()
                service.wait(30)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    load = result["under_load"]
    result["targets"] = {
        "p50_under_5_ms": all(load[name]["p50_ms"] < 5 for name in ("ping", "status")),
        "p99_under_20_ms": all(load[name]["p99_ms"] < 20 for name in ("ping", "status")),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
