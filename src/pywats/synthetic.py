"""Realistic generated test reports, for demos, tests and benchmarks.

``synthetic_report(186)`` is a board test of 186 steps: sequences of numeric limit tests (single and
multi), string and pass/fail tests, a chart and an action, with a few failures. The same arguments give the
same report (ids included), so benchmarks and tests are repeatable.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from .builder import ReportBuilder
from .models import UUTReport


def synthetic_report(
    steps: int = 186, *, sn: str = "SN-000001", pn: str = "PCBA-100", seed: int = 0, process_code: int = 10,
    fail_rate: float = 0.02,
) -> UUTReport:  # fmt: skip
    """A UUT report with exactly ``steps`` steps, root included (at least 3)."""
    if steps < 3:
        raise ValueError("a synthetic report has at least 3 steps")
    rng = random.Random(f"{seed}:{sn}:{steps}")
    start = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(86_400 * 300))
    builder = ReportBuilder.uut(
        pn=pn, sn=sn, rev="A", process_code=process_code, machine_name="BENCH-01", location="Line 1",
        purpose="Production", start=start, id_key=f"synthetic:{seed}:{pn}:{sn}:{steps}", user="operator",
        exec_time=round(rng.uniform(20, 90), 3),
    )  # fmt: skip
    remaining = steps - 1  # the root is one step
    group = 0
    while remaining > 0:
        group += 1
        sequence = builder.sequence(f"Block {group}")
        remaining -= 1
        for index in range(min(remaining, 12)):
            _add_step(sequence, rng, group, index, fail_rate)
            remaining -= 1
    return builder.build()


def _add_step(sequence, rng: random.Random, group: int, index: int, fail_rate: float) -> None:
    kind = rng.random()
    name = f"T{group:03d}.{index:02d}"
    nominal = rng.choice([1.8, 3.3, 5.0, 12.0, 0.25, 100.0])
    value = nominal * (rng.uniform(1.2, 1.5) if rng.random() < fail_rate else rng.uniform(0.97, 1.03))
    if kind < 0.55:
        sequence.numeric(name, round(value, 6), low=nominal * 0.95, high=nominal * 1.05, unit="V")
    elif kind < 0.70:
        step = sequence.multi_numeric(name)
        for pin in range(4):
            step.measure(f"pin{pin}", round(value + pin * 0.001, 6), low=nominal * 0.95, high=nominal * 1.05, unit="V")
    elif kind < 0.80:
        sequence.string(name, "1.4.2", limit="1.4.2")
    elif kind < 0.93:
        sequence.pass_fail(name, rng.random() >= fail_rate)
    elif kind < 0.97:
        xs = list(range(32))
        sequence.chart(name, x_label="t", x_unit="ms", y_label="I", y_unit="mA").series(
            "current", xs, [round(100 + rng.uniform(-5, 5), 3) for _ in xs]
        ).measure("peak", 105.0, high=120.0, unit="mA")
    else:
        sequence.action(name)


__all__ = ["synthetic_report"]
