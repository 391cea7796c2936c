"""Run one scenario with either client: the domain tests are written once as ``async def scenario(api)``.

``await call(api.product.get_product("X"))`` awaits with ``AsyncWATS`` and passes the value through with
``pyWATS``; for the sync client the scenario then never suspends and runs to the end in one ``send``. Each
test is parametrised with :data:`MODES`, so every method is exercised by both clients over loopback HTTP.
"""

from __future__ import annotations

from typing import Any, Callable

import pywats

MODES = ("sync", "async")


async def call(value: Any) -> Any:
    """The result of a client call, whichever client made it."""
    if hasattr(value, "__await__"):
        return await value
    return value


async def run(mode: str, server: Any, scenario: Callable[[Any], Any], **options: Any) -> Any:
    """``scenario(api)`` against ``server`` with a fresh client of kind ``mode``, closed afterwards."""
    options.setdefault("rate_limit", None)
    if mode == "sync":
        with pywats.pyWATS(server.url, server.token, **options) as api:
            coroutine = scenario(api)
            try:
                coroutine.send(None)
            except StopIteration as stop:
                return stop.value
            coroutine.close()
            raise AssertionError("a sync scenario suspended: it awaited something that is not a client call")
    async with pywats.AsyncWATS(server.url, server.token, **options) as api:
        return await scenario(api)
