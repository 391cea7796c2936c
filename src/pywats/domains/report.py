"""``api.report``: submit reports, read them back, query their headers, fetch attachments.

Endpoints (``wats-api/openapi_public_v3.json``, tag Report, plus the App report lists):

==============================  ========================================================================
method                          endpoint
==============================  ========================================================================
``submit``                      ``POST /api/Report/WSJF``
``submit_wsxf``                 ``POST /api/Report/WSXF``
``get`` / ``get_wsjf``          ``GET /api/Report/Wsjf/{id}?detailLevel&includeChartdata&includeAttachments``
``get_wsxf``                    ``GET /api/Report/Wsxf/{id}?detailLevel&includeAttachments&includeChartdata``
                                ``&includeIndexes``
``query_headers``               ``GET /api/Report/Query/Header`` (OData ``$filter $top $skip $orderby $select $expand``)
``query_headers_by_misc_info``  ``GET /api/Report/Query/HeaderByMiscInfo``
``get_attachment``              ``GET /api/Report/Attachment?reportId&attachmentId|stepId``
``get_attachments_zip``         ``GET /api/Report/Attachments/{id}``
``get_certificate``             ``GET /api/Report/Certificate/{id}``
``list_uut_reports``            ``POST /api/App/UutReport`` (``WatsFilter`` body)
``list_uur_reports``            ``POST /api/App/UurReport`` (``WatsFilter`` body)
==============================  ========================================================================

Submission is validated locally before anything is sent (a ``ReportFormatError`` names the field), and is
retried like an idempotent request: the report id is fixed before the first attempt and WATS overwrites a
report submitted again with the same id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Union
from uuid import UUID
from xml.etree import ElementTree

import httpx
from pydantic import Field as PydanticField

from .._ops import Op, as_uuid, bytes_body, encode_json, json_as, text_body
from .._station import fill_station
from ..formats import wsjf
from .._exceptions import ReportFormatError
from ..models import UURReport, UUTReport, parse_report
from ._domain import Domain, M, endpoint
from ._models import ApiModel, WatsDateTime, WatsFilter, make_filter
from .odata import Expr, Field, filter_text, name_list

log = logging.getLogger("pywats")

ReportInput = Union[UUTReport, UURReport, str, bytes, Mapping[str, Any]]

QUERY_TOP_MAX = 10_000  # WATS caps $top here; page with skip


class InsertReportResult(ApiModel):
    """WATS's answer to a report upload: ``ID`` is the report's own id, ``uuid`` the stored one."""

    id: UUID | None = PydanticField(default=None, alias="ID")
    uuid: UUID | None = None
    report_id: int | None = PydanticField(default=None, alias="Report_ID")


class HeaderSubUnit(ApiModel):
    """A sub unit in an expanded UUT header (``$expand=subunits``)."""

    part_type: str | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None


class HeaderMiscInfo(ApiModel):
    """A misc info in an expanded header (``$expand=miscinfo`` / ``uurMiscInfo``)."""

    description: str | None = None
    value: str | None = None


class HeaderAsset(ApiModel):
    """An asset in an expanded UUT header (``$expand=assets``), with its counts at the time of the report."""

    serial_number: str | None = None
    running_count: int | None = None
    running_count_exceeded: int | None = None
    total_count: int | None = None
    total_count_exceeded: int | None = None
    days_since_maintenance: float | None = None
    maintenance_days_overdue: float | None = None
    days_since_calibration: float | None = None
    calibration_days_overdue: float | None = None


class HeaderAttachment(ApiModel):
    """An attachment in an expanded header: ``step_id`` (UUT) or ``id`` (UUR) for :meth:`get_attachment`."""

    step_id: int | None = None
    id: UUID | None = None
    filename: str | None = None


class ReportHeader(ApiModel):
    """One report as the header query lists it (``ReportHeader`` of the WATS OData model).

    ``result`` is spelled out (``"Passed"``...), ``report_type`` is ``"T"`` (UUT) or ``"R"`` (UUR).
    """

    uuid: UUID | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    report_type: str | None = None
    start: WatsDateTime | None = None
    result: str | None = None
    batch_number: str | None = None
    user_name: str | None = None
    station_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    measures_deleted: bool | None = None
    time_stamp: int | None = None
    process_code: int | None = None
    process_name: str | None = None
    comment: str | None = None
    execution_time: float | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    test_socket_index: int | None = None
    fixture_id: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    run: int | None = None
    receive_count: int | None = None
    report_size: int | None = None
    caused_uut_failure: str | None = None
    caused_uut_failure_path: str | None = None
    passed_in_run: int | None = None
    referenced_uut: UUID | None = None
    sub_units: list[HeaderSubUnit] | None = None
    misc_info: list[HeaderMiscInfo] | None = None
    assets: list[HeaderAsset] | None = None
    attachments: list[HeaderAttachment] | None = None
    uur_sub_units: list[HeaderSubUnit] | None = None
    uur_misc_info: list[HeaderMiscInfo] | None = None
    uur_attachments: list[HeaderAttachment] | None = None


class MiscData(ApiModel):
    """A misc info of a report found by :meth:`ReportService.query_headers_by_misc_info`."""

    description: str | None = None
    data: str | None = None


class MiscInfoHeader(ApiModel):
    """A report found by misc info (``WATS_UUTResult``)."""

    uuid: UUID | None = None
    serial_number: str | None = None
    part_number: str | None = None
    start: WatsDateTime | None = None
    result: str | None = None
    process_code: int | None = None
    process_name: str | None = None
    misc_data: list[MiscData] | None = None


def _insert_result_id(response: httpx.Response) -> UUID:
    """The report id in an ``InsertReportResult`` (some servers wrap it in a one-element list)."""
    data = response.json()
    if isinstance(data, list):
        data = data[0]
    result = InsertReportResult.model_validate(data)
    found = result.id or result.uuid
    if found is None:
        raise ValueError("the server's InsertReportResult has neither ID nor uuid")
    return found


_PLACEHOLDER_ROOT = {"stepType": "SequenceCall", "name": "", "seqCall": {}, "steps": []}


def _parse_wsjf(response: httpx.Response) -> UUTReport | UURReport:
    """A downloaded report, validated. A ReportFormatError is a ValueError, which ``Op.parse`` turns into
    ``APIResponseValidationError``."""
    try:
        return parse_report(response.content)
    except ReportFormatError:
        partial = _partial_report(json.loads(response.content))
        if partial is None:
            raise
        return partial


def _partial_report(data: Any) -> UUTReport | UURReport | None:
    """A report downloaded at a low detail level, which has its header but not its structure (the step tree of
    a UUT, the sub units of a UUR): validated as if the structure were there, then returned without it
    (``root`` None, ``sub_units`` []). None when the report is not of that shape."""
    if not isinstance(data, dict):
        return None
    try:
        if data.get("type") == "T" and "root" not in data:
            report = parse_report({**data, "root": _PLACEHOLDER_ROOT})
            return report.model_copy(update={"root": None})  # read-only shape: no validation on purpose
        if data.get("type") == "R" and not data.get("subUnits"):
            unit = {"idx": 0, "sn": data.get("sn"), "pn": data.get("pn"), "rev": data.get("rev")}
            report = parse_report({**data, "subUnits": [unit]})
            return report.model_copy(update={"sub_units": []})
    except ReportFormatError:
        return None
    return None


def _detail_level(level: int | None) -> int | None:
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 7):
        raise ValueError(f"detail_level is an integer from 0 (identifying data) to 7 (full report), not {level!r}")
    return level


def _count(name: str, value: int | None, maximum: int | None = None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    if value is not None and maximum is not None and value > maximum:
        raise ValueError(f"{name} is at most {maximum} (page with skip)")
    return value


def _wsxf_has_id(xml: str | bytes) -> bool:
    """Whether the WSXF text gives its report an ``ID``: only then is resending it an overwrite."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return False
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "Report":
            return bool(element.get("ID"))
    return False


def _validate_wsxf(xml: str | bytes) -> None:
    try:
        from ..formats import wsxf  # written alongside this module; imported lazily to keep imports light
    except ImportError:  # pragma: no cover - only while the WSXF reader is not installed
        log.debug("pywats.formats.wsxf is not available: WSXF sent without local validation")
        return
    wsxf.loads(xml)


class ReportService(Domain[M]):
    """Reports: ``api.report``. Every method works the same on ``pyWATS`` and (awaited) on ``AsyncWATS``."""

    @endpoint
    def submit(self, report: ReportInput, *, check: bool = True) -> Op[UUID]:
        """Validate a report locally, fill in the active station, and upload it as WSJF.

        Args:
            report: a ``UUTReport`` / ``UURReport`` (e.g. from ``ReportBuilder``), or WSJF as text, bytes or a
                dict. Empty ``machineName`` / ``location`` / ``purpose`` are taken from the active station
                (see :mod:`pywats._station`); the object you pass is not changed.
            check: False sends WSJF text or bytes exactly as given, without validating it again or filling in
                the station: for text that was validated when it was made (the station service's queue).

        Returns:
            The report id, as the server confirmed it (``InsertReportResult.ID``).

        Raises:
            ReportFormatError: the report breaks a WATS rule; nothing was sent.
            BadRequestError: the server refused it; ``.message`` has the server's reason.

        >>> report_id = api.report.submit(ReportBuilder.uut(pn="PCBA-100", sn="SN-1", rev="A",
        ...                                                  process_code=50).build())
        """
        given: bytes | None = None  # WSJF text as the caller gave it, sent unchanged when nothing is filled in
        if not check:
            if not isinstance(report, (str, bytes, bytearray)):
                raise TypeError("submit(check=False) takes WSJF text or bytes")
            body = report.encode() if isinstance(report, str) else bytes(report)
            return Op("POST", "/api/Report/WSJF", body=body, content_type="application/json",
                      parser=_insert_result_id, idempotent=True)  # fmt: skip
        if isinstance(report, (UUTReport, UURReport)):
            model = report
        elif isinstance(report, (str, bytes, bytearray)):
            model = parse_report(report)
            given = report.encode() if isinstance(report, str) else bytes(report)
        elif isinstance(report, Mapping):
            model = parse_report(dict(report))
        else:
            raise TypeError(f"submit() takes a report model or WSJF text/bytes/dict, not {type(report).__name__}")
        filled = fill_station(model, self._client.stations.active)
        # A model was validated when it was built or read, and station values are length-checked, so the
        # body is not parsed again here: that would double the client's cost per report (bench/api_submit.py).
        body = given if given is not None and filled is model else wsjf.dumps(filled).encode()
        return Op("POST", "/api/Report/WSJF", body=body, content_type="application/json",
                  parser=_insert_result_id, idempotent=True)  # fmt: skip

    @endpoint
    def submit_wsxf(self, xml: str | bytes) -> Op[UUID]:
        """Upload a report written in WSXF (XML), exactly as given (no station fields are filled in).

        The XML is checked locally first. Retried on ambiguous failures only when its ``<Report>`` has an
        ``ID`` attribute (then a resend overwrites; without one the server would store a second report).

        Returns:
            The report id from the server's ``InsertReportResult``.
        """
        if not isinstance(xml, (str, bytes, bytearray)):
            raise TypeError(f"submit_wsxf() takes XML text or bytes, not {type(xml).__name__}")
        _validate_wsxf(xml)
        body = xml.encode() if isinstance(xml, str) else bytes(xml)
        return Op("POST", "/api/Report/WSXF", body=body, content_type="application/xml",
                  parser=_insert_result_id, idempotent=_wsxf_has_id(body))  # fmt: skip

    @endpoint
    def get(self, report_id: UUID | str, detail_level: int | None = None) -> Op[UUTReport | UURReport]:
        """Download a report as a validated model.

        Args:
            detail_level: 0 (identifying data) to 7 (full report); None lets the server choose (full).
                At low levels WATS leaves out the report's structure: a UUT report then comes back with
                ``root`` None, a UUR report with no ``sub_units``. Such a partial report is for reading; it
                cannot be submitted again. :meth:`get_wsjf` gives any level as text.

        Raises:
            NotFoundError: no report has this id (``ErrorMode.LENIENT``: returns None instead).
            APIResponseValidationError: the server's WSJF is not a valid report.

        >>> report = api.report.get(report_id)
        >>> report.sn, report.result
        """
        params = {"detailLevel": _detail_level(detail_level)}
        return Op("GET", f"/api/Report/Wsjf/{as_uuid(report_id)}", params=params, parser=_parse_wsjf,
                  missing_ok=True)  # fmt: skip

    @endpoint
    def get_wsjf(
        self,
        report_id: UUID | str,
        detail_level: int | None = None,
        *,
        include_chartdata: bool | None = None,
        include_attachments: bool | None = None,
    ) -> Op[str]:
        """Download a report as WSJF text, unvalidated (any detail level)."""
        params = {
            "detailLevel": _detail_level(detail_level),
            "includeChartdata": include_chartdata,
            "includeAttachments": include_attachments,
        }
        return Op("GET", f"/api/Report/Wsjf/{as_uuid(report_id)}", params=params, parser=text_body,
                  missing_ok=True)  # fmt: skip

    @endpoint
    def get_wsxf(
        self,
        report_id: UUID | str,
        detail_level: int | None = None,
        *,
        include_attachments: bool | None = None,
        include_chartdata: bool | None = None,
        include_indexes: bool | None = None,
    ) -> Op[str]:
        """Download a report as WSXF (XML) text."""
        params = {
            "detailLevel": _detail_level(detail_level),
            "includeAttachments": include_attachments,
            "includeChartdata": include_chartdata,
            "includeIndexes": include_indexes,
        }
        return Op("GET", f"/api/Report/Wsxf/{as_uuid(report_id)}", params=params, accept="application/xml",
                  parser=text_body, missing_ok=True)  # fmt: skip

    @endpoint
    def query_headers(
        self,
        filter: Expr | str | None = None,
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | Field | Iterable[str | Field] | None = None,
        select: str | Iterable[str] | None = None,
        expand: str | Iterable[str] | None = None,
    ) -> Op[list[ReportHeader]]:
        """List report headers matching an OData filter (newest first; 10 unless ``top`` says otherwise).

        Args:
            filter: an expression from :data:`pywats.F` (values are quoted safely), or OData text as is.
            top: at most this many (WATS allows up to 10000).
            skip: skip this many (paging).
            orderby: ``"start desc"``, ``F.serial_number.asc()``, or a list; WATS orders only by start,
                uuid, serialNumber and timestamp.
            select: the fields to return.
            expand: related lists to include: subunits, miscinfo, assets, attachments, uurSubUnits,
                uurMiscInfo, uurAttachments.

        >>> api.report.query_headers(F.serial_number == "SN-1", top=5, orderby=F.start.desc())
        """
        params = {
            "$filter": filter_text(filter),
            "$top": _count("top", top, QUERY_TOP_MAX),
            "$skip": _count("skip", skip),
            "$orderby": name_list(orderby, what="orderby"),
            "$select": name_list(select, what="select"),
            "$expand": name_list(expand, what="expand"),
        }
        return Op("GET", "/api/Report/Query/Header", params=params, parser=json_as(list[ReportHeader]))

    @endpoint
    def query_headers_by_misc_info(
        self,
        *,
        process_code: int | None = None,
        serial_number: str | None = None,
        description: str | None = None,
        data: str | None = None,
    ) -> Op[list[MiscInfoHeader]]:
        """Reports whose misc info has this ``description`` and/or ``data`` (value)."""
        params = {"processCode": process_code, "serialNumber": serial_number, "description": description,
                  "data": data}  # fmt: skip
        return Op("GET", "/api/Report/Query/HeaderByMiscInfo", params=params,
                  parser=json_as(list[MiscInfoHeader]))  # fmt: skip

    @endpoint
    def get_attachment(
        self, report_id: UUID | str, *, attachment_id: UUID | str | None = None, step_id: int | None = None
    ) -> Op[bytes]:
        """One attachment's bytes: by ``step_id`` for a test report, by ``attachment_id`` for a repair report."""
        if (attachment_id is None) == (step_id is None):
            raise ValueError("give exactly one of attachment_id (repair reports) or step_id (test reports)")
        params = {
            "reportId": as_uuid(report_id),
            "attachmentId": as_uuid(attachment_id, "attachment_id") if attachment_id is not None else None,
            "stepId": _count("step_id", step_id),
        }
        return Op("GET", "/api/Report/Attachment", params=params, accept="*/*", parser=bytes_body,
                  missing_ok=True)  # fmt: skip

    @endpoint
    def get_attachments_zip(self, report_id: UUID | str) -> Op[bytes]:
        """All attachments of a report as one zip archive (bytes)."""
        return Op("GET", f"/api/Report/Attachments/{as_uuid(report_id)}", accept="*/*", parser=bytes_body,
                  missing_ok=True)  # fmt: skip

    @endpoint
    def get_certificate(self, report_id: UUID | str) -> Op[bytes]:
        """The report's certificate document (bytes, as the server renders it)."""
        return Op("GET", f"/api/Report/Certificate/{as_uuid(report_id)}", accept="*/*",
                  parser=bytes_body, missing_ok=True)  # fmt: skip

    @endpoint
    def list_uut_reports(
        self, filter: WatsFilter | dict[str, Any] | None = None, **fields: Any
    ) -> Op[list[ReportHeader]]:
        """Test report headers like WATS's "Test Reports" view (newest 1000 unless ``top_count`` says otherwise).

        >>> api.report.list_uut_reports(part_number="PCBA-100", status="Failed", top_count=50)
        """
        body = encode_json(make_filter(filter, fields))
        return Op("POST", "/api/App/UutReport", body=body, content_type="application/json",
                  parser=json_as(list[ReportHeader]), idempotent=True)  # fmt: skip

    @endpoint
    def list_uur_reports(
        self, filter: WatsFilter | dict[str, Any] | None = None, **fields: Any
    ) -> Op[list[ReportHeader]]:
        """Repair report headers like WATS's "Repair Reports" view (same filter fields as the UUT list)."""
        body = encode_json(make_filter(filter, fields))
        return Op("POST", "/api/App/UurReport", body=body, content_type="application/json",
                  parser=json_as(list[ReportHeader]), idempotent=True)  # fmt: skip


__all__ = [
    "HeaderAsset",
    "HeaderAttachment",
    "HeaderMiscInfo",
    "HeaderSubUnit",
    "InsertReportResult",
    "MiscData",
    "MiscInfoHeader",
    "ReportHeader",
    "ReportService",
]
