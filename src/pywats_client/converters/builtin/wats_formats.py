"""The WATS standard formats as converters: WSJF (JSON), WSXF (XML) and WSTF (tab-delimited text).

WSJF and WSXF files carry their report ids, which are kept (``source_ids``): a file that the station
writes again under the same id overwrites its report on the server. WSTF files have none, so the service
gives them deterministic ids.
"""

from __future__ import annotations

from pydantic import Field

from pywats import ReportFormatError
from pywats.formats import wsjf, wstf, wsxf
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile


class FormatArguments(ConverterArguments):
    lengths: LengthMode = Field(
        "strict", description="'strict' refuses a value longer than WATS allows; 'truncate' cuts it to the limit"
    )


def _conversion_error(error: ReportFormatError) -> ConversionError:
    # The location goes into line/element/field once; the message keeps the column and any further problems.
    message = error.message
    if error.column:
        message += f" (column {error.column})"
    more = len(error.problems) - 1
    if more > 0:
        message += f" (and {more} more problem{'s' * (more > 1)})"
    return ConversionError(message, line=error.line, element=error.element, field=error.path)


def _looks_like(head: bytes, *markers: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return any(marker in text[:4096] for marker in markers)


class WSJFConverter(FileConverter):
    name = "wsjf"
    version = "1.0"
    description = "WATS Standard JSON Format: one report per file, as POST /api/Report/WSJF takes it"
    patterns = ("*.json", "*.wsjf")
    source_ids = True
    Arguments = FormatArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head().lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"{"):
            return 0.0
        score = 0.3
        for marker in (b'"root"', b'"uut"', b'"uur"', b'"processCode"', b'"pn"', b'"sn"'):
            if marker in head:
                score += 0.12
        return min(score, 0.95)

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        try:
            return [wsjf.loads(source.data, lengths=self.arguments.lengths)]
        except ReportFormatError as error:
            raise _conversion_error(error) from None


class WSXFConverter(FileConverter):
    name = "wsxf"
    version = "1.0"
    description = "WATS Standard XML Format: a <Reports> document holding one or more reports"
    patterns = ("*.xml", "*.wsxf")
    source_ids = True
    Arguments = FormatArguments

    def validate(self, source: SourceFile) -> float:
        if _looks_like(source.head(), b"http://wats.virinco.com/schemas/WATS/Report/wsxf"):
            return 0.95
        return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        try:
            return list(wsxf.loads_all(source.data, lengths=self.arguments.lengths))
        except ReportFormatError as error:
            raise _conversion_error(error) from None


class WSTFArguments(FormatArguments):
    location: str = Field("", description="the reports' location (the format has no header for it)")
    purpose: str = Field("", description="the reports' purpose (the format has no header for it)")


class WSTFConverter(FileConverter):
    name = "wstf"
    version = "1.0"
    description = "WATS Standard Text Format: tab-delimited header and step rows, one or more reports per file"
    patterns = ("*.txt", "*.wstf", "*.tsv")
    Arguments = WSTFArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head().replace(b"\x00", b"").replace(b" ", b"").lower()
        if b"--header-start--" in head:
            return 0.9 if b"serialnumber" in head or b"--step-data-start--" in head else 0.7
        return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        station = context.station
        try:
            return list(wstf.loads_all(
                source.data, lengths=self.arguments.lengths, machine_name=station.name if station else None,
                location=self.arguments.location or (station.location if station else ""),
                purpose=self.arguments.purpose or (station.purpose if station else ""),
            ))  # fmt: skip
        except ReportFormatError as error:
            raise _conversion_error(error) from None


CONVERTERS = (WSJFConverter, WSXFConverter, WSTFConverter)
