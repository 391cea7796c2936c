"""The control API, health and metrics of a real running service, over its real Unix socket and port."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))
from station_support import Station, report_text, stored_count, wait_until  # noqa: E402

from pywats_client.control.client import AsyncControlClient, ControlClient, discover  # noqa: E402
from pywats_client.control.protocol import PROTOCOL_HEADER, ControlError, read_endpoint, read_token  # noqa: E402

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the Unix-socket transport is tested on POSIX")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def line(home: Path, fresh_emulator):
    station = Station(home, "line1", fresh_emulator, control_rate_per_minute=100_000, control_burst=1000)
    station.start()
    yield station
    station.stop()


def raw(station: Station, token: str | None = "auto") -> httpx.Client:
    endpoint = read_endpoint(station.paths)
    assert endpoint is not None
    headers = {}
    if token == "auto":
        token = read_token(station.paths)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(transport=httpx.HTTPTransport(uds=endpoint["socket"]), base_url="http://control",
                        headers=headers, timeout=10)  # fmt: skip


def test_socket_and_token_are_owner_only(line) -> None:
    endpoint = read_endpoint(line.paths)
    mode = stat.S_IMODE(os.stat(endpoint["socket"]).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(line.paths.root / "control.token").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(Path(endpoint["socket"]).parent).st_mode) & 0o077 == 0


def test_requests_without_or_with_a_wrong_token_get_401(line) -> None:
    with raw(line, token=None) as client:
        answer = client.get("/status")
        assert answer.status_code == 401 and answer.headers[PROTOCOL_HEADER] == "1.0"
    with raw(line, token="x" * 43) as client:
        assert client.get("/status").status_code == 401
    with raw(line) as client:
        assert client.get("/status").status_code == 200  # unharmed


def test_malformed_and_oversized_requests_are_refused(line) -> None:
    with raw(line) as client:
        assert client.patch("/config", content=b"{not json").status_code == 400
        assert client.patch("/config", json=[1, 2]).status_code == 400
        assert client.post("/queue/retry", json={"ids": "nope"}).status_code == 400
        assert client.get("/queue", params={"limit": "-1"}).status_code == 400
        assert client.get("/nowhere").status_code == 404
        assert client.delete("/status").status_code == 405
        assert client.post("/queue/drop", content=b"x" * (17 * 1024 * 1024)).status_code == 413
        assert client.post("/service/explode").status_code == 404
        assert client.get("/ping").json()["pong"] is True


def test_a_flooding_client_gets_429_and_the_service_is_unharmed(home, fresh_emulator) -> None:
    station = Station(home, "flood", fresh_emulator, control_rate_per_minute=60, control_burst=5)
    station.start()
    try:
        with raw(station) as client:
            codes = [client.get("/ping").status_code for _ in range(12)]
            assert codes[:5] == [200] * 5 and 429 in codes
            limited = next(client.get("/ping") for _ in range(3))
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        time.sleep(1.1)
        with raw(station) as client:
            assert client.get("/ping").status_code == 200
        station.drop("after.json", report_text("SN-FLOOD"))
        station.wait_done(1)
    finally:
        station.stop()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]),
    path=st.sampled_from(["/hello", "/ping", "/status", "/config", "/service/pause", "/service/start", "/sync",
                          "/queue", "/queue/retry", "/queue/drop", "/queue/abc", "/converters/test",
                          "/converters/reload", "/logs", "/x"]) | st.text(max_size=30).map(lambda t: "/" + t),
    params=st.dictionaries(st.sampled_from(["state", "limit", "offset", "payload", "lines"]), st.text(max_size=12),
                           max_size=3),
    body=st.one_of(st.none(), st.binary(max_size=300), st.dictionaries(st.text(max_size=8), st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20), lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=8), max_size=4)),
)  # fmt: skip
def test_fuzzed_requests_never_crash_the_control_api(line, method, path, params, body) -> None:
    with raw(line) as client:
        content = json.dumps(body).encode() if isinstance(body, dict) else body
        try:
            answer = client.request(method, path, params=params, content=content)
        except httpx.InvalidURL:
            return
        assert answer.status_code < 500, (method, path, params, body, answer.text)
        assert answer.headers.get(PROTOCOL_HEADER) == "1.0"
        if path in ("/service/pause",) and answer.status_code == 200:
            client.post("/service/resume")
    with raw(line) as client:
        assert client.get("/ping").status_code == 200
        client.post("/service/resume")


def test_the_python_client_drives_the_service(line, fresh_emulator, home) -> None:
    with ControlClient(line.paths) as control:
        hello = control.hello()
        assert hello["protocol"] == "1.0" and "queue.retry" in hello["capabilities"]
        control.pause()
        assert control.status()["state"] == "PAUSED"
        line.drop("a.json", report_text("SN-CTRL-1"))
        time.sleep(1.2)
        assert stored_count(fresh_emulator) == 0
        control.resume()
        line.wait_done(1)
        config = control.set_config({"station.location": "Hall 7"})
        assert config["station"]["location"] == "Hall 7" and config["api_token"] == "********"
        assert line.file_config()["station"]["location"] == "Hall 7"
        with pytest.raises(ControlError, match="upload_concurrency"):
            control.set_config({"upload_concurrency": 0})
        rows = control.queue_list("done")["items"]
        assert len(rows) == 1 and rows[0]["serial_number"] == "SN-CTRL-1"
        shown = control.queue_show(rows[0]["id"])
        assert shown["state"] == "done"
        with pytest.raises(ControlError) as missing:
            control.queue_show("00000000-0000-0000-0000-000000000000")
        assert missing.value.status == 404
        sample = home / "sample.json"
        sample.write_text(report_text("SN-TEST-ONLY"), encoding="utf-8")
        tested = control.converter_test(sample)
        assert tested["converter"] == "wsjf" and tested["reports"][0]["sn"] == "SN-TEST-ONLY"
        assert control.queue_list()["counts"]["pending"] == 0  # converter test queues nothing
        assert any("queued" in text for text in control.logs(50)["lines"])
        assert control.reload_converters()["reloaded"] == ["main"]


def test_a_rejected_report_is_retried_through_the_control_api(line, fresh_emulator) -> None:
    from pywats.processes import DEFAULT_PROCESSES, ProcessInfo

    line.drop("r.json", report_text("SN-CTRL-R", process_code=888))
    wait_until(lambda: line.counts()["failed"] == 1, what="the rejection")
    fresh_emulator.state.storage.set_processes((*DEFAULT_PROCESSES, ProcessInfo(888, "New")))
    with ControlClient(line.paths) as control:
        assert control.queue_retry(all=True)["retried"] == 1
    line.wait_done(1)


def test_the_event_stream_tells_what_happens(line) -> None:
    import asyncio

    async def watch() -> list[str]:
        kinds: list[str] = []
        async with AsyncControlClient(line.paths) as control:
            async for event in control.events():
                kinds.append(event["kind"])
                if event["kind"] == "uploaded":
                    return kinds
        return kinds

    async def main() -> list[str]:
        task = asyncio.create_task(watch())
        await asyncio.sleep(0.3)
        line.drop("e.json", report_text("SN-EVENTS"))
        return await asyncio.wait_for(task, 30)

    kinds = asyncio.run(main())
    assert {"picked_up", "converted", "uploaded"} <= set(kinds)


def test_discovery_lists_running_instances(line) -> None:
    found = {info["instance"]: info for info in discover()}
    assert found["line1"]["running"] and found["line1"]["state"] == "RUNNING"
    assert found["line1"]["health_url"].startswith("http://127.0.0.1:")


def test_a_client_refuses_another_major_protocol_version(line, monkeypatch) -> None:
    from pywats_client.control import client as client_module

    monkeypatch.setattr(client_module, "compatible", lambda version: False)
    with ControlClient(line.paths) as control, pytest.raises(ControlError, match="control protocol 1.0"):
        control.ping()


def test_stop_and_restart_through_the_control_api(line) -> None:
    with ControlClient(line.paths) as control:
        pid_before = control.hello()["pid"]
        started = control.status()["started_at"]
        control.restart()
    wait_until(lambda: _started_at(line) not in (None, started), what="the restarted service")
    with ControlClient(line.paths) as control:
        assert control.hello()["pid"] == pid_before
        control.stop()
    wait_until(lambda: line.service.service.state.value == "STOPPED", what="the stop")


def _started_at(station: Station) -> float | None:
    try:
        with ControlClient(station.paths, timeout=2) as control:
            status = control.status()
    except ControlError:
        return None
    return status["started_at"] if status["state"] == "RUNNING" else None


def test_converter_test_refuses_what_it_must_not_read(line, home) -> None:
    with raw(line) as client:
        assert client.post("/converters/test", json={"path": str(home / "missing.json")}).status_code == 404
        started = time.monotonic()
        whole = client.post("/converters/test", json={"path": "/", "converter": "klippel"})
        assert whole.status_code == 422 and "more than" in whole.json()["error"]
        assert time.monotonic() - started < 10  # stopped at the limit, not after walking the disk
        big = home / "big.json"
        with open(big, "wb") as handle:
            handle.truncate(17 * 1024 * 1024)
        assert client.post("/converters/test", json={"path": str(big)}).status_code == 413
        assert client.post("/converters/test", json={"content_b64": "%%%", "name": "x"}).status_code == 400
        assert client.get("/ping").status_code == 200
