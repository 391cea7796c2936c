"""The App area's server information: ``GET /api/App/Processes`` and ``GET /api/App/Version``.

Processes are returned as objects with ``code``, ``name``, ``description``, ``isTestOperation``,
``isRepairOperation``, ``isWipOperation`` and ``isActive`` (the OpenAPI document gives no schema; the
flag names are those its description uses). Without include flags WATS returns every active process that
is a test, repair or WIP operation; with flags, only the kinds asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse

from ..state import EmulatorState, get_state

router = APIRouter(tags=["App"])


def process_json(row: Any) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": row["name"],
        "description": row["description"],
        "isTestOperation": bool(row["is_test"]),
        "isRepairOperation": bool(row["is_repair"]),
        "isWipOperation": bool(row["is_wip"]),
        "isActive": bool(row["is_active"]),
    }


@router.get("/api/App/Processes", summary="Get processes.")
def get_processes(
    includeTestOperations: bool = False, includeRepairOperations: bool = False, includeWipOperations: bool = False,
    includeInactiveProcesses: bool = False, state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    wanted = (includeTestOperations, includeRepairOperations, includeWipOperations)
    if not any(wanted):
        wanted = (True, True, True)
    found = []
    for row in state.storage.processes():
        if not row["is_active"] and not includeInactiveProcesses:
            continue
        kinds = (bool(row["is_test"]), bool(row["is_repair"]), bool(row["is_wip"]))
        if any(want and kind for want, kind in zip(wanted, kinds)):
            found.append(process_json(row))
    return JSONResponse(found)


@router.get("/api/App/Version", summary="Get server/api version")
def get_version(state: EmulatorState = Depends(get_state)) -> JSONResponse:
    return JSONResponse(state.config.server_version)
