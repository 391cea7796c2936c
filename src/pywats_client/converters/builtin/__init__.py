"""The built-in converters: every module of this package lists its converter classes in ``CONVERTERS``.

Modules are found by listing the package, so adding a format is adding a module; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from ..base import Converter, is_converter_class


@lru_cache(maxsize=1)
def builtin_converters() -> dict[str, type[Converter]]:
    """Every built-in converter class by name, in name order."""
    found: dict[str, type[Converter]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for cls in getattr(module, "CONVERTERS", ()):
            if not is_converter_class(cls):
                raise TypeError(f"{module.__name__}.CONVERTERS lists {cls!r}, which is not a converter class")
            if cls.name in found:
                raise TypeError(f"two built-in converters are named {cls.name!r}")
            found[cls.name] = cls
    return dict(sorted(found.items()))


__all__ = ["builtin_converters"]
