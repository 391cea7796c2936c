"""``auto``: give each file to the converter most confident it can read it.

Every candidate's ``validate()`` looks at the file; the highest confidence wins if it reaches
``threshold``, else the file is refused with the scores seen (so the error folder says what was tried).
The reports are then made by, and get their ids from, the converter that won, exactly as if it had been
configured by name.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base import ConversionContext, Converter, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile


class AutoArguments(ConverterArguments):
    candidates: list[str] = Field(
        default_factory=list, description="names of the converters to choose from; empty: every built-in and installed plug-in "
        "file converter (folder converters are never candidates)"
    )
    threshold: float = Field(0.5, ge=0, le=1, description="the lowest confidence accepted")
    arguments: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="arguments for each candidate, by converter name"
    )


class AutoConverter(FileConverter):
    name = "auto"
    version = "1.0"
    description = "picks, for each file, the converter most confident it can read it"
    patterns = ("*",)
    Arguments = AutoArguments

    def __init__(self, arguments: Any = None) -> None:
        super().__init__(arguments)
        self._candidates: list[Converter] | None = None

    def candidates(self) -> list[Converter]:
        """The converters to choose from, made once with their arguments."""
        if self._candidates is None:
            from ..loader import available_converters, load_converter_class

            names = self.arguments.candidates or [
                name for name, cls in available_converters().items() if cls.kind == "file" and name != self.name
            ]
            self._candidates = [
                load_converter_class(name)(self.arguments.arguments.get(name)) for name in names if name != self.name
            ]
        return self._candidates

    def choose(self, source: SourceFile) -> Converter:
        """The most confident candidate for ``source``.

        Raises:
            ConversionError: no candidate reaches the threshold.
        """
        scores: list[tuple[float, Converter]] = []
        for candidate in self.candidates():
            try:
                score = float(candidate.validate(source))
            except Exception:  # noqa: BLE001 - a validate() that breaks counts as "cannot read it"
                score = 0.0
            scores.append((score, candidate))
        scores.sort(key=lambda item: item[0], reverse=True)
        if scores and scores[0][0] >= self.arguments.threshold:
            return scores[0][1]
        seen = ", ".join(f"{converter.name} {score:.2f}" for score, converter in scores[:5] if score > 0)
        raise ConversionError(
            f"no converter recognises this file (threshold {self.arguments.threshold:.2f}; "
            f"best: {seen or 'none above 0'})"
        )

    def validate(self, source: SourceFile) -> float:
        try:
            return self.choose(source).validate(source)
        except ConversionError:
            return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        return list(self.choose(source).convert(source, context))


CONVERTERS = (AutoConverter,)
