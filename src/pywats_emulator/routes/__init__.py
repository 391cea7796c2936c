"""The WATS API, one module per WATS area; each module has a FastAPI ``router``.

To add an area (product, asset, production, analytics, software, rootcause...):

1. write ``routes/<area>.py`` with ``router = APIRouter(tags=["<Area>"])`` and its routes under ``/api/...``,
   spelled as in the OpenAPI document (paths are matched without regard to case, as WATS does);
2. reach the database and settings through ``state: EmulatorState = Depends(get_state)``
   (:mod:`pywats_emulator.state`); add tables with ``state.storage.ensure_schema(...)`` from an
   ``init(state)`` function in the module, which the app factory calls once at start if present;
3. raise :class:`pywats_emulator.errors.ApiError` for a 4xx answer with a readable message;
4. add the module's name to :data:`ROUTER_MODULES`.

Authentication and fault injection cover every ``/api`` path automatically (they are middleware).
"""

from __future__ import annotations

import importlib
from types import ModuleType

ROUTER_MODULES = (
    "reports",
    "report_lists",
    "app_info",
    "analytics",
    "product",
    "asset",
    "production",
    "serial_numbers",
    "software",
    "rootcause",
)


def router_modules() -> list[ModuleType]:
    """The modules of :data:`ROUTER_MODULES`, imported."""
    return [importlib.import_module(f"{__name__}.{name}") for name in ROUTER_MODULES]
