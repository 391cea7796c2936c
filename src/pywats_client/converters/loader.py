"""Finding a converter class from the name a configuration gives.

Three spellings, tried in this order:

1. a built-in name (``wsjf``, ``auto``...) or the name of an installed plug-in (entry point group
   ``pywats.converters``);
2. ``path/to/file.py::ClassName``: a Python file, loaded fresh each time (so "reload converters" picks up
   an edit); a relative path is taken from ``base_dir`` (the instance folder);
3. a dotted path, ``package.module:ClassName`` or ``package.module.ClassName``, importable from
   ``sys.path``.

Every failure raises :class:`ConverterLoadError` saying what was looked for and why it failed, never a bare
``ImportError`` or ``AttributeError``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .base import Converter, is_converter_class
from .builtin import builtin_converters
from .errors import ConverterLoadError

ENTRY_POINT_GROUP = "pywats.converters"


def available_converters() -> dict[str, type[Converter]]:
    """Built-in converters and installed plug-ins, by name (a plug-in cannot replace a built-in)."""
    found = dict(builtin_converters())
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in found:
            try:
                found[entry.name] = _checked(entry.load(), f"plug-in {entry.name!r} ({entry.value})")
            except ConverterLoadError:
                continue  # listed, but broken: loading it by name explains why
    return found


def load_converter_class(spec: str, *, base_dir: Path | None = None) -> type[Converter]:
    """The converter class ``spec`` names (see the module docstring).

    Raises:
        ConverterLoadError: nothing by that name, or it is not a converter.
    """
    spec = spec.strip()
    if not spec:
        raise ConverterLoadError("no converter given")
    builtins = builtin_converters()
    if spec in builtins:
        return builtins[spec]
    plugin = next(iter(entry_points(group=ENTRY_POINT_GROUP, name=spec)), None)
    if plugin is not None:
        return _checked(_call(plugin.load, f"plug-in {spec!r} ({plugin.value})"), f"plug-in {spec!r}")
    if "::" in spec:
        file_part, _, class_name = spec.rpartition("::")
        return _from_file(Path(file_part), class_name, base_dir)
    if spec.endswith(".py"):
        raise ConverterLoadError(f"{spec!r}: name the class too, as {spec}::ClassName")
    if ":" in spec:
        module_name, _, class_name = spec.partition(":")
    elif "." in spec:
        module_name, _, class_name = spec.rpartition(".")
    else:
        known = ", ".join(builtins)
        raise ConverterLoadError(f"no converter named {spec!r}; built-in converters are: {known}")
    module = _call(lambda: importlib.import_module(module_name), f"module {module_name!r}")
    return _checked(_attribute(module, class_name, f"module {module_name!r}"), spec)


def _from_file(path: Path, class_name: str, base_dir: Path | None) -> type[Converter]:
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    path = path.expanduser()
    if not path.is_file():
        raise ConverterLoadError(f"converter file {str(path)!r} does not exist")
    # A fresh module name per load: an edited file is executed again instead of coming from sys.modules.
    digest = hashlib.sha256(f"{path.resolve()}:{path.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    module_name = f"pywats_user_converter_{path.stem.replace('-', '_')}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConverterLoadError(f"{str(path)!r} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pydantic look their module up while the file runs
    try:
        _call(lambda: spec.loader.exec_module(module), f"converter file {str(path)!r}")  # type: ignore[union-attr]
    except ConverterLoadError:
        sys.modules.pop(module_name, None)
        raise
    return _checked(_attribute(module, class_name, f"converter file {str(path)!r}"), f"{path}::{class_name}")


def _call(action: Any, what: str) -> Any:
    try:
        return action()
    except Exception as error:  # noqa: BLE001 - any failure while importing user code is a load error
        where = traceback.extract_tb(error.__traceback__)[-1]
        raise ConverterLoadError(
            f"{what} failed to load: {type(error).__name__}: {error} (at {Path(where.filename).name}:{where.lineno})"
        ) from error


def _attribute(module: Any, name: str, what: str) -> Any:
    try:
        return getattr(module, name)
    except AttributeError:
        raise ConverterLoadError(f"{what} has no {name!r}") from None


def _checked(value: Any, what: str) -> type[Converter]:
    if not is_converter_class(value):
        raise ConverterLoadError(
            f"{what} is not a converter class (subclass FileConverter, FolderConverter or ScheduledConverter "
            "and give it a name)"
        )
    return value


__all__ = ["ENTRY_POINT_GROUP", "available_converters", "load_converter_class"]
