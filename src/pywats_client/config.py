"""The configuration of one instance: a pydantic-settings model saved as JSON.

Where values come from, the first one found winning:

1. the environment: ``PYWATS_<KEY>`` for every top-level key (``PYWATS_SERVER_URL``, ``PYWATS_API_TOKEN``,
   ``PYWATS_INSTANCE_ID``, ``PYWATS_UPLOAD_CONCURRENCY``...), ``PYWATS_STATION__NAME`` for nested ones;
2. the instance's ``config.json``;
3. the defaults below.

Command-line flags are applied by the CLI on top (:func:`apply_overrides`). The file is written atomically
(temporary file, fsync, rename) with owner-only permissions, and carries ``schema_version``. The API token is
never written in clear: :func:`save` seals it (system keyring, or encrypted with a machine-bound key, see
:mod:`pywats_client.secrets`) and :func:`load_file` unseals it. Every error names
the key and the rule it broke (:class:`ConfigError`). Values from the environment are never written back to the
file: editing commands work on the file's own values (:func:`load_file`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pywats import Station

from . import secrets
from .instance import InstancePaths

SCHEMA_VERSION = 1
_CONVERTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
PostAction = Literal["move", "delete", "zip", "keep"]


class _Unsealable:
    """Stands in for a sealed token that cannot be unsealed here; validation then says why (a ``config set
    api_token`` simply replaces it)."""

    def __init__(self, message: str) -> None:
        self.message = message


class ConfigError(ValueError):
    """A configuration is invalid or unreadable. ``problems`` lists each ``key: rule`` found."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or [message]
        super().__init__(message)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StationConfig(_Section):
    """Who the reports come from: ``name`` becomes a report's ``machineName`` when the file gives none."""

    name: str = Field(default_factory=lambda: socket.gethostname()[:100] or "station", min_length=1, max_length=100)
    location: str = Field("", max_length=100)
    purpose: str = Field("", max_length=100)

    def station(self) -> Station:
        return Station(self.name, self.location, self.purpose)


class ConverterConfig(_Section):
    """One watch folder and the converter that reads what lands in it.

    Folders left out default to the instance's ``watch/<name>``, ``done/<name>`` and ``error/<name>``.
    """

    name: str = Field(description="unique name of this entry (also the default folder names)")
    converter: str = Field(description="built-in name, package.module:Class, or path/to/file.py::Class")
    enabled: bool = True
    watch: Path | None = Field(None, description="the folder to watch")
    recursive: bool = Field(False, description="also watch sub-folders")
    patterns: list[str] | None = Field(None, description="file name patterns; default: the converter's own")
    done: Path | None = Field(None, description="where converted files go (post_action move or zip)")
    error: Path | None = Field(None, description="where files that failed to convert go, with a .error.txt")
    post_action: PostAction = Field("move", description="what happens to a converted file: move, delete, zip, keep")
    ready_marker: str | None = Field(
        None, description="take a file only once '<file><marker>' exists (e.g. '.done'); the marker is removed after"
    )
    arguments: dict[str, Any] = Field(default_factory=dict, description="the converter's arguments")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="longest time one conversion may take")
    sandbox: bool | None = Field(
        None, description="run the converter in a subprocess with time and memory limits; default: for converters "
        "loaded from a file"
    )

    @field_validator("name")
    @classmethod
    def _name_ok(cls, value: str) -> str:
        if not _CONVERTER_NAME.fullmatch(value):
            raise ValueError("use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        return value

    @field_validator("patterns")
    @classmethod
    def _patterns_ok(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not pattern.strip() for pattern in value)):
            raise ValueError("give at least one non-empty pattern, or leave patterns out")
        return value

    @field_validator("ready_marker")
    @classmethod
    def _marker_ok(cls, value: str | None) -> str | None:
        if value is not None and (not value or "/" in value or "\\" in value):
            raise ValueError("a marker is a file name suffix such as '.done'")
        return value

    def folders(self, paths: InstancePaths) -> tuple[Path, Path, Path]:
        """``(watch, done, error)`` with the instance defaults filled in, relative paths taken from the
        instance folder."""
        def resolve(value: Path | None, default: Path) -> Path:
            if value is None:
                return default
            value = value.expanduser()
            return value if value.is_absolute() else paths.root / value

        return (resolve(self.watch, paths.watch_dir(self.name)), resolve(self.done, paths.done_dir(self.name)),
                resolve(self.error, paths.error_dir(self.name)))  # fmt: skip


class ClientConfig(BaseSettings):
    """Everything one instance is told. See ``docs/configuration.md`` for each key."""

    model_config = SettingsConfigDict(
        env_prefix="PYWATS_", env_nested_delimiter="__", extra="forbid", validate_assignment=True,
        case_sensitive=False,
    )  # fmt: skip

    schema_version: int = SCHEMA_VERSION
    instance_id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=100)

    server_url: str | None = Field(None, description="the WATS server, e.g. https://acme.wats.com")
    api_token: SecretStr | None = Field(None, description="the API token from WATS Control Panel → Tokens")
    station: StationConfig = Field(default_factory=StationConfig)
    converters: list[ConverterConfig] = Field(default_factory=list)

    upload_concurrency: int = Field(5, ge=1, le=64, description="reports uploaded at the same time")
    conversion_concurrency: int = Field(10, ge=1, le=64, description="files converted at the same time")
    request_timeout_s: float = Field(60.0, gt=0, le=600, description="longest wait for one server answer")
    rate_limit_per_minute: int | None = Field(
        None, ge=1, description="most requests per minute to the server; null: no limit of our own"
    )
    retry_base_s: float = Field(1.0, gt=0, le=600, description="backoff scale of failed uploads")
    retry_cap_s: float = Field(300.0, gt=0, le=86_400, description="longest wait between two upload attempts")
    circuit_failure_threshold: int = Field(5, ge=1, le=1000, description="failures in a row that open the breaker")
    circuit_recovery_s: float = Field(30.0, gt=0, le=3600, description="wait before probing a failing server")
    hold_recheck_s: float = Field(60.0, gt=0, le=86_400, description="how often a held queue re-checks the server")

    rescan_interval_s: float = Field(30.0, ge=0.2, le=3600, description="full rescan of every watch folder")
    stability_window_s: float = Field(0.5, ge=0, le=600, description="a file must be unchanged this long to be taken")
    polling: bool = Field(False, description="poll watch folders instead of using file events (network shares)")
    polling_interval_s: float = Field(2.0, ge=0.1, le=600, description="how often polling looks")

    max_queue_size: int = Field(100_000, ge=1, description="reports waiting at most; intake stops beyond")
    disk_reserve_mb: float = Field(200.0, ge=0, description="free disk kept; intake stops below it")
    done_retention_days: float = Field(30.0, ge=0, description="how long uploaded reports stay in the ledger")

    ping_interval_s: float = Field(60.0, gt=0, le=86_400, description="how often the server is pinged")
    control_rate_per_minute: int = Field(100, ge=1, description="control API requests a minute before 429")
    control_burst: int = Field(20, ge=1, description="control API requests allowed at once above the rate")
    control_port: int = Field(0, ge=0, le=65535, description="Windows: the control API's localhost port (0: any free)")
    health_host: str = Field("127.0.0.1", description="address of the health and metrics endpoints")
    health_port: int | None = Field(0, ge=0, le=65535, description="their port: 0 picks a free one, null turns them off")
    health_queue_age_s: float = Field(3600.0, gt=0, description="a report waiting longer makes /health/details degraded")
    shutdown_timeout_s: float = Field(20.0, ge=0, le=600, description="time in-flight work gets at shutdown")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:  # fmt: skip
        return (env_settings, init_settings)  # the environment beats the file

    @field_validator("api_token", mode="before")
    @classmethod
    def _token_readable(cls, value: Any) -> Any:
        if isinstance(value, _Unsealable):
            raise ValueError(value.message)
        return value

    @field_validator("server_url")
    @classmethod
    def _url_ok(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// address, e.g. https://acme.wats.com")
        return value

    @field_validator("schema_version")
    @classmethod
    def _schema_ok(cls, value: int) -> int:
        if value > SCHEMA_VERSION:
            raise ValueError(f"this configuration was written by a newer pywats (schema {value}; this one reads "
                             f"up to {SCHEMA_VERSION})")  # fmt: skip
        return value

    @model_validator(mode="after")
    def _unique_converters(self) -> ClientConfig:
        seen: set[str] = set()
        for index, entry in enumerate(self.converters):
            if entry.name in seen:
                raise ValueError(f"converters[{index}].name: {entry.name!r} is used twice")
            seen.add(entry.name)
        return self

    @property
    def token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token is not None else None

    def converter(self, name: str) -> ConverterConfig:
        for entry in self.converters:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def file_dict(self) -> dict[str, Any]:
        """The configuration as saved: JSON values, the token in clear (the file is owner-only)."""
        data = self.model_dump(mode="json", exclude_none=False)
        data["api_token"] = self.token
        return data

    def masked_dict(self) -> dict[str, Any]:
        """The configuration for showing: the token replaced by ``"********"`` (or None when unset)."""
        data = self.model_dump(mode="json")
        data["api_token"] = "********" if self.api_token is not None else None
        return data


class _FileOnlyConfig(ClientConfig):
    """The same model reading only the values given (no environment): for checking and editing the file."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:  # fmt: skip
        return (init_settings,)


def _problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        key = ""
        for part in item["loc"]:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a configuration key"
        problems.append(f"{key}: {message}" if key else message)
    return problems


def validate(data: dict[str, Any], *, environment: bool = True) -> ClientConfig:
    """A validated configuration from a dict of file values (plus the environment, unless turned off).

    Raises:
        ConfigError: naming each key and the rule it broke.
    """
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a JSON object")
    try:
        return ClientConfig(**data) if environment else _FileOnlyConfig(**data)
    except ValidationError as error:
        problems = _problems(error)
        raise ConfigError("invalid configuration: " + "; ".join(problems), problems) from None
    except ValueError as error:  # pydantic-settings: an environment variable that is not valid JSON
        raise ConfigError(f"invalid configuration from the environment: {error}") from None


def _instance_of(path: Path) -> InstancePaths:
    """The instance a configuration file belongs to (its folder), for sealing its token."""
    folder = Path(path).resolve().parent
    return InstancePaths(folder.name or "default", folder)


def load_file(path: Path) -> dict[str, Any]:
    """The values saved in ``path`` ({} when it does not exist), the API token unsealed.

    Raises:
        ConfigError: the file is not readable JSON.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    token = data.get("api_token")
    if isinstance(token, str) and secrets.is_sealed(token):
        try:
            data["api_token"] = secrets.unseal(token, _instance_of(path))
        except secrets.SecretError as error:
            data["api_token"] = _Unsealable(str(error))
    return data


def load(paths: InstancePaths, *, config_file: Path | None = None, environment: bool = True) -> ClientConfig:
    """The effective configuration of an instance (file + environment)."""
    return validate(load_file(config_file or paths.config_file), environment=environment)


def save(config: ClientConfig | dict[str, Any], path: Path) -> None:
    """Write the configuration atomically with owner-only permissions (validating a dict first)."""
    if isinstance(config, dict):
        config = validate(config, environment=False)
    data = config.file_dict()
    paths = _instance_of(path)
    previous = _saved_token(Path(path))
    if data["api_token"] is not None:
        data["api_token"] = secrets.seal(data["api_token"], paths)
    if previous is not None and previous != data["api_token"]:
        secrets.forget(previous, paths)  # a keyring entry the file no longer names
    write_private(Path(path), json.dumps(data, indent=2) + "\n")


def _saved_token(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig")).get("api_token")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and secrets.is_sealed(value) else None


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if os.name == "posix":
            os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def apply_overrides(config: ClientConfig, overrides: dict[str, Any]) -> ClientConfig:
    """``config`` with top-level keys replaced (CLI flags), validated again."""
    if not overrides:
        return config
    data = config.file_dict()
    data.update(overrides)
    return validate(data, environment=False)


def set_key(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of file values with a dotted key set (``station.name``, ``converters.0.enabled``)."""
    result = json.loads(json.dumps(data))
    parts = key.split(".")
    target: Any = result
    for part in parts[:-1]:
        if isinstance(target, list):
            target = target[_index(target, part, key)]
        else:
            target = target.setdefault(part, {})
    last = parts[-1]
    if isinstance(target, list):
        target[_index(target, last, key)] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise ConfigError(f"{key}: {'.'.join(parts[:-1])} is not a section")
    return result


def get_key(data: dict[str, Any], key: str) -> Any:
    """The value at a dotted key. Raises KeyError naming the key."""
    target: Any = data
    for part in key.split("."):
        if isinstance(target, list):
            target = target[_index(target, part, key)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            raise KeyError(key)
    return target


def _index(items: list[Any], part: str, key: str) -> int:
    if not part.isdigit() or int(part) >= len(items):
        raise ConfigError(f"{key}: {part!r} is not an index of a list of {len(items)}")
    return int(part)


__all__ = [
    "SCHEMA_VERSION", "ClientConfig", "ConfigError", "ConverterConfig", "PostAction", "StationConfig",
    "apply_overrides", "get_key", "load", "load_file", "save", "set_key", "validate", "write_private",
]  # fmt: skip
