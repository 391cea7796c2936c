"""The small custom XML test report of Virinco's converter example (``<TestReport>``).

The document looks like::

    <TestReport>
      <Header>
        <SerialNumber>12345</SerialNumber> <PartNumber>Part1</PartNumber> <Revision>1.0</Revision>
        <StartDate>2017-04-20 12:01:30</StartDate> <ExecutionTime>20.5</ExecutionTime>
        <OperationTypeCode>50</OperationTypeCode> <Operator>Ragnar</Operator>
      </Header>
      <Sequence Name="Main">
        <NumericTest Name="Test1" Measure="555.7" LowLim="500" HighLim="600" Unit="V"/>
        <StringTest Name="Software version" Measure="3.4" Limit="3.4"/>
        <PassFailTest Name="LED ok" Measure="True"/>
      </Sequence>
    </TestReport>

Each Sequence becomes a sequence call (sequences may nest); numeric tests compare inside their limits
(GELE, or GE / LE with one limit, LOG with none), string tests compare ignoring case, pass/fail tests take
their Measure as the verdict. The format carries no statuses: every status is computed.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import LengthMode
from pywats.models.status import numeric_status, string_status

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile
from ._xml import parse, root_name

_MAX_DEPTH = 64
_TRUE = frozenset({"true", "1", "pass", "passed", "yes", "ok"})
_FALSE = frozenset({"false", "0", "fail", "failed", "no"})
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f")
# Header elements with a WATS field of their own (every other header element becomes a misc info).
_HEADER_FIELDS = frozenset({"SerialNumber", "PartNumber", "Revision", "StartDate", "ExecutionTime",
                            "OperationTypeCode", "Operator"})  # fmt: skip


class CustomXMLArguments(ConverterArguments):
    process_code: int = Field(10, description="WATS process code when the header has no OperationTypeCode")
    sequence_name: str = Field("MainSequence", description="name of the root sequence (the format has none)")
    sequence_version: str = Field("1.0", description="version of the root sequence (the format has none)")
    string_comparison: Literal["IGNORECASE", "CASESENSIT"] = Field(
        "IGNORECASE", description="how a StringTest's Measure is compared with its Limit"
    )
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to the WATS limits; 'strict' refuses the file"
    )


class CustomXMLConverter(FileConverter):
    name = "custom-xml"
    version = "1.0"
    description = "the custom <TestReport> XML of Virinco's converter example: header, sequences, three test kinds"
    patterns = ("*.xml",)
    Arguments = CustomXMLArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head()
        if root_name(head) != "TestReport":
            return 0.0
        score = 0.3
        if b"<Header" in head:
            score += 0.3
        if b"<SerialNumber" in head:
            score += 0.25
        if b"<Sequence" in head or b"Test Name=" in head:
            score += 0.1
        return score

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        root = parse(source.data, strip_namespaces=True)  # compare local names from here on
        if root.tag != "TestReport":
            raise ConversionError(f"not a custom XML test report: the root element is <{root.tag}>")
        header_element = next((child for child in root if child.tag == "Header"), None)
        if header_element is None:
            raise ConversionError("the report has no Header", element="TestReport/Header")
        header: dict[str, str] = {}
        for child in header_element:
            header.setdefault(child.tag, (child.text or "").strip())
        sn = header.get("SerialNumber", "")
        if not sn:
            raise ConversionError("the header has no serial number", element="TestReport/Header/SerialNumber")
        pn = header.get("PartNumber", "")
        if not pn:
            raise ConversionError("the header has no part number", element="TestReport/Header/PartNumber")
        process_code = self.arguments.process_code
        if header.get("OperationTypeCode"):
            try:
                process_code = int(header["OperationTypeCode"])
            except ValueError:
                raise ConversionError(f"{header['OperationTypeCode']!r} is not a process code (a whole number)",
                                      element="TestReport/Header/OperationTypeCode") from None  # fmt: skip
        exec_time = _number(header.get("ExecutionTime"), "TestReport/Header/ExecutionTime")
        builder = ReportBuilder.uut(
            pn=pn, sn=sn, rev=header.get("Revision", ""), process_code=process_code,
            start=_start(header.get("StartDate"), context), root_name=self.arguments.sequence_name or "MainSequence",
            user=header.get("Operator") or None,
            exec_time=exec_time if exec_time is not None and exec_time >= 0 else None,
        )  # fmt: skip
        for key, value in header.items():
            if key not in _HEADER_FIELDS and value:
                builder.misc_info(key[:100], value[:100])
        for step in self._steps(root, "TestReport", 0, context):
            builder.add_step(step)
        try:
            report = builder.build(lengths=self.arguments.lengths)
            if self.arguments.sequence_version:
                report.root.seq_call.version = self.arguments.sequence_version[:30]
        except ValueError as error:
            raise ConversionError(f"the report breaks a WATS rule: {error}") from None
        return [report]

    def _steps(self, element: ET.Element, where: str, depth: int, context: ConversionContext) -> list[dict[str, Any]]:
        """The WSJF step dicts of ``element``'s children, statuses computed here (no second pass needed)."""
        if depth > _MAX_DEPTH:
            raise ConversionError(f"sequences are nested more than {_MAX_DEPTH} deep", element=where)
        steps: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for child in element:
            tag = child.tag
            seen[tag] = index = seen.get(tag, 0) + 1
            name = (child.get("Name") or "").strip()
            child_path = f"{where}/{tag}[{index}]"  # an XPath to the element, for messages
            label = child_path + (f" {name!r}" if name else "")
            if tag == "Sequence":
                name = name or f"Sequence {index}"
                children = self._steps(child, child_path, depth + 1, context)
                steps.append({"stepType": "SequenceCall", "name": name, "seqCall": {"path": name, "name": name},
                              "steps": children, "status": _worst(step["status"] for step in children)})  # fmt: skip
            elif tag == "NumericTest":
                steps.append(_numeric_step(child, name or tag, label))
            elif tag == "StringTest":
                value = child.get("Measure")
                if value is None:
                    raise ConversionError("the string test has no Measure", element=label, field="Measure")
                limit = child.get("Limit")
                op = self.arguments.string_comparison if limit is not None else "LOG"
                status = string_status(value, op, limit).value
                measurement = {"compOp": op, "value": value, "status": status}
                if limit is not None:
                    measurement["limit"] = limit
                steps.append({"stepType": "ET_SVT", "name": name or tag, "status": status, "stringMeas": [measurement]})
            elif tag == "PassFailTest":
                measure = (child.get("Measure") or "").strip().lower()
                if measure not in _TRUE and measure not in _FALSE:
                    raise ConversionError(f"{child.get('Measure')!r} is not True or False", element=label,
                                          field="Measure")  # fmt: skip
                status = "P" if measure in _TRUE else "F"
                steps.append({"stepType": "ET_PFT", "name": name or tag, "status": status,
                              "booleanMeas": [{"status": status}]})  # fmt: skip
            elif tag != "Header" or depth:
                context.log.debug("custom-xml: skipped <%s> at %s", tag, child_path)
        return steps


def _numeric_step(test: ET.Element, name: str, where: str) -> dict[str, Any]:
    value = _number(test.get("Measure"), where, "Measure")
    if value is None:
        raise ConversionError("the numeric test has no Measure", element=where, field="Measure")
    low = _number(test.get("LowLim"), where, "LowLim")
    high = _number(test.get("HighLim"), where, "HighLim")
    # Two limits: inside them (GELE); one: GE or LE, its limit in lowLimit as WATS keeps single limits.
    if low is not None and high is not None:
        op = "GELE"
    elif low is not None:
        op = "GE"
    elif high is not None:
        op, low, high = "LE", high, None
    else:
        op = "LOG"
    status = numeric_status(value, op, low, high).value
    measurement: dict[str, Any] = {"compOp": op, "value": value, "status": status}
    if low is not None:
        measurement["lowLimit"] = low
    if high is not None:
        measurement["highLimit"] = high
    unit = test.get("Unit")
    if unit:
        measurement["unit"] = unit
    return {"stepType": "ET_NLT", "name": name, "status": status, "numericMeas": [measurement]}


_SEVERITY = {"T": 3, "E": 2, "F": 1}


def _worst(statuses: Any) -> str:
    """A sequence's status from its steps': terminated, error, failed, else passed (as WATS ranks them)."""
    worst = "P"
    for status in statuses:
        if _SEVERITY.get(status, 0) > _SEVERITY.get(worst, 0):
            worst = status
    return worst


def _start(text: str | None, context: ConversionContext) -> datetime:
    if not text:
        raise ConversionError("the header has no start date", element="TestReport/Header/StartDate")
    for pattern in _DATE_FORMATS:
        try:
            return context.localize(datetime.strptime(text, pattern))
        except ValueError:
            continue
    try:
        return context.localize(datetime.fromisoformat(text))
    except ValueError:
        raise ConversionError(f"{text!r} is not a date and time like 2017-04-20 12:01:30",
                              element="TestReport/Header/StartDate") from None  # fmt: skip


def _number(text: str | None, element: str, field: str | None = None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConversionError(f"{text.strip()!r} is not a number", element=element, field=field) from None
    if math.isnan(value):
        raise ConversionError("NaN is not a measured value", element=element, field=field)
    return value


CONVERTERS = (CustomXMLConverter,)
