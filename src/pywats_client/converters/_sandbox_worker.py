"""The child side of :mod:`pywats_client.converters.sandbox`: loads one converter and runs it on request.

Started as ``python -m pywats_client.converters._sandbox_worker`` with three pipes. Before anything else it
moves its protocol off the standard streams: the original stdin and stdout are duplicated to private file
descriptors (not inherited by processes the converter starts), standard input becomes the null device and
file descriptor 1 becomes a copy of stderr. Whatever the converter prints, from Python or from native code,
therefore lands in stderr (which the parent keeps the last lines of) and never in the protocol.

The protocol is frames both ways: ``MAGIC`` (4 bytes), a kind byte (``J`` a UTF-8 JSON object, ``B`` raw bytes)
and a big-endian 8-byte length, then the payload. A JSON message with ``"blobs": n`` is followed by ``n``
bytes frames (the source's files one way, the reports' WSJF text the other), so nothing is base64-encoded.

Parent to child: first ``{"op": "init", spec, arguments, base_dir, memory_mb, log_level}``, then requests
``{"op": "convert" | "validate" | "run" | "is_ready", "id": n, ...}``. Child to parent: ``ready`` (the
converter's metadata) or ``load_error`` once, then for each request any number of ``log`` messages and one
``result`` or ``error``. End of input (the parent closed the pipe) ends the child.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"PWSB"
HEADER = struct.Struct(">4scQ")
JSON_FRAME = b"J"
BYTES_FRAME = b"B"
WORKER_MODULE = "pywats_client.converters._sandbox_worker"


class ProtocolError(Exception):
    """What came over the channel is not a frame of this protocol."""


class FrameTooLarge(ProtocolError):
    """A frame announced more bytes than the reader accepts."""


def message_parts(message: dict[str, Any], blobs: list[bytes] | tuple[bytes, ...] = ()) -> list[bytes]:
    """The bytes of one message, header and payload of each frame in turn: its JSON, then its blobs (kept as
    separate pieces so a large source is not copied to be sent)."""
    body = dict(message)
    if blobs:
        body["blobs"] = len(blobs)
    text = json.dumps(body, ensure_ascii=False, default=str, allow_nan=False).encode("utf-8")
    parts = [HEADER.pack(MAGIC, JSON_FRAME, len(text)), text]
    for blob in blobs:
        parts += [HEADER.pack(MAGIC, BYTES_FRAME, len(blob)), blob]
    return parts


def read_exact(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes, or None at end of input before the first byte. Raises ProtocolError if cut short."""
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if not chunks:
                return None
            raise ProtocolError(f"the stream ended inside a frame ({size - remaining} of {size} bytes)")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO, max_size: int) -> tuple[bytes, bytes] | None:
    """The next ``(kind, payload)``, None at end of input.

    Raises:
        ProtocolError: the bytes are not a frame, or the frame is larger than ``max_size``.
    """
    header = read_exact(stream, HEADER.size)
    if header is None:
        return None
    magic, kind, size = HEADER.unpack(header)
    if magic != MAGIC or kind not in (JSON_FRAME, BYTES_FRAME):
        raise ProtocolError(f"not a frame: {header[:16]!r}")
    if size > max_size:
        raise FrameTooLarge(f"a frame of {size} bytes, more than the limit of {max_size}")
    payload = read_exact(stream, size) if size else b""
    if payload is None:
        raise ProtocolError("the stream ended after a frame header")
    return kind, payload


def decode_message(payload: bytes) -> dict[str, Any]:
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(f"a message that is not JSON: {error}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message that is not a JSON object")
    return message


# -- the child ------------------------------------------------------------------------------------------------

_MAX_REQUEST = 1 << 40  # the parent is trusted: no limit of substance on what it sends


class _Channel:
    """The child's end: reads requests, writes messages (from any thread, one message at a time)."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader = reader
        self.writer = writer
        self.lock = threading.Lock()

    def receive(self) -> tuple[dict[str, Any], list[bytes]] | None:
        first = read_frame(self.reader, _MAX_REQUEST)
        if first is None:
            return None
        kind, payload = first
        if kind != JSON_FRAME:
            raise ProtocolError("a request must start with a JSON frame")
        message = decode_message(payload)
        blobs = []
        for _ in range(int(message.get("blobs", 0))):
            item = read_frame(self.reader, _MAX_REQUEST)
            if item is None or item[0] != BYTES_FRAME:
                raise ProtocolError("a request's blobs are missing")
            blobs.append(item[1])
        return message, blobs

    def send(self, message: dict[str, Any], blobs: list[bytes] | tuple[bytes, ...] = ()) -> None:
        parts = message_parts(message, blobs)
        with self.lock:
            for part in parts:
                self.writer.write(part)
            self.writer.flush()


_channel: _Channel | None = None
"""Set while the worker runs. Not a secret: a converter that goes looking for the channel can find it, and
what it writes there is detected as garbage by the parent (which then stops this process)."""


def _private_channel() -> _Channel:
    reader_fd = os.dup(0)
    writer_fd = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # the converter's prints (Python's and native code's) go to stderr
    try:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    except OSError:
        pass
    return _Channel(os.fdopen(reader_fd, "rb"), os.fdopen(writer_fd, "wb"))


def _limit_memory(memory_mb: int | None) -> str:
    """Cap the address space (POSIX); what was done, in words, for the parent's log."""
    if not memory_mb or memory_mb <= 0:
        return "no memory limit asked for"
    try:
        import resource
    except ImportError:
        return f"the memory limit is not enforced on {sys.platform}"
    limit = int(memory_mb) * 1024 * 1024
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY and hard < limit:
            limit = hard
        # Soft and hard alike, so the converter cannot raise the limit again.
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError) as error:
        return f"the memory limit is not enforced: setrlimit(RLIMIT_AS) failed: {error}"
    return "enforced"


class _ChannelLogHandler(logging.Handler):
    """Sends the converter's log records to the parent, which logs them on the conversion's logger."""

    def emit(self, record: logging.LogRecord) -> None:
        channel = _channel
        if channel is None:
            return
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            channel.send({"type": "log", "level": record.levelno, "logger": record.name, "message": text[:20_000]})
        except Exception:  # noqa: BLE001 - logging must never break a conversion
            pass


def _watch_parent() -> None:
    """End this process when the parent goes away while a conversion hangs (its pipes would never be read)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(70)

    if os.name != "posix":
        return  # the parent id does not change when a Windows parent ends; the parent kills its workers
    previous = threading.stack_size()
    try:
        threading.stack_size(256 * 1024)  # a small stack: the thread counts against the address-space limit
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    finally:
        threading.stack_size(previous)


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {Path(last.filename).name}:{last.lineno})"


def _decode_timezone(value: Any) -> Any:
    from datetime import timedelta, timezone

    if not value:
        return None
    if "zone" in value:
        from zoneinfo import ZoneInfo

        return ZoneInfo(value["zone"])
    return timezone(timedelta(seconds=value["offset_s"]), value.get("name") or None)


class _Worker:
    def __init__(self, channel: _Channel) -> None:
        self.channel = channel
        self.converter: Any = None
        self.label = "converter"
        self.memory_mb: int | None = None

    # -- start ------------------------------------------------------------------------------------------------

    def start(self, init: dict[str, Any]) -> bool:
        from pywats_client.converters.base import ConverterArgumentError, FolderConverter
        from pywats_client.converters.errors import ConverterLoadError
        from pywats_client.converters.loader import load_converter_class

        base_dir = Path(init["base_dir"]) if init.get("base_dir") else None
        self.memory_mb = init.get("memory_mb") if init.get("memory_note") == "enforced" else None
        try:
            cls = load_converter_class(init["spec"], base_dir=base_dir)
            self.converter = cls(init.get("arguments") or {})
        except ConverterArgumentError as error:
            self.channel.send({"type": "load_error", "error": "arguments", "message": str(error)})
            return False
        except ConverterLoadError as error:
            self.channel.send({"type": "load_error", "error": "load", "message": str(error)})
            return False
        except BaseException as error:  # noqa: BLE001 - the constructor is user code too
            message = f"{init['spec']!r}: creating the converter failed: {type(error).__name__}: {error}{_where(error)}"
            self.channel.send({"type": "load_error", "error": "load", "message": message})
            return False
        converter = self.converter
        self.label = f"converter {converter.name} {converter.version}"
        is_ready = getattr(type(converter), "is_ready", None)
        arguments = getattr(converter, "arguments", None)
        meta = {
            "name": str(converter.name), "version": str(converter.version), "description": str(converter.description),
            "patterns": [str(pattern) for pattern in converter.patterns], "kind": str(converter.kind),
            "source_ids": bool(converter.source_ids), "interval_s": float(getattr(converter, "interval_s", 0) or 0),
            "has_is_ready": is_ready is not None and is_ready is not FolderConverter.is_ready,
            "schema": type(converter).argument_schema(),
            "arguments": arguments.model_dump(mode="json") if hasattr(arguments, "model_dump") else {},
            "class": f"{type(converter).__module__}.{type(converter).__qualname__}",
        }  # fmt: skip
        self.channel.send({"type": "ready", "meta": meta, "memory": init.get("memory_note", ""), "pid": os.getpid()})
        return True

    # -- requests ---------------------------------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            request = self.channel.receive()
            if request is None:
                return
            message, blobs = request
            restart = self.handle(message, blobs)
            if restart:
                return

    def handle(self, message: dict[str, Any], blobs: list[bytes]) -> bool:
        """Answer one request; True when this process should end (it may be in a bad state)."""
        from pywats_client.converters.errors import ConversionError, ConverterCrashed

        request_id = message.get("id")
        op = message.get("op")
        out_of_memory = False
        try:
            if op == "convert":
                reports = self._reports(self.converter.convert(self._source(message, blobs), self._context(message)))
                self.channel.send({"type": "result", "id": request_id}, reports)
            elif op == "run":
                reports = self._reports(self.converter.run(self._context(message)))
                self.channel.send({"type": "result", "id": request_id}, reports)
            elif op == "validate":
                value = float(self.converter.validate(self._source(message, blobs)))
                value = min(max(value, 0.0), 1.0) if value == value else 0.0  # NaN: no confidence
                self.channel.send({"type": "result", "id": request_id, "value": value})
            elif op == "is_ready":
                value = bool(self.converter.is_ready(Path(message["path"])))
                self.channel.send({"type": "result", "id": request_id, "value": value})
            else:
                self.channel.send({"type": "error", "id": request_id, "kind": "crashed", "restart": False,
                                   "message": f"the sandbox does not know the request {op!r}"})  # fmt: skip
            return False
        except ConversionError as error:
            self.channel.send({
                "type": "error", "id": request_id, "kind": "crashed" if isinstance(error, ConverterCrashed)
                else "conversion", "reason": str(error.reason), "line": _int_or_none(error.line),
                "element": _text_or_none(error.element), "field": _text_or_none(error.field), "restart": False,
            })  # fmt: skip
            return False
        except MemoryError:
            out_of_memory = True  # answered below, once the traceback (and what the converter held) is gone
        except _Broken as error:
            self.channel.send({"type": "error", "id": request_id, "kind": "crashed", "message": str(error),
                               "restart": False})  # fmt: skip
            return False
        except BaseException as error:  # noqa: BLE001 - a bug in the converter (SystemExit and friends included)
            text = f"{self.label} failed: {type(error).__name__}: {error}{_where(error)}"
            self.channel.send({"type": "error", "id": request_id, "kind": "crashed", "message": text, "restart": True})
            return True  # its state may be broken: the parent starts a fresh process for the next call
        if out_of_memory:
            limit = f" (the sandbox's limit is {self.memory_mb} MB)" if self.memory_mb else ""
            self.channel.send({"type": "error", "id": request_id, "kind": "memory", "restart": True,
                               "message": f"{self.label} ran out of memory{limit}"})  # fmt: skip
        return True

    def _source(self, message: dict[str, Any], blobs: list[bytes]) -> Any:
        from pywats_client.converters.sources import SourceFile, SourceFolder

        source = message["source"]
        if source["kind"] == "file":
            return SourceFile(Path(source["path"]), blobs[0])
        files = source["files"]
        sidecars = source["sidecars"]
        return SourceFolder(Path(source["path"]), dict(zip(files, blobs[: len(files)])),
                            dict(zip(sidecars, blobs[len(files):])))  # fmt: skip

    def _context(self, message: dict[str, Any]) -> Any:
        from pywats import Station
        from pywats_client.converters.base import ConversionContext

        context = message.get("context") or {}
        station = context.get("station")
        return ConversionContext(
            station=Station(*station) if station else None, timezone=_decode_timezone(context.get("timezone")),
            log=logging.getLogger(context.get("log") or "pywats_client.converters"),
        )  # fmt: skip

    def _reports(self, produced: Any) -> list[bytes]:
        """The WSJF text of each report, checked as :func:`~pywats_client.converters.run.convert_source` does."""
        from collections.abc import Iterable

        from pywats.formats import wsjf
        from pywats.models import UURReport, UUTReport

        reports = list(produced) if isinstance(produced, Iterable) and not isinstance(produced, (str, bytes)) \
            else produced  # fmt: skip
        if not isinstance(reports, list):
            raise _Broken(f"{self.label} returned {type(reports).__name__}, not a list of reports")
        texts = []
        for index, report in enumerate(reports):
            if not isinstance(report, (UUTReport, UURReport)):
                raise _Broken(f"{self.label} returned {type(report).__name__} as report {index}, "
                              "not a UUT or UUR report")  # fmt: skip
            try:
                texts.append(wsjf.dumps(report).encode("utf-8"))
            except Exception as error:  # noqa: BLE001 - a model built without validation may not serialise
                raise _Broken(f"{self.label} made an invalid report {index}: {type(error).__name__}: {error}") from None
        return texts


class _Broken(Exception):
    """The converter broke a rule of the converter API (the process itself is fine)."""


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _text_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None


def main() -> int:
    global _channel
    channel = _channel = _private_channel()
    try:
        first = channel.receive()
    except ProtocolError as error:
        print(f"sandbox worker: {error}", file=sys.stderr)
        return 2
    if first is None:
        return 0
    init = first[0]
    init["memory_note"] = _limit_memory(init.get("memory_mb"))
    handler = _ChannelLogHandler()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(int(init.get("log_level") or logging.INFO))
    _watch_parent()
    worker = _Worker(channel)
    try:
        if not worker.start(init):
            return 0
        worker.serve()
    except ProtocolError as error:
        print(f"sandbox worker: {error}", file=sys.stderr)
        return 2
    except (BrokenPipeError, OSError):
        return 0  # the parent went away
    return 0


if __name__ == "__main__":
    sys.exit(main())
