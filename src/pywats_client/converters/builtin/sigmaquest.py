"""SigmaQuest (SigmaSure) UnitReport XML: one unit, a tree of graded test runs with their result values.

The document (namespace ``urn:unitreport-schema`` or none) looks like::

    <UnitReport start-time=".." end-time="..">
      <Station guid=".." name=".."/>  <Operator name=".."/>
      <Category name="Instruments"><Product part-no=".." serial-no=".." version=".."/></Category>
      <TestRun name="OP2" grade="FAIL" start-time=".." end-time="..">
        <TestRun name="PRE-TEST" grade="PASS" ...>
          <TestRun name="Gas Inlet Manifold" grade="PASS" ...>
            <Result><Property><ValueDouble name="Collision Pressure" lsl="0.0035" usl="0.004">0.0039</ValueDouble>
            </Property></Result>
            <Property><ValueAttachment name="DHR" fqn="//path/file.html"/></Property>

A test run holding test runs becomes a sequence; a test run holding only result values becomes one step
with a measurement per value (numeric, string or pass/fail; a sequence of single steps when kinds mix).
The grade of each test run is kept as its status; measurement statuses come from the value's own grade
when it has one, else from its limits.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile
from ._xml import parse, root_name

_MAX_DEPTH = 64

_GRADES = {
    "PASS": "P", "PASSED": "P", "FAIL": "F", "FAILED": "F", "ERROR": "E", "ABORT": "T", "ABORTED": "T",
    "TERMINATED": "T", "SKIP": "S", "SKIPPED": "S",
}  # fmt: skip
_RESULTS = {"P": "P", "F": "F", "E": "E", "T": "T"}
_STATUSES = frozenset(_GRADES.values())
_NUMERIC_TAGS = frozenset({"ValueDouble", "ValueInteger"})
_SCALAR_TAGS = frozenset({"ValueDouble", "ValueInteger", "ValueString", "ValueBoolean", "ValueTimestamp"})
_MISSING = frozenset({"", "null", "nan", "none", "n/a"})


def _time(text: str | None, context: ConversionContext, element: str, field: str) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        return context.localize(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ConversionError(f"{text!r} is not an ISO 8601 date and time", element=element, field=field) from None


def _number(text: str | None, element: str, field: str) -> float | None:
    if text is None or text.strip().lower() in _MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConversionError(f"{text.strip()!r} is not a number", element=element, field=field) from None
    return None if math.isnan(value) else value


class SigmaQuestArguments(ConverterArguments):
    process_code: int = Field(100, description="WATS process code of the reports (default 100, Final Function Test)")
    operation_codes: dict[str, int] = Field(
        default_factory=dict,
        description="process code by name of the top-level test run (e.g. {'OP1': 100, 'OP2': 110}); "
        "names not listed use process_code",
    )
    part_number: str = Field("", description="part number when the Product element has no part-no")
    revision: str = Field("", description="revision when the Product element has no version")
    zero_limit_is_none: bool = Field(
        True, description="read lsl/usl of 0 as 'no limit' (SigmaQuest writes 0 for an unset limit)"
    )
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to the WATS limits; 'strict' refuses the file"
    )


class _Value:
    """One result value, read from a Value* element."""

    __slots__ = ("kind", "name", "value", "low", "high", "unit", "status", "limit")

    def __init__(self, kind: str, name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 unit: str | None = None, status: str | None = None, limit: str | None = None) -> None:  # fmt: skip
        self.kind, self.name, self.value = kind, name, value
        self.low, self.high, self.unit, self.status, self.limit = low, high, unit, status, limit


class SigmaQuestConverter(FileConverter):
    name = "sigmaquest"
    version = "1.0"
    description = "SigmaQuest / SigmaSure UnitReport XML: graded test runs with result values and limits"
    patterns = ("*.xml",)
    Arguments = SigmaQuestArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head()
        if root_name(head) != "UnitReport":
            return 0.0
        score = 0.6
        if b"<TestRun" in head or b":TestRun" in head:
            score += 0.2
        if b"serial-no" in head or b"part-no" in head:
            score += 0.15
        return score

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        root = parse(source.data, strip_namespaces=True)  # compare local names from here on
        if root.tag != "UnitReport":
            raise ConversionError(f"not a SigmaQuest UnitReport: the root element is <{root.tag}>")
        return [self._report(root, context)]

    # -- header ----------------------------------------------------------------------------------------

    def _report(self, root: ET.Element, context: ConversionContext) -> Report:
        args = self.arguments
        children: dict[str, list[ET.Element]] = {}
        for child in root:
            children.setdefault(child.tag, []).append(child)
        products = _products(root)
        if not products:
            raise ConversionError("no Product element: the unit's serial number is missing",
                                  element="UnitReport/Category/Product")  # fmt: skip
        product, categories = products[0]
        sn = (product.get("serial-no") or "").strip()
        if not sn:
            raise ConversionError("the product has no serial number", element="UnitReport/Category/Product",
                                  field="serial-no")  # fmt: skip
        pn = (product.get("part-no") or "").strip() or args.part_number
        if not pn:
            raise ConversionError("the product has no part number (and no part_number argument is set)",
                                  element="UnitReport/Category/Product", field="part-no")  # fmt: skip
        rev = (product.get("version") or "").strip() or args.revision

        runs = children.get("TestRun", [])
        top = runs[0] if len(runs) == 1 else None
        unit_start = _time(root.get("start-time"), context, "UnitReport", "start-time")
        unit_end = _time(root.get("end-time"), context, "UnitReport", "end-time")
        run_start = run_end = None
        if top is not None:
            run_start = _time(top.get("start-time"), context, "UnitReport/TestRun", "start-time")
            run_end = _time(top.get("end-time"), context, "UnitReport/TestRun", "end-time")
        start = run_start or unit_start
        end = run_end or unit_end
        if start is None:
            raise ConversionError("the unit report has no start time", element="UnitReport", field="start-time")
        grade = _grade(top) if top is not None else None

        station = _first(children, "Station")
        station_name = (station.get("name") or "").strip() if station is not None else ""
        if station_name.startswith("<") and station_name.endswith(">"):
            station_name = ""  # "<No Station>": SigmaQuest's placeholder, the service's station stands in
        operator = _first(children, "Operator")
        process_code = args.operation_codes.get(top.get("name") or "", args.process_code) if top is not None \
            else args.process_code  # fmt: skip

        builder = ReportBuilder.uut(
            pn=pn, sn=sn, rev=rev, process_code=process_code, start=start,
            result=_RESULTS.get(grade) if grade else None,
            root_name=(top.get("name") or "UnitReport") if top is not None else "UnitReport",
            machine_name=station_name or None,
            user=(operator.get("name") or None) if operator is not None else None,
            exec_time=(end - start).total_seconds() if start and end and end >= start else None,
        )  # fmt: skip
        self._misc(builder, root, station, product, categories, children)
        for sub, sub_categories in products[1:]:
            sub_sn, sub_pn = (sub.get("serial-no") or "").strip(), (sub.get("part-no") or "").strip()
            if sub_sn and sub_pn:
                part_type = sub.get("name") or (sub_categories[-1] if sub_categories else "") or "Product"
                builder.sub_unit(part_type[:50], sub_sn, sub_pn, (sub.get("version") or "").strip() or None)

        if top is not None:
            self._fill(builder, top, 1, context)
        else:
            for run in runs:
                self._run(builder, run, 1, context)
        try:
            report = builder.build(lengths=args.lengths)
            if top is not None:
                if grade in _STATUSES:
                    report.root.status = grade
                notes = _notes(_Parts(top))
                if notes:
                    report.root.report_text = "\n".join(notes)[:100_000]
        except ValueError as error:
            raise ConversionError(f"the unit report breaks a WATS rule: {error}") from None
        return report

    def _misc(self, builder: Any, root: ET.Element, station: ET.Element | None, product: ET.Element,
              categories: list[str], children: dict[str, list[ET.Element]]) -> None:  # fmt: skip
        def add(description: str, text: str | None) -> None:
            if text and text.strip() and text.strip().lower() != "none":
                builder.misc_info(description, text.strip()[:100])

        if station is not None:
            add("Station GUID", station.get("guid"))
            add("Station version", station.get("version"))
        add("Category", "/".join(filter(None, categories)))
        add("Product name", product.get("name"))
        add("Factory order", product.get("factory-order"))
        add("Software version", root.get("software-version"))
        add("Report version", root.get("version"))
        add("Mode", root.get("mode"))
        for prop in children.get("Property", []) + [c for c in product if c.tag == "Property"]:
            for value in _scalar_values(prop):
                add(value.get("name") or value.tag, value.text)

    # -- steps -----------------------------------------------------------------------------------------

    def _fill(self, container: Any, run: ET.Element, depth: int, context: ConversionContext) -> None:
        """Add the contents of the top-level ``run`` (its results, then its test runs) to ``container``."""
        parts = _Parts(run)
        values = self._values(parts.results)
        if values:
            self._add_values(container, "Results", values, {})
        for child in parts.runs:
            self._run(container, child, depth + 1, context)

    def _run(self, container: Any, run: ET.Element, depth: int, context: ConversionContext) -> None:
        if depth > _MAX_DEPTH:
            raise ConversionError(f"test runs are nested more than {_MAX_DEPTH} deep", element="TestRun")
        parts = _Parts(run)
        name = (run.get("name") or "").strip() or "TestRun"
        grade = _grade(run)
        fields: dict[str, Any] = {"status": grade if grade in _STATUSES else ("S" if grade else None)}
        start = _time(run.get("start-time"), context, f"TestRun {name!r}", "start-time")
        if start is not None:
            fields["start"] = start
            end = _time(run.get("end-time"), context, f"TestRun {name!r}", "end-time")
            if end is not None and end >= start:
                fields["totTime"] = (end - start).total_seconds()
        notes = _notes(parts) if parts.props or parts.setups else []
        if grade and grade not in _STATUSES:
            notes.insert(0, f"grade: {grade}")
        if notes:
            fields["reportText"] = "\n".join(notes)[:100_000]
        if parts.errors:
            errors = [
                ((message.get("name") or "") + ": " + (message.text or "").strip()).strip(": ")
                for error in parts.errors for message in error if message.tag == "Message"
            ]  # fmt: skip
            if errors:
                fields["errorMessage"] = "; ".join(errors)[:200]

        if parts.runs:
            sequence = container.sequence(name, **fields)
            values = self._values(parts.results)
            if values:
                self._add_values(sequence, "Results", values, {})
            for child in parts.runs:
                self._run(sequence, child, depth + 1, context)
            return
        values = self._values(parts.results)
        if values:
            self._add_values(container, name, values, fields)
        elif fields["status"] in ("P", "F"):
            container.pass_fail(name, fields["status"] == "P", **fields)
        else:
            container.action(name, **fields)

    def _values(self, results: list[ET.Element]) -> list[_Value]:
        values: list[_Value] = []
        for result in results:
            for element in _result_values(result):
                self._read_value(element, element.tag, element.get("name") or "", values, 0)
        return values

    def _read_value(self, element: ET.Element, tag: str, name: str, out: list[_Value], depth: int) -> None:
        where = f"{tag} {name!r}"
        if depth > 8:
            raise ConversionError("value records are nested more than 8 deep", element=where)
        grade = _GRADES.get((element.get("grade") or "").strip().upper())
        status = grade if grade in ("P", "F", "S") else None
        if tag in _NUMERIC_TAGS:
            value = _number(element.text, where, "value")
            low = _number(element.get("lsl"), where, "lsl")
            high = _number(element.get("usl"), where, "usl")
            if self.arguments.zero_limit_is_none:
                low = None if low == 0 else low
                high = None if high == 0 else high
            if value is None and status is None:
                status = "S"
            out.append(_Value("numeric", name, value, low=low, high=high, unit=element.get("uom") or None,
                              status=status))  # fmt: skip
        elif tag == "ValueBoolean":
            text = (element.text or "").strip().lower()
            if text not in ("true", "false", "1", "0"):
                raise ConversionError(f"{element.text!r} is not a boolean", element=where, field="value")
            actual = text in ("true", "1")
            expected = element.get("lsl") or element.get("usl")
            if status is None and expected is not None:
                status = "P" if actual == (expected.strip().lower() in ("true", "1")) else "F"
            if status is None:
                out.append(_Value("string", name, "True" if actual else "False"))
            else:
                out.append(_Value("boolean", name, status == "P", status=status))
        elif tag in ("ValueString", "ValueTimestamp"):
            low, high = element.get("lsl"), element.get("usl")
            limit = low if low and (high is None or high == low) else None
            out.append(_Value("string", name, (element.text or "").strip(), limit=limit, status=status))
        elif tag == "ValueRecord":
            for child in element:
                child_tag = child.tag
                self._read_value(child, child_tag, f"{name}.{child.get('name') or child_tag}".strip("."), out,
                                 depth + 1)  # fmt: skip
        elif tag == "ValueArray":
            for index, child in enumerate(element):
                self._read_value(child, child.tag, f"{name}[{index}]", out, depth + 1)
        # ValueAttachment and unknown elements carry no measurement (attachments go to the report text)

    def _add_values(self, container: Any, name: str, values: list[_Value], fields: dict[str, Any]) -> None:
        kinds = {value.kind for value in values}
        for index, value in enumerate(values):
            if not value.name:
                value.name = name if len(values) == 1 else f"Value {index + 1}"
        if len(kinds) == 1:
            kind = kinds.pop()
            if kind == "numeric":
                step = container.multi_numeric(name, **fields)
                for v in values:
                    step.measure(v.name, v.value, low=v.low, high=v.high, unit=v.unit, status=v.status)
            elif kind == "string":
                step = container.multi_string(name, **fields)
                for v in values:
                    step.measure(v.name, v.value, limit=v.limit, comp_op="EQ" if v.limit is not None else "LOG",
                                 status=v.status)  # fmt: skip
            else:
                step = container.multi_pass_fail(name, **fields)
                for v in values:
                    step.measure(v.name, v.value)
            return
        sequence = container.sequence(name, **fields)
        for v in values:
            if v.kind == "numeric":
                sequence.numeric(v.name, v.value, low=v.low, high=v.high, unit=v.unit, status=v.status)
            elif v.kind == "string":
                sequence.string(v.name, v.value, limit=v.limit, comp_op="EQ" if v.limit is not None else "LOG",
                                status=v.status)  # fmt: skip
            else:
                sequence.pass_fail(v.name, v.value)



class _Parts:
    """The children of a TestRun, sorted by kind in one pass."""

    __slots__ = ("runs", "results", "props", "setups", "errors")

    def __init__(self, run: ET.Element) -> None:
        self.runs: list[ET.Element] = []
        self.results: list[ET.Element] = []
        self.props: list[ET.Element] = []
        self.setups: list[ET.Element] = []
        self.errors: list[ET.Element] = []
        lists = {"TestRun": self.runs, "Result": self.results, "Property": self.props, "SetUp": self.setups,
                 "Error": self.errors}  # fmt: skip
        for child in run:
            found = lists.get(child.tag)
            if found is not None:
                found.append(child)


def _notes(parts: _Parts) -> list[str]:
    """Report-text lines of a test run: its attachments (by reference), properties and set-up values."""
    notes: list[str] = []
    for prefix, elements in (("", [v for p in parts.props for v in _all_values(p)]),
                             ("setup ", [v for s in parts.setups for v in _result_values(s)])):  # fmt: skip
        for value in elements:
            label = value.get("name") or value.tag
            if value.tag == "ValueAttachment":
                notes.append(f"{label}: {value.get('fqn') or ''}".rstrip())
            elif value.tag in _SCALAR_TAGS:
                unit = value.get("uom")
                notes.append(f"{prefix}{label}: {(value.text or '').strip()}{' ' + unit if unit else ''}")
    return notes


def _grade(run: ET.Element) -> str | None:
    text = (run.get("grade") or "").strip().upper()
    if not text:
        return None
    return _GRADES.get(text, text)


def _first(children: dict[str, list[ET.Element]], tag: str) -> ET.Element | None:
    found = children.get(tag)
    return found[0] if found else None


def _products(root: ET.Element) -> list[tuple[ET.Element, list[str]]]:
    """Every Product under the report's Category tree (and directly under it), depth first, each with the
    names of the categories above it. The first is the unit under test; the others are its parts."""
    found: list[tuple[ET.Element, list[str]]] = []
    stack: list[tuple[ET.Element, list[str], int]] = [(child, [], 0) for child in reversed(list(root))]
    while stack:
        element, categories, depth = stack.pop()
        tag = element.tag
        if tag not in ("Category", "Product") or depth > _MAX_DEPTH:
            continue
        if tag == "Category":
            categories = categories + [element.get("name") or ""]
        else:
            found.append((element, categories))
        stack.extend((child, categories, depth + 1) for child in reversed(list(element)))
    return found


def _result_values(container: ET.Element) -> list[ET.Element]:
    """The Value* elements of a Result or SetUp: given directly or wrapped in a Property."""
    found: list[ET.Element] = []
    for child in container:
        if child.tag == "Property":
            found.extend(value for value in child if value.tag.startswith("Value"))
        elif child.tag.startswith("Value"):
            found.append(child)
    return found


def _all_values(prop: ET.Element) -> list[ET.Element]:
    return [value for value in prop if value.tag.startswith("Value")]


def _scalar_values(prop: ET.Element) -> list[ET.Element]:
    return [value for value in prop if value.tag in _SCALAR_TAGS]


CONVERTERS = (SigmaQuestConverter,)
