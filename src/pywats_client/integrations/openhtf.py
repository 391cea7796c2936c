"""An OpenHTF output callback that puts each finished test record into a pyWATS instance's queue.

.. code-block:: python

    import openhtf as htf
    from pywats_client.integrations.openhtf import WATSOutput

    test = htf.Test(power_up, measure_rails)
    test.add_output_callbacks(WATSOutput("line1", arguments={"process_code": 100}))
    test.execute(test_start=lambda: "PCB-0001")

Each record becomes a WATS UUT report (:func:`~pywats_client.converters.builtin.openhtf.report_from_record`,
with the ``openhtf`` converter's ``arguments``), takes empty station fields from the instance's configuration,
and is written durably to the instance's queue (``queue.db``, SQLite). The station service of that instance
uploads it: right away when it is running (it looks at the queue at least every 5 s), or whenever it starts.
The service need not run while the test does.

The report id is deterministic: ``report_id_for`` over the key the service gives the ``openhtf`` converter's
reports (converter name and version, the SHA-256 of the record's JSON text, index 0). So the same record
always gets the same id (called twice, it is queued once: the second call finds it ``"unchanged"``), and a
record that went once through the queue and once through the spool folder (below) is still one report on
the server. Give the ``openhtf`` converter entry the same arguments as the callback, so both ways make the
same report.

When the queue cannot be written (the instance has no folder, its configuration is broken, the database
fails) or the record does not make a report, the record is written as an OpenHTF JSON file into ``spool_dir``
(default ``<instance>/watch/openhtf``, the watch folder of a converter entry named ``openhtf``), atomically:
a temporary file renamed into place, so a watching service never reads half a record. A service with an
``openhtf`` converter entry on that folder delivers it later (a record that does not convert ends in that
entry's error folder with the reason). Spooling the same record twice writes the same file name.

The callback never raises into the test run: every failure is logged on the ``pywats_client.integrations``
logger, and only when neither the queue nor the spool folder can be written is a record lost (logged as an
error, with the spool folder named).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pywats import Station
from pywats._station import fill_station
from pywats.builder import report_id_for
from pywats.formats import wsjf
from pywats.models import UUTReport

from .. import config as config_module
from ..converters.base import ConversionContext
from ..converters.builtin.openhtf import OpenHTFArguments, OpenHTFConverter, report_from_record
from ..converters.errors import ConversionError
from ..converters.run import report_id_key
from ..converters.sources import SourceFile
from ..instance import DEFAULT_INSTANCE, InstancePaths
from ..queue import NewReport, QueueError, ReportQueue

log = logging.getLogger("pywats_client.integrations")

SPOOL_CONVERTER = "openhtf"
"""The converter entry name whose default watch folder is the default spool folder."""

QUEUED, UNCHANGED, SPOOLED, LOST = "queued", "unchanged", "spooled", "lost"


class _Unavailable(Exception):
    """The instance cannot take the report now (no folder, broken configuration)."""


class WATSOutput:
    """An OpenHTF output callback delivering records through the pyWATS instance ``instance``.

    Args:
        instance: the instance's name (its folder is found as the CLI finds it, ``PYWATS_HOME`` included), or
            its :class:`~pywats_client.instance.InstancePaths`.
        arguments: arguments of the ``openhtf`` converter (``process_code``, ``part_number``, ``revision``...);
            checked now, so a wrong one fails when the test is built, not after it ran.
        spool_dir: where records go when the queue cannot be written; default ``<instance>/watch/openhtf``.

    Raises (on creation only):
        ValueError: the instance name is not valid.
        ConverterArgumentError: ``arguments`` do not fit the ``openhtf`` converter's schema.

    Calling it returns what became of the record: ``"queued"``, ``"unchanged"`` (already queued or sent),
    ``"spooled"`` or ``"lost"``; OpenHTF ignores the value.
    """

    def __init__(self, instance: str | InstancePaths = DEFAULT_INSTANCE, *,
                 arguments: Mapping[str, Any] | OpenHTFArguments | None = None,
                 spool_dir: str | Path | None = None) -> None:  # fmt: skip
        self.paths = instance if isinstance(instance, InstancePaths) else InstancePaths.of(instance)
        self.arguments: OpenHTFArguments = OpenHTFConverter(arguments).arguments  # type: ignore[assignment]
        default = self.paths.watch_dir(SPOOL_CONVERTER)
        self.spool_dir = Path(spool_dir).expanduser() if spool_dir is not None else default

    def __repr__(self) -> str:
        return f"WATSOutput({self.paths.name!r}, spool_dir={str(self.spool_dir)!r})"

    def __call__(self, test_record: Any) -> str:
        try:
            return self._deliver(test_record)
        except Exception:  # noqa: BLE001 - nothing may escape into the OpenHTF test run
            log.exception("WATS output: unexpected failure with a test record for instance %s", self.paths.name)
            return LOST

    # -- the steps ----------------------------------------------------------------------------------------------

    def _deliver(self, test_record: Any) -> str:
        try:
            record = record_as_dict(test_record)
            document = record_json(record).encode("utf-8")
        except Exception as error:  # noqa: BLE001 - an object we cannot read must still not break the test
            log.error("WATS output: the test record (%s) could not be read, so it is lost: %s: %s",
                      type(test_record).__name__, type(error).__name__, error)  # fmt: skip
            return LOST
        spooled = SpooledRecord(spool_file_name(record, document), document)
        serial = _text(record.get("dut_id")) or "(no serial number)"
        try:
            station = self._station()
            report = self._report(spooled, station)
        except _Unavailable as why:
            log.warning("WATS output: %s; the record of %s is spooled for later", why, serial)
            return self._spool(spooled, serial)
        except ConversionError as error:
            log.warning("WATS output: the record of %s does not make a WATS report (%s); it is spooled, and the "
                        "openhtf converter will set it aside with the reason", serial, error)  # fmt: skip
            return self._spool(spooled, serial)
        except Exception:  # noqa: BLE001 - a bug of ours must not cost the record
            log.exception("WATS output: making the report of %s failed; the record is spooled", serial)
            return self._spool(spooled, serial)
        try:
            outcome = self._enqueue(report)
        except (QueueError, _Unavailable, OSError) as error:
            log.warning("WATS output: the queue of instance %s cannot be written (%s); the record of %s is "
                        "spooled for later", self.paths.name, error, serial)  # fmt: skip
            return self._spool(spooled, serial)
        except Exception:  # noqa: BLE001
            log.exception("WATS output: queueing the report of %s failed; the record is spooled", serial)
            return self._spool(spooled, serial)
        if outcome == UNCHANGED:
            log.info("WATS output: report %s of %s is already in the queue of %s", report.id, serial, self.paths.name)
        else:
            log.info("WATS output: report %s of %s queued in %s", report.id, serial, self.paths.name)
        return outcome

    def _station(self) -> Station:
        if not self.paths.root.is_dir():
            raise _Unavailable(f"instance {self.paths.name} has no folder ({self.paths.root})")
        try:
            configuration = config_module.load(self.paths)
        except config_module.ConfigError as error:
            raise _Unavailable(f"the configuration of instance {self.paths.name} is not usable: {error}") from None
        return configuration.station.station()

    def _report(self, spooled: SpooledRecord, station: Station) -> UUTReport:
        """The report exactly as the ``openhtf`` converter makes it from the spool file (same id, same content)."""
        converter = OpenHTFConverter(self.arguments)
        source = SourceFile(Path(spooled.name), spooled.data)
        context = ConversionContext(station=station, log=log)
        record = json.loads(spooled.data.decode("utf-8"))
        report = report_from_record(record, self.arguments, context)
        report = report.model_copy(update={"id": report_id_for(report_id_key(converter, source, 0))})
        return fill_station(report, station)

    def _enqueue(self, report: UUTReport) -> str:
        if not self.paths.root.is_dir():  # the queue would create the folder: that is not ours to do
            raise _Unavailable(f"instance {self.paths.name} has no folder ({self.paths.root})")
        item = NewReport(
            id=str(report.id).lower(), payload=wsjf.dumps(report), source=f"openhtf callback ({self.paths.name})",
            converter="openhtf", correlation_id=uuid.uuid4().hex[:12], serial_number=report.sn,
            part_number=report.pn,
        )  # fmt: skip
        queue = ReportQueue(self.paths.queue_db)
        try:
            (outcome,) = queue.enqueue([item])
        finally:
            queue.close()
        return UNCHANGED if outcome == "unchanged" else QUEUED

    def _spool(self, spooled: SpooledRecord, serial: str) -> str:
        try:
            path = write_spool_file(self.spool_dir, spooled)
        except Exception as error:  # noqa: BLE001 - the last resort failed: say so loudly, never raise
            log.error("WATS output: the record of %s could not be queued nor spooled to %s (%s: %s); it is lost",
                      serial, self.spool_dir, type(error).__name__, error)  # fmt: skip
            return LOST
        log.info("WATS output: the record of %s is spooled as %s", serial, path)
        return SPOOLED


# -- records ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SpooledRecord:
    """A record as the OpenHTF JSON file it is spooled as: its file name and its bytes."""

    name: str
    data: bytes


def record_json(record: Mapping[str, Any]) -> str:
    """The OpenHTF JSON text of a record (attachment bytes as base64, as OpenHTF's JSON output writes them).

    Deterministic: the same record always gives the same text, hence the same report id.
    """
    return json.dumps(base_types(record), default=_json_default, indent=1, ensure_ascii=False)


def record_as_dict(test_record: Any) -> dict[str, Any]:
    """An OpenHTF test record as base types (the shape its JSON output has), attachments with their bytes.

    A mapping is taken as it is. An OpenHTF ``TestRecord`` is converted with OpenHTF's own
    ``openhtf.util.data.convert_to_base_types`` when OpenHTF can be imported; anything else (or without
    OpenHTF) by walking its attributes (attrs classes, dataclasses, named tuples, enums by name).
    """
    if isinstance(test_record, Mapping):
        return dict(test_record)
    try:
        from openhtf.util import data as openhtf_data
    except ImportError:
        openhtf_data = None
    if openhtf_data is not None:
        record = openhtf_data.convert_to_base_types(test_record)
        _restore_attachments(record, test_record)
    else:
        record = base_types(test_record)
    if not isinstance(record, dict):
        raise TypeError(f"a test record converts to {type(record).__name__}, not an object")
    return record


def _restore_attachments(record: dict[str, Any], test_record: Any) -> None:
    """Newer OpenHTF leaves only an attachment's description in the base types: put the data back."""
    phases = record.get("phases")
    originals = getattr(test_record, "phases", None)
    if not isinstance(phases, list) or not isinstance(originals, (list, tuple)):
        return
    for phase, original in zip(phases, originals):
        attachments = getattr(original, "attachments", None)
        if not isinstance(phase, dict) or not isinstance(attachments, Mapping):
            continue
        restored = dict(phase.get("attachments") or {})
        for name, attachment in attachments.items():
            try:
                restored[str(name)] = {"mimetype": getattr(attachment, "mimetype", None), "data": attachment.data}
            except Exception as error:  # noqa: BLE001 - one unreadable attachment is left as OpenHTF gave it
                log.warning("WATS output: attachment %s could not be read: %s", name, error)
        phase["attachments"] = restored


def base_types(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON-like base types (bytes kept as bytes), for records that are not mappings."""
    if _depth > 64:
        return repr(value)
    deeper = _depth + 1
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(base_types(key, deeper)): base_types(item, deeper) for key, item in value.items()}
    if hasattr(value, "_asdict"):  # named tuples, OpenHTF's measurements
        return base_types(value._asdict(), deeper)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [base_types(item, deeper) for item in value]
    if hasattr(value, "as_base_types"):
        return base_types(value.as_base_types(), deeper)
    fields = getattr(type(value), "__attrs_attrs__", None)
    if fields is not None:  # attrs classes (OpenHTF's TestRecord, PhaseRecord)
        return {field.name: base_types(getattr(value, field.name), deeper) for field in fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: base_types(getattr(value, field.name), deeper) for field in dataclasses.fields(value)}
    if hasattr(value, "__dict__"):
        return {name: base_types(item, deeper) for name, item in vars(value).items() if not name.startswith("_")}
    return str(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# -- the spool folder ------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.standard_b64encode(bytes(value)).decode("ascii")  # OpenHTF's JSON output does the same
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def spool_file_name(record: Mapping[str, Any], document: bytes) -> str:
    """``<dut>_<start>_<content hash>.json``: the same record always gets the same name (spooled twice, kept
    once)."""
    dut = re.sub(r"[^A-Za-z0-9._-]+", "_", _text(record.get("dut_id")))[:60].strip("._") or "record"
    start = re.sub(r"[^0-9]", "", _text(record.get("start_time_millis")))[:16] or "0"
    digest = hashlib.sha256(document).hexdigest()[:12]
    return f"{dut}_{start}_{digest}.json"


def write_spool_file(folder: Path, spooled: SpooledRecord) -> Path:
    """Write a spooled record into ``folder`` atomically (temporary file, fsync, rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / spooled.name
    # The temporary name ends in .tmp: no ``*.json`` pattern takes it while it is being written.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(spooled.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # the rename itself is durable once the folder is synced
        try:
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError:
            pass
    return target


__all__ = ["LOST", "QUEUED", "SPOOLED", "UNCHANGED", "SpooledRecord", "WATSOutput", "base_types", "record_as_dict",
           "record_json", "spool_file_name", "write_spool_file"]  # fmt: skip
