"""XJTAG boundary-scan logs: ``.xjlog`` files written by XJRunner / XJAnalyser.

An ``.xjlog`` is a zip archive holding ``Info.xml`` (``<LogFileInfo>``: version, ``TestRunCount``,
``ProjectPath``) and one ``Run N.xml`` per test run, plus checksums and the connection test's full output
(a CSV file named in the run's HTML). A run XML is ``<testrun datetime=...>`` with ``<testgroup name>``
elements holding ``<testfunction name>`` elements (``<result value="Passed|Failed|Skipped"/>``, text
output, and from XJTAG 3.10 ``<plain-text>`` and ``<time-taken>`` in ms), then ``<summary>``,
``<testruninfo>`` (project description, user, serial, XJLink serial, result, time taken, XJTAG version)
and ``<snippets>`` (the HTML summary rows, with each function's result and time, also of functions that
were skipped and so have no ``testfunction`` element in older versions).

Each run becomes one report: test groups are sequences, test functions are pass/fail steps with their
text output as report text. A lone run XML (exported from XJAnalyser) is read as well.
"""

from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

_MAX_MEMBERS = 1000
_MAX_TEXT = 8000
_RUN_NAME = re.compile(r"(?:^|/)Run\s*(\d+)\.xml\Z", re.IGNORECASE)
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?\Z")
_SNIPPET_ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL | re.IGNORECASE)
_SNIPPET_NAME = re.compile(r'class="firstcolfunc"[^>]*>(.*?)</td>', re.DOTALL | re.IGNORECASE)
_SNIPPET_STATUS = re.compile(
    r'<td class="(passed|failed|skipped|error|notrun|not-run|aborted|terminated|stopped)"', re.IGNORECASE
)
_SNIPPET_TIME = re.compile(r"<td[^>]*>\s*([0-9]+(?:[.,][0-9]+)?)\s*</td>\s*\Z", re.IGNORECASE)
_SERIAL_SET = re.compile(r"Serial number set to (\S+)")
_CONNTEST_FILE = re.compile(r"ShowFullConnTestOutput\('([^']*)'\)")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
               OSError, ValueError, struct.error, KeyError)  # fmt: skip


class XjtagArguments(ConverterArguments):
    process_code: int = Field(60, description="WATS process (operation type) code of the reports (60: JTAG)")
    part_number: str = Field(
        "", description="part number of every report; empty: the run's project description, else the project name"
    )
    revision: str = Field("", description="revision of every report (XJTAG logs carry none)")
    include_output: bool = Field(True, description="keep each test function's text output as its step's report text")
    attach_conntest_output: bool = Field(
        False, description="attach the connection test's full output (CSV in the archive) after the CONNTEST step"
    )
    max_uncompressed_mb: int = Field(
        100, ge=1, le=4096, description="refuse archives whose members add up to more than this many MB unpacked"
    )
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to WATS limits; 'strict' refuses the file"
    )


@dataclass
class _Function:
    name: str
    status: str  # P F S E T
    seconds: float | None = None
    text: str = ""
    result: str = ""
    conntest_file: str = ""


def _status(value: str) -> str:
    word = value.strip().lower().replace(" ", "")
    if word.startswith("pass"):
        return "P"
    if word.startswith("fail"):
        return "F"
    if word.startswith(("skip", "notrun", "nottested", "untested")):
        return "S"
    if word.startswith(("abort", "stop", "terminat", "cancel")):
        return "T"
    return "E"


def _number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _datetime(text: str | None, where: str) -> datetime:
    match = _ISO.match((text or "").strip())
    if match is None:
        raise ConversionError(f"the test run's datetime {text!r} is not an ISO date and time", element=where)
    base, fraction, zone = match.groups()
    value = base + (f".{fraction[:6]}" if fraction else "")
    if zone:
        value += "+00:00" if zone == "Z" else zone
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise ConversionError(f"the test run's datetime {text!r} is not valid: {error}", element=where) from None


def _parse_xml(data: bytes, name: str) -> ET.Element:
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data:
        raise ConversionError(f"{name}: document type declarations are not allowed", element=name)
    try:
        return ET.fromstring(data)
    except ET.ParseError as error:
        line = error.position[0] if error.position else None
        raise ConversionError(f"{name} is not well-formed XML: {error}", line=line, element=name) from None


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _output(function: ET.Element) -> str:
    """A test function's output: the plain text when present, else its text outputs joined."""
    plain = function.find("plain-text")
    if plain is not None and (plain.text or "").strip():
        lines = [line.strip() for line in (plain.text or "").strip().splitlines()]
        return "\n".join(lines)
    parts = []
    for child in function:
        if child.tag == "text-output" and child.text:
            parts.append(child.text)
        elif child.tag == "html-output" and child.get("inline") == "True" and child.text:
            parts.append(re.sub(r"<[^>]+>", "", child.text))  # inline component names between the texts
    return "".join(parts).strip()


def _snippets(root: ET.Element) -> list[list[tuple[str, str, float | None]]]:
    """The summary rows of each snippet (one snippet per test group): (function, status, seconds)."""
    found = []
    for snippet in root.iterfind("snippets/snippet"):
        rows = []
        for html in snippet.iterfind("snippet-html"):
            for row in _SNIPPET_ROW.findall(html.text or ""):
                name = _SNIPPET_NAME.search(row)
                status = _SNIPPET_STATUS.search(row)
                if name is None or status is None:
                    continue
                seconds = _SNIPPET_TIME.search(row.rsplit("</td>", 1)[0] + "</td>") if "</td>" in row else None
                rows.append((re.sub(r"<[^>]+>", "", name.group(1)).strip(), _status(status.group(1)),
                             _number(seconds.group(1)) if seconds else None))  # fmt: skip
        if rows:
            found.append(rows)
    return found


def _functions(group: ET.Element) -> list[_Function]:
    functions = []
    for index, element in enumerate(group.iterfind("testfunction")):
        name = (element.get("name") or "").strip() or f"Function {index + 1}"
        result = element.find("result")
        value = result.get("value", "") if result is not None else ""
        conntest = ""
        for html in element.iterfind("html-output"):
            match = _CONNTEST_FILE.search(html.text or "")
            if match:
                conntest = match.group(1).replace("\\\\", "\\").rsplit("\\", 1)[-1].rsplit("/", 1)[-1]
        milliseconds = _number(_text(element.find("time-taken")))
        functions.append(_Function(
            name=name, status=_status(value) if value else "E", text=_output(element), result=value,
            seconds=milliseconds / 1000 if milliseconds is not None else None, conntest_file=conntest,
        ))  # fmt: skip
    return functions


def _merge(functions: list[_Function], snippets: list[list[tuple[str, str, float | None]]]) -> list[_Function]:
    """The group's functions in summary order, with times from the summary and the skipped ones it lists."""
    names = {function.name for function in functions}
    rows = next((rows for rows in snippets if names & {row[0] for row in rows}), None)
    if rows is None:
        return functions
    by_name: dict[str, list[_Function]] = {}
    for function in functions:
        by_name.setdefault(function.name, []).append(function)
    merged = []
    for name, status, seconds in rows:
        present = by_name.get(name)
        if present:
            function = present.pop(0)
            if function.seconds is None:
                function.seconds = seconds
            merged.append(function)
        elif status == "S":
            merged.append(_Function(name=name, status="S", seconds=seconds, result="Skipped"))
    merged.extend(function for rest in by_name.values() for function in rest)
    return merged


class XjtagConverter(FileConverter):
    name = "xjtag"
    version = "1.0"
    description = "XJTAG .xjlog archives (Info.xml + one XML per test run): one report per run"
    patterns = ("*.xjlog", "*.xml")
    Arguments = XjtagArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head(2048)
        if head.startswith(b"PK\x03\x04"):
            try:
                with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
                    names = [info.filename for info in archive.infolist()[:_MAX_MEMBERS]]
            except _ZIP_ERRORS:
                return 0.0
            has_info = any(name.rsplit("/", 1)[-1].lower() == "info.xml" for name in names)
            has_run = any(_RUN_NAME.search(name) for name in names)
            return 0.95 if has_info and has_run else 0.6 if has_run else 0.0
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(b"<") and b"<testrun" in text and b"datetime=" in text:
            return 0.85 if b"<testgroup" in text or b"<testfunction" in text else 0.7
        return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        if source.data.startswith(b"PK"):
            info, runs, extra = self._unpack(source.data)
        else:
            info, runs, extra = None, [(source.name, source.data)], {}
        project = ""
        if info is not None:
            project = _text(_parse_xml(info, "Info.xml").find("ProjectPath"))
        if not runs:
            raise ConversionError("the archive holds no test run (Run N.xml)")
        return [self._report(name, data, project, extra, context) for name, data in runs]

    def _unpack(self, data: bytes) -> tuple[bytes | None, list[tuple[str, bytes]], dict[str, bytes]]:
        limit = self.arguments.max_uncompressed_mb * 1024 * 1024
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [info for info in archive.infolist() if not info.is_dir()]
                if len(members) > _MAX_MEMBERS:
                    raise ConversionError(f"the archive has more than {_MAX_MEMBERS} members")
                total = sum(member.file_size for member in members)
                if total > limit:
                    raise ConversionError(f"the archive unpacks to {total} bytes, more than the "
                                          f"{self.arguments.max_uncompressed_mb} MB allowed")  # fmt: skip
                info = None
                runs: list[tuple[int, str, bytes]] = []
                extra: dict[str, bytes] = {}
                for member in members:
                    base = member.filename.rsplit("/", 1)[-1]
                    run = _RUN_NAME.search(member.filename)
                    if base.lower() == "info.xml":
                        info = archive.read(member)
                    elif run:
                        runs.append((int(run.group(1)), member.filename, archive.read(member)))
                    elif self.arguments.attach_conntest_output and "." not in base:
                        extra[base] = archive.read(member)
        except ConversionError:
            raise
        except _ZIP_ERRORS as error:
            raise ConversionError(f"the file is not a readable XJTAG archive (zip): {error}") from None
        runs.sort()
        return info, [(name, content) for _, name, content in runs], extra

    def _report(self, name: str, data: bytes, project: str, extra: dict[str, bytes],
                context: ConversionContext) -> Report:  # fmt: skip
        arguments = self.arguments
        root = _parse_xml(data, name)
        if root.tag != "testrun":
            raise ConversionError(f"{name}: the root element is <{root.tag}>, not <testrun>", element=root.tag)
        start = _datetime(root.get("datetime"), f"{name}/testrun/@datetime").astimezone(context.timezone)
        info = root.find("testruninfo")
        serial = _text(info.find("serial")) if info is not None else ""
        if not serial:
            for element in root.iter("text-output"):
                match = _SERIAL_SET.search(element.text or "")
                if match:
                    serial = match.group(1)
                    break
        if not serial:
            raise ConversionError(f"{name}: the test run has no serial number (testruninfo/serial)",
                                  element=f"{name}/testrun/testruninfo/serial")  # fmt: skip
        description = _text(info.find("project-description")) if info is not None else ""
        project_name = re.split(r"[\\/]", project)[-1].rsplit(".", 1)[0] if project else ""
        part_number = arguments.part_number or description or project_name
        if not part_number:
            raise ConversionError(f"{name}: the run names no project to use as part number; set part_number",
                                  element=f"{name}/testrun/testruninfo/project-description")  # fmt: skip
        result_text = _text(info.find("result")) if info is not None else ""
        total_ms = _number(_text(info.find("time-taken"))) if info is not None else None
        snippets = _snippets(root)
        groups: list[tuple[str | None, list[_Function]]] = []
        for index, element in enumerate(root):
            if element.tag == "testgroup":
                title = (element.get("name") or "").strip() or f"Group {index + 1}"
                groups.append((title, _merge(_functions(element), snippets)))
            elif element.tag == "testfunction":
                groups.append((None, _functions(_wrap(element))))
        exec_time = total_ms / 1000 if total_ms is not None else None
        if exec_time is None:
            times = [f.seconds for _, functions in groups for f in functions if f.seconds is not None]
            exec_time = round(sum(times), 3) if times else None
        builder = ReportBuilder.uut(
            pn=part_number, sn=serial, rev=arguments.revision, process_code=arguments.process_code, start=start,
            result={"P": "P", "F": "F", "T": "T", "E": "E"}.get(_status(result_text)) if result_text else None,
            user=(_text(info.find("user")) or None) if info is not None else None, exec_time=exec_time,
            root_name=description or project_name or "XJTAG test run",
        )  # fmt: skip
        if project:
            builder.misc_info("Project", text=project[-100:])
        for tag, label in (("xjlink-serial", "XJLink serial"), ("xjlink-name", "XJLink name"),
                           ("xjtag-version", "XJTAG version")):  # fmt: skip
            value = _text(info.find(tag)) if info is not None else ""
            if value:
                builder.misc_info(label, text=value)
        builder.misc_info("Run", text=name.rsplit("/", 1)[-1])
        for title, functions in groups:
            parent = builder.sequence(title) if title is not None else builder
            for function in functions:
                self._step(parent, function, extra)
        try:
            return builder.build(lengths=arguments.lengths)
        except ReportFormatError as error:
            raise ConversionError(f"{name}: the report breaks a WATS rule: {error}", element=name) from None
        except ValueError as error:
            raise ConversionError(f"{name}: the report cannot be built: {error}", element=name) from None

    def _step(self, parent: Any, function: _Function, extra: dict[str, bytes]) -> None:
        fields: dict[str, Any] = {}
        if function.seconds is not None:
            fields["tot_time"] = function.seconds
        if self.arguments.include_output and function.text:
            text = function.text
            fields["report_text"] = text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "\n[output cut]"
        if function.status == "E" and function.result:
            fields["error_message"] = f"XJTAG result {function.result!r}"[:200]
        if function.status in ("P", "F"):
            parent.pass_fail(function.name, function.status == "P", **fields)
        else:
            parent.action(function.name, step_type="ET_PFT", status=function.status, **fields)
        content = extra.get(function.conntest_file) if function.conntest_file else None
        if content is not None:
            parent.attach(f"{function.name} full output", content, content_type="text/csv")


def _wrap(function: ET.Element) -> ET.Element:
    """A test function outside any test group, wrapped so it reads like one."""
    group = ET.Element("testgroup")
    group.append(function)
    return group


CONVERTERS = (XjtagConverter,)
