"""The WATS Standard JSON Format (WSJF) as pydantic v2 models.

``parse_report`` validates a report from JSON text or a dict; ``report.model_dump_json()`` writes WSJF.
Statuses are computed by :mod:`pywats.models.status`; :class:`pywats.ReportBuilder` builds reports.
"""

from ._parse import LengthMode, parse_report
from .enums import (
    ChartType,
    CompOp,
    MeasurementStatus,
    ReportResult,
    ReportType,
    StepGroup,
    StepStatus,
)
from .parts import (
    AdditionalData,
    Attachment,
    BooleanMeasurement,
    CallExecutableInfo,
    Chart,
    ChartSeries,
    LoopInfo,
    MessagePopupInfo,
    NumericMeasurement,
    Property,
    PropertyArray,
    SequenceCallInfo,
    StringMeasurement,
)
from .report import (
    Asset,
    Failure,
    MiscInfo,
    RepairSubUnit,
    Report,
    ReportBase,
    ReportRef,
    SubUnit,
    UURInfo,
    UURReport,
    UUTInfo,
    UUTReport,
)
from .steps import (
    AttachmentStep,
    BooleanStep,
    CallExecutableStep,
    ChartStep,
    GenericStep,
    MessagePopupStep,
    NumericStep,
    SequenceCallStep,
    Step,
    StepBase,
    StringStep,
    UnknownStep,
)

__all__ = [
    "AdditionalData", "Asset", "Attachment", "AttachmentStep", "BooleanMeasurement", "BooleanStep",
    "CallExecutableInfo", "CallExecutableStep", "Chart", "ChartSeries", "ChartStep", "ChartType", "CompOp",
    "Failure", "GenericStep", "LengthMode", "LoopInfo", "MeasurementStatus", "MessagePopupInfo",
    "MessagePopupStep", "MiscInfo", "NumericMeasurement", "NumericStep", "Property", "PropertyArray",
    "RepairSubUnit", "Report", "ReportBase", "ReportRef", "ReportResult", "ReportType", "SequenceCallInfo",
    "SequenceCallStep", "Step", "StepBase", "StepGroup", "StepStatus", "StringMeasurement", "StringStep",
    "SubUnit", "UnknownStep", "UURInfo", "UURReport", "UUTInfo", "UUTReport", "parse_report",
]  # fmt: skip
