"""WSXF: the real samples load and round-trip, every model field survives model → XML → model, and bad
input gets a ReportFormatError that names the element (or the line and column of broken XML)."""

from __future__ import annotations

import copy
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import sample_params
from pywats import ReportFormatError
from pywats.formats import wsjf, wsxf
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
from pywats.synthetic import synthetic_report

NS = "{http://wats.virinco.com/schemas/WATS/Report/wsxf}"
FIELDS = "{urn:pywats:wsxf:1}fields"


def round_trip(report: UUTReport | UURReport) -> UUTReport | UURReport:
    return wsxf.loads(wsxf.dumps(report))


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Field-by-field comparison of two dumped models, extras included, as readable paths."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = [f"{path}.{key}: only on one side" for key in a.keys() ^ b.keys()]
        return found + [
            problem for key in a.keys() & b.keys() for problem in differences(a[key], b[key], f"{path}.{key}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [problem for index, pair in enumerate(zip(a, b)) for problem in differences(*pair, f"{path}[{index}]")]
    if type(a) is not type(b) or a != b:
        return [f"{path}: {a!r} != {b!r}"]
    return []


def assert_same(original: UUTReport | UURReport, again: UUTReport | UURReport) -> None:
    assert differences(original.model_dump(), again.model_dump()) == []
    assert [type(step) for step in steps_of(original)] == [type(step) for step in steps_of(again)]
    assert again == original


def steps_of(report: UUTReport | UURReport) -> list[Any]:
    return report.iter_steps() if isinstance(report, UUTReport) else []


# --- real samples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sample_params("wsxf"))
def test_sample_loads_and_round_trips(path: Path) -> None:
    report = wsxf.loads(path.read_bytes())
    assert isinstance(report, (UUTReport, UURReport))
    assert wsxf.loads(path.read_text(encoding="utf-8")) == report  # str input, BOM included
    assert_same(report, round_trip(report))
    assert wsxf.loads_all(path.read_bytes()) == [report]


@pytest.mark.parametrize("path", sample_params("wsjf", "*.json"))
def test_wsjf_sample_survives_wsxf(path: Path) -> None:
    original = wsjf.loads(path.read_text(encoding="utf-8-sig"))
    text = wsxf.dumps(original)
    assert_same(original, wsxf.loads(text))
    assert "pywats:fields" not in text  # a report as WATS writes it needs no extension


def _sample(name: str) -> Path:
    params = [param for param in sample_params("wsxf", name) if param.values[0] is not None]
    if not params:
        pytest.skip("WSXF samples absent")
    return params[0].values[0]


def test_le_lt_limit_sits_in_high_limit_in_wsxf() -> None:
    path = _sample("uut-wsxf.xml")
    report = wsxf.loads(path.read_bytes())
    steps = {step.name: step for step in report.iter_steps()}
    raw = {step.get("Name"): step for step in ET.parse(path).getroot().iter(NS + "Step")}
    for name in ("SingleLEPass", "SingleLEFail", "SingleLTPass", "SingleLTFail"):
        xml_limit = raw[name].find(NS + "NumericLimit")
        measurement = steps[name].numeric_meas[0]
        assert xml_limit.get("LowLimit") is None
        assert (measurement.low_limit, measurement.high_limit) == (float(xml_limit.get("HighLimit")), None)
    max_value = steps["Current from burn-in test"].numeric_meas[1]
    assert (max_value.comp_op, max_value.value, max_value.low_limit, max_value.high_limit) == (
        CompOp.LE,
        62.6,
        72.0,
        None,
    )
    # EQ/NE/GT/GE keep LowLimit; dual-limit operators keep both where they are.
    assert (steps["SingleGEPass"].numeric_meas[0].low_limit, steps["SingleGEPass"].numeric_meas[0].high_limit) == (
        500,
        None,
    )
    gelt = steps["SingleGELTPass"].numeric_meas[0]
    assert (gelt.low_limit, gelt.high_limit) == (500, 501)
    # ... and the writer puts the LT/LE limit back into HighLimit.
    written = {step.get("Name"): step for step in ET.fromstring(wsxf.dumps(report)).iter(NS + "Step")}
    le = written["SingleLEPass"].find(NS + "NumericLimit")
    assert (le.get("LowLimit"), le.get("HighLimit")) == (None, "500")


def test_sample_statuses_are_kept_as_written() -> None:
    report = wsxf.loads(_sample("uut-wsxf.xml").read_bytes())
    steps = {step.name: step for step in report.iter_steps()}
    # The file says Passed for a measurement that fails its limit, and Done for a step: kept as they are.
    assert steps["SingleEQFail"].numeric_meas[0].status.value == "P"
    assert steps["SingleEQFail"].status.value == "F"
    assert steps["SingleLogDone"].status.value == "D"
    assert steps["SingleEQFail"].caused_uut_failure is True


def test_sample_details() -> None:
    report = wsxf.loads(_sample("uut-wsxf.xml").read_bytes())
    steps = {step.name: step for step in report.iter_steps()}
    assert (report.process_code, report.process_name, report.result.value) == (10, "SW Debug", "F")
    assert report.uut.exec_time == 123.67 and report.uut.comment == "FAT Comment - can be 500 long"
    assert [(info.description, info.text, info.numeric) for info in report.misc_infos] == [
        ("MiscInfoNumeric", None, 100),
        ("MiscInfoString", "Hello", None),
    ]
    assert isinstance(steps["Fibionacci"], ChartStep)
    assert steps["Fibionacci"].chart.series[1].xdata == "0;12"
    assert isinstance(steps["Attach file"], AttachmentStep)
    assert isinstance(steps["Multiple tests"], (BooleanStep, StringStep))
    # Unknown attributes (WATS bookkeeping) are kept as extras and written back.
    assert steps["SingleLog"].numeric_meas[0].model_extra == {"MeasIndex": "1"}
    assert steps["Attach file"].attachment.model_extra == {"Size": "10240"}
    assert 'MeasIndex="1"' in wsxf.dumps(report)

    repair = wsxf.loads(_sample("uur-wsxf.xml").read_bytes())
    assert isinstance(repair, UURReport)
    assert (repair.process_code, repair.uur.process_code, repair.uur.process_name) == (500, 10, "SW Debug")
    assert repair.result.value == "P"  # no Result in the file
    units = {unit.idx: unit for unit in repair.sub_units}
    assert [failure.com_ref for failure in units[0].failures] == ["R55"]
    assert [(failure.com_ref, failure.ref_step_id) for failure in units[1].failures] == [("U16", 32)]
    assert units[2].failures is None
    assert repair.misc_infos[0].id == "E5FFC4EE-B067-4FD8-B170-C7E64131942B"


# --- synthetic reports with every field -----------------------------------------------------------------

GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


def _property_tree() -> list[dict[str, Any]]:
    return [
        {"name": "Text", "type": "String", "flags": 0, "value": "hello", "comment": "a comment"},
        {"name": "Number", "type": "Number", "value": 1.5, "numFormat": "%.2f"},
        {"name": "Integer", "type": "Number", "value": 7},
        {"name": "Flag", "type": "Boolean", "value": True},
        {"name": "Empty", "type": "String", "value": ""},
        {"name": "List", "type": "Number", "value": [1, 2.5, "x", None],
         "array": {"dimension": "[0..3]", "type": "Number", "indexes": ["[0]", 1, None, [2, 3]]}},
        {"name": "Container", "type": "Obj", "flags": 4, "props": [
            {"name": "Inner", "value": {"nested": {"deep": [True, None]}}},
            {"name": "NoValue"},
        ]},
    ]  # fmt: skip


def _step(step_id: int, step_type: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "group": "M", "stepType": step_type, "name": name, "status": "P", **fields}


NUMERIC_OPS = [
    "LOG",
    "EQ",
    "NE",
    "GT",
    "GE",
    "LT",
    "LE",
    "GTLT",
    "GTLE",
    "GELT",
    "GELE",
    "LTGT",
    "LTGE",
    "LEGT",
    "LEGE",
]
STRING_OPS = ["LOG", "EQ", "NE", "CASESENSIT", "IGNORECASE", "REGEX"]


def full_uut() -> dict[str, Any]:
    """A UUT report as a WSJF dict with every step kind and every optional field the model has."""
    numeric_multi = [
        {"name": f"M{op}", "compOp": op, "status": "P", "unit": "V", "value": 5.0, "lowLimit": 1.0,
         "highLimit": None if op in ("LOG", "EQ", "NE", "GT", "GE", "LT", "LE") else 9.0}
        for op in NUMERIC_OPS
    ]  # fmt: skip
    numeric_multi.append({"name": "LE with both", "compOp": "LE", "value": 1.0, "lowLimit": 2.0, "highLimit": 3.0,
                          "lowLimitFormat": "%.1f", "highLimitFormat": "%.3f", "status": "F"})  # fmt: skip
    steps = [
        _step(1, "Action", "Setup action", group="S", start="2024-05-06T07:08:09.5+02:00", totTime=0.001,
              errorCode=-17, errorMessage="setup error", reportText="line 1\nline 2", tsGuid="ID#:abcdef",
              causedUUTFailure=False, causedSeqFailure=True, interactiveExeNum=3,
              loop={"idx": 1, "num": 5, "endingIndex": 4, "passed": 4, "failed": 1}),
        _step(2, "ET_NLT", "Single LE", numericMeas=[
            {"compOp": "LE", "status": "P", "unit": "mA", "value": 62.6, "lowLimit": 72.0, "valueFormat": "%.1f",
             "lowLimitFormat": "%.0f"}]),
        _step(3, "ET_NLT", "Single LT", status="F", numericMeas=[{"compOp": "lt", "status": "F", "value": 5, "lowLimit": 5}]),
        _step(4, "ET_MNLT", "Every numeric operator", numericMeas=numeric_multi),
        _step(5, "ET_SVT", "Single string", stringMeas=[{"compOp": "IGNORECASE", "status": "P", "value": "Abc", "limit": "abc"}]),
        _step(6, "ET_MSVT", "Every string operator", stringMeas=[
            {"name": f"S{op}", "compOp": op, "status": "P", "value": "v", "limit": "v"} for op in STRING_OPS]),
        _step(7, "ET_PFT", "Single pass/fail", booleanMeas=[{"status": "P"}]),
        _step(8, "ET_MPFT", "Several pass/fail", status="F", booleanMeas=[
            {"name": "a", "status": "P"}, {"name": "b", "status": "F"}, {"name": "c", "status": "S"}]),
        _step(9, "WATS_XYGMNLT", "Chart", numericMeas=[{"name": "Mean", "compOp": "LOG", "value": 28.923076923076923}],
              chart={"chartType": "LineLogXY", "label": "Fib", "xLabel": "n", "xUnit": "#", "yLabel": "F(n)",
                     "yUnit": "1", "series": [{"dataType": "XYG", "name": "fib", "xdata": "0;1;2", "ydata": "0;1;1"},
                                              {"name": "only y", "ydata": "1.5;2.5"}]}),
        _step(10, "WATS_AttachFile", "Attachment", attachment={
            "name": "photo.png", "contentType": "image/png", "data": "iVBORw0KGgo=", "id": GUID}),
        _step(11, "MessagePopup", "Popup", messagePopup={"response": "Operator said yes", "button": 2}),
        _step(12, "CallExecutable", "Call exe", callExe={"exitCode": -1.5}),
        _step(13, "NI_Flow_If", "If", status="D"),
        _step(14, "Statement", "Skipped", status="S"),
        _step(15, "Label", "Errored", status="E"),
        _step(16, "Goto", "Terminated", status="T"),
        _step(17, "Action", "Unknown status", status="U"),
        _step(18, "VendorSpecialStep", "Unknown kind", vendorPayload={"k": [1, 2]}),
        _step(19, "ET_NLT", "Numeric with attachment", numericMeas=[{"compOp": "GE", "value": 2, "lowLimit": 1}],
              attachment={"name": "log.txt", "contentType": "text/plain", "data": "aGVsbG8="},
              additionalResults=[{"name": "Step.Result", "props": _property_tree()}]),
        _step(20, "SequenceCall", "Nested", group="C", seqCall={"path": "C:\\seq\\sub.seq", "name": "Sub", "version": "2.0"},
              steps=[_step(21, "ET_NLT", "Deep", numericMeas=[{"compOp": "GELE", "value": 1, "lowLimit": 0, "highLimit": 2}]),
                     _step(22, "SequenceCall", "Empty sequence", seqCall={"name": "Nothing"})]),
        _step(23, "ET_NLT", "Numeric step without measurements"),
    ]  # fmt: skip
    return {
        "type": "T", "id": GUID, "pn": "PCBA-100", "sn": "SN-0001", "rev": "A", "machineName": "Station 1",
        "location": "Line 2", "purpose": "Production", "result": "F",
        "start": "2024-05-06T07:08:09.123456+02:00", "startUTC": "2024-05-06T05:08:09.123456Z",
        "processCode": 10, "processName": "SW Debug", "processCodeFormat": "%d", "productName": "Widget",
        "origin": "station-7", "assetStats": {"count": 2, "items": ["a", 1.5, None]},
        "miscInfos": [
            {"description": "Firmware", "text": "1.2.3", "typedef": "String", "id": "misc-1"},
            {"description": "Temperature", "numeric": -23, "numericFormat": "%d"},
            {"description": "Both", "text": "t", "numeric": 1},
        ],
        "assets": [{"assetSN": "FIXTURE-1", "usageCount": 12, "usageCountFormat": "%d"}, {"assetSN": "DMM-2"}],
        "additionalData": [{"name": "Station globals", "props": _property_tree()}, {"name": "Empty tree"}],
        "uut": {
            "user": "operator", "batchSN": "BATCH-9", "comment": "first line\nsecond line", "errorCode": 999,
            "errorMessage": "Error code 999", "fixtureId": "FX-1", "execTime": 123.67, "testSocketIndex": 2,
            "batchFailCount": 1, "batchLoopIndex": 3, "stepIdCausedUUTFailure": 3,
            "refUURs": [{"id": "b6c95876-cb19-4c43-a010-7e51a86b0886", "start": "2024-05-07T10:00:00Z"}],
        },
        "subUnits": [{"partType": "PCBA", "sn": "SUB-1", "pn": "P-1", "rev": "B"}, {"partType": "PSU", "sn": "SUB-2", "pn": "P-2"}],
        "root": _step(0, "SequenceCall", "MainSequence Callback", status="F", totTime=12.5, reportText="root",
                      seqCall={"path": "C:\\seq\\main.seq", "name": "MainSequence", "version": "1.0.0"}, steps=steps),
    }  # fmt: skip


def full_uur() -> dict[str, Any]:
    """A UUR report with every field: failures with attachments, report attachments, sub-repairs."""
    failure = {
        "category": "Solder Process", "code": "Appearance", "comment": "Failure on main unit\nline 2",
        "comRef": "R55", "funcBlock": "F16", "refStepId": 16, "refStepName": "Step 16", "artNumber": "12345",
        "artRev": "2", "artVendor": "Vendor", "artDescription": "Resistor 10k",
        "attachments": [{"name": "closeup.jpg", "contentType": "image/jpeg", "data": "/9j/4AAQ", "id": GUID},
                        {"name": "second.txt", "contentType": "text/plain", "data": "eA=="}],
    }  # fmt: skip
    return {
        "type": "R", "id": "02a8db26-c529-43bd-acf2-84a00a4ff693", "pn": "P", "sn": "S", "rev": "1",
        "machineName": "Repair bench", "location": "RMA", "purpose": "Repair", "result": "P",
        "start": "2020-01-01T09:00:00+01:00", "startUTC": "2020-01-01T08:00:00Z", "processCode": 500,
        "processName": "Repair",
        "uur": {
            "user": "tech", "comment": "Hello world", "execTime": 1012.67, "processCode": 10, "processName": "SW Debug",
            "refUUT": "b6c95876-cb19-4c43-a010-7e51a86b0886", "confirmDate": "2018-04-01T13:40:40",
            "finalizeDate": "2020-08-05T07:03:58.725786Z", "parent": GUID,
            "children": ["c168601e-1512-40fe-946c-e4117c613449", "d26ddf31-fd90-47a5-af13-180404cde8be"],
        },
        "miscInfos": [{"description": "Order number", "text": "1234567", "id": "E5FFC4EE"}],
        "subUnits": [
            {"partType": "PCBA", "pn": "P", "sn": "S", "rev": "1", "idx": 0, "failures": [failure, {"category": "Other"}]},
            {"partType": "Module", "pn": "M", "sn": "M-1", "idx": 1, "parentIdx": 0, "position": 2, "failures": [
                {"category": "Assembly Process", "code": "Missing component", "comRef": "U16", "refStepId": 32}]},
            {"partType": "Module", "pn": "M", "sn": "M-2", "idx": 5, "parentIdx": 0, "replacedIdx": 1},
        ],
        "binaryData": [{"name": "report.pdf", "contentType": "application/pdf", "data": "JVBERi0=", "id": GUID}],
        "assets": [{"assetSN": "Soldering iron", "usageCount": 3}],
        "additionalData": [{"name": "Repair data", "props": _property_tree()}],
    }  # fmt: skip


def test_full_uut_round_trips() -> None:
    report = parse_report(full_uut())
    kinds = {type(step) for step in report.iter_steps()}
    assert kinds == {SequenceCallStep, NumericStep, StringStep, BooleanStep, ChartStep, AttachmentStep,
                     MessagePopupStep, CallExecutableStep, GenericStep, UnknownStep}  # fmt: skip
    assert_same(report, round_trip(report))


def test_full_uur_round_trips() -> None:
    report = parse_report(full_uur())
    text = wsxf.dumps(report)
    assert_same(report, wsxf.loads(text))
    root = ET.fromstring(text)
    binaries = root.findall(f"{NS}Report/{NS}Binary")
    assert [binary.get("FailIdx") for binary in binaries] == ["1", "1", None]
    assert [binary.find(NS + "Data").get("FileName") for binary in binaries] == [
        "closeup.jpg",
        "second.txt",
        "report.pdf",
    ]
    failures = root.findall(f"{NS}Report/{NS}Failures")
    assert [(f.get("Idx"), f.get("PartIdx"), f.get("CompRef")) for f in failures] == [
        ("1", "0", "R55"),
        ("2", "0", None),
        ("3", "1", "U16"),
    ]


def test_plain_report_needs_no_extension_and_looks_like_wats() -> None:
    data = full_uut()
    del data["assetStats"]  # free-form (output only) and a non-text extra: the two values that need JSON
    del data["root"]["steps"][17]["vendorPayload"]
    text = wsxf.dumps(parse_report(data))
    assert "pywats" not in text
    root = ET.fromstring(text)
    report = root.find(NS + "Report")
    assert (report.get("type"), report.get("Result"), report.get("SN")) == ("UUT", "Failed", "SN-0001")
    assert report.find(NS + "Process").attrib == {"Code": "10", "Name": "SW Debug", "CodeFormat": "%d"}
    single_le = next(step for step in root.iter(NS + "Step") if step.get("Name") == "Single LE")
    assert single_le.find(NS + "NumericLimit").attrib == {
        "NumericValue": "62.6", "HighLimit": "72", "Units": "mA", "CompOperator": "LE", "Status": "Passed",
        "NumericValueFormat": "%.1f", "HighLimitFormat": "%.0f",
    }  # fmt: skip
    setup = next(step for step in root.iter(NS + "Step") if step.get("Name") == "Setup action")
    assert setup.get("Group") == "Setup" and setup.get("StepCausedSequenceFailure") == "1"
    assert setup.find(NS + "Loop").attrib == {
        "index": "1",
        "num": "5",
        "ending_index": "4",
        "passed": "4",
        "failed": "1",
    }
    assert setup.find(NS + "ReportText").text == "line 1\nline 2"


def test_extras_round_trip_on_every_element() -> None:
    """Unknown fields on every object: text ones become attributes, the rest (and clashing names) JSON."""

    def with_extras(value: Any) -> Any:
        if isinstance(value, dict):
            extras = {"vendorNote": "note", "vendorCount": 3, "vendorFlag": False, "vendorList": [1, "a", None],
                      "vendor.obj": {"x": 1.25}, "Name": "clashes with an XML name", "xmlish": "reserved prefix",
                      "with space": "not an XML name", "vendorNull": None}  # fmt: skip
            return {**{key: with_extras(item) for key, item in value.items()}, **extras}
        if isinstance(value, list):
            return [with_extras(item) for item in value]
        return value

    for data in (full_uut(), full_uur()):
        report = parse_report(with_extras(data))
        assert report.model_extra["vendorCount"] == 3
        text = wsxf.dumps(report)
        assert 'vendorNote="note"' in text and "pywats:fields" in text
        assert_same(report, wsxf.loads(text))


def test_values_xml_cannot_tell_apart_round_trip() -> None:
    data = full_uut()
    data["miscInfos"].append({"description": "empty text", "text": "", "numeric": 5})
    data["uut"]["comment"] = ""
    root = data["root"]
    root["steps"][0]["group"] = None  # the default is Main: None must be said explicitly
    root["steps"][8]["chart"]["series"][0]["dataType"] = None
    root["steps"][8]["chart"]["series"][1]["xdata"] = ""
    root["steps"][9]["attachment"]["data"] = ""
    root["steps"][18]["additionalResults"] = []
    root["steps"][18]["reportText"] = "  leading and trailing  "
    data["additionalData"][1]["props"] = []
    data["additionalData"][0]["props"][5]["array"]["indexes"] = []
    data["uut"]["refUURs"] = []
    data["machineName"] = ""
    report = parse_report(data)
    text = wsxf.dumps(report)
    assert "pywats:fields" in text
    assert_same(report, wsxf.loads(text))

    repair = full_uur()
    repair["subUnits"][1]["failures"] = []
    repair["subUnits"][0]["failures"][1]["attachments"] = []
    repair["subUnits"][0]["failures"][1]["comment"] = ""
    repair["uur"]["children"] = []
    repair["binaryData"][0]["data"] = ""
    report = parse_report(repair)
    assert_same(report, round_trip(report))


def test_whitespace_and_markup_characters_survive() -> None:
    tricky = "tab\there, LF\nCR\rCRLF\r\n <&> \"quotes\" 'apos' ]]> ünïcødé 😀 "
    data = full_uut()
    data["sn"] = tricky[:100]
    data["uut"]["comment"] = tricky
    data["miscInfos"][0]["text"] = tricky[:100]
    data["root"]["steps"][1]["name"] = tricky[:100]
    data["root"]["reportText"] = "\r\n" + tricky + "\r"
    data["root"]["steps"][4]["stringMeas"][0]["value"] = " " + tricky[:98] + " "
    report = parse_report(data)
    again = round_trip(report)
    assert again.uut.comment == tricky and again.sn == tricky[:100]
    assert again.root.report_text == "\r\n" + tricky + "\r"
    assert_same(report, again)


def test_floats_round_trip_exactly() -> None:
    values = [
        0.1 + 0.2,
        1 / 3,
        1e-300,
        5e-324,
        1.7976931348623157e308,
        -0.0,
        123456789.12345679,
        2.0**53 + 2,
        -7.25e-11,
    ]
    data = full_uut()
    data["root"]["steps"][3]["numericMeas"] = [
        {"name": f"v{index}", "compOp": "GELE", "value": value, "lowLimit": -value, "highLimit": value}
        for index, value in enumerate(values)
    ]
    again = round_trip(parse_report(data))
    measurements = again.root.steps[3].numeric_meas
    assert [m.value for m in measurements] == values
    assert [m.low_limit for m in measurements] == [-value for value in values]
    assert math.copysign(1, measurements[5].value) == -1  # -0.0 keeps its sign


def test_nan_and_infinity_round_trip() -> None:
    data = full_uut()
    data["root"]["steps"][1]["numericMeas"] = [{"compOp": "LE", "value": float("nan"), "lowLimit": float("inf")}]
    data["root"]["steps"][11]["callExe"]["exitCode"] = float("-inf")
    data["uut"]["execTime"] = float("nan")
    text = wsxf.dumps(parse_report(data))
    assert 'NumericValue="NaN" HighLimit="INF"' in text and 'ExitCode="-INF"' in text
    again = wsxf.loads(text)
    measurement = again.root.steps[1].numeric_meas[0]
    assert math.isnan(measurement.value) and measurement.low_limit == math.inf and measurement.high_limit is None
    assert again.root.steps[11].call_exe.exit_code == -math.inf and math.isnan(again.uut.exec_time)
    # NaN inside JSON-carried extras survives too.
    data = full_uut()
    data["vendorValues"] = [float("nan"), float("inf")]
    carried = wsxf.loads(wsxf.dumps(parse_report(data))).model_extra["vendorValues"]
    assert math.isnan(carried[0]) and carried[1] == math.inf


def test_characters_xml_cannot_hold_are_the_only_loss() -> None:
    bad = "a\x00b\x01c\x08d\x0be\x0cf\x1fg\ufffeh\uffffij"
    data = full_uut()
    data["uut"]["comment"] = bad
    data["root"]["steps"][0]["name"] = bad
    data["miscInfos"][0]["text"] = bad
    data["vendorField"] = bad.replace("i", "i\ud800")  # a lone surrogate can only live in an extra
    expected = copy.deepcopy(data)
    for target in (expected["uut"], expected["root"]["steps"][0], expected["miscInfos"][0]):
        for key in ("comment", "name", "text"):
            if key in target and target[key] == bad:
                target[key] = "abcdefghij"
    expected["vendorField"] = "abcdefghij"
    text = wsxf.dumps(parse_report(data))
    ET.fromstring(text)  # well-formed
    assert_same(parse_report(expected), wsxf.loads(text))


def test_several_reports() -> None:
    reports = [parse_report(full_uut()), parse_report(full_uur()), synthetic_report(20)]
    text = wsxf.dumps_all(reports)
    assert wsxf.loads_all(text) == reports
    assert wsxf.loads_all(text.encode("utf-8")) == reports
    with pytest.raises(ReportFormatError, match="loads_all") as error:
        wsxf.loads(text)
    assert error.value.element == "Reports"
    assert wsxf.loads_all(wsxf.dumps_all([])) == []
    with pytest.raises(ReportFormatError, match="found 0"):
        wsxf.loads(wsxf.dumps_all([]))


def test_input_forms() -> None:
    report = synthetic_report(10)
    text = wsxf.dumps(report)
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert wsxf.loads("\ufeff" + text) == report
    assert wsxf.loads(b"\xef\xbb\xbf" + text.encode("utf-8")) == report
    assert wsxf.loads(text.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")) == report
    assert wsxf.loads(re.sub(r"\n\s*", "", text)) == report  # no indentation
    # WATS writes booleans as 0/1 and upper-case GUIDs; true/false and any case read the same.
    assert wsxf.loads(text.replace('StepCausedUUTFailure="0"', 'StepCausedUUTFailure="false"')) == report


# --- bad input ---------------------------------------------------------------------------------------------


def base_text() -> str:
    data = full_uut()
    del data["assetStats"]
    del data["root"]["steps"][17]["vendorPayload"]
    return wsxf.dumps(parse_report(data))


def error_for(text: str | bytes, **options: Any) -> ReportFormatError:
    with pytest.raises(ReportFormatError) as caught:
        wsxf.loads(text, **options)
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_truncated_xml_gives_line_and_column() -> None:
    text = base_text()
    error = error_for(text[: len(text) // 2])
    assert error.line and error.column and "not well-formed" in str(error)
    error = error_for("<Reports>\n  <Report\n</Reports>")
    assert (error.line, error.column) == (3, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf"', 'xmlns="urn:other"', "namespace 'urn:other'"),
        (' xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf"', "", "has no namespace"),
    ],
)
def test_wrong_namespace(old: str, new: str, message: str) -> None:
    error = error_for(base_text().replace(old, new, 1))
    assert error.element == "Reports" and message in error.message


def test_wrong_root_and_children() -> None:
    error = error_for(f'<Report xmlns="{NS[1:-1]}" />')
    assert "a WSXF document is <Reports>" in error.message
    error = error_for(base_text().replace("<Report ", "<Rapport ", 1).replace("</Report>", "</Rapport>"))
    assert error.element == "Reports/*[1]"


def test_missing_sn_is_located() -> None:
    error = error_for(base_text().replace(' SN="SN-0001"', ""))
    assert error.element == "Report[1]" and error.message == "missing attribute SN" and error.path == "sn"


def test_missing_process_and_start() -> None:
    text = base_text()
    error = error_for(re.sub(r"\n\s*<Process [^>]*/>", "", text, count=1))
    assert error.element == "Report[1]" and "attribute Code of <Process>" in error.message
    error = error_for(re.sub(r' Start="[^"]*"', "", text, count=1))
    assert error.message == "missing attribute Start"


@pytest.mark.parametrize(
    ("old", "new", "element", "message"),
    [
        ('Numeric="-23"', 'Numeric="abc"', "Report[1]/MiscInfo[2]", "attribute Numeric: 'abc' is not a whole number"),
        ('NumericValue="5" LowLimit="1" Units="V" CompOperator="EQ"', 'NumericValue="five" LowLimit="1" Units="V" CompOperator="EQ"',
         "Report[1]/Step[Id=0]/Step[Id=4]/NumericLimit[2]", "attribute NumericValue: 'five' is not a number"),
        ('Name="Popup" StepType="MessagePopup" Status="Passed"', 'Name="Popup" StepType="MessagePopup" Status="Fine"',
         "Report[1]/Step[Id=0]/Step[Id=11]", "attribute Status: 'Fine' is not one of Passed, Failed"),
        ('<PassFail Status="Passed" />', '<PassFail Status="Done" />',
         "Report[1]/Step[Id=0]/Step[Id=7]/PassFail[1]", "attribute Status: 'Done' is not one of Passed, Failed, Skipped"),
        ('Group="Main"', 'Group="Teardown"', "Report[1]/Step[Id=0]", "attribute Group: 'Teardown'"),
        ('type="UUT"', 'type="XYZ"', "Report[1]", "attribute type: 'XYZ' is not one of UUT, UUR"),
        ('ExitCode="-1.5"', 'ExitCode="1_5"', "Report[1]/Step[Id=0]/Step[Id=12]/Callexe[1]", "'1_5' is not a number"),
        ('StepCausedSequenceFailure="1"', 'StepCausedSequenceFailure="yes"', "Report[1]/Step[Id=0]/Step[Id=1]",
         "'yes' is not a boolean"),
        ('Start="2024-05-06T07:08:09.123456+02:00"', 'Start="last tuesday"', "Report[1]", "attribute Start: Input should be a valid datetime"),
        (f'ID="{GUID}"', 'ID="not-a-guid"', "Report[1]", "attribute ID: Input should be a valid UUID"),
        ('ChartType="LineLogXY"', 'ChartType="Pie"', "Report[1]/Step[Id=0]/Step[Id=9]/Chart[1]", "attribute ChartType"),
        ("<ydata>0;1;1</ydata>", "<ydata>0;one;1</ydata>", "Report[1]/Step[Id=0]/Step[Id=9]/Chart[1]/Series[1]",
         "element ydata: chart data must be ';'-separated numbers"),
        ('CompOperator="IGNORECASE"', 'CompOperator="SOMETIMES"', "Report[1]/Step[Id=0]/Step[Id=5]/StringValue[1]",
         "attribute CompOperator"),
    ],
)  # fmt: skip
def test_bad_values_are_located(old: str, new: str, element: str, message: str) -> None:
    text = base_text()
    assert old in text
    error = error_for(text.replace(old, new, 1))
    assert error.element == element
    assert message in error.message


def test_structural_problems_are_located() -> None:
    text = base_text()
    cases = {
        "<Loop ": ("<Frobnicate />\n<Loop ", "Report[1]/Step[Id=0]/Step[Id=1]/Frobnicate[1]", "<Frobnicate> is not allowed in <Step>"),
        '<PassFail Status="Passed" />': ('<PassFail Status="Passed" />stray text', "Report[1]/Step[Id=0]/Step[Id=7]", "unexpected text"),
        "</UUT>": ("<Failures Category=\"x\" /></UUT>", "Report[1]/UUT[1]/Failures[1]", "not allowed in <UUT>"),
        '<MessagePopup Response="Operator said yes" Button="2" />': (
            '<MessagePopup Response="Operator said yes" Button="2" /><PassFail Status="Passed" />',
            "Report[1]/Step[Id=0]/Step[Id=11]", "a step may not combine"),
        '<SequenceCall Name="Sub" Version="2.0" Filepath="C:\\seq\\sub.seq" />': (
            "", "Report[1]/Step[Id=0]/Step[Id=20]", "must have seqCall"),
        "<Comment>": ('<Comment Lang="en">', "Report[1]/UUT[1]/Comment[1]", "attribute Lang is not allowed"),
        'Typedef="String"': ('Typedef="String" xmlns:pywats="urn:pywats:wsxf:1" pywats:fields="{not json"',
                             "Report[1]/MiscInfo[1]", "not valid JSON"),
        'Description="Firmware"': ('Description="Firmware" xmlns:pywats="urn:pywats:wsxf:1" pywats:fields="{&quot;description&quot;:&quot;x&quot;}"',
                                   "Report[1]/MiscInfo[1]", "'description' is given twice"),
        'Description="Temperature"': ('Description="Temperature" xmlns:pywats="urn:pywats:wsxf:1" pywats:fields="[1]"',
                                      "Report[1]/MiscInfo[2]", "must hold a JSON object"),
    }  # fmt: skip
    for old, (new, element, message) in cases.items():
        assert old in text, old
        error = error_for(text.replace(old, new, 1))
        assert (error.element, message in error.message) == (element, True), (old, str(error))


def test_report_type_rules() -> None:
    uut = base_text()
    error = error_for(uut.replace('  <Process Code="10"', '  <Failures Category="c" />\n  <Process Code="10"', 1))
    assert error.element == "Report[1]/Failures[1]" and 'not allowed in <Report type="UUT">' in error.message
    uur = wsxf.dumps(parse_report(full_uur()))
    error = error_for(uur.replace('PartIdx="1"', 'PartIdx="7"'))
    assert error.element == "Report[1]/Failures[3]" and "PartIdx 7" in error.message
    error = error_for(uur.replace('FailIdx="1"', 'FailIdx="9"', 1))
    assert error.element == "Report[1]/Binary[1]" and "FailIdx 9" in error.message
    error = error_for(uur.replace('Idx="2" PartIdx', 'Idx="1" PartIdx'))
    assert "Idx 1 is used by two" in error.message
    error = error_for(uur.replace(' Idx="5"', ' Idx="1"', 1))
    assert error.message == "subUnits[2]: idx 1 is used twice" and error.element == "Report[1]"
    error = error_for(uur.replace('type="UUR"', 'type="UUT"'))
    assert "not allowed" in error.message


def test_doctype_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Reports>&lol2;</Reports>'
    assert "DOCTYPE" in error_for(bomb).message
    external = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Reports>&x;</Reports>'
    assert "DOCTYPE" in error_for(external).message


def test_over_long_strings_strict_and_truncated() -> None:
    text = base_text().replace('SN="SN-0001"', f'SN="{"S" * 150}"').replace('Units="mA"', f'Units="{"u" * 30}"')
    error = error_for(text)
    assert error.element == "Report[1]" and error.message == "attribute SN: String should have at most 100 characters"
    assert len(error.problems) == 2 and any("unit" in problem for problem in error.problems)
    report = wsxf.loads(text, lengths="truncate")
    assert report.sn == "S" * 100
    assert report.root.steps[1].numeric_meas[0].unit == "u" * 20
    unit_error = error_for(base_text().replace('Units="mA"', f'Units="{"u" * 30}"'))
    assert unit_error.element == "Report[1]/Step[Id=0]/Step[Id=2]/NumericLimit[1]"
    assert unit_error.message == "attribute Units: String should have at most 20 characters"


def test_absurd_nesting_is_a_format_error() -> None:
    inner = '<Step Id="9" StepType="Action" />'
    for level in range(3000):
        inner = f'<Step Id="{level}" StepType="SequenceCall"><SequenceCall Name="s" />{inner}</Step>'
    error = error_for(base_text().replace('<Step Id="1" ', inner + '<Step Id="1" ', 1))
    assert error.element.startswith("Report[1]") and "nested too deeply" in error.message


# --- fuzzing: any input gives a report or a ReportFormatError ---------------------------------------------

FUZZ_SOURCE = wsxf.dumps(parse_report(full_uur())) + wsxf.dumps(synthetic_report(8)).split("?>", 1)[1]


def loads_or_format_error(text: str | bytes) -> None:
    try:
        wsxf.loads_all(text)
    except ReportFormatError as error:
        assert str(error)
        assert error.line or error.element or error.path or error.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, len(FUZZ_SOURCE) - 1))
@example(cut=0)
def test_truncated_xml_fuzz(cut: int) -> None:
    loads_or_format_error(FUZZ_SOURCE[:cut])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(0, len(FUZZ_SOURCE) - 1), replacement=st.text(max_size=3))
def test_mutated_xml_fuzz(position: int, replacement: str) -> None:
    loads_or_format_error(FUZZ_SOURCE[:position] + replacement + FUZZ_SOURCE[position + 1 :])


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_fuzz(data: bytes) -> None:
    loads_or_format_error(data)
