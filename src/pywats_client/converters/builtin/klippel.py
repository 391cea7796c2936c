"""Klippel QC (end-of-line loudspeaker test) results: a DUT header file and a folder of result tables.

For each device under test Klippel QC writes a folder named ``DUT <serial> <yyyy-mm-dd> <hh-mm-ss-t>
UTC<+hhmm>`` and, beside it, a text file of the same name: ``Key=Value`` lines (each preceded by a ``//``
comment) such as ``Cfg_SerialNumber``, ``Cfg_DutStartTime`` (SciLab ``getdate()`` fields, then the UTC
offset in minutes), ``Cfg_UserName``, ``Ctrl_OverallVerdict`` (-1 void, 0 fail, 1 pass, 2 warning,
3 noise, 4 invalid) and ``Results_Pass`` / ``Results_Fail`` / ... (tab-separated result names).

The folder holds tab-separated tables named ``<Task>-<result>.txt``: curves (``frq<TAB>imp<TAB>max<TAB>min``,
one row per frequency, ``-`` where a value is missing) and single values (``name<TAB>value<TAB>max<TAB>min``).

One report per DUT: one sequence per task; curves become chart steps (the measured curve plus its
``max`` / ``min`` limit lines as series), single values numeric steps with their limits, and results that
only appear in the verdict lists (``pol``, ``fs``...) pass/fail steps. Statuses are Klippel's verdicts
where the header lists them, else they are computed from the limits.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import PurePath
from typing import Any

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FolderConverter, Report
from ..errors import ConversionError
from ..sources import SourceFolder, decode_text

_FOLDER_NAME = re.compile(
    r"DUT\s+(?P<serial>.+?)\s+(?P<date>\d{4}-\d{1,2}-\d{1,2})\s+(?P<h>\d{1,2})-(?P<m>\d{1,2})-(?P<s>\d{1,2})"
    r"(?:-(?P<frac>\d+))?(?:\s+UTC(?P<sign>[+-])(?P<zh>\d{2}):?(?P<zm>\d{2}))?\s*\Z"
)
_START_TIME = re.compile(
    r"\s*(\d{4})-(\d{1,2})-\d+-\d+-\d+-(\d{1,2})-(\d{1,2})-(\d{1,2})-(\d{1,2})-(\d{1,3})(?:-(-?\d{1,4})(?=-|\Z))?"
)
_HEADER_KEYS = (b"Cfg_SerialNumber=", b"Ctrl_OverallVerdict=", b"Cfg_DutStartTime=")
_VERDICT_LISTS = {"Results_Pass": "P", "Results_Fail": "F", "Results_Warning": "P", "Results_Void": "S",
                  "Results_Noise": "E", "Results_Invalid": "E"}  # fmt: skip
_OVERALL = {"-1": ("E", "Void"), "0": ("F", "Fail"), "1": ("P", "Pass"), "2": ("P", "Warning"),
            "3": ("E", "Noise"), "4": ("E", "Invalid")}  # fmt: skip
_X_COLUMNS = ("frq", "freq", "frequency", "f")
_MAX_NAMES = ("max", "upper", "max limit", "upper limit")
_MIN_NAMES = ("min", "lower", "min limit", "lower limit")
_MISC_KEYS = (("Cfg_Speaker", "Speaker"), ("Cfg_LoginMode", "Login mode"), ("Cfg_DatabasePath", "Database"),
              ("Cfg_MonitorID", "Monitor ID"), ("Ctrl_SaveData", "Data file"))  # fmt: skip
_MAX_ROWS = 1_000_000


class KlippelArguments(ConverterArguments):
    process_code: int = Field(90, description="WATS process (operation type) code of the reports (90: Acoustic Test)")
    part_number: str = Field(
        "", description="part number of every report; empty: the name of the Klippel database (Cfg_DatabasePath)"
    )
    revision: str = Field("", description="revision of every report (Klippel QC writes none)")
    log_frequency_axis: bool = Field(True, description="draw curves over frequency with a logarithmic x axis")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to WATS limits; 'strict' refuses the folder"
    )


def _is_table(data: bytes) -> bool:
    first = data[:200].lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip().lower()
    return b"\t" in first and (first.split(b"\t", 1)[0] in (b"frq", b"freq", b"name") or first.startswith(b"name\tvalue"))


def _is_header(data: bytes) -> bool:
    head = data[:65536]
    return any(key in head for key in _HEADER_KEYS)


def _header(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("//") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values.setdefault(key.strip(), value.strip())
    return values


def _number(text: str, where: str, line: int) -> float | None:
    try:
        value = float(text)  # the common case
        return value if math.isfinite(value) else None
    except ValueError:
        pass
    text = text.strip()
    if text in ("", "-", "--", "nan", "NaN"):
        return None
    try:
        value = float(text.replace(",", ".") if "." not in text else text)
    except ValueError:
        raise ConversionError(f"{text!r} is not a number", line=line, element=where) from None
    if not math.isfinite(value):
        return None
    return value


def _table(name: str, text: str) -> tuple[list[str], list[list[float | None]]]:
    header: list[str] | None = None
    rows: list[list[float | None]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        cells = raw.rstrip("\r\n").split("\t")
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        if len(rows) >= _MAX_ROWS:
            raise ConversionError(f"more than {_MAX_ROWS} rows", element=name, line=number)
        if header and header[0].lower() == "name":  # single values: keep the name as text in column 0
            rows.append([cells[0].strip()] + [_number(c, name, number) for c in cells[1:len(header)]])  # type: ignore[list-item]
        else:
            try:  # the common case: every cell a finite number
                values: list[float | None] = [float(cell) for cell in cells[:len(header)]]
                if all(map(math.isfinite, values)):  # type: ignore[arg-type]
                    rows.append(values)
                    continue
            except ValueError:
                pass
            rows.append([_number(c, name, number) for c in cells[:len(header)]])
    if header is None:
        raise ConversionError("the table is empty", element=name)
    width = len(header)
    return header, [row + [None] * (width - len(row)) for row in rows]


def _start(header: dict[str, str], folder: str, context: ConversionContext) -> datetime:
    match = _FOLDER_NAME.match(folder)
    zone = None
    if match and match.group("sign"):
        minutes = int(match.group("zh")) * 60 + int(match.group("zm"))
        zone = timezone(timedelta(minutes=minutes if match.group("sign") == "+" else -minutes))
    stamp = _START_TIME.match(header.get("Cfg_DutStartTime", ""))
    moment = None
    if stamp:
        year, month, day, hour, minute, second, milli, offset = stamp.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), int(milli) * 1000)
        except ValueError as error:
            raise ConversionError(f"Cfg_DutStartTime is not a valid time: {error}", field="Cfg_DutStartTime") from None
        if zone is None and offset is not None and abs(int(offset)) <= 16 * 60:
            zone = timezone(timedelta(minutes=int(offset)))
    elif match:
        year, month, day = (int(part) for part in match.group("date").split("-"))
        microsecond = int(float("0." + (match.group("frac") or "0")) * 1_000_000)
        try:
            moment = datetime(year, month, day, int(match.group("h")), int(match.group("m")), int(match.group("s")),
                              microsecond)  # fmt: skip
        except ValueError as error:
            raise ConversionError(f"the folder name's date is not valid: {error}", element=folder) from None
    if moment is None:
        raise ConversionError("no start time: Cfg_DutStartTime is missing and the folder name has no date",
                              field="Cfg_DutStartTime")  # fmt: skip
    return moment.replace(tzinfo=zone) if zone is not None else context.localize(moment)


def _verdicts(header: dict[str, str]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for key, status in _VERDICT_LISTS.items():
        for name in header.get(key, "").replace("\\t", "\t").split("\t"):
            name = name.strip()
            if name and name not in found:
                found[name] = (status, key.partition("_")[2])
    return found


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for index, name in enumerate(header):
        if name.lower() in names:
            return index
    return None


class KlippelConverter(FolderConverter):
    name = "klippel"
    version = "1.0"
    description = "Klippel QC result folders (DUT header file + tab-separated curve and value tables): one report per DUT"
    patterns = ("DUT *",)
    Arguments = KlippelArguments

    def validate(self, source: SourceFolder) -> float:
        try:
            tables = [name for name, data in source.files.items()
                      if "/" not in name and name.lower().endswith(".txt") and "-" in name and _is_table(data)]  # fmt: skip
            if not tables:
                return 0.0
            header = any(_is_header(data) for data in source.sidecars.values()) or any(
                "/" not in name and _is_header(data) for name, data in source.files.items()
            )
        except (TypeError, AttributeError):
            return 0.0
        named = _FOLDER_NAME.match(source.name) is not None
        if header:
            return 0.95 if named else 0.9
        return 0.8 if named else 0.4

    def _header_file(self, source: SourceFolder) -> tuple[str, bytes] | None:
        preferred = sorted(source.sidecars, key=lambda name: (PurePath(name).suffix.lower() != ".txt", name))
        for name in preferred:
            if _is_header(source.sidecars[name]):
                return name, source.sidecars[name]
        for name in sorted(source.files):
            if "/" not in name and _is_header(source.files[name]):
                return name, source.files[name]
        return None

    def convert(self, source: SourceFolder, context: ConversionContext) -> list[Report]:
        arguments = self.arguments
        found = self._header_file(source)
        header = _header(decode_text(found[1])) if found else {}
        header_name = found[0] if found else ""
        match = _FOLDER_NAME.match(source.name)
        serial = header.get("Cfg_SerialNumber", "") or (match.group("serial") if match else "")
        if not serial:
            raise ConversionError("the DUT has no serial number (Cfg_SerialNumber in the header file, or a "
                                  "'DUT <serial> <date>' folder name)", field="Cfg_SerialNumber")  # fmt: skip
        database = header.get("Cfg_DatabasePath", "")
        part_number = arguments.part_number or PurePath(database.replace("\\", "/")).stem
        if not part_number:
            raise ConversionError("no part number: the header names no database (Cfg_DatabasePath); set part_number",
                                  field="Cfg_DatabasePath")  # fmt: skip
        start = _start(header, source.name, context)
        result, verdict = _OVERALL.get(header.get("Ctrl_OverallVerdict", "").strip(), (None, ""))
        user = header.get("Cfg_UserName", "")
        user = user[4:] if user.lower().startswith("win:") else user
        error = header.get("Ctrl_ErrorGeneral", "")
        builder = ReportBuilder.uut(
            pn=part_number, sn=serial, rev=arguments.revision, process_code=arguments.process_code, start=start,
            result=result, user=user or None, machine_name=header.get("Cfg_PCName") or None,
            error_message=error[:500] or None, root_name=PurePath(database.replace("\\", "/")).name or "Klippel QC",
        )  # fmt: skip
        if verdict:
            builder.misc_info("Verdict", text=verdict)
        for key, label in _MISC_KEYS:
            if header.get(key):
                builder.misc_info(label, text=header[key][-100:])
        verdicts = _verdicts(header)
        used: set[str] = set()
        tasks: dict[str, Any] = {}
        for name in sorted(source.files):
            if "/" in name or name == header_name or not name.lower().endswith(".txt") or "-" not in name:
                continue
            data = source.files[name]
            if not _is_table(data):
                context.log.debug("Klippel: %s is not a result table; skipped", name)
                continue
            task, _, result_name = name[:-4].rpartition("-")
            sequence = tasks.get(task)
            if sequence is None:
                sequence = tasks[task] = builder.sequence(task or "Results")
            columns, rows = _table(name, decode_text(data))
            if columns[0].lower() == "name":
                self._values(sequence, name, columns, rows, verdicts, used)
            else:
                self._curve(sequence, name, result_name, columns, rows, verdicts, used)
        rest = [(name, status, kind) for name, (status, kind) in verdicts.items() if name not in used]
        if rest:
            sequence = builder.sequence("Other results")
            for name, status, kind in rest:
                if status in ("P", "F"):
                    sequence.pass_fail(name, status == "P", report_text=f"Klippel verdict: {kind}")
                else:
                    sequence.action(name, step_type="ET_PFT", status=status, report_text=f"Klippel verdict: {kind}")
        if not tasks and not rest:
            raise ConversionError("the folder holds no Klippel result table and the header lists no result")
        try:
            return [builder.build(lengths=arguments.lengths)]
        except ReportFormatError as error:
            raise ConversionError(f"the report breaks a WATS rule: {error}", element=source.name) from None
        except ValueError as error:
            raise ConversionError(f"the report cannot be built: {error}", element=source.name) from None

    def _values(self, parent: Any, file: str, columns: list[str], rows: list[list[Any]],
                verdicts: dict[str, tuple[str, str]], used: set[str]) -> None:  # fmt: skip
        value_at = _column(columns, ("value",))
        high_at, low_at = _column(columns, _MAX_NAMES), _column(columns, _MIN_NAMES)
        if value_at is None:
            raise ConversionError("the values table has no 'value' column", element=file)
        for row in rows:
            name = str(row[0]) or "value"
            value = row[value_at]
            high = row[high_at] if high_at is not None else None
            low = row[low_at] if low_at is not None else None
            verdict = verdicts.get(name)
            used.add(name)
            fields: dict[str, Any] = {"report_text": f"Klippel verdict: {verdict[1]}"} if verdict else {}
            status = verdict[0] if verdict else None
            if value is None and (status in (None, "S") or (low is None and high is None and status != "F")):
                parent.action(name, step_type="ET_NLT", status=status or "S", **fields)
                continue
            if low is not None and high is not None and low > high:
                low, high = high, low
            measured = {"P": "P", "F": "F", "S": "S", "E": "F"}.get(status or "")  # None: computed from the limits
            parent.numeric(name, value, low=low, high=high, status=measured, **fields)

    def _curve(self, parent: Any, file: str, result: str, columns: list[str], rows: list[list[Any]],
               verdicts: dict[str, tuple[str, str]], used: set[str]) -> None:  # fmt: skip
        y_at = next((i for i, name in enumerate(columns) if i and name == result), None)
        high_at, low_at = _column(columns, _MAX_NAMES), _column(columns, _MIN_NAMES)
        if y_at is None:
            y_at = next((i for i in range(1, len(columns)) if i not in (high_at, low_at)), None)
        if y_at is None:
            raise ConversionError("the curve table has no value column", element=file)
        name = result or columns[y_at]
        used.add(name)
        x_name = columns[0]
        frequency = x_name.lower() in _X_COLUMNS
        verdict = verdicts.get(name)
        status = verdict[0] if verdict else None
        if status is None:
            outside = any(
                row[y_at] is not None and ((high_at is not None and row[high_at] is not None and row[y_at] > row[high_at])
                                           or (low_at is not None and row[low_at] is not None and row[y_at] < row[low_at]))
                for row in rows
            )  # fmt: skip
            status = "F" if outside else "P"
        fields: dict[str, Any] = {"status": status}
        if verdict:
            fields["report_text"] = f"Klippel verdict: {verdict[1]}"
        chart = parent.chart(
            name, chart_type="LineLogX" if frequency and self.arguments.log_frequency_axis else "Line",
            x_label="Frequency" if frequency else x_name, x_unit="Hz" if frequency else None, y_label=columns[y_at],
            **fields,
        )  # fmt: skip
        for label, index in ((columns[y_at], y_at), ("max", high_at), ("min", low_at)):
            if index is None:
                continue
            points = [(row[0], row[index]) for row in rows if row[0] is not None and row[index] is not None]
            if points:
                chart.series(label, [x for x, _ in points], [y for _, y in points])


CONVERTERS = (KlippelConverter,)
