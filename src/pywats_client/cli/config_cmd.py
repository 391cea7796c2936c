"""``pywats-client config``: create, read and edit an instance's configuration.

Editing commands (``init``, ``set``) work on the file's own values and validate before writing, so an
environment variable is never copied into the file and an invalid value never reaches it. Reading commands
(``show``, ``get``) show the effective configuration, environment included. The token is shown as ``********``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Optional

import typer

from .. import config as config_module
from ..config import ConfigError
from ._common import MASK, State, get_state, json_or_text

app = typer.Typer(help="Create, show and edit the configuration.", no_args_is_help=True)


@app.command("init")
def init(
    ctx: typer.Context,
    server_url: Optional[str] = typer.Option(None, "--server-url", help="the WATS server, e.g. https://acme.wats.com"),
    token: Optional[str] = typer.Option(None, "--token", help="the API token ('-' reads it from stdin)"),
    station_name: Optional[str] = typer.Option(None, "--station-name", help="default: this computer's name"),
    location: str = typer.Option("", "--location"),
    purpose: str = typer.Option("", "--purpose"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing configuration"),
) -> None:  # fmt: skip
    """Write a new configuration file."""
    state = get_state(ctx)
    path = state.config_path
    if path.exists() and not force:
        state.fail(f"{path} already exists; use --force to overwrite it (or 'config set' to change one key)")
    if token == "-":  # keeps the token out of the shell history and the process list
        token = sys.stdin.readline().strip()
    state.remember_token(token)
    station: dict[str, Any] = {"location": location, "purpose": purpose}
    if station_name is not None:
        station["name"] = station_name
    data = {"server_url": server_url, "api_token": token or None, "station": station}
    try:
        config = state.save_values(data)
    except ConfigError as error:
        _refuse(state, error)
    state.success(f"configuration written to {path}")
    if not config.server_url or not config.token:
        state.warn("no server_url or api_token yet: set them with 'config set' before starting the service")


@app.command("show")
def show(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="compact JSON")) -> None:
    """Show the effective configuration (file + environment), token masked."""
    state = get_state(ctx)
    config = state.load_config()
    if not state.config_path.exists():
        state.warn(f"no configuration file at {state.config_path}: defaults shown (create one with 'config init')")
    values = config.masked_dict()
    from_env = [key for key in _environment_keys() if key in values]
    if as_json:
        state.emit_json({"file": str(state.config_path), "from_environment": from_env, "config": values})
        return
    state.info(f"# {state.config_path}")
    for key, value in _flatten(values):
        origin = "    # from the environment" if _from_environment(key) else ""
        state.echo(f"{key} = {_text(value)}{origin}")


@app.command("get")
def get(
    ctx: typer.Context, key: str = typer.Argument(..., help="dotted key: station.name, converters.0.watch")
) -> None:
    """Print one value of the effective configuration."""
    state = get_state(ctx)
    values = state.load_config().masked_dict()
    try:
        value = config_module.get_key(values, key)
    except KeyError:
        state.fail(f"{key}: is not a configuration key (see 'config show')")
    state.echo(value if isinstance(value, str) else json.dumps(value))


@app.command("set")
def set_(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="dotted key: station.name, converters.0.enabled"),
    value: str = typer.Argument(..., help="a JSON value (5, true, null, [..]), else taken as a string"),
) -> None:
    """Set one value in the configuration file (validated first; invalid: nothing is saved)."""
    state = get_state(ctx)
    data = state.file_values()
    parsed = json_or_text(value)
    try:
        config = state.save_values(_set_key(data, key, parsed))
    except ConfigError as error:
        if isinstance(parsed, str):
            _refuse(state, error)
        try:  # "007" or "true" meant as a station name: the text itself may be what fits
            config = state.save_values(_set_key(data, key, value))
        except ConfigError:
            _refuse(state, error)
    shown = MASK if key.split(".")[0] == "api_token" else json.dumps(config_module.get_key(config.masked_dict(), key))
    state.success(f"{key} = {shown} (saved to {state.config_path})")
    if _from_environment(key):
        state.warn(f"note: the environment sets {key} too, and the environment wins")


@app.command("validate")
def validate(
    ctx: typer.Context,
    file: Optional[Path] = typer.Argument(None, dir_okay=False, help="default: this instance's configuration"),
) -> None:
    """Check a configuration file: 'valid', or every problem on its own line (exit 1)."""
    state = get_state(ctx)
    path = file or state.config_path
    if not path.exists():
        state.fail(f"{path} does not exist")
    where = str(path)
    try:
        config_module.validate(config_module.load_file(path), environment=False)
        if file is None:  # the instance's own file: what the environment adds must fit too
            where = "environment (PYWATS_*)"
            state.load_config()
    except ConfigError as error:
        for problem in error.problems:
            state.error(f"{where}: {problem}")
        raise typer.Exit(1) from None
    state.echo(f"valid: {path}")


def _set_key(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    try:
        return config_module.set_key(data, key, value)
    except (AttributeError, TypeError):  # a dotted key going through a value that is not a section
        raise ConfigError(f"{key}: {key.rpartition('.')[0]} is not a section") from None


def _refuse(state: State, error: ConfigError) -> NoReturn:
    for problem in error.problems:
        state.error(f"error: {problem}")
    state.error("nothing was saved")
    raise typer.Exit(1)


def _from_environment(key: str) -> bool:
    """Whether an environment variable sets ``key`` (top-level ``PYWATS_KEY``, nested ``PYWATS_KEY__SUB``...)."""
    names = {var.upper() for var in os.environ}
    parts = key.upper().split(".")
    return any("PYWATS_" + "__".join(parts[:depth]) in names for depth in range(1, len(parts) + 1))


def _environment_keys() -> list[str]:
    """The top-level keys the environment sets, in part or in whole."""
    return sorted({var[7:].split("__")[0].lower() for var in os.environ if var.upper().startswith("PYWATS_")})


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [item for key, sub in value.items() for item in _flatten(sub, f"{prefix}.{key}" if prefix else key)]
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return [item for index, sub in enumerate(value) for item in _flatten(sub, f"{prefix}.{index}")]
    return [(prefix, value)]


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
