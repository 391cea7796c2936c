"""WSXF reading: the vocabulary shared with the writer, and XML elements → WSJF-shaped dicts.

The vocabulary is a table per element: ``(XML attribute, WSJF key, codec)``. The reader and the writer
(:mod:`._wsxf_write`) walk the same tables, so a field cannot be read under one name and written under
another. Numbers, booleans and enumerations are converted here, where the element is known, so a bad value
is reported with its element; dates, GUIDs and lengths are left to the report model, and
:meth:`Reader.locate` maps the model's field path back to the element the value came from.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import Enum
from typing import Any

from .._exceptions import ReportFormatError

NAMESPACE = "http://wats.virinco.com/schemas/WATS/Report/wsxf"
EXTENSION_NAMESPACE = "urn:pywats:wsxf:1"
NS = "{" + NAMESPACE + "}"
FIELDS_ATTR = "{" + EXTENSION_NAMESPACE + "}fields"

# --- codecs: (read text -> value, write value -> text) ---------------------------------------------------

Codec = tuple[Callable[[str], Any], Callable[[Any], str]]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _read_int(text: str) -> int:
    if not re.fullmatch(r"\s*[+-]?\d+\s*", text):
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def _read_float(text: str) -> float:
    # float() also takes "1_000"; XML numbers never contain underscores.
    try:
        if "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def write_float(value: float) -> str:
    """repr() is the shortest text that reads back to the same double; NaN and infinities as xs:double spells them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    text = repr(float(value))
    return text.removesuffix(".0")


_BOOLEANS = {"1": True, "true": True, "0": False, "false": False}


def _read_bool(text: str) -> bool:
    flag = _BOOLEANS.get(text.strip().lower())
    if flag is None:
        raise ValueError(f"{text!r} is not a boolean (1, 0, true or false)")
    return flag


def _enum(names: dict[str, str]) -> Codec:
    """WSXF spells enumerations out (``Passed``); WSJF uses one-letter codes (``P``)."""
    by_name = {name.lower(): code for name, code in names.items()}
    by_code = {code: name for name, code in names.items()}

    def read(text: str) -> str:
        code = by_name.get(text.strip().lower())
        if code is None:
            raise ValueError(f"{text!r} is not one of {', '.join(names)}")
        return code

    return read, lambda value: by_code[_plain(value)]


STR: Codec = (lambda text: text, lambda value: str(_plain(value)))
INT: Codec = (_read_int, str)
FLOAT: Codec = (_read_float, write_float)
BOOL: Codec = (_read_bool, lambda value: "1" if value else "0")
# Dates and GUIDs are checked by the model; the error is then located through the field path.
DATE: Codec = (lambda text: text, lambda value: value.isoformat() if isinstance(value, datetime) else str(value))
REPORT_TYPE = _enum({"UUT": "T", "UUR": "R"})
RESULT = _enum({"Passed": "P", "Failed": "F", "Error": "E", "Terminated": "T", "Done": "D"})
STEP_STATUS = _enum(
    {"Passed": "P", "Failed": "F", "Skipped": "S", "Error": "E", "Terminated": "T", "Done": "D", "Unknown": "U"}
)
MEAS_STATUS = _enum({"Passed": "P", "Failed": "F", "Skipped": "S"})
GROUP = _enum({"Main": "M", "Setup": "S", "Cleanup": "C"})

# --- vocabulary: (XML attribute, WSJF key, codec) per element --------------------------------------------

Table = tuple[tuple[str, str, Codec], ...]

REPORT: Table = (
    ("type", "type", REPORT_TYPE), ("ID", "id", STR), ("Start", "start", DATE),
    ("Start_utc", "startUTC", DATE), ("Result", "result", RESULT), ("SN", "sn", STR), ("PN", "pn", STR),
    ("Rev", "rev", STR), ("MachineName", "machineName", STR), ("Location", "location", STR),
    ("Purpose", "purpose", STR), ("origin", "origin", STR), ("ProductName", "productName", STR),
)  # fmt: skip
PROCESS: Table = (("Code", "processCode", INT), ("Name", "processName", STR), ("CodeFormat", "processCodeFormat", STR))
UUT: Table = (
    ("UserLoginName", "user", STR), ("BatchSN", "batchSN", STR), ("ExecutionTime", "execTime", FLOAT),
    ("FixtureId", "fixtureId", STR), ("ErrorCode", "errorCode", INT), ("ErrorMessage", "errorMessage", STR),
    ("TestSocketIndex", "testSocketIndex", INT), ("BatchFailCount", "batchFailCount", INT),
    ("BatchLoopIndex", "batchLoopIndex", INT), ("StepIdCausedUUTFailure", "stepIdCausedUUTFailure", INT),
)  # fmt: skip
REPORT_REF: Table = (("ID", "id", STR), ("Start", "start", DATE))
UUR: Table = (
    ("UserLoginName", "user", STR), ("ExecutionTime", "execTime", FLOAT), ("ReferencedUUT", "refUUT", STR),
    ("ConfirmDate", "confirmDate", DATE), ("FinalizeDate", "finalizeDate", DATE), ("Parent", "parent", STR),
)  # fmt: skip
MISC_INFO: Table = (
    ("Description", "description", STR), ("Numeric", "numeric", INT), ("NumericFormat", "numericFormat", STR),
    ("Typedef", "typedef", STR), ("Id", "id", STR),
)  # fmt: skip
SUB_UNIT: Table = (("PartType", "partType", STR), ("PN", "pn", STR), ("SN", "sn", STR), ("Rev", "rev", STR))
REPAIR_SUB_UNIT: Table = SUB_UNIT + (
    ("Idx", "idx", INT), ("ParentIDX", "parentIdx", INT), ("ReplacedIDX", "replacedIdx", INT),
    ("Position", "position", INT),
)  # fmt: skip
FAILURE: Table = (
    ("Category", "category", STR), ("Code", "code", STR), ("CompRef", "comRef", STR),
    ("FunctionBlock", "funcBlock", STR), ("StepID", "refStepId", INT), ("StepName", "refStepName", STR),
    ("ArticleNumber", "artNumber", STR), ("ArticleRevision", "artRev", STR),
    ("ArticleVendor", "artVendor", STR), ("ArticleDescription", "artDescription", STR),
)  # fmt: skip
FAILURE_LINKS = ("Idx", "PartIdx")  # structure, renumbered on write
BINARY_LINKS = ("BinaryDataIndex", "FailIdx")
ASSET: Table = (
    ("AssetSN", "assetSN", STR),
    ("UsageCount", "usageCount", INT),
    ("UsageCountFormat", "usageCountFormat", STR),
)
STEP: Table = (
    ("Id", "id", INT), ("Group", "group", GROUP), ("Name", "name", STR), ("StepType", "stepType", STR),
    ("Status", "status", STEP_STATUS), ("Start", "start", DATE), ("total_time", "totTime", FLOAT),
    ("TSGuid", "tsGuid", STR), ("StepCausedUUTFailure", "causedUUTFailure", BOOL),
    ("StepCausedSequenceFailure", "causedSeqFailure", BOOL), ("StepErrorCode", "errorCode", INT),
    ("StepErrorMessage", "errorMessage", STR), ("InteractiveExeNum", "interactiveExeNum", INT),
)  # fmt: skip
LOOP: Table = (
    ("index", "idx", INT), ("num", "num", INT), ("ending_index", "endingIndex", INT), ("passed", "passed", INT),
    ("failed", "failed", INT),
)  # fmt: skip
SEQUENCE_CALL: Table = (("Name", "name", STR), ("Version", "version", STR), ("Filepath", "path", STR))
NUMERIC_LIMIT: Table = (
    ("Name", "name", STR), ("NumericValue", "value", FLOAT), ("LowLimit", "lowLimit", FLOAT),
    ("HighLimit", "highLimit", FLOAT), ("Units", "unit", STR), ("CompOperator", "compOp", STR),
    ("Status", "status", MEAS_STATUS), ("NumericValueFormat", "valueFormat", STR),
    ("LowLimitFormat", "lowLimitFormat", STR), ("HighLimitFormat", "highLimitFormat", STR),
)  # fmt: skip
STRING_VALUE: Table = (
    ("Name", "name", STR), ("CompOperator", "compOp", STR), ("StringValue", "value", STR),
    ("StringLimit", "limit", STR), ("Status", "status", MEAS_STATUS),
)  # fmt: skip
PASS_FAIL: Table = (("Name", "name", STR), ("Status", "status", MEAS_STATUS))
MESSAGE_POPUP: Table = (("Response", "response", STR), ("Button", "button", INT))
CALL_EXE: Table = (("ExitCode", "exitCode", FLOAT),)
CHART: Table = (
    ("ChartType", "chartType", STR), ("Label", "label", STR), ("XLabel", "xLabel", STR), ("XUnit", "xUnit", STR),
    ("YLabel", "yLabel", STR), ("YUnit", "yUnit", STR),
)  # fmt: skip
SERIES: Table = (("Name", "name", STR), ("DataType", "dataType", STR))
ATTACHMENT: Table = (("Name", "name", STR), ("ContentType", "contentType", STR), ("Id", "id", STR))
BINARY_DATA: Table = (("FileName", "name", STR), ("ContentType", "contentType", STR), ("BinaryDataGUID", "id", STR))
ADDITIONAL_DATA: Table = (("Name", "name", STR),)
PROPERTY: Table = (
    ("Name", "name", STR), ("Type", "type", STR), ("Flags", "flags", INT), ("NumFormat", "numFormat", STR),
    ("Comment", "comment", STR),
)  # fmt: skip
PROPERTY_VALUE = ("Value", "ValueType")
PROPERTY_ARRAY: Table = (("Dimension", "dimension", STR), ("Type", "type", STR))

# WSXF keeps the single limit of LT and LE in HighLimit; WSJF keeps every single limit in lowLimit.
HIGH_LIMIT_OPS = frozenset({"LT", "LE"})
LIMIT_PAIRS = (("lowLimit", "highLimit"), ("lowLimitFormat", "highLimitFormat"))


def swap_limits(values: dict[str, Any]) -> None:
    """Exchange low and high limits (and their formats) of an LT/LE measurement, absent ones included."""
    for low, high in LIMIT_PAIRS:
        had_low, had_high = low in values, high in values
        low_value, high_value = values.pop(low, None), values.pop(high, None)
        if had_high:
            values[low] = high_value
        if had_low:
            values[high] = low_value


# --- reading ---------------------------------------------------------------------------------------------

_PATH_KEY = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _local(element: ET.Element, path: str) -> str:
    if not element.tag.startswith(NS):
        raise ReportFormatError(f"element {element.tag} is not in the WSXF namespace {NAMESPACE}", element=path)
    return element.tag[len(NS) :]


def _no_text(element: ET.Element, path: str) -> None:
    """Text between elements is only indentation; anything else would be dropped, so it is refused."""
    stray = [element.text] + [child.tail for child in element]
    if any(text and text.strip() for text in stray):
        raise ReportFormatError(f"unexpected text in <{element.tag[len(NS) :]}>", element=path)


def _childless(element: ET.Element, path: str) -> None:
    if len(element):
        raise ReportFormatError(f"<{element[0].tag.replace(NS, '')}> is not allowed here", element=path)


def children(element: ET.Element, path: str) -> Iterator[tuple[str, ET.Element, str]]:
    """(local name, child, element path) of each child; steps are named by their Id, others by position."""
    counts: dict[str, int] = {}
    for child in element:
        tag = _local(child, path)
        counts[tag] = counts.get(tag, 0) + 1
        step_id = child.get("Id") if tag == "Step" else None
        yield tag, child, f"{path}/{tag}[Id={step_id}]" if step_id is not None else f"{path}/{tag}[{counts[tag]}]"


ReadFn = Callable[["Reader", ET.Element, str], Any]
# A child element: the WSJF key it fills, whether it may repeat, and its reader. Two special keys:
# MERGE: the child's fields belong to the parent (<Process>); COLLECT: the reader keeps the child itself.
ChildSpec = dict[str, tuple[str | None, bool, ReadFn]]
MERGE = ""
COLLECT = None


class Reader:
    """Turns one ``<Report>`` into a WSJF-shaped dict and remembers which element each dict came from."""

    def __init__(self) -> None:
        # id(dict) -> (element path, {WSJF key: how the XML spells it}), to locate the model's errors
        self.where: dict[int, tuple[str, dict[str, str]]] = {}
        # <Failures> and <Binary> of a repair report, linked to sub units and failures once all are read
        self.failures: list[tuple[int, int | None, dict[str, Any], str]] = []
        self.binaries: list[tuple[int | None, dict[str, Any], str]] = []

    # -- generic ------------------------------------------------------------------------------------------

    def node(self, element: ET.Element, path: str, table: Table, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """A new dict holding the element's attributes, registered for error locating."""
        values: dict[str, Any] = {}
        self.where[id(values)] = (path, {key: f"attribute {xml}" for xml, key, _ in table})
        self.attrs_into(values, element, path, table, skip)
        return values

    @staticmethod
    def attrs_into(
        values: dict[str, Any], element: ET.Element, path: str, table: Table, skip: tuple[str, ...] = ()
    ) -> None:
        """Known attributes are converted; unknown ones are kept as text under their own name (model extras)."""
        known = {xml: (key, codec[0]) for xml, key, codec in table}
        for name, text in element.attrib.items():
            if name == FIELDS_ATTR or name in skip:
                continue
            if name not in known:
                add(values, name, text, path)
                continue
            key, read = known[name]
            try:
                add(values, key, read(text), path)
            except ValueError as error:
                raise ReportFormatError(f"attribute {name}: {error}", element=path) from None

    @staticmethod
    def merge_fields(values: dict[str, Any], element: ET.Element, path: str) -> None:
        """Merge the ``pywats:fields`` JSON object: what plain WSXF attributes and elements cannot say."""
        text = element.get(FIELDS_ATTR)
        if text is None:
            return
        try:
            fields = json.loads(text)
        except ValueError as error:
            raise ReportFormatError(f"attribute pywats:fields is not valid JSON: {error}", element=path) from None
        if not isinstance(fields, dict):
            raise ReportFormatError("attribute pywats:fields must hold a JSON object", element=path)
        for key, value in fields.items():
            add(values, key, value, path)

    def element(
        self, element: ET.Element, path: str, table: Table, spec: ChildSpec, skip: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """An element with attributes (``table``) and child elements (``spec``)."""
        _no_text(element, path)
        values = self.node(element, path, table, skip)
        self.children_into(values, element, path, spec)
        self.merge_fields(values, element, path)
        return values

    def children_into(
        self, values: dict[str, Any], element: ET.Element, path: str, spec: ChildSpec, owner: str = ""
    ) -> None:
        """Read the children ``spec`` allows into ``values``; any other child is refused, never skipped."""
        names = self.where[id(values)][1]
        for tag, child, child_path in children(element, path):
            if tag not in spec:
                owner = owner or element.tag[len(NS) :]
                raise ReportFormatError(f"<{tag}> is not allowed in <{owner}>", element=child_path)
            key, many, read = spec[tag]
            item = read(self, child, child_path)
            if key is COLLECT:
                continue
            if key == MERGE:
                for name, value in item.items():
                    add(values, name, value, child_path)
                # The merged dict is dropped: forget it, or a later object at its address would inherit it.
                merged_names = self.where.pop(id(item))[1]
                names.update({name: f"{label} of <{tag}>" for name, label in merged_names.items()})
                continue
            if many:
                values.setdefault(key, []).append(item)
            else:
                once(values, key, item, child_path)
            names.setdefault(key, f"element {tag}")

    def leaf(self, element: ET.Element, path: str, table: Table, text_key: str | None = None) -> dict[str, Any]:
        """An element with attributes only, or with its own text under ``text_key``."""
        _childless(element, path)
        values = self.node(element, path, table)
        if text_key is None:
            _no_text(element, path)
        elif element.text is not None:
            add(values, text_key, element.text, path)
        self.merge_fields(values, element, path)
        return values

    def text_child(self, element: ET.Element, path: str) -> str:
        """A child that holds only text (Comment, ReportText, xdata, ydata); present but empty means ""."""
        _childless(element, path)
        if element.attrib:
            raise ReportFormatError(f"attribute {next(iter(element.attrib))} is not allowed here", element=path)
        return element.text or ""

    # -- reports ------------------------------------------------------------------------------------------

    def report(self, element: ET.Element, path: str) -> dict[str, Any]:
        _no_text(element, path)
        values = self.node(element, path, REPORT)
        kind = values.get("type")
        if kind is None:
            raise ReportFormatError("missing attribute type (UUT or UUR)", element=path)
        names = self.where[id(values)][1]
        names.update({key: f"attribute {xml} of <Process>" for xml, key, _ in PROCESS})
        names.update(root="element Step", uut="element UUT", uur="element UUR")
        owner = f'Report type="{"UUT" if kind == "T" else "UUR"}"'
        self.children_into(values, element, path, _REPORT_CHILDREN[kind], owner)
        self.merge_fields(values, element, path)
        if kind == "R":
            values.setdefault("result", "P")  # WATS exports repair reports without a Result
            _link_repairs(values, self.failures, self.binaries)
        return values

    def child_id(self, element: ET.Element, path: str) -> str:
        """``<Child ID>``: one sub-repair of this repair (``uur.children``)."""
        _childless(element, path)
        if set(element.attrib) != {"ID"}:
            raise ReportFormatError("<Child> takes exactly one attribute, ID", element=path)
        return element.attrib["ID"]

    def failure(self, element: ET.Element, path: str) -> None:
        """Collected, then given to the sub unit named by ``PartIdx`` (0, the repaired unit, when absent)."""
        values = self.element(element, path, FAILURE, {"Comment": _text("comment")}, skip=FAILURE_LINKS)
        part = int_attr(element, "PartIdx", path)
        self.failures.append((0 if part is None else part, int_attr(element, "Idx", path), values, path))

    def binary(self, element: ET.Element, path: str) -> None:
        """``<Binary FailIdx><Data ...>base64</Data></Binary>``: the attachment's fields sit on ``<Data>``."""
        _no_text(element, path)
        int_attr(element, "BinaryDataIndex", path)  # checked, then renumbered on write
        data = list(children(element, path))
        if len(data) != 1 or data[0][0] != "Data":
            raise ReportFormatError("<Binary> must hold exactly one <Data> element", element=path)
        values = self.node(element, path, (), skip=BINARY_LINKS)
        _, child, child_path = data[0]
        _childless(child, child_path)
        self.attrs_into(values, child, child_path, BINARY_DATA)
        self.where[id(values)][1].update({key: f"attribute {xml} of <Data>" for xml, key, _ in BINARY_DATA})
        if child.text is not None:
            add(values, "data", child.text, child_path)
        self.merge_fields(values, child, child_path)
        self.merge_fields(values, element, path)
        self.binaries.append((int_attr(element, "FailIdx", path), values, path))

    def property(self, element: ET.Element, path: str) -> dict[str, Any]:
        """``<Property>``: a node of a TestStand property tree, its value in ``Value`` (see property_value)."""
        values = self.element(element, path, PROPERTY, _PROPERTY_CHILDREN, skip=PROPERTY_VALUE)
        value = property_value(element, path)
        if value is not _ABSENT:
            add(values, "value", value, path)
        return values

    def index(self, element: ET.Element, path: str) -> Any:
        _childless(element, path)
        if set(element.attrib) - set(PROPERTY_VALUE):
            raise ReportFormatError("<Index> takes only Value and ValueType", element=path)
        value = property_value(element, path)
        return None if value is _ABSENT else value

    def numeric(self, element: ET.Element, path: str) -> dict[str, Any]:
        values = self.leaf(element, path, NUMERIC_LIMIT)
        if str(values.get("compOp", "")).strip().upper() in HIGH_LIMIT_OPS:
            swap_limits(values)
            swap_limits(self.where[id(values)][1])
        return values

    # -- errors -------------------------------------------------------------------------------------------

    def locate(self, raw: dict[str, Any], field_path: str | None, message: str) -> tuple[str, str]:
        """The element a model error is about (deepest dict on the field path) and the message in XML terms."""
        element, names = self.where[id(raw)]
        node: Any = raw
        rest: list[Any] = []
        for name, index in _PATH_KEY.findall(field_path or ""):
            key: Any = int(index) if index else name
            node = _item(node, key)
            if node is not None and id(node) in self.where:
                (element, names), rest = self.where[id(node)], []
            else:
                rest.append(key)
        if rest and isinstance(rest[0], str) and rest[0] in names:
            label = names[rest[0]]
            message = f"missing {label}" if message == "Field required" else f"{label}: {message}"
        return element, message


def _item(node: Any, key: Any) -> Any:
    """``node[key]`` when it exists (a str key into a dict, an int key into a list), else None."""
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


_ABSENT = object()


def property_value(element: ET.Element, path: str) -> Any:
    """``Value`` is text as given; with ``ValueType="json"`` it is JSON (numbers, booleans, lists...)."""
    text, kind = element.get("Value"), element.get("ValueType")
    if kind not in (None, "json"):
        raise ReportFormatError(f"attribute ValueType: {kind!r} is not 'json'", element=path)
    if text is None:
        if kind is not None:
            raise ReportFormatError("attribute ValueType without Value", element=path)
        return _ABSENT
    if kind is None:
        return text
    try:
        return json.loads(text)
    except ValueError as error:
        raise ReportFormatError(f"attribute Value is not valid JSON: {error}", element=path) from None


def int_attr(element: ET.Element, name: str, path: str) -> int | None:
    text = element.get(name)
    if text is None:
        return None
    try:
        return _read_int(text)
    except ValueError as error:
        raise ReportFormatError(f"attribute {name}: {error}", element=path) from None


def add(values: dict[str, Any], key: str, value: Any, path: str) -> None:
    """Set a key that must not be set twice: two sources for one field would silently drop one of them."""
    if key in values:
        raise ReportFormatError(f"field {key!r} is given twice", element=path)
    values[key] = value


def once(values: dict[str, Any], key: str, value: Any, path: str) -> None:
    if key in values:
        raise ReportFormatError("this element may appear only once here", element=path)
    values[key] = value


def _link_repairs(
    report: dict[str, Any],
    failures: list[tuple[int, int | None, dict[str, Any], str]],
    binaries: list[tuple[int | None, dict[str, Any], str]],
) -> None:
    """Failures name their sub unit by ``PartIdx``; attachments name their failure by ``FailIdx``."""
    units = {unit.get("idx"): unit for unit in report.get("subUnits", [])}
    by_index: dict[int, dict[str, Any]] = {}
    for part, index, failure, path in failures:
        if part not in units:
            raise ReportFormatError(f"PartIdx {part} names no <ReportUnitHierarchy Idx>", element=path)
        units[part].setdefault("failures", []).append(failure)
        if index is not None:
            if index in by_index:
                raise ReportFormatError(f"Idx {index} is used by two <Failures>", element=path)
            by_index[index] = failure
    for fail_index, attachment, path in binaries:
        if fail_index is None:
            report.setdefault("binaryData", []).append(attachment)
        elif fail_index in by_index:
            by_index[fail_index].setdefault("attachments", []).append(attachment)
        else:
            raise ReportFormatError(f"FailIdx {fail_index} names no <Failures Idx>", element=path)


# --- which child elements each element may hold ----------------------------------------------------------


def _leaf(table: Table, text_key: str | None = None) -> ReadFn:
    return lambda reader, element, path: reader.leaf(element, path, table, text_key)


def _nested(table: Table, spec: ChildSpec) -> ReadFn:
    return lambda reader, element, path: reader.element(element, path, table, spec)


def _text(key: str) -> tuple[str, bool, ReadFn]:
    return key, False, Reader.text_child


_PROPERTY_CHILDREN: ChildSpec = {
    "Property": ("props", True, Reader.property),
    "Array": ("array", False, _nested(PROPERTY_ARRAY, {"Index": ("indexes", True, Reader.index)})),
}
_ADDITIONAL = _nested(ADDITIONAL_DATA, {"Property": ("props", True, Reader.property)})
_STEP_CHILDREN: ChildSpec = {
    "SequenceCall": ("seqCall", False, _leaf(SEQUENCE_CALL)),
    "NumericLimit": ("numericMeas", True, Reader.numeric),
    "StringValue": ("stringMeas", True, _leaf(STRING_VALUE)),
    "PassFail": ("booleanMeas", True, _leaf(PASS_FAIL)),
    "MessagePopup": ("messagePopup", False, _leaf(MESSAGE_POPUP)),
    "Callexe": ("callExe", False, _leaf(CALL_EXE)),
    "Chart": ("chart", False, _nested(CHART, {"Series": ("series", True, _nested(SERIES, {
        "ydata": _text("ydata"), "xdata": _text("xdata")}))})),
    "Attachment": ("attachment", False, _leaf(ATTACHMENT, "data")),
    "AdditionalResults": ("additionalResults", True, _ADDITIONAL),
    "Loop": ("loop", False, _leaf(LOOP)),
    "ReportText": _text("reportText"),
}  # fmt: skip
_STEP_CHILDREN["Step"] = ("steps", True, _nested(STEP, _STEP_CHILDREN))
_COMMON_CHILDREN: ChildSpec = {
    "Process": (MERGE, False, _leaf(PROCESS)),
    "MiscInfo": ("miscInfos", True, _leaf(MISC_INFO, "text")),
    "Asset": ("assets", True, _leaf(ASSET)),
    "AdditionalData": ("additionalData", True, _ADDITIONAL),
}
_REPORT_CHILDREN: dict[str, ChildSpec] = {
    "T": {
        **_COMMON_CHILDREN,
        "UUT": ("uut", False, _nested(UUT, {
            "Comment": _text("comment"), "RefUUR": ("refUURs", True, _leaf(REPORT_REF))})),
        "ReportUnitHierarchy": ("subUnits", True, _leaf(SUB_UNIT)),
        "Step": ("root", False, _STEP_CHILDREN["Step"][2]),
    },
    "R": {
        **_COMMON_CHILDREN,
        "UUR": ("uur", False, _nested(UUR, {
            "Comment": _text("comment"), "Process": (MERGE, False, _leaf(PROCESS)),
            "Child": ("children", True, Reader.child_id)})),
        "ReportUnitHierarchy": ("subUnits", True, _leaf(REPAIR_SUB_UNIT)),
        "Failures": (COLLECT, True, Reader.failure),
        "Binary": (COLLECT, True, Reader.binary),
    },
}  # fmt: skip
