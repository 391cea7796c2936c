"""Processes (WATS "operation types"): the code and name every report carries.

A real WATS server defines its own processes (``GET /api/App/Processes``). ``DEFAULT_PROCESSES`` is the set
this project's emulator starts with and that offline readers (WSTF) use to resolve a process name to its
code when no server list is given. Codes 10 and 500 match WATS's published example files.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessInfo:
    """One process: a test operation, a repair operation or a WIP operation."""

    code: int
    name: str
    is_test_operation: bool = True
    is_repair_operation: bool = False
    is_wip_operation: bool = False


DEFAULT_PROCESSES: tuple[ProcessInfo, ...] = (
    ProcessInfo(10, "SW Debug"),
    ProcessInfo(20, "ICT"),
    ProcessInfo(30, "Flying Probe"),
    ProcessInfo(40, "AOI"),
    ProcessInfo(50, "PCBA Test"),
    ProcessInfo(60, "JTAG"),
    ProcessInfo(70, "Programming"),
    ProcessInfo(80, "Burn-in"),
    ProcessInfo(90, "Acoustic Test"),
    ProcessInfo(100, "Final Function Test"),
    ProcessInfo(110, "Software Test"),
    ProcessInfo(500, "Repair", is_test_operation=False, is_repair_operation=True),
    ProcessInfo(600, "Assembly", is_test_operation=False, is_wip_operation=True),
)


def code_for_name(name: str, processes: tuple[ProcessInfo, ...] = DEFAULT_PROCESSES) -> int | None:
    """The code of the process named ``name`` (WATS compares names case-sensitively), or None."""
    return next((process.code for process in processes if process.name == name), None)
