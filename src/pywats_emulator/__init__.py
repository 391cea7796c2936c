"""A local WATS-compatible server for development and tests.

>>> from pywats_emulator import EmulatorConfig, create_app       # an ASGI app to serve with uvicorn
>>> from pywats_emulator.testing import running_emulator         # a live server in a thread, for tests
>>> with running_emulator() as emulator:
...     print(emulator.url, emulator.token)

Command line: ``python -m pywats_emulator serve --port 8080`` (see :mod:`pywats_emulator.cli`).
"""

__version__ = "0.1.0"

from .app import create_app  # noqa: E402
from .config import DEFAULT_TOKEN, EmulatorConfig  # noqa: E402
from .faults import FaultConfig  # noqa: E402

__all__ = ["DEFAULT_TOKEN", "EmulatorConfig", "FaultConfig", "__version__", "create_app"]
