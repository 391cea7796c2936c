"""Reports: a UUT (test) or UUR (repair) report in the WATS Standard JSON Format (WSJF).

Structural rules checked on every report:

- a UUT report has a root step, and the root is a sequence call with ``seqCall``;
- a UUR report lists the repaired unit and its parts as sub units: every ``idx`` is set and unique, one
  of them is 0, and every ``parentIdx`` / ``replacedIdx`` names an existing ``idx``;
- a misc info has a ``text`` or a ``numeric`` value.

Step rules live with the steps (:mod:`pywats.models.steps`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union
from uuid import UUID, uuid4

from pydantic import Field, field_validator, model_validator

from ._base import Str30, Str50, Str100, Str500, Str5000, WatsDateTime, WatsModel
from .enums import ReportResult, ReportType
from .parts import AdditionalData, Attachment
from .steps import SequenceCallStep, Step, StepBase


class MiscInfo(WatsModel):
    """A free-form key/value on the report header: ``description`` with a ``text`` or ``numeric`` value."""

    description: Str100
    text: Str100 | None = None
    numeric: int | None = None
    numeric_format: str | None = None
    typedef: Str30 | None = None
    id: str | None = None

    @model_validator(mode="after")
    def _has_value(self) -> MiscInfo:
        if self.text is None and self.numeric is None:
            raise ValueError(f"misc info {self.description!r} needs a text or a numeric value")
        return self


class SubUnit(WatsModel):
    """A part built into the unit under test (a PCBA, a module...)."""

    part_type: Str50 = ""
    sn: Str100
    pn: Str100
    rev: Str100 | None = None


class Failure(WatsModel):
    """A failure found during a repair, on one sub unit of a UUR report."""

    category: Str100 | None = None
    code: Str100 | None = None
    comment: Str5000 | None = None
    com_ref: Str50 | None = None
    func_block: Str100 | None = None
    ref_step_id: int | None = None
    ref_step_name: Str100 | None = None
    art_number: Str100 | None = None
    art_rev: Str100 | None = None
    art_vendor: Str500 | None = None
    art_description: Str500 | None = None
    attachments: list[Attachment] | None = None


class RepairSubUnit(SubUnit):
    """A sub unit of a UUR report: the repaired unit is ``idx`` 0; parts point at their parent."""

    idx: int | None = None
    parent_idx: int | None = None
    replaced_idx: int | None = None
    position: int | None = None
    failures: list[Failure] | None = None


class Asset(WatsModel):
    """A fixture or instrument used for the test, and how often it has been used."""

    asset_sn: Str100 = Field(alias="assetSN")
    usage_count: int | None = None
    usage_count_format: str | None = None


class ReportRef(WatsModel):
    """A reference to another report (output only)."""

    id: UUID | None = None
    start: WatsDateTime | None = None


class UUTInfo(WatsModel):
    """Test-specific header of a UUT report."""

    user: Str100 | None = None
    batch_sn: Str100 | None = Field(default=None, alias="batchSN")
    comment: Str5000 | None = None
    error_code: int | None = None
    error_message: Str500 | None = None
    fixture_id: Str100 | None = None
    exec_time: float | None = None
    test_socket_index: int | None = None
    batch_fail_count: int | None = None
    batch_loop_index: int | None = None
    step_id_caused_uut_failure: int | None = Field(default=None, alias="stepIdCausedUUTFailure")
    ref_uurs: list[ReportRef] | None = Field(default=None, alias="refUURs")


class UURInfo(WatsModel):
    """Repair-specific header of a UUR report. ``process_code`` is the test operation that failed."""

    user: Str100 | None = None
    comment: Str5000 | None = None
    exec_time: float | None = None
    process_code: int | None = None
    process_name: str | None = None
    ref_uut: UUID | None = Field(default=None, alias="refUUT")
    confirm_date: WatsDateTime | None = None
    finalize_date: WatsDateTime | None = None
    parent: UUID | None = None
    children: list[UUID] | None = None


class ReportBase(WatsModel):
    """Header fields shared by UUT and UUR reports."""

    type: ReportType
    id: UUID = Field(default_factory=uuid4)
    pn: Str100
    sn: Str100
    rev: Str100
    machine_name: Str100 = ""
    location: Str100 = ""
    purpose: Str100 = ""
    result: ReportResult
    start: WatsDateTime
    start_utc: WatsDateTime | None = Field(default=None, alias="startUTC")
    process_code: int
    process_name: str | None = None
    process_code_format: str | None = None
    product_name: str | None = None
    origin: str | None = None
    asset_stats: Any = None
    misc_infos: list[MiscInfo] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)
    additional_data: list[AdditionalData] = Field(default_factory=list)


class UUTReport(ReportBase):
    """A test report: the unit's header, its sub units and the step tree under ``root``."""

    type: Literal[ReportType.UUT] = ReportType.UUT
    root: Step
    uut: UUTInfo = Field(default_factory=UUTInfo)
    sub_units: list[SubUnit] = Field(default_factory=list)

    @field_validator("root")
    @classmethod
    def _root_is_sequence(cls, root: StepBase) -> StepBase:
        if not isinstance(root, SequenceCallStep) or root.seq_call is None:
            raise ValueError("the root step must be a sequence call with seqCall")
        return root

    def iter_steps(self) -> list[StepBase]:
        """Every step of the report, depth first, root included."""
        found: list[StepBase] = []
        pending: list[StepBase] = [self.root]
        while pending:
            step = pending.pop()
            found.append(step)
            if isinstance(step, SequenceCallStep):
                pending.extend(reversed(step.steps))
        return found


class UURReport(ReportBase):
    """A repair report: the repaired unit (sub unit ``idx`` 0), its parts, failures and attachments."""

    type: Literal[ReportType.UUR] = ReportType.UUR
    uur: UURInfo = Field(default_factory=UURInfo)
    sub_units: list[RepairSubUnit] = Field(default_factory=list)
    binary_data: list[Attachment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_indexes(self) -> UURReport:
        indexes: set[int] = set()
        for position, unit in enumerate(self.sub_units):
            if unit.idx is None:
                raise ValueError(f"subUnits[{position}] has no idx: every sub unit of a repair has one")
            if unit.idx in indexes:
                raise ValueError(f"subUnits[{position}]: idx {unit.idx} is used twice")
            indexes.add(unit.idx)
        if 0 not in indexes:
            raise ValueError("a repair report needs the repaired unit as the sub unit with idx 0")
        for position, unit in enumerate(self.sub_units):
            for field, ref in (("parentIdx", unit.parent_idx), ("replacedIdx", unit.replaced_idx)):
                if ref is not None and ref not in indexes:
                    raise ValueError(f"subUnits[{position}].{field} {ref} names no sub unit")
        return self


Report = Annotated[Union[UUTReport, UURReport], Field(discriminator="type")]

__all__ = [
    "Asset",
    "Failure",
    "MiscInfo",
    "RepairSubUnit",
    "Report",
    "ReportBase",
    "ReportRef",
    "SubUnit",
    "UURInfo",
    "UURReport",
    "UUTInfo",
    "UUTReport",
]
