"""What an emulator instance is started with: database, tokens, processes and the faults to inject.

The defaults give a working server with nothing to set up: a throw-away database (a temporary file, removed
when the app shuts down), one documented token (:data:`DEFAULT_TOKEN`) and the project's default process
set (:data:`pywats.processes.DEFAULT_PROCESSES`). Extra processes come from ``CODE:NAME[:kind]`` strings
(the CLI's ``--process``) or a JSON file (``--processes-file``); a code that is already defined is
replaced, so a file can also rename a default process.

Processes file (JSON): a list, or ``{"processes": [...]}``, of objects such as::

    {"code": 700, "name": "Calibration"}                       # a test operation
    {"code": 510, "name": "Rework", "kind": "repair"}          # kind: test | repair | wip
    {"code": 20, "name": "ICT", "active": false}               # inactive: listed only on request, refused
    {"code": 800, "name": "Pack", "isTestOperation": false, "isWipOperation": true}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pywats.processes import DEFAULT_PROCESSES, ProcessInfo

from .faults import FaultConfig

DEFAULT_TOKEN = "cHl3YXRzOmVtdWxhdG9y"
"""The token every emulator accepts unless told otherwise: base64 of ``pywats:emulator``.

WATS issues tokens as base64 strings and clients send them verbatim as ``Authorization: Basic <token>``;
this one is public on purpose, so only ever use it on a loopback emulator.
"""

DEFAULT_SERVER_VERSION = "2025.1.0"
"""What ``GET /api/App/Version`` answers: the WATS release whose public API the emulator follows."""

PROCESS_KINDS = ("test", "repair", "wip")


@dataclass
class EmulatorConfig:
    """Everything an emulator instance needs; every field has a working default.

    Args:
        db_path: SQLite file to keep reports in. ``None`` or ``":memory:"`` means a temporary file that is
            deleted when the app shuts down (a file rather than memory, so every worker thread sees the
            same data through its own connection).
        tokens: API tokens accepted in ``Authorization: Basic <token>``, compared verbatim.
        processes: the base set of processes (WATS operation types) reports may use.
        extra_processes: more processes, as :class:`ProcessInfo` or ``"CODE:NAME[:repair|wip]"`` strings;
            one with a code already in ``processes`` replaces it.
        processes_file: a JSON file of more processes (format above), read when the config is made.
        inactive_processes: codes of processes that exist but are inactive: listed by
            ``GET /api/App/Processes?includeInactiveProcesses=true`` and refused on upload.

    After construction ``processes`` holds the merged set (base, then file, then extra) and
    ``inactive_processes`` includes the file's inactive ones.
        faults: faults injected from the start (changeable at run time through ``/_emulator/faults``).
        server_version: the answer of ``GET /api/App/Version``.
    """

    db_path: str | Path | None = None
    tokens: list[str] = field(default_factory=lambda: [DEFAULT_TOKEN])
    processes: tuple[ProcessInfo, ...] = DEFAULT_PROCESSES
    extra_processes: tuple[ProcessInfo | str, ...] = ()
    processes_file: str | Path | None = None
    inactive_processes: frozenset[int] = frozenset()
    faults: FaultConfig = field(default_factory=FaultConfig)
    server_version: str = DEFAULT_SERVER_VERSION

    def __post_init__(self) -> None:
        if isinstance(self.tokens, str):
            self.tokens = [self.tokens]
        self.tokens = list(self.tokens)
        if not self.tokens or not all(isinstance(token, str) and token.strip() for token in self.tokens):
            raise ValueError("tokens must be a non-empty list of non-empty strings")
        self.processes = tuple(self.processes)
        codes = [process.code for process in self.processes]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"process codes defined twice: {duplicates}")
        inactive = set(self.inactive_processes)
        extra: list[ProcessInfo] = []
        if self.processes_file is not None:
            from_file, inactive_in_file = load_processes_file(self.processes_file)
            extra += from_file
            inactive |= inactive_in_file
        self.extra_processes = tuple(self.extra_processes)
        extra += [parse_process_spec(p) if isinstance(p, str) else p for p in self.extra_processes]
        if extra:
            self.processes = merge_processes(self.processes, extra)
        self.inactive_processes = frozenset(inactive)
        if isinstance(self.faults, dict):
            self.faults = FaultConfig(**self.faults)
        elif not isinstance(self.faults, FaultConfig):
            raise TypeError("faults must be a FaultConfig or a dict of its fields")

    @property
    def token(self) -> str:
        """The first token: the one a test client or the demo should send."""
        return self.tokens[0]


def parse_process_spec(spec: str) -> ProcessInfo:
    """A process from the CLI form ``CODE:NAME[:test|repair|wip]`` (the name may contain ':').

    >>> parse_process_spec("700:Calibration:wip")
    ProcessInfo(code=700, name='Calibration', is_test_operation=False, is_repair_operation=False, is_wip_operation=True)
    """
    code_text, separator, rest = spec.partition(":")
    kind = "test"
    head, _, tail = rest.rpartition(":")
    if head and tail.lower() in PROCESS_KINDS:
        rest, kind = head, tail.lower()
    try:
        code = int(code_text.strip())
    except ValueError:
        raise ValueError(f"process {spec!r}: the code must be a whole number (CODE:NAME[:repair|wip])") from None
    if not separator or not rest.strip():
        raise ValueError(f"process {spec!r}: give CODE:NAME[:repair|wip]")
    return make_process(code, rest.strip(), kind)


def make_process(code: int, name: str, kind: str = "test") -> ProcessInfo:
    """A process of one kind: ``test``, ``repair`` or ``wip``."""
    if kind not in PROCESS_KINDS:
        raise ValueError(f"process {code}: kind must be one of {', '.join(PROCESS_KINDS)}, not {kind!r}")
    return ProcessInfo(
        code, name, is_test_operation=kind == "test", is_repair_operation=kind == "repair",
        is_wip_operation=kind == "wip",
    )  # fmt: skip


def load_processes_file(path: str | Path) -> tuple[list[ProcessInfo], set[int]]:
    """The processes listed in a JSON file, and the codes of those marked ``"active": false``.

    Raises:
        ValueError: the file is not JSON or an entry is malformed; the message names the entry.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    if isinstance(data, dict):
        data = data.get("processes")
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of processes or {{\"processes\": [...]}}")
    processes: list[ProcessInfo] = []
    inactive: set[int] = set()
    for index, entry in enumerate(data):
        processes.append(_process_from_json(entry, f"{path}: processes[{index}]"))
        if isinstance(entry, dict) and entry.get("active", entry.get("isActive", True)) is False:
            inactive.add(processes[-1].code)
    return processes, inactive


def _process_from_json(entry: Any, where: str) -> ProcessInfo:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: each process is an object with code and name")
    code, name = entry.get("code"), entry.get("name")
    if isinstance(code, bool) or not isinstance(code, int):
        raise ValueError(f"{where}: code must be a whole number")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: name must be a non-empty string")
    flags = ("isTestOperation", "isRepairOperation", "isWipOperation")
    if any(flag in entry for flag in flags):
        return ProcessInfo(
            code, name, is_test_operation=bool(entry.get("isTestOperation", False)),
            is_repair_operation=bool(entry.get("isRepairOperation", False)),
            is_wip_operation=bool(entry.get("isWipOperation", False)),
        )  # fmt: skip
    try:
        return make_process(code, name, str(entry.get("kind", "test")).lower())
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def merge_processes(base: Iterable[ProcessInfo], extra: Iterable[ProcessInfo]) -> tuple[ProcessInfo, ...]:
    """``base`` with ``extra`` added; an extra process replaces a base one with the same code."""
    merged = {process.code: process for process in base}
    merged.update((process.code, process) for process in extra)
    return tuple(sorted(merged.values(), key=lambda process: process.code))
