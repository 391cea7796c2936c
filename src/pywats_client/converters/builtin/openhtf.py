"""OpenHTF test records (google/openhtf), as its JSON output callback writes them.

A record is one run of a test on one DUT::

    {"dut_id": "SN1", "station_id": "bench-3", "start_time_millis": 1700000000000, "end_time_millis": ..,
     "outcome": "PASS" | "FAIL" | "ERROR" | "TIMEOUT" | "ABORTED", "outcome_details": [{"code", "description"}],
     "metadata": {"test_name": .., "config": {..}, ..}, "code_info": {"name", "docstring", "sourcecode"},
     "phases": [{"name", "start_time_millis", "end_time_millis", "outcome", "result": {"phase_result": ..},
                 "measurements": {"vcc": {"name", "outcome", "measured_value", "validators": ["3.1 <= x <= 3.5"],
                                          "units": {"name", "code", "suffix"}, "dimensions": [..]}},
                 "attachments": {"log.txt": {"mimetype", "data": "<base64>"}}}], ..}

Older records (2016) keep the values beside the declarations, in ``phases[].measured_values``; a bare
measurement (one measurement object alone, like OpenHTF's own ``multidim_testdata.json``) is read as a
report with one phase.

Each phase becomes a sequence; each measurement a step: a number a numeric step (limits parsed from the
validator texts), a string a string step, a boolean a pass/fail step, an unset measurement a skipped
step. A dimensioned measurement becomes a chart when its first coordinate and its values are numbers
(one series per combination of the other coordinates), else a multi-measurement step with one
measurement per row.

:func:`report_from_record` holds the whole mapping, so an OpenHTF output callback can turn the in-memory
record (``convert_test_record_to_json``'s dict, attachments inline as objects) into a report directly.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import mimetypes
import re
from collections.abc import Mapping
from datetime import datetime, timezone, tzinfo
from pathlib import PurePath
from typing import Any, Literal

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import LengthMode, StepStatus, UUTReport

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

_RESULTS = {"PASS": "P", "FAIL": "F", "ERROR": "E", "TIMEOUT": "E", "ABORTED": "T"}
_PHASE_STATUS = {"PASS": "P", "FAIL": "F", "SKIP": "S", "ERROR": "E"}
_MEAS_STATUS = {"PASS": "P", "FAIL": "F"}
_PHASE_RESULTS = frozenset({"CONTINUE", "STOP", "SKIP", "REPEAT", "FAIL_AND_CONTINUE", "FAIL_SUBTEST"})
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

_PN_KEYS = ("part_number", "pn", "partnumber", "part")
_REV_KEYS = ("revision", "rev", "part_revision")
_USER_KEYS = ("operator", "operator_id", "operator_name", "user")
_CONSUMED_KEYS = frozenset(
    ("config", "test_name", "test_description", "test_version") + _PN_KEYS + _REV_KEYS + _USER_KEYS
)

_SNIFF = 1 << 20
_RECORD_MARKERS = (b'"dut_id"', b'"start_time_millis"', b'"end_time_millis"', b'"outcome"', b'"station_id"',
                   b'"code_info"', b'"measurements"', b'"log_records"', b'"metadata"')  # fmt: skip

_CHAIN = re.compile(r"\s*(<=|>=|==|!=|<|>)\s*")
_WITHIN = re.compile(r"^'x' is within (\S+)% of (\S+?)\.?(?: Marginal:.*)?$", re.DOTALL)
_MATCHES = re.compile(r"^'x' matches /(.*)/$", re.DOTALL)
_EQUALS = re.compile(r"^'x' is equal to '(.*)'$", re.DOTALL)
_PIVOT_PREFIXES = ("All values pass: ",)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_REGEX_SPECIALS = frozenset(".^$*+?{}[]|()\\")
_LOW_OPS = {"<=": ("GE", "low"), "<": ("GT", "low"), ">=": ("LE", "high"), ">": ("LT", "high")}
_HIGH_OPS = {"<=": ("LE", "high"), "<": ("LT", "high"), ">=": ("GE", "low"), ">": ("GT", "low")}


class OpenHTFArguments(ConverterArguments):
    process_code: int = Field(100, description="WATS process (operation type) code of the reports")
    part_number: str = Field(
        "", description="part number when the record's metadata has none (keys part_number, pn); "
        "empty: the test name (metadata test_name)",
    )  # fmt: skip
    revision: str = Field("1", description="revision when the record's metadata has none (keys revision, rev)")
    serial_number: str = Field(
        "", description="serial number for a record without dut_id and for bare measurement files; empty: "
        "a record without dut_id is refused, a bare measurement file takes its file name",
    )  # fmt: skip
    multidim: Literal["chart", "measurements"] = Field(
        "chart", description="dimensioned measurements: 'chart' makes a chart where the first coordinate and "
        "the values are numbers (else measurements); 'measurements' always one measurement per row",
    )  # fmt: skip
    max_chart_series: int = Field(
        20, ge=1, description="most series in one chart; a measurement that needs more becomes measurements"
    )
    attachments: bool = Field(True, description="add phase attachments (inline base64 data) as attachment steps")
    metadata_misc_info: bool = Field(
        True, description="copy the record's scalar metadata entries (config excepted) as misc infos"
    )
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts names and texts to the WATS limits; 'strict' refuses them"
    )


# -- small typed accessors: every wrong type becomes a ConversionError naming the field -----------------


def _dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConversionError(f"expected an object, found {type(value).__name__}", field=where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ConversionError(f"expected a list, found {type(value).__name__}", field=where)
    return list(value)


def _text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ConversionError(f"expected a text, found {type(value).__name__}", field=where)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: Any, where: str) -> float:
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):
        raise ConversionError(f"{value!r} is not a number WATS can store", field=where) from None


def _moment(millis: Any, where: str, zone: tzinfo | None) -> datetime | None:
    """An epoch-milliseconds time as an aware datetime in ``zone`` (the machine's when None); 0 is unset."""
    if millis is None or millis == 0:
        return None
    if not _is_number(millis) or not math.isfinite(millis):
        raise ConversionError(f"{millis!r} is not a time in milliseconds", field=where)
    try:
        moment = datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
        return moment.astimezone(zone) if zone is not None else moment.astimezone()
    except (OverflowError, OSError, ValueError):
        raise ConversionError(f"{millis!r} milliseconds is not a possible time", field=where) from None


def _unit(units: Any) -> str | None:
    if isinstance(units, str):
        return units or None
    if isinstance(units, dict):
        suffix = units.get("suffix", units.get("uom_suffix"))
        return suffix if isinstance(suffix, str) and suffix else None
    return None


def _dimension(dimension: Any, index: int) -> tuple[str, str | None]:
    """A dimension's (name, unit suffix), from ``{name, code, suffix}``, ``{name, uom_code, uom_suffix}`` or text."""
    if isinstance(dimension, str):
        return dimension or f"dim{index}", None
    if isinstance(dimension, dict):
        name = dimension.get("name") or dimension.get("description")
        return (name if isinstance(name, str) and name else f"dim{index}"), _unit(dimension)
    return f"dim{index}", None


def _coordinate(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# -- validator texts → WATS limits ---------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return None if math.isnan(value) else value


def numeric_limits(validator: str) -> tuple[str, float | None, float | None] | None:
    """The (operator, low, high) a numeric OpenHTF validator text stands for, or None.

    Reads ``in_range``/``equals`` texts (``1 <= x <= 4``, ``x <= 4``, ``1 < x``, ``x == 5``, with or
    without ``Marginal:`` bounds), ``within_percent`` (``'x' is within 5% of 10``) and their dimension-pivot
    form (``All values pass: ...``). A single limit is given as low or high, as :meth:`ReportBuilder`
    takes it.
    """
    text = validator.strip()
    for prefix in _PIVOT_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    within = _WITHIN.match(text)
    if within:
        percent, expected = _number(within.group(1)), _number(within.group(2))
        if percent is None or expected is None:
            return None
        delta = abs(expected * percent / 100.0)
        return "GELE", expected - delta, expected + delta
    equals = _EQUALS.match(text)
    if equals:
        value = _number(equals.group(1))
        return ("EQ", value, None) if value is not None else None
    tokens = _CHAIN.split(text)
    if len(tokens) < 3 or len(tokens) > 9 or len(tokens) % 2 == 0:
        return None
    operands, ops = tokens[0::2], tokens[1::2]
    if operands.count("x") != 1:
        return None
    at = operands.index("x")
    if any(not item.startswith("Marginal:") for position, item in enumerate(operands)
           if position not in (0, at, len(operands) - 1)):  # fmt: skip
        return None
    low: tuple[str, float] | None = None
    high: tuple[str, float] | None = None
    sides = []
    if at > 0:
        sides.append((operands[0], ops[0], _LOW_OPS))
    if at < len(operands) - 1:
        sides.append((operands[-1], ops[-1], _HIGH_OPS))
    for operand, op, table in sides:
        value = _number(operand)
        if value is None:
            return None
        if op in ("==", "!="):
            if len(sides) != 1:
                return None
            return ("EQ" if op == "==" else "NE"), value, None
        comp, side = table[op]
        if side == "low":
            if low is not None:
                return None
            low = (comp, value)
        else:
            if high is not None:
                return None
            high = (comp, value)
    if low and high:
        return low[0] + high[0], low[1], high[1]
    if low:
        return low[0], low[1], None
    if high:
        return high[0], None, high[1]
    return None


def string_limit(validator: str) -> tuple[str, str] | None:
    """The (operator, limit) a string OpenHTF validator text stands for, or None.

    ``'x' matches /^Black$/`` (what ``equals('Black')`` writes) is EQ "Black"; any other regex is REGEX;
    ``'x' is equal to 'v'`` is EQ "v".
    """
    text = validator.strip()
    matches = _MATCHES.match(text)
    if matches:
        regex = matches.group(1)
        if len(regex) >= 2 and regex.startswith("^") and regex.endswith("$") and not regex.endswith("\\$"):
            inner = regex[1:-1]
            if not _REGEX_SPECIALS.intersection(_ESCAPED.sub("", inner)):
                return "EQ", _ESCAPED.sub(r"\1", inner)
        return "REGEX", regex
    equals = _EQUALS.match(text)
    if equals:
        return "EQ", equals.group(1)
    return None


# -- the mapping --------------------------------------------------------------------------------------


def _arguments(arguments: Any) -> OpenHTFArguments:
    if isinstance(arguments, OpenHTFArguments):
        return arguments
    return OpenHTFConverter(arguments).arguments  # type: ignore[return-value]


def report_from_record(
    record: dict[str, Any], arguments: OpenHTFArguments | Mapping[str, Any] | None = None,
    context: ConversionContext | None = None,
) -> UUTReport:  # fmt: skip
    """The WATS UUT report of one OpenHTF test record (the JSON output's object, or the in-memory dict).

    Args:
        record: the record as base types (``TestRecord.as_base_types()`` / the JSON file's object);
            attachments may be inline base64 ``data`` or objects with ``data`` bytes and ``mimetype``.
        arguments: :class:`OpenHTFArguments` or a mapping of them (defaults when None).
        context: time zone for the report's local start time and the log; a default one when None.

    Raises:
        ConversionError: the record is malformed or has no serial number; the field is named.
    """
    return _RecordReader(_arguments(arguments), context or ConversionContext()).report(record)


class _RecordReader:
    def __init__(self, arguments: OpenHTFArguments, context: ConversionContext) -> None:
        self.args = arguments
        self.context = context
        self.zone = context.timezone

    def report(self, record: Any) -> UUTReport:
        record = _dict(record, "record")
        metadata = _dict(record.get("metadata"), "metadata")
        code_info = _dict(record.get("code_info"), "code_info")
        serial = (_text(record.get("dut_id"), "dut_id") or "").strip() or self.args.serial_number
        if not serial:
            raise ConversionError("the record has no serial number (dut_id is empty)", field="dut_id")
        test_name = _text(metadata.get("test_name"), "metadata.test_name") or ""
        script = _text(code_info.get("name"), "code_info.name") or ""
        pn = self._meta(metadata, _PN_KEYS) or self.args.part_number or test_name or script or "OpenHTF"
        rev = self._meta(metadata, _REV_KEYS) or self.args.revision or "1"
        start = _moment(record.get("start_time_millis"), "start_time_millis", self.zone)
        end = _moment(record.get("end_time_millis"), "end_time_millis", self.zone)
        if start is None:
            self.context.log.debug("OpenHTF record of %s has no start time: the conversion time is used", serial)
        outcome = _text(record.get("outcome"), "outcome")
        result = _RESULTS.get(outcome.upper()) if outcome else None
        error_code, error_message = self._outcome_details(record.get("outcome_details"))
        builder = ReportBuilder.uut(
            pn=pn, sn=serial, rev=rev, process_code=self.args.process_code, start=start, result=result,
            machine_name=_text(record.get("station_id"), "station_id") or None,
            root_name=test_name or script or "OpenHTF test", user=self._meta(metadata, _USER_KEYS),
            comment=_text(metadata.get("test_description"), "metadata.test_description") or None,
            exec_time=(end - start).total_seconds() if start and end and end >= start else None,
            error_code=error_code, error_message=error_message,
        )  # fmt: skip
        self._misc_infos(builder, record, metadata, script)
        self._phases(builder, _list(record.get("phases"), "phases"), record)
        try:
            report = builder.build(lengths=self.args.lengths)
        except ValueError as error:  # ReportFormatError, or a status that cannot be computed
            raise ConversionError(f"the record does not make a valid WATS report: {error}") from None
        version = _text(metadata.get("test_version"), "metadata.test_version")
        if version and report.root.seq_call is not None:
            report.root.seq_call.version = version[:30]
        if result is not None:
            report.root.status = StepStatus(result)
        return report  # type: ignore[return-value]

    @staticmethod
    def _meta(metadata: dict[str, Any], keys: tuple[str, ...]) -> str | None:
        for key in keys:
            value = metadata.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
        return None

    @staticmethod
    def _outcome_details(details: Any) -> tuple[int | None, str | None]:
        code: int | None = None
        parts = []
        for index, item in enumerate(_list(details, "outcome_details")):
            item = _dict(item, f"outcome_details[{index}]")
            raw_code = item.get("code")
            text = _text(item.get("description"), f"outcome_details[{index}].description") or ""
            if code is None and _is_number(raw_code) and isinstance(raw_code, int) and -(2**31) <= raw_code < 2**31:
                code = raw_code
            label = _text(raw_code, f"outcome_details[{index}].code") if raw_code is not None else None
            parts.append(f"{label}: {text}" if label and text else (label or text))
        message = "; ".join(part for part in parts if part)
        return code, message or None

    def _misc_infos(self, builder: Any, record: dict[str, Any], metadata: dict[str, Any], script: str) -> None:
        if script:
            builder.misc_info("code_info.name", script)
        if record.get("marginal") is True:
            builder.misc_info("marginal", "true")
        if not self.args.metadata_misc_info:
            return
        for key, value in metadata.items():
            if key in _CONSUMED_KEYS or not isinstance(key, str) or not key:
                continue
            if isinstance(value, bool):
                builder.misc_info(key, "true" if value else "false")
            elif isinstance(value, (str, int, float)) and str(value) != "":
                builder.misc_info(key, str(value))

    # -- phases --

    def _phases(self, builder: Any, phases: list[Any], record: dict[str, Any]) -> None:
        subtest_status = {}
        for index, item in enumerate(_list(record.get("subtests"), "subtests")):
            item = _dict(item, f"subtests[{index}]")
            name, outcome = item.get("name"), item.get("outcome")
            if isinstance(name, str) and outcome in ("PASS", "FAIL"):
                subtest_status[name] = _MEAS_STATUS[outcome]
        current_subtest: str | None = None
        container = builder
        for index, phase in enumerate(phases):
            where = f"phases[{index}]"
            phase = _dict(phase, where)
            subtest = _text(phase.get("subtest_name"), f"{where}.subtest_name") or None
            if subtest != current_subtest:
                current_subtest = subtest
                container = builder
                if subtest:
                    fields = {"status": subtest_status[subtest]} if subtest in subtest_status else {}
                    container = builder.sequence(subtest, **fields)
            self._phase(container, phase, where)

    def _phase(self, parent: Any, phase: dict[str, Any], where: str) -> None:
        name = _text(phase.get("name"), f"{where}.name")
        if not name:
            raise ConversionError("a phase has no name", field=f"{where}.name")
        fields: dict[str, Any] = {}
        start = _moment(phase.get("start_time_millis"), f"{where}.start_time_millis", self.zone)
        end = _moment(phase.get("end_time_millis"), f"{where}.end_time_millis", self.zone)
        if start is not None:
            fields["start"] = start.isoformat()
            if end is not None and end >= start:
                fields["totTime"] = (end - start).total_seconds()
        outcome = _text(phase.get("outcome"), f"{where}.outcome")
        status = _PHASE_STATUS.get(outcome.upper()) if outcome else None
        result = _dict(phase.get("result"), f"{where}.result")
        phase_result = result.get("phase_result")
        if isinstance(phase_result, dict):  # an exception: {exc_type, exc_val, exc_tb}
            kind = _text(phase_result.get("exc_type"), f"{where}.result.phase_result.exc_type") or "exception"
            value = _text(phase_result.get("exc_val"), f"{where}.result.phase_result.exc_val") or ""
            fields["errorMessage"] = f"{kind}: {value}" if value else kind
            trace = _text(phase_result.get("exc_tb"), f"{where}.result.phase_result.exc_tb")
            if trace:
                fields["reportText"] = trace
            status = status or "E"
        elif isinstance(phase_result, str) and phase_result not in _PHASE_RESULTS:
            fields["errorMessage"] = phase_result  # older records: the exception's text
            status = status or "E"
        elif phase_result == "SKIP":
            status = status or "S"
        elif phase_result == "FAIL_AND_CONTINUE":
            status = status or "F"
        if status:
            fields["status"] = status
        sequence = parent.sequence(name, **fields)
        legacy = _dict(phase.get("measured_values"), f"{where}.measured_values")
        measurements = phase.get("measurements")
        if isinstance(measurements, (list, tuple)):
            items = [(None, item) for item in measurements]
        else:
            items = list(_dict(measurements, f"{where}.measurements").items())
        for key, measurement in items:
            label = f"{where}.measurements.{key}" if key is not None else f"{where}.measurements"
            self._measurement(sequence, key, _dict(measurement, label), legacy, label)
        if self.args.attachments:
            for key, attachment in _dict(phase.get("attachments"), f"{where}.attachments").items():
                self._attachment(sequence, key, attachment, f"{where}.attachments.{key}")

    def _attachment(self, parent: Any, name: Any, attachment: Any, where: str) -> None:
        if isinstance(attachment, dict):
            data, mimetype = attachment.get("data"), attachment.get("mimetype")
        else:  # the in-memory record's test_record.Attachment
            data, mimetype = getattr(attachment, "data", None), getattr(attachment, "mimetype", None)
        if data is None:
            self.context.log.debug("attachment %s has no inline data: left out", name)
            return
        if isinstance(data, str):
            try:
                data = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise ConversionError("the attachment's data is not base64", field=where) from None
        if not isinstance(data, (bytes, bytearray)):
            raise ConversionError(f"the attachment's data is {type(data).__name__}, not base64 text", field=where)
        name = str(name)
        if not isinstance(mimetype, str) or not mimetype:
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        parent.attach(name, bytes(data), content_type=mimetype)

    # -- measurements --

    def _measurement(self, parent: Any, key: Any, measurement: dict[str, Any], legacy: dict[str, Any],
                     where: str) -> None:  # fmt: skip
        name = _text(measurement.get("name"), f"{where}.name") or (str(key) if key is not None else "")
        if not name:
            raise ConversionError("a measurement has no name", field=f"{where}.name")
        outcome = _text(measurement.get("outcome"), f"{where}.outcome")
        outcome = outcome.upper() if outcome else None
        if "measured_value" in measurement:
            present, value = True, measurement["measured_value"]
        elif name in legacy:
            present, value = True, legacy[name]
        elif "value" in measurement:  # a bare measurement (mfg-inspector multidim test data)
            present, value = True, measurement["value"]
        else:
            present, value = False, None
        validators = [v if isinstance(v, str) else json.dumps(v, default=str)
                      for v in _list(measurement.get("validators"), f"{where}.validators")]  # fmt: skip
        notes = []
        docstring = measurement.get("docstring")
        if isinstance(docstring, str) and docstring:
            notes.append(docstring)
        if measurement.get("marginal") is True:
            notes.append("marginal")
        status = _MEAS_STATUS.get(outcome) if outcome else None
        dimensions = _list(measurement.get("dimensions"), f"{where}.dimensions")
        if not present or (value is None and outcome in (None, "UNSET", "PARTIALLY_SET")):
            notes.extend(f"validator: {text}" for text in validators)
            parent.action(name, status="S", **_report_text(notes))
            return
        if value is None:
            parent.pass_fail(name, outcome == "PASS", **_report_text(notes))
            return
        if dimensions and isinstance(value, (list, tuple)):
            self._dimensioned(parent, name, value, dimensions, measurement, validators, status, notes, where)
            return
        self._scalar(parent, name, value, _unit(measurement.get("units")), validators, status, notes, where)

    def _scalar(self, parent: Any, name: str, value: Any, unit: str | None, validators: list[str],
                status: str | None, notes: list[str], where: str) -> None:  # fmt: skip
        if isinstance(value, bool):
            notes.extend(f"validator: {text}" for text in validators)
            notes.append(f"value: {value}")
            parent.pass_fail(name, status == "P" if status else value, **_report_text(notes))
            return
        if isinstance(value, str) and value.lower() in _NON_FINITE:
            if any(numeric_limits(text) for text in validators):
                value = _NON_FINITE[value.lower()]  # json_safe records write NaN and infinities as text
        if _is_number(value):
            limits = None
            for text in validators:
                parsed = numeric_limits(text) if limits is None else None
                if parsed is not None:
                    limits = parsed
                else:
                    notes.append(f"validator: {text}")
            op, low, high = limits or (None, None, None)
            parent.numeric(name, _float(value, f"{where}.measured_value"), low=low, high=high, comp_op=op,
                           unit=unit, status=status, **_report_text(notes))  # fmt: skip
            return
        if isinstance(value, str):
            text_value = value
        else:
            text_value = json.dumps(value, default=str)
            notes.append(f"value: {text_value}")
        limit = None
        for text in validators:
            parsed = string_limit(text) if limit is None else None
            if parsed is not None:
                limit = parsed
            else:
                notes.append(f"validator: {text}")
        op, limit_text = limit or (None, None)
        if op == "REGEX" and status is None:
            op = "LOG"  # no verdict in the file: never run a record's regex here
        parent.string(name, text_value, limit=limit_text, comp_op=op, status=status, **_report_text(notes))

    def _dimensioned(self, parent: Any, name: str, rows: list[Any] | tuple[Any, ...], dimensions: list[Any],
                     measurement: dict[str, Any], validators: list[str], status: str | None, notes: list[str],
                     where: str) -> None:  # fmt: skip
        width = len(rows[0]) if rows and isinstance(rows[0], (list, tuple)) else 0
        if width < 2 or any(not isinstance(row, (list, tuple)) or len(row) != width for row in rows):
            notes.append("dimensioned value with irregular rows")
            self._scalar(parent, name, list(rows), None, validators, status, notes, where)
            return
        count = width - 1  # coordinates per row; the last item is the value
        axes = [_dimension(dimensions[i] if i < len(dimensions) else None, i) for i in range(count)]
        if len(dimensions) > count:  # the value's own dimension is listed last (mfg-inspector layout)
            value_name, value_unit = _dimension(dimensions[count], count)
        else:
            units = measurement.get("units")
            value_name = units.get("name") if isinstance(units, dict) else None
            if not isinstance(value_name, str) or value_name in ("", "None"):
                value_name = "value"
            value_unit = _unit(units)
        numeric = all(_is_number(row[-1]) for row in rows)
        fields: dict[str, Any] = {"status": status} if status else {}
        limits = None
        for text in validators:
            if limits is None and numeric:
                limits = numeric_limits(text)
            notes.append(f"validator: {text}")
        fields.update(_report_text(notes))
        if self.args.multidim == "chart" and numeric and all(_is_number(row[0]) for row in rows):
            series: dict[tuple[Any, ...], tuple[list[float], list[float]]] = {}
            for row in rows:
                key = tuple(_coordinate(item) for item in row[1:count])
                xs, ys = series.setdefault(key, ([], []))
                x, y = _float(row[0], f"{where}.measured_value"), _float(row[-1], f"{where}.measured_value")
                if math.isfinite(x) and math.isfinite(y):
                    xs.append(x)
                    ys.append(y)
            if len(series) <= self.args.max_chart_series:
                chart = parent.chart(name, x_label=axes[0][0], x_unit=axes[0][1], y_label=value_name,
                                     y_unit=value_unit, **fields)  # fmt: skip
                for key, (xs, ys) in series.items():
                    label = ", ".join(f"{axes[i + 1][0]}={item}" for i, item in enumerate(key)) or name
                    chart.series(label, xs, ys)
                values = [y for _, ys in series.values() for y in ys]
                if limits is not None and values:  # the limits apply to every value: check the extremes
                    op, low, high = limits
                    chart.measure("min", min(values), low=low, high=high, comp_op=op, unit=value_unit)
                    chart.measure("max", max(values), low=low, high=high, comp_op=op, unit=value_unit)
                return
        if numeric:
            op, low, high = limits or (None, None, None)
            multi = parent.multi_numeric(name, **fields)
            for row in rows:
                label = ", ".join(f"{axes[i][0]}={_coordinate(row[i])}" for i in range(count))
                multi.measure(label, _float(row[-1], f"{where}.measured_value"), low=low, high=high, comp_op=op,
                              unit=value_unit)  # fmt: skip
        else:
            multi = parent.multi_string(name, **fields)
            for row in rows:
                label = ", ".join(f"{axes[i][0]}={_coordinate(row[i])}" for i in range(count))
                item = row[-1]
                multi.measure(label, item if isinstance(item, str) else json.dumps(item, default=str))


def _report_text(notes: list[str]) -> dict[str, str]:
    return {"reportText": "\n".join(notes)} if notes else {}


# -- the converter ------------------------------------------------------------------------------------


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and "phases" in value


def _is_bare_measurement(value: Any) -> bool:
    return (isinstance(value, dict) and "phases" not in value and isinstance(value.get("name"), str)
            and "outcome" in value and ("measured_value" in value or "value" in value))  # fmt: skip


class OpenHTFConverter(FileConverter):
    name = "openhtf"
    version = "1.0"
    description = "OpenHTF JSON test records (older and newer layouts), one report per record"
    patterns = ("*.json",)
    Arguments = OpenHTFArguments

    def validate(self, source: SourceFile) -> float:
        data = source.data[:_SNIFF]
        text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith((b"{", b"[")):
            return 0.0
        if b'"phases"' in data and (b'"dut_id"' in data or b'"start_time_millis"' in data):
            hits = sum(marker in data for marker in _RECORD_MARKERS)
            return min(0.75 + 0.03 * hits, 0.98)
        if (text.startswith(b"{") and b'"outcome"' in data and b'"name"' in data
                and (b'"measured_value"' in data or (b'"dimensions"' in data and b'"value"' in data))):  # fmt: skip
            return 0.85
        return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        try:
            document = json.loads(source.text())
        except json.JSONDecodeError as error:
            raise ConversionError(f"not valid JSON: {error.msg}", line=error.lineno) from None
        except (ValueError, RecursionError) as error:
            raise ConversionError(f"not readable JSON: {error}") from None
        arguments: OpenHTFArguments = self.arguments  # type: ignore[assignment]
        if _is_record(document):
            return [report_from_record(document, arguments, context)]
        if isinstance(document, list) and document and all(_is_record(item) for item in document):
            return [report_from_record(item, arguments, context) for item in document]
        if _is_bare_measurement(document):
            name = document["name"]
            serial = arguments.serial_number or PurePath(source.name).stem or name
            record = {"dut_id": serial, "phases": [{"name": name, "measurements": {name: document}}]}
            return [report_from_record(record, arguments, context)]
        raise ConversionError("not an OpenHTF test record: no 'phases' (nor a single measurement object)")


CONVERTERS = (OpenHTFConverter,)

__all__ = ["OpenHTFArguments", "OpenHTFConverter", "numeric_limits", "report_from_record", "string_limit"]
