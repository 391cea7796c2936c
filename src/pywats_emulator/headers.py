"""Report headers: the columns stored for each report and the ``ReportHeader`` entity WATS returns.

:func:`header_columns` takes what the header query needs from a validated report when it is stored (the
``reports`` table in :mod:`pywats_emulator.storage`); :data:`REPORT_HEADER` maps the public field names of
``GET /api/Report/Query/Header`` (``ReportHeader`` in the OpenAPI document, FORMATS.md §1.7) to SQL over
that table, for ``$filter``, ``$orderby`` and ``$select`` alike. A few fields are computed when read:
``run`` and ``passedInRun`` (the unit's runs in the same process), ``reportSize`` (KB) and ``result``,
which WATS returns as a word (``Passed``); a one-letter result in a filter (``result eq 'F'``) is accepted too.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Any

from pywats.models import SequenceCallStep, StepBase, UURReport, UUTReport

from .odata import EntitySchema, Field, utc_text

RESULT_WORDS = {"P": "Passed", "F": "Failed", "E": "Error", "T": "Terminated", "D": "Done"}
_WORDS_SQL = " ".join(f"WHEN '{letter}' THEN '{word}'" for letter, word in RESULT_WORDS.items())


def _result_literal(value: Any) -> Any:
    return RESULT_WORDS.get(value, value) if isinstance(value, str) else value


# The same unit (serial, part number, type) in the same process: its runs, counted by start time.
_SAME_UNIT = (
    "{a}.sn = reports.sn AND {a}.pn = reports.pn AND {a}.process_code = reports.process_code"
    " AND {a}.type = reports.type"
)
_RUN = f"(SELECT COUNT(*) FROM reports AS r1 WHERE {_SAME_UNIT.format(a='r1')} AND r1.start_utc <= reports.start_utc)"
_FIRST_PASS = f"(SELECT MIN(r2.start_utc) FROM reports AS r2 WHERE {_SAME_UNIT.format(a='r2')} AND r2.result = 'P')"
_PASSED_IN_RUN = (
    f"(CASE WHEN {_FIRST_PASS} IS NULL THEN NULL ELSE (SELECT COUNT(*) FROM reports AS r3 WHERE "
    f"{_SAME_UNIT.format(a='r3')} AND r3.start_utc <= {_FIRST_PASS}) END)"
)

HEADER_FIELDS = (
    Field("uuid", "reports.id", "guid"),
    Field("serialNumber", "reports.sn", "string"),
    Field("partNumber", "reports.pn", "string"),
    Field("revision", "reports.rev", "string"),
    Field("reportType", "reports.type", "string"),
    Field("start", "reports.start_utc", "datetime", output="reports.start"),
    Field("result", f"(CASE reports.result {_WORDS_SQL} ELSE reports.result END)", "string", normalise=_result_literal),
    Field("processCode", "reports.process_code", "int"),
    Field("processName", "reports.process_name", "string"),
    Field("stationName", "reports.station", "string"),
    Field("location", "reports.location", "string"),
    Field("purpose", "reports.purpose", "string"),
    Field("userName", "reports.user_name", "string"),
    Field("batchNumber", "reports.batch_number", "string"),
    Field("comment", "reports.comment", "string"),
    Field("executionTime", "reports.execution_time", "number"),
    Field("swFilename", "reports.sw_filename", "string"),
    Field("swVersion", "reports.sw_version", "string"),
    Field("fixtureId", "reports.fixture_id", "string"),
    Field("testSocketIndex", "reports.test_socket_index", "int"),
    Field("errorCode", "reports.error_code", "int"),
    Field("errorMessage", "reports.error_message", "string"),
    Field("run", _RUN, "int"),
    Field("passedInRun", _PASSED_IN_RUN, "int"),
    Field("causedUutFailure", "reports.caused_uut_failure", "string"),
    Field("causedUutFailurePath", "reports.caused_uut_failure_path", "string"),
    Field("referencedUut", "reports.referenced_uut", "guid"),
    Field("measuresDeleted", "0", "bool"),
    Field("timeStamp", "reports.timestamp", "int"),
    Field("receiveCount", "reports.receive_count", "int"),
    Field("reportSize", "((reports.size + 1023) / 1024)", "int"),
)  # fmt: skip

EXPANDABLE = ("subUnits", "miscInfo", "assets", "attachments", "uurSubUnits", "uurMiscInfo", "uurAttachments")

REPORT_HEADER = EntitySchema(
    "ReportHeader", HEADER_FIELDS, orderable=("start", "uuid", "serialNumber", "timeStamp"), expandable=EXPANDABLE
)
DEFAULT_ORDER = "reports.start_utc DESC, reports.timestamp DESC"
"""Newest start first, as WATS answers when no ``$orderby`` is given (processing order breaks ties)."""


def select_sql(fields: tuple[Field, ...] | list[Field], *, with_body: bool = False) -> str:
    """The ``SELECT`` list for ``fields`` (aliased to their public names), optionally with the document."""
    columns = [f'{field.select_sql} AS "{field.name}"' for field in fields]
    return ", ".join(columns + (["reports.body AS body"] if with_body else []))


def header_from_row(row: sqlite3.Row, fields: tuple[Field, ...] | list[Field]) -> dict[str, Any]:
    """A ``ReportHeader`` dict from a row selected with :func:`select_sql`."""
    header: dict[str, Any] = {}
    for field in fields:
        value = row[field.name]
        header[field.name] = bool(value) if field.kind == "bool" and value is not None else value
    return header


# -- from a report to its columns ---------------------------------------------------------------------


def header_columns(report: UUTReport | UURReport, process_name: str | None) -> dict[str, Any]:
    """The header columns of a validated report; ``process_name`` is the server's name for its process."""
    columns: dict[str, Any] = {
        "type": report.type.value,
        "sn": report.sn,
        "pn": report.pn,
        "rev": report.rev,
        "process_code": report.process_code,
        "process_name": report.process_name or process_name,
        "station": report.machine_name,
        "location": report.location,
        "purpose": report.purpose,
        "result": report.result.value,
        "start": report.start.isoformat(),
        "start_utc": utc_text(_aware(report.start)),
    }
    if isinstance(report, UUTReport):
        uut = report.uut
        failed = _step_caused_failure(report)
        # The test software: the sequence the root step called (its file name and version).
        sequence = report.root.seq_call if isinstance(report.root, SequenceCallStep) else None
        columns.update(
            user_name=uut.user, batch_number=uut.batch_sn, comment=uut.comment, execution_time=uut.exec_time,
            fixture_id=uut.fixture_id, test_socket_index=uut.test_socket_index, error_code=uut.error_code,
            error_message=uut.error_message, sw_filename=sequence.name if sequence else None,
            sw_version=sequence.version if sequence else None,
            caused_uut_failure=failed[0] if failed else None, caused_uut_failure_path=failed[1] if failed else None,
        )  # fmt: skip
    else:
        uur = report.uur
        columns.update(
            user_name=uur.user, comment=uur.comment, execution_time=uur.exec_time,
            referenced_uut=str(uur.ref_uut).lower() if uur.ref_uut else None,
        )  # fmt: skip
    return columns


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _step_caused_failure(report: UUTReport) -> tuple[str | None, str] | None:
    """Name and path (names from the root's children down, joined by '/') of the step that failed the unit.

    The step named by ``uut.stepIdCausedUUTFailure`` if any, else the first step flagged ``causedUUTFailure``.
    """
    wanted = report.uut.step_id_caused_uut_failure
    flagged: tuple[str | None, str] | None = None
    pending: list[tuple[StepBase, list[str]]] = [(report.root, [])]
    while pending:
        step, path = pending.pop()
        if step is not report.root:
            path = [*path, step.name or ""]
        if wanted is not None and step.id == wanted and step is not report.root:
            return step.name, "/".join(path)
        if flagged is None and step.caused_uut_failure and step is not report.root:
            flagged = (step.name, "/".join(path))
            if wanted is None:
                return flagged
        if isinstance(step, SequenceCallStep):
            pending.extend((child, path) for child in reversed(step.steps))
    return flagged
