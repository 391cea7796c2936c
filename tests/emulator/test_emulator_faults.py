"""Fault injection, each kind observed from a client over real HTTP, plus the admin endpoints."""

from __future__ import annotations

import time

import httpx
import pytest
from emulator_support import make_report, post_wsjf

from pywats_emulator.faults import FaultConfig, FaultInjector
from pywats_emulator.testing import running_emulator


@pytest.fixture(scope="module")
def faulty():
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(faulty):
    """This module's emulator, emptied and with every fault off before each test."""
    faulty.reset()
    yield faulty
    faulty.clear_faults()


@pytest.fixture
def client(emulator):
    with emulator.client(timeout=10) as client:
        yield client


def stored(client, report_id: str) -> dict | None:
    response = client.get("/api/Report/Query/Header", params={"$filter": f"uuid eq {report_id}"})
    assert response.status_code == 200, response.text
    rows = response.json()
    return rows[0] if rows else None


def test_latency_delays_every_api_request(emulator, client) -> None:
    emulator.set_faults(latency_ms=250)
    started = time.monotonic()
    assert client.get("/api/App/Version").status_code == 200
    assert time.monotonic() - started >= 0.24  # a lower bound: the delay is a sleep
    assert emulator.stats()["faults_injected"]["latency"] == 1
    started = time.monotonic()
    assert client.get("/_emulator/stats").status_code == 200  # admin and pages are never delayed
    assert emulator.stats()["faults_injected"]["latency"] == 1


def test_error_rate_answers_503_with_retry_after_and_stores_nothing(emulator, client) -> None:
    emulator.set_faults(error_rate=1.0, retry_after_s=7)
    report = make_report()
    response = post_wsjf(client, report)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert "emulated" in response.json()["Message"]
    emulator.clear_faults()
    assert stored(client, report["id"]) is None
    assert emulator.stats()["faults_injected"]["error"] == 1


def test_error_status_and_no_retry_after(emulator, client) -> None:
    emulator.set_faults(error_rate=1.0, error_status=429, retry_after_s=None)
    response = client.get("/api/App/Version")
    assert response.status_code == 429 and "retry-after" not in response.headers


def test_outage_fails_every_api_request_but_not_admin_or_pages(emulator, client) -> None:
    emulator.set_faults(outage=True)
    for path in ("/api/App/Version", "/api/Report/Query/Header", "/api/no/such/path"):
        response = client.get(path)
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert client.get("/_emulator/stats").status_code == 200
    assert httpx.get(emulator.url + "/").status_code == 200
    emulator.set_faults(outage=False)
    assert client.get("/api/App/Version").status_code == 200


def test_drop_stores_the_report_then_cuts_the_connection(emulator, client) -> None:
    emulator.set_faults(drop_rate=1.0)
    report = make_report()
    with pytest.raises(httpx.RemoteProtocolError):
        post_wsjf(client, report)
    emulator.clear_faults()
    row = stored(client, report["id"])
    assert row is not None and row["receiveCount"] == 1  # the server did commit it
    assert post_wsjf(client, report).status_code == 200  # the client's retry overwrites...
    assert stored(client, report["id"])["receiveCount"] == 2  # ...and never duplicates
    assert emulator.stats()["reports_stored"] == 1


def test_hang_holds_the_request_and_the_client_times_out(emulator) -> None:
    emulator.set_faults(hang_rate=1.0, hang_s=30)
    report = make_report()
    with emulator.client(timeout=httpx.Timeout(10, read=0.5)) as impatient:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            post_wsjf(impatient, report)
        assert time.monotonic() - started < 10
    emulator.clear_faults()
    # Like a slow real server, the emulator still handles the request once the client has gone.
    with emulator.client(timeout=10) as client:
        deadline = time.monotonic() + 10
        while stored(client, report["id"]) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stored(client, report["id"]) is not None
    assert emulator.stats()["faults_injected"]["hang"] == 1


def test_a_short_hang_answers_late_but_normally(emulator, client) -> None:
    emulator.set_faults(hang_rate=1.0, hang_s=0.3)
    started = time.monotonic()
    assert post_wsjf(client, make_report()).status_code == 200
    assert time.monotonic() - started >= 0.29


def _statuses(client, count: int) -> list[int]:
    return [client.get("/api/App/Version").status_code for _ in range(count)]


def test_seeded_faults_repeat(emulator, client) -> None:
    emulator.set_faults(error_rate=0.5, seed=42)
    first = _statuses(client, 24)
    emulator.set_faults(seed=42)  # giving the seed again restarts the sequence
    assert _statuses(client, 24) == first
    assert {200, 503} == set(first)


def test_injector_plans_are_deterministic_with_a_seed() -> None:
    config = FaultConfig(error_rate=0.3, drop_rate=0.3, hang_rate=0.3, hang_s=1, seed=7)
    plans = [FaultInjector(config) for _ in range(2)]
    assert [plans[0].plan() for _ in range(50)] == [plans[1].plan() for _ in range(50)]
    counts = plans[0].counts()
    assert counts["error"] > 0 and counts["drop"] > 0 and counts["hang"] > 0


@pytest.mark.parametrize(
    "bad",
    [{"error_rate": 1.5}, {"drop_rate": -0.1}, {"latency_ms": -1}, {"error_status": 404}, {"retry_after_s": 1.5},
     {"outage": "yes"}, {"seed": "x"}, {"nonsense": 1}],
)  # fmt: skip
def test_bad_fault_settings_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        FaultConfig().replace(**bad)


# -- admin endpoints ----------------------------------------------------------------------------------


def test_admin_faults_endpoint(emulator, client) -> None:
    assert client.get("/_emulator/faults").json() == FaultConfig().to_dict()
    changed = client.put("/_emulator/faults", json={"error_rate": 0.25, "latency_ms": 5})
    assert changed.status_code == 200
    assert changed.json()["error_rate"] == 0.25 and changed.json()["latency_ms"] == 5
    assert emulator.state.faults.config.error_rate == 0.25
    partial = client.put("/_emulator/faults", json={"outage": False}).json()
    assert partial["error_rate"] == 0.25  # settings not given stay
    replaced = client.put("/_emulator/faults", params={"replace": "true"}, json={"drop_rate": 0.5}).json()
    assert replaced["error_rate"] == 0 and replaced["drop_rate"] == 0.5
    for bad in ({"error_rate": 2}, {"unknown": 1}):
        response = client.put("/_emulator/faults", json=bad)
        assert response.status_code == 400 and response.json()["Message"]


def test_admin_stats_and_reset(emulator, client) -> None:
    assert post_wsjf(client, make_report()).status_code == 200
    assert post_wsjf(client, make_report(processCode=999)).status_code == 400
    stats = client.get("/_emulator/stats").json()
    assert stats["reports_stored"] == 1 and stats["reports_received"] == 1 and stats["reports_rejected"] == 1
    assert stats["requests"] == 2 and stats["responses"] == {"200": 1, "400": 1}
    emulator.set_faults(error_rate=0.5)
    reset = client.post("/_emulator/reset", params={"faults": "true"}).json()
    assert reset["reports_deleted"] == 1 and reset["faults"]["error_rate"] == 0
    assert client.get("/_emulator/stats").json()["reports_stored"] == 0


def test_faults_given_at_start(tmp_path) -> None:
    with running_emulator(outage=True, retry_after_s=3, db_path=tmp_path / "faulty.db") as emulator:
        response = httpx.get(f"{emulator.url}/api/App/Version", headers=emulator.headers)
        assert response.status_code == 503 and response.headers["retry-after"] == "3"
        assert emulator.db_path == tmp_path / "faulty.db"
