"""``pywats-client converters`` (add, list, remove, enable, disable, test) and ``convert``.

Real files in a tmp_path ``PYWATS_HOME``; WSJF inputs made with ``synthetic_report``. Nothing here talks to a
server: these commands must not touch the queue or move a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pywats.formats import wsjf
from pywats.synthetic import synthetic_report
from pywats_client.cli import app

TOKEN = "conv-T0KEN-never-shown"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path / "home"))
    for name in list(os.environ):
        if name.upper().startswith("PYWATS_") and name.upper() not in ("PYWATS_HOME", "PYWATS_SAMPLES"):
            monkeypatch.delenv(name)
    cli("config", "init", "--server-url", "https://acme.wats.example", "--token", TOKEN, "--station-name", "ICT-09")
    return tmp_path / "home"


def cli(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    return result


def saved(home: Path) -> dict:
    return json.loads((home / "instances" / "default" / "config.json").read_text())


def report_file(folder: Path, sn: str, **options) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sn}.json"
    path.write_text(wsjf.dumps(synthetic_report(20, sn=sn, **options)))
    return path


def test_add_list_disable_enable_remove(home: Path, tmp_path: Path) -> None:
    watch = tmp_path / "in"
    added = cli("converters", "add", "line1", "--converter", "wsjf", "--watch", str(watch), "--done",
                str(tmp_path / "ok"), "--error", str(tmp_path / "bad"), "--pattern", "*.json", "--pattern", "*.wsjf",
                "--recursive", "--post-action", "zip", "--arg", "lengths=truncate")  # fmt: skip
    assert "added converter line1 (wsjf 1.0)" in added.stderr
    entry = saved(home)["converters"][0]
    assert entry["converter"] == "wsjf" and entry["watch"] == str(watch) and entry["done"] == str(tmp_path / "ok")
    assert entry["patterns"] == ["*.json", "*.wsjf"] and entry["recursive"] is True
    assert entry["post_action"] == "zip" and entry["arguments"] == {"lengths": "truncate"}
    cli("converters", "add", "line2", "--converter", "auto", "--disabled")

    listed = json.loads(cli("converters", "list", "--json").stdout)
    assert listed["version"] == "1"
    assert [(c["name"], c["enabled"]) for c in listed["converters"]] == [("line1", True), ("line2", False)]
    # an entry without folders gets the instance's own
    assert listed["converters"][1]["watch"] == str(home / "instances" / "default" / "watch" / "line2")
    table = cli("converters", "list").stdout
    assert "line1" in table and str(watch) in table

    cli("converters", "disable", "line1")
    assert saved(home)["converters"][0]["enabled"] is False
    cli("converters", "enable", "line2")
    assert saved(home)["converters"][1]["enabled"] is True
    cli("converters", "remove", "line1")
    assert [c["name"] for c in saved(home)["converters"]] == ["line2"]
    missing = cli("converters", "remove", "line1", code=1)
    assert "no converter named 'line1'" in missing.stderr and "line2" in missing.stderr
    assert "no converter named 'zz'" in cli("converters", "enable", "zz", code=1).stderr


def test_add_refuses_what_would_not_run_and_saves_nothing(home: Path, tmp_path: Path) -> None:
    before = saved(home)
    unknown = cli("converters", "add", "x", "--converter", "no-such-format", "--watch", str(tmp_path), code=1)
    assert "no converter named 'no-such-format'" in unknown.stderr and "built-in converters are" in unknown.stderr
    bad_arg = cli("converters", "add", "x", "--converter", "wsjf", "--arg", "lengths=sometimes", code=1)
    assert "lengths" in bad_arg.stderr
    stray = cli("converters", "add", "x", "--converter", "wsjf", "--arg", "colour=red", code=1)
    assert "colour" in stray.stderr
    not_pair = cli("converters", "add", "x", "--converter", "wsjf", "--arg", "novalue", code=2)
    assert "key=value" in not_pair.stderr
    bad_name = cli("converters", "add", "no spaces", "--converter", "wsjf", code=1)
    assert "converters[0].name" in bad_name.stderr
    missing_file = cli("converters", "add", "x", "--converter", str(tmp_path / "mine.py") + "::Mine", code=1)
    assert "does not exist" in missing_file.stderr
    assert saved(home) == before
    cli("converters", "add", "x", "--converter", "wsjf")
    twice = cli("converters", "add", "x", "--converter", "wsxf", code=1)
    assert "already configured" in twice.stderr


def test_add_a_plugin_file_given_relative_to_the_current_folder(home: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    plugin = tmp_path / "work" / "my_conv.py"
    plugin.parent.mkdir()
    plugin.write_text(
        "from pywats_client.converters import FileConverter\n"
        "class Mine(FileConverter):\n    name = 'mine'\n    version = '2.1'\n    patterns = ('*.mine',)\n"
    )
    monkeypatch.chdir(plugin.parent)
    cli("converters", "add", "m", "--converter", "my_conv.py::Mine")
    assert saved(home)["converters"][0]["converter"] == f"{plugin}::Mine"  # the service reads it from anywhere


def test_available_lists_builtins_with_their_argument_schema(home: Path) -> None:
    data = json.loads(cli("converters", "list", "--available", "--json").stdout)
    by_name = {c["name"]: c for c in data["converters"]}
    assert {"auto", "wsjf", "wsxf", "wstf"} <= set(by_name)
    assert by_name["wsjf"]["version"] and "*.json" in by_name["wsjf"]["patterns"]
    assert "lengths" in by_name["wsjf"]["arguments"]["properties"]
    assert "wsjf" in cli("converters", "list", "--available").stdout


def test_test_summarises_without_queueing_or_moving(home: Path, tmp_path: Path) -> None:
    path = report_file(tmp_path / "files", "TEST-1")
    before = path.read_bytes()
    report = synthetic_report(20, sn="TEST-1")
    shown = cli("converters", "test", str(path))
    assert "converter wsjf 1.0 (chosen by auto)" in shown.stdout
    assert str(report.id) in shown.stdout and "TEST-1" in shown.stdout and "PCBA-100" in shown.stdout

    data = json.loads(cli("converters", "test", str(path), "--converter", "wsjf", "--json", "--wsjf").stdout)
    assert data["converter"] == {"name": "wsjf", "version": "1.0", "chosen_by_auto": False}
    (row,) = data["reports"]
    assert row["id"] == str(report.id) and row["sn"] == "TEST-1" and row["rev"] == "A"
    assert row["process_code"] == 10 and row["steps"] == 20 and row["result"] == report.result.value
    assert row["wsjf"]["sn"] == "TEST-1"

    with_wsjf = cli("converters", "test", str(path), "--wsjf").stdout
    assert '"sn": "TEST-1"' in with_wsjf
    assert path.read_bytes() == before
    assert not (home / "instances" / "default" / "queue.db").exists()


def test_test_with_a_configured_entry_and_a_file_it_cannot_read(home: Path, tmp_path: Path) -> None:
    cli("converters", "add", "xml", "--converter", "wsxf")
    path = report_file(tmp_path, "TEST-2")
    refused = cli("converters", "test", str(path), "--entry", "xml", code=1)
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert "no converter named 'nope'" in cli("converters", "test", str(path), "--entry", "nope", code=1).stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not a report")
    assert "no converter recognises this file" in cli("converters", "test", str(garbage), code=1).stderr
    assert cli("converters", "test", str(tmp_path / "absent.json"), code=2).exit_code == 2


def test_convert_prints_wsjf_with_the_station_filled_and_leaves_the_file(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bare.json"
    report = synthetic_report(20, sn="CONV-1").model_copy(update={"machine_name": ""})
    path.write_text(wsjf.dumps(report))
    before = path.read_bytes()
    result = cli("convert", str(path))
    printed = json.loads(result.stdout)
    assert printed["id"] == str(report.id) and printed["sn"] == "CONV-1"
    assert printed["machineName"] == "ICT-09"  # empty station fields come from the configuration, as in intake
    assert wsjf.loads(result.stdout).sn == "CONV-1"
    assert path.read_bytes() == before
    assert not (home / "instances" / "default" / "queue.db").exists()


def test_convert_several_reports_and_out_folder(home: Path, tmp_path: Path) -> None:
    from pywats.formats import wsxf

    reports = [synthetic_report(20, sn=f"MULTI-{n}") for n in range(3)]
    path = tmp_path / "batch.xml"
    path.write_text(wsxf.dumps_all(reports))
    printed = json.loads(cli("convert", str(path)).stdout)
    assert [item["sn"] for item in printed] == ["MULTI-0", "MULTI-1", "MULTI-2"]

    out = tmp_path / "out"
    written = cli("convert", str(path), "--converter", "wsxf", "--out", str(out)).stdout.split()
    assert sorted(written) == sorted(str(out / f"{r.id}.json") for r in reports)
    assert wsjf.loads((out / f"{reports[1].id}.json").read_text()).sn == "MULTI-1"


def test_convert_errors_are_one_line(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "T", "sn": ')
    result = cli("convert", str(broken), "--converter", "wsjf", code=1)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and result.stdout == ""
