"""``status``, ``instances`` and ``diagnose`` against real files and the emulator (and with the server down).

A running service is stood in for by holding the instance lock in this process: ``status`` learns about a
service only from that lock (and the pid written in it).
"""

from __future__ import annotations

import json
import os
import socket
import time
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pywats.formats import wsjf
from pywats.synthetic import synthetic_report
from pywats_client.cli import app, diagnose_cmd
from pywats_client.lock import InstanceLock
from pywats_client.queue import NewReport, ReportQueue

SECRETS: set[str] = set()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path / "home"))
    for name in list(os.environ):
        if name.upper().startswith("PYWATS_") and name.upper() not in ("PYWATS_HOME", "PYWATS_SAMPLES"):
            monkeypatch.delenv(name)
    return tmp_path / "home"


def cli(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    for secret in SECRETS:
        assert secret not in result.stdout and secret not in result.stderr
    return result


def configure(url: str, token: str, instance: str = "default") -> None:
    SECRETS.add(token)
    cli("-i", instance, "config", "init", "--server-url", url, "--token", token, "--station-name", "ST-1", "--force")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def checks(result) -> dict[str, dict]:
    data = json.loads(result.stdout)
    assert data["version"] == "1"
    return {check["name"]: check for check in data["checks"]}


def test_status_of_a_stopped_and_a_running_instance(home: Path, tmp_path: Path) -> None:
    configure("https://acme.wats.example", "c3RhdHVzOnRva2Vu")
    cli("converters", "add", "line1", "--converter", "wsjf", "--watch", str(tmp_path / "in"))
    queue = ReportQueue(home / "instances" / "default" / "queue.db")
    report = synthetic_report(20, sn="ST-Q")
    queue.enqueue([NewReport(str(report.id), wsjf.dumps(report), serial_number="ST-Q")])
    queue.close()

    data = json.loads(cli("status", "--json").stdout)
    assert data["version"] == "1"
    assert (data["instance"], data["running"], data["pid"], data["state"]) == ("default", False, None, "STOPPED")
    assert data["server_url"] == "https://acme.wats.example"
    assert data["queue"]["pending"] == 1 and data["queue"]["oldest_pending_age_s"] >= 0
    expected = {"name": "line1", "converter": "wsjf", "enabled": True, "watch": str(tmp_path / "in")}
    assert data["converters"] == [expected]
    text = cli("status").stdout
    assert "not running" in text and "1 pending" in text and "line1: wsjf" in text

    with InstanceLock(home / "instances" / "default" / "service.lock"):
        data = json.loads(cli("status", "--json").stdout)
        assert data["running"] is True and data["pid"] == os.getpid() and data["state"] == "RUNNING"
        assert f"running (pid {os.getpid()}" in cli("status").stdout


def test_instances_lists_every_instance_and_its_service(home: Path) -> None:
    assert "no instances yet" in cli("instances").stderr
    configure("https://one.example", "b25lOm9uZQ==", "one")
    configure("https://two.example", "dHdvOnR3bw==", "two")
    with InstanceLock(home / "instances" / "two" / "service.lock"):
        rows = json.loads(cli("instances", "--json").stdout)["instances"]
        assert [(row["name"], row["running"], row["configured"]) for row in rows] == [("one", False, True),
                                                                                      ("two", True, True)]  # fmt: skip
        assert rows[1]["pid"] == os.getpid()
        text = cli("instances").stdout
        assert "stopped" in text and f"running (pid {os.getpid()})" in text


def test_diagnose_against_the_emulator(home: Path, tmp_path: Path, emulator) -> None:
    configure(emulator.url, emulator.token)
    cli("converters", "add", "line1", "--converter", "wsjf", "--watch", str(tmp_path / "in"))
    result = cli("diagnose", "--json")
    found = checks(result)
    assert json.loads(result.stdout)["ok"] is True
    assert found["configuration"]["status"] == "ok"
    assert found["server"]["status"] == "ok" and found["server"]["server_version"] and found["server"]["seconds"] < 10
    assert found["token"]["status"] == "ok" and "processes" in found["token"]["message"]
    assert found["clock"]["status"] == "ok" and abs(found["clock"]["skew_s"]) < 60
    assert found["converter line1"]["status"] == "ok"  # the folders do not exist yet, but can be made
    assert not (tmp_path / "in").exists()  # and diagnose did not make them
    assert found["disk"]["status"] == "ok"
    assert found["queue"]["status"] == "ok" and "no queue yet" in found["queue"]["message"]
    assert found["service"]["status"] == "warn"
    text = cli("diagnose").stdout
    assert text.splitlines()[0].startswith("ok") and "configuration" in text


def test_diagnose_with_the_server_down_fails(home: Path) -> None:
    configure(f"http://127.0.0.1:{closed_port()}", "ZG93bjpkb3du")
    result = cli("diagnose", code=1)
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("fail")]
    assert "server" in line and "cannot reach" in line
    found = checks(cli("diagnose", "--json", code=1))
    assert found["server"]["status"] == "fail" and found["token"]["status"] == "warn"


def test_diagnose_finds_a_refused_token_a_broken_converter_a_full_disk_and_a_damaged_queue(
    home: Path, tmp_path: Path, emulator
) -> None:
    configure(emulator.url, "bm90OnRoZSB0b2tlbg==")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cli("converters", "add", "good", "--converter", "wsjf", "--watch", str(tmp_path / "ok"))
    assert cli("converters", "add", "blocked", "--converter", "wsjf", "--watch", str(blocker), code=2).exit_code
    cli("converters", "add", "blocked", "--converter", "wsjf")
    cli("config", "set", "converters.1.watch", str(blocker))  # a file where the folder should be
    cli("converters", "add", "gone", "--converter", "wsjf")
    cli("converters", "add", "off", "--converter", "wsjf", "--disabled")
    cli("config", "set", "converters.2.converter", "no-such-converter")  # saved: only diagnose loads it
    cli("config", "set", "disk_reserve_mb", "1e12")
    queue_db = home / "instances" / "default" / "queue.db"
    queue_db.write_bytes(b"this is not a database" * 100)

    found = checks(cli("diagnose", "--json", code=1))
    assert found["server"]["status"] == "ok" and "HTTP 401" in found["server"]["message"]
    assert found["token"]["status"] == "fail" and "refused the API token" in found["token"]["message"]
    assert found["converter good"]["status"] == "ok"
    assert found["converter blocked"]["status"] == "fail" and "is not a folder" in found["converter blocked"]["message"]
    assert found["converter gone"]["status"] == "fail" and "no-such-converter" in found["converter gone"]["message"]
    assert found["converter off"] == {"name": "converter off", "status": "ok", "message": "disabled"}
    assert found["disk"]["status"] == "fail" and "below the reserve" in found["disk"]["message"]
    assert found["queue"]["status"] == "fail"


def test_diagnose_warns_about_clock_skew(home: Path, emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(emulator.url, emulator.token)
    ahead = types.SimpleNamespace(time=lambda: time.time() + 300, perf_counter=time.perf_counter)
    monkeypatch.setattr(diagnose_cmd, "time", ahead)  # this computer's clock five minutes fast
    found = checks(cli("diagnose", "--json"))
    assert found["clock"]["status"] == "warn" and "ahead of the server" in found["clock"]["message"]
    assert 290 < found["clock"]["skew_s"] < 310


def test_diagnose_without_configuration(home: Path) -> None:
    found = checks(cli("diagnose", "--json", code=1))
    assert found["configuration"]["status"] == "warn"
    assert found["server"]["status"] == "fail" and "server_url" in found["server"]["message"]


def test_service_refuses_an_invalid_configuration_in_one_line(home: Path) -> None:
    configure("https://acme.wats.example", "c2VydmljZTp0b2tlbg==")
    path = home / "instances" / "default" / "config.json"
    path.write_text(path.read_text().replace('"upload_concurrency": 5', '"upload_concurrency": 0'))
    result = cli("service", code=1)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "upload_concurrency" in result.stderr
    assert json.loads(cli("status", "--json").stdout)["running"] is False  # the lock was let go


def test_demo_runs(home: Path) -> None:
    pytest.importorskip("pywats_client.demo")
    result = cli("demo")
    assert "Demo finished" in result.stdout + result.stderr


def test_service_flags_override_the_file_for_one_run(home: Path, emulator) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from pywats_client import config as config_module
    from pywats_client.control.client import ControlClient, running
    from pywats_client.instance import InstancePaths

    paths = InstancePaths.of("flags")
    config_module.save({"server_url": "http://127.0.0.1:9", "api_token": emulator.token}, paths.config_file)
    process = subprocess.Popen(
        [sys.executable, "-m", "pywats_client", "--instance", "flags", "service", "--server-url", emulator.url,
         "--set", "upload_concurrency=7", "--set", "station.name=x"],
        env={**os.environ, "PYWATS_HOME": str(home)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0 and b"top-level key" in output  # a dotted key is refused
    process = subprocess.Popen(
        [sys.executable, "-m", "pywats_client", "--instance", "flags", "service", "--server-url", emulator.url,
         "--set", "upload_concurrency=7"],
        env={**os.environ, "PYWATS_HOME": str(home)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not running(paths):
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        with ControlClient(paths) as control:
            shown = control.get_config()
            assert shown["server_url"] == emulator.url and shown["upload_concurrency"] == 7
            deadline = time.monotonic() + 15
            while control.status()["server"]["online"] is not True:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert config_module.load_file(paths.config_file)["server_url"] == "http://127.0.0.1:9"  # nothing saved
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
