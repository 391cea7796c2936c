"""The ``pywats-client`` command line (also ``python -m pywats_client``).

One module per command group, joined here with ``add_typer`` (typer's "one file per command" layout):

=====================  =====================================================================================
``config_cmd``         ``config init | show | get | set | validate``
``converters_cmd``     ``converters list | add | remove | enable | disable | test``
``queue_cmd``          ``queue list | show | retry | drop | export``
``service_cmd``        ``service`` (foreground), ``status``, ``instances``
``convert_cmd``        ``convert`` (print the WSJF), ``submit`` (queue and upload)
``diagnose_cmd``       ``diagnose``
``demo_cmd``           ``demo``
=====================  =====================================================================================

Global options come before the command: ``pywats-client --instance line2 status``. Every one has an
environment variable (``PYWATS_INSTANCE``, ``PYWATS_CONFIG_FILE``, ``PYWATS_VERBOSE``, ``PYWATS_QUIET``;
``NO_COLOR`` as everywhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..instance import DEFAULT_INSTANCE
from . import config_cmd, convert_cmd, converters_cmd, demo_cmd, diagnose_cmd, queue_cmd, service_cmd
from ._common import CLIGroup, make_state

app = typer.Typer(
    name="pywats-client",
    cls=CLIGroup,
    help="The pyWATS station service: watch folders → converters → durable queue → WATS server.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never show the API token held in a local
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    instance: str = typer.Option(DEFAULT_INSTANCE, "--instance", "-i", envvar="PYWATS_INSTANCE", metavar="NAME",
                                 help="the instance to work on"),
    config_file: Optional[Path] = typer.Option(None, "--config-file", envvar="PYWATS_CONFIG_FILE", metavar="PATH",
                                               dir_okay=False, help="use this configuration file instead of the "
                                               "instance's"),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, envvar="PYWATS_VERBOSE",
                                help="show library logs (-v: INFO, -vv: DEBUG)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", envvar="PYWATS_QUIET", help="only errors on stderr"),
    no_color: bool = typer.Option(False, "--no-color", help="no colours (NO_COLOR is honoured too)"),
) -> None:  # fmt: skip
    try:
        ctx.obj = make_state(instance, config_file, verbose, quiet, no_color)
    except ValueError as error:  # an instance name that cannot be a folder name
        raise typer.BadParameter(str(error), param_hint="--instance") from None


app.add_typer(config_cmd.app, name="config")
app.add_typer(converters_cmd.app, name="converters")
app.add_typer(queue_cmd.app, name="queue")
app.add_typer(service_cmd.app)
app.add_typer(convert_cmd.app)
app.add_typer(diagnose_cmd.app)
app.add_typer(demo_cmd.app)


def main() -> None:
    """The ``pywats-client`` entry point."""
    app()


__all__ = ["app", "main"]
