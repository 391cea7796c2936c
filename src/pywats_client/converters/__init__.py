"""Converters: plug-ins that turn test-equipment output into WATS reports (see :mod:`.base` for the API)."""

from .base import (
    ConversionContext,
    Converter,
    ConverterArgumentError,
    ConverterArguments,
    FileConverter,
    FolderConverter,
    NoArguments,
    Report,
    ScheduledConverter,
)
from .errors import ConversionError, ConverterCrashed, ConverterLoadError
from .loader import available_converters, load_converter_class
from .run import Conversion, convert_source
from .sources import SourceFile, SourceFolder, decode_text

__all__ = [
    "Conversion", "ConversionContext", "ConversionError", "Converter", "ConverterArgumentError",
    "ConverterArguments", "ConverterCrashed", "ConverterLoadError", "FileConverter", "FolderConverter",
    "NoArguments", "Report", "ScheduledConverter", "SourceFile", "SourceFolder", "available_converters",
    "convert_source", "decode_text", "load_converter_class",
]  # fmt: skip
