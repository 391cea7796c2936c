"""A converter for the "KV log", a small key=value text format made up for the converter guide.

    KVLOG 1
    # one unit per file
    serial=SN-1001
    part=PSU-24V
    revision=B
    operator=anna
    start=2024-06-05 08:30:00
    Power/Output voltage=24.05 V [23.5, 24.5]
    Power/Ripple=12 mV [, 50]
    Identity/Firmware=2.0.7
    Self test=PASS

The first line names the format. ``serial``, ``part``, ``revision``, ``operator`` and ``start`` are the
header; every other ``name=value`` line is a test, in the sequence named before a ``/``. A value that starts
with a number is a numeric test (unit and ``[low, high]`` limits optional; either limit may be left out),
PASS or FAIL a pass/fail test, anything else a logged text. Lines starting with ``#`` are comments.

Use it with ``--converter path/to/my_converter.py::KVLogConverter``.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field

from pywats import ReportBuilder
from pywats_client.converters import (
    ConversionContext,
    ConversionError,
    ConverterArguments,
    FileConverter,
    Report,
    SourceFile,
)

HEADER_KEYS = ("serial", "part", "revision", "operator", "start")
NUMERIC = re.compile(
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"  # 24.05, -3, 1e-3
    r"\s*(?P<unit>[A-Za-z%µΩ°][^\s\[\]]*)?"  # V, mV, %, kOhm
    r"\s*(?:\[(?P<low>[^,\]]*),(?P<high>[^\]]*)\])?"  # [23.5, 24.5], [, 50], [0.1, ]
)


class KVLogConverter(FileConverter):
    name = "kv-log"
    version = "1.0"
    description = "KV log: one unit per key=value text file (the converter guide's example)"
    patterns = ("*.kv", "*.kvlog")

    class Arguments(ConverterArguments):
        process_code: int = Field(10, description="WATS process (operation type) code of the reports")
        revision: str = Field("1", description="revision when the file has no revision line")

    def validate(self, source: SourceFile) -> float:
        first_line = source.head(64).lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
        return 0.95 if first_line == b"KVLOG 1" else 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        lines = source.text().splitlines()
        if not lines or lines[0].strip() != "KVLOG 1":
            raise ConversionError("not a KV log: the first line is not 'KVLOG 1'", line=1)
        header: dict[str, str] = {}
        tests: list[tuple[int, str, str]] = []
        for number, raw in enumerate(lines[1:], start=2):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, equals, value = line.partition("=")
            if not equals or not key.strip():
                raise ConversionError(f"{line!r} is not name=value", line=number)
            if key.strip() in HEADER_KEYS:
                header[key.strip()] = value.strip()
            else:
                tests.append((number, key.strip(), value.strip()))
        for key in ("serial", "part", "start"):
            if not header.get(key):
                raise ConversionError(f"the file has no {key} line", field=key)
        try:
            start = datetime.fromisoformat(header["start"])
        except ValueError:
            raise ConversionError(f"{header['start']!r} is not a date and time like 2024-06-05 08:30:00",
                                  field="start") from None
        builder = ReportBuilder.uut(
            pn=header["part"], sn=header["serial"], rev=header.get("revision") or self.arguments.revision,
            process_code=self.arguments.process_code, start=context.localize(start),
            user=header.get("operator") or None,
        )
        sequences = {}
        for number, key, value in tests:
            sequence_name, _, test_name = key.rpartition("/")
            parent = builder
            if sequence_name:
                if sequence_name not in sequences:
                    sequences[sequence_name] = builder.sequence(sequence_name)
                parent = sequences[sequence_name]
            add_test(parent, test_name, value, number)
        try:
            return [builder.build(lengths="truncate")]
        except ValueError as error:  # pywats.ReportFormatError: a value WATS cannot store
            raise ConversionError(f"the report breaks a WATS rule: {error}") from None


def add_test(parent, name: str, value: str, line: int) -> None:
    """One test step; the builder computes its status from the limits."""
    if value.upper() in ("PASS", "FAIL"):
        parent.pass_fail(name, value.upper() == "PASS")
        return
    match = NUMERIC.fullmatch(value)
    if match is None:
        parent.string(name, value)  # no limit: logged, not judged
        return
    low = number(match["low"], line, "low limit")
    high = number(match["high"], line, "high limit")
    parent.numeric(name, number(match["value"], line, "value"), low=low, high=high, unit=match["unit"])


def number(text: str | None, line: int, what: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ConversionError(f"the {what} {text.strip()!r} is not a number", line=line) from None
