"""StepWize XSPC ("config and results") XML: one unit's header, then one flat row per step sub-item.

The document looks like::

    <ConfigAndResultsDataFile>
      <XMLFileType>..</XMLFileType> <XMLFileTypeGUID>..</XMLFileTypeGUID> <MD5>..</MD5>
      <ConfigandResultsData>
        <partNumber>PN1</partNumber> <partRev/> <revision>A</revision> <serialNumber>SN1</serialNumber>
        <operation>SW Debug</operation> <sequencePF>Pass</sequencePF> ...
        <Config_and_Result_Data>
          <Config_and_Data_Result>
            <stepName>Verify 24 VDC</stepName> <stepIndex>6</stepIndex> <stepResultID>..</stepResultID>
            <subItemName>Voltage</subItemName> <dataType>0</dataType>
            <lowerLimit>2.39E+1</lowerLimit> <upperLimit>2.41E+1</upperLimit>
            <limitMode>LL &lt;= Value &lt;= UL</limitMode>
            <stepValue>2.395E+1</stepValue> <units>V</units> <measurementOutcome>Pass</measurementOutcome>
            <stepOutcome>Pass</stepOutcome> <startDateTime>2025-03-16T13:36:57.477</startDateTime> ...

Each row holds both the configuration of a sub-item (limits, limit mode, expected values, data type) and
its result (value, outcomes, times). Consecutive rows of one step execution (same stepIndex and
stepResultID) become one sequence named after the step; each row becomes a step in it: dataType 0 a
numeric test, 1 a pass/fail test, 2 a string test. Verdicts written in the file are kept.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import LengthMode
from pywats.processes import code_for_name

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile
from ._xml import local_name, parse, root_name

_ROOTS = ("ConfigAndResultsDataFile", "ConfigandResultsData")
_UNIT = "ConfigandResultsData"
_ROWS = "Config_and_Result_Data"
_ROW = "Config_and_Data_Result"
_RANGE = re.compile(r"^(LL|UL)(<=|<)VALUE(<=|<)(LL|UL)$")
_SINGLE = re.compile(r"^VALUE(>=|<=|==|!=|<>|>|<|=)(LL|UL)$")
_SINGLE_REVERSED = re.compile(r"^(LL|UL)(>=|<=|==|!=|<>|>|<|=)VALUE$")
_OUTSIDE = re.compile(r"^VALUE(<=|<)(LL|UL)(?:OR|\|\|)VALUE(>=|>)(LL|UL)$")
_SINGLE_OPS = {">": "GT", ">=": "GE", "<": "LT", "<=": "LE", "==": "EQ", "=": "EQ", "!=": "NE", "<>": "NE"}
_MIRRORED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "=": "=", "!=": "!=", "<>": "<>"}
_NO_LIMIT_MODES = frozenset({"", "NONE", "NOLIMIT", "NOLIMITS", "LOG", "RECORDONLY", "N/A"})
_RESULTS = {
    "PASS": "P", "PASSED": "P", "FAIL": "F", "FAILED": "F", "INCOMPLETE": "T", "ABORTED": "T", "ABORT": "T",
    "TERMINATED": "T", "ERROR": "E",
}  # fmt: skip
_STEP_STATUSES = {**_RESULTS, "SKIPPED": "S", "SKIP": "S", "NOT PERFORMED": "S", "NOTPERFORMED": "S"}
_TRUE = frozenset({"T", "TRUE", "1", "Y", "YES", "PASS"})
# Header elements read into WATS fields (everything else with text becomes a misc info).
_HEADER_USED = frozenset({"partNumber", "partRev", "revision", "serialNumber", "operation", "sequencePF",
                          "sourceFile", "version", _ROWS})  # fmt: skip


def _limit_rule(mode: str) -> tuple[str, str | None, str | None] | None:
    """(operator, which limit is lowLimit, which is highLimit) for a limitMode text, None if unknown.

    'LL <= Value <= UL' is GELE with (LL, UL); 'Value <= UL' is LE with UL; 'Value < LL or Value > UL' is LTGT.
    """
    text = mode.replace(" ", "").upper()
    if text in _NO_LIMIT_MODES:
        return "LOG", None, None
    match = _RANGE.match(text)
    if match:
        first, left, right, second = match.groups()
        return ("GE" if left == "<=" else "GT") + ("LE" if right == "<=" else "LT"), first, second
    match = _SINGLE.match(text)
    if match:
        return _SINGLE_OPS[match.group(1)], match.group(2), None
    match = _SINGLE_REVERSED.match(text)
    if match:
        return _SINGLE_OPS[_MIRRORED[match.group(2)]], match.group(1), None
    match = _OUTSIDE.match(text)
    if match:
        left, first, right, second = match.groups()
        return ("LT" if left == "<" else "LE") + ("GT" if right == ">" else "GE"), first, second
    return None


class StepWizeArguments(ConverterArguments):
    process_code: int = Field(
        100, description="WATS process code when the file's operation names no known process (default 100)"
    )
    operation_codes: dict[str, int] = Field(
        default_factory=dict,
        description="process code by the file's operation name, e.g. {'Final Test': 100}; checked before the "
        "default process names (SW Debug, ICT, ... Final Function Test)",
    )
    part_number: str = Field("", description="part number when the file has neither partNumber nor modelNumber")
    revision: str = Field("", description="revision when the file has neither partRev nor revision")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to the WATS limits; 'strict' refuses the file"
    )


class StepWizeConverter(FileConverter):
    name = "stepwize"
    version = "1.0"
    description = "StepWize XSPC config-and-results XML: header and one row per step sub-item with limits"
    patterns = ("*.xspc", "*.xml")
    Arguments = StepWizeArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head()
        root = root_name(head)
        if root == "ConfigAndResultsDataFile":
            return 0.95 if b"ConfigandResultsData" in head or b"Config_and_" in head else 0.8
        if root == "ConfigandResultsData":
            return 0.85
        return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        root = parse(source.data)
        tag = local_name(root.tag)
        if tag not in _ROOTS:
            raise ConversionError(f"not a StepWize XSPC file: the root element is <{tag}>")
        units = [root] if tag == _UNIT else [child for child in root if local_name(child.tag) == _UNIT]
        if not units:
            raise ConversionError("the file holds no ConfigandResultsData (no unit was tested)",
                                  element="ConfigAndResultsDataFile")  # fmt: skip
        return [self._report(unit, index, len(units), context) for index, unit in enumerate(units)]

    def _report(self, unit: ET.Element, index: int, count: int, context: ConversionContext) -> Report:
        args = self.arguments
        where = _UNIT if count == 1 else f"{_UNIT}[{index + 1}]"
        header: dict[str, str] = {}
        rows_element = None
        for child in unit:
            name = local_name(child.tag)
            if name == _ROWS:
                rows_element = child
            elif len(child) == 0:
                header.setdefault(name, (child.text or "").strip())
        sn = header.get("serialNumber", "")
        if not sn:
            raise ConversionError("the unit has no serial number", element=where, field="serialNumber")
        pn = header.get("partNumber") or header.get("modelNumber") or args.part_number
        if not pn:
            raise ConversionError("the unit has no part number (and no part_number argument is set)", element=where,
                                  field="partNumber")  # fmt: skip
        rev = header.get("partRev") or header.get("revision") or args.revision
        operation = header.get("operation", "")
        process_code = args.process_code
        if operation:
            process_code = args.operation_codes.get(operation, code_for_name(operation) or args.process_code)
        rows = [] if rows_element is None else [
            {local_name(field.tag): field.text for field in row} for row in rows_element if local_name(row.tag) == _ROW
        ]  # fmt: skip

        if not rows:
            raise ConversionError("the unit holds no result rows (Config_and_Data_Result)", element=where)
        first = rows[0]
        start = _time(first.get("startDateTime"), context, f"{where}/{_ROW}[1]", "startDateTime")
        if start is None:
            raise ConversionError("the first result row has no start time", element=f"{where}/{_ROW}[1]",
                                  field="startDateTime")  # fmt: skip
        builder = ReportBuilder.uut(
            pn=pn, sn=sn, rev=rev, process_code=process_code, start=start,
            result=_RESULTS.get((header.get("sequencePF") or "").upper()),
            root_name=header.get("sourceFile") or header.get("label") or "StepWize sequence",
            user=(first.get("operator") or "").strip() or None,
        )  # fmt: skip
        for key, value in header.items():
            if value and key not in _HEADER_USED and key not in ("XMLFileType", "XMLFileTypeGUID", "MD5"):
                builder.misc_info(key[:100], value[:100])
        if header.get("revision") and rev != header["revision"]:
            builder.misc_info("revision", header["revision"][:100])
        if operation:
            builder.misc_info("operation", operation[:100])

        end = self._steps(builder, rows, where, context)
        assets = dict.fromkeys((row.get("assetID") or "").strip() for row in rows)
        for asset in assets:
            if asset:
                builder.asset(asset[:100])
        try:
            report = builder.build(lengths=args.lengths)
            if start is not None and end is not None and end >= start:
                report.uut.exec_time = round((end - start).total_seconds(), 6)
            version = header.get("version") or ""
            if version:
                report.root.seq_call.version = version[:30]
        except ValueError as error:
            raise ConversionError(f"the unit breaks a WATS rule: {error}", element=where) from None
        return report

    def _steps(self, builder: Any, rows: list[dict[str, str | None]], where: str,
               context: ConversionContext) -> datetime | None:  # fmt: skip
        """Add the rows as steps; the latest end time seen."""
        end: datetime | None = None
        sequence = None
        current_key: tuple[Any, ...] | None = None
        for number, row in enumerate(rows, 1):
            row_where = f"{where}/{_ROW}[{number}]"
            step_name = (row.get("stepName") or "").strip() or f"Step {row.get('stepIndex') or number}"
            key = (row.get("stepIndex"), row.get("stepResultID"), step_name)
            if key != current_key:
                current_key = key
                sequence = builder.sequence(step_name, **self._step_fields(row, row_where, context))
            row_end = _time(row.get("endDateTime"), context, row_where, "endDateTime")
            if row_end is not None and (end is None or row_end > end):
                end = row_end
            self._row(sequence, row, step_name, row_where)
        return end

    def _step_fields(self, row: dict[str, str | None], where: str, context: ConversionContext) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": _STEP_STATUSES.get((row.get("stepOutcome") or "").strip().upper())}
        start = _time(row.get("startDateTime"), context, where, "startDateTime")
        if start is not None:
            fields["start"] = start
        total = _number(row.get("totalTime"), where, "totalTime")
        if total is not None and total >= 0:
            fields["totTime"] = total
        notes = [(row.get("stepNotes") or "").strip()]
        iteration = (row.get("iteration") or "").strip()
        if iteration not in ("", "0"):
            notes.insert(0, f"iteration {iteration}")
        text = "\n".join(filter(None, notes))
        if text:
            fields["reportText"] = text[:100_000]
        return fields

    def _row(self, sequence: Any, row: dict[str, str | None], step_name: str, where: str) -> None:
        name = (row.get("subItemName") or "").strip() or (row.get("genus") or "").strip() or step_name
        cause = "; ".join(filter(None, ((row.get("cause") or "").strip(), (row.get("causeText") or "").strip())))
        extra = {"errorMessage": cause[:200]} if cause else {}
        outcome = (row.get("measurementOutcome") or "").strip().upper()
        record_only = "RECORD ONLY" in outcome or "RECORDONLY" in outcome.replace(" ", "")
        if outcome.startswith("PASS"):
            status: str | None = "P"
        elif outcome.startswith("FAIL"):
            status = "F"
        elif record_only:
            status = "P"
        elif outcome.startswith(("NOT PERFORMED", "SKIP")):
            status = "S"
        else:
            status = None
        data_type = (row.get("dataType") or "").strip()
        if name.upper() == "OVERALL OUTCOME" and data_type not in ("0", "1"):
            # the step's own verdict, written as a text row: a pass/fail test of that verdict
            verdict = _STEP_STATUSES.get((row.get("stringValue") or "").strip().upper())
            if verdict in ("P", "F"):
                sequence.pass_fail(name, verdict == "P", **extra)
                return
            if verdict is not None:
                sequence.action(name, status=verdict, **extra)
                return
        if data_type == "0":
            self._numeric(sequence, row, name, status, record_only, where, extra)
        elif data_type == "1":
            actual = (row.get("boolValue") or "").strip().upper() in _TRUE
            expected = (row.get("Expected_Boolean") or "").strip().upper() in _TRUE
            passed = status == "P" if status in ("P", "F") else actual == expected
            sequence.pass_fail(name, passed, **extra)
        else:
            # dataType 2 is a string value; anything else is kept as its text value, not judged here
            value = (row.get("stringValue") or "").strip()
            expected = (row.get("Expected_String") or "").strip()
            if data_type == "2" and not record_only and expected:
                case = (row.get("Case_Sensitive") or "").strip().upper() in _TRUE
                sequence.string(name, value, limit=expected, comp_op="CASESENSIT" if case else "IGNORECASE",
                                status=status, **extra)  # fmt: skip
            else:
                sequence.string(name, value, comp_op="LOG", status=status, **extra)

    def _numeric(self, sequence: Any, row: dict[str, str | None], name: str, status: str | None, record_only: bool,
                 where: str, extra: dict[str, Any]) -> None:  # fmt: skip
        value = _number(row.get("stepValue"), where, "stepValue")
        unit = (row.get("units") or "").strip() or None
        rule = None if record_only else _limit_rule(row.get("limitMode") or "")
        if rule is None or rule[0] == "LOG":
            if rule is None and not record_only:
                mode = (row.get("limitMode") or "").strip()
                sequence.numeric(name, value, comp_op="LOG", unit=unit, status=status or "P",
                                 reportText=f"limit mode not understood: {mode}"[:100_000], **extra)  # fmt: skip
                return
            sequence.numeric(name, value, comp_op="LOG", unit=unit, status=status, **extra)
            return
        op, low_name, high_name = rule
        limits = {"LL": _number(row.get("lowerLimit"), where, "lowerLimit"),
                  "UL": _number(row.get("upperLimit"), where, "upperLimit")}  # fmt: skip
        low = limits[low_name] if low_name else None
        high = limits[high_name] if high_name else None
        if low is None or (high_name and high is None):
            sequence.numeric(name, value, comp_op="LOG", unit=unit, status=status or "P", **extra)
            return
        if value is None and status is None:
            status = "F"
        sequence.numeric(name, value, comp_op=op, low=low, high=high if high_name else None, unit=unit,
                         status=status, **extra)  # fmt: skip


def _time(text: str | None, context: ConversionContext, element: str, field: str) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        return context.localize(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ConversionError(f"{text.strip()!r} is not an ISO 8601 date and time", element=element,
                              field=field) from None  # fmt: skip


def _number(text: str | None, element: str, field: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConversionError(f"{text.strip()!r} is not a number", element=element, field=field) from None
    return None if math.isnan(value) else value


CONVERTERS = (StepWizeConverter,)
