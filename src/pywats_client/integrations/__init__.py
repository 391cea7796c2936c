"""Integrations: test frameworks that hand their results to pyWATS directly instead of through files.

- :mod:`pywats_client.integrations.openhtf`: :class:`~pywats_client.integrations.openhtf.WATSOutput`, an
  OpenHTF output callback (``test.add_output_callbacks(WATSOutput("line1"))``) that queues each test record in
  an instance's durable queue, or spools it as a file for the ``openhtf`` converter when the queue is out of
  reach.

Failures are logged on the ``pywats_client.integrations`` logger; an integration never raises into the test
run that calls it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WATSOutput"]


def __getattr__(name: str) -> Any:
    # Imported on first use: ``import pywats_client.integrations`` stays cheap.
    if name == "WATSOutput":
        from .openhtf import WATSOutput

        return WATSOutput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
