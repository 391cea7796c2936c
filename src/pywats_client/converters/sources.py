"""What a converter reads: a file or a folder, read once into memory.

The service reads the source completely, closes it, and only then hands it to a converter, so a converter
never holds a test station's file open (the station may want to write the next one) and a slow converter
cannot see a file change under it. ``sha256`` is the content hash that deterministic report ids are made of.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import ConversionError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with UTF-16 LE's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, encoding: str | None = None) -> str:
    """Text from bytes: the given encoding, else the byte-order mark's, else UTF-8, else Windows-1252.

    Test equipment on Windows writes UTF-16 with a BOM (TestStand) or the ANSI code page (most ICT testers);
    Windows-1252 decodes every byte except five, which fall back to Latin-1 so decoding never fails.

    Raises:
        ConversionError: ``encoding`` was given and the bytes are not in it (or it is no encoding).
    """
    if encoding is not None:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ConversionError(f"the file is not {encoding} text: {error}") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name)
            except UnicodeDecodeError as error:
                raise ConversionError(f"the file starts like {name} text but is not: {error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass(frozen=True)
class SourceFile:
    """One file, read completely. ``path`` is where it was found (for messages and file-name conventions)."""

    path: Path
    data: bytes

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        """Read ``path`` in one go and close it."""
        path = Path(path)
        return cls(path, path.read_bytes())

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def text(self, encoding: str | None = None) -> str:
        """The file as text (see :func:`decode_text`)."""
        return decode_text(self.data, encoding)

    def head(self, size: int = 4096) -> bytes:
        """The first ``size`` bytes: what a ``validate()`` usually needs to look at."""
        return self.data[:size]


@dataclass(frozen=True)
class SourceFolder:
    """A folder of files that together make one test run (e.g. a Klippel result folder).

    ``files`` maps each file's path relative to the folder (with ``/``) to its bytes. ``sidecars`` holds the
    files beside the folder that share its name (``DUT 7.txt`` next to ``DUT 7/``), by file name: some
    testers write a run's header there.
    """

    path: Path
    files: Mapping[str, bytes] = field(default_factory=dict)
    sidecars: Mapping[str, bytes] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path, *, max_bytes: int = 512 * 1024 * 1024, max_files: int = 10_000) -> SourceFolder:
        """Read every file under ``path`` (recursively).

        Raises:
            ConversionError: the folder holds more than ``max_bytes`` or ``max_files``.
        """
        path = Path(path)
        files: dict[str, bytes] = {}
        total = 0
        # Walked a folder at a time and stopped at the first limit crossed, so a wrong path (say, a whole
        # drive) costs a moment and an error, not a walk of everything below it.
        for root, folders, names in os.walk(path):
            folders.sort()
            for name in sorted(names):
                item = Path(root) / name
                if not item.is_file():
                    continue
                if len(files) >= max_files:
                    raise ConversionError(f"the folder holds more than {max_files} files")
                total += item.stat().st_size
                if total > max_bytes:
                    raise ConversionError(f"the folder holds more than {max_bytes} bytes")
                files[item.relative_to(path).as_posix()] = item.read_bytes()
        files = dict(sorted(files.items()))
        sidecars = {item.name: item.read_bytes() for item in sidecar_paths(path)}
        return cls(path, files, sidecars)

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for prefix, files in (("", self.files), ("../", self.sidecars)):
            for name in sorted(files):
                content = hashlib.sha256(files[name]).hexdigest()
                digest.update(f"{prefix}{name}\0{content}\n".encode())
        return digest.hexdigest()

    def text(self, name: str, encoding: str | None = None) -> str:
        """One file of the folder as text (see :func:`decode_text`).

        Raises:
            ConversionError: no file has that name.
        """
        try:
            data = self.files[name]
        except KeyError:
            raise ConversionError(f"{self.name}: no file {name!r} in the folder") from None
        return decode_text(data, encoding)


def sidecar_paths(folder: Path) -> list[Path]:
    """The files beside ``folder`` whose name without extension is the folder's name."""
    parent = folder.parent
    if not parent.is_dir():
        return []
    return sorted(item for item in parent.iterdir() if item.is_file() and item.stem == folder.name)


Source = SourceFile | SourceFolder

__all__ = ["Source", "SourceFile", "SourceFolder", "decode_text", "sidecar_paths"]
