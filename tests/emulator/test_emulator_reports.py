"""The Report endpoints over real HTTP: upload, validation, overwrite, download, attachments."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import httpx
import pytest
from conftest import sample_params
from emulator_support import PNG, accepted, make_repair, make_report, post_wsjf, read_sample

from pywats.models import parse_report


@pytest.fixture
def client(emulator):
    with emulator.client(timeout=10) as client:
        yield client


# -- samples round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sample_params("wsjf", "*.json"))
def test_sample_round_trips_field_for_field(client, path) -> None:
    text = read_sample(path)
    sent = parse_report(text)
    response = post_wsjf(client, text)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ID"] == result["uuid"] == str(sent.id)
    assert isinstance(result["Report_ID"], int)

    back = client.get(f"/api/Report/Wsjf/{sent.id}")
    assert back.status_code == 200
    assert parse_report(back.text) == sent


def test_byte_order_mark_is_accepted(client) -> None:
    report = make_report()
    response = post_wsjf(client, b"\xef\xbb\xbf" + json.dumps(report).encode())
    assert response.status_code == 200, response.text
    assert client.get(f"/api/Report/Wsjf/{report['id']}").json()["sn"] == report["sn"]


def test_repair_report_round_trips(client) -> None:
    report = make_repair()
    accepted(client, report)
    back = client.get(f"/api/Report/Wsjf/{report['id']}")
    assert parse_report(back.text) == parse_report(report)


# -- overwrite ----------------------------------------------------------------------------------------


def test_same_id_overwrites_and_counts_receives(client) -> None:
    report = make_report(sn=f"OVR-{uuid.uuid4().hex[:8]}")
    first = post_wsjf(client, report).json()
    changed = dict(report, result="F")
    second = post_wsjf(client, changed).json()
    assert second == first  # same ids, same legacy Report_ID

    rows = client.get("/api/Report/Query/Header", params={"$filter": f"serialNumber eq '{report['sn']}'"}).json()
    assert len(rows) == 1
    assert rows[0]["receiveCount"] == 2
    assert rows[0]["result"] == "Failed"
    assert client.get(f"/api/Report/Wsjf/{report['id']}").json()["result"] == "F"


def test_overwrite_moves_the_report_to_the_end_of_processing_order(client) -> None:
    first, second = make_report(sn="ORDER-1"), make_report(sn="ORDER-2")
    accepted(client, first)
    accepted(client, second)
    accepted(client, first)
    query = {"$filter": "startswith(serialNumber, 'ORDER-')", "$orderby": "timestamp desc"}
    rows = client.get("/api/Report/Query/Header", params=query).json()
    assert [row["serialNumber"] for row in rows] == ["ORDER-1", "ORDER-2"]
    assert rows[0]["timeStamp"] > rows[1]["timeStamp"]


# -- validation ---------------------------------------------------------------------------------------


def _rejected(client, body) -> str:
    response = post_wsjf(client, body)
    assert response.status_code == 400, response.text
    return response.json()["Message"]


def test_broken_json_is_400_with_position(client) -> None:
    message = _rejected(client, '{"type": "T", "sn": ')
    assert "not valid JSON" in message and "line 1" in message


def test_body_must_be_one_object(client) -> None:
    assert "JSON object" in _rejected(client, json.dumps([make_report()]))


def test_not_utf8_is_400(client) -> None:
    assert "UTF-8" in _rejected(client, b'{"sn": "\xff\xfe"}')


def test_unknown_process_code_is_400(client) -> None:
    message = _rejected(client, make_report(processCode=999, processName=None))
    assert "processCode 999" in message and "/api/App/Processes" in message


def test_process_name_is_case_sensitive(client) -> None:
    message = _rejected(client, make_report(processName="sw debug"))
    assert "processName 'sw debug'" in message and "'SW Debug'" in message and "case-sensitive" in message


def test_process_name_of_another_process_is_400(client) -> None:
    assert "does not match process 10" in _rejected(client, make_report(processName="ICT"))


def test_process_name_may_be_left_out(client) -> None:
    report = make_report()
    del report["processName"]
    accepted(client, report)
    row = client.get("/api/Report/Query/Header", params={"$filter": f"uuid eq {report['id']}"}).json()[0]
    assert row["processName"] == "SW Debug"  # the server's name for the code


def test_repair_test_operation_must_exist(client) -> None:
    report = make_repair()
    report["uur"]["processCode"] = 12345
    assert "uur.processCode 12345" in _rejected(client, report)


@pytest.mark.parametrize("field", ["sn", "pn", "rev", "machineName", "location", "purpose", "processCode", "start"])
def test_missing_required_field_is_named(client, field) -> None:
    report = make_report()
    del report[field]
    assert f"'{field}'" in _rejected(client, report)


def test_empty_serial_number_is_400(client) -> None:
    assert "'sn' must not be empty" in _rejected(client, make_report(sn="  "))


def test_test_report_needs_uut_and_root(client) -> None:
    report = make_report()
    del report["uut"]
    assert "'uut'" in _rejected(client, report)
    report = make_report()
    del report["root"]
    assert "'root'" in _rejected(client, report)


def test_over_long_field_names_the_field(client) -> None:
    message = _rejected(client, make_report(sn="X" * 101))
    assert "sn" in message and "100" in message
    report = make_report()
    report["root"]["steps"][0]["steps"][0]["numericMeas"][0]["unit"] = "V" * 21
    message = _rejected(client, report)
    assert "root.steps[0].steps[0].numericMeas[0].unit" in message


def test_bad_result_code_is_400(client) -> None:
    assert "result" in _rejected(client, make_report(result="X"))


def test_rejected_report_is_not_stored(client) -> None:
    report = make_report(processCode=999)
    _rejected(client, report)
    assert client.get(f"/api/Report/Wsjf/{report['id']}").status_code == 404


# -- download -----------------------------------------------------------------------------------------


def test_unknown_report_is_404_and_bad_id_400(client) -> None:
    assert client.get(f"/api/Report/Wsjf/{uuid.uuid4()}").status_code == 404
    response = client.get("/api/Report/Wsjf/not-a-guid")
    assert response.status_code == 400 and "id" in response.json()["Message"]


def test_detail_levels(client) -> None:
    report = make_report()
    accepted(client, report)

    def level(n: int, **params) -> dict:
        response = client.get(f"/api/Report/Wsjf/{report['id']}", params={"detailLevel": n, **params})
        assert response.status_code == 200
        return response.json()

    header = level(0)
    assert header["sn"] == report["sn"] and header["processCode"] == 10
    assert not {"root", "uut", "miscInfos", "subUnits"} & header.keys()
    assert "uut" in level(1) and "subUnits" not in level(1)
    assert "subUnits" in level(2) and "root" not in level(2)
    tree = level(3)["root"]
    assert tree["steps"][0]["steps"][0]["name"] == "Vcc"
    assert "numericMeas" not in tree["steps"][0]["steps"][0] and "attachment" not in tree["steps"][1]
    four = level(4)["root"]
    assert four["steps"][0]["steps"][0]["numericMeas"][0]["value"] == 3.31
    assert four["steps"][1]["attachment"]["data"] == PNG
    no_data = level(7, includeAttachments="false")["root"]["steps"][1]["attachment"]
    assert no_data["name"] == "photo.png" and "data" not in no_data
    assert parse_report(json.dumps(level(7))) == parse_report(report)
    assert client.get(f"/api/Report/Wsjf/{report['id']}", params={"detailLevel": 8}).status_code == 400


def test_chart_data_can_be_left_out(client) -> None:
    report = make_report()
    report["root"]["steps"].append({
        "id": 4, "stepType": "WATS_XYGMNLT", "name": "Curve", "status": "P",
        "numericMeas": [{"compOp": "LOG", "value": 1.0, "status": "P"}],
        "chart": {"chartType": "Line", "label": "I", "series": [{"name": "s", "xdata": "0;1", "ydata": "2;3"}]},
    })  # fmt: skip
    accepted(client, report)
    full = client.get(f"/api/Report/Wsjf/{report['id']}").json()
    assert full["root"]["steps"][2]["chart"]["series"][0]["ydata"] == "2;3"
    plain = client.get(f"/api/Report/Wsjf/{report['id']}", params={"includeChartdata": "false"}).json()
    assert "series" not in plain["root"]["steps"][2]["chart"]
    level5 = client.get(f"/api/Report/Wsjf/{report['id']}", params={"detailLevel": 5}).json()
    assert "chart" not in level5["root"]["steps"][2]


def test_paths_are_case_insensitive_like_wats(client) -> None:
    report = make_report()
    assert client.post("/api/report/wsjf", content=json.dumps(report)).status_code == 200
    assert client.get(f"/API/REPORT/wsjf/{report['id']}").json()["id"] == report["id"]
    assert client.get("/api/app/version").status_code == 200


# -- WSXF ---------------------------------------------------------------------------------------------


def test_wsxf_upload_and_download(client) -> None:
    wsxf = pytest.importorskip("pywats.formats.wsxf")
    report = parse_report(make_report())
    response = client.post("/api/Report/WSXF", content=wsxf.dumps(report), headers={"Content-Type": "text/xml"})
    assert response.status_code == 200, response.text
    assert response.json()["ID"] == str(report.id)
    assert parse_report(client.get(f"/api/Report/Wsjf/{report.id}").text) == report
    xml = client.get(f"/api/Report/Wsxf/{report.id}")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert wsxf.loads(xml.text) == report


@pytest.mark.parametrize("path", sample_params("wsxf", "*.xml"))
def test_wsxf_sample_is_stored_as_the_report_it_describes(client, path) -> None:
    wsxf = pytest.importorskip("pywats.formats.wsxf")
    xml = path.read_bytes()
    expected = wsxf.loads(xml.decode("utf-8-sig"))
    response = client.post("/api/Report/WSXF", content=xml, headers={"Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    assert parse_report(client.get(f"/api/Report/Wsjf/{expected.id}").text) == expected


def test_wsxf_validation_errors_are_400(client) -> None:
    pytest.importorskip("pywats.formats.wsxf")
    response = client.post("/api/Report/WSXF", content="<Reports><Report")
    assert response.status_code == 400 and response.json()["Message"]


# -- attachments --------------------------------------------------------------------------------------


def test_attachment_by_step_id(client) -> None:
    report = make_report()
    accepted(client, report)
    response = client.get("/api/Report/Attachment", params={"reportId": report["id"], "stepId": 3})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert "photo.png" in response.headers["content-disposition"]
    assert response.content.startswith(b"\x89PNG")
    missing = client.get("/api/Report/Attachment", params={"reportId": report["id"], "stepId": 2})
    assert missing.status_code == 404
    assert client.get("/api/Report/Attachment", params={"reportId": report["id"]}).status_code == 400


def test_attachment_by_id_of_a_repair(client) -> None:
    report = make_repair()
    accepted(client, report)
    response = client.get(
        "/api/Report/Attachment",
        params={"reportId": report["id"], "attachmentId": "11111111-2222-3333-4444-555555555555"},
    )
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")


def test_all_attachments_as_zip(client) -> None:
    report = make_report()
    report["root"]["steps"].append(dict(report["root"]["steps"][1], id=4))  # same file name twice
    accepted(client, report)
    response = client.get(f"/api/Report/Attachments/{report['id']}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert names == ["photo.png", "photo (2).png"]


# -- other report queries -----------------------------------------------------------------------------


def test_header_by_misc_info(client) -> None:
    marker = uuid.uuid4().hex
    report = make_report(miscInfos=[{"description": "Lot", "text": marker}])
    accepted(client, report)
    found = client.get("/api/Report/Query/HeaderByMiscInfo", params={"description": "Lot", "data": marker}).json()
    assert [item["uuid"] for item in found] == [report["id"]]
    assert found[0]["miscData"] == [{"description": "Lot", "data": marker}]
    assert found[0]["result"] == "Passed"


def test_uut_and_uur_report_lists(client) -> None:
    sn = f"LIST-{uuid.uuid4().hex[:8]}"
    test = make_report(sn=sn, result="F")
    repair = make_repair(sn=sn)
    accepted(client, test)
    accepted(client, repair)
    uut = client.get("/api/App/UutReport", params={"serialNumber": sn}).json()
    assert [row["uuid"] for row in uut] == [test["id"]]
    assert client.post("/api/App/UutReport", json={"serialNumber": sn, "status": "Passed"}).json() == []
    assert len(client.post("/api/App/UutReport", json={"serialNumber": sn, "status": "Failed"}).json()) == 1
    uur = client.post("/api/App/UurReport", json={"serialNumber": sn}).json()
    assert [row["uuid"] for row in uur] == [repair["id"]]
    assert uur[0]["referencedUut"] == repair["uur"]["refUUT"]


def test_processes_and_version(client) -> None:
    processes = client.get("/api/App/Processes").json()
    by_code = {process["code"]: process for process in processes}
    assert by_code[10]["name"] == "SW Debug" and by_code[10]["isTestOperation"]
    assert by_code[500]["isRepairOperation"] and by_code[600]["isWipOperation"]
    repair_only = client.get("/api/App/Processes", params={"includeRepairOperations": "true"}).json()
    assert [process["code"] for process in repair_only] == [500]
    version = client.get("/api/App/Version")
    assert version.status_code == 200 and isinstance(version.json(), str)


def test_unknown_api_path_is_404_json(client) -> None:
    response = client.get("/api/Nothing/Here")
    assert response.status_code == 404 and "Message" in response.json()


def test_http_errors_do_not_leak_fastapi_422(client) -> None:
    response = client.get("/api/Report/Wsjf/" + str(uuid.uuid4()), params={"detailLevel": "high"})
    assert response.status_code == 400
    assert "detailLevel" in response.json()["Message"]


def test_concurrent_uploads_never_duplicate(emulator) -> None:
    import concurrent.futures

    sn = f"CONC-{uuid.uuid4().hex[:8]}"
    shared = make_report(sn=sn)
    others = [make_report(sn=sn) for _ in range(10)]

    def send(report: dict) -> int:
        with httpx.Client(base_url=emulator.url, headers=emulator.headers, timeout=20) as own:
            return post_wsjf(own, report).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, [shared] * 10 + others))
    assert statuses == [200] * 20
    with emulator.client() as client:
        rows = client.get("/api/Report/Query/Header", params={"$filter": f"serialNumber eq '{sn}'", "$top": 100}).json()
    assert len(rows) == 11
    assert {row["uuid"]: row["receiveCount"] for row in rows}[shared["id"]] == 10
    assert len({row["timeStamp"] for row in rows}) == 11
