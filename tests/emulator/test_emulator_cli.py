"""The command line and the configuration it builds: processes, tokens, faults; a real ``serve`` run."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from emulator_support import make_report, post_wsjf

from pywats.processes import DEFAULT_PROCESSES
from pywats_emulator import DEFAULT_TOKEN, EmulatorConfig
from pywats_emulator.cli import build_parser, config_from_args
from pywats_emulator.config import load_processes_file, make_process, merge_processes, parse_process_spec
from pywats_emulator.testing import running_emulator


def config_of(*argv: str) -> EmulatorConfig:
    return config_from_args(build_parser().parse_args(["serve", *argv]))


def test_defaults() -> None:
    config = config_of()
    assert config.tokens == [DEFAULT_TOKEN]
    assert config.processes == tuple(sorted(DEFAULT_PROCESSES, key=lambda p: p.code))
    assert config.faults.to_dict() == EmulatorConfig().faults.to_dict()
    assert config.db_path is None


def test_flags_become_configuration(tmp_path) -> None:
    config = config_of(
        "--db", str(tmp_path / "r.db"), "--token", "T1", "--token", "T2", "--process", "700:Calibration",
        "--process", "510:Rework:repair", "--process", "10:Debug: Stage 2:wip", "--latency-ms", "20",
        "--error-rate", "0.1", "--error-status", "502", "--retry-after", "-1", "--drop-rate", "0.2",
        "--hang-rate", "0.3", "--hang-seconds", "4", "--outage", "--seed", "9",
    )  # fmt: skip
    assert config.tokens == ["T1", "T2"] and str(config.db_path).endswith("r.db")
    by_code = {process.code: process for process in config.processes}
    assert by_code[700].name == "Calibration" and by_code[700].is_test_operation
    assert by_code[510].is_repair_operation and not by_code[510].is_test_operation
    assert by_code[10].name == "Debug: Stage 2" and by_code[10].is_wip_operation
    faults = config.faults
    assert (faults.latency_ms, faults.error_rate, faults.error_status, faults.retry_after_s) == (20, 0.1, 502, None)
    assert (faults.drop_rate, faults.hang_rate, faults.hang_s, faults.outage, faults.seed) == (0.2, 0.3, 4, True, 9)


@pytest.mark.parametrize("spec", ["abc", "12", "12:", "x:Name", "12: :wip"])
def test_bad_process_specs(spec) -> None:
    with pytest.raises(ValueError):
        parse_process_spec(spec)


def test_processes_file(tmp_path) -> None:
    path = tmp_path / "processes.json"
    path.write_text(json.dumps({"processes": [
        {"code": 700, "name": "Calibration"}, {"code": 510, "name": "Rework", "kind": "repair"},
        {"code": 20, "name": "ICT", "active": False},
        {"code": 800, "name": "Pack", "isTestOperation": False, "isWipOperation": True},
    ]}), encoding="utf-8")  # fmt: skip
    processes, inactive = load_processes_file(path)
    assert [p.code for p in processes] == [700, 510, 20, 800] and inactive == {20}
    merged = {p.code: p for p in merge_processes(DEFAULT_PROCESSES, processes)}
    assert merged[800].is_wip_operation and merged[510].is_repair_operation and merged[10].name == "SW Debug"
    path.write_text('[{"code": "x", "name": "n"}]', encoding="utf-8")
    with pytest.raises(ValueError, match=r"processes\[0\]: code"):
        load_processes_file(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_processes_file(path)


def test_extra_and_inactive_processes_on_a_server(tmp_path) -> None:
    path = tmp_path / "processes.json"
    path.write_text('[{"code": 20, "name": "ICT", "active": false}, {"code": 700, "name": "Calibration"}]')
    config = config_of("--processes-file", str(path))
    with running_emulator(config) as emulator, emulator.client() as client:
        codes = [p["code"] for p in client.get("/api/App/Processes").json()]
        assert 700 in codes and 20 not in codes
        everything = client.get("/api/App/Processes", params={"includeInactiveProcesses": "true"}).json()
        assert {"code": 20, "isActive": False}.items() <= next(p for p in everything if p["code"] == 20).items()
        assert post_wsjf(client, make_report(processCode=700, processName="Calibration")).status_code == 200
        refused = post_wsjf(client, make_report(processCode=20, processName="ICT"))
        assert refused.status_code == 400 and "inactive" in refused.json()["Message"]


def test_extra_processes_in_the_configuration() -> None:
    config = EmulatorConfig(extra_processes=("700:Calibration", make_process(10, "Debug", "test")))
    by_code = {process.code: process.name for process in config.processes}
    assert by_code[700] == "Calibration" and by_code[10] == "Debug" and by_code[500] == "Repair"


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(tokens=[])
    with pytest.raises(ValueError):
        EmulatorConfig(processes=DEFAULT_PROCESSES + DEFAULT_PROCESSES[:1])


def test_serve_prints_url_and_token_and_serves(tmp_path) -> None:
    db = tmp_path / "served.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "pywats_emulator", "serve", "--port", "0", "--db", str(db), "--token", "U2VydmVk",
         "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()
        token_line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in first, first + process.stderr.read()
        assert "U2VydmVk" in token_line
        url = first.split("listening on ")[1].strip()
        with httpx.Client(base_url=url, headers={"Authorization": "Basic U2VydmVk"}, timeout=10) as client:
            assert client.get("/api/App/Version").status_code == 200
            report = make_report()
            assert post_wsjf(client, report).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    with running_emulator(db_path=db) as again, again.client() as client:  # the file database persists
        assert client.get(f"/api/Report/Wsjf/{report['id']}").status_code == 200


def test_serve_refuses_a_bad_flag() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pywats_emulator", "serve", "--drop-rate", "3"], capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "--drop-rate" in result.stderr
