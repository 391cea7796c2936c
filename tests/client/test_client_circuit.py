"""The circuit breaker's state machine, step by step with a fake clock."""

from __future__ import annotations

import threading

import pytest
from wats_helpers import FakeClock

from pywats import CircuitBreaker, CircuitOpenError, CircuitState
from pywats._circuit import Outcome

S, F, N = Outcome.SUCCESS, Outcome.FAILURE, Outcome.NEUTRAL


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.record(breaker.acquire(), F)


def test_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=10, clock=FakeClock())
    fail(breaker, 2)
    assert breaker.state is CircuitState.CLOSED
    breaker.record(breaker.acquire(), S)  # a success resets the count
    fail(breaker, 2)
    assert breaker.state is CircuitState.CLOSED and breaker.failures == 2
    fail(breaker, 1)
    assert breaker.state is CircuitState.OPEN


def test_neutral_outcomes_neither_count_nor_reset() -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    fail(breaker, 1)
    breaker.record(breaker.acquire(), N)
    assert breaker.failures == 1
    fail(breaker, 1)
    assert breaker.state is CircuitState.OPEN


def test_open_refuses_with_remaining_time_then_half_open() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=30, clock=clock)
    fail(breaker, 1)
    clock.advance(10)
    with pytest.raises(CircuitOpenError) as caught:
        breaker.acquire()
    assert caught.value.retry_after == pytest.approx(20)
    clock.advance(20)
    assert breaker.state is CircuitState.HALF_OPEN


@pytest.mark.parametrize(
    ("probe_outcome", "after"),
    [(S, CircuitState.CLOSED), (F, CircuitState.OPEN), (N, CircuitState.HALF_OPEN)],
)
def test_probe_outcome(probe_outcome: Outcome, after: CircuitState) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    fail(breaker, 1)
    clock.advance(5)
    probe = breaker.acquire()
    assert probe is True
    with pytest.raises(CircuitOpenError):  # one probe at a time
        breaker.acquire()
    breaker.record(probe, probe_outcome)
    assert breaker.state is after
    if after is CircuitState.OPEN:  # the timer restarted at the failed probe
        clock.advance(4.9)
        with pytest.raises(CircuitOpenError):
            breaker.acquire()
        clock.advance(0.1)
        assert breaker.acquire() is True
    if after is CircuitState.HALF_OPEN:  # the slot is free for the next probe
        assert breaker.acquire() is True


def test_late_outcomes_of_closed_requests_are_ignored() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    early = breaker.acquire()  # sent while closed, answers late
    fail(breaker, 1)
    breaker.record(early, S)
    assert breaker.state is CircuitState.OPEN


def test_reset_closes() -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=FakeClock())
    fail(breaker, 1)
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED and breaker.acquire() is False


def test_only_one_probe_among_threads() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=1, clock=clock)
    fail(breaker, 1)
    clock.advance(1)
    probes, refused = [], []
    barrier = threading.Barrier(8)

    def try_once() -> None:
        barrier.wait()
        try:
            probes.append(breaker.acquire())
        except CircuitOpenError:
            refused.append(1)

    threads = [threading.Thread(target=try_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert probes == [True] and len(refused) == 7


@pytest.mark.parametrize("kwargs", [{"failure_threshold": 0}, {"recovery_timeout": -1}])
def test_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(**kwargs)
