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
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_MAX_DEPTH = 64
_TRUE = frozenset({"true", "1", "pass", "passed", "yes", "ok"})
_FALSE = frozenset({"false", "0", "fail", "failed", "no"})
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f")
# Header elements with a WATS field of their own (every other header element becomes a misc info).
_HEADER_FIELDS = frozenset({"SerialNumber", "PartNumber", "Revision", "StartDate", "ExecutionTime",
                            "OperationTypeCode", "Operator"})  # fmt: skip


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _root_name(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8", "ignore")
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    match = _FIRST_TAG.search(head)
    return match.group(2).decode("ascii") if match else None


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
        if _root_name(head) != "TestReport":
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
        try:
            root = ET.fromstring(source.data)
        except ET.ParseError as error:
            raise ConversionError(f"the file is not well-formed XML: {error}", line=error.position[0]) from None
        except (ValueError, LookupError) as error:
            raise ConversionError(f"the file cannot be read as XML: {error}") from None
        if _local(root.tag) != "TestReport":
            raise ConversionError(f"not a custom XML test report: the root element is <{_local(root.tag)}>")
        header_element = next((child for child in root if _local(child.tag) == "Header"), None)
        if header_element is None:
            raise ConversionError("the report has no Header", element="TestReport/Header")
        header: dict[str, str] = {}
        for child in header_element:
            header.setdefault(_local(child.tag), (child.text or "").strip())
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
        self._steps(builder, root, "TestReport", 0, context)
        try:
            report = builder.build(lengths=self.arguments.lengths)
            if self.arguments.sequence_version:
                report.root.seq_call.version = self.arguments.sequence_version[:30]
        except ValueError as error:
            raise ConversionError(f"the report breaks a WATS rule: {error}") from None
        return [report]

    def _steps(self, container: Any, element: ET.Element, where: str, depth: int,
               context: ConversionContext) -> None:  # fmt: skip
        if depth > _MAX_DEPTH:
            raise ConversionError(f"sequences are nested more than {_MAX_DEPTH} deep", element=where)
        for index, child in enumerate(element, 1):
            tag = _local(child.tag)
            name = (child.get("Name") or "").strip()
            child_where = f"{where}/{tag}[{index}]" + (f" {name!r}" if name else "")
            if tag == "Sequence":
                self._steps(container.sequence(name or f"Sequence {index}"), child, child_where, depth + 1, context)
            elif tag == "NumericTest":
                value = _number(child.get("Measure"), child_where, "Measure")
                if value is None:
                    raise ConversionError("the numeric test has no Measure", element=child_where, field="Measure")
                low = _number(child.get("LowLim"), child_where, "LowLim")
                high = _number(child.get("HighLim"), child_where, "HighLim")
                container.numeric(name or tag, value, low=low, high=high, unit=child.get("Unit") or None)
            elif tag == "StringTest":
                value = child.get("Measure")
                if value is None:
                    raise ConversionError("the string test has no Measure", element=child_where, field="Measure")
                limit = child.get("Limit")
                container.string(name or tag, value, limit=limit,
                                 comp_op=self.arguments.string_comparison if limit is not None else "LOG")  # fmt: skip
            elif tag == "PassFailTest":
                measure = (child.get("Measure") or "").strip().lower()
                if measure not in _TRUE and measure not in _FALSE:
                    raise ConversionError(f"{child.get('Measure')!r} is not True or False", element=child_where,
                                          field="Measure")  # fmt: skip
                container.pass_fail(name or tag, measure in _TRUE)
            elif tag != "Header" or depth:
                context.log.debug("custom-xml: skipped <%s> at %s", tag, child_where)


def _start(text: str | None, context: ConversionContext) -> datetime | None:
    if not text:
        return None
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
