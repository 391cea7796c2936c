"""Helpers shared by the converter tests: fixture files, running a converter, sample discovery."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import SAMPLES

from pywats_client.converters import (
    ConversionContext,
    Converter,
    FolderConverter,
    SourceFile,
    SourceFolder,
    convert_source,
    load_converter_class,
)
from pywats import Station

FIXTURES = Path(__file__).resolve().parent / "fixtures"
"""``fixtures/<converter name>/``: the project's own small files for each built-in converter."""

CONTEXT = ConversionContext(station=Station("TEST-STATION", "Lab", "Development"))


PROJECT_SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
"""Real equipment files this project may keep (MIT / Apache-2.0, listed in NOTICE): the corpus test always has them."""


def corpus_roots() -> list[Path]:
    """The folders the corpus test reads: the project's own real samples, ``../shared/samples`` and every folder
    in ``$PYWATS_CORPUS``."""
    roots = [PROJECT_SAMPLES] if PROJECT_SAMPLES.is_dir() else []
    roots += [SAMPLES] if SAMPLES.is_dir() else []
    for entry in filter(None, os.environ.get("PYWATS_CORPUS", "").split(os.pathsep)):
        if Path(entry).is_dir():
            roots.append(Path(entry))
    return roots


def fixture_paths(name: str) -> list[Path]:
    """The project's own fixture files (or folders, for a folder converter) of converter ``name``."""
    folder = FIXTURES / name
    return sorted(folder.iterdir()) if folder.is_dir() else []


def read_source(path: Path) -> SourceFile | SourceFolder:
    return SourceFolder.read(path) if path.is_dir() else SourceFile.read(path)


def convert(name: str, path: Path, **arguments):
    """Convert ``path`` with the built-in converter ``name``: the finished reports (ids, station filled)."""
    converter: Converter = load_converter_class(name)(arguments)
    return convert_source(converter, read_source(path), CONTEXT).reports


def is_folder_converter(cls: type[Converter]) -> bool:
    return issubclass(cls, FolderConverter)


def find_step(container, *path: str):
    """The step at a path of step names below a report's root (or below a given step)."""
    step = getattr(container, "root", container)
    for name in path:
        step = next(child for child in step.steps if child.name == name)
    return step


def step_tree(step) -> list:
    """The shape of a step tree: names, with ``(name, [children])`` for sequence calls."""
    return [(child.name, step_tree(child)) if child.step_type == "SequenceCall" else child.name for child in step.steps]
