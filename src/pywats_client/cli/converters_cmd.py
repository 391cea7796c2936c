"""``pywats-client converters``: the watch-folder entries of an instance, and trying a converter on a file.

A running service reloads its configuration by itself, so an entry added, changed or removed here takes effect
within a second or two without a restart.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from ..control.client import ControlClient, running

from pywats.formats import wsjf

from ..config import ConverterConfig
from ..converters import available_converters
from ._common import (
    State,
    convert_path,
    get_state,
    make_converter,
    parse_arguments,
    report_summary,
    station_context,
    table,
)

app = typer.Typer(help="Configure watch folders and their converters; try a converter on a file.", no_args_is_help=True)


class PostAction(str, Enum):
    move = "move"
    delete = "delete"
    zip = "zip"
    keep = "keep"


@app.command("list")
def list_(
    ctx: typer.Context,
    available: bool = typer.Option(False, "--available", help="the converters that can be used, not the entries"),
    as_json: bool = typer.Option(False, "--json", help="compact JSON"),
) -> None:
    """List the configured converter entries (or, with --available, the converters installed)."""
    state = get_state(ctx)
    if available:
        _list_available(state, as_json)
        return
    config = state.load_config()
    rows = []
    for entry in config.converters:
        watch, done, error = entry.folders(state.paths)
        rows.append({"name": entry.name, "converter": entry.converter, "enabled": entry.enabled, "watch": str(watch),
                     "done": str(done), "error": str(error), "patterns": entry.patterns, "recursive": entry.recursive,
                     "post_action": entry.post_action, "arguments": entry.arguments})  # fmt: skip
    if as_json:
        state.emit_json({"instance": state.instance, "converters": rows})
        return
    if not rows:
        state.info(f"no converters configured for instance {state.instance} (add one with 'converters add')")
        return
    grid = table("name", "converter", "enabled", "watch", "post action")
    for row in rows:
        grid.add_row(row["name"], row["converter"], "yes" if row["enabled"] else "no", row["watch"], row["post_action"])
    state.out.print(grid)


def _list_available(state: State, as_json: bool) -> None:
    found = available_converters()
    rows = [{"name": name, "version": cls.version, "kind": cls.kind, "description": cls.description,
             "patterns": list(cls.patterns), "arguments": cls.argument_schema()}
            for name, cls in found.items()]  # fmt: skip
    if as_json:
        state.emit_json({"converters": rows})
        return
    grid = table("name", "version", "kind", "patterns", "description")
    for row in rows:
        grid.add_row(row["name"], row["version"], row["kind"], " ".join(row["patterns"]), row["description"])
    state.out.print(grid)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="a name for this entry (also names its default folders)"),
    converter: str = typer.Option(..., "--converter", "-c", metavar="SPEC",
                                  help="built-in name (wsjf, auto...), package.module:Class or file.py::Class"),
    watch: Optional[Path] = typer.Option(None, "--watch", file_okay=False, help="default: the instance's watch/NAME"),
    done: Optional[Path] = typer.Option(None, "--done", file_okay=False, help="default: the instance's done/NAME"),
    error: Optional[Path] = typer.Option(None, "--error", file_okay=False, help="default: the instance's error/NAME"),
    pattern: Optional[list[str]] = typer.Option(None, "--pattern", "-p", help="file pattern (repeatable); "
                                                "default: the converter's own"),
    recursive: bool = typer.Option(False, "--recursive", help="watch sub-folders too"),
    post_action: PostAction = typer.Option(PostAction.move, "--post-action", help="what happens to a converted file"),
    arg: Optional[list[str]] = typer.Option(None, "--arg", metavar="KEY=VALUE", help="converter argument (repeatable)"),
    disabled: bool = typer.Option(False, "--disabled", help="add it switched off"),
) -> None:  # fmt: skip
    """Add a watch folder with its converter."""
    state = get_state(ctx)
    arguments = parse_arguments(arg)
    converter = _stable_spec(state, converter)
    instance = make_converter(state, converter, arguments)  # loaded once: it exists and takes these arguments
    data = state.file_values()
    entries = data.setdefault("converters", [])
    if any(isinstance(entry, dict) and entry.get("name") == name for entry in entries):
        state.fail(f"a converter named {name!r} is already configured (remove it first, or choose another name)")
    entries.append({
        "name": name, "converter": converter, "enabled": not disabled, "watch": _absolute(watch),
        "done": _absolute(done), "error": _absolute(error), "patterns": pattern or None, "recursive": recursive,
        "post_action": post_action.value, "arguments": arguments,
    })  # fmt: skip
    config = state.save_values(data)
    folder = config.converter(name).folders(state.paths)[0]
    state.success(f"added converter {name} ({instance.name} {instance.version}) watching {folder}"
                  + (" (disabled)" if disabled else ""))  # fmt: skip


@app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Remove a converter entry (its folders and their files stay)."""
    state = get_state(ctx)
    data = state.file_values()
    data["converters"] = [entry for entry in _entries(state, data, name) if entry.get("name") != name]
    state.save_values(data)
    state.success(f"removed converter {name}")


@app.command("enable")
def enable(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Switch a converter entry on."""
    _switch(get_state(ctx), name, True)


@app.command("disable")
def disable(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Switch a converter entry off (its watch folder is left alone)."""
    _switch(get_state(ctx), name, False)


def _switch(state: State, name: str, enabled: bool) -> None:
    data = state.file_values()
    for entry in _entries(state, data, name):
        if entry.get("name") == name:
            entry["enabled"] = enabled
    state.save_values(data)
    state.success(f"converter {name} {'enabled' if enabled else 'disabled'}")


def _entries(state: State, data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The file's converter entries; fails naming the configured ones when ``name`` is not among them."""
    entries = [entry for entry in data.get("converters") or [] if isinstance(entry, dict)]
    if not any(entry.get("name") == name for entry in entries):
        known = ", ".join(str(entry.get("name")) for entry in entries) or "none"
        state.fail(f"no converter named {name!r} is configured (configured: {known})")
    return entries


@app.command("test")
def test(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, help="a file (or a folder, for folder converters)"),
    converter: Optional[str] = typer.Option(None, "--converter", "-c", metavar="SPEC", help="default: auto"),
    entry: Optional[str] = typer.Option(None, "--entry", "-e", help="use a configured entry's converter and arguments"),
    arg: Optional[list[str]] = typer.Option(None, "--arg", metavar="KEY=VALUE", help="converter argument (repeatable)"),
    show_wsjf: bool = typer.Option(False, "--wsjf", help="also print each report's WSJF"),
    as_json: bool = typer.Option(False, "--json", help="compact JSON"),
) -> None:  # fmt: skip
    """Run a converter on a file and show what it makes. Nothing is queued or moved."""
    state = get_state(ctx)
    if converter and entry:
        raise typer.BadParameter("give --converter or --entry, not both")
    arguments = parse_arguments(arg)
    spec = converter or "auto"
    if entry:
        configured = _configured_entry(state, entry)
        spec, arguments = configured.converter, {**configured.arguments, **arguments}
    if running(state.paths):  # the service converts it, with the converters and settings it runs with
        with ControlClient(state.paths) as control:
            answer = control.converter_test(file, converter=None if entry else spec, entry=entry,
                                            arguments=parse_arguments(arg))  # fmt: skip
        reports = [wsjf.loads(json.dumps(report)) for report in answer["reports"]]
        used_name, used_version = answer["converter"], answer["version"]
        chosen = used_name != spec and not entry
    else:
        made = make_converter(state, spec, arguments)
        context = station_context(state, required=bool(entry))
        conversion, _ = convert_path(made, file, context)
        reports = conversion.reports
        used_name, used_version = conversion.converter.name, conversion.converter.version
        chosen = conversion.converter is not made
    rows = [report_summary(report) for report in reports]
    if as_json:
        if show_wsjf:
            for row, report in zip(rows, reports):
                row["wsjf"] = json.loads(wsjf.dumps(report))
        state.emit_json({"file": str(file), "converter": {"name": used_name, "version": used_version,
                         "chosen_by_auto": chosen}, "reports": rows})  # fmt: skip
        return
    how = " (chosen by auto)" if chosen else ""
    state.echo(f"{file}: converter {used_name} {used_version}{how}, {len(rows)} report(s)")
    grid = table("id", "sn", "pn", "rev", "process", "result", "steps")
    for row in rows:
        grid.add_row(row["id"], row["sn"], row["pn"], row["rev"], str(row["process_code"]), row["result"],
                      str(row["steps"]))  # fmt: skip
    state.out.print(grid)
    if show_wsjf:
        for report in reports:
            state.echo(wsjf.dumps(report, indent=2))


def _configured_entry(state: State, name: str) -> ConverterConfig:
    config = state.load_config()
    try:
        return config.converter(name)
    except KeyError:
        known = ", ".join(entry.name for entry in config.converters) or "none"
        state.fail(f"no converter named {name!r} is configured (configured: {known})")


def _absolute(folder: Path | None) -> str | None:
    """A folder given on the command line means from here, not from the instance folder the file is read from."""
    return str(folder.expanduser().absolute()) if folder is not None else None


def _stable_spec(state: State, spec: str) -> str:
    """``my.py::Class`` typed relative to the current folder becomes absolute (the service reads relative
    paths from the instance folder)."""
    file_part, sep, class_name = spec.rpartition("::")
    if sep and file_part:
        path = Path(file_part).expanduser()
        if not path.is_absolute() and path.is_file() and not (state.paths.root / path).is_file():
            return f"{path.absolute()}::{class_name}"
    return spec


__all__ = ["app"]
