"""The example converter of ``docs/converters.md`` (``docs/examples/my_converter.py``) works as the guide says.

It is loaded the way a configuration names it (``path/to/my_converter.py::KVLogConverter``), converts a KV log
written here, and ``pywats-client convert`` prints its WSJF. The guide shows the file verbatim, and its pytest
example passes: both checked too.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pywats import Station
from pywats.formats import wsjf
from pywats_client.cli import app
from pywats_client.converters import (
    ConversionContext,
    ConversionError,
    SourceFile,
    convert_source,
    load_converter_class,
)
from pywats_client.converters.builtin.auto import AutoConverter

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "docs" / "examples" / "my_converter.py"
SPEC = f"{EXAMPLE}::KVLogConverter"
STATION = Station("ICT-07", "Line 2", "Production")
PLUS_TWO = timezone(timedelta(hours=2))

KV_LOG = """\
KVLOG 1
# one unit per file
serial=SN-1001
part=PSU-24V
revision=B
operator=anna
start=2024-06-05 08:30:00
Power/Output voltage=24.05 V [23.5, 24.5]
Power/Ripple=62 mV [, 50]
Identity/Firmware=2.0.7
Self test=PASS
"""


def write(folder: Path, text: str = KV_LOG, name: str = "SN-1001.kv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def convert(path: Path, **arguments):
    converter = load_converter_class(SPEC)(arguments)
    context = ConversionContext(station=STATION, timezone=PLUS_TWO)
    return convert_source(converter, SourceFile.read(path), context).reports


def test_the_example_converts_a_kv_log(tmp_path: Path) -> None:
    (report,) = convert(write(tmp_path), process_code=20)

    assert (report.sn, report.pn, report.rev, report.process_code) == ("SN-1001", "PSU-24V", "B", 20)
    assert report.uut.user == "anna"
    assert report.start == datetime(2024, 6, 5, 8, 30, tzinfo=PLUS_TWO)  # local time, in the context's zone
    assert (report.machine_name, report.location, report.purpose) == ("ICT-07", "Line 2", "Production")
    assert report.result.value == "F"  # the ripple is above its limit
    power, identity, self_test = report.root.steps
    assert power.name == "Power" and power.status.value == "F"
    voltage, ripple = power.steps
    assert (voltage.step_type, voltage.numeric_meas[0].comp_op.value, voltage.status.value) == ("ET_NLT", "GELE", "P")
    assert voltage.numeric_meas[0].unit == "V"
    assert (ripple.numeric_meas[0].comp_op.value, ripple.numeric_meas[0].low_limit) == ("LE", 50.0)
    assert ripple.status.value == "F"
    assert identity.steps[0].step_type == "ET_SVT" and identity.steps[0].string_meas[0].value == "2.0.7"
    assert self_test.step_type == "ET_PFT" and self_test.status.value == "P"


def test_ids_are_the_services_and_repeat(tmp_path: Path) -> None:
    path = write(tmp_path)
    assert convert(path)[0].id == convert(path)[0].id  # deterministic: converting again overwrites on the server
    other = write(tmp_path, KV_LOG.replace("SN-1001", "SN-1002"), "SN-1002.kv")
    assert convert(other)[0].id != convert(path)[0].id


def test_defaults_come_from_the_arguments(tmp_path: Path) -> None:
    (report,) = convert(write(tmp_path, KV_LOG.replace("revision=B\n", "")))
    assert (report.rev, report.process_code) == ("1", 10)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (KV_LOG.replace("KVLOG 1", "KVLOG 2"), {"line": 1}),
        (KV_LOG.replace("serial=SN-1001\n", ""), {"field": "serial"}),
        (KV_LOG.replace("2024-06-05 08:30:00", "June 5th"), {"field": "start"}),
        (KV_LOG.replace("Self test=PASS", "Self test"), {"line": 11}),
        (KV_LOG.replace("[23.5, 24.5]", "[23.5, high]"), {"line": 8}),
    ],
    ids=["format", "no-serial", "bad-start", "no-equals", "bad-limit"],
)
def test_bad_input_is_a_conversion_error(tmp_path: Path, text: str, where: dict) -> None:
    with pytest.raises(ConversionError) as raised:
        convert(write(tmp_path, text))
    for key, value in where.items():
        assert getattr(raised.value, key) == value


def test_auto_picks_it_among_candidates(tmp_path: Path) -> None:
    path = write(tmp_path)
    auto = AutoConverter({"candidates": ["wsjf", "csv", SPEC]})
    assert auto.choose(SourceFile.read(path)).name == "kv-log"
    assert load_converter_class(SPEC)().validate(SourceFile(path, b"serial=1\n")) == 0.0


def test_pywats_client_convert_prints_the_wsjf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path / "home"))
    for name in list(os.environ):
        if name.upper().startswith("PYWATS_") and name.upper() != "PYWATS_HOME":
            monkeypatch.delenv(name)
    path = write(tmp_path)
    # An absolute path: convert and converters test read a relative file.py from the instance folder.
    result = CliRunner().invoke(app, ["convert", str(path), "--converter", SPEC, "--arg", "process_code=20"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    report = wsjf.loads(result.stdout)
    assert (report.sn, report.process_code, report.result.value) == ("SN-1001", 20, "F")
    assert json.loads(result.stdout)["root"]["steps"][0]["name"] == "Power"
    assert "kv-log 1.0" in result.stderr


def test_the_guide_shows_the_example_file_as_it_is() -> None:
    guide = (REPO / "docs" / "converters.md").read_text(encoding="utf-8")
    assert EXAMPLE.read_text(encoding="utf-8") in guide


def test_the_guides_pytest_example_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = (REPO / "docs" / "converters.md").read_text(encoding="utf-8")
    (block,) = [code for code in re.findall(r"```python\n(.*?)```", guide, re.S) if "def test_kv_log(" in code]
    namespace: dict = {"__name__": "guide_pytest_example"}
    exec(compile(block, "<docs/converters.md>", "exec"), namespace)
    monkeypatch.chdir(REPO)  # the example names the converter relative to where pytest runs
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for index, test in enumerate(tests):
        folder = tmp_path / str(index)
        folder.mkdir()
        test(folder)
