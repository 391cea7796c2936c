"""Health, readiness, details and Prometheus metrics of a real service, and secrets kept out of everything."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))
from station_support import Station, report_text, wait_until  # noqa: E402

from pywats_client.cli import app  # noqa: E402
from pywats_client.control.client import ControlClient  # noqa: E402


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def station(home: Path, fresh_emulator):
    made: list[Station] = []

    def make(name: str = "line1", **config) -> Station:
        made.append(Station(home, name, fresh_emulator, control_rate_per_minute=100_000, control_burst=1000, **config))
        made[-1].start()
        return made[-1]

    yield make
    for one in made:
        one.stop()


def health_url(station: Station) -> str:
    url = station.status()["health_url"]
    assert url and url.startswith("http://127.0.0.1:")
    return url


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_liveness_and_readiness_when_all_is_well(station) -> None:
    line = station()
    url = health_url(line)
    assert httpx.get(f"{url}/health").json()["status"] == "alive"
    wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="ready")
    assert httpx.get(f"{url}/health/details").json()["status"] == "ok"


def test_ready_and_details_flip_when_the_server_goes_down_and_comes_back(station, fresh_emulator) -> None:
    line = station()
    url = health_url(line)
    wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="ready")
    fresh_emulator.set_faults(outage=True, retry_after_s=None)
    wait_until(lambda: httpx.get(f"{url}/ready").status_code == 503, what="not ready")
    answer = httpx.get(f"{url}/ready").json()
    assert answer["checks"]["server_reachable"] is False and answer["checks"]["queue_writable"] is True
    details = httpx.get(f"{url}/health/details").json()
    assert details["status"] == "degraded" and "server offline" in details["reasons"]
    fresh_emulator.clear_faults()
    wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="ready again")


def test_ready_flips_when_the_disk_reserve_is_crossed(station) -> None:
    line = station()
    url = health_url(line)
    wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="ready")
    with ControlClient(line.paths) as control:
        control.set_config({"disk_reserve_mb": 1e12})  # more than any disk has free
    wait_until(lambda: httpx.get(f"{url}/ready").status_code == 503, what="not ready")
    assert httpx.get(f"{url}/ready").json()["checks"]["disk_above_reserve"] is False
    assert any("below the reserve" in reason for reason in httpx.get(f"{url}/health/details").json()["reasons"])
    line.drop("waits.json", report_text("SN-DISK"))
    with ControlClient(line.paths) as control:
        control.set_config({"disk_reserve_mb": 0})
    wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="ready again")
    line.wait_done(1)  # the file waited in the watch folder and goes now


def test_details_degrade_when_the_queue_ages(station, fresh_emulator) -> None:
    fresh_emulator.set_faults(outage=True, retry_after_s=None)
    line = station(health_queue_age_s=1.0)
    url = health_url(line)
    line.drop("old.json", report_text("SN-AGE"))
    wait_until(lambda: any("has waited" in reason for reason in httpx.get(f"{url}/health/details").json()["reasons"]),
               what="the queue-age reason")  # fmt: skip
    fresh_emulator.clear_faults()
    line.wait_done(1)
    wait_until(lambda: not any("has waited" in r for r in httpx.get(f"{url}/health/details").json()["reasons"]),
               what="the reason gone")  # fmt: skip


def test_every_metric_moves_when_its_event_happens(station, fresh_emulator) -> None:
    line = station()
    url = health_url(line)
    before = samples(url)
    assert value(before, "pywats_service_state", state="RUNNING") == 1
    assert value(before, "pywats_circuit_state", state="closed") == 1
    assert value(before, "pywats_disk_free_bytes") > 0
    wait_until(lambda: value(samples(url), "pywats_server_online") == 1, what="online")

    line.drop("ok.json", report_text("SN-M1"))
    line.drop("bad.json", "not a report")
    line.wait_done(1)
    wait_until(lambda: value(samples(url), "pywats_conversions_total", converter="main", result="failed") == 1,
               what="the failed conversion counted")  # fmt: skip
    after = samples(url)
    assert value(after, "pywats_conversions_total", converter="main", result="ok") == 1
    assert value(after, "pywats_conversion_seconds_count", converter="main") == 1
    assert value(after, "pywats_uploads_total", result="accepted") == 1
    assert value(after, "pywats_upload_seconds_count") == 1
    assert value(after, "pywats_queue_reports", state="done") == 1

    line.drop("rejected.json", report_text("SN-M2", process_code=9999))
    wait_until(lambda: value(samples(url), "pywats_uploads_total", result="rejected") == 1, what="rejected")
    assert value(samples(url), "pywats_queue_reports", state="failed") == 1

    fresh_emulator.set_faults(outage=True, retry_after_s=None)
    line.drop("retried.json", report_text("SN-M3"))
    wait_until(lambda: value(samples(url), "pywats_uploads_total", result="retried") >= 1, what="retried")
    wait_until(lambda: value(samples(url), "pywats_server_online") == 0, what="offline")
    wait_until(lambda: value(samples(url), "pywats_circuit_state", state="closed") == 0, what="breaker opens")
    found = samples(url)
    assert value(found, "pywats_queue_reports", state="pending") + value(found, "pywats_queue_reports",
                                                                          state="uploading") == 1  # fmt: skip
    assert value(found, "pywats_queue_oldest_pending_seconds") > 0
    fresh_emulator.clear_faults()
    line.wait_done(2)

    with ControlClient(line.paths) as control:
        control.pause()
    assert value(samples(url), "pywats_service_state", state="PAUSED") == 1
    with ControlClient(line.paths) as control:
        control.resume()


def test_held_uploads_and_task_restarts_are_counted(station, fresh_emulator) -> None:
    line = station(api_token="wrong-token-value")
    url = health_url(line)
    line.drop("held.json", report_text("SN-M4"))
    wait_until(lambda: value(samples(url), "pywats_uploads_total", result="held") >= 1, what="held")
    service = line.service.service

    async def boom() -> None:
        raise RuntimeError("a task that dies")

    restarts = {"n": 0}

    async def dies_once() -> None:
        restarts["n"] += 1
        if restarts["n"] == 1:
            await boom()

    line.service.call(_start(service, dies_once))
    wait_until(lambda: value(samples(url), "pywats_task_restarts_total", task="test-task") == 1, what="restart")
    details = httpx.get(f"{url}/health/details").json()
    assert any("test-task" in reason for reason in details["reasons"])
    assert any("queue held" in reason for reason in details["reasons"])


async def _start(service, factory) -> None:
    service._supervisor.start("test-task", factory)


def test_the_token_appears_in_no_response_log_or_cli_output(station, fresh_emulator, home) -> None:
    from typer.testing import CliRunner

    line = station()
    token = fresh_emulator.token
    line.drop("s.json", report_text("SN-SECRET"))
    line.wait_done(1)
    seen: list[str] = []
    with ControlClient(line.paths) as control:
        seen += [json.dumps(control.status()), json.dumps(control.get_config()), json.dumps(control.hello()),
                 json.dumps(control.queue_list()), json.dumps(control.logs(500))]  # fmt: skip
    url = health_url(line)
    for path in ("/health", "/ready", "/health/details", "/metrics"):
        seen.append(httpx.get(f"{url}{path}").text)
    runner = CliRunner()
    for args in (["status", "--json"], ["status"], ["config", "show"], ["config", "show", "--json"],
                 ["config", "get", "api_token"], ["queue", "list", "--json"], ["diagnose", "--json"], ["diagnose"]):
        result = runner.invoke(app, ["--instance", "line1", *args])
        seen.append(result.stdout + (result.stderr if result.stderr_bytes is not None else ""))
    seen.append((line.paths.log_dir / "service.log").read_text(encoding="utf-8"))
    seen.append(line.paths.config_file.read_text(encoding="utf-8"))  # sealed, not in clear
    for text in seen:
        assert token not in text
