"""The converter API: what a plug-in that turns test-equipment output into WATS reports looks like.

A converter is a class with a ``name``, a ``version``, the file ``patterns`` it reads, an argument schema
(a pydantic model, so every argument is typed, has a default and a description), ``validate()`` returning
how confident it is that it can read a source (0 to 1), and ``convert()`` returning zero or more reports.

.. code-block:: python

    class MyTester(FileConverter):
        name = "my-tester"
        version = "1.2"
        patterns = ("*.log",)

        class Arguments(ConverterArguments):
            process_code: int = Field(20, description="WATS process (operation type) code")

        def validate(self, source: SourceFile) -> float:
            return 0.9 if source.head().startswith(b"MYTESTER") else 0.0

        def convert(self, source: SourceFile, context: ConversionContext) -> list[UUTReport]:
            builder = ReportBuilder.uut(pn=..., sn=..., rev=..., process_code=self.arguments.process_code,
                                        start=context.localize(started))
            ...
            return [builder.build()]

Rules the service relies on:

1. ``convert`` reads only ``source`` (bytes already in memory) and raises only :class:`ConversionError` for
   input it cannot read. Anything else it raises is treated as a bug in the converter: the source goes to the
   error folder all the same, and the service goes on.
2. Report ids are not the converter's business: the service replaces each report's id with
   ``uuid5(converter name, version, source hash, index)`` so converting the same file again gives the same
   ids (the server overwrites, never duplicates). A converter whose source carries its own report ids
   (WSJF, WSXF) sets ``source_ids = True`` and they are kept.
3. Station fields left empty (``machineName``, ``location``, ``purpose``) are filled from the instance's
   station.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from pywats import Station
from pywats.models import UURReport, UUTReport

from .errors import ConversionError
from .sources import Source, SourceFile, SourceFolder

Report = Union[UUTReport, UURReport]


class ConverterArguments(BaseModel):
    """Base of a converter's argument schema. Unknown arguments are refused, naming the argument."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArguments(ConverterArguments):
    """The schema of a converter that takes no arguments."""


class ConverterArgumentError(ValueError):
    """The arguments given to a converter do not fit its schema; the message names each one and the rule."""


@dataclass(frozen=True)
class ConversionContext:
    """What a conversion may know besides the source.

    Args:
        station: the station this instance uploads as (empty report fields are filled from it afterwards;
            a converter may also read it, e.g. to name a fixture).
        timezone: the time zone of local times written in files that give none; None is this machine's.
        log: where a converter reports what it skipped or guessed.
    """

    station: Station | None = None
    timezone: tzinfo | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("pywats_client.converters"))

    def localize(self, moment: datetime) -> datetime:
        """``moment`` with a time zone: as given when it has one, else in :attr:`timezone`."""
        if moment.tzinfo is not None:
            return moment
        if self.timezone is not None:
            return moment.replace(tzinfo=self.timezone)
        return moment.astimezone()  # the machine's local zone, daylight saving included


class Converter:
    """Base of every converter. Subclass :class:`FileConverter`, :class:`FolderConverter` or
    :class:`ScheduledConverter`, not this."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = ""
    patterns: ClassVar[tuple[str, ...]] = ("*",)
    source_ids: ClassVar[bool] = False
    Arguments: ClassVar[type[ConverterArguments]] = NoArguments
    kind: ClassVar[str] = ""

    def __init__(self, arguments: Mapping[str, Any] | ConverterArguments | None = None) -> None:
        if isinstance(arguments, self.Arguments):
            self.arguments = arguments
            return
        try:
            self.arguments = self.Arguments.model_validate(dict(arguments or {}))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'arguments'}: {item['msg']}"
                for item in error.errors(include_url=False)
            )
            raise ConverterArgumentError(f"converter {self.name!r}: {problems}") from None

    @classmethod
    def argument_schema(cls) -> dict[str, Any]:
        """The JSON schema of the arguments: types, defaults and descriptions (shown by the CLI and GUI)."""
        return cls.Arguments.model_json_schema()

    @classmethod
    def matches(cls, name: str) -> bool:
        """Whether a file or folder name matches one of :attr:`patterns` (case-insensitive, as on Windows)."""
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in cls.patterns)

    def validate(self, source: Source) -> float:
        """How sure this converter is that it can read ``source``: 0 (not at all) to 1 (certain).

        The default only looks at the name: 0.1 when it matches :attr:`patterns`, so the ``auto`` converter
        never picks a converter that did not look inside. Override it.
        """
        return 0.1 if self.matches(source.name) else 0.0

    def convert(self, source: Source, context: ConversionContext) -> Iterable[Report]:
        """The reports in ``source``.

        Raises:
            ConversionError: the source cannot be read as this format.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.version}>"


class FileConverter(Converter):
    """Converts one file at a time (most test equipment writes one file per run)."""

    kind: ClassVar[str] = "file"

    def validate(self, source: SourceFile) -> float:  # type: ignore[override]
        return super().validate(source)

    def convert(self, source: SourceFile, context: ConversionContext) -> Iterable[Report]:  # type: ignore[override]
        raise NotImplementedError


class FolderConverter(Converter):
    """Converts a folder that one test run wrote (several files belonging together).

    A folder is taken when nothing in it has changed for the stability window and :meth:`is_ready` agrees.
    """

    kind: ClassVar[str] = "folder"

    def is_ready(self, folder: Path) -> bool:
        """Whether the tester has finished writing ``folder`` (e.g. a marker file exists). Default: yes."""
        return True

    def validate(self, source: SourceFolder) -> float:  # type: ignore[override]
        return super().validate(source)

    def convert(self, source: SourceFolder, context: ConversionContext) -> Iterable[Report]:  # type: ignore[override]
        raise NotImplementedError


class ScheduledConverter(Converter):
    """Makes reports on a timer instead of from files (e.g. polling a tester's database)."""

    kind: ClassVar[str] = "scheduled"
    interval_s: ClassVar[float] = 60.0

    def run(self, context: ConversionContext) -> Iterable[Report]:
        """The reports that are new since the last run. Raises :class:`ConversionError` on failure."""
        raise NotImplementedError


def is_converter_class(value: Any) -> bool:
    """Whether ``value`` is a concrete converter class (has a name and a kind)."""
    return isinstance(value, type) and issubclass(value, Converter) and bool(value.kind) and bool(value.name)


__all__ = [
    "ConversionContext",
    "ConversionError",
    "Converter",
    "ConverterArgumentError",
    "ConverterArguments",
    "FileConverter",
    "FolderConverter",
    "NoArguments",
    "Report",
    "ScheduledConverter",
    "is_converter_class",
]
