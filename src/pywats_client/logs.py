"""Logging of a running instance: a rotating file per instance, plain text or JSON lines, and stderr.

Every record carries a ``correlation_id`` ("-" when it belongs to no source file): the id the intake gives a
source file, which follows it through pickup, conversion, queue and upload, so ``grep <id>`` tells one file's
whole story. Levels: DEBUG for detail, INFO for each file and upload, WARNING for what the service rides out
(a retry, a file it could not move), ERROR for what a person must act on (a rejected report, a held queue),
CRITICAL for what stops the service.

Secrets never reach a log line: :class:`RedactSecrets` replaces every registered secret (the API token, the
control token) in the formatted message and in exception text with ``********``.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

LOGGERS = ("pywats", "pywats_client")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RedactSecrets(logging.Filter):
    """Replaces registered secrets in every record that passes through it."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "********")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = "-"
        if self._secrets:
            message = self.scrub(record.getMessage())
            record.msg, record.args = message, None
            if record.exc_info:
                formatted = logging.Formatter().formatException(record.exc_info)
                record.exc_text = self.scrub(formatted)
                record.exc_info = None
        return True


REDACT = RedactSecrets()
"""The process-wide secret filter (secrets are registered by the service as it learns them)."""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation_id, and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in data and not key.startswith("_"):
                data[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_text or record.exc_info:
            data["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(data, ensure_ascii=False)


PLAIN = "%(asctime)s %(levelname)-8s %(name)s [%(correlation_id)s] %(message)s"


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else logging.Formatter(PLAIN)


class InstanceLogging:
    """The handlers of one running instance; :meth:`close` removes them again (tests run many instances)."""

    def __init__(self, log_dir: Path, *, level: str = "INFO", kind: str = "plain", stderr: bool = True,
                 max_bytes: int = 10 * 1024 * 1024, backups: int = 5) -> None:  # fmt: skip
        log_dir.mkdir(parents=True, exist_ok=True)
        self.file = log_dir / "service.log"
        self._handlers: list[logging.Handler] = [
            logging.handlers.RotatingFileHandler(self.file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        ]
        if stderr:
            self._handlers.append(logging.StreamHandler(sys.stderr))
        for handler in self._handlers:
            handler.addFilter(REDACT)
        self.configure(level=level, kind=kind)
        for name in LOGGERS:
            logger = logging.getLogger(name)
            for handler in self._handlers:
                logger.addHandler(handler)

    def configure(self, *, level: str, kind: str) -> None:
        """Apply a new level and format (a configuration reload)."""
        for handler in self._handlers:
            handler.setFormatter(formatter(kind))
        for name in LOGGERS:
            logging.getLogger(name).setLevel(level)

    def close(self) -> None:
        for name in LOGGERS:
            logger = logging.getLogger(name)
            for handler in self._handlers:
                logger.removeHandler(handler)
        for handler in self._handlers:
            handler.close()


__all__ = ["REDACT", "InstanceLogging", "JsonFormatter", "RedactSecrets", "formatter"]
