"""Where an instance keeps its things. Every instance (``--instance NAME``, default ``default``) has a folder of
its own holding its configuration, queue, logs, lock and default watch / done / error folders:

==================  ===============================================================================
``config.json``     the configuration (:mod:`pywats_client.config`), 0600
``queue.db``        the durable report queue (:mod:`pywats_client.queue`), SQLite in WAL mode
``logs/``           rotating log files
``service.lock``    held by the running service (:mod:`pywats_client.lock`)
``watch/<name>/``   default watch folder of converter ``<name>`` (``done/<name>``, ``error/<name>`` likewise)
==================  ===============================================================================

The folder is ``$PYWATS_HOME/instances/<name>`` when ``PYWATS_HOME`` is set (tests and scripts use it), else
the per-user data folder platformdirs gives (``~/.local/share/pywats/instances/<name>`` on Linux,
``%LOCALAPPDATA%\\pywats\\instances\\<name>`` on Windows, ``~/Library/Application Support/pywats/...`` on macOS).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DEFAULT_INSTANCE = "default"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def check_instance_name(name: str) -> str:
    """``name`` if it is a valid instance name (letters, digits, ``_ . -``; at most 40), else ValueError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(
            f"instance name {name!r} is not valid: use 1-40 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit"
        )
    return name


def home() -> Path:
    """The folder that holds every instance's folder (``instances/`` below it)."""
    configured = os.environ.get("PYWATS_HOME")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("pywats", appauthor=False)


@dataclass(frozen=True)
class InstancePaths:
    """The paths of one instance. Nothing is created until :meth:`ensure` is called."""

    name: str
    root: Path

    @classmethod
    def of(cls, name: str = DEFAULT_INSTANCE) -> InstancePaths:
        return cls(check_instance_name(name), home() / "instances" / name)

    @property
    def config_file(self) -> Path:
        return self.root / "config.json"

    @property
    def queue_db(self) -> Path:
        return self.root / "queue.db"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def lock_file(self) -> Path:
        return self.root / "service.lock"

    def watch_dir(self, converter: str) -> Path:
        return self.root / "watch" / converter

    def done_dir(self, converter: str) -> Path:
        return self.root / "done" / converter

    def error_dir(self, converter: str) -> Path:
        return self.root / "error" / converter

    def ensure(self) -> InstancePaths:
        """Create the instance folder and its log folder (owner-only on POSIX)."""
        for folder in (self.root, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                os.chmod(folder, 0o700)
        return self


def list_instances() -> list[str]:
    """The names of the instances that have a folder, sorted."""
    folder = home() / "instances"
    if not folder.is_dir():
        return []
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and _NAME.fullmatch(entry.name))


__all__ = ["DEFAULT_INSTANCE", "InstancePaths", "check_instance_name", "home", "list_instances"]
