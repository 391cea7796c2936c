"""``pywats-client demo``: the guided demonstration (:mod:`pywats_client.demo`)."""

from __future__ import annotations

import typer

app = typer.Typer()


@app.command("demo")
def demo(keep: bool = typer.Option(False, "--keep", help="keep the demo's temporary folder to look at")) -> None:
    """Run a demonstration: an emulator, an instance, reports from a watch folder to the server."""
    from pywats_client.demo import run_demo  # imported here: the demo pulls in the emulator

    raise typer.Exit(run_demo(keep=keep))


__all__ = ["app"]
