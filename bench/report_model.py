"""Benchmark: validated WSJF load + dump, beside plain json.loads + json.dumps of the same text (the floor).

    python bench/report_model.py [--repeat N]

Prints one JSON document. Reports measured: the largest WSJF sample (when ../shared/samples is there),
a generated 186-step report and a generated 2,000-step report. Each figure is the median of N timed runs.
Targets (issue 2): 186-step load+dump under 3 ms, and within 8x of the plain-JSON floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from pywats.formats import wsjf
from pywats.synthetic import synthetic_report

SAMPLES = Path(os.environ.get("PYWATS_SAMPLES", Path(__file__).resolve().parents[2] / "shared" / "samples"))


def median_ms(action, repeat: int) -> float:
    action()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(label: str, text: str, repeat: int) -> dict:
    ours = median_ms(lambda: wsjf.dumps(wsjf.loads(text)), repeat)
    floor = median_ms(lambda: json.dumps(json.loads(text)), repeat)
    report = wsjf.loads(text)
    return {
        "report": label,
        "steps": len(report.iter_steps()) if hasattr(report, "iter_steps") else 0,
        "bytes": len(text.encode()),
        "pywats_load_dump_ms": round(ours, 4),
        "plain_json_load_dump_ms": round(floor, 4),
        "ratio_to_floor": round(ours / floor, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    cases = []
    samples = sorted((SAMPLES / "wsjf").glob("*.json"), key=lambda p: p.stat().st_size) if SAMPLES.is_dir() else []
    if samples:
        cases.append(measure(f"sample: {samples[-1].name}", samples[-1].read_text(encoding="utf-8-sig"), args.repeat))
    for steps, repeat in ((186, args.repeat), (2000, max(args.repeat // 10, 5))):
        cases.append(measure(f"generated {steps}-step", wsjf.dumps(synthetic_report(steps)), repeat))

    target = next(case for case in cases if case["steps"] == 186)
    print(json.dumps({
        "benchmark": "report_model",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cases": cases,
        "targets": {
            "186_step_under_3_ms": target["pywats_load_dump_ms"] < 3.0,
            "186_step_within_8x_floor": target["ratio_to_floor"] <= 8.0,
        },
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
