"""Token bucket arithmetic with a fake clock, and that concurrent callers never get more than their share."""

from __future__ import annotations

import threading

import pytest
from wats_helpers import FakeClock

from pywats import RateLimit, TokenBucket
from pywats._ratelimit import make_bucket


def test_full_bucket_then_waits_in_order() -> None:
    clock = FakeClock()
    bucket = TokenBucket(3, 1.0, clock=clock)  # 3 tokens, 1 per second
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    # Empty now: each further caller is told to wait one second longer than the one before.
    assert [bucket.reserve() for _ in range(3)] == [1.0, 2.0, 3.0]
    assert bucket.available == -3.0


@pytest.mark.parametrize(
    ("capacity", "rate", "steps", "expected"),
    [
        # steps: (seconds to advance, then reserve) → expected waits
        (1, 2.0, [(0, 1), (0, 1), (0.5, 1)], [0.0, 0.5, 0.5]),
        (2, 1.0, [(0, 2), (10, 3)], [0.0, 0.0, 0.0, 0.0, 1.0]),  # refill stops at capacity
        (5, 5.0, [(0, 5), (0.2, 1), (0.1, 1)], [0.0] * 5 + [0.0, 0.1]),
        (10, 0.5, [(0, 11)], [0.0] * 10 + [2.0]),
    ],
)
def test_bucket_table(capacity: int, rate: float, steps: list, expected: list) -> None:
    clock = FakeClock()
    bucket = TokenBucket(capacity, rate, clock=clock)
    waits = []
    for advance, count in steps:
        clock.advance(advance)
        waits.extend(bucket.reserve() for _ in range(count))
    assert waits == pytest.approx(expected)


def test_default_limit_is_500_per_minute() -> None:
    clock = FakeClock()
    bucket = TokenBucket.from_limit(RateLimit(), clock=clock)
    waits = [bucket.reserve() for _ in range(501)]
    assert waits[:500] == [0.0] * 500
    assert waits[500] == pytest.approx(60 / 500)


def test_clock_stepping_back_does_not_drain() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, 1.0, clock=clock)
    bucket.reserve()
    clock.advance(-100)
    assert bucket.reserve() == 0.0
    assert bucket.available == 0.0


def test_threads_share_tokens_exactly() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 10.0, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            wait = bucket.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 400 reservations from 100 tokens at 10/s: exactly 100 free, the rest spaced 0.1 s apart.
    assert sum(1 for wait in waits if wait == 0.0) == 100
    assert sorted(waits)[-1] == pytest.approx(30.0)


@pytest.mark.parametrize("kwargs", [{"requests": 0}, {"per": 0}, {"per": float("inf")}])
def test_rate_limit_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RateLimit(**kwargs)


def test_make_bucket() -> None:
    assert make_bucket(None) is None
    shared = TokenBucket(5, 1.0)
    assert make_bucket(shared) is shared
    assert make_bucket(RateLimit(10, 1.0)).capacity == 10
    with pytest.raises(TypeError):
        make_bucket(500)  # type: ignore[arg-type]
