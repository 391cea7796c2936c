"""Running a converter on a source: the one place that turns a converter's output into reports to queue.

:func:`convert_source` applies the rules of :mod:`pywats_client.converters.base`: ``auto`` is resolved to
the converter that will do the work, anything a converter raises becomes a :class:`ConversionError`, report
ids become deterministic, empty station fields are filled, and reports from converters that are not
built in are validated again (a plug-in may build models without validation).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any
from dataclasses import dataclass

from pywats import ReportFormatError
from pywats._station import fill_station
from pywats.builder import report_id_for
from pywats.formats import wsjf
from pywats.models import UURReport, UUTReport

from .base import ConversionContext, Converter, Report, ScheduledConverter
from .builtin import builtin_converters
from .builtin.auto import AutoConverter
from .errors import ConversionError, ConverterCrashed
from .sources import Source

log = logging.getLogger("pywats_client.converters")


@dataclass(frozen=True)
class Conversion:
    """What converting one source gave: the converter that did it and the finished reports."""

    converter: Converter
    reports: list[Report]


def report_id_key(converter: Converter, source: Source, index: int) -> str:
    """What a report's deterministic id is made of: converter, its version, the content hash, the index."""
    return f"{converter.name}:{converter.version}:{source.sha256}:{index}"


def resolve(converter: Converter, source: Source) -> Converter:
    """The converter that will convert ``source``: ``auto`` chooses one, every other converter is itself."""
    return converter.choose(source) if isinstance(converter, AutoConverter) else converter  # type: ignore[arg-type]


def convert_source(converter: Converter, source: Source, context: ConversionContext) -> Conversion:
    """Convert ``source`` into finished reports (ids set, station filled, validated).

    Raises:
        ConversionError: the source cannot be converted (:class:`ConverterCrashed` when the converter broke).
    """
    used = resolve(converter, source)
    reports = _call(used, lambda: used.convert(source, context))
    return Conversion(used, _finish(used, reports, context, lambda index, _: report_id_key(used, source, index)))


def run_scheduled(converter: ScheduledConverter, context: ConversionContext) -> Conversion:
    """One run of a scheduled converter: its new reports, finished like :func:`convert_source`'s. With no source
    to hash, a report's deterministic id is made of the converter, its version and the report's own content (so
    a report made again, unchanged, is not sent twice)."""

    def content_key(index: int, report: Report) -> str:
        content = hashlib.sha256(report.model_dump_json(exclude={"id"}).encode()).hexdigest()
        return f"{converter.name}:{converter.version}:{content}:0"

    reports = _call(converter, lambda: converter.run(context))
    return Conversion(converter, _finish(converter, reports, context, content_key))


def _call(used: Converter, work: Callable[[], Any]) -> list[Any]:
    try:
        produced = work()
        reports = list(produced) if isinstance(produced, Iterable) else produced
    except ConversionError:
        raise
    except Exception as error:  # noqa: BLE001 - a converter's bug must never stop the service
        log.debug("converter %s raised", used.name, exc_info=True)
        raise ConverterCrashed(f"converter {used.name} {used.version} failed: {type(error).__name__}: {error}") from error
    if not isinstance(reports, list):
        raise ConverterCrashed(f"converter {used.name} returned {type(reports).__name__}, not a list of reports")
    return reports


def _finish(used: Converter, reports: list[Any], context: ConversionContext,
            id_key: Callable[[int, Report], str]) -> list[Report]:  # fmt: skip
    trusted = builtin_converters().get(used.name) is type(used)
    finished = []
    for index, report in enumerate(reports):
        if not isinstance(report, (UUTReport, UURReport)):
            raise ConverterCrashed(
                f"converter {used.name} returned {type(report).__name__} as report {index}, not a UUT or UUR report"
            )
        if not used.source_ids:
            report = report.model_copy(update={"id": report_id_for(id_key(index, report))})
        report = fill_station(report, context.station)
        if not trusted:
            try:
                report = wsjf.loads(wsjf.dumps(report))
            except ReportFormatError as error:
                raise ConverterCrashed(f"converter {used.name} made an invalid report {index}: {error}") from None
        finished.append(report)
    return finished


__all__ = ["Conversion", "convert_source", "report_id_key", "resolve", "run_scheduled"]
