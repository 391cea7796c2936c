"""The built-in converters: every module of this package lists its converter classes in ``CONVERTERS``.

Modules are found by listing the package, so adding a format is adding a module; nothing else changes.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from functools import lru_cache

from ..base import Converter, is_converter_class

log = logging.getLogger("pywats_client.converters")

LOAD_ERRORS: dict[str, str] = {}
"""Built-in modules that failed to import, with the error: one broken module must not take the others down."""


@lru_cache(maxsize=1)
def builtin_converters() -> dict[str, type[Converter]]:
    """Every built-in converter class by name, in name order."""
    found: dict[str, type[Converter]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{module_info.name}")
        except Exception as error:  # noqa: BLE001 - reported, and tests/converters fail on it
            LOAD_ERRORS[module_info.name] = f"{type(error).__name__}: {error}"
            log.error("built-in converter module %s failed to load: %s", module_info.name, error)
            continue
        for cls in getattr(module, "CONVERTERS", ()):
            if not is_converter_class(cls):
                raise TypeError(f"{module.__name__}.CONVERTERS lists {cls!r}, which is not a converter class")
            if cls.name in found:
                raise TypeError(f"two built-in converters are named {cls.name!r}")
            found[cls.name] = cls
    return dict(sorted(found.items()))


__all__ = ["LOAD_ERRORS", "builtin_converters"]
