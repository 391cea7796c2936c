"""ATML test results (IEEE 1636.1) as NI TestStand writes them: ATML 2.02, 5.00 and 6.01.

The three flavours differ in namespaces and in a few places of the tree:

- 2.02 (``http://www.ieee.org/ATML/2007/TestResults``): one ``TestResults`` per file; the ``ResultSet``
  holds one ``TestGroup`` for the MainSequence; a sequence call is named by ``userDefinedType``
  (``SequenceCallStepName = 'CPU Test'``); the TestStand step id is ``ts:StepId``; test results are
  named by ``ID``.
- 5.00 (``urn:IEEE-1636.1:2011:01:...``) and 6.01 (``urn:IEEE-1636.1:2013:...``): a
  ``TestResultsCollection`` holds one ``TestResults`` per UUT (several in a batch file, plus an
  ``Extension`` with the batch table); the ``ResultSet`` itself is the MainSequence; a sequence call is
  named by ``callerName``; the step id is ``testReferenceID``; test results are named by ``name``.

Elements are matched by local name, so the namespace prefixes a file uses do not matter. TestStand's
extension elements (``ts:TSStepProperties``: step type, group, block level, index, times, loop counts;
``ts:TSLimitProperties``: raw limits, threshold type, LOG comparisons; ``ts:TSResultSetProperties``:
batch serial number, test socket, critical failure stack) are read where WATS has a field for them.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode
from pywats.models.enums import DUAL_LIMIT_OPS, SINGLE_LIMIT_OPS, CompOp

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

VERSIONS = {
    "http://www.ieee.org/ATML/2007/TestResults": "2.02",
    "urn:IEEE-1636.1:2011:01:TestResults": "5.00",
    "urn:IEEE-1636.1:2011:01:TestResultsCollection": "5.00",
    "urn:IEEE-1636.1:2013:TestResults": "6.01",
    "urn:IEEE-1636.1:2013:TestResultsCollection": "6.01",
}
"""Root namespaces TestStand writes, by ATML version. Other IEEE 1636.1 namespaces are read like 6.01."""

STEP_TAGS = frozenset({"Test", "TestGroup", "SessionAction"})
MAX_DEPTH = 200
"""Deepest sequence nesting read; deeper input is refused instead of exhausting the stack."""

_SEQ_CALL_NAME = re.compile(r"SequenceCallStepName\s*=\s*'(.*)'", re.S)
_GROUPS = {"setup": "S", "main": "M", "cleanup": "C"}
_OUTCOMES = {
    "passed": "P", "done": "P", "informational": "P", "failed": "F", "skipped": "S", "notstarted": "S",
    "error": "E", "errored": "E", "aborted": "T", "terminated": "T",
}  # fmt: skip
_NUMERIC_TYPES = frozenset({
    "double", "float", "decimal", "integer", "int", "long", "short", "byte", "unsignedinteger",
    "unsignedint", "unsignedlong", "unsignedshort", "unsignedbyte", "hexadecimal", "octal", "binary", "number",
})  # fmt: skip
_SPECIAL_NUMBERS = {
    "nan": math.nan, "ind": math.nan, "-ind": math.nan, "+ind": math.nan, "inf": math.inf, "+inf": math.inf,
    "-inf": -math.inf, "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf,
}  # fmt: skip
_PREFIXES = (("0x", 16), ("0b", 2), ("0c", 8), ("0o", 8))
_DUAL = frozenset(op.value for op in DUAL_LIMIT_OPS)


# ---------------------------------------------------------------------------------------------------------
# Small helpers shared with the TestStand XML converter (teststand.py)
# ---------------------------------------------------------------------------------------------------------


def parse_number(text: str | None, where: str) -> float:
    """A TestStand number: decimal, NaN/IND/INF spellings, or 0x/0b/0c-prefixed integers.

    Raises:
        ConversionError: the text is no number (``where`` names the element).
    """
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pass
    raw = (text or "").strip()
    if not raw:
        raise ConversionError("an empty number", element=where)
    lowered = raw.lower()
    if lowered in _SPECIAL_NUMBERS:
        return _SPECIAL_NUMBERS[lowered]
    sign = -1.0 if lowered.startswith("-") else 1.0
    digits = lowered.lstrip("+-")
    for prefix, base in _PREFIXES:
        if digits.startswith(prefix):
            try:
                return sign * int(digits[2:], base)
            except ValueError:
                break
    try:
        return float(raw)
    except ValueError:
        raise ConversionError(f"{raw[:40]!r} is not a number", element=where) from None


def parse_int(text: str | None, where: str) -> int | None:
    """An integer from a TestStand number (``5``, ``5.0``); None for NaN or an out-of-range value."""
    number = parse_number(text, where)
    if math.isnan(number) or math.isinf(number) or abs(number) > 2**31:
        return None
    return int(number)


def status_of(value: str | None, qualifier: str | None = None) -> str | None:
    """A WATS step status from a TestStand/ATML outcome; None when the outcome says nothing known."""
    for word in (qualifier, value):
        if word:
            status = _OUTCOMES.get(word.strip().lower())
            if status:
                return status
    return None


def result_of(status: str | None) -> str | None:
    """A WATS report result from a step status: P, F, E or T (None leaves it to the steps)."""
    return status if status in ("P", "F", "E", "T") else None


def group_of(text: str | None) -> str | None:
    """The WATS step group (S/M/C) of a TestStand step group name."""
    return _GROUPS.get((text or "").strip().lower())


def numeric_limits(
    op_text: str | None, low: float | None, high: float | None
) -> tuple[str, float | None, float | None]:
    """A WATS operator and its limits from a TestStand comparison, degraded to LOG when a limit is missing.

    Single-limit operators keep their limit in ``low`` (TestStand itself keeps LT/LE limits in Limits.Low);
    a single-limit operator given only ``high`` uses it.
    """
    text = (op_text or "").strip().upper()
    if text == "EQT":  # TestStand's "equal within threshold": a closed range
        text = "GELE"
    try:
        op = CompOp(text) if text else None
    except ValueError:
        op = None
    if op in SINGLE_LIMIT_OPS:
        limit = low if low is not None else high
        return (op.value, limit, None) if limit is not None else ("LOG", None, None)  # type: ignore[union-attr]
    if op in DUAL_LIMIT_OPS:
        if low is None or high is None:
            return "LOG", None, None
        return op.value, low, high  # type: ignore[union-attr]
    if op is None and low is not None and high is not None:
        return "GELE", low, high
    return "LOG", None, None


def string_op(comparator: str | None, case_sensitive_eq: bool = True) -> str:
    """A WATS string operator from a TestStand/ATML string comparison."""
    text = (comparator or "").strip().upper().replace("_", "")
    if text in ("EQ", "EQUAL"):
        return "CASESENSIT" if case_sensitive_eq else "IGNORECASE"
    if text in ("CASESENSITIVE", "CASESENSIT"):
        return "CASESENSIT"
    if text in ("CIEQ", "IGNORECASE", "CASEINSENSITIVE"):
        return "IGNORECASE"
    if text in ("NE", "CINE", "NOTEQUAL"):
        return "NE"
    if text == "REGEX":
        return "REGEX"
    return "LOG"


def threshold_limits(kind: str, nominal: float, low: float, high: float) -> tuple[float, float]:
    """Absolute limits of a TestStand threshold comparison (nominal +/- a percentage, PPM or delta)."""
    kind = kind.strip().upper()
    if kind == "PERCENTAGE":
        return nominal - abs(nominal) * low / 100.0, nominal + abs(nominal) * high / 100.0
    if kind == "PPM":
        return nominal - abs(nominal) * low / 1e6, nominal + abs(nominal) * high / 1e6
    return nominal - low, nominal + high


def head_text(source: SourceFile, size: int = 4096) -> str:
    """The start of a file as text for sniffing: UTF-16 when it has a UTF-16 byte-order mark, else Latin-1."""
    head = source.head(size)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", errors="ignore")
    return head.decode("latin-1")


def parse_xml(data: bytes) -> ET.Element:
    """The root of an XML document.

    Raises:
        ConversionError: the bytes are not well-formed XML (with the line), or name an unknown encoding.
    """
    try:
        return ET.fromstring(data)
    except ET.ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        raise ConversionError(f"the file is not well-formed XML: {error}", line=line) from None
    except (LookupError, ValueError, UnicodeError) as error:
        raise ConversionError(f"the file cannot be read as XML: {error}") from None


def build_report(builder: Any, lengths: LengthMode, where: str) -> Report:
    """``builder.build()`` with model errors turned into ConversionError."""
    try:
        return builder.build(lengths=lengths)
    except ReportFormatError as error:
        raise ConversionError(f"the report breaks a WATS rule: {error}", element=where) from None
    except ValueError as error:
        raise ConversionError(f"the report cannot be built: {error}", element=where) from None


def sequence_stem(path: str | None) -> str:
    """The name of a sequence file without folder and extension (``C:\\T\\Radio.seq#Main`` gives ``Radio``)."""
    name = (path or "").partition("#")[0].replace("\\", "/").rpartition("/")[2].strip()
    return name[:-4] if name.lower().endswith(".seq") else name


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# ---------------------------------------------------------------------------------------------------------
# ATML
# ---------------------------------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag[tag.rfind("}") + 1:]


def _namespace(tag: str) -> str:
    return tag[1:tag.find("}")] if tag.startswith("{") else ""


def _strip_namespaces(root: ET.Element) -> None:
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag[:1] == "{":
            element.tag = tag[tag.find("}") + 1:]


def _index(element: ET.Element | None) -> dict[str, ET.Element]:
    """The children of ``element`` by tag (the first of each tag)."""
    found: dict[str, ET.Element] = {}
    if element is not None:
        for child in element:
            found.setdefault(child.tag, child)
    return found


def _child(element: ET.Element | None, *path: str) -> ET.Element | None:
    """The first element down ``path`` (local names), or None."""
    for name in path:
        if element is None:
            return None
        element = element.find(name)  # a plain tag: the C accelerator scans the children only
    return element


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _value(element: ET.Element | None) -> str | None:
    return element.get("value") if element is not None else None


@dataclass
class Measurement:
    """One measurement read from a file, before it becomes a WSJF numeric, string or boolean measurement."""

    kind: str  # "numeric", "string" or "boolean"
    name: str | None
    value: Any
    unit: str | None = None
    op: str = "LOG"
    low: float | None = None
    high: float | None = None
    limit: str | None = None
    status: str | None = None


class _Datum:
    """A ``c:Datum``: its kind (numeric, string, boolean or other), value and unit."""

    __slots__ = ("kind", "value", "unit")

    def __init__(self, element: ET.Element, where: str) -> None:
        type_name = (element.get(XSI_TYPE) or "").rpartition(":")[2].lower()
        if type_name.startswith("ts_"):
            type_name = type_name[3:]
        self.unit = element.get("nonStandardUnit") or element.get("unit") or None
        raw = element.get("value")
        if type_name == "string" or (not type_name and raw is None):
            self.kind = "string"
            value_element = _child(element, "Value")
            self.value = (value_element.text or "") if value_element is not None else (raw or "")
        elif type_name == "boolean":
            self.kind = "boolean"
            self.value = (raw or "").strip().lower() in ("true", "1")
        elif type_name in _NUMERIC_TYPES or not type_name:
            self.kind = "numeric"
            self.value = parse_number(raw, where)
        else:
            self.kind = "other"
            self.value = raw


class _Report:
    """One ``TestResults`` element turned into one UUT report."""

    def __init__(self, converter: AtmlConverter, results: ET.Element, version: str, where: str,
                 context: ConversionContext) -> None:  # fmt: skip
        self.arguments = converter.arguments
        self.results = results
        self.version = version
        self.where = where
        self.context = context
        self.failure_ids: set[str] = set()

    # -- header ------------------------------------------------------------------------------------------

    def _time(self, text: str | None, where: str) -> datetime | None:
        if not text or not text.strip():
            return None
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ConversionError(f"{text.strip()[:40]!r} is not a date and time", element=where) from None
        return self.context.localize(moment)

    def build(self) -> Report:
        results, where, arguments = self.results, self.where, self.arguments
        uut = _child(results, "UUT")
        serial = _text(_child(uut, "SerialNumber")) or arguments.serial_number
        if not serial:
            raise ConversionError("the UUT has no serial number", element=f"{where}/UUT/SerialNumber")
        part_number = ""
        for number in _child(uut, "Definition", "Identification", "IdentificationNumbers") or ():
            if number.tag == "IdentificationNumber" and (number.get("type") or "").lower() == "part":
                part_number = (number.get("number") or "").strip()
                break
        model = _text(_child(uut, "Definition", "Identification", "ModelName"))
        result_set = _child(results, "ResultSet")
        if result_set is None:
            raise ConversionError("the test results have no ResultSet", element=f"{where}/ResultSet")
        part_number = part_number or arguments.part_number or sequence_stem(result_set.get("name"))
        if not part_number:
            raise ConversionError("the UUT has no part number and no part_number argument is given",
                                  element=f"{where}/UUT/Definition/Identification/IdentificationNumbers")  # fmt: skip
        start = self._time(result_set.get("startDateTime"), f"{where}/ResultSet@startDateTime")
        if start is None:
            raise ConversionError("the ResultSet has no start time", element=f"{where}/ResultSet@startDateTime")
        end = self._time(result_set.get("endDateTime"), f"{where}/ResultSet@endDateTime")
        operator = _child(results, "Personnel", "SystemOperator")
        user = (operator.get("name") or operator.get("ID")) if operator is not None else None
        station = _text(_child(results, "TestStation", "SerialNumber"))
        properties = _child(results, "Extension", "TSResultSetProperties")
        batch_sn = (_value(_child(properties, "BatchSerialNumber")) or "").strip() or None
        socket = _value(_child(properties, "TestSocketIndex"))
        socket_index = parse_int(socket, f"{where}/Extension/TSResultSetProperties/TestSocketIndex") if socket else None
        for entry in _child(properties, "CriticalFailureStack") or ():
            if entry.get("resultID"):
                self.failure_ids.add(entry.get("resultID"))  # type: ignore[arg-type]

        root_element, root_name = self._root(result_set)
        step_properties = _child(root_element, "Extension", "TSStepProperties")
        if step_properties is None:
            step_properties = _child(result_set, "Extension", "TSStepProperties")
        total = _value(_child(step_properties, "TotalTime"))
        exec_time = parse_number(total, f"{where}/ResultSet/Extension/TSStepProperties/TotalTime") if total else None
        if exec_time is None and end is not None:
            exec_time = max((end - start).total_seconds(), 0.0)
        if exec_time is not None and not math.isfinite(exec_time):
            exec_time = None
        outcome = _child(result_set, "Outcome")
        result = result_of(status_of(outcome.get("value"), outcome.get("qualifier"))) if outcome is not None else None

        builder = ReportBuilder.uut(
            pn=part_number, sn=serial, rev=arguments.revision, process_code=arguments.process_code,
            start=start, result=result, root_name=root_name or "MainSequence Callback", user=user or None,
            batch_sn=batch_sn, exec_time=exec_time, test_socket_index=socket_index,
            machine_name=station if station and arguments.station_from_file else None,
        )  # fmt: skip
        if model and model.upper() != "UNKNOWN":
            builder.misc_info("UUT model", text=model)
        sequence = result_set.get("name")
        if sequence:
            builder.misc_info("Sequence", text=sequence.replace("\\", "/").rpartition("/")[2])
        self._additional_data(builder, uut)
        self._steps(builder, root_element, f"{where}/ResultSet", 1)
        report = build_report(builder, arguments.lengths, where)
        root_outcome = _child(root_element, "Outcome") if root_element is not result_set else outcome
        root_status = None
        if root_outcome is not None:
            root_status = status_of(root_outcome.get("value"), root_outcome.get("qualifier"))
        if root_status:
            report.root.status = root_status  # the file's verdict of the MainSequence, not one computed
        return report

    def _root(self, result_set: ET.Element) -> tuple[ET.Element, str | None]:
        """The element whose steps are the root's, and the root step's name.

        ATML 2.02 wraps the MainSequence in one TestGroup under the ResultSet; 5.00/6.01 do not.
        """
        steps = [child for child in result_set if child.tag in STEP_TAGS]
        if len(steps) == 1 and steps[0].tag == "TestGroup":
            return steps[0], self._step_name(steps[0])
        return result_set, result_set.get("callerName")

    def _additional_data(self, builder: Any, uut: ET.Element | None) -> None:
        """UUT.AdditionalData items (TestStand 2016+), one misc info each."""
        collection = _child(uut, "Definition", "Extension", "TSCollection")
        for item in collection or ():
            if item.tag == "Item" and item.get("name") == "AdditionalData":
                for entry in _child(item, "Collection") or ():
                    datum = _child(entry, "Datum")
                    name = entry.get("name")
                    if entry.tag != "Item" or datum is None or not name or name.endswith(".Attributes"):
                        continue
                    value_element = _child(datum, "Value")
                    text = value_element.text if value_element is not None else datum.get("value")
                    if text is not None and text.strip():
                        builder.misc_info(name, text=text.strip())

    # -- steps -------------------------------------------------------------------------------------------

    def _step_name(self, element: ET.Element) -> str:
        caller = element.get("callerName")
        if caller:
            return caller
        defined = element.get("userDefinedType") or ""
        match = _SEQ_CALL_NAME.search(defined)
        if match:
            return match.group(1)
        name = element.get("name") or ""
        if element.tag == "TestGroup" and "#" in name:
            return name.rpartition("#")[2]
        return name

    def _steps(self, parent: Any, element: ET.Element, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ConversionError(f"sequences are nested more than {MAX_DEPTH} deep", element=where)
        index = 0
        for child in element:
            if child.tag in STEP_TAGS:
                index += 1
                self._step(parent, child, f"{where}/{child.tag}[{index}]", depth)

    def _common(self, element: ET.Element, props: dict[str, ET.Element], where: str) -> dict[str, Any]:
        """The WSJF fields every kind of step takes: group, start, time, TestStand id, error, loop..."""
        fields: dict[str, Any] = {}
        group = group_of(_text(props.get("StepGroup")))
        if group:
            fields["group"] = group
        start = self._time(element.get("startDateTime"), f"{where}@startDateTime")
        if start is not None:
            fields["start"] = iso(start)
        total = _value(props.get("TotalTime"))
        seconds = parse_number(total, f"{where}/Extension/TSStepProperties/TotalTime") if total else None
        if seconds is None and start is not None:
            end = self._time(element.get("endDateTime"), f"{where}@endDateTime")
            if end is not None:
                seconds = max((end - start).total_seconds(), 0.0)
        if seconds is not None and math.isfinite(seconds):
            fields["totTime"] = seconds
        guid = element.get("testReferenceID") or _text(props.get("StepId"))
        if guid:
            fields["tsGuid"] = guid[:30]
        if (_value(props.get("StepCausedSequenceFailure")) or "").lower() == "true":
            fields["causedSeqFailure"] = True
        caused_uut = (_value(props.get("StepCausedUUTFailure")) or "").lower() == "true"
        if caused_uut or (element.get("ID") and element.get("ID") in self.failure_ids):
            fields["causedUUTFailure"] = True
        interactive = _value(props.get("InteractiveExecutionId"))
        if interactive:
            number = parse_int(interactive, f"{where}/Extension/TSStepProperties/InteractiveExecutionId")
            if number is not None:
                fields["interactiveExeNum"] = number
        loop = self._loop(props.get("LoopingProperties"), where)
        if loop:
            fields["loop"] = loop
        code, message = self._error(element, where)
        if code is not None:
            fields["errorCode"] = code
        if message:
            fields["errorMessage"] = message
        text = self._report_text(element)
        if text:
            fields["reportText"] = text
        return fields

    def _loop(self, looping: ET.Element | None, where: str) -> dict[str, int]:
        loop: dict[str, int] = {}
        for tag, key in (("LoopIndex", "idx"), ("NumLoops", "num"), ("EndingLoopIndex", "endingIndex"),
                         ("NumPassed", "passed"), ("NumFailed", "failed")):  # fmt: skip
            raw = _value(_child(looping, tag))
            if raw:
                number = parse_int(raw, f"{where}/Extension/TSStepProperties/LoopingProperties/{tag}")
                if number is not None:
                    loop[key] = number
        return loop

    def _error(self, element: ET.Element, where: str) -> tuple[int | None, str | None]:
        code: int | None = None
        message: str | None = None
        for event in _child(element, "Events") or ():
            name = (event.get("ID") or event.get("name") or "").lower()
            datum = _child(event, "Data", "Datum")
            if datum is None:
                continue
            if "code" in name and datum.get("value"):
                code = parse_int(datum.get("value"), f"{where}/Events/Event")
            elif "message" in name:
                value_element = _child(datum, "Value")
                message = (value_element.text if value_element is not None else datum.get("value")) or None
        return code, (message.strip()[:200] if message and message.strip() else None)

    def _report_text(self, element: ET.Element) -> str | None:
        for item in _child(element, "Data", "Collection") or ():
            if item.get("name") == "ReportText":
                text = _text(_child(item, "Datum", "Value"))
                if text:
                    return text
        for result in element:
            if result.tag == "TestResult" and (result.get("name") or result.get("ID")) == "ReportText":
                text = _text(_child(result, "TestData", "Datum", "Value"))
                if text:
                    return text
        return None

    def _data_item(self, element: ET.Element, name: str) -> str | None:
        for item in _child(element, "Data", "Collection") or ():
            if item.get("name") == name:
                datum = _child(item, "Datum")
                if datum is not None:
                    value_element = _child(datum, "Value")
                    return value_element.text if value_element is not None else datum.get("value")
        return None

    def _step(self, parent: Any, element: ET.Element, where: str, depth: int) -> None:
        props = _index(_child(element, "Extension", "TSStepProperties"))
        step_type = _text(props.get("StepType"))
        name = self._step_name(element)
        fields = self._common(element, props, where)
        outcome = _child(element, "ActionOutcome" if element.tag == "SessionAction" else "Outcome")
        if outcome is None:
            outcome = _child(element, "Outcome" if element.tag == "SessionAction" else "ActionOutcome")
        status = status_of(outcome.get("value"), outcome.get("qualifier")) if outcome is not None else None
        if status:
            fields["status"] = status
        if element.tag == "TestGroup" or step_type in ("SequenceCall", "WATS_SeqCall"):
            self._sequence(parent, element, name, step_type, fields, where, depth)
            return
        if step_type:
            fields["stepType"] = step_type
        if element.tag == "Test":
            self._test(parent, element, name, step_type, status, fields, where)
        else:
            self._action(parent, element, name, step_type, fields, where)
        # A step cannot hold steps in WATS: a nested group (a post-action sequence call) follows it.
        if any(child.tag in STEP_TAGS for child in element):
            self._steps(parent, element, where, depth + 1)

    def _sequence(self, parent: Any, element: ET.Element, name: str, step_type: str, fields: dict[str, Any],
                  where: str, depth: int) -> None:  # fmt: skip
        full = element.get("name") or name
        path, _, sequence_name = full.rpartition("#") if "#" in full else ("", "", full)
        seq_call = {"path": path or sequence_name or name, "name": sequence_name or name}
        if step_type and step_type != "SequenceCall":
            fields["stepType"] = step_type
        child = parent.sequence(name or sequence_name, seqCall=seq_call, **fields)
        self._steps(child, element, where, depth + 1)

    def _action(self, parent: Any, element: ET.Element, name: str, step_type: str, fields: dict[str, Any],
                where: str) -> None:  # fmt: skip
        if step_type == "MessagePopup":
            response = self._data_item(element, "Response")
            button = self._data_item(element, "ButtonHit")
            button_number = parse_int(button, f"{where}/Data") if button else None
            if response is not None or button_number is not None:
                fields.pop("stepType", None)
                parent.message_popup(name, response=(response or None) and response[:200], button=button_number,
                                     **fields)  # fmt: skip
                return
        if step_type == "CallExecutable":
            exit_code = self._data_item(element, "ExitCode")
            if exit_code:
                fields.pop("stepType", None)
                parent.call_executable(name, parse_number(exit_code, f"{where}/Data"), **fields)
                return
        parent.action(name, step_type=fields.pop("stepType", None) or "Action", **fields)

    # -- measurements --------------------------------------------------------------------------------------

    def _test(self, parent: Any, element: ET.Element, name: str, step_type: str, status: str | None,
              fields: dict[str, Any], where: str) -> None:  # fmt: skip
        measurements: list[Measurement] = []
        index = 0
        for result in element:
            if result.tag != "TestResult":
                continue
            index += 1
            measurement = self._measurement(result, f"{where}/TestResult[{index}]")
            if measurement is not None:
                measurements.append(measurement)
        kinds = {measurement.kind for measurement in measurements}
        if len(kinds) > 1:  # WATS steps hold one kind: keep the kind the step type names, else the first
            wanted = "string" if "String" in step_type else "boolean" if "PassFail" in step_type else "numeric"
            keep = wanted if wanted in kinds else measurements[0].kind
            self.context.log.debug("%s: measurements of kinds %s; keeping %s", where, sorted(kinds), keep)
            measurements = [measurement for measurement in measurements if measurement.kind == keep]
        single_status = status if status in ("P", "F", "S") else None
        if len(measurements) == 1 and measurements[0].status is None:
            measurements[0].status = single_status
        if not measurements:
            if "PassFail" in step_type and status in ("P", "F"):
                parent.pass_fail(name, status == "P", **fields)
            else:
                parent.action(name, step_type=fields.pop("stepType", None) or "Action", **fields)
            return
        add_measurements(parent, name, measurements, fields)

    def _measurement(self, result: ET.Element, where: str) -> Measurement | None:
        """One measurement of a test result, or None for data that is no measurement (report text, outputs)."""
        name = result.get("name") or result.get("ID") or None
        if self.version != "2.02" and name and name.startswith("tr-") and result.get("name") is None:
            name = None  # 5.00/6.01 ids are generated, not names
        if name == "ReportText":
            return None
        limit_properties = _child(result, "Extension", "TSLimitProperties")
        limits = _child(result, "TestLimits", "Limits")
        if limit_properties is None:
            limit_properties = _child(limits, "Extension", "TSLimitProperties")
        is_log = (_value(_child(limit_properties, "IsComparisonTypeLog")) or "").lower() == "true"
        is_measurement = _child(limit_properties, "IsTestMeasurement") is not None
        if limits is None and not is_log and not is_measurement and name not in ("Numeric", "String", "PassFail"):
            return None  # an output parameter or additional result, not a tested value
        datum_element = _child(result, "TestData", "Datum")
        if datum_element is None:
            return None  # no value logged (array data, or the step did not run)
        datum = _Datum(datum_element, f"{where}/TestData/Datum")
        if datum.kind == "other":
            return None
        outcome = _child(result, "Outcome")
        status = status_of(outcome.get("value"), outcome.get("qualifier")) if outcome is not None else None
        measurement = Measurement(datum.kind, name, datum.value, datum.unit,
                                   status=status if status in ("P", "F", "S") else None)  # fmt: skip
        if datum.kind == "numeric" and limits is not None and not is_log:
            self._numeric_limits(measurement, limits, limit_properties, f"{where}/TestLimits/Limits")
        elif datum.kind == "string":
            measurement.value = str(datum.value)
            expected = _child(limits, "Expected")
            if expected is not None and not is_log:
                measurement.op = string_op(expected.get("comparator"), case_sensitive_eq=self.version != "2.02")
                limit_datum = _child(expected, "Datum")
                if limit_datum is not None:
                    value_element = _child(limit_datum, "Value")
                    text = value_element.text if value_element is not None else limit_datum.get("value")
                    measurement.limit = text or ""
                if measurement.limit is None and measurement.op != "LOG":
                    measurement.op = "LOG"
        return measurement

    def _numeric_limits(self, measurement: Measurement, limits: ET.Element, properties: ET.Element | None,
                        where: str) -> None:  # fmt: skip
        def number(datum: ET.Element | None, at: str) -> float | None:
            if datum is None or datum.get("value") is None:
                return None
            return parse_number(datum.get("value"), at)

        op: str | None = None
        low = high = None
        for entry in limits:
            if entry.tag in ("SingleLimit", "Expected"):
                op = (entry.get("comparator") or "EQ").upper()
                low = number(_child(entry, "Datum"), f"{where}/{entry.tag}/Datum")
                if entry.tag == "Expected" and (_child(entry, "Datum", "ErrorLimits") is not None
                                                or _child(properties, "ThresholdType") is not None):  # fmt: skip
                    op = "EQT"
                break
            if entry.tag == "LimitPair":
                bounds = [child for child in entry if child.tag == "Limit"]
                nominal = _child(entry, "Nominal")
                if nominal is not None:
                    op, low = "EQT", number(_child(nominal, "Datum"), f"{where}/LimitPair/Nominal/Datum")
                    bounds = bounds[:2]
                if len(bounds) >= 2 and op != "EQT":
                    first = (bounds[0].get("comparator") or "").upper()
                    second = (bounds[1].get("comparator") or "").upper()
                    low = number(_child(bounds[0], "Datum"), f"{where}/LimitPair/Limit[1]/Datum")
                    high = number(_child(bounds[1], "Datum"), f"{where}/LimitPair/Limit[2]/Datum")
                    op = first + second
                    if op not in _DUAL and second + first in _DUAL:
                        op, low, high = second + first, high, low
                elif len(bounds) >= 2:
                    high = number(_child(bounds[1], "Datum"), f"{where}/LimitPair/Limit[2]/Datum")
                    low = number(_child(bounds[0], "Datum"), f"{where}/LimitPair/Limit[1]/Datum")
                break
        if op == "EQT":
            raw = _child(properties, "RawLimits")
            kind = _text(_child(properties, "ThresholdType"))
            nominal_raw = _value(_child(raw, "Nominal"))
            low_raw, high_raw = _value(_child(raw, "Low")), _value(_child(raw, "High"))
            if kind and nominal_raw and low_raw and high_raw:
                low, high = threshold_limits(kind, parse_number(nominal_raw, f"{where}/RawLimits/Nominal"),
                                             parse_number(low_raw, f"{where}/RawLimits/Low"),
                                             parse_number(high_raw, f"{where}/RawLimits/High"))  # fmt: skip
            else:
                pair = _child(limits, "Expected", "Datum", "ErrorLimits", "LimitPair")
                error_limits = [child for child in (pair if pair is not None else ()) if child.tag == "Limit"]
                if len(error_limits) >= 2:
                    low = number(_child(error_limits[0], "Datum"), f"{where}/Expected/ErrorLimits/Limit[1]")
                    high = number(_child(error_limits[1], "Datum"), f"{where}/Expected/ErrorLimits/Limit[2]")
                elif high is None:
                    op = "EQ"  # a nominal without a usable threshold: compare with the nominal
        measurement.op, measurement.low, measurement.high = numeric_limits(op, low, high)


def add_measurements(parent: Any, name: str, measurements: list[Any], fields: dict[str, Any]) -> None:
    """Add a test step holding ``measurements`` (all of one kind) to ``parent``.

    The builder's multi-measurement entry points are used even for one measurement, because they take the
    step's own status from ``fields`` separately from the measurement's (an errored step keeps its E).
    One measurement stays unnamed (a single test: ET_NLT / ET_SVT / ET_PFT); several are named.
    """
    kind = measurements[0].kind
    single = len(measurements) == 1
    default_type = {"numeric": ("ET_NLT", "ET_MNLT"), "string": ("ET_SVT", "ET_MSVT")}.get(kind, ("ET_PFT", "ET_MPFT"))
    fields.setdefault("stepType", default_type[0] if single else default_type[1])
    multi = {"numeric": parent.multi_numeric, "string": parent.multi_string}.get(kind, parent.multi_pass_fail)
    step = multi(name, **fields)
    for number, m in enumerate(measurements):
        label = None if single else (m.name or f"Measurement {number}")
        if kind == "numeric":
            step.measure(label, m.value, low=m.low, high=m.high, comp_op=m.op, unit=m.unit, status=m.status)
        elif kind == "string":
            step.measure(label, m.value, limit=m.limit, comp_op=m.op, status=m.status)
        else:
            step.measure(label, m.status == "P" if m.status in ("P", "F") else bool(m.value))


# ---------------------------------------------------------------------------------------------------------
# The converter
# ---------------------------------------------------------------------------------------------------------


class AtmlArguments(ConverterArguments):
    process_code: int = Field(10, description="WATS process (operation type) code of the reports")
    part_number: str = Field(
        "", description="part number for UUTs whose file has none (no IdentificationNumber of type 'Part'); "
        "empty: the sequence file's name without .seq"
    )
    revision: str = Field("", description="revision of every report (TestStand's ATML files carry none)")
    serial_number: str = Field(
        "", description="serial number for UUTs whose file has none; empty: such a UUT is refused"
    )
    station_from_file: bool = Field(
        True, description="use the file's TestStation serial number (TestStand station ID) as machine name"
    )
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to WATS limits; 'strict' refuses the file"
    )


def _sniff_atml(text: str) -> float:
    """How surely ``text`` (the start of a file) is an ATML test results document."""
    start = text.find("<", text.find("?>") + 1 if text.lstrip().startswith("<?") else 0)
    while start != -1 and text.startswith(("<?", "<!"), start):  # stylesheet PIs, comments, doctype
        end = text.find(">", start)
        start = text.find("<", end) if end != -1 else -1
    if start == -1:
        return 0.0
    tag_end = min((i for i in (text.find(" ", start), text.find(">", start), text.find("\n", start)) if i != -1),
                  default=-1)  # fmt: skip
    tag = text[start + 1:tag_end] if tag_end != -1 else text[start + 1:]
    if tag.rpartition(":")[2] not in ("TestResults", "TestResultsCollection"):
        return 0.0
    if "IEEE-1636.1" not in text and "ieee.org/ATML/" not in text:
        return 0.0
    return 0.95 if "TestStand/ATMLTestResults" in text else 0.85


class AtmlConverter(FileConverter):
    name = "atml"
    version = "1.0"
    description = (
        "ATML test results (IEEE 1636.1) written by NI TestStand: ATML 2.02, 5.00 and 6.01, "
        "one report per UUT (batch files hold several)"
    )
    patterns = ("*.xml", "*.atml")
    Arguments = AtmlArguments

    def validate(self, source: SourceFile) -> float:
        return _sniff_atml(head_text(source))

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        root = parse_xml(source.data)
        namespace = _namespace(root.tag) if isinstance(root.tag, str) else ""
        local = _local(root.tag)
        if local not in ("TestResults", "TestResultsCollection") or (
            "1636.1" not in namespace and "ieee.org/ATML/" not in namespace
        ):
            raise ConversionError(f"the root element is <{local}>, not ATML TestResults", element=local)
        version = VERSIONS.get(namespace, "6.01")
        _strip_namespaces(root)
        if local == "TestResults":
            collected = [(root, "TestResults")]
        else:
            tests = [child for child in root if child.tag == "TestResults"]
            collected = [(test, f"TestResultsCollection/TestResults[{i}]") for i, test in enumerate(tests, 1)]
        if not collected:
            raise ConversionError("the file holds no TestResults", element=local)
        return [_Report(self, results, version, where, context).build() for results, where in collected]


CONVERTERS = (AtmlConverter,)

__all__ = ["AtmlConverter", "AtmlArguments"]
