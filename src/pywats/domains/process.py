"""``api.process``: the server's processes (test, repair and WIP operations), and a cache to look them up.

Every report carries a process code (``processCode``); people and station configs know processes by name
("ICT", "Final Function Test"). ``code_for`` and ``name_for`` translate, from a cache of
``GET /api/App/Processes`` kept on the client:

- the cache loads on the first lookup and again when it is older than ``max_age`` (an hour by default);
- a name or code that is not in the cache reloads it once, unless it was loaded less than
  ``min_refresh_interval`` seconds ago (a process created on the server a minute ago is found; a typo does
  not turn every lookup into a request);
- :meth:`ProcessService.refresh` reloads it now.

The cache holds active and inactive processes (so an old report's code still has a name); names are compared
exactly, as WATS compares them. A name or code that is still unknown raises ``ProcessNotFoundError``
(``ErrorMode.STRICT``) or gives ``None`` (``ErrorMode.LENIENT``).

Each lookup is a flow (:mod:`pywats.domains._domain`), so the same code serves both clients:
``api.process.code_for("ICT")`` and ``await api.process.code_for("ICT")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._base_client import ErrorMode
from .._exceptions import ProcessNotFoundError
from .._ops import Op, json_as
from ._domain import Domain, Flow, M, endpoint
from ._models import ApiModel

if TYPE_CHECKING:
    from .._base_client import BaseClient


class Process(ApiModel):
    """A process (WATS operation type). Fields WATS adds beyond these are kept as extras."""

    code: int
    name: str
    description: str | None = None
    is_test_operation: bool | None = None
    is_repair_operation: bool | None = None
    is_wip_operation: bool | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class ProcessCache:
    """One loaded list of processes, indexed. Replaced whole on reload, so readers never see it half-built."""

    processes: tuple[Process, ...]
    loaded_at: float
    by_name: dict[str, Process] = field(default_factory=dict)
    by_code: dict[int, Process] = field(default_factory=dict)

    @classmethod
    def of(cls, processes: list[Process], loaded_at: float) -> ProcessCache:
        by_name: dict[str, Process] = {}
        by_code: dict[int, Process] = {}
        for process in processes:
            by_code.setdefault(process.code, process)
            known = by_name.get(process.name)
            # A name used by an inactive and an active process means the active one; otherwise the first listed.
            if known is None or (known.is_active is False and process.is_active is not False):
                by_name[process.name] = process
        return cls(tuple(processes), loaded_at, by_name, by_code)


class ProcessService(Domain[M]):
    """Processes: ``api.process``.

    Attributes:
        max_age: seconds after which a lookup reloads the cache; None keeps it until :meth:`refresh`.
        min_refresh_interval: a lookup that misses reloads the cache only if it is older than this.
    """

    max_age: float | None = 3600.0
    min_refresh_interval: float = 60.0

    def __init__(self, client: BaseClient) -> None:
        super().__init__(client)
        self._cache: ProcessCache | None = None

    @endpoint
    def get_processes(
        self,
        *,
        include_test_operations: bool | None = None,
        include_repair_operations: bool | None = None,
        include_wip_operations: bool | None = None,
        include_inactive_processes: bool | None = None,
    ) -> Op[list[Process]]:
        """The server's processes. With no arguments WATS lists the active test, repair and WIP operations.

        >>> [p.name for p in api.process.get_processes(include_repair_operations=True)]
        """
        params = {
            "includeTestOperations": include_test_operations,
            "includeRepairOperations": include_repair_operations,
            "includeWipOperations": include_wip_operations,
            "includeInactiveProcesses": include_inactive_processes,
        }
        return Op("GET", "/api/App/Processes", params=params, parser=json_as(list[Process]))

    @endpoint
    def refresh(self) -> Flow[list[Process]]:
        """Reload the cache now; returns the processes loaded."""
        cache = yield from self._load()
        return list(cache.processes)

    @endpoint
    def code_for(self, name: str) -> Flow[int | None]:
        """The code of the process called ``name`` (exact match), from the cache.

        >>> api.process.code_for("ICT")
        20
        """
        process = yield from self._find(lambda cache: cache.by_name.get(name), f"no process named {name!r}")
        return process.code if process is not None else None

    @endpoint
    def name_for(self, code: int) -> Flow[str | None]:
        """The name of the process with ``code``, from the cache."""
        process = yield from self._find(lambda cache: cache.by_code.get(code), f"no process with code {code!r}")
        return process.name if process is not None else None

    @property
    def cached(self) -> list[Process]:
        """The processes in the cache, without asking the server ([] before the first load)."""
        return list(self._cache.processes) if self._cache is not None else []

    def clear_cache(self) -> None:
        """Forget the cache; the next lookup loads it."""
        self._cache = None

    # -- flows' building blocks --------------------------------------------------------------------------------

    def _load(self) -> Flow[ProcessCache]:
        op = self.get_processes.build(  # type: ignore[attr-defined]
            include_test_operations=True,
            include_repair_operations=True,
            include_wip_operations=True,
            include_inactive_processes=True,
        )
        processes = yield op
        self._cache = cache = ProcessCache.of(processes or [], self._client._clock())
        return cache

    def _age(self, cache: ProcessCache) -> float:
        return self._client._clock() - cache.loaded_at

    def _find(self, lookup, missing: str) -> Flow[Process | None]:  # type: ignore[no-untyped-def]
        cache = self._cache
        if cache is None or (self.max_age is not None and self._age(cache) > self.max_age):
            cache = yield from self._load()
        found = lookup(cache)
        if found is None and self._age(cache) >= self.min_refresh_interval:
            cache = yield from self._load()
            found = lookup(cache)
        if found is None and self._client.error_mode is ErrorMode.STRICT:
            raise ProcessNotFoundError(f"{missing} on {self._client.base_url}")
        return found


__all__ = ["Process", "ProcessCache", "ProcessService"]
