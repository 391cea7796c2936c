"""JUnit XML test results (pytest, Maven Surefire, CTest, Google Test, and the many tools that copy them).

The document is ``<testsuites>`` holding ``<testsuite>`` elements, or a single ``<testsuite>``::

    <testsuites name="AllTests" time="1.2" timestamp="2024-06-01T12:00:00">
      <testsuite name="tests.test_power" tests="3" failures="1" errors="0" skipped="1" time="0.8"
                 timestamp="2024-06-01T12:00:00.120+02:00" hostname="ci-7">
        <properties><property name="serial_number" value="SN-1"/></properties>
        <testcase classname="tests.test_power.TestRails" name="test_vcc" time="0.010">
          <failure message="assert 3.6 < 3.5" type="AssertionError">traceback...</failure>
          <system-out>...</system-out>
        </testcase>
        <testcase name="test_led" time="0"><skipped message="no LED fitted"/></testcase>
      </testsuite>
    </testsuites>

A testsuite becomes a sequence and a testcase a pass/fail step: ``<failure>`` fails it, ``<error>`` makes it
an error, ``<skipped>`` (or CTest/Google Test ``status="notrun"``) skips it. JUnit has no unit: serial
number, part number and revision come from arguments, which may name testsuite properties as
``{placeholders}``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile
from ._xml import local_name, root_name

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_MAX_DEPTH = 32

_SERIAL_PROPERTIES = ("serial_number", "serialnumber", "serial", "sn", "dut_id")
_PART_PROPERTIES = ("part_number", "partnumber", "pn")
_REVISION_PROPERTIES = ("revision", "rev")
_SKIPPED_STATES = frozenset({"notrun", "disabled", "skipped", "suppressed"})
_NOTES = (("flakyFailure", "flaky failure"), ("flakyError", "flaky error"), ("rerunFailure", "rerun failure"),
          ("rerunError", "rerun error"))  # fmt: skip


class JUnitArguments(ConverterArguments):
    process_code: int = Field(110, description="WATS process (operation type) code; 110 is Software Test")
    serial_number: str = Field(
        "", description="serial number, may hold {placeholders} (below); empty: a property named serial_number, "
        "serialnumber, serial, sn or dut_id, else '{name}-{timestamp}', else the file name",
    )  # fmt: skip
    part_number: str = Field(
        "", description="part number, may hold {placeholders}; empty: a property named part_number, "
        "partnumber or pn, else the testsuite's name ({name})",
    )  # fmt: skip
    revision: str = Field(
        "", description="revision, may hold {placeholders}; empty: a property named revision or rev, else '1'"
    )
    report_per: Literal["file", "testsuite"] = Field(
        "file", description="'file': one report with a sequence per testsuite; 'testsuite': one report per "
        "top-level testsuite, its testcases directly under the root",
    )  # fmt: skip
    group_by_classname: bool = Field(
        True, description="testcases whose classname differs from the suite's and the case's own name go in a "
        "sequence per classname (pytest modules and classes)",
    )  # fmt: skip
    misc_info_properties: list[str] = Field(
        default_factory=list, description="testsuite properties copied as misc infos, by name; ['*'] copies all"
    )
    include_output: bool = Field(True, description="add <system-out>/<system-err> to the steps' report text")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts names and texts to the WATS limits; 'strict' refuses them"
    )


_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _parse_xml(source: SourceFile) -> ET.Element:
    """The root element; UTF-16/32 files (with a byte-order mark) are decoded first.

    Raises:
        ConversionError: not well-formed XML, or in an encoding Python cannot read.
    """
    data = source.data
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return ET.fromstring(_DECLARATION.sub("", source.text(), count=1))
        return ET.fromstring(data)
    except ET.ParseError as error:
        raise ConversionError(f"not well-formed XML: {error}", line=error.position[0]) from None
    except (LookupError, ValueError) as error:
        raise ConversionError(f"the XML cannot be read: {error}") from None


def _seconds(text: str | None, where: str) -> float | None:
    """A duration in seconds; Surefire once wrote thousands separators ("1,234.5")."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        raise ConversionError(f"time {text!r} is not a number of seconds", element=where) from None
    return value if math.isfinite(value) and value >= 0 else None


class _Scope:
    """What one report is made of: its top-level suites, name, properties, start and host."""

    def __init__(self, name: str, suites: list[ET.Element], root: ET.Element | None) -> None:
        self.name = name
        self.suites = suites
        self.root = root
        self.properties: dict[str, str] = {}
        for element in ([root] if root is not None else []) + suites:
            self._collect(element, 0)

    def _collect(self, element: ET.Element, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise ConversionError(f"testsuites nested deeper than {_MAX_DEPTH} levels", element="testsuite")
        for child in element:
            tag = local_name(child.tag)
            if tag == "properties":
                for item in child:
                    if local_name(item.tag) == "property":
                        name = item.get("name")
                        value = item.get("value", item.text or "")
                        if name and name not in self.properties:
                            self.properties[name] = value
            elif tag == "testsuite":
                self._collect(child, depth + 1)

    def attribute(self, name: str) -> str | None:
        for element in ([self.root] if self.root is not None else []) + self.suites:
            value = element.get(name)
            if value and value.strip():
                return value.strip()
        return None

    def property(self, names: tuple[str, ...]) -> str | None:
        lowered = {key.lower(): value for key, value in self.properties.items()}
        for name in names:
            value = lowered.get(name)
            if value and value.strip():
                return value.strip()
        return None


class JUnitConverter(FileConverter):
    name = "junit"
    version = "1.0"
    description = "JUnit XML test results (pytest, Maven Surefire, CTest, Google Test): software tests as UUT reports"
    patterns = ("*.xml",)
    Arguments = JUnitArguments

    def validate(self, source: SourceFile) -> float:
        root = root_name(source.head(8192))
        if root not in ("testsuites", "testsuite"):
            return 0.0
        head = source.head(65536).replace(b"\x00", b"")
        return 0.92 if b"<testcase" in head or b"tests=" in head else 0.75

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        args: JUnitArguments = self.arguments  # type: ignore[assignment]
        root = _parse_xml(source)
        tag = local_name(root.tag)
        if tag == "testsuites":
            suites = [child for child in root if local_name(child.tag) == "testsuite"]
            if not suites:
                raise ConversionError("the file holds no <testsuite>", element="testsuites")
            if args.report_per == "testsuite":
                scopes = [_Scope(suite.get("name") or "testsuite", [suite], None) for suite in suites]
            else:
                scopes = [_Scope(root.get("name") or suites[0].get("name") or "JUnit tests", suites, root)]
        elif tag == "testsuite":
            scopes = [_Scope(root.get("name") or "testsuite", [root], None)]
        else:
            raise ConversionError(f"not JUnit XML: the root element is <{tag}>, not <testsuites> or <testsuite>")
        stem = PurePath(source.name).stem
        return [self._report(scope, stem, context) for scope in scopes]

    # -- one report --

    def _report(self, scope: _Scope, stem: str, context: ConversionContext) -> Report:
        args: JUnitArguments = self.arguments  # type: ignore[assignment]
        start = self._start(scope, context)
        values = {
            "name": scope.name, "hostname": scope.attribute("hostname") or "", "file": stem,
            "timestamp": start.strftime("%Y%m%dT%H%M%S") if start else "",
            "date": start.strftime("%Y-%m-%d") if start else "",
        }  # fmt: skip
        serial = self._field("serial_number", args.serial_number, scope, values, _SERIAL_PROPERTIES,
                             "{name}-{timestamp}" if start else "{file}")  # fmt: skip
        if not serial:
            raise ConversionError("no serial number: set the serial_number argument", field="serial_number")
        part = self._field("part_number", args.part_number, scope, values, _PART_PROPERTIES, "{name}")
        revision = self._field("revision", args.revision, scope, values, _REVISION_PROPERTIES, "1")
        exec_time = _seconds(scope.root.get("time"), "testsuites") if scope.root is not None else None
        if exec_time is None:
            times = [_seconds(suite.get("time"), "testsuite") for suite in scope.suites]
            exec_time = sum(time for time in times if time is not None) if any(t is not None for t in times) else None
        builder = ReportBuilder.uut(
            pn=part or scope.name, sn=serial, rev=revision or "1", process_code=args.process_code, start=start,
            root_name=scope.name, machine_name=scope.attribute("hostname"), exec_time=exec_time,
        )  # fmt: skip
        wanted = args.misc_info_properties
        for name, value in scope.properties.items():
            if "*" in wanted or name in wanted:
                builder.misc_info(name, value or "")
        for index, suite in enumerate(scope.suites):
            where = f"testsuite[{index + 1}]"
            if args.report_per == "testsuite":
                self._contents(builder, suite, where, context, 0)
            else:
                self._suite(builder, suite, where, context, 0)
        try:
            return builder.build(lengths=args.lengths)
        except ValueError as error:
            raise ConversionError(f"the results do not make a valid WATS report: {error}") from None

    def _field(self, field: str, template: str, scope: _Scope, values: dict[str, str],
               properties: tuple[str, ...], default: str) -> str:  # fmt: skip
        if not template:
            found = scope.property(properties)
            if found:
                return found
            template = default

        def substitute(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in values:
                return values[key]
            if key in scope.properties:
                return scope.properties[key]
            raise ConversionError(f"no value for the placeholder {{{key}}} (no testsuite property of that name)",
                                  field=field)  # fmt: skip

        return _PLACEHOLDER.sub(substitute, template).strip()

    def _start(self, scope: _Scope, context: ConversionContext) -> datetime | None:
        candidates = ([scope.root] if scope.root is not None else []) + scope.suites
        for element in candidates:
            moment = self._timestamp(element.get("timestamp"), local_name(element.tag), context)
            if moment is not None:
                return moment
        return None

    @staticmethod
    def _timestamp(text: str | None, where: str, context: ConversionContext) -> datetime | None:
        if text is None or not text.strip():
            return None
        value = text.strip()
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ConversionError(f"timestamp {text!r} is not an ISO 8601 date and time", element=where) from None
        try:
            return context.localize(moment)
        except (OverflowError, ValueError, OSError):
            raise ConversionError(f"timestamp {text!r} is out of range", element=where) from None

    # -- suites and cases --

    def _suite(self, parent: Any, suite: ET.Element, where: str, context: ConversionContext, depth: int) -> None:
        fields: dict[str, Any] = {}
        start = self._timestamp(suite.get("timestamp"), where, context)
        if start is not None:
            fields["start"] = start.isoformat()
        time = _seconds(suite.get("time"), where)
        if time is not None:
            fields["totTime"] = time
        output = self._output(suite)
        if output:
            fields["reportText"] = output
        sequence = parent.sequence(suite.get("name") or "testsuite", **fields)
        self._contents(sequence, suite, where, context, depth)

    def _contents(self, container: Any, suite: ET.Element, where: str, context: ConversionContext, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise ConversionError(f"testsuites nested deeper than {_MAX_DEPTH} levels", element=where)
        args: JUnitArguments = self.arguments  # type: ignore[assignment]
        suite_name = suite.get("name") or ""
        groups: dict[str, Any] = {}
        cases = suites = 0
        for child in suite:
            tag = local_name(child.tag)
            if tag == "testcase":
                cases += 1
                case_where = f"{where}/testcase[{cases}]"
                target = container
                classname = (child.get("classname") or "").strip()
                if (args.group_by_classname and classname and classname != suite_name
                        and classname != child.get("name")):  # fmt: skip
                    if classname not in groups:
                        groups[classname] = container.sequence(classname)
                    target = groups[classname]
                self._case(target, child, case_where, context)
            elif tag == "testsuite":
                suites += 1
                self._suite(container, child, f"{where}/testsuite[{suites}]", context, depth + 1)

    def _output(self, element: ET.Element) -> str:
        args: JUnitArguments = self.arguments  # type: ignore[assignment]
        if not args.include_output:
            return ""
        parts = []
        for child in element:
            tag = local_name(child.tag)
            if tag in ("system-out", "system-err") and child.text and child.text.strip():
                parts.append(f"--- {tag} ---\n{child.text.strip()}")
        return "\n".join(parts)

    def _case(self, parent: Any, case: ET.Element, where: str, context: ConversionContext) -> None:
        name = (case.get("name") or "").strip()
        if not name:
            raise ConversionError("a testcase has no name", element=where)
        status = "P"
        message = ""
        texts: list[str] = []
        for child in case:
            tag = local_name(child.tag)
            if tag in ("failure", "error", "skipped"):
                kind = {"failure": "F", "error": "E", "skipped": "S"}[tag]
                if _worse(kind, status):
                    status = kind
                    message = _message(child)
                body = (child.text or "").strip()
                if body:
                    texts.append(body)
            elif tag == "properties":
                for item in child:
                    if local_name(item.tag) == "property" and item.get("name"):
                        texts.append(f"{item.get('name')} = {item.get('value', item.text or '')}")
            else:
                for note_tag, label in _NOTES:
                    if tag == note_tag:
                        texts.append(f"{label}: {_message(child)}".rstrip(": "))
        state = (case.get("status") or "").strip().lower()
        result = (case.get("result") or "").strip().lower()
        if status == "P" and (state in _SKIPPED_STATES or result in _SKIPPED_STATES):
            status = "S"
        output = self._output(case)
        if output:
            texts.append(output)
        fields: dict[str, Any] = {}
        time = _seconds(case.get("time"), where)
        if time is not None:
            fields["totTime"] = time
        start = self._timestamp(case.get("timestamp"), where, context)
        if start is not None:
            fields["start"] = start.isoformat()
        if message and status in ("F", "E"):
            fields["errorMessage"] = message
        elif message:
            texts.insert(0, message)
        if texts:
            fields["reportText"] = "\n".join(texts)
        if status == "S":
            parent.add_step({"stepType": "ET_PFT", "name": name, "status": "S", "booleanMeas": [{"status": "S"}],
                             **fields})  # fmt: skip
        else:
            parent.pass_fail(name, status == "P", status=status, **fields)


_SEVERITY = {"P": 0, "S": 1, "F": 2, "E": 3}


def _worse(kind: str, than: str) -> bool:
    return _SEVERITY[kind] > _SEVERITY[than]


def _message(element: ET.Element) -> str:
    message = (element.get("message") or "").strip()
    if not message:
        body = (element.text or "").strip()
        message = body.splitlines()[0].strip() if body else ""
    kind = (element.get("type") or "").strip()
    if kind and kind not in message:
        message = f"{kind}: {message}" if message else kind
    return " ".join(message.split())


CONVERTERS = (JUnitConverter,)

__all__ = ["JUnitArguments", "JUnitConverter"]
