"""WSJF: the real samples load, validate and round-trip; bad input gets a located error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import sample_params
from semantic import missing_fields, normalise

from pywats import ReportFormatError
from pywats.formats import wsjf
from pywats.models import (
    AttachmentStep,
    BooleanStep,
    CallExecutableStep,
    ChartStep,
    CompOp,
    GenericStep,
    MessagePopupStep,
    NumericStep,
    SequenceCallStep,
    StringStep,
    UnknownStep,
    UURReport,
    UUTReport,
    parse_report,
)
from pywats.models.status import apply_statuses


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("path", sample_params("wsjf", "*.json"))
def test_sample_round_trips(path: Path) -> None:
    text = read(path)
    report = wsjf.loads(text)
    again = wsjf.loads(wsjf.dumps(report))
    assert again == report
    assert missing_fields(normalise(json.loads(text)), normalise(json.loads(wsjf.dumps(report)))) == []


@pytest.mark.parametrize("path", sample_params("wsjf", "*UUT*.json"))
def test_uut_samples_step_kinds(path: Path) -> None:
    report = wsjf.loads(read(path))
    assert isinstance(report, UUTReport)
    kinds = {type(step) for step in report.iter_steps()}
    assert {SequenceCallStep, NumericStep, StringStep, BooleanStep} <= kinds
    assert UnknownStep not in kinds


def test_official_uut_sample_in_detail() -> None:
    paths = [p for p in (sample_params("wsjf", "*UUT Example file.json")) if p.values[0] is not None]
    if not paths:
        pytest.skip("samples absent")
    report = wsjf.loads(read(paths[0].values[0]))
    steps = {step.name: step for step in report.iter_steps()}
    assert isinstance(steps["Fibionacci"], ChartStep)
    assert steps["Fibionacci"].chart.series[0].ydata.startswith("0;1;1;2")
    assert isinstance(steps["Attach file"], AttachmentStep)
    assert isinstance(steps["Message Popup"], MessagePopupStep)
    assert steps["Message Popup"].message_popup.button == 1
    assert isinstance(steps["Call Executable"], CallExecutableStep)
    assert isinstance(steps["ActionStep"], GenericStep)
    max_value = steps["Current from burn-in test"].numeric_meas[1]
    assert (max_value.comp_op, max_value.value, max_value.low_limit, max_value.high_limit) == (CompOp.LE, 62.6, 72.0, None)
    assert str(steps["Single"].string_meas[0].comp_op) == "LOG"  # written "Log" in the file
    assert report.uut.step_id_caused_uut_failure == 7
    assert report.start_utc.isoformat() == "2020-01-01T08:00:00+00:00"  # written "...00.Z"

    # Our status rules agree with every status in Virinco's example but one, whose name says the
    # operator was meant to ignore case while the file says CASESENSIT.
    recomputed = apply_statuses(report.model_copy(deep=True), overwrite=True)
    differing = [a.name for a, b in zip(report.iter_steps(), recomputed.iter_steps()) if a.status != b.status]
    assert differing == ["SingleInsiensPass"]


def test_uur_sample() -> None:
    params = [p for p in sample_params("wsjf", "*UUR*.json") if p.values[0] is not None]
    if not params:
        pytest.skip("samples absent")
    report = wsjf.loads(read(params[0].values[0]))
    assert isinstance(report, UURReport)
    assert report.process_code == 500 and report.uur.process_code == 10
    assert report.sub_units[0].idx == 0
    assert report.sub_units[0].failures[0].attachments[0].content_type == "image/png"


# --- the project's own fixtures --------------------------------------------------------------------


def minimal(**overrides) -> dict:
    report = {
        "type": "T", "id": "8a0d6d6e-7a53-4d7e-9d8c-1f1b1d3f5a00", "pn": "PN", "sn": "SN", "rev": "A",
        "machineName": "M", "location": "L", "purpose": "P", "result": "P",
        "start": "2024-05-01T10:00:00+02:00", "processCode": 10,
        "root": {"id": 0, "stepType": "SequenceCall", "name": "Main", "seqCall": {"path": "x"}, "steps": []},
    }  # fmt: skip
    report.update(overrides)
    return report


def with_steps(*steps: dict) -> dict:
    report = minimal()
    report["root"]["steps"] = list(steps)
    return report


def error_of(data) -> ReportFormatError:
    with pytest.raises(ReportFormatError) as caught:
        parse_report(data)
    return caught.value


def test_unknown_step_keeps_every_field() -> None:
    step = {"stepType": "MyCompanyStep", "name": "x", "status": "P", "vendorData": {"a": [1, 2]}, "rating": 5}
    report = parse_report(with_steps(step))
    assert isinstance(report.root.steps[0], UnknownStep)
    out = json.loads(wsjf.dumps(report))["root"]["steps"][0]
    assert out["vendorData"] == {"a": [1, 2]} and out["rating"] == 5 and out["stepType"] == "MyCompanyStep"


def test_payload_decides_the_kind_and_step_type_is_kept() -> None:
    step = {"stepType": "MyNumericTest", "name": "x", "numericMeas": [{"value": 1.0, "compOp": "LOG"}]}
    parsed = parse_report(with_steps(step)).root.steps[0]
    assert isinstance(parsed, NumericStep) and parsed.step_type == "MyNumericTest"


def test_unknown_top_level_fields_are_kept() -> None:
    report = parse_report(minimal(futureField={"x": 1}))
    assert json.loads(wsjf.dumps(report))["futureField"] == {"x": 1}


@pytest.mark.parametrize(
    "data, path, message",
    [
        (minimal(root={"stepType": "Action", "name": "r"}), "root", "root step must be a sequence call"),
        (minimal(root={"stepType": "SequenceCall", "name": "r", "steps": []}), "root", "seqCall"),
        (with_steps({"stepType": "X", "name": "s", "steps": [{"stepType": "Action", "name": "a"}]}),
         "root.steps[0]", "sub-steps must have seqCall"),
        (with_steps({"stepType": "ET_NLT", "name": "s", "numericMeas": [{"value": 1}], "stringMeas": [{"value": "a"}]}),
         "root.steps[0]", "may not combine numericMeas, stringMeas"),
        (with_steps({"stepType": "WATS_XYGMNLT", "name": "s", "chart": {"chartType": "Line"},
                     "attachment": {"name": "a", "data": ""}}), "root.steps[0]", "attachment, chart"),
        (with_steps({"stepType": "ET_MNLT", "name": "s", "numericMeas": [{"name": "a", "value": 1}, {"value": 2}]}),
         "root.steps[0]", "measurement 1 has no name"),
        (with_steps({"stepType": "ET_NLT", "name": "s", "numericMeas": [{"value": 1, "compOp": "IGNORECASE"}]}),
         "root.steps[0]", "IGNORECASE is not a comparison for numeric values"),
        (with_steps({"stepType": "WATS_XYGMNLT", "name": "s", "chart": {"chartType": "Pie"}}),
         "root.steps[0].chart.chartType", "Input should be"),
        (with_steps({"stepType": "WATS_XYGMNLT", "name": "s", "chart": {"series": [{"xdata": "1;x"}]}}),
         "root.steps[0].chart.series[0].xdata", "';'-separated numbers"),
        (minimal(result="Q"), "result", "Input should be"),
        (minimal(processCode="ten"), "processCode", "valid integer"),
        (minimal(sn=None), "sn", "valid string"),
        (minimal(miscInfos=[{"description": "d"}]), "miscInfos[0]", "needs a text or a numeric value"),
        (with_steps({"stepType": "ET_NLT", "name": "s", "numericMeas": [{"value": "high", "compOp": "LOG"}]}),
         "root.steps[0].numericMeas[0].value", "valid number"),
        (with_steps({"stepType": "ET_NLT", "name": "s", "numericMeas": [{"value": 1, "compOp": "BETWEEN"}]}),
         "root.steps[0].numericMeas[0].compOp", "Input should be"),
    ],
)
def test_rules_give_located_errors(data: dict, path: str, message: str) -> None:
    error = error_of(data)
    assert error.path == path
    assert message in str(error)


def uur(sub_units: list[dict]) -> dict:
    data = minimal(type="R", processCode=500, uur={"processCode": 10}, subUnits=sub_units)
    del data["root"]
    return data


@pytest.mark.parametrize(
    "units, message",
    [
        ([], "sub unit with idx 0"),
        ([{"sn": "a", "pn": "b", "idx": 1}], "sub unit with idx 0"),
        ([{"sn": "a", "pn": "b"}], "subUnits[0] has no idx"),
        ([{"sn": "a", "pn": "b", "idx": 0}, {"sn": "c", "pn": "d", "idx": 0}], "idx 0 is used twice"),
        ([{"sn": "a", "pn": "b", "idx": 0}, {"sn": "c", "pn": "d", "idx": 1, "parentIdx": 7}], "parentIdx 7 names no"),
        ([{"sn": "a", "pn": "b", "idx": 0}, {"sn": "c", "pn": "d", "idx": 1, "replacedIdx": 3}], "replacedIdx 3"),
    ],
)
def test_uur_idx_rules(units: list[dict], message: str) -> None:
    assert message in str(error_of(uur(units)))


def test_valid_uur_indexes() -> None:
    units = [{"sn": "a", "pn": "b", "idx": 0}, {"sn": "c", "pn": "d", "idx": 1, "parentIdx": 0},
             {"sn": "e", "pn": "f", "idx": 2, "parentIdx": 0, "replacedIdx": 1}]  # fmt: skip
    assert isinstance(parse_report(uur(units)), UURReport)


def test_over_long_string_strict_names_the_field() -> None:
    data = with_steps({"stepType": "ET_NLT", "name": "s", "numericMeas": [{"value": 1, "unit": "u" * 21}]})
    error = error_of(data)
    assert error.path == "root.steps[0].numericMeas[0].unit"
    assert "at most 20 characters" in str(error)


def test_over_long_strings_truncate_mode() -> None:
    data = with_steps({"stepType": "ET_NLT", "name": "n" * 150, "numericMeas": [{"value": 1, "unit": "u" * 30}]})
    data["sn"] = "s" * 101
    data["uut"] = {"comment": "c" * 6000}
    report = wsjf.loads(json.dumps(data), lengths="truncate")
    step = report.root.steps[0]
    assert (len(step.name), len(step.numeric_meas[0].unit), len(report.sn), len(report.uut.comment)) == (100, 20, 100, 5000)


def test_truncate_mode_still_refuses_other_errors() -> None:
    data = minimal(sn="s" * 200, result="Q")
    with pytest.raises(ReportFormatError) as caught:
        wsjf.loads(json.dumps(data), lengths="truncate")
    assert caught.value.path == "result"


@pytest.mark.parametrize(
    "text, where",
    [
        ('{"type": "T", "pn": ', "line 1"),
        ('{\n  "type": "T",\n  "pn": "x",,\n}', "line 3"),
        ("", "not valid JSON"),
        ("[1, 2]", "Input should be"),
        ('{"type": "X"}', "does not match any of the expected tags"),
    ],
)
def test_broken_json_is_located(text: str, where: str) -> None:
    with pytest.raises(ReportFormatError) as caught:
        wsjf.loads(text)
    assert where in str(caught.value) or where in caught.value.message


def test_every_problem_is_listed() -> None:
    error = error_of(minimal(sn=None, pn=None, result="Q"))
    assert len(error.problems) == 3
    assert "and 2 more problems" in str(error)


def test_nan_and_infinity_survive_a_round_trip() -> None:
    data = with_steps({"stepType": "ET_MNLT", "name": "s", "numericMeas": [
        {"name": "a", "value": float("nan"), "compOp": "LOG"}, {"name": "b", "value": float("inf"), "compOp": "LOG"}]})
    report = parse_report(data)
    text = wsjf.dumps(report)
    json.loads(text)  # still valid JSON
    again = wsjf.loads(text).root.steps[0].numeric_meas
    assert again[0].value != again[0].value and again[1].value == float("inf")


def test_loop_accepts_the_short_names_pywats_wrote() -> None:
    step = {"stepType": "Action", "name": "s", "loop": {"i": 2, "n": 5}}
    loop = parse_report(with_steps(step)).root.steps[0].loop
    assert (loop.idx, loop.num) == (2, 5)
    assert json.loads(wsjf.dumps(parse_report(with_steps(step))))["root"]["steps"][0]["loop"] == {"idx": 2, "num": 5}


def test_byte_order_mark_and_bytes_are_accepted() -> None:
    text = json.dumps(minimal())
    assert wsjf.loads("\ufeff" + text) == wsjf.loads(text) == wsjf.loads(("\ufeff" + text).encode("utf-8"))


def test_undecodable_bytes_are_a_format_error() -> None:
    with pytest.raises(ReportFormatError, match="not valid JSON"):
        wsjf.loads(b'{"sn": "\xff\xfe"}')


def test_truncate_mode_leaves_the_callers_dict_alone() -> None:
    data = minimal(sn="s" * 150)
    assert len(parse_report(data, lengths="truncate").sn) == 100
    assert len(data["sn"]) == 150
