"""WSXF writing: report models → XML text, walking the same vocabulary tables as the reader.

Each model is turned into ``{WSJF key: value}`` (:func:`_values`); every element writer takes the keys it
knows out of that dict and whatever is left (fields this format has no place for, and model extras) goes to
:func:`_finish`: text values as plain attributes under their own name, anything else into the
``pywats:fields`` JSON attribute. Nothing a model holds can therefore be left out by accident.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from ..models import CompOp, UURReport, UUTReport
from ._wsxf_read import (
    ADDITIONAL_DATA,
    ASSET,
    ATTACHMENT,
    BINARY_DATA,
    CALL_EXE,
    CHART,
    EXTENSION_NAMESPACE,
    FAILURE,
    FAILURE_LINKS,
    LOOP,
    MESSAGE_POPUP,
    MISC_INFO,
    NAMESPACE,
    NUMERIC_LIMIT,
    PASS_FAIL,
    PROCESS,
    PROPERTY,
    PROPERTY_ARRAY,
    PROPERTY_VALUE,
    REPAIR_SUB_UNIT,
    REPORT,
    REPORT_REF,
    SEQUENCE_CALL,
    SERIES,
    STEP,
    STRING_VALUE,
    SUB_UNIT,
    UUR,
    UUT,
    Table,
    swap_limits,
)  # fmt: skip

_FIELDS = "pywats:fields"
# Characters XML 1.0 cannot hold at all (not even as character references); the .NET client strips them too.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
_TEXT_SPECIAL = re.compile("[&<>\r]")
# Extras with these names can be plain attributes; others (and non-text values) go to pywats:fields.
_PLAIN_NAME = re.compile(r"(?!(?i:xml))[A-Za-z_][A-Za-z0-9_.-]*")


class _Node:
    """An element being written: attributes in order, then either text or child elements."""

    __slots__ = ("attrs", "children", "fields", "tag", "text")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.attrs: dict[str, str] = {}
        self.children: list[_Node] = []
        self.text: str | None = None
        self.fields: dict[str, Any] = {}  # becomes the pywats:fields JSON attribute


def dumps_all(reports: Iterable[UUTReport | UURReport]) -> str:
    """All reports in one ``<Reports>`` document."""
    nodes = [_report(report) for report in reports]
    lines = ['<?xml version="1.0" encoding="utf-8"?>']
    extension = any(_uses_fields(node) for node in nodes)
    declare = f' xmlns:pywats="{EXTENSION_NAMESPACE}"' if extension else ""
    if not nodes:
        lines.append(f'<Reports xmlns="{NAMESPACE}"{declare} />')
        return "\n".join(lines) + "\n"
    lines.append(f'<Reports xmlns="{NAMESPACE}"{declare}>')
    for node in nodes:
        _render(node, 1, lines)
    lines.append("</Reports>")
    return "\n".join(lines) + "\n"


# --- from models to nodes --------------------------------------------------------------------------------


def _values(model: BaseModel) -> dict[str, Any]:
    """The model's fields by WSJF name, plus its extras, leaving out only what reads back the same when absent.

    A field that is None where its default is None, or an empty list where the default is an empty list,
    is left out. Everything else is kept, including None where the default is something else (e.g. a step
    group), so the writer has to say it.
    """
    values: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None and field.default is None:
            continue
        if value == [] and field.default_factory is list:
            continue
        values[field.alias or name] = value
    values.update(model.__pydantic_extra__ or {})
    return values


def _element(tag: str, values: dict[str, Any], table: Table) -> _Node:
    """A node with the attributes of ``table`` taken out of ``values``; a None the XML cannot say goes to fields."""
    node = _Node(tag)
    for xml, key, (_, write) in table:
        if key in values:
            value = values.pop(key)
            if value is None:
                node.fields[key] = None
            else:
                node.attrs[xml] = write(value)
    return node


def _finish(node: _Node, values: dict[str, Any], table: Table, reserved: Iterable[str] = ()) -> _Node:
    """Write what is left: text under a free attribute name as that attribute, the rest as JSON."""
    taken = {xml for xml, _, _ in table} | set(reserved) | set(node.attrs)
    for key, value in values.items():
        if isinstance(value, str) and _PLAIN_NAME.fullmatch(key) and key not in taken:
            node.attrs[key] = value
        else:
            node.fields[key] = value
    return node


def _leaf(tag: str, model: BaseModel, table: Table, text_key: str | None = None) -> _Node:
    values = _values(model)
    node = _element(tag, values, table)
    if text_key is not None and text_key in values:
        text = values.pop(text_key)
        if text:
            node.text = text
        else:
            node.fields[text_key] = text  # "" and no text at all look the same in XML
    return _finish(node, values, table)


def _text_child(node: _Node, tag: str, values: dict[str, Any], key: str) -> None:
    if key in values:
        text = values.pop(key)
        if text is None:
            node.fields[key] = None
        else:
            child = _Node(tag)
            child.text = text
            node.children.append(child)


def _one(node: _Node, values: dict[str, Any], key: str, build: Callable[[Any], _Node]) -> None:
    if key in values:
        item = values.pop(key)
        if item is None:
            node.fields[key] = None
        else:
            node.children.append(build(item))


def _many(node: _Node, values: dict[str, Any], key: str, build: Callable[[Any], _Node]) -> None:
    if key in values:
        items = values.pop(key)
        if not items:  # None, or an empty list where the model's default is None
            node.fields[key] = items
        for item in items or []:  # a plain loop: deep step trees cost two frames a level, not four
            node.children.append(build(item))


def _report(report: UUTReport | UURReport) -> _Node:
    values = _values(report)
    node = _element("Report", values, REPORT)
    repair = isinstance(report, UURReport)
    _one(node, values, "uur" if repair else "uut", _uur if repair else _uut)
    _process(node, values)
    _many(node, values, "miscInfos", lambda info: _leaf("MiscInfo", info, MISC_INFO, "text"))
    failures: list[_Node] = []
    binaries: list[_Node] = []
    if repair:
        for unit in values.pop("subUnits", []):
            node.children.append(_repair_sub_unit(unit, failures, binaries))
    else:
        _many(node, values, "subUnits", lambda unit: _leaf("ReportUnitHierarchy", unit, SUB_UNIT))
    _many(node, values, "assets", lambda asset: _leaf("Asset", asset, ASSET))
    _many(node, values, "additionalData", lambda data: _additional("AdditionalData", data))
    if repair:
        binaries.extend(_binary(attachment, None) for attachment in values.pop("binaryData", []))
        for index, binary in enumerate(binaries, 1):
            binary.attrs = {"BinaryDataIndex": str(index), **binary.attrs}
        node.children.extend(failures + binaries)
    else:
        _one(node, values, "root", _step)
    return _finish(node, values, REPORT)


def _process(parent: _Node, values: dict[str, Any]) -> None:
    """``<Process Code Name>`` carries the process keys of its parent (report or UUR header)."""
    process = _element("Process", values, PROCESS)
    if process.attrs or process.fields:
        parent.children.append(process)


def _uut(info: BaseModel) -> _Node:
    values = _values(info)
    node = _element("UUT", values, UUT)
    _text_child(node, "Comment", values, "comment")
    _many(node, values, "refUURs", lambda ref: _leaf("RefUUR", ref, REPORT_REF))
    return _finish(node, values, UUT)


def _uur(info: BaseModel) -> _Node:
    values = _values(info)
    node = _element("UUR", values, UUR)
    _text_child(node, "Comment", values, "comment")
    _process(node, values)
    _many(node, values, "children", _child_id)
    return _finish(node, values, UUR)


def _child_id(report_id: Any) -> _Node:
    node = _Node("Child")
    node.attrs["ID"] = str(report_id)
    return node


def _repair_sub_unit(unit: Any, failures: list[_Node], binaries: list[_Node]) -> _Node:
    """A repaired part; its failures become report-level ``<Failures PartIdx Idx>``, numbered from 1."""
    values = _values(unit)
    node = _element("ReportUnitHierarchy", values, REPAIR_SUB_UNIT)
    if "failures" in values:
        items = values.pop("failures")
        if not items:
            node.fields["failures"] = items
        for failure in items or []:
            failures.append(_failure(failure, len(failures) + 1, unit.idx, binaries))
    return _finish(node, values, REPAIR_SUB_UNIT)


def _failure(failure: BaseModel, index: int, part: int, binaries: list[_Node]) -> _Node:
    values = _values(failure)
    node = _element("Failures", values, FAILURE)
    node.attrs.update(Idx=str(index), PartIdx=str(part))
    _text_child(node, "Comment", values, "comment")
    if "attachments" in values:
        items = values.pop("attachments")
        if not items:
            node.fields["attachments"] = items
        binaries.extend(_binary(attachment, index) for attachment in items or [])
    return _finish(node, values, FAILURE, FAILURE_LINKS)


def _binary(attachment: BaseModel, fail_index: int | None) -> _Node:
    """``<Binary FailIdx><Data FileName ContentType BinaryDataGUID>base64</Data></Binary>``."""
    node = _Node("Binary")
    if fail_index is not None:
        node.attrs["FailIdx"] = str(fail_index)
    node.children.append(_leaf("Data", attachment, BINARY_DATA, "data"))
    return node


def _additional(tag: str, data: BaseModel) -> _Node:
    values = _values(data)
    node = _element(tag, values, ADDITIONAL_DATA)
    _many(node, values, "props", _property)
    return _finish(node, values, ADDITIONAL_DATA)


def _property(prop: BaseModel) -> _Node:
    values = _values(prop)
    node = _element("Property", values, PROPERTY)
    if "value" in values:
        node.attrs.update(_property_value(values.pop("value")))
    _one(node, values, "array", _array)
    _many(node, values, "props", _property)
    return _finish(node, values, PROPERTY, PROPERTY_VALUE)


def _array(array: BaseModel) -> _Node:
    values = _values(array)
    node = _element("Array", values, PROPERTY_ARRAY)
    _many(node, values, "indexes", _index)
    return _finish(node, values, PROPERTY_ARRAY)


def _index(value: Any) -> _Node:
    node = _Node("Index")
    if value is not None:
        node.attrs.update(_property_value(value))
    return node


def _property_value(value: Any) -> dict[str, str]:
    """Text stays text; any other value (number, boolean, list...) is JSON, marked ``ValueType="json"``."""
    if isinstance(value, str):
        return {"Value": value}
    return {"Value": _json(value), "ValueType": "json"}


def _step(step: BaseModel) -> _Node:
    values = _values(step)
    node = _element("Step", values, STEP)
    _one(node, values, "seqCall", lambda call: _leaf("SequenceCall", call, SEQUENCE_CALL))
    _many(node, values, "numericMeas", _numeric)
    _many(node, values, "stringMeas", lambda meas: _leaf("StringValue", meas, STRING_VALUE))
    _many(node, values, "booleanMeas", lambda meas: _leaf("PassFail", meas, PASS_FAIL))
    _one(node, values, "messagePopup", lambda popup: _leaf("MessagePopup", popup, MESSAGE_POPUP))
    _one(node, values, "callExe", lambda call: _leaf("Callexe", call, CALL_EXE))
    _one(node, values, "chart", _chart)
    _one(node, values, "attachment", lambda attachment: _leaf("Attachment", attachment, ATTACHMENT, "data"))
    _many(node, values, "additionalResults", lambda data: _additional("AdditionalResults", data))
    _one(node, values, "loop", lambda loop: _leaf("Loop", loop, LOOP))
    _text_child(node, "ReportText", values, "reportText")
    _many(node, values, "steps", _step)
    return _finish(node, values, STEP)


def _numeric(measurement: Any) -> _Node:
    values = _values(measurement)
    if measurement.comp_op in (CompOp.LT, CompOp.LE):
        swap_limits(values)  # WSXF keeps the single LT/LE limit in HighLimit
    node = _element("NumericLimit", values, NUMERIC_LIMIT)
    return _finish(node, values, NUMERIC_LIMIT)


def _chart(chart: BaseModel) -> _Node:
    values = _values(chart)
    node = _element("Chart", values, CHART)
    _many(node, values, "series", _series)
    return _finish(node, values, CHART)


def _series(series: BaseModel) -> _Node:
    values = _values(series)
    node = _element("Series", values, SERIES)
    _text_child(node, "ydata", values, "ydata")
    _text_child(node, "xdata", values, "xdata")
    return _finish(node, values, SERIES)


# --- from nodes to text ----------------------------------------------------------------------------------


def _json(value: Any) -> str:
    # NaN and infinities are written as JSON's common extension (NaN, Infinity), which json.loads reads back.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    return to_jsonable_python(value, by_alias=True)


def _uses_fields(node: _Node) -> bool:
    if node.fields:
        return True
    for child in node.children:
        if _uses_fields(child):
            return True
    return False


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _attr(text: str) -> str:
    # Tabs and line breaks are escaped: a parser would turn them into spaces in an attribute value.
    return _ATTR_SPECIAL.sub(lambda match: _ATTR_ESCAPES[match.group()], _clean(text))


def _text(text: str) -> str:
    # A bare CR would be read back as LF (XML line-end normalisation), so it is escaped.
    return _TEXT_SPECIAL.sub(lambda match: _TEXT_ESCAPES[match.group()], _clean(text))


def _render(node: _Node, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    if node.fields:
        node.attrs[_FIELDS] = _json(node.fields)
    attrs = "".join(f' {name}="{_attr(value)}"' for name, value in node.attrs.items())
    if node.text is not None:
        lines.append(f"{pad}<{node.tag}{attrs}>{_text(node.text)}</{node.tag}>")
    elif node.children:
        lines.append(f"{pad}<{node.tag}{attrs}>")
        for child in node.children:
            _render(child, depth + 1, lines)
        lines.append(f"{pad}</{node.tag}>")
    else:
        lines.append(f"{pad}<{node.tag}{attrs} />")
