"""How ONE domain class serves both the sync and the async client.

A domain (``api.report``, ``api.process``...) is a class whose public methods are marked ``@endpoint`` and
*describe* their work instead of doing it: each returns an :class:`~pywats._ops.Op` (one request) or a *flow*
(a generator that yields ``Op`` objects and returns a result). Nothing in a domain does I/O or knows whether
it is sync or async. The client a domain is attached to runs the work:

- ``pyWATS`` (sync): ``api.report.get(id)`` builds the ``Op``, sends it with ``httpx.Client``, returns the report;
- ``AsyncWATS`` (async): the very same method is an ``async def``: ``await api.report.get(id)``.

So a domain is defined once, with no generated twin and no hidden event loop, and its logic (parameter
checks, paths, parsing, caching decisions) is shared to the line. The only code written twice is the ~100-line
request loop in :mod:`pywats._client`.

A flow looks like this::

    @endpoint
    def code_for(self, name: str) -> Flow[int]:
        if self._stale():
            processes = yield get_processes_op()     # the client sends it, sends back the parsed result
            self._store(processes)
        return self._lookup(name)

Adding a domain: write ``pywats/domains/<name>.py`` with a ``Domain`` subclass of ``@endpoint`` methods and
its pydantic answer models (``ApiModel``), then add it to :class:`pywats.domains.Domains` (two lines).

Typing: ``Domain`` is generic in its mode (``Sync`` or ``Async``); ``endpoint.__get__`` is overloaded on it, so
a type checker sees ``pyWATS().report.get(...) -> UUTReport | UURReport`` and
``AsyncWATS().report.get(...) -> Awaitable[UUTReport | UURReport]``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Generator
from typing import TYPE_CHECKING, Any, Callable, Concatenate, Generic, ParamSpec, TypeVar, Union, overload

from .._ops import Op

if TYPE_CHECKING:
    from .._base_client import BaseClient

T = TypeVar("T")
P = ParamSpec("P")

Flow = Generator[Op[Any], Any, T]
"""A multi-request endpoint: yields ``Op`` objects, receives their parsed results, returns the answer."""

Work = Union[Op[T], Flow[T]]


class Sync:
    """Mode marker: methods return their result."""


class Async:
    """Mode marker: methods are coroutines."""


M = TypeVar("M", Sync, Async)


class Runner(Generic[M]):
    """Something that runs ``Op`` objects and flows: a client, or a domain attached to one."""

    is_async: bool = False

    def _run(self, work: Work[Any]) -> Any:  # pragma: no cover - the clients define it
        raise NotImplementedError


class Domain(Runner[M]):
    """Base of the domain services. Holds its client; runs its work through it.

    Domain state (a cache) lives on the domain instance; one instance exists per client.
    """

    def __init__(self, client: BaseClient) -> None:
        self._client = client
        self.is_async = client.is_async

    def _run(self, work: Work[Any]) -> Any:
        return self._client._run(work)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


class endpoint(Generic[P, T]):
    """Marks a method that returns an ``Op`` or a flow; on an instance it becomes the call that runs it.

    The bound function is cached on the instance. It also carries ``.build(*args, **kwargs)``, which returns
    the ``Op`` or flow without running it: handy in tests and to see what a call would send.
    """

    def __init__(self, function: Callable[Concatenate[Any, P], Work[T]]) -> None:
        self._function = function
        self._name = function.__name__
        functools.update_wrapper(self, function)  # type: ignore[arg-type]

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"<endpoint {self._function.__qualname__}>"

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> endpoint[P, T]: ...

    @overload
    def __get__(self, instance: Runner[Sync], owner: type | None = None) -> Callable[P, T]: ...

    @overload
    def __get__(self, instance: Runner[Async], owner: type | None = None) -> Callable[P, Awaitable[T]]: ...

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        function = self._function

        if instance.is_async:

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                # Building happens inside the coroutine, so argument errors surface at ``await`` like any other.
                return await instance._run(function(instance, *args, **kwargs))

            bound: Any = run_async
        else:

            @functools.wraps(function)
            def run_sync(*args: Any, **kwargs: Any) -> Any:
                return instance._run(function(instance, *args, **kwargs))

            bound = run_sync
        bound.build = functools.partial(function, instance)
        # A non-data descriptor: the instance attribute shadows it from now on, so binding happens once.
        instance.__dict__[self._name] = bound
        return bound


def run_flow_step(flow: Flow[Any], send: Any = None, throw: BaseException | None = None) -> Op[Any] | _Done:
    """Advance ``flow`` by one step: the next ``Op`` to send, or ``_Done`` with its return value.

    Both clients drive flows with this, so the generator protocol (``send``/``throw``/``StopIteration``) is
    handled in one place.
    """
    try:
        step = flow.throw(throw) if throw is not None else flow.send(send)
    except StopIteration as stop:
        return _Done(stop.value)
    if not isinstance(step, Op):
        flow.close()
        raise TypeError(f"a flow must yield Op objects, not {type(step).__name__}")
    return step


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Done = _Done

__all__ = ["Async", "Domain", "Done", "Flow", "Runner", "Sync", "Work", "endpoint", "run_flow_step"]
