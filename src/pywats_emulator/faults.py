"""Fault injection: the ways a real WATS server (or the network in front of it) lets a client down.

Only ``/api`` requests are affected; the HTML pages and ``/_emulator`` admin endpoints always work. For each
``/api`` request, in this order:

1. **latency** (``latency_ms``): the request waits that long first, whatever happens next.
2. **outage** (``outage``): every request is answered ``error_status`` (503) with ``Retry-After``.
3. **error** (``error_rate``): that share of requests is answered the same way, before any processing.
4. **hang** (``hang_rate``, ``hang_s``): the request is read, then held for ``hang_s`` seconds (or until
   the client gives up) before it is handled normally. A client that times out may still find its report
   stored, as on a slow real server.
5. **drop** (``drop_rate``): the request is handled completely (a report IS stored), then the client gets
   the response headers, promising a body, and the connection is closed: it sees a protocol error and
   cannot know the upload succeeded. Resending must overwrite, never duplicate.

Rates are between 0 and 1. Every request draws the same three random numbers (error, hang, drop) from one
generator, so with a ``seed`` the same sequence of requests meets the same faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
from dataclasses import dataclass
from typing import Any

from .asgi import Message, Receive, Scope, Send, is_api_path, send_json

FAULT_KINDS = ("latency", "outage", "error", "hang", "drop")


@dataclass(frozen=True)
class FaultConfig:
    """The faults to inject. All off by default.

    Args:
        latency_ms: delay added to every ``/api`` request.
        error_rate: share of requests answered ``error_status`` without being processed.
        error_status: status of injected errors and of the outage: 503, or 429/500/502/504.
        retry_after_s: ``Retry-After`` seconds sent with injected errors; ``None`` sends none.
        drop_rate: share of requests processed, then cut off after the response headers.
        hang_rate: share of requests held for ``hang_s`` seconds before being handled.
        hang_s: how long a hanging request is held.
        outage: answer every ``/api`` request with ``error_status``.
        seed: seed of the random draws; ``None`` draws differently on every run.
    """

    latency_ms: float = 0
    error_rate: float = 0
    error_status: int = 503
    retry_after_s: int | None = 1
    drop_rate: float = 0
    hang_rate: float = 0
    hang_s: float = 30
    outage: bool = False
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate", "hang_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number from 0 to 1, not {value!r}")
        for name in ("latency_ms", "hang_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number of at least 0, not {value!r}")
        if self.error_status not in (429, 500, 502, 503, 504):
            raise ValueError(f"error_status must be 429, 500, 502, 503 or 504, not {self.error_status!r}")
        if self.retry_after_s is not None and (
            isinstance(self.retry_after_s, bool) or not isinstance(self.retry_after_s, int) or self.retry_after_s < 0
        ):
            raise ValueError(f"retry_after_s must be a whole number of seconds or null, not {self.retry_after_s!r}")
        if not isinstance(self.outage, bool):
            raise ValueError(f"outage must be true or false, not {self.outage!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"seed must be a whole number or null, not {self.seed!r}")

    def replace(self, **changes: Any) -> FaultConfig:
        """A copy with ``changes`` applied and checked.

        Raises:
            ValueError: an unknown field or a value out of range.
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request."""

    latency_s: float = 0
    unavailable: str | None = None  # "outage" or "error"
    hang_s: float = 0
    drop: bool = False


class FaultInjector:
    """The current fault settings, the random generator and a count of the faults injected.

    Thread-safe: the settings change from admin requests while uploads draw their plans.
    """

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._random = random.Random(self._config.seed)
        self._counts = dict.fromkeys(FAULT_KINDS, 0)

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, **changes: Any) -> FaultConfig:
        """Change some settings; giving ``seed`` (even the same one) restarts the random sequence."""
        with self._lock:
            self._config = self._config.replace(**changes)
            if "seed" in changes:
                self._random = random.Random(self._config.seed)
            return self._config

    def reset(self, config: FaultConfig | None = None) -> FaultConfig:
        """Replace every setting (default: all faults off) and restart the random sequence."""
        with self._lock:
            self._config = config or FaultConfig()
            self._random = random.Random(self._config.seed)
            return self._config

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear_counts(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(FAULT_KINDS, 0)

    def plan(self) -> FaultPlan:
        """Decide the faults of the next request (always three draws, so seeded runs repeat)."""
        with self._lock:
            config = self._config
            error_draw, hang_draw, drop_draw = (self._random.random() for _ in range(3))
            unavailable = "outage" if config.outage else "error" if error_draw < config.error_rate else None
            plan = FaultPlan(
                latency_s=config.latency_ms / 1000,
                unavailable=unavailable,
                hang_s=config.hang_s if not unavailable and hang_draw < config.hang_rate else 0,
                drop=not unavailable and drop_draw < config.drop_rate,
            )
            for kind, happened in (
                ("latency", plan.latency_s > 0), ("outage", unavailable == "outage"),
                ("error", unavailable == "error"), ("hang", plan.hang_s > 0), ("drop", plan.drop),
            ):  # fmt: skip
                self._counts[kind] += happened
            return plan


class FaultMiddleware:
    """ASGI middleware that applies a :class:`FaultInjector`'s plan to every ``/api`` request."""

    def __init__(self, app: Any, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        plan = self.injector.plan()
        if plan.latency_s:
            await asyncio.sleep(plan.latency_s)
        if plan.unavailable:
            await self._unavailable(send, plan.unavailable)
            return
        if plan.hang_s:
            receive = await _hang(receive, plan.hang_s)
        if plan.drop:
            await self._drop(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _unavailable(self, send: Send, kind: str) -> None:
        config = self.injector.config
        message = (
            "The server is unavailable (emulated outage)." if kind == "outage"
            else "The server could not handle the request (emulated error)."
        )  # fmt: skip
        headers = [(b"retry-after", str(config.retry_after_s).encode())] if config.retry_after_s is not None else []
        await send_json(send, config.error_status, {"Message": message}, headers)

    async def _drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Let the app do all its work (the report is committed), keep its answer, then send only the
        # headers and return: uvicorn closes a connection whose response is incomplete.
        start: Message = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
        headers.append((b"content-length", str(max(len(body), 1)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})


async def _hang(receive: Receive, seconds: float) -> Receive:
    """Read the whole request, wait ``seconds`` or until the client disconnects, and replay it."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    disconnected = messages[-1]["type"] == "http.disconnect"
    if not disconnected:
        try:
            # After the body, receive() returns only when the client goes away.
            await asyncio.wait_for(receive(), timeout=seconds)
            disconnected = True
        except asyncio.TimeoutError:
            pass

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"} if disconnected else await receive()

    return replay
