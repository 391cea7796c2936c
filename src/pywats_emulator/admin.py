"""The emulator's own endpoints, outside the WATS API: faults, statistics and reset.

They live under ``/_emulator`` (never ``/api``, so fault injection does not touch them) and need the same
token as the API.

- ``GET /_emulator/faults``: the current fault settings (see :class:`pywats_emulator.faults.FaultConfig`).
- ``PUT /_emulator/faults``: change some settings, e.g. ``{"error_rate": 0.5, "retry_after_s": 2}``;
  with ``?replace=true`` every setting not given goes back to "off". Answers the new settings.
- ``GET /_emulator/stats``: requests served, responses by status, reports received, rejected and stored,
  faults injected.
- ``POST /_emulator/reset``: delete every report and zero the counters; ``?faults=true`` also puts the
  faults back to the ones the emulator was started with.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends
from starlette.concurrency import run_in_threadpool

from .errors import ApiError
from .faults import FaultConfig
from .state import EmulatorState, get_state

router = APIRouter(prefix="/_emulator", tags=["Emulator"])


@router.get("/faults", summary="Current fault settings")
def get_faults(state: EmulatorState = Depends(get_state)) -> dict[str, Any]:
    return state.faults.config.to_dict()


@router.put("/faults", summary="Change fault settings")
def put_faults(
    changes: dict[str, Any] = Body(...), replace: bool = False, state: EmulatorState = Depends(get_state)
) -> dict[str, Any]:
    try:
        if replace:
            return state.faults.reset(FaultConfig().replace(**changes)).to_dict()
        return state.faults.configure(**changes).to_dict()
    except (TypeError, ValueError) as error:
        raise ApiError(400, str(error)) from None


@router.get("/stats", summary="Counters of this emulator")
def get_stats(state: EmulatorState = Depends(get_state)) -> dict[str, Any]:
    return state.snapshot()


@router.post("/reset", summary="Delete every report and zero the counters")
async def reset(faults: bool = False, state: EmulatorState = Depends(get_state)) -> dict[str, Any]:
    deleted = await run_in_threadpool(state.storage.clear_reports)
    state.stats.clear()
    state.faults.clear_counts()
    if faults:
        state.faults.reset(state.config.faults)
    return {"reports_deleted": deleted, "faults": state.faults.config.to_dict()}
