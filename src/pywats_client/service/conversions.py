"""Running conversions off the event loop, at most N at once, each within its time limit.

Conversions are CPU work on bytes already read, so they run on a thread pool. A conversion that overruns its
time limit is abandoned: the source goes to the error folder, and since a Python thread cannot be stopped, the
pool is replaced so the stuck thread cannot hold up the next files (it is logged; it ends when the converter
does). Converters loaded from user files run in a subprocess sandbox instead, which is killed at the limit
(:mod:`pywats_client.converters.sandbox`).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from ..converters import ConverterCrashed

T = TypeVar("T")
log = logging.getLogger("pywats_client.service")


class ConversionPool:
    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._executor = self._new_executor()
        self._slots = asyncio.Semaphore(concurrency)

    def _new_executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="pywats-convert")

    @property
    def concurrency(self) -> int:
        return self._concurrency

    def resize(self, concurrency: int) -> None:
        """Use ``concurrency`` slots from now on (work already running finishes where it is)."""
        if concurrency == self._concurrency:
            return
        self._concurrency = concurrency
        old, self._executor = self._executor, self._new_executor()
        self._slots = asyncio.Semaphore(concurrency)
        old.shutdown(wait=False)

    async def run(self, work: Callable[[], T], *, timeout: float, what: str) -> T:
        """``work()`` on the pool, within ``timeout`` seconds.

        Raises:
            ConverterCrashed: it took longer.
        """
        slots, executor = self._slots, self._executor
        async with slots:
            future = asyncio.get_running_loop().run_in_executor(executor, work)
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout)
            except asyncio.TimeoutError:
                log.error("%s: still converting after %.0f s; abandoned (its thread ends when the converter does)",
                          what, timeout)  # fmt: skip
                if executor is self._executor:
                    self._executor = self._new_executor()
                    executor.shutdown(wait=False)
                raise ConverterCrashed(f"the conversion took longer than {timeout:g} s and was abandoned") from None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["ConversionPool"]
