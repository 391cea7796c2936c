"""Pure tests of the endpoint definitions: what each domain method would send, and the OData builder.

Nothing here touches the network: ``api.<domain>.<method>.build(...)`` returns the ``Op`` a call would run.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from uuid import UUID

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from wats_helpers import make_sync

import pywats
from pywats import F, ReportBuilder, ReportFormatError, Station, WatsFilter
from pywats._ops import Op, encode_query, path_segment
from pywats.domains.odata import all_of, any_of, filter_text, literal, name_list

RID = UUID("6f1c8f4e-2b0c-4a7e-9a51-8a0a7e0c1d11")


@pytest.fixture
def api():
    client = make_sync(lambda request: httpx.Response(500))
    yield client
    client.close()


def uut(**header):
    builder = ReportBuilder.uut(pn="PCBA-100", sn="SN-1", rev="A", process_code=50, **header)
    builder.numeric("Voltage", 5.0, low=4.5, high=5.5, unit="V")
    return builder.build()


# -- OData -----------------------------------------------------------------------------------------------------


def read_string_literal(text: str) -> tuple[str, str]:
    """Read one OData string literal at the start of ``text``: (its value, the rest of the text)."""
    assert text[0] == "'"
    value, index = [], 1
    while True:
        char = text[index]
        if char == "'":
            if index + 1 < len(text) and text[index + 1] == "'":
                value.append("'")
                index += 2
                continue
            return "".join(value), text[index + 1 :]
        value.append(char)
        index += 1


@given(st.text())
def test_string_value_cannot_escape_its_quotes(value: str) -> None:
    text = str(F.serial_number == value)
    assert text.startswith("serialNumber eq ")
    decoded, rest = read_string_literal(text[len("serialNumber eq ") :])
    assert decoded == value and rest == ""


@given(st.text(), st.text())
def test_combined_values_stay_separate(first: str, second: str) -> None:
    text = str((F.serial_number == first) & F.part_number.startswith(second))
    head = "(serialNumber eq "
    assert text.startswith(head)
    one, rest = read_string_literal(text[len(head) :])
    assert one == first and rest.startswith(") and (startswith(partNumber,")
    two, rest = read_string_literal(rest[len(") and (startswith(partNumber,") :])
    assert two == second and rest == "))"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"), (True, "true"), (False, "false"), (0, "0"), (-12, "-12"), (2.5, "2.5"),
        ("", "''"), ("O'Brien", "'O''Brien'"), ("' or 1 eq 1 or '", "''' or 1 eq 1 or '''"),
        (RID, "6f1c8f4e-2b0c-4a7e-9a51-8a0a7e0c1d11"),
        (datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc), "2024-05-01T08:00:00Z"),
        (pywats.CircuitState.OPEN, "'open'"),
    ],
)  # fmt: skip
def test_literals(value, expected: str) -> None:
    assert literal(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1, 2], {"a": 1}, b"bytes"])
def test_literal_refuses(value) -> None:
    with pytest.raises((TypeError, ValueError)):
        literal(value)


def test_expression_building() -> None:
    assert str(F.process_code >= 10) == "processCode ge 10"
    assert str(F["SN"] != "x") == "SN ne 'x'"
    assert str(~(F.result == "Failed")) == "not (result eq 'Failed')"
    assert str(F.serial_number.lower().contains("ab")) == "contains(tolower(serialNumber),'ab')"
    assert str(F.part_number.endswith("-A") | (F.revision < "C")) == "(endswith(partNumber,'-A')) or (revision lt 'C')"
    assert str(F.process_code.in_([10, 20])) == "processCode in (10,20)"
    assert str(all_of(F.a == 1, F.b == 2, F.c == 3)) == "((a eq 1) and (b eq 2)) and (c eq 3)"
    assert str(any_of()) == "false" and str(all_of()) == "true"
    assert filter_text("raw eq 1") == "raw eq 1" and filter_text(None) is None


@pytest.mark.parametrize("name", ["serialNumber eq 'x' or 1", "a b", "x)", "", "1abc", "a;b", "a'"])
def test_field_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError):
        F[name]


def test_expressions_refuse_python_boolean_logic() -> None:
    with pytest.raises(TypeError):
        (F.a == 1) and (F.b == 2)  # noqa: B015
    with pytest.raises(TypeError):
        (F.a == 1) & "b eq 2"  # type: ignore[operator]
    with pytest.raises(ValueError):
        F.a.in_([])


def test_name_lists() -> None:
    assert name_list(["start desc", F.serial_number.asc()], what="orderby") == "start desc,serialNumber asc"
    assert name_list("sub_units,miscinfo", what="expand") == "subUnits,miscinfo"
    assert name_list(None, what="select") is None
    for bad in ("start sideways", "a;b", "x eq 1", ""):
        with pytest.raises(ValueError):
            name_list(bad, what="orderby")
    with pytest.raises(ValueError):
        name_list("start desc", what="select")


# -- encoding ---------------------------------------------------------------------------------------------------


def test_query_encoding_keeps_dollar_and_escapes_values() -> None:
    query = encode_query({"$filter": "sn eq 'a b&c=d+e'", "$top": 5, "flag": True, "none": None})
    assert query == "$filter=sn%20eq%20%27a%20b%26c%3Dd%2Be%27&$top=5&flag=true"
    assert httpx.URL("https://h/x?" + query).params["$filter"] == "sn eq 'a b&c=d+e'"


def test_path_segment_escapes_everything() -> None:
    assert path_segment("a/b?c#d e") == "a%2Fb%3Fc%23d%20e"
    with pytest.raises(ValueError):
        path_segment("")


def test_op_parse_errors_become_response_validation_errors() -> None:
    op = Op("GET", "/api/App/Version", parser=lambda response: response.json()["missing"])
    response = httpx.Response(200, json={}, request=httpx.Request("GET", "https://h/api/App/Version"))
    with pytest.raises(pywats.APIResponseValidationError) as caught:
        op.parse(response)
    assert isinstance(caught.value.__cause__, KeyError)


# -- what each domain method sends ------------------------------------------------------------------------------


def test_submit_builds_validated_wsjf_with_station(api) -> None:
    api.stations.add(Station("ICT-01", "Line 1", "Production"))
    report = uut(machine_name="")
    op = api.report.submit.build(report)
    assert (op.method, op.url, op.is_idempotent, op.content_type) == ("POST", "/api/Report/WSJF", True,
                                                                      "application/json")  # fmt: skip
    sent = json.loads(op.body)
    assert sent["id"] == str(report.id) and sent["machineName"] == "ICT-01" and sent["location"] == "Line 1"
    assert report.machine_name == ""


@pytest.mark.parametrize("form", ["model", "text", "bytes", "dict"])
def test_submit_accepts_every_form(api, form: str) -> None:
    report = uut(machine_name="M")
    given_value = {
        "model": report,
        "text": pywats.formats.wsjf.dumps(report),
        "bytes": pywats.formats.wsjf.dumps(report).encode(),
        "dict": pywats.formats.wsjf.to_dict(report),
    }[form]
    assert json.loads(api.report.submit.build(given_value).body)["id"] == str(report.id)


def test_submit_refuses_invalid_reports_before_sending(api) -> None:
    with pytest.raises(ReportFormatError):
        api.report.submit.build('{"type": "T", "pn": "x"}')
    with pytest.raises(ReportFormatError):
        api.report.submit.build("not json")
    report = uut()
    with pytest.raises(ValueError, match="sn"):  # an edit after building is checked where it is made
        report.sn = "x" * 101
    with pytest.raises(TypeError):
        api.report.submit.build(42)


def test_report_reads(api) -> None:
    assert api.report.get.build(RID).url == f"/api/Report/Wsjf/{RID}"
    assert api.report.get.build(str(RID), 3).url == f"/api/Report/Wsjf/{RID}?detailLevel=3"
    op = api.report.get_wsjf.build(RID, 7, include_chartdata=False, include_attachments=True)
    assert op.url == f"/api/Report/Wsjf/{RID}?detailLevel=7&includeChartdata=false&includeAttachments=true"
    op = api.report.get_wsxf.build(RID, include_indexes=False)
    assert (op.url, op.accept) == (f"/api/Report/Wsxf/{RID}?includeIndexes=false", "application/xml")
    assert api.report.get_attachments_zip.build(RID).url == f"/api/Report/Attachments/{RID}"
    assert api.report.get_certificate.build(RID).url == f"/api/Report/Certificate/{RID}"
    assert api.report.get_attachment.build(RID, step_id=4).url == f"/api/Report/Attachment?reportId={RID}&stepId=4"
    assert all(api.report.get.build(RID).missing_ok for _ in [0])


@pytest.mark.parametrize("bad", ["../../api/Asset", "x", "", 12])
def test_report_ids_must_be_uuids(api, bad) -> None:
    with pytest.raises(ValueError, match="UUID"):
        api.report.get.build(bad)


@pytest.mark.parametrize("level", [-1, 8, 2.5, True, "3"])
def test_detail_level_range(api, level) -> None:
    with pytest.raises(ValueError):
        api.report.get.build(RID, level)


def test_attachment_needs_exactly_one_key(api) -> None:
    for kwargs in ({}, {"step_id": 1, "attachment_id": RID}):
        with pytest.raises(ValueError):
            api.report.get_attachment.build(RID, **kwargs)


def test_query_headers_op(api) -> None:
    op = api.report.query_headers.build(F.serial_number == "SN 1", top=5, skip=10, orderby=F.start.desc(),
                                        select=["uuid", "serial_number"], expand="subunits")  # fmt: skip
    params = httpx.URL("https://h" + op.url).params
    assert op.path == "/api/Report/Query/Header"
    assert dict(params) == {
        "$filter": "serialNumber eq 'SN 1'", "$top": "5", "$skip": "10", "$orderby": "start desc",
        "$select": "uuid,serialNumber", "$expand": "subunits",
    }  # fmt: skip
    for bad in ({"top": 10_001}, {"top": -1}, {"skip": -5}):
        with pytest.raises(ValueError):
            api.report.query_headers.build(**bad)


def test_misc_info_and_lists(api) -> None:
    op = api.report.query_headers_by_misc_info.build(description="Firmware", data="1.2")
    assert op.url == "/api/Report/Query/HeaderByMiscInfo?description=Firmware&data=1.2"
    op = api.report.list_uut_reports.build(WatsFilter(part_number="P"), top_count=5)
    assert (op.method, op.path, op.is_idempotent) == ("POST", "/api/App/UutReport", True)
    assert json.loads(op.body) == {"partNumber": "P", "topCount": 5}
    op = api.report.list_uur_reports.build({"serialNumber": "S"}, date_from=datetime(2024, 1, 1))
    assert json.loads(op.body) == {"serialNumber": "S", "dateFrom": "2024-01-01T00:00:00"}


def test_processes_and_version_ops(api) -> None:
    op = api.process.get_processes.build(include_repair_operations=True, include_inactive_processes=False)
    assert op.url == "/api/App/Processes?includeRepairOperations=true&includeInactiveProcesses=false"
    assert api.get_version.build().url == "/api/App/Version"


def test_wsxf_idempotency_follows_report_id(api, monkeypatch) -> None:
    monkeypatch.setattr("pywats.domains.report._validate_wsxf", lambda xml: None)
    with_id = '<Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf"><Report ID="%s" /></Reports>' % RID
    without = '<Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf"><Report /></Reports>'
    op = api.report.submit_wsxf.build(with_id)
    assert (op.path, op.content_type, op.is_idempotent) == ("/api/Report/WSXF", "application/xml", True)
    assert api.report.submit_wsxf.build(without).is_idempotent is False
