"""A fluent builder for UUT (test) and UUR (repair) reports that computes every status.

    builder = ReportBuilder.uut(pn="PCBA-100", sn="SN0001", rev="A", process_code=10)
    power = builder.sequence("Power")                      # a nested sequence call
    power.numeric("Vcc", 3.31, low=3.2, high=3.4, unit="V") # GELE, inferred from the two limits
    rails = power.multi_numeric("Rails")                   # one step, several named measurements
    rails.measure("3V3", 3.30, low=3.2, high=3.4).measure("5V", 5.02, low=4.8, high=5.2)
    builder.pass_fail("LED", True).attach("photo", path="led.png")
    report = builder.build()                               # a validated UUTReport, statuses computed

The builder collects plain WSJF dicts and validates them once, in :meth:`UUTBuilder.build`, through the same
:func:`pywats.models.parse_report` every reader uses: one set of rules, one length mode switch. A status
passed explicitly is kept; every other one is computed from limits (:mod:`pywats.models.status`).

With ``id_key`` the report id is ``uuid5(REPORT_ID_NAMESPACE, id_key)``: building the same report again
gives the same id, so a resubmission overwrites on the server instead of duplicating.
"""

from __future__ import annotations

import base64
import mimetypes
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .models import ChartType, CompOp, LengthMode, UURReport, UUTReport, parse_report
from .models.enums import DUAL_LIMIT_OPS, SINGLE_LIMIT_OPS
from .models.status import apply_statuses, report_result

REPORT_ID_NAMESPACE = uuid.UUID("feedd504-c564-44fa-9564-b89ea1b5366c")
"""Namespace of deterministic report ids: ``uuid5(REPORT_ID_NAMESPACE, key)``."""


def report_id_for(key: str) -> uuid.UUID:
    """The deterministic report id of ``key`` (e.g. converter, version, source hash and index)."""
    return uuid.uuid5(REPORT_ID_NAMESPACE, key)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _numeric_limits(
    comp_op: CompOp | str | None, low: float | None, high: float | None
) -> tuple[CompOp, float | None, float | None]:
    """The operator and the (lowLimit, highLimit) WSJF wants, from what a person would write.

    Without an operator: two limits mean GELE, only ``low`` GE, only ``high`` LE, none LOG. Single-limit
    operators keep their one limit in lowLimit, even LT and LE, so ``high=5, comp_op="LE"`` is stored as
    lowLimit 5.
    """
    if comp_op is None:
        if low is not None and high is not None:
            return CompOp.GELE, low, high
        if low is not None:
            return CompOp.GE, low, None
        if high is not None:
            return CompOp.LE, high, None
        return CompOp.LOG, None, None
    op = CompOp(comp_op)
    if op in SINGLE_LIMIT_OPS:
        if low is not None and high is not None:
            raise ValueError(f"{op.value} takes one limit; give low or high, not both")
        limit = low if low is not None else high
        if limit is None:
            raise ValueError(f"{op.value} needs a limit")
        return op, limit, None
    if op in DUAL_LIMIT_OPS:
        if low is None or high is None:
            raise ValueError(f"{op.value} needs both low and high")
        return op, low, high
    if op is CompOp.LOG:
        return op, low, high
    raise ValueError(f"{op.value} is not a comparison for numeric values")


def _numeric(name: str | None, value: float, comp_op: Any, low: Any, high: Any, unit: Any, status: Any) -> dict:
    op, low_limit, high_limit = _numeric_limits(comp_op, low, high)
    return _clean({
        "name": name, "compOp": op.value, "value": value, "lowLimit": low_limit, "highLimit": high_limit,
        "unit": unit, "status": status,
    })  # fmt: skip


def _string(name: str | None, value: str, limit: str | None, comp_op: Any, status: Any) -> dict:
    op = CompOp(comp_op) if comp_op is not None else (CompOp.EQ if limit is not None else CompOp.LOG)
    return _clean({"name": name, "compOp": op.value, "value": value, "limit": limit, "status": status})


def _boolean(name: str | None, passed: bool) -> dict:
    return _clean({"name": name, "status": "P" if passed else "F"})


def _attachment(name: str, data: bytes | None, path: str | Path | None, content_type: str | None) -> dict:
    if (data is None) == (path is None):
        raise ValueError("attach needs either data or path")
    if path is not None:
        data = Path(path).read_bytes()
        content_type = content_type or mimetypes.guess_type(str(path))[0]
    return {
        "name": name,
        "contentType": content_type or "application/octet-stream",
        "data": base64.b64encode(data).decode("ascii"),  # type: ignore[arg-type]
    }


class _StepList:
    """What every container of steps can add: a root, a nested sequence."""

    def __init__(self, step: dict[str, Any], parent: _StepList | None) -> None:
        self._step = step
        self._parent = parent

    def _add(self, step_type: str, name: str, payload: dict[str, Any], fields: dict[str, Any]) -> dict:
        step = {"stepType": step_type, "name": name, **_clean(payload), **_clean(fields)}
        self._step["steps"].append(step)
        return step

    def end(self) -> _StepList:
        """The enclosing sequence (for chained style); the root's end() is the root itself."""
        return self._parent or self

    def sequence(self, name: str, *, path: str | None = None, version: str | None = None, **fields: Any) -> _StepList:
        """Add a sequence call and return it, to add steps inside it."""
        seq_call = _clean({"path": path or name, "name": name, "version": version})
        step = self._add("SequenceCall", name, {"seqCall": seq_call, "steps": []}, fields)
        return _StepList(step, self)

    def numeric(
        self, name: str, value: float, *, low: float | None = None, high: float | None = None,
        comp_op: CompOp | str | None = None, unit: str | None = None, status: str | None = None, **fields: Any,
    ) -> _StepList:  # fmt: skip
        """Add a numeric limit test with one measurement (``ET_NLT``)."""
        self._add("ET_NLT", name, {"numericMeas": [_numeric(None, value, comp_op, low, high, unit, status)]}, fields)
        return self

    def string(
        self, name: str, value: str, *, limit: str | None = None, comp_op: CompOp | str | None = None,
        status: str | None = None, **fields: Any,
    ) -> _StepList:  # fmt: skip
        """Add a string value test with one measurement (``ET_SVT``); a limit without operator means EQ."""
        self._add("ET_SVT", name, {"stringMeas": [_string(None, value, limit, comp_op, status)]}, fields)
        return self

    def pass_fail(self, name: str, passed: bool, **fields: Any) -> _StepList:
        """Add a pass/fail test with one measurement (``ET_PFT``)."""
        self._add("ET_PFT", name, {"booleanMeas": [_boolean(None, passed)]}, fields)
        return self

    def multi_numeric(self, name: str, **fields: Any) -> _MultiStep:
        """Add a step with several named numeric measurements (``ET_MNLT``); add them with ``measure``."""
        return _MultiStep(self, self._add("ET_MNLT", name, {"numericMeas": []}, fields), "numeric")

    def multi_string(self, name: str, **fields: Any) -> _MultiStep:
        """Add a step with several named string measurements (``ET_MSVT``)."""
        return _MultiStep(self, self._add("ET_MSVT", name, {"stringMeas": []}, fields), "string")

    def multi_pass_fail(self, name: str, **fields: Any) -> _MultiStep:
        """Add a step with several named pass/fail measurements (``ET_MPFT``)."""
        return _MultiStep(self, self._add("ET_MPFT", name, {"booleanMeas": []}, fields), "boolean")

    def chart(
        self, name: str, *, chart_type: ChartType | str = ChartType.LINE, label: str | None = None,
        x_label: str | None = None, x_unit: str | None = None, y_label: str | None = None,
        y_unit: str | None = None, **fields: Any,
    ) -> _MultiStep:  # fmt: skip
        """Add a chart step (``WATS_XYGMNLT``); add ``series`` and numeric ``measure``-ments to it."""
        chart = _clean({
            "chartType": ChartType(chart_type).value, "label": label or name, "xLabel": x_label, "xUnit": x_unit,
            "yLabel": y_label, "yUnit": y_unit, "series": [],
        })  # fmt: skip
        return _MultiStep(self, self._add("WATS_XYGMNLT", name, {"numericMeas": [], "chart": chart}, fields), "numeric")

    def attach(
        self, name: str, data: bytes | None = None, *, path: str | Path | None = None,
        content_type: str | None = None, **fields: Any,
    ) -> _StepList:  # fmt: skip
        """Add an attachment step (``WATS_AttachFile``) from bytes or from a file."""
        self._add("WATS_AttachFile", name, {"attachment": _attachment(name, data, path, content_type)}, fields)
        return self

    def message_popup(self, name: str, response: str | None = None, button: int | None = None, **fields: Any) -> _StepList:
        """Add a message popup step with the operator's response."""
        self._add("MessagePopup", name, {"messagePopup": _clean({"response": response, "button": button})}, fields)
        return self

    def call_executable(self, name: str, exit_code: float, **fields: Any) -> _StepList:
        """Add a call-executable step with the program's exit code."""
        self._add("CallExecutable", name, {"callExe": {"exitCode": exit_code}}, fields)
        return self

    def action(self, name: str, *, step_type: str = "Action", **fields: Any) -> _StepList:
        """Add a step with no payload: an action, a statement, an NI flow-control step..."""
        self._add(step_type, name, {}, fields)
        return self

    def add_step(self, step: dict[str, Any]) -> _StepList:
        """Add a step given as a WSJF dict (JSON names), validated with the report on build()."""
        self._step["steps"].append(step)
        return self


class _MultiStep:
    """A step that takes several measurements (or chart series); ``end()`` returns its sequence."""

    def __init__(self, parent: _StepList, step: dict[str, Any], kind: str) -> None:
        self._parent = parent
        self._step = step
        self._kind = kind

    def measure(
        self, name: str, value: Any, *, low: float | None = None, high: float | None = None,
        limit: str | None = None, comp_op: CompOp | str | None = None, unit: str | None = None,
        status: str | None = None,
    ) -> _MultiStep:  # fmt: skip
        """Add a named measurement: a number, a string, or a bool for pass/fail steps."""
        if self._kind == "numeric":
            self._step["numericMeas"].append(_numeric(name, value, comp_op, low, high, unit, status))
        elif self._kind == "string":
            self._step["stringMeas"].append(_string(name, value, limit, comp_op, status))
        else:
            self._step["booleanMeas"].append(_boolean(name, bool(value)))
        return self

    def series(self, name: str, x: Iterable[float], y: Iterable[float], *, data_type: str = "XYG") -> _MultiStep:
        """Add a series to a chart step."""
        if "chart" not in self._step:
            raise ValueError("series() belongs to chart steps")
        xs, ys = list(x), list(y)
        if len(xs) != len(ys):
            raise ValueError(f"series {name!r} has {len(xs)} x values but {len(ys)} y values")
        self._step["chart"]["series"].append({
            "dataType": data_type, "name": name, "xdata": ";".join(map(repr, map(float, xs))),
            "ydata": ";".join(map(repr, map(float, ys))),
        })  # fmt: skip
        return self

    def end(self) -> _StepList:
        """The sequence this step belongs to."""
        return self._parent


class _ReportBuilder:
    """Header parts shared by UUT and UUR builders."""

    _report: dict[str, Any]

    def misc_info(self, description: str, text: str | None = None, numeric: int | None = None, **fields: Any) -> Any:
        """Add a misc info (a key/value on the report header)."""
        self._report["miscInfos"].append(_clean({"description": description, "text": text, "numeric": numeric, **fields}))
        return self

    def asset(self, asset_sn: str, usage_count: int | None = None) -> Any:
        """Record an asset (fixture, instrument) used for this report."""
        self._report["assets"].append(_clean({"assetSN": asset_sn, "usageCount": usage_count}))
        return self


def _header(
    report_type: str, pn: str, sn: str, rev: str, process_code: int, process_name: str | None,
    station: Any, machine_name: str | None, location: str | None, purpose: str | None,
    start: datetime | None, report_id: uuid.UUID | str | None, id_key: str | None, result: str | None,
) -> dict[str, Any]:  # fmt: skip
    if report_id is not None and id_key is not None:
        raise ValueError("give report_id or id_key, not both")
    start = start or datetime.now().astimezone()
    if start.tzinfo is None:
        start = start.astimezone()  # a naive time is the station's local time
    return _clean({
        "type": report_type,
        "id": str(report_id_for(id_key) if id_key is not None else (report_id or uuid.uuid4())),
        "pn": pn, "sn": sn, "rev": rev, "processCode": process_code, "processName": process_name,
        "machineName": machine_name if machine_name is not None else getattr(station, "name", ""),
        "location": location if location is not None else getattr(station, "location", ""),
        "purpose": purpose if purpose is not None else getattr(station, "purpose", ""),
        "result": result,
        "start": start.isoformat(), "startUTC": start.astimezone(timezone.utc).isoformat(),
        "miscInfos": [], "assets": [], "subUnits": [],
    })  # fmt: skip


class UUTBuilder(_StepList, _ReportBuilder):
    """Builds a UUT report; it is also the root sequence, so steps can be added to it directly."""

    def __init__(self, header: dict[str, Any], root_name: str, uut: dict[str, Any]) -> None:
        root = {"stepType": "SequenceCall", "name": root_name, "seqCall": {"path": root_name, "name": root_name}, "steps": []}
        super().__init__(root, None)
        self._report = {**header, "root": root, "uut": _clean(uut)}

    def sub_unit(self, part_type: str, sn: str, pn: str, rev: str | None = None) -> UUTBuilder:
        """Record a part built into the unit under test."""
        self._report["subUnits"].append(_clean({"partType": part_type, "sn": sn, "pn": pn, "rev": rev}))
        return self

    def build(self, *, lengths: LengthMode = "strict") -> UUTReport:
        """Validate the report, number the steps depth first (root = 0) and compute missing statuses.

        Raises:
            ReportFormatError: the report breaks a WATS rule; ``path`` names the field.
        """
        _number_steps(self._report["root"])
        given_result = self._report.get("result")
        # The model requires a result; a placeholder stands in until the steps' statuses give the real one.
        report = parse_report({**self._report, "result": given_result or "P"}, lengths=lengths)
        apply_statuses(report)
        if given_result is None:
            report.result = report_result(report.root.status)
        return report  # type: ignore[return-value]


def _number_steps(root: dict[str, Any]) -> None:
    next_id = 0
    pending = [root]
    while pending:
        step = pending.pop()
        step["id"] = next_id
        next_id += 1
        pending.extend(reversed(step.get("steps", [])))


class UURBuilder(_ReportBuilder):
    """Builds a UUR (repair) report: the repaired unit is sub unit 0; failures point at sub units."""

    def __init__(self, header: dict[str, Any], uur: dict[str, Any], part_type: str) -> None:
        self._report = {**header, "uur": _clean(uur), "binaryData": []}
        self._report["subUnits"].append({"partType": part_type, "sn": header["sn"], "pn": header["pn"],
                                         "rev": header["rev"], "idx": 0})  # fmt: skip

    def sub_unit(
        self, part_type: str, sn: str, pn: str, rev: str | None = None, *, parent_idx: int = 0,
        replaced_idx: int | None = None, position: int | None = None,
    ) -> int:  # fmt: skip
        """Record a part of the repaired unit; returns its ``idx`` for failures and replacements."""
        idx = len(self._report["subUnits"])
        self._report["subUnits"].append(_clean({
            "partType": part_type, "sn": sn, "pn": pn, "rev": rev, "idx": idx, "parentIdx": parent_idx,
            "replacedIdx": replaced_idx, "position": position,
        }))  # fmt: skip
        return idx

    def failure(self, category: str, code: str, *, idx: int = 0, **fields: Any) -> UURBuilder:
        """Record a failure found on sub unit ``idx`` (0: the repaired unit itself).

        ``fields`` take the WSJF failure names: comment, comRef, funcBlock, refStepId, artNumber...
        """
        units = self._report["subUnits"]
        if not 0 <= idx < len(units):
            raise ValueError(f"no sub unit with idx {idx}")
        units[idx].setdefault("failures", []).append(_clean({"category": category, "code": code, **fields}))
        return self

    def attach(self, name: str, data: bytes | None = None, *, path: str | Path | None = None,
               content_type: str | None = None) -> UURBuilder:  # fmt: skip
        """Attach a file (a photo of the fault...) to the repair report."""
        self._report["binaryData"].append(_attachment(name, data, path, content_type))
        return self

    def build(self, *, lengths: LengthMode = "strict") -> UURReport:
        """Validate the repair report.

        Raises:
            ReportFormatError: the report breaks a WATS rule; ``path`` names the field.
        """
        return parse_report(self._report, lengths=lengths)  # type: ignore[return-value]


class ReportBuilder:
    """Entry point: :meth:`uut` starts a test report, :meth:`uur` a repair report."""

    @staticmethod
    def uut(
        *, pn: str, sn: str, rev: str, process_code: int, process_name: str | None = None,
        station: Any = None, machine_name: str | None = None, location: str | None = None,
        purpose: str | None = None, start: datetime | None = None, report_id: uuid.UUID | str | None = None,
        id_key: str | None = None, result: str | None = None, root_name: str = "MainSequence Callback",
        user: str | None = None, batch_sn: str | None = None, fixture_id: str | None = None,
        comment: str | None = None, exec_time: float | None = None, test_socket_index: int | None = None,
        error_code: int | None = None, error_message: str | None = None,
    ) -> UUTBuilder:  # fmt: skip
        """Start a test report.

        Args:
            station: anything with ``name``, ``location`` and ``purpose`` (e.g. :class:`pywats.Station`),
                used where machine_name / location / purpose are not given.
            id_key: makes the id deterministic: ``uuid5(REPORT_ID_NAMESPACE, id_key)``.
            result: leave None to compute it from the steps.
        """
        header = _header("T", pn, sn, rev, process_code, process_name, station, machine_name, location, purpose,
                         start, report_id, id_key, result)  # fmt: skip
        uut = {
            "user": user, "batchSN": batch_sn, "fixtureId": fixture_id, "comment": comment, "execTime": exec_time,
            "testSocketIndex": test_socket_index, "errorCode": error_code, "errorMessage": error_message,
        }  # fmt: skip
        return UUTBuilder(header, root_name, uut)

    @staticmethod
    def uur(
        *, pn: str, sn: str, rev: str, process_code: int = 500, process_name: str | None = None,
        test_process_code: int | None = None, test_process_name: str | None = None,
        ref_uut: uuid.UUID | str | None = None, station: Any = None, machine_name: str | None = None,
        location: str | None = None, purpose: str | None = None, start: datetime | None = None,
        report_id: uuid.UUID | str | None = None, id_key: str | None = None, result: str = "P",
        user: str | None = None, comment: str | None = None, exec_time: float | None = None,
        part_type: str = "Main",
    ) -> UURBuilder:  # fmt: skip
        """Start a repair report. ``process_code`` is the repair operation (500 "Repair" by default);
        ``test_process_code`` the test operation where the unit failed; ``ref_uut`` that test's report id."""
        header = _header("R", pn, sn, rev, process_code, process_name, station, machine_name, location, purpose,
                         start, report_id, id_key, result)  # fmt: skip
        uur = {
            "user": user, "comment": comment, "execTime": exec_time, "processCode": test_process_code,
            "processName": test_process_name, "refUUT": str(ref_uut) if ref_uut else None,
        }  # fmt: skip
        return UURBuilder(header, uur, part_type)


__all__ = ["REPORT_ID_NAMESPACE", "ReportBuilder", "UURBuilder", "UUTBuilder", "report_id_for"]
