"""Report lists of the App area: ``GET``/``POST /api/App/UutReport`` and ``POST /api/App/UurReport``.

They take the ``PublicWatsFilter`` fields (the POSTs as a JSON body, the GET as query parameters) and return
the newest matching reports, at most ``topCount`` (default 1000). The OpenAPI document gives no response
schema, so each item is a ``ReportHeader``, as ``GET /api/Report/Query/Header`` returns it.

Filters applied (exact matches): serialNumber, partNumber, revision, batchNumber, stationName, testOperation
(process name or code), status (``Passed`` or ``P``...), miscValue (a misc info's text), swFilename,
swVersion, socket, dateFrom, dateTo. productGroup and level are accepted and ignored: the emulator has no
product groups or levels yet.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse

from ..errors import ApiError
from ..headers import HEADER_FIELDS, RESULT_WORDS, header_from_row, select_sql
from ..odata import ODataError, parse_datetime, utc_text
from ..state import EmulatorState, get_state

router = APIRouter(tags=["App"])

DEFAULT_COUNT = 1000
_LETTERS = {word.lower(): letter for letter, word in RESULT_WORDS.items()}


class PublicWatsFilter(BaseModel):
    """The filter body of the App endpoints (only the fields these lists use are typed)."""

    model_config = ConfigDict(extra="allow")

    serialNumber: str | None = None
    partNumber: str | None = None
    revision: str | None = None
    batchNumber: str | None = None
    stationName: str | None = None
    testOperation: str | None = None
    status: str | None = None
    miscValue: str | None = None
    swFilename: str | None = None
    swVersion: str | None = None
    socket: str | None = None
    productGroup: str | None = None
    level: str | None = None
    dateFrom: str | None = None
    dateTo: str | None = None
    topCount: int | None = None


_EXACT = {
    "serialNumber": "sn", "partNumber": "pn", "revision": "rev", "batchNumber": "batch_number",
    "stationName": "station", "swFilename": "sw_filename", "swVersion": "sw_version",
}  # fmt: skip


def _list(state: EmulatorState, report_type: str, wats_filter: PublicWatsFilter) -> JSONResponse:
    conditions, params = ["type = ?"], [report_type]
    for name, column in _EXACT.items():
        value = getattr(wats_filter, name)
        if value:
            conditions.append(f"{column} = ?")
            params.append(value)
    if wats_filter.testOperation:
        conditions.append("(process_name = ? OR CAST(process_code AS TEXT) = ?)")
        params += [wats_filter.testOperation, wats_filter.testOperation]
    if wats_filter.status:
        conditions.append("result = ?")
        params.append(_LETTERS.get(wats_filter.status.lower(), wats_filter.status.upper()))
    if wats_filter.socket:
        conditions.append("CAST(test_socket_index AS TEXT) = ?")
        params.append(wats_filter.socket)
    if wats_filter.miscValue:
        conditions.append(
            "EXISTS (SELECT 1 FROM json_each(reports.body, '$.miscInfos') AS m"
            " WHERE json_extract(m.value, '$.text') = ?)"
        )
        params.append(wats_filter.miscValue)
    for name, operator in (("dateFrom", ">="), ("dateTo", "<=")):
        value = getattr(wats_filter, name)
        if value:
            try:
                params.append(utc_text(parse_datetime(value.strip())))
            except ODataError:
                raise ApiError(400, f"{name} must be a date/time such as 2017-10-19T10:43:00, not '{value}'.") from None
            conditions.append(f"start_utc {operator} ?")
    count = wats_filter.topCount if wats_filter.topCount is not None else DEFAULT_COUNT
    if count < 0:
        raise ApiError(400, f"topCount must be at least 0, not {count}.")
    rows = state.storage.read(
        f"SELECT {select_sql(HEADER_FIELDS)} FROM reports WHERE {' AND '.join(conditions)}"
        " ORDER BY start_utc DESC, timestamp DESC LIMIT ?",
        [*params, count],
    )
    return JSONResponse([header_from_row(row, HEADER_FIELDS) for row in rows])


@router.get("/api/App/UutReport", summary="Returns UUT report header info like Test Reports in Reporting.")
def get_uut_reports(
    serialNumber: str | None = None, partNumber: str | None = None, revision: str | None = None,
    batchNumber: str | None = None, stationName: str | None = None, testOperation: str | None = None,
    status: str | None = None, dateFrom: str | None = None, dateTo: str | None = None,
    productGroupId: str | None = None, levelId: str | None = None, state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    wats_filter = PublicWatsFilter(
        serialNumber=serialNumber, partNumber=partNumber, revision=revision, batchNumber=batchNumber,
        stationName=stationName, testOperation=testOperation, status=status, dateFrom=dateFrom, dateTo=dateTo,
        productGroup=productGroupId, level=levelId,
    )  # fmt: skip
    return _list(state, "T", wats_filter)


@router.post("/api/App/UutReport", summary="Returns UUT report header info like Test Reports in Reporting.")
def post_uut_reports(
    wats_filter: PublicWatsFilter = Body(default_factory=PublicWatsFilter), state: EmulatorState = Depends(get_state)
) -> JSONResponse:
    return _list(state, "T", wats_filter)


@router.post("/api/App/UurReport", summary="Returns UUR report header info like Repair Reports in Reporting.")
def post_uur_reports(
    wats_filter: PublicWatsFilter = Body(default_factory=PublicWatsFilter), state: EmulatorState = Depends(get_state)
) -> JSONResponse:
    return _list(state, "R", wats_filter)
