"""``python -m pywats_emulator serve ...``: the same command line as ``pywats-emulator``."""

import sys

from .cli import main

sys.exit(main())
