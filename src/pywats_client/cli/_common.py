"""What every command shares: the instance it works on, where output goes, and how errors end a command.

Output rules (``../shared/STYLE.md``, CLI conventions):

- data goes to stdout (:meth:`State.echo`, :meth:`State.emit_json`, :attr:`State.out` for tables);
- status, progress and errors go to stderr (:meth:`State.info` / :meth:`State.warn` / :meth:`State.error`);
- ``--json`` output is compact JSON carrying ``"version": "1"``;
- the API token is never printed: every line that leaves through these helpers is scrubbed of it.

Errors the user can act on (:data:`EXPECTED`) end the command with one red line on stderr and exit code 1;
:class:`CLIGroup` catches them for every command, so commands simply let them rise.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from typer.core import TyperGroup

from .. import config as config_module
from ..control.protocol import ControlError
from ..config import ClientConfig, ConfigError
from ..converters import (
    Conversion,
    ConversionContext,
    ConversionError,
    Converter,
    ConverterArgumentError,
    ConverterLoadError,
    SourceFile,
    SourceFolder,
    convert_source,
    load_converter_class,
)
from ..instance import InstancePaths
from ..lock import InstanceLockedError
from ..logs import LOGGERS, RedactSecrets
from ..queue import QueueError, ReportQueue
from ..service import ServiceError

MASK = "********"
JSON_VERSION = "1"

EXPECTED: tuple[type[BaseException], ...] = (
    ConfigError, QueueError, ConverterLoadError, ConverterArgumentError, ConversionError, ServiceError,
    InstanceLockedError, ControlError, OSError,
)  # fmt: skip


@dataclass
class State:
    """The global options, resolved once by the root callback and handed to every command via ``ctx.obj``."""

    paths: InstancePaths
    config_override: Path | None = None
    verbose: int = 0
    quiet: bool = False
    no_color: bool = False
    out: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))
    secrets: set[str] = field(default_factory=set)

    @property
    def instance(self) -> str:
        return self.paths.name

    @property
    def config_path(self) -> Path:
        """The configuration file commands read and write: ``--config-file``, else the instance's."""
        return self.config_override or self.paths.config_file

    # -- configuration ---------------------------------------------------------------------------------------

    def file_values(self) -> dict[str, Any]:
        """The values saved in the configuration file ({} when there is none)."""
        data = config_module.load_file(self.config_path)
        self.remember_token(data.get("api_token"))
        return data

    def load_config(self, *, environment: bool = True) -> ClientConfig:
        """The effective configuration (file + environment). Raises ConfigError naming the file."""
        data = self.file_values()
        self.remember_token(os.environ.get("PYWATS_API_TOKEN"))
        try:
            config = config_module.validate(data, environment=environment)
        except ConfigError as error:
            raise ConfigError(f"{self.config_path}: {error}", error.problems) from None
        self.remember_token(config.token)
        return config

    def save_values(self, data: dict[str, Any]) -> ClientConfig:
        """Validate file values (without the environment) and write them. Raises ConfigError, nothing saved."""
        config = config_module.validate(data, environment=False)
        self.remember_token(config.token)
        if self.config_override is None:
            self.paths.ensure()
        config_module.save(config, self.config_path)
        return config

    def remember_token(self, token: Any) -> None:
        if isinstance(token, str) and len(token.strip()) >= 4:  # shorter "secrets" would mask ordinary text
            self.secrets.add(token.strip())

    # -- output ----------------------------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def echo(self, text: str = "") -> None:
        """One piece of data on stdout, exactly as given (no wrapping, no markup)."""
        click.echo(self.scrub(text))

    def emit_json(self, data: dict[str, Any]) -> None:
        """Compact JSON on stdout, carrying ``"version": "1"``."""
        self.echo(json.dumps({"version": JSON_VERSION, **data}, separators=(",", ":"), default=str))

    def info(self, text: str) -> None:
        if not self.quiet:
            self.err.print(self.scrub(text), markup=False, highlight=False, soft_wrap=True)

    def success(self, text: str) -> None:
        if not self.quiet:
            self.err.print(self.scrub(text), style="green", markup=False, highlight=False, soft_wrap=True)

    def warn(self, text: str) -> None:
        if not self.quiet:
            self.err.print(self.scrub(text), style="yellow", markup=False, highlight=False, soft_wrap=True)

    def error(self, text: str) -> None:
        self.err.print(self.scrub(text), style="bold red", markup=False, highlight=False, soft_wrap=True)

    def fail(self, text: str, code: int = 1) -> NoReturn:
        """Print ``error: text`` and end the command with ``code``."""
        self.error(f"error: {text}")
        raise typer.Exit(code)

    # -- queue -----------------------------------------------------------------------------------------------

    def open_queue(self, *, create: bool = False) -> ReportQueue | None:
        """The instance's queue; None when it does not exist and ``create`` is false (nothing is created by
        commands that only read)."""
        if not create and not self.paths.queue_db.exists():
            return None
        if create:
            self.paths.ensure()
        return ReportQueue(self.paths.queue_db)


def make_state(instance: str, config_file: Path | None, verbose: int, quiet: bool, no_color: bool) -> State:
    paths = InstancePaths.of(instance)
    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    # Colour only ever goes to terminals (rich checks); NO_COLOR and --no-color turn it off there too.
    # Piped tables get room: a file or another program should not receive ids and names cut to 80 columns.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    out = Console(no_color=no_color or None, highlight=False, width=width)
    err = Console(stderr=True, no_color=no_color or None, highlight=False)
    state = State(paths, config_file, verbose, quiet, no_color, out, err)
    _configure_logging(state)
    return state


def _configure_logging(state: State) -> None:
    """Library logs (retries, uploads) on stderr: none by default, INFO with -v, DEBUG with -vv."""
    level = {0: None, 1: logging.INFO}.get(state.verbose, logging.DEBUG)
    handler = RichHandler(console=state.err, show_path=False, show_time=False, markup=False)
    handler.setLevel(level or logging.CRITICAL + 1)  # a handler that shows nothing keeps logging's last resort off
    handler.addFilter(_StateRedact(state))
    handler._pywats_cli = True  # type: ignore[attr-defined]
    for name in LOGGERS:
        logger = logging.getLogger(name)
        detach_logging(logger)
        logger.addHandler(handler)
        if level is not None:
            logger.setLevel(level)


def detach_logging(logger: logging.Logger | None = None) -> None:
    """Remove the handlers this CLI added (the ``service`` command logs through the service's own)."""
    for one in [logger] if logger is not None else [logging.getLogger(name) for name in LOGGERS]:
        for old in [h for h in one.handlers if getattr(h, "_pywats_cli", False)]:
            one.removeHandler(old)


class _StateRedact(RedactSecrets):
    """The log filter of the service, fed with the secrets this command has seen."""

    def __init__(self, state: State) -> None:
        super().__init__()
        self._state = state

    def filter(self, record: logging.LogRecord) -> bool:
        for secret in self._state.secrets:
            self.add(secret)
        return super().filter(record)


def get_state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # a command invoked without the root callback (should not happen)
        obj = make_state("default", None, 0, False, False)
        ctx.find_root().obj = obj
    return obj


class CLIGroup(TyperGroup):
    """The root command group: an expected error from any command becomes one red line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `pywats-client queue export | head`: the reader left; say nothing more
            _silence_stdout()
            raise typer.Exit(1) from None
        except EXPECTED as error:
            state = ctx.obj if isinstance(ctx.obj, State) else None
            message = f"error: {describe(error)}"
            if state is not None:
                state.error(message)
            else:
                Console(stderr=True).print(message, style="bold red", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


def _silence_stdout() -> None:
    """Point stdout at the null device so flushing it at exit does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests capture stdout)
        pass


def describe(error: BaseException) -> str:
    """One line saying what went wrong."""
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror}{where}"
    return " ".join(str(error).split()) or type(error).__name__


# -- small shared parsers and formatters ----------------------------------------------------------------------


def json_or_text(value: str) -> Any:
    """``value`` parsed as JSON when it is valid JSON, else the string itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_arguments(pairs: list[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` from repeated ``--arg`` options (values parsed like :func:`json_or_text`)."""
    arguments: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--arg")
        arguments[key.strip()] = json_or_text(value)
    return arguments


def table(*columns: str) -> Table:
    """A borderless table. Ids are never cut (36 characters, no wrap); folders fold rather than lose their end."""
    result = Table(box=None, pad_edge=False)
    for name in columns:
        if name == "id":
            result.add_column(name, no_wrap=True, min_width=36)
        else:
            result.add_column(name, overflow="fold" if name in ("watch", "folder") else "ellipsis")
    return result


def age(seconds: float | None) -> str:
    """``42 s``, ``3 min``, ``5 h``, ``2 d`` (or ``-``)."""
    if seconds is None:
        return "-"
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


# -- converting one file, the way intake does -----------------------------------------------------------------


def make_converter(state: State, spec: str, arguments: dict[str, Any]) -> Converter:
    """The converter ``spec`` names, made with ``arguments`` (ConverterLoadError / ConverterArgumentError).

    A ``file.py::Class`` typed relative to the current folder is found there first (the command line's
    expectation), then in the instance folder (the service's rule for configured entries).
    """
    file_part, separator, class_name = spec.rpartition("::")
    if separator and not Path(file_part).is_absolute() and Path(file_part).is_file():
        spec = f"{Path(file_part).absolute()}::{class_name}"
    cls = load_converter_class(spec, base_dir=state.paths.root)
    return cls(arguments)


def station_context(state: State, *, required: bool) -> ConversionContext:
    """A conversion context with the instance's station (empty report fields are filled from it).

    With ``required`` an invalid configuration is an error; otherwise it is a warning and no station is used.
    """
    try:
        config = state.load_config()
    except ConfigError as error:
        if required:
            raise
        state.warn(f"warning: configuration not used ({describe(error)}); station fields are left as the file has them")
        return ConversionContext()
    return ConversionContext(station=config.station.station())


def convert_path(converter: Converter, path: Path, context: ConversionContext) -> tuple[Conversion, str]:
    """Convert the file or folder at ``path``; the conversion and the source's sha256. Raises ConversionError."""
    try:
        source = SourceFolder.read(path) if path.is_dir() else SourceFile.read(path)
    except OSError as error:
        raise ConversionError(f"cannot read {path}: {describe(error)}") from None
    return convert_source(converter, source, context), source.sha256


def report_summary(report: Any) -> dict[str, Any]:
    """What a person checks first in a converted report."""
    steps = len(report.iter_steps()) if hasattr(report, "iter_steps") else 0
    result = getattr(report.result, "value", report.result)
    return {"id": str(report.id).lower(), "type": getattr(report.type, "value", str(report.type)), "sn": report.sn,
            "pn": report.pn, "rev": report.rev, "process_code": report.process_code, "result": result,
            "steps": steps}  # fmt: skip


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


__all__ = [
    "CLIGroup", "EXPECTED", "JSON_VERSION", "MASK", "State", "age", "convert_path", "describe", "detach_logging",
    "get_state", "is_interactive", "json_or_text", "make_converter", "make_state", "parse_arguments", "report_summary",
    "station_context", "table",
]  # fmt: skip
