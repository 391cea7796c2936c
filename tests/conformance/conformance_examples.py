"""The example requests of the conformance test, one or more per emulator operation, and the data they need.

:func:`seed` stores what the examples read or change (reports, an asset type and assets, a product, units, a
software package, root cause tickets...) and returns the values their ``{placeholders}`` take. An example
that deletes or archives something has an entity of its own in the seed, so the examples can run in any
order and one at a time (``pytest -k``).

``known`` lists the problem keys where the emulator's answer and the literal document are known to differ,
and ``why`` says why (see :data:`PLACEHOLDER_LIST` and the others below). Add an entry for every new route:
``test_every_served_api_route_has_an_example`` fails, naming the route, until there is one.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from pywats.builder import ReportBuilder
from pywats.formats import wsjf, wsxf
from pywats.synthetic import synthetic_report

Seeded = dict[str, Any]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
REPAIR_ATTACHMENT_ID = "6d2f1c3a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
MISSING_ID = "00000000-0000-4000-8000-000000000000"
SINCE = "2020-01-01T00:00:00"

# -- known differences -----------------------------------------------------------------------------------

PLACEHOLDER_LIST = {
    "known": ("$ type",),
    "why": "the document gives {type: object}, the placeholder its generator (Swashbuckle) writes for an action "
    "that returns an untyped result; the emulator answers a JSON array, the list the operation describes",
}
FILE_ANSWER = {
    "known": ("content-type not-listed",),
    "why": "the document lists the same formatter media types (JSON, XML, HTML) for every action; an action "
    "that returns a file answers with the file's own type (image/png, application/zip, text/csv)",
}
LIST_FOR_ONE = {
    "known": ("$ type",),
    "why": "the document types the answer as one Package, while its own summary says it returns a list; the "
    "emulator answers a list (reported: decide which to follow)",
}


@dataclass(frozen=True)
class Example:
    """One request and the status it must get.

    ``{name}`` in ``path``, ``params`` and ``json`` is replaced by the seeded value of that name. ``body`` makes
    a raw body from the seeded values (sent with ``content_type``), ``files`` a multipart upload.
    """

    method: str
    path: str
    status: int = 200
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    body: Callable[[Seeded], str | bytes] | None = None
    content_type: str | None = None
    files: Callable[[Seeded], dict[str, Any]] | None = None
    authorized: bool = True
    known: tuple[str, ...] = ()
    why: str = ""
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.status}" + (f" {self.name}" if self.name else "")


def _wsjf_body(sn: str, steps: int = 20) -> Callable[[Seeded], str]:
    return lambda seeded: wsjf.dumps(synthetic_report(steps, sn=sn, pn="CONF-PN"))


def _without(field_name: str) -> Callable[[Seeded], str]:
    def body(seeded: Seeded) -> str:
        document = json.loads(wsjf.dumps(synthetic_report(10, sn="CONF-BAD", pn="CONF-PN")))
        document.pop(field_name)
        return json.dumps(document)

    return body


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def _upload(name: str, content: bytes, media: str) -> Callable[[Seeded], dict[str, Any]]:
    return lambda seeded: {"file": (name, content, media)}


BOM = """<BOM xmlns="http://wats.virinco.com/schemas/WATS/wsbf" Partnumber="CONF-PN" Revision="A" Desc="Board">
  <Component Number="R12" Rev="1" Qty="2" Desc="Resistor 10k" Ref="R12;R13" FunctionBlock="Power" />
</BOM>"""
FILTER = {"partNumber": "CONF-PN", "dateFrom": SINCE}
STEP_FILTER = {"partNumber": "CONF-PN", "testOperation": "10", "dateFrom": SINCE}

EXAMPLES: list[Example] = [
    # -- Report: upload
    Example("POST", "/api/Report/WSJF", body=_wsjf_body("CONF-UP-1"), content_type="application/json"),
    Example("POST", "/api/report/wsjf", body=_wsjf_body("CONF-UP-2", 40), content_type="application/json",
            name="lower-case path"),
    Example("POST", "/api/Report/WSJF", 400, body=lambda s: "{not json", content_type="application/json",
            name="not JSON"),
    Example("POST", "/api/Report/WSJF", 400, body=_without("sn"), content_type="application/json",
            name="no serial number"),
    Example("POST", "/api/Report/WSXF", body=lambda s: wsxf.dumps(synthetic_report(12, sn="CONF-XML")),
            content_type="application/xml"),
    Example("POST", "/api/Report/WSXF", 400, body=lambda s: "<Reports><Report", content_type="application/xml",
            name="not XML"),
    # -- Report: download
    Example("GET", "/api/Report/Wsjf/{test_id}"),
    Example("GET", "/api/Report/Wsjf/{attached_id}", params={"detailLevel": 0}, name="level 0"),
    Example("GET", "/api/Report/Wsjf/{attached_id}", params={"detailLevel": 4, "includeAttachments": "false",
                                                              "includeChartdata": "false"}, name="level 4"),
    Example("GET", "/api/Report/Wsjf/{repair_id}", name="repair report"),
    Example("GET", "/api/Report/Wsjf/" + MISSING_ID, 404, name="unknown report"),
    Example("GET", "/api/Report/Wsjf/{test_id}", 400, params={"detailLevel": 9}, name="detail level 9"),
    Example("GET", "/api/Report/Wsjf/not-a-uuid", 400, name="id not a uuid"),
    Example("GET", "/api/Report/Wsxf/{test_id}"),
    Example("GET", "/api/Report/Wsxf/{attached_id}", params={"detailLevel": 3, "includeAttachments": "false",
                                                              "includeIndexes": "false"}, name="level 3"),
    Example("GET", "/api/Report/Wsxf/" + MISSING_ID, 404, name="unknown report"),
    # -- Report: header queries
    Example("GET", "/api/Report/Query/Header"),
    Example("GET", "/api/Report/Query/Header", params={"$filter": "partNumber eq 'CONF-PN'", "$top": 2,
                                                        "$orderby": "start desc"}, name="filter"),
    Example("GET", "/api/Report/Query/Header", params={
        "$filter": "serialNumber eq '{attached_sn}' or serialNumber eq '{repair_sn}'",
        "$expand": "subUnits,miscInfo,assets,attachments,uurSubUnits,uurMiscInfo,uurAttachments"}, name="expand"),
    Example("GET", "/api/Report/Query/Header", params={"$select": "uuid,serialNumber,start,result", "$skip": 1},
            name="select"),
    Example("GET", "/api/Report/Query/Header", 400, params={"$filter": "serialNumber eq"}, name="bad filter"),
    Example("GET", "/api/Report/Query/Header", 400, params={"$orderby": "partNumber"}, name="bad orderby"),
    Example("GET", "/api/Report/Query/HeaderByMiscInfo", params={"description": "Firmware", "data": "1.4.2"}),
    Example("GET", "/api/Report/Query/HeaderByMiscInfo", params={"serialNumber": "{attached_sn}", "processCode": 10},
            name="serial number"),
    Example("GET", "/api/Report/Query/HeaderByMiscInfo", params={"serialNumber": "NO-SUCH-UNIT"}, name="none"),
    # -- Report: attachments
    Example("GET", "/api/Report/Attachment", params={"reportId": "{attached_id}", "stepId": "{attached_step}"},
            **FILE_ANSWER, name="step attachment"),
    Example("GET", "/api/Report/Attachment", params={"reportId": "{repair_id}", "attachmentId": REPAIR_ATTACHMENT_ID},
            **FILE_ANSWER, name="repair attachment"),
    Example("GET", "/api/Report/Attachment", 400, params={"reportId": "{attached_id}"}, name="neither id"),
    Example("GET", "/api/Report/Attachment", 404, params={"reportId": "{attached_id}", "stepId": 999},
            name="no such step"),
    Example("GET", "/api/Report/Attachment", 404, params={"reportId": MISSING_ID, "stepId": 1}, name="unknown report"),
    Example("GET", "/api/Report/Attachments/{attached_id}", **FILE_ANSWER),
    Example("GET", "/api/Report/Attachments/" + MISSING_ID, 404, name="unknown report"),
    # -- App: server information
    Example("GET", "/api/App/Processes", **PLACEHOLDER_LIST),
    Example("GET", "/api/App/Processes", params={"includeRepairOperations": "true", "includeInactiveProcesses": "true"},
            **PLACEHOLDER_LIST, name="repair"),
    Example("GET", "/api/App/Version"),
    Example("GET", "/api/app/version", name="lower-case path"),
    Example("GET", "/api/App/Version", 401, authorized=False, name="no token"),
    # -- App: report lists
    Example("GET", "/api/App/UutReport", **PLACEHOLDER_LIST),
    Example("GET", "/api/App/UutReport", params={"partNumber": "CONF-PN", "status": "Passed", "dateFrom": SINCE},
            **PLACEHOLDER_LIST, name="filter"),
    Example("POST", "/api/App/UutReport", json={}, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/UutReport", json={"serialNumber": "{attached_sn}", "testOperation": "10", "topCount": 5},
            **PLACEHOLDER_LIST, name="filter"),
    Example("POST", "/api/App/UutReport", 400, json={"dateFrom": "yesterday"}, name="bad date"),
    Example("POST", "/api/App/UurReport", json={}, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/UurReport", json={"partNumber": "{attached_pn}", "topCount": 1}, **PLACEHOLDER_LIST,
            name="filter"),
    # -- App: statistics
    Example("POST", "/api/App/DynamicYield", json={}, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/DynamicYield", params={"dimensions": "partNumber;stationName"},
            json={**FILTER, "dateGrouping": 2}, **PLACEHOLDER_LIST, name="dimensions"),
    Example("POST", "/api/App/DynamicYield", 400, params={"dimensions": "noSuchDimension"}, json=FILTER,
            name="unknown dimension"),
    Example("POST", "/api/App/DynamicRepair", json=FILTER, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/VolumeYield", json=FILTER, **PLACEHOLDER_LIST),
    Example("GET", "/api/App/VolumeYield", params={"days": 30, "productGroupId": "", "levelId": ""},
            **PLACEHOLDER_LIST),
    Example("GET", "/api/App/VolumeYield", 400, params={"days": 0, "productGroupId": "", "levelId": ""},
            name="days 0"),
    Example("POST", "/api/App/HighVolume", json=FILTER, **PLACEHOLDER_LIST),
    Example("GET", "/api/App/HighVolume", params={"days": 30, "productGroupId": "", "levelId": ""},
            **PLACEHOLDER_LIST),
    Example("POST", "/api/App/HighVolumeByProductGroup", json=FILTER, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/WorstYield", json=FILTER, **PLACEHOLDER_LIST),
    Example("GET", "/api/App/WorstYield", params={"days": 30, "productGroupId": "", "levelId": ""},
            **PLACEHOLDER_LIST),
    Example("POST", "/api/App/WorstYieldByProductGroup", json=FILTER, **PLACEHOLDER_LIST),
    Example("GET", "/api/App/RelatedRepairHistory", params={"partNumber": "CONF-PN", "revision": "B"},
            **PLACEHOLDER_LIST),
    Example("GET", "/api/App/RelatedRepairHistory", 400, params={"partNumber": "CONF-PN", "revision": "B",
                                                                 "repairOperationCode": "No such process"},
            name="unknown process"),
    Example("POST", "/api/App/TopFailed", json=FILTER, **PLACEHOLDER_LIST),
    Example("GET", "/api/App/TopFailed", params={"partNumber": "CONF-PN", "processCode": "10", "productGroupId": "",
                                                 "levelId": "", "days": 30, "count": 5}, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/SerialNumberHistory", json={"serialNumber": "{attached_sn}"}, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/SerialNumberHistory", 400, json={}, name="no unit"),
    Example("POST", "/api/App/TestStepAnalysis", json=STEP_FILTER, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/TestStepAnalysis", 400, json={"partNumber": "CONF-PN"}, name="no test operation"),
    Example("POST", "/api/App/Measurements", json=STEP_FILTER, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/Measurements", params={"measurementPaths": "Vcc"}, json=STEP_FILTER,
            **PLACEHOLDER_LIST, name="path"),
    Example("POST", "/api/App/AggregatedMeasurements", json=STEP_FILTER, **PLACEHOLDER_LIST),
    Example("POST", "/api/App/OeeAnalysis", params={"availableTime": "24,24,24,24,24,24,24"}, json=FILTER),
    Example("POST", "/api/App/OeeAnalysis", 400, params={"availableTime": "24"}, json=FILTER,
            name="bad available time"),
    Example("GET", "/api/App/ProductGroups", **PLACEHOLDER_LIST),
    Example("GET", "/api/App/Levels", **PLACEHOLDER_LIST),
    # -- Product
    Example("PUT", "/api/Product", json={"partNumber": "CONF-PN", "name": "Conformance board",
                                         "description": "updated", "revisions": [{"revision": "C"}]}),
    Example("PUT", "/api/Product", json={"partNumber": "CONF-NEW-PN", "name": "New board", "nonSerial": False},
            name="new product"),
    Example("PUT", "/api/Product", 404, json={"productId": MISSING_ID, "partNumber": "X"}, name="unknown id"),
    Example("GET", "/api/Product/CONF-PN"),
    Example("GET", "/api/Product/NO-SUCH-PN", 404, name="unknown product"),
    Example("GET", "/api/Product/CONF-PN/A"),
    Example("GET", "/api/Product/CONF-PN/ZZ", 404, name="unknown revision"),
    Example("PUT", "/api/Product/Revision", json={"PartNumber": "CONF-PN", "revision": "B", "name": "Rev B"}),
    Example("PUT", "/api/Product/Revision", 400, json={"revision": "B"}, name="no product"),
    Example("PUT", "/api/Product/BOM", body=lambda s: BOM, content_type="application/xml"),
    Example("PUT", "/api/Product/BOM", 400, body=lambda s: "<BOM", content_type="application/xml", name="not XML"),
    Example("GET", "/api/Product/Query"),
    Example("GET", "/api/Product/Query", params={"$filter": "startswith(partNumber, 'CONF')", "$top": 5},
            name="filter"),
    Example("GET", "/api/Product/Vendors", **PLACEHOLDER_LIST),
    Example("PUT", "/api/Product/Vendors", json=[{"VendorName": "CONF-VENDOR-2"}]),
    Example("DELETE", "/api/Product/Vendors", json=[{"VendorName": "CONF-VENDOR-OLD"}]),
    Example("PUT", "/api/Product/Vendors", 400, json={"VendorName": "not a list"}, name="not a list"),
    Example("POST", "/api/Product/ProductGroupFilter", params={"productGroup": "PCBA", "partNumber": "CONF-*"}),
    Example("POST", "/api/Product/ProductGroupFilter", 404, params={"productGroup": "No group", "partNumber": "X"},
            name="unknown group"),
    Example("GET", "/api/Product/ProductGroupsByProduct", params={"partNumber": "CONF-PN", "revision": "A"},
            **PLACEHOLDER_LIST),
    Example("PUT", "/api/Products", json=[{"partNumber": "CONF-ERP-1", "name": "ERP one"},
                                          {"partNumber": "CONF-ERP-2", "name": "ERP two"}]),
    Example("PUT", "/api/Products/Revisions", json=[{"PartNumber": "CONF-PN", "revision": "ERP-1"}]),
    Example("PUT", "/api/Products/Revisions", 400, json=[{"PartNumber": "NO-SUCH-PN", "revision": "1"}],
            name="unknown product"),
    # -- Asset
    Example("GET", "/api/Asset"),
    Example("GET", "/api/Asset", params={"$filter": "serialNumber eq '{asset_sn}'", "$select": "assetId,serialNumber"},
            name="filter"),
    Example("PUT", "/api/Asset", json={"serialNumber": "{asset_sn}", "typeId": "{asset_type_id}",
                                       "description": "bench meter", "location": "Lab"}),
    Example("PUT", "/api/Asset", json={"serialNumber": "CONF-NEW-ASSET", "typeId": "{asset_type_id}",
                                       "assetName": "New asset", "tags": [{"key": "Owner", "value": "lab"}]},
            name="new asset"),
    Example("PUT", "/api/Asset", 400, json={"serialNumber": "CONF-X", "typeId": MISSING_ID}, name="unknown type"),
    Example("DELETE", "/api/Asset", params={"serialNumber": "{asset_to_delete}"}),
    Example("DELETE", "/api/Asset", 404, params={"serialNumber": "NO-SUCH-ASSET"}, name="unknown asset"),
    Example("GET", "/api/Asset/{asset_id}", name="by id"),
    Example("GET", "/api/Asset/{asset_sn}", name="by serial number"),
    Example("GET", "/api/Asset/NO-SUCH-ASSET", 404, name="unknown asset"),
    Example("POST", "/api/Asset/Calibration", params={"serialNumber": "{asset_sn}", "dateTime": "2026-01-15T08:00:00Z",
                                                      "comment": "yearly"}),
    Example("POST", "/api/Asset/Maintenance", params={"id": "{asset_id}", "comment": "cleaned"}),
    Example("POST", "/api/Asset/Maintenance", 400, params={}, name="no asset named"),
    Example("PUT", "/api/Asset/Count", params={"serialNumber": "{asset_sn}", "incrementBy": 2,
                                               "incrementChildren": "true"}),
    Example("PUT", "/api/Asset/Count", 400, params={"serialNumber": "{asset_sn}"}, name="no count"),
    Example("POST", "/api/Asset/ResetRunningCount", params={"serialNumber": "{asset_sn}", "comment": "reset"}),
    Example("PUT", "/api/Asset/State", params={"serialNumber": "{asset_sn}", "state": 1}),
    Example("PUT", "/api/Asset/State", 400, params={"serialNumber": "{asset_sn}", "state": 9}, name="state 9"),
    Example("GET", "/api/Asset/Status", params={"serialNumber": "{asset_sn}"}),
    Example("GET", "/api/Asset/Log"),
    Example("GET", "/api/Asset/Log", params={"$filter": "serialNumber eq '{asset_sn}'", "$top": 3}, name="filter"),
    Example("POST", "/api/Asset/Message", params={"serialNumber": "{asset_sn}"}, json={"content": "Probe replaced"}),
    Example("GET", "/api/Asset/SubAssets", params={"serialNumber": "{asset_sn}", "level": 1}, **PLACEHOLDER_LIST),
    Example("GET", "/api/Asset/Types"),
    Example("PUT", "/api/Asset/Types", json={"typeName": "CONF-SCOPE", "calibrationInterval": 180.0,
                                             "runningCountLimit": 500}),
    Example("PUT", "/api/Asset/Types", 400, json={"calibrationInterval": 1.0}, name="no name"),
    # -- Production: units
    Example("GET", "/api/Production/Unit/{parent_sn}/{parent_pn}"),
    Example("GET", "/api/Production/Unit/NO-SUCH-UNIT/NO-PN", 404, name="unknown unit"),
    Example("PUT", "/api/Production/Units", json=[{"serialNumber": "CONF-UNIT-9", "partNumber": "CONF-PN",
                                                   "revision": "A", "batchNumber": "BATCH-9"}]),
    Example("PUT", "/api/Production/Units", 400, json=[], name="empty list"),
    Example("PUT", "/api/Production/SetUnitPhase", params={"serialNumber": "{parent_sn}", "partNumber": "{parent_pn}",
                                                           "phase": 2}),
    Example("PUT", "/api/Production/SetUnitPhase", 400, params={"serialNumber": "{parent_sn}",
                                                                "partNumber": "{parent_pn}", "phase": 3},
            name="unknown phase"),
    Example("PUT", "/api/Production/SetUnitProcess", params={"serialNumber": "{parent_sn}",
                                                             "partNumber": "{parent_pn}", "processName": "ICT"}),
    Example("GET", "/api/Production/Units/Changes", params={"maxCount": 5}),
    Example("GET", "/api/Production/Units/Changes", 400, params={"maxCount": 0}, name="max count 0"),
    Example("DELETE", "/api/Production/Units/Changes/{change_id}"),
    Example("DELETE", "/api/Production/Units/Changes/999999", 404, name="unknown change"),
    Example("POST", "/api/Production/AddChildUnit", params={
        "parentSerialNumber": "{parent_sn}", "parentPartNumber": "{parent_pn}", "childSerialNumber": "{free_child_sn}",
        "childPartNumber": "CONF-PN", "checkPartNumber": "CONF-*", "checkRevision": "A"}),
    Example("POST", "/api/Production/AddChildUnit", 404, params={
        "parentSerialNumber": "{parent_sn}", "parentPartNumber": "{parent_pn}", "childSerialNumber": "NO-SUCH-UNIT",
        "childPartNumber": "CONF-PN", "checkPartNumber": "", "checkRevision": ""}, name="unknown child"),
    Example("POST", "/api/Production/RemoveChildUnit", params={
        "parentSerialNumber": "{parent_sn}", "parentPartNumber": "{parent_pn}", "childSerialNumber": "{child_sn}",
        "childPartNumber": "CONF-PN"}),
    Example("GET", "/api/Production/CheckChildUnits", params={"parentSerialNumber": "{parent_sn}",
                                                              "parentPartNumber": "{parent_pn}"}),
    Example("PUT", "/api/Production/Batches", json=[{"batchNumber": "BATCH-CONF", "batchSize": 50}]),
    Example("GET", "/api/Production/UnitVerification", params={"serialNumber": "{attached_sn}",
                                                               "partNumber": "CONF-PN"}),
    Example("GET", "/api/Production/UnitVerification", 404, params={"serialNumber": "NO-SUCH-UNIT"},
            name="unknown unit"),
    # -- Production: serial numbers
    Example("GET", "/api/Production/SerialNumbers/Types"),
    Example("POST", "/api/Production/SerialNumbers/Take", params={"serialNumberType": "SerialNumber", "quantity": 3,
                                                                  "refSN": "CONF-0001", "format": "XML"}),
    Example("POST", "/api/Production/SerialNumbers/Take", params={
        "serialNumberType": "MACAddress", "quantity": 2, "onlyInSequence": "true", "format": "CSV"}, **FILE_ANSWER,
        name="CSV"),
    Example("POST", "/api/Production/SerialNumbers/Take", 404, params={"serialNumberType": "NoSuchType",
                                                                       "quantity": 1}, name="unknown type"),
    Example("GET", "/api/Production/SerialNumbers", params={"serialNumberType": "SerialNumber", "format": "XML"}),
    Example("GET", "/api/Production/SerialNumbers", params={"serialNumberType": "SerialNumber", "format": "CSV"},
            **FILE_ANSWER, name="CSV"),
    Example("GET", "/api/Production/SerialNumbers", 400, params={"serialNumberType": "SerialNumber",
                                                                 "format": "JSON"}, name="bad format"),
    Example("PUT", "/api/Production/SerialNumbers", params={"serialNumberType": "IMEI", "format": "CSV"},
            files=_upload("imei.csv", b"serialNumber\r\n356938035643809\r\n356938035643817\r\n", "text/csv")),
    Example("GET", "/api/Production/SerialNumbers/ByRange", params={
        "serialNumberType": "SerialNumber", "startAddress": "SN-00000001", "endAddress": "SN-00000100"},
        **PLACEHOLDER_LIST),
    Example("GET", "/api/Production/SerialNumbers/ByReference", params={"serialNumberType": "SerialNumber",
                                                                         "refSN": "{taken_ref}"}, **PLACEHOLDER_LIST),
    Example("GET", "/api/Production/SerialNumbers/ByReference", 400, params={"serialNumberType": "SerialNumber"},
            name="no reference"),
    # -- Software
    Example("GET", "/api/Software/Packages", **LIST_FOR_ONE),
    Example("POST", "/api/Software/Package", json={"name": "CONF-PKG", "description": "next version",
                                                   "rootDirectory": "C:\\Tests", "priority": 1}),
    Example("POST", "/api/Software/Package", 400, json={"description": "no name"}, name="no name"),
    Example("GET", "/api/Software/Package/{package_id}"),
    Example("GET", "/api/Software/Package/" + MISSING_ID, 404, name="unknown package"),
    Example("GET", "/api/Software/Package/not-a-guid", 400, name="id not a GUID"),
    Example("PUT", "/api/Software/Package/{package_id}", json={"description": "edited", "tags": [
        {"key": "station", "value": "ICT"}]}),
    Example("DELETE", "/api/Software/Package/{package_to_delete}", 204),
    Example("POST", "/api/Software/PackageStatus/{package_to_release}", params={"status": "Pending"}),
    Example("POST", "/api/Software/PackageStatus/{package_id}", 400, params={"status": "Revoked"},
            name="not allowed"),
    Example("GET", "/api/Software/PackageByName", params={"name": "{package_name}", "status": "Draft"}),
    Example("DELETE", "/api/Software/PackageByName", 204, params={"name": "{package_name_to_delete}", "version": 1}),
    Example("GET", "/api/Software/PackagesByTag", params={"tag": "station=ICT", "status": "Draft"}, **LIST_FOR_ONE),
    Example("GET", "/api/Software/PackagesByTag", 400, params={"tag": "station", "status": "Draft"},
            name="tag without value"),
    Example("GET", "/api/Software/PackageFiles/{package_id}"),
    Example("POST", "/api/Software/Package/UploadZip/{package_id}", params={"cleanInstall": "false"},
            files=_upload("more.zip", _zip({"docs/readme.txt": b"read me"}), "application/zip")),
    Example("POST", "/api/Software/Package/UploadZip/{package_id}", 400,
            files=_upload("root.zip", _zip({"readme.txt": b"on the root"}), "application/zip"), name="file on root"),
    Example("POST", "/api/Software/Package/FileAttribute/{package_file_id}", params={"attribute": "ExecuteOnce"}),
    Example("POST", "/api/Software/Package/FileAttribute/{package_file_id}", 400, params={"attribute": "Sometimes"},
            name="unknown attribute"),
    Example("GET", "/api/Software/VirtualFolders"),
    # -- RootCause
    Example("POST", "/api/RootCause/Attachment", files=_upload("scope.png", PNG, "image/png")),
    Example("GET", "/api/RootCause/Attachment", params={"attachmentId": "{rootcause_attachment_id}"}, **FILE_ANSWER),
    Example("GET", "/api/RootCause/Attachment", 404, params={"attachmentId": MISSING_ID}, name="unknown attachment"),
    Example("POST", "/api/RootCause/Ticket", json={"subject": "Vcc low on CONF-PN", "priority": 1,
                                                   "reportUuid": "{test_id}", "tags": [{"key": "line", "value": "1"}],
                                                   "update": {"content": "Seen on two units", "attachments": [
                                                       {"attachmentId": "{rootcause_attachment_id}"}]}}),
    Example("POST", "/api/RootCause/Ticket", 400, json={"priority": 1}, name="no subject"),
    Example("GET", "/api/RootCause/Ticket", params={"ticketId": "{ticket_id}"}),
    Example("GET", "/api/RootCause/Ticket", 404, params={"ticketId": MISSING_ID}, name="unknown ticket"),
    Example("PUT", "/api/RootCause/Ticket", json={"ticketId": "{ticket_id}", "status": 2, "progress": "Measuring",
                                                  "update": {"content": "Checking the regulator"}}),
    Example("PUT", "/api/RootCause/Ticket", 400, json={"subject": "no id"}, name="no ticket id"),
    Example("GET", "/api/RootCause/Tickets", params={"status": 63, "view": 2}),
    Example("GET", "/api/RootCause/Tickets", params={"status": 1, "view": 1, "searchString": "Vcc"}, name="search"),
    Example("GET", "/api/RootCause/Tickets", 400, params={"status": 0, "view": 2}, name="status 0"),
    Example("POST", "/api/RootCause/ArchiveTickets", json=["{solved_ticket_id}"]),
    Example("POST", "/api/RootCause/ArchiveTickets", 400, json=["{ticket_id}"], name="not solved"),
]  # fmt: skip


# -- the data the examples need --------------------------------------------------------------------------


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, f"seeding: {response.request.method} {response.request.url} got " \
        f"{response.status_code}: {response.text[:500]}"  # fmt: skip
    return response.json() if "json" in response.headers.get("content-type", "") else response.content


def _reports(client: httpx.Client) -> Seeded:
    test = synthetic_report(20, sn="CONF-0001", pn="CONF-PN")
    _ok(client.post("/api/Report/WSJF", content=wsjf.dumps(test)))

    builder = ReportBuilder.uut(
        pn="CONF-PN", sn="CONF-0002", rev="B", process_code=10, machine_name="CONF-STATION", location="Lab",
        purpose="Conformance", batch_sn="BATCH-1", fixture_id="FX-1", comment="conformance", user="operator",
    )  # fmt: skip
    builder.misc_info("Firmware", "1.4.2").misc_info("Build", numeric=42)
    builder.sub_unit("PCBA", "SUB-0001", "SUB-PN", "A").asset("DMM-0001", usage_count=3)
    builder.numeric("Vcc", 3.31, low=3.2, high=3.4, unit="V")
    builder.attach("photo.png", PNG, content_type="image/png")
    attached = builder.build()
    _ok(client.post("/api/Report/WSJF", content=wsjf.dumps(attached)))

    repair = (
        ReportBuilder.uur(
            pn="CONF-PN",
            sn="CONF-0002",
            rev="B",
            test_process_code=10,
            ref_uut=attached.id,
            machine_name="CONF-REPAIR",
            location="Lab",
            purpose="Repair",
            user="technician",
        )
        .failure("Solder", "Bridge", comRef="R5")
        .attach("bridge.txt", b"solder bridge at R5", content_type="text/plain")
    )
    document = json.loads(wsjf.dumps(repair.build()))
    document["binaryData"][0]["id"] = REPAIR_ATTACHMENT_ID
    _ok(client.post("/api/Report/WSJF", content=json.dumps(document)))
    return {
        "test_id": str(test.id), "attached_id": str(attached.id), "attached_sn": attached.sn,
        "attached_pn": attached.pn, "repair_id": document["id"], "repair_sn": document["sn"],
        "attached_step": next(step.id for step in attached.root.steps if step.name == "photo.png"),
    }  # fmt: skip


def _products(client: httpx.Client) -> Seeded:
    _ok(client.put("/api/Product", json={"partNumber": "CONF-PN", "name": "Conformance board",
                                         "revisions": [{"revision": "A"}, {"revision": "B"}]}))  # fmt: skip
    _ok(client.put("/api/Product/Vendors", json=[{"VendorName": "CONF-VENDOR"}, {"VendorName": "CONF-VENDOR-OLD"}]))
    return {}


def _assets(client: httpx.Client) -> Seeded:
    kind = _ok(
        client.put(
            "/api/Asset/Types",
            json={
                "typeName": "CONF-DMM",
                "calibrationInterval": 365.0,
                "maintenanceInterval": 90.0,
                "runningCountLimit": 1000,
            },
        )
    )
    meter = _ok(client.put("/api/Asset", json={"serialNumber": "CONF-DMM-1", "typeId": kind["typeId"],
                                               "assetName": "Bench DMM"}))  # fmt: skip
    for serial in ("CONF-PROBE-1", "CONF-ASSET-DEL"):
        _ok(client.put("/api/Asset", json={"serialNumber": serial, "typeId": kind["typeId"],
                                           "parentSerialNumber": "CONF-DMM-1"}))  # fmt: skip
    return {"asset_type_id": kind["typeId"], "asset_id": meter["assetId"], "asset_sn": "CONF-DMM-1",
            "asset_to_delete": "CONF-ASSET-DEL"}  # fmt: skip


def _units(client: httpx.Client) -> Seeded:
    _ok(client.put("/api/Production/Units", json=[
        {"serialNumber": "CONF-BOX-1", "partNumber": "CONF-BOX", "revision": "A"},
        {"serialNumber": "CONF-CHILD-1", "partNumber": "CONF-PN", "revision": "A", "unitPhaseId": 16},
        {"serialNumber": "CONF-CHILD-2", "partNumber": "CONF-PN", "revision": "A", "unitPhaseId": 16},
    ]))  # fmt: skip
    _ok(client.post("/api/Production/AddChildUnit", params={
        "parentSerialNumber": "CONF-BOX-1", "parentPartNumber": "CONF-BOX", "childSerialNumber": "CONF-CHILD-1",
        "childPartNumber": "CONF-PN", "checkPartNumber": "", "checkRevision": ""}))  # fmt: skip
    change = _ok(client.get("/api/Production/Units/Changes", params={"maxCount": 1}))[0]
    _ok(client.post("/api/Production/SerialNumbers/Take", params={
        "serialNumberType": "SerialNumber", "quantity": 2, "refSN": "CONF-BOX-1", "format": "XML"}))  # fmt: skip
    return {"parent_sn": "CONF-BOX-1", "parent_pn": "CONF-BOX", "child_sn": "CONF-CHILD-1",
            "free_child_sn": "CONF-CHILD-2", "change_id": change["id"], "taken_ref": "CONF-BOX-1"}  # fmt: skip


def _software(client: httpx.Client) -> Seeded:
    package = _ok(
        client.post(
            "/api/Software/Package",
            json={"name": "CONF-PKG", "description": "test programs", "tags": [{"key": "station", "value": "ICT"}]},
        )
    )
    zipped = _zip({"tools/flash.exe": b"MZ-fake", "tools/config.ini": b"[flash]\n"})
    _ok(client.post(f"/api/Software/Package/UploadZip/{package['packageId']}",
                    files={"file": ("tools.zip", zipped, "application/zip")}))  # fmt: skip
    files = _ok(client.get(f"/api/Software/PackageFiles/{package['packageId']}"))
    doomed = _ok(client.post("/api/Software/Package", json={"name": "CONF-PKG-DEL"}))
    _ok(client.post("/api/Software/Package", json={"name": "CONF-PKG-DEL-BY-NAME"}))
    released = _ok(client.post("/api/Software/Package", json={"name": "CONF-PKG-RELEASE"}))
    return {"package_id": package["packageId"], "package_name": "CONF-PKG",
            "package_file_id": files[0]["packageFileId"], "package_to_delete": doomed["packageId"],
            "package_name_to_delete": "CONF-PKG-DEL-BY-NAME", "package_to_release": released["packageId"]}  # fmt: skip


def _rootcause(client: httpx.Client) -> Seeded:
    attachment = _ok(client.post("/api/RootCause/Attachment", files={"file": ("trace.png", PNG, "image/png")}))
    ticket = _ok(client.post("/api/RootCause/Ticket", json={"subject": "Vcc drifts on CONF-PN"}))
    solved = _ok(client.post("/api/RootCause/Ticket", json={"subject": "Solved already", "status": 8}))
    return {"rootcause_attachment_id": attachment, "ticket_id": ticket["ticketId"],
            "solved_ticket_id": solved["ticketId"]}  # fmt: skip


def seed(client: httpx.Client) -> Seeded:
    """Store what the examples need; the values their ``{placeholders}`` take."""
    seeded: Seeded = {}
    for part in (_reports, _products, _assets, _units, _software, _rootcause):
        seeded.update(part(client))
    return seeded
