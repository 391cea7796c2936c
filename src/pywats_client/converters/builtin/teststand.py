"""The NI TestStand XML report: ``<Reports><Report Type='UUT'><Prop Name=... Type=...>`` property trees.

TestStand's XML report generator writes each UUT's result container as nested ``Prop`` elements (the
``TEResult`` of the MainSequence callback, whose ``TS.SequenceCall.ResultList`` holds the step results,
recursively). ``Value`` children hold scalar values; array elements are ``Value ID='[i]'`` holding one
``Prop``. Batch reports (``Type='Batch'``) only list the UUT reports, which follow as their own
``Report`` elements, so they are skipped.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile
from .atml import (
    MAX_DEPTH,
    Measurement,
    add_measurements,
    build_report,
    group_of,
    head_text,
    iso,
    numeric_limits,
    parse_int,
    parse_number,
    parse_xml,
    result_of,
    sequence_stem,
    status_of,
    string_op,
    threshold_limits,
)

_SEQUENCE_TYPES = ("SequenceCall", "WATS_SeqCall")


def _props(element: ET.Element | None) -> dict[str, ET.Element]:
    """The named ``Prop`` children of ``element`` by name (the first of each name)."""
    found: dict[str, ET.Element] = {}
    if element is not None:
        for child in element:
            if child.tag == "Prop":
                name = child.get("Name")
                if name is not None and name not in found:
                    found[name] = child
    return found


def _value(prop: ET.Element | None) -> str | None:
    """The text of a scalar ``Prop``'s ``Value`` child (``""`` when empty), or None."""
    if prop is None:
        return None
    value = prop.find("Value")
    return (value.text or "") if value is not None else None


def _array(prop: ET.Element | None) -> list[ET.Element]:
    """The element ``Prop`` of each ``Value ID='[i]'`` of an array ``Prop``."""
    items: list[ET.Element] = []
    for value in prop if prop is not None else ():
        if value.tag == "Value":
            item = next((child for child in value if child.tag == "Prop"), None)
            if item is not None:
                items.append(item)
    return items


class _Report:
    """One ``<Report Type='UUT'>`` turned into one UUT report."""

    def __init__(self, converter: TestStandXmlConverter, report: ET.Element, where: str,
                 context: ConversionContext) -> None:  # fmt: skip
        self.arguments = converter.arguments
        self.report = report
        self.where = where
        self.context = context
        self.start: datetime | None = None
        self.base_time: float | None = None

    def _number(self, prop: ET.Element | None, where: str) -> float | None:
        text = _value(prop)
        if text is None or not text.strip():
            return None
        return parse_number(text, where)

    def _int(self, prop: ET.Element | None, where: str) -> int | None:
        text = _value(prop)
        if text is None or not text.strip():
            return None
        return parse_int(text, where)

    def _start(self, props: dict[str, ET.Element]) -> datetime:
        where = self.where
        date, time = _props(props.get("StartDate")), _props(props.get("StartTime"))
        parts = {}
        for source, key, name in ((date, "Year", "StartDate"), (date, "Month", "StartDate"),
                                  (date, "MonthDay", "StartDate"), (time, "Hours", "StartTime"),
                                  (time, "Minutes", "StartTime"), (time, "Seconds", "StartTime"),
                                  (time, "Milliseconds", "StartTime")):  # fmt: skip
            number = self._int(source.get(key), f"{where}/Prop[@Name='{name}']/Prop[@Name='{key}']")
            if number is None and key != "Milliseconds":
                raise ConversionError(f"the report has no {name}.{key}",
                                      element=f"{where}/Prop[@Name='{name}']/Prop[@Name='{key}']")  # fmt: skip
            parts[key] = number or 0
        try:
            moment = datetime(parts["Year"], parts["Month"], parts["MonthDay"], parts["Hours"], parts["Minutes"],
                              parts["Seconds"], min(max(parts["Milliseconds"], 0), 999) * 1000)  # fmt: skip
        except (ValueError, OverflowError) as error:
            raise ConversionError(f"the report's start date and time are not valid: {error}",
                                  element=f"{where}/Prop[@Name='StartDate']") from None  # fmt: skip
        return self.context.localize(moment)

    def build(self) -> Report:
        report, where, arguments = self.report, self.where, self.arguments
        props = _props(report)
        uut = _props(props.get("UUT"))
        serial = (_value(uut.get("SerialNumber")) or "").strip() or arguments.serial_number
        if not serial:
            raise ConversionError("the UUT has no serial number",
                                  element=f"{where}/Prop[@Name='UUT']/Prop[@Name='SerialNumber']")  # fmt: skip
        batch_sn = (_value(uut.get("BatchSerialNumber")) or "").strip() or None
        socket = self._int(uut.get("TestSocketIndex"), f"{where}/Prop[@Name='UUT']/Prop[@Name='TestSocketIndex']")
        station = _props(props.get("StationInfo"))
        station_id = (_value(station.get("StationID")) or "").strip()
        user = (_value(station.get("LoginName")) or "").strip() or None
        self.start = self._start(props)
        main = next((child for child in report if child.tag == "Prop" and child.get("Type") == "TEResult"), None)
        if main is None:
            raise ConversionError("the report has no result (Prop Type='TEResult')", element=where)
        main_props = _props(main)
        ts = _props(main_props.get("TS"))
        self.base_time = self._number(ts.get("StartTime"), f"{where}/TEResult/TS/StartTime")
        exec_time = self._number(ts.get("TotalTime"), f"{where}/TEResult/TS/TotalTime")
        if exec_time is not None and not math.isfinite(exec_time):
            exec_time = None
        result = result_of(status_of(report.get("UUTResult"))) or result_of(status_of(_value(main_props.get("Status"))))
        root_name = (_value(ts.get("StepName")) or "").strip() or "MainSequence Callback"
        error_code, error_message = self._error(main_props, f"{where}/TEResult")
        call = _props(ts.get("SequenceCall"))
        sequence = (_value(call.get("Sequence")) or "").strip()
        sequence_file = (_value(call.get("SequenceFile")) or "").strip()
        part_number = (_value(uut.get("PartNumber")) or "").strip() or arguments.part_number
        part_number = part_number or sequence_stem(sequence_file)
        if not part_number:
            raise ConversionError("the UUT has no part number and no part_number argument is given",
                                  element=f"{where}/Prop[@Name='UUT']/Prop[@Name='PartNumber']")  # fmt: skip
        builder = ReportBuilder.uut(
            pn=part_number, sn=serial, rev=arguments.revision, process_code=arguments.process_code,
            start=self.start, result=result, root_name=root_name, user=user, batch_sn=batch_sn,
            exec_time=exec_time, test_socket_index=socket if socket is not None and socket >= 0 else None,
            machine_name=station_id if station_id and arguments.station_from_file else None,
            error_code=error_code, error_message=error_message,
        )  # fmt: skip
        if sequence_file or sequence:
            name = sequence_file.replace("\\", "/").rpartition("/")[2]
            builder.misc_info("Sequence", text=f"{name}#{sequence}" if name and sequence else name or sequence)
        self._additional_data(builder, uut.get("AdditionalData"), "")
        self._additional_data(builder, station.get("AdditionalData"), "Station ")
        self._results(builder, call.get("ResultList"), f"{where}/TEResult/TS/SequenceCall/ResultList", 1)
        report = build_report(builder, arguments.lengths, where)
        root_status = status_of(_value(main_props.get("Status")))
        if root_status:
            report.root.status = root_status  # the file's verdict of the MainSequence, not one computed
        return report

    def _additional_data(self, builder: Any, prop: ET.Element | None, prefix: str) -> None:
        """The scalar leaves of an AdditionalData container, one misc info each."""
        pending = [(prop, "")] if prop is not None else []
        while pending:
            element, path = pending.pop(0)
            for name, child in _props(element).items():
                kind = child.get("Type")
                if kind == "Obj":
                    pending.append((child, f"{path}{name}."))
                elif kind in ("String", "Number", "Boolean"):
                    text = (_value(child) or "").strip()
                    if text:
                        builder.misc_info(f"{prefix}{path}{name}", text=text)

    def _error(self, props: dict[str, ET.Element], where: str) -> tuple[int | None, str | None]:
        error = _props(props.get("Error"))
        if (_value(error.get("Occurred")) or "").strip().lower() != "true":
            return None, None
        code = self._int(error.get("Code"), f"{where}/Error/Code")
        message = (_value(error.get("Msg")) or "").strip()
        return code, message[:200] or None

    def _results(self, parent: Any, result_list: ET.Element | None, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ConversionError(f"sequences are nested more than {MAX_DEPTH} deep", element=where)
        for index, result in enumerate(_array(result_list)):
            self._step(parent, result, f"{where}[{index}]", depth)

    def _common(self, props: dict[str, ET.Element], ts: dict[str, ET.Element], where: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        group = group_of(_value(ts.get("StepGroup")))
        if group:
            fields["group"] = group
        status = status_of(_value(props.get("Status")))
        if status:
            fields["status"] = status
        started = self._number(ts.get("StartTime"), f"{where}/TS/StartTime")
        if started is not None and self.base_time is not None and self.start is not None:
            offset = started - self.base_time
            if math.isfinite(offset) and abs(offset) < 10 * 365 * 86400:
                fields["start"] = iso(self.start + timedelta(seconds=offset))
        total = self._number(ts.get("TotalTime"), f"{where}/TS/TotalTime")
        if total is not None and math.isfinite(total):
            fields["totTime"] = total
        guid = (_value(ts.get("StepId")) or "").strip()
        if guid:
            fields["tsGuid"] = guid[:30]
        code, message = self._error(props, where)
        if code is not None:
            fields["errorCode"] = code
        if message:
            fields["errorMessage"] = message
        text = (_value(props.get("ReportText")) or "").strip()
        if text:
            fields["reportText"] = text
        interactive = self._int(ts.get("InteractiveExeNum"), f"{where}/TS/InteractiveExeNum")
        if interactive is not None:
            fields["interactiveExeNum"] = interactive
        loop = {}
        for name, key in (("LoopIndex", "idx"), ("NumLoops", "num"), ("EndingLoopIndex", "endingIndex"),
                          ("NumPassed", "passed"), ("NumFailed", "failed")):  # fmt: skip
            number = self._int(ts.get(name), f"{where}/TS/{name}")
            if number is not None:
                loop[key] = number
        if loop:
            fields["loop"] = loop
        return fields

    def _step(self, parent: Any, result: ET.Element, where: str, depth: int) -> None:
        props = _props(result)
        ts = _props(props.get("TS"))
        name = (_value(ts.get("StepName")) or "").strip()
        step_type = (_value(ts.get("StepType")) or "").strip()
        fields = self._common(props, ts, where)
        call_prop = ts.get("SequenceCall")
        if call_prop is not None or step_type in _SEQUENCE_TYPES:
            call = _props(call_prop)
            sequence = (_value(call.get("Sequence")) or "").strip()
            seq_call = {"path": (_value(call.get("SequenceFile")) or "").strip() or sequence or name,
                        "name": sequence or name}  # fmt: skip
            version = (_value(call.get("SequenceFileVersion")) or "").strip()
            if version:
                seq_call["version"] = version[:30]
            if step_type and step_type not in ("SequenceCall",):
                fields["stepType"] = step_type
            child = parent.sequence(name or sequence, seqCall=seq_call, **fields)
            self._results(child, call.get("ResultList"), f"{where}/TS/SequenceCall/ResultList", depth + 1)
            return
        if step_type:
            fields["stepType"] = step_type
        measurements = self._measurements(props, fields.get("status"), where)
        if measurements:
            add_measurements(parent, name, measurements, fields)
        elif "PassFail" in props:
            passed = (_value(props["PassFail"]) or "").strip().lower() == "true"
            fields.setdefault("stepType", "ET_PFT")
            parent.pass_fail(name, passed, **fields)
        elif "ButtonHit" in props or "Response" in props:
            fields.pop("stepType", None)
            response = _value(props.get("Response"))
            button = self._int(props.get("ButtonHit"), f"{where}/ButtonHit")
            parent.message_popup(name, response=(response or None) and response[:200], button=button, **fields)
        elif "ExitCode" in props and self._number(props["ExitCode"], f"{where}/ExitCode") is not None:
            fields.pop("stepType", None)
            parent.call_executable(name, self._number(props["ExitCode"], f"{where}/ExitCode"), **fields)
        else:
            parent.action(name, step_type=fields.pop("stepType", None) or "Action", **fields)

    def _measurements(self, props: dict[str, ET.Element], status: str | None, where: str) -> list[Measurement]:
        single_status = status if status in ("P", "F", "S") else None
        array = props.get("Measurement")
        if array is not None and array.get("Type") == "Array":
            measurements = []
            for index, item in enumerate(_array(array)):
                item_props = _props(item)
                value = self._number(item_props.get("Data"), f"{where}/Measurement[{index}]/Data")
                if value is None:
                    continue
                measurement = self._numeric(item_props, value, item.get("Name"), f"{where}/Measurement[{index}]")
                measurement.status = (status_of(_value(item_props.get("Status"))) or None)
                if measurement.status not in ("P", "F", "S"):
                    measurement.status = None
                measurements.append(measurement)
            return measurements
        if "Numeric" in props:
            value = self._number(props["Numeric"], f"{where}/Numeric")
            if value is None:
                return []
            measurement = self._numeric(props, value, None, where)
            measurement.status = single_status
            return [measurement]
        if "String" in props and props["String"].get("Type") == "String":
            limits = _props(props.get("Limits"))
            limit = _value(limits.get("String"))
            op = string_op(_value(props.get("Comp"))) if limit is not None else "LOG"
            return [Measurement("string", None, _value(props["String"]) or "", op=op,
                                 limit=limit if op != "LOG" else None, status=single_status)]  # fmt: skip
        return []

    def _numeric(self, props: dict[str, ET.Element], value: float, name: str | None, where: str) -> Measurement:
        limits = _props(props.get("Limits"))
        low = self._number(limits.get("Low"), f"{where}/Limits/Low")
        high = self._number(limits.get("High"), f"{where}/Limits/High")
        comp = (_value(props.get("Comp")) or "").strip()
        threshold = (_value(props.get("ThresholdType")) or "").strip()
        nominal = self._number(limits.get("Nominal"), f"{where}/Limits/Nominal")
        if comp.upper() == "EQT" and threshold and nominal is not None and low is not None and high is not None:
            low, high = threshold_limits(threshold, nominal, low, high)
        unit = (_value(props.get("Units")) or "").strip() or None
        op, low, high = numeric_limits(comp or ("LOG" if low is None and high is None else None), low, high)
        return Measurement("numeric", name, value, unit, op, low, high)


class TestStandXmlArguments(ConverterArguments):
    __test__ = False  # not a pytest test class, despite its name
    process_code: int = Field(10, description="WATS process (operation type) code of the reports")
    part_number: str = Field(
        "", description="part number for UUTs whose UUT.PartNumber is empty; empty: the sequence file's name "
        "without .seq"
    )
    revision: str = Field("", description="revision of every report (the XML report carries none)")
    serial_number: str = Field(
        "", description="serial number for UUTs whose UUT.SerialNumber is empty; empty: such a UUT is refused"
    )
    station_from_file: bool = Field(
        True, description="use the report's StationInfo.StationID as machine name"
    )
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to WATS limits; 'strict' refuses the file"
    )


class TestStandXmlConverter(FileConverter):
    __test__ = False  # not a pytest test class, despite its name
    name = "teststand-xml"
    version = "1.0"
    description = "NI TestStand XML report (<Reports><Report Type='UUT'> Prop trees), one report per UUT"
    patterns = ("*.xml",)
    Arguments = TestStandXmlArguments

    def validate(self, source: SourceFile) -> float:
        text = head_text(source, 8192)
        if "wats.virinco.com" in text or "<Reports" not in text or "<Report " not in text:
            return 0.0
        if "<Prop " in text and ("Type='UUT'" in text or 'Type="UUT"' in text or "TypeName=" in text):
            return 0.95
        if "<Prop " in text or "Type='Batch'" in text or "<BatchTable" in text:
            return 0.8
        return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        root = parse_xml(source.data)
        if root.tag != "Reports":
            tag = root.tag if isinstance(root.tag, str) else "?"
            raise ConversionError(f"the root element is <{tag}>, not a TestStand <Reports>", element=tag)
        reports: list[Report] = []
        for index, report in enumerate((child for child in root if child.tag == "Report"), 1):
            kind = report.get("Type") or "UUT"
            if kind != "UUT":
                context.log.debug("skipping a Report of type %s", kind)
                continue
            reports.append(_Report(self, report, f"Reports/Report[{index}]", context).build())
        if not reports:
            raise ConversionError("the file holds no UUT report (<Report Type='UUT'>)", element="Reports")
        return reports


CONVERTERS = (TestStandXmlConverter,)

__all__ = ["TestStandXmlArguments", "TestStandXmlConverter"]
