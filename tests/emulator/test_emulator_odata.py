"""``GET /api/Report/Query/Header``: the OData subset over real HTTP, and the parser on its own."""

from __future__ import annotations

import uuid

import pytest
from emulator_support import accepted, headers_query, make_report
from hypothesis import given, settings
from hypothesis import strategies as st

from pywats_emulator.headers import DEFAULT_ORDER, REPORT_HEADER, select_sql
from pywats_emulator.odata import ODataError, compile_filter
from pywats_emulator.storage import Storage
from pywats_emulator.testing import running_emulator

SERIALS = [f"Q-{index:03d}" for index in range(12)] + ["O'Brien", "50%_off", "tab\there"]


@pytest.fixture(scope="module")
def seeded():
    """An emulator of this module's own with 15 reports: start one hour apart, Q-000 first."""
    with running_emulator() as emulator, emulator.client(timeout=10) as client:
        reports = []
        for index, sn in enumerate(SERIALS):
            report = make_report(
                sn=sn, pn="PN-A" if index % 2 == 0 else "PN-B", result="F" if index % 5 == 4 else "P",
                processCode=10 if index < 8 else 20, processName=None, start=f"2024-05-01T{index:02d}:30:00+02:00",
            )  # fmt: skip
            accepted(client, report)
            reports.append(report)
        yield emulator, reports


@pytest.fixture
def client(seeded):
    emulator, _ = seeded
    with emulator.client(timeout=10) as client:
        yield client


def serials(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["serialNumber"] for row in response.json()]


def test_default_is_ten_newest_by_start(client) -> None:
    assert serials(client.get("/api/Report/Query/Header")) == list(reversed(SERIALS))[:10]


def test_top_and_skip_page_through_everything(client) -> None:
    pages = [serials(headers_query(client, top=4, skip=skip, orderby="start asc")) for skip in range(0, 16, 4)]
    assert [sn for page in pages for sn in page] == SERIALS
    assert serials(headers_query(client, top=0)) == []


def test_top_is_capped(client) -> None:
    assert client.get("/api/Report/Query/Header", params={"$top": 10000}).status_code == 200
    response = headers_query(client, top=10001)
    assert response.status_code == 400 and "10000" in response.json()["Message"]


@pytest.mark.parametrize(
    ("orderby", "expected"),
    [
        ("serialNumber", sorted(SERIALS)),
        ("serialNumber desc", sorted(SERIALS, reverse=True)),
        ("start asc", SERIALS),
        ("timestamp", SERIALS),  # WATS's spelling; the field is timeStamp
        ("timeStamp desc", list(reversed(SERIALS))),
    ],
)
def test_orderby(client, orderby, expected) -> None:
    assert serials(headers_query(client, orderby=orderby, top=100)) == expected


def test_orderby_uuid(seeded, client) -> None:
    _, reports = seeded
    rows = headers_query(client, orderby="uuid desc", top=100).json()
    assert [row["uuid"] for row in rows] == sorted((r["id"] for r in reports), reverse=True)


def test_orderby_only_on_the_documented_fields(client) -> None:
    response = headers_query(client, orderby="partNumber")
    assert response.status_code == 400 and "start, uuid, serialNumber" in response.json()["Message"]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ("serialNumber eq 'Q-003'", ["Q-003"]),
        ("serialNumber eq 'O''Brien'", ["O'Brien"]),
        ("partNumber eq 'PN-B' and processCode ge 20", ["Q-009", "Q-011", "50%_off"]),
        ("processCode gt 10 and (serialNumber eq 'Q-008' or serialNumber eq 'tab\there')", ["Q-008", "tab\there"]),
        ("not (processCode eq 10) and partNumber ne 'PN-B'", ["Q-008", "Q-010", "O'Brien", "tab\there"]),
        ("serialNumber in ('Q-001', 'Q-002', 'nope')", ["Q-001", "Q-002"]),
        ("result eq 'Failed'", ["Q-004", "Q-009", "tab\there"]),
        ("result eq 'F'", ["Q-004", "Q-009", "tab\there"]),  # the WSJF letter works too
        ("result ne 'Passed' and processCode lt 20", ["Q-004"]),
        ("contains(serialNumber, '%')", ["50%_off"]),  # a literal %, not a LIKE wildcard
        ("contains(serialNumber, '_')", ["50%_off"]),
        ("startswith(serialNumber, 'Q-01')", ["Q-010", "Q-011"]),
        ("endswith(serialNumber, '7')", ["Q-007"]),
        ("endswith(serialNumber, '')", SERIALS),
        ("tolower(serialNumber) eq 'o''brien'", ["O'Brien"]),
        ("length(serialNumber) eq 7 and indexof(serialNumber, 'B') eq 2", ["O'Brien"]),
        ("substring(serialNumber, 2, 2) eq '01'", ["Q-010", "Q-011"]),
        ("start lt 2024-05-01T01:00:00+02:00", ["Q-000"]),  # 00:30+02:00 only
        ("start gt 2024-05-01T12:30:00Z", []),  # the last starts 14:30+02:00, which is 12:30Z
        ("start ge 2024-04-30T22:30:00Z and start le 2024-04-30T23:30:00Z", ["Q-000", "Q-001"]),
        ("start gt 2024-05-01", ["Q-002", "Q-003", "Q-004", "Q-005", "Q-006", "Q-007", "Q-008", "Q-009", "Q-010",
                                 "Q-011", "O'Brien", "50%_off", "tab\there"]),  # fmt: skip
        ("errorCode eq null and serialNumber eq 'Q-000'", ["Q-000"]),
        ("contains(serialNumber, 'Q-00') eq true and not startswith(serialNumber, 'Q-000')",
         ["Q-001", "Q-002", "Q-003", "Q-004", "Q-005", "Q-006", "Q-007", "Q-008", "Q-009"]),  # fmt: skip
        ("SERIALNUMBER eq 'Q-001'", ["Q-001"]),  # property names ignore case, as on WATS
        ("run eq 1 and serialNumber eq 'Q-001'", ["Q-001"]),
    ],
)
def test_filter(client, filter, expected) -> None:
    assert serials(headers_query(client, filter=filter, orderby="start", top=100)) == expected


def test_guid_literal(seeded, client) -> None:
    _, reports = seeded
    wanted = reports[3]["id"]
    assert serials(headers_query(client, filter=f"uuid eq {wanted.upper()}")) == ["Q-003"]


def test_select_and_expand(client) -> None:
    rows = headers_query(client, filter="serialNumber eq 'Q-001'", select="uuid,serialNumber,result,timeStamp").json()
    assert list(rows[0]) == ["uuid", "serialNumber", "result", "timeStamp"]
    row = headers_query(client, filter="serialNumber eq 'Q-001'", expand="subunits,MiscInfo,attachments").json()[0]
    assert row["subUnits"] == [{"partType": "PCBA", "serialNumber": "SUB-1", "partNumber": "SUBPN", "revision": "B"}]
    assert row["miscInfo"] == [{"description": "Firmware", "value": "1.4.2"}]
    assert row["attachments"] == [{"stepId": 3, "filename": "photo.png"}]


def test_every_documented_field_is_returned(client) -> None:
    row = headers_query(client, filter="serialNumber eq 'Q-004'").json()[0]
    documented = {
        "uuid", "serialNumber", "partNumber", "revision", "reportType", "start", "result", "processCode",
        "processName", "stationName", "location", "purpose", "userName", "batchNumber", "executionTime",
        "swFilename", "swVersion", "fixtureId", "testSocketIndex", "errorCode", "errorMessage", "run",
        "passedInRun", "causedUutFailure", "causedUutFailurePath", "referencedUut", "timeStamp", "receiveCount",
        "reportSize",
    }  # fmt: skip
    assert documented <= row.keys()
    assert row["result"] == "Failed" and row["reportType"] == "T" and row["processName"] == "SW Debug"
    assert row["start"] == "2024-05-01T04:30:00+02:00" and row["stationName"] == "Station-1"
    assert row["batchNumber"] == "BATCH-7" and row["userName"] == "operator" and row["swVersion"] == "1.0"


@pytest.mark.parametrize(
    "attack",
    [
        "serialNumber eq 'x'' or 1 eq 1'",
        "serialNumber eq 'x'' or ''1''=''1'",
        "serialNumber eq 'Q-001''; DROP TABLE reports; --'",
        "contains(serialNumber, ''') or 1=1 --')",
    ],
)
def test_injection_attempts_are_plain_text(seeded, client, attack) -> None:
    response = headers_query(client, filter=attack)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json() == []
    assert len(headers_query(client, top=100).json()) == len(SERIALS)


@pytest.mark.parametrize(
    ("filter", "words"),
    [
        ("serialNumber eq", "expected a value"),
        ("serialNumber eq 'open", "Unterminated"),
        ("serialNumber eq 'a' ) or (1 eq 1", "unexpected ')'"),
        ("serialNumber EQ 'a'", "lowercase"),
        ("nosuchfield eq 1", "nosuchfield"),
        ("serialNumber eq 5", "incompatible types"),
        ("start gt '2024-01-01'", "incompatible types"),
        ("year(start) eq 2024", "not a supported function"),
        ("processCode add 1 eq 2", "unexpected 'add'"),
        ("serialNumber; DROP TABLE reports", "unexpected character"),
        ("serialNumber", "true or false"),
        ("start gt 2024-13-45T00:00:00Z", "not a valid date"),
        ("(" * 100 + "serialNumber eq 'a'" + ")" * 100, "nested too deeply"),
    ],
)
def test_malformed_filter_is_400_with_a_message(client, filter, words) -> None:
    response = headers_query(client, filter=filter)
    assert response.status_code == 400
    assert words in response.json()["Message"]


@pytest.mark.parametrize(
    ("options", "words"),
    [({"$count": "true"}, "$count"), ({"$top": "ten"}, "$top"), ({"$skip": "-1"}, "$skip"),
     ({"$select": "uuid,nosuch"}, "nosuch"), ({"$expand": "steps"}, "steps"), ({"$orderby": "start sideways"}, "asc")],
)  # fmt: skip
def test_bad_query_options_are_400(client, options, words) -> None:
    response = client.get("/api/Report/Query/Header", params=options)
    assert response.status_code == 400 and words in response.json()["Message"]


# -- the compiler without HTTP ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def storage():
    db = Storage(None)
    with db.write() as connection:
        connection.execute(
            "INSERT INTO reports (id, type, sn, pn, rev, process_code, result, start, start_utc, first_received,"
            " received, timestamp, receive_count, size, format, body) VALUES (?, 'T', ?, 'PN', 'A', 10, 'P',"
            " '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00.000000Z', '', '', 1, 1, 2, 'WSJF', '{}')",
            (str(uuid.uuid4()), "plain"),
        )
    yield db
    db.close()


@settings(max_examples=150, deadline=None)
@given(text=st.text())
def test_any_string_literal_is_bound_never_spliced(storage, text) -> None:
    escaped = text.replace("'", "''")
    sql, params = compile_filter(f"serialNumber eq '{escaped}'", REPORT_HEADER)
    assert params == [text]
    assert sql == "(reports.sn IS ?)"
    rows = storage.read(f"SELECT {select_sql(REPORT_HEADER.fields)} FROM reports WHERE {sql}", params)
    assert [row["serialNumber"] for row in rows] == (["plain"] if text == "plain" else [])


_PIECES = [
    "(", ")", "'", "''", ",", "eq", "ne", "gt", "le", "and", "or", "not", "in", "serialNumber", "start", "result",
    "processCode", "uuid", "'a'", "'F'", "1", "-2.5e3", "2024-01-01T00:00:00Z", "2024-01-01", "null", "true",
    "startswith", "contains", "substring", "length", "tolower", "concat", "0b7c3a3e-0000-4000-8000-000000000000",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(text=st.tuples(st.lists(st.sampled_from(_PIECES), max_size=14), st.sampled_from([" ", ""])).map(
    lambda parts: parts[1].join(parts[0])
))  # fmt: skip
def test_any_filter_text_is_an_error_or_valid_sql(storage, text) -> None:
    try:
        sql, params = compile_filter(text, REPORT_HEADER)
    except ODataError:
        return
    storage.read(f"SELECT COUNT(*) FROM reports WHERE {sql} ORDER BY {DEFAULT_ORDER}", params)
