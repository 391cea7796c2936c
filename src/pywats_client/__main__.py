"""``python -m pywats_client``: the same as the ``pywats-client`` command."""

from .cli import main

main()
