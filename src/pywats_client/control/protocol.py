"""What the control API's server and clients agree on: version, token, and where to find a running service.

- **Protocol version** ``MAJOR.MINOR`` in every response (header ``X-PyWATS-Protocol``). A client refuses a
  server of another major version; minor versions only add.
- **Token**: a random per-instance token in ``<instance>/control.token`` (0600), made on the first start, sent as
  ``Authorization: Bearer <token>``. Only the user that runs the service can read it.
- **Endpoint file** ``<instance>/control.json``, written by a running service: where its control API listens
  (``socket``: a Unix socket path on Linux and macOS; ``port``: a localhost port on Windows), its health URL
  and its pid. Removed when the service stops.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from ..config import write_private
from ..instance import InstancePaths

PROTOCOL_VERSION = "1.0"
PROTOCOL_HEADER = "X-PyWATS-Protocol"
CAPABILITIES = (
    "ping", "status", "config.get", "config.set", "service.start", "service.stop", "service.restart",
    "service.pause", "service.resume", "sync", "queue.list", "queue.show", "queue.retry", "queue.drop",
    "converters.test", "converters.reload", "logs.tail", "events",
)  # fmt: skip
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 104-108 bytes depending on the OS


class ControlError(RuntimeError):
    """A control API call failed; ``status`` is the HTTP status when the service answered."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def token_file(paths: InstancePaths) -> Path:
    return paths.root / "control.token"


def endpoint_file(paths: InstancePaths) -> Path:
    return paths.root / "control.json"


def ensure_token(paths: InstancePaths) -> str:
    """The instance's control token, made (0600) if there is none yet."""
    path = token_file(paths)
    try:
        token = path.read_text(encoding="ascii").strip()
        if len(token) >= 32:
            return token
    except (OSError, UnicodeDecodeError):
        pass
    token = secrets.token_urlsafe(32)
    write_private(path, token + "\n")
    return token


def read_token(paths: InstancePaths) -> str | None:
    try:
        return token_file(paths).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def socket_path(paths: InstancePaths) -> Path:
    """Where the service's Unix socket goes: in the instance folder, or (when that path is too long for a
    socket) in a private folder under the temp directory, named by a hash of the instance folder."""
    preferred = paths.root / "control.sock"
    if len(os.fsencode(preferred)) <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(os.fsencode(paths.root.resolve())).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"pywats-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    return folder / f"{digest}.sock"


def write_endpoint(paths: InstancePaths, endpoint: dict[str, Any]) -> None:
    write_private(endpoint_file(paths), json.dumps(endpoint, indent=2) + "\n")


def read_endpoint(paths: InstancePaths) -> dict[str, Any] | None:
    try:
        data = json.loads(endpoint_file(paths).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_endpoint(paths: InstancePaths) -> None:
    endpoint_file(paths).unlink(missing_ok=True)


def compatible(server_version: str) -> bool:
    """Whether a server speaking ``server_version`` can be used by this client (same major version)."""
    return server_version.split(".", 1)[0] == PROTOCOL_VERSION.split(".", 1)[0]


__all__ = [
    "CAPABILITIES", "PROTOCOL_HEADER", "PROTOCOL_VERSION", "ControlError", "compatible", "endpoint_file",
    "ensure_token", "read_endpoint", "read_token", "remove_endpoint", "socket_path", "token_file", "write_endpoint",
]  # fmt: skip
