"""Command line: ``pywats-emulator serve ...`` or ``python -m pywats_emulator serve ...``.

    pywats-emulator serve --port 8080 --db reports.db --token MyToken= --process 700:Calibration
    pywats-emulator serve --error-rate 0.2 --retry-after 3 --latency-ms 150 --seed 1

It prints the URL and token on start, then serves until Ctrl+C. Faults set here are the starting ones;
change them while it runs with ``PUT /_emulator/faults`` (see :mod:`pywats_emulator.admin`).
argparse rather than typer: the emulator extra then needs nothing beyond FastAPI and uvicorn.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from collections.abc import Sequence

from . import __version__
from .config import DEFAULT_TOKEN, EmulatorConfig
from .faults import FaultConfig


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pywats-emulator", description="A local WATS-compatible server.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the emulator until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 picks a free one)")
    serve.add_argument("--db", metavar="PATH", help="SQLite file to keep reports in (default: temporary)")
    serve.add_argument("--token", action="append", metavar="TOKEN",
                       help=f"accepted API token, repeatable (default: {DEFAULT_TOKEN})")
    serve.add_argument("--process", action="append", default=[], metavar="CODE:NAME[:repair|wip]",
                       help="add (or rename) a process, repeatable")
    serve.add_argument("--processes-file", metavar="FILE", help="JSON list of extra processes")
    faults = serve.add_argument_group("faults (only /api requests)")
    faults.add_argument("--latency-ms", type=_non_negative, default=0, help="delay added to every request")
    faults.add_argument("--error-rate", type=_rate, default=0, help="share answered --error-status (0..1)")
    faults.add_argument("--error-status", type=int, default=503, help="status of injected errors (default 503)")
    faults.add_argument("--retry-after", type=int, default=1, metavar="SECONDS",
                        help="Retry-After of injected errors (default 1; -1 sends none)")
    faults.add_argument("--drop-rate", type=_rate, default=0, help="share processed, then cut off (0..1)")
    faults.add_argument("--hang-rate", type=_rate, default=0, help="share held --hang-seconds first (0..1)")
    faults.add_argument("--hang-seconds", type=_non_negative, default=30, help="how long to hold (default 30)")
    faults.add_argument("--outage", action="store_true", help="answer every request --error-status")
    faults.add_argument("--seed", type=int, help="seed the fault draws (repeatable runs)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The emulator configuration the ``serve`` arguments describe.

    Raises:
        ValueError: a bad process spec, processes file or fault value.
    """
    faults = FaultConfig(
        latency_ms=args.latency_ms, error_rate=args.error_rate, error_status=args.error_status,
        retry_after_s=None if args.retry_after < 0 else args.retry_after, drop_rate=args.drop_rate,
        hang_rate=args.hang_rate, hang_s=args.hang_seconds, outage=args.outage, seed=args.seed,
    )  # fmt: skip
    return EmulatorConfig(
        db_path=args.db, tokens=args.token or [DEFAULT_TOKEN], extra_processes=tuple(args.process),
        processes_file=args.processes_file, faults=faults,
    )  # fmt: skip


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]  # fmt: skip
    sock = socket.socket(family, kind, proto)
    if sys.platform != "win32":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    try:
        config = config_from_args(args)
    except (OSError, ValueError) as error:
        print(f"pywats-emulator: error: {error}", file=sys.stderr)
        return 2
    try:
        sock = _bind(args.host, args.port)
    except OSError as error:
        print(f"pywats-emulator: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    app = create_app(config)
    storage = app.state.emulator.storage
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"pyWATS emulator {__version__} listening on http://{shown}:{port}", flush=True)
    print(f"  token:    {config.token}    (send 'Authorization: Basic {config.token}')", flush=True)
    temporary = "  (temporary: deleted on exit)" if storage.is_temporary else ""
    print(f"  database: {storage.path}{temporary}", flush=True)
    print(f"  reports:  http://{shown}:{port}/    faults: http://{shown}:{port}/_emulator/faults", flush=True)
    if not _is_loopback(args.host):
        print(f"pywats-emulator: warning: the report pages at / need no token: anyone who can reach "
              f"{args.host}:{port} can read the reports.", file=sys.stderr, flush=True)  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level, lifespan="on", ws="none",
                                           timeout_graceful_shutdown=5))  # fmt: skip
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn re-raises Ctrl+C after its graceful shutdown; the shutdown is done, so exit quietly.
        return 130
    finally:
        sock.close()
        storage.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
