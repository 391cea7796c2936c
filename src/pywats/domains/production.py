"""``api.production``: units on the line, their phases and assemblies, batches, and serial number pools.

Endpoints (``wats-api/openapi_public_v3.json``, tag Production):

==================================  =================================================================
method                              endpoint
==================================  =================================================================
``get_unit``                        ``GET /api/Production/Unit/{serialNumber}/{partNumber}`` (PREVIEW)
``save_units``                      ``PUT /api/Production/Units``
``set_unit_phase``                  ``PUT /api/Production/SetUnitPhase``
``set_unit_process``                ``PUT /api/Production/SetUnitProcess``
``get_unit_changes``                ``GET /api/Production/Units/Changes``
``acknowledge_unit_change``         ``DELETE /api/Production/Units/Changes/{id}``
``add_child_unit``                  ``POST /api/Production/AddChildUnit``
``remove_child_unit``               ``POST /api/Production/RemoveChildUnit``
``check_child_units``               ``GET /api/Production/CheckChildUnits``
``get_unit_verification``           ``GET /api/Production/UnitVerification``
``save_batches``                    ``PUT /api/Production/Batches``
``get_serial_number_types``         ``GET /api/Production/SerialNumbers/Types``
``take_serial_numbers``             ``POST /api/Production/SerialNumbers/Take``
``get_serial_numbers_by_range``     ``GET /api/Production/SerialNumbers/ByRange``
``get_serial_numbers_by_reference`` ``GET /api/Production/SerialNumbers/ByReference``
``export_serial_numbers``           ``GET /api/Production/SerialNumbers``
``upload_serial_numbers``           ``PUT /api/Production/SerialNumbers``
==================================  =================================================================

Commands (save, set, add, remove, acknowledge, upload) return None: the 2xx is the answer, and a refusal is
an exception (``BadRequestError`` with WATS's reason). The public API has no call to create serial number
types (they are set up in WATS's Production Manager) and none to read batches back.

Taking serial numbers is a POST that is *not* retried after an ambiguous failure (a timeout once the request
was sent): the server may have taken the numbers already, and a blind resend would take a second set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import IntEnum
from typing import Any

from .._ops import Op, json_as, path_segment, text_body
from ._domain import Domain, M, endpoint
from ._mes import file_upload, json_body, models_of, no_content, required_text
from ._models import ApiModel, WatsDateTime
from ._serials import SerialNumber, SerialNumberType, date_param, serial_records, serial_values
from .product import Product, ProductRevision, Setting

SERIAL_FORMATS = ("XML", "CSV")


class UnitPhase(IntEnum):
    """A unit's phase (``unitPhaseId``), as ``PUT /api/Production/SetUnitPhase`` lists them."""

    UNKNOWN = 1
    UNDER_PRODUCTION = 2
    PRODUCTION_REPAIR = 4
    SERVICE_REPAIR = 8
    FINALIZED = 16
    SCRAPPED = 32
    EXTENDED_TEST = 64
    CUSTOMIZATION = 128
    REPAIRED = 256
    MISSING = 512
    IN_STORAGE = 1024
    SHIPPED = 2048
    QUEUED_FOR_PRODUCTION = 4098
    WAITING_FOR_PRODUCTION_REPAIR = 4100
    WAITING_FOR_SERVICE_REPAIR = 4104


class Unit(ApiModel):
    """A unit (``Production.Public.Unit``): one serial number of one part number, and its sub units.

    To save units, give at least ``serial_number`` and ``part_number``; fields left None are not sent.
    ``process_code`` is text in WATS's schema.
    """

    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    parent_serial_number: str | None = None
    batch_number: str | None = None
    serial_date: WatsDateTime | None = None
    current_location: str | None = None
    xml_data: str | None = None
    unit_phase_id: int | None = None
    unit_phase: str | None = None
    process_code: str | None = None
    tags: list[Setting] | None = None
    product_revision: ProductRevision | None = None
    product: Product | None = None
    sub_units: list[Unit] | None = None


class UnitChange(ApiModel):
    """A change to a unit's parent, part number, revision or phase, waiting to be acknowledged."""

    id: int | None = None
    unit_serial_number: str | None = None
    new_parent_serial_number: str | None = None
    new_part_number: str | None = None
    new_revision: str | None = None
    new_unit_phase_id: int | None = None


class ProductionBatch(ApiModel):
    """A production batch: its number and how many units it holds."""

    batch_number: str | None = None
    batch_size: int | None = None


class UnitVerification(ApiModel):
    """How a unit did in one process of its verification rule."""

    process_code: int | None = None
    process_name: str | None = None
    process_index: int | None = None
    status: str | None = None
    start_utc: WatsDateTime | None = None
    station_name: str | None = None
    total_count: int | None = None
    non_passed_count: int | None = None
    repair_count: int | None = None


class UnitVerificationGrade(ApiModel):
    """A unit's verification (``PublicUnitVerificationGrade``): overall status, grade, and per process."""

    status: str | None = None
    grade: str | None = None
    all_processes_executed_in_correct_order: bool | None = None
    all_processes_passed_first_run: bool | None = None
    all_processes_passed_any_run: bool | None = None
    all_processes_passed_last_run: bool | None = None
    no_repairs: bool | None = None
    results: list[UnitVerification] | None = None


class ChildUnitStatus(ApiModel):
    """One direct child of a parent unit, as :meth:`ProductionService.check_child_units` found it."""

    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    unit_phase_id: int | None = None
    is_valid: bool | None = None
    message: str | None = None


class ChildUnitCheck(ApiModel):
    """The answer of ``GET /api/Production/CheckChildUnits``. WATS gives no schema; unknown fields are kept."""

    serial_number: str | None = None
    part_number: str | None = None
    is_valid: bool | None = None
    child_units: list[ChildUnitStatus] | None = None


def _format(value: str) -> str:
    upper = str(value).upper()
    if upper not in SERIAL_FORMATS:
        raise ValueError(f"format must be 'XML' or 'CSV', not {value!r}")
    return upper


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
    return value


class ProductionService(Domain[M]):
    """Production: ``api.production``."""

    # -- units -------------------------------------------------------------------------------------------------

    @endpoint
    def get_unit(self, serial_number: str, part_number: str) -> Op[Unit]:
        """A unit with its sub units (PREVIEW in WATS). Missing: ``NotFoundError`` (None when LENIENT).

        >>> api.production.get_unit("SN-1001", "PCBA-100").unit_phase
        'Under production'
        """
        path = f"/api/Production/Unit/{path_segment(serial_number)}/{path_segment(part_number)}"
        return Op("GET", path, parser=json_as(Unit), missing_ok=True)

    @endpoint
    def save_units(self, units: Iterable[Unit | Mapping[str, Any]]) -> Op[None]:
        """Add units, or update them by serial and part number (fields left None keep their value).

        >>> api.production.save_units([Unit(serial_number="SN-1001", part_number="PCBA-100", revision="A")])
        """
        items = models_of(Unit, units, "units")
        for unit in items:
            required_text("serial_number", unit.serial_number)
            required_text("part_number", unit.part_number)
        return Op("PUT", "/api/Production/Units", body=json_body(items), content_type="application/json",
                  parser=no_content)  # fmt: skip

    @endpoint
    def set_unit_phase(self, serial_number: str, part_number: str, phase: UnitPhase | int) -> Op[None]:
        """Move a unit to ``phase`` (a :class:`UnitPhase`, or its number)."""
        if isinstance(phase, bool) or not isinstance(phase, int):
            raise TypeError(f"phase must be a UnitPhase or its number, not {phase!r}")
        params = {"serialNumber": serial_number, "partNumber": part_number, "phase": int(phase)}
        return Op("PUT", "/api/Production/SetUnitPhase", params=params, parser=no_content)

    @endpoint
    def set_unit_process(self, serial_number: str, part_number: str, process_name: str) -> Op[None]:
        """Set the process (by name, e.g. ``"ICT"``) a unit is at."""
        params = {"serialNumber": serial_number, "partNumber": part_number,
                  "processName": required_text("process_name", process_name)}  # fmt: skip
        return Op("PUT", "/api/Production/SetUnitProcess", params=params, parser=no_content)

    @endpoint
    def get_unit_changes(self, max_count: int = 100) -> Op[list[UnitChange]]:
        """Units whose parent, part number, revision or phase changed, oldest first; acknowledge each once
        handled, or it is returned again."""
        return Op("GET", "/api/Production/Units/Changes", params={"maxCount": _count("max_count", max_count)},
                  parser=json_as(list[UnitChange]))  # fmt: skip

    @endpoint
    def acknowledge_unit_change(self, change_id: int) -> Op[None]:
        """Delete a unit change once it is handled (``UnitChange.id``)."""
        if isinstance(change_id, bool) or not isinstance(change_id, int):
            raise TypeError(f"change_id must be the integer UnitChange.id, not {change_id!r}")
        return Op("DELETE", f"/api/Production/Units/Changes/{change_id}", parser=no_content)

    # -- assemblies --------------------------------------------------------------------------------------------

    @endpoint
    def add_child_unit(
        self,
        parent_serial_number: str,
        parent_part_number: str,
        child_serial_number: str,
        child_part_number: str,
        *,
        check_part_number: str = "",
        check_revision: str = "",
    ) -> Op[None]:
        """Put a child unit into a parent (box build).

        WATS checks the child against the parent's box build, unless ``check_part_number`` (and
        ``check_revision``) name what to check it against instead. The child must have no parent yet, be
        finalized, and not be an ancestor of the parent.
        """
        params = {
            "parentSerialNumber": parent_serial_number,
            "parentPartNumber": parent_part_number,
            "childSerialNumber": child_serial_number,
            "childPartNumber": child_part_number,
            "checkPartNumber": check_part_number,  # required by the API; blank means "use the box build"
            "checkRevision": check_revision,
        }
        return Op("POST", "/api/Production/AddChildUnit", params=params, parser=no_content)

    @endpoint
    def remove_child_unit(
        self, parent_serial_number: str, parent_part_number: str, child_serial_number: str, child_part_number: str
    ) -> Op[None]:
        """Take a child unit out of its parent (the relation must exist)."""
        params = {
            "parentSerialNumber": parent_serial_number,
            "parentPartNumber": parent_part_number,
            "childSerialNumber": child_serial_number,
            "childPartNumber": child_part_number,
        }
        # Removing a relation twice fails the second time, so the POST is not retried after an ambiguous error.
        return Op("POST", "/api/Production/RemoveChildUnit", params=params, parser=no_content)

    @endpoint
    def check_child_units(self, parent_serial_number: str, parent_part_number: str) -> Op[ChildUnitCheck]:
        """Whether a parent's direct children are right by its box build (phase, part number, revision)."""
        params = {"parentSerialNumber": parent_serial_number, "parentPartNumber": parent_part_number}
        return Op("GET", "/api/Production/CheckChildUnits", params=params, parser=json_as(ChildUnitCheck))

    @endpoint
    def get_unit_verification(
        self, serial_number: str, part_number: str | None = None
    ) -> Op[UnitVerificationGrade]:
        """A unit's verification grade: did it pass every process of its verification rule, in order."""
        params = {"serialNumber": required_text("serial_number", serial_number), "partNumber": part_number}
        return Op("GET", "/api/Production/UnitVerification", params=params, parser=json_as(UnitVerificationGrade))

    # -- batches -----------------------------------------------------------------------------------------------

    @endpoint
    def save_batches(self, batches: Iterable[ProductionBatch | Mapping[str, Any]]) -> Op[None]:
        """Add batches, or update their size by batch number."""
        items = models_of(ProductionBatch, batches, "batches")
        for batch in items:
            required_text("batch_number", batch.batch_number)
        return Op("PUT", "/api/Production/Batches", body=json_body(items), content_type="application/json",
                  parser=no_content)  # fmt: skip

    # -- serial numbers ----------------------------------------------------------------------------------------

    @endpoint
    def get_serial_number_types(self) -> Op[list[SerialNumberType]]:
        """The serial number pools on the server."""
        return Op("GET", "/api/Production/SerialNumbers/Types", parser=json_as(list[SerialNumberType]))

    @endpoint
    def take_serial_numbers(
        self,
        serial_number_type: str,
        quantity: int = 1,
        *,
        ref_sn: str | None = None,
        ref_pn: str | None = None,
        station_name: str | None = None,
        only_in_sequence: bool | None = None,
    ) -> Op[list[str]]:
        """Take free serial numbers from a pool; no one else gets them afterwards.

        Fewer than ``quantity`` come back when the pool runs short. With ``only_in_sequence`` they are
        consecutive, or the server refuses (``BadRequestError``). ``station_name`` defaults to the client's
        active station.

        >>> api.production.take_serial_numbers("MACAddress", 2, ref_sn="SN-1001", ref_pn="PCBA-100")
        ['00:50:C2:00:00:00', '00:50:C2:00:00:01']
        """
        if station_name is None and self._client.stations.active is not None:
            station_name = self._client.stations.active.name
        params = {
            "serialNumberType": required_text("serial_number_type", serial_number_type),
            "quantity": _count("quantity", quantity),
            "refSN": ref_sn,
            "refPN": ref_pn,
            "stationName": station_name,
            "onlyInSequence": only_in_sequence,
            "format": "XML",
        }
        return Op("POST", "/api/Production/SerialNumbers/Take", params=params, accept="application/xml, text/csv",
                  parser=serial_values)  # fmt: skip

    @endpoint
    def get_serial_numbers_by_range(
        self,
        serial_number_type: str,
        start_address: str,
        end_address: str,
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> Op[list[SerialNumber]]:
        """The serial numbers of a pool from ``start_address`` to ``end_address`` (inclusive), free or taken."""
        params = {
            "serialNumberType": required_text("serial_number_type", serial_number_type),
            "startAddress": required_text("start_address", start_address),
            "endAddress": required_text("end_address", end_address),
            "startDate": date_param(start_date),
            "endDate": date_param(end_date),
        }
        return Op("GET", "/api/Production/SerialNumbers/ByRange", params=params, parser=serial_records)

    @endpoint
    def get_serial_numbers_by_reference(
        self,
        serial_number_type: str,
        *,
        ref_sn: str | None = None,
        ref_pn: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> Op[list[SerialNumber]]:
        """The serial numbers taken for a unit (``ref_sn``), a part number (``ref_pn``), or both."""
        if not ref_sn and not ref_pn:
            raise ValueError("give ref_sn, ref_pn or both")
        params = {
            "serialNumberType": required_text("serial_number_type", serial_number_type),
            "refSN": ref_sn,
            "refPN": ref_pn,
            "startDate": date_param(start_date),
            "endDate": date_param(end_date),
        }
        return Op("GET", "/api/Production/SerialNumbers/ByReference", params=params, parser=serial_records)

    @endpoint
    def export_serial_numbers(
        self,
        serial_number_type: str,
        format: str = "CSV",
        *,
        start_address: str | None = None,
        end_address: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> Op[str]:
        """A pool's serial numbers as an XML or CSV file (the text), optionally limited to a range or dates."""
        params = {
            "serialNumberType": required_text("serial_number_type", serial_number_type),
            "format": _format(format),
            "startAddress": start_address,
            "endAddress": end_address,
            "startDate": date_param(start_date),
            "endDate": date_param(end_date),
        }
        return Op("GET", "/api/Production/SerialNumbers", params=params, accept="*/*", parser=text_body)

    @endpoint
    def upload_serial_numbers(
        self, serial_number_type: str, content: str | bytes, format: str = "CSV", *, filename: str | None = None
    ) -> Op[None]:
        """Add free serial numbers to a pool from an XML or CSV file's content (numbers it has are skipped)."""
        kind = _format(format)
        data = content.encode("utf-8") if isinstance(content, str) else content
        media = "text/csv" if kind == "CSV" else "application/xml"
        body, content_type = file_upload(data, filename or f"serialnumbers.{kind.lower()}", media)
        params = {"serialNumberType": required_text("serial_number_type", serial_number_type), "format": kind}
        return Op("PUT", "/api/Production/SerialNumbers", params=params, body=body, content_type=content_type,
                  parser=no_content)  # fmt: skip


__all__ = [
    "ChildUnitCheck",
    "ChildUnitStatus",
    "ProductionBatch",
    "ProductionService",
    "SerialNumber",
    "SerialNumberType",
    "Unit",
    "UnitChange",
    "UnitPhase",
    "UnitVerification",
    "UnitVerificationGrade",
]
