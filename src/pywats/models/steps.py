"""Steps: a discriminated union whose kind follows ``stepType`` and the payload the step carries.

WATS uses ``stepType`` only to pick an icon, so real files carry types WATS never listed. The kind of a
step (which model validates it) is therefore chosen in this order:

1. the payload: ``steps``/``seqCall`` → sequence call, ``numericMeas`` (+``chart``) → numeric or chart,
   ``stringMeas``, ``booleanMeas``, ``messagePopup``, ``callExe``, ``attachment``;
2. with no payload, the ``stepType`` (``Action``, ``NI_Flow_If``, ``ET_NLT`` with no measurement yet, ...);
3. otherwise :class:`UnknownStep`, which keeps every field it was given.

``step_type`` itself is always kept verbatim. A step that mixes payloads (numeric and string
measurements, a chart and an attachment, sub-steps and measurements) is refused with a clear error.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Union

from pydantic import Discriminator, Field, Tag, model_validator

from ._base import Str30, Str100, Str100k, Str200, WatsDateTime, WatsModel
from .enums import STRING_OPS, NUMERIC_OPS, StepGroup, StepStatus
from .parts import (
    AdditionalData,
    Attachment,
    BooleanMeasurement,
    CallExecutableInfo,
    Chart,
    LoopInfo,
    MessagePopupInfo,
    NumericMeasurement,
    SequenceCallInfo,
    StringMeasurement,
)

SEQUENCE_TYPES = ("SequenceCall", "WATS_SeqCall")
NUMERIC_TYPES = ("ET_NLT", "ET_MNLT", "NumericLimitTest", "MultipleNumericLimitTest")
STRING_TYPES = ("ET_SVT", "ET_MSVT", "StringValueTest", "MultipleStringValueTest")
BOOLEAN_TYPES = ("ET_PFT", "ET_MPFT", "PassFailTest", "MultiplePassFailTest")
CHART_TYPES = ("WATS_XYGMNLT",)
ATTACHMENT_TYPES = ("WATS_AttachFile",)
POPUP_TYPES = ("MessagePopup",)
CALL_EXE_TYPES = ("CallExecutable",)
GENERIC_TYPES = (
    "Action", "ET_A", "Statement", "Label", "Goto", "DoWhile",
    "NI_Flow_If", "NI_Flow_ElseIf", "NI_Flow_Else", "NI_Flow_End", "NI_Flow_For", "NI_Flow_ForEach",
    "NI_Flow_Break", "NI_Flow_Continue", "NI_Flow_DoWhile", "NI_Flow_While", "NI_Flow_Select",
    "NI_Flow_Case", "NI_Wait", "NI_Lock", "NI_Rendezvous", "NI_Queue", "NI_Notification", "NI_Semaphore",
    "NI_Batch_Sync", "NI_BatchSpec", "NI_AutoSchedule", "NI_UseResource", "NI_ThreadPriority",
    "NI_FTPFiles", "NI_OpenDatabase", "NI_OpenSQLStatement", "NI_CloseSQLStatement", "NI_CloseDatabase",
    "NI_DataOperation", "NI_IVIDmm", "NI_IVIScope", "NI_IVIFgen", "NI_IVIPowerSupply", "NI_Switch",
    "NI_IVITools", "NI_LV_CheckSystemStatus", "NI_LV_RunVIAsynchronously",
)  # fmt: skip


class StepBase(WatsModel):
    """Fields every step has. ``id`` is the step's order number, unique in the report (root = 0)."""

    KIND: ClassVar[str] = ""

    id: int | None = None
    group: StepGroup | None = StepGroup.MAIN
    step_type: str
    name: Str100 | None = None
    status: StepStatus | None = None
    start: WatsDateTime | None = None
    tot_time: float | None = None
    error_code: int | None = None
    error_message: Str200 | None = None
    report_text: Str100k | None = None
    ts_guid: Str30 | None = None
    caused_uut_failure: bool | None = Field(default=None, alias="causedUUTFailure")
    caused_seq_failure: bool | None = None
    interactive_exe_num: int | None = None
    loop: LoopInfo | None = None
    additional_results: list[AdditionalData] | None = None
    attachment: Attachment | None = None


def _require_names(measurements: list[Any]) -> None:
    if len(measurements) > 1:
        for index, measurement in enumerate(measurements):
            if not measurement.name:
                raise ValueError(
                    f"measurement {index} has no name: a step with several measurements must name each one"
                )


def _require_ops(measurements: list[Any], allowed: frozenset[Any], kind: str) -> None:
    for index, measurement in enumerate(measurements):
        if measurement.comp_op is not None and measurement.comp_op not in allowed:
            raise ValueError(
                f"measurement {index}: {measurement.comp_op.value} is not a comparison for {kind} values"
            )


class SequenceCallStep(StepBase):
    """A call of a sequence: the only kind of step that has sub-steps. The report's root is one."""

    KIND: ClassVar[str] = "SequenceCallStep"
    step_type: str = "SequenceCall"
    seq_call: SequenceCallInfo | None = None
    steps: list[Step] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_seq_call(self) -> SequenceCallStep:
        if self.seq_call is None and self.steps:
            raise ValueError("a step with sub-steps must have seqCall")
        return self


class NumericStep(StepBase):
    """A numeric limit test: one unnamed measurement (``ET_NLT``) or several named ones (``ET_MNLT``)."""

    KIND: ClassVar[str] = "NumericStep"
    step_type: str = "ET_NLT"
    numeric_meas: list[NumericMeasurement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> NumericStep:
        _require_names(self.numeric_meas)
        _require_ops(self.numeric_meas, NUMERIC_OPS, "numeric")
        return self


class ChartStep(StepBase):
    """Numeric measurements with a chart (``WATS_XYGMNLT``). A chart step may not carry an attachment."""

    KIND: ClassVar[str] = "ChartStep"
    step_type: str = "WATS_XYGMNLT"
    numeric_meas: list[NumericMeasurement] = Field(default_factory=list)
    chart: Chart

    @model_validator(mode="after")
    def _check(self) -> ChartStep:
        _require_names(self.numeric_meas)
        _require_ops(self.numeric_meas, NUMERIC_OPS, "numeric")
        if self.attachment is not None:
            raise ValueError("a step may not have both a chart and an attachment")
        return self


class StringStep(StepBase):
    """A string value test: one unnamed measurement (``ET_SVT``) or several named ones (``ET_MSVT``)."""

    KIND: ClassVar[str] = "StringStep"
    step_type: str = "ET_SVT"
    string_meas: list[StringMeasurement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> StringStep:
        _require_names(self.string_meas)
        _require_ops(self.string_meas, STRING_OPS, "string")
        return self


class BooleanStep(StepBase):
    """A pass/fail test: one unnamed measurement (``ET_PFT``) or several named ones (``ET_MPFT``)."""

    KIND: ClassVar[str] = "BooleanStep"
    step_type: str = "ET_PFT"
    boolean_meas: list[BooleanMeasurement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> BooleanStep:
        _require_names(self.boolean_meas)
        return self


class AttachmentStep(StepBase):
    """A step whose payload is an attached file (``WATS_AttachFile``)."""

    KIND: ClassVar[str] = "AttachmentStep"
    step_type: str = "WATS_AttachFile"


class MessagePopupStep(StepBase):
    """A message shown to the operator and the answer given."""

    KIND: ClassVar[str] = "MessagePopupStep"
    step_type: str = "MessagePopup"
    message_popup: MessagePopupInfo


class CallExecutableStep(StepBase):
    """A call of an external program and its exit code."""

    KIND: ClassVar[str] = "CallExecutableStep"
    step_type: str = "CallExecutable"
    call_exe: CallExecutableInfo


class GenericStep(StepBase):
    """A step with no payload: actions, statements, labels and NI flow-control steps."""

    KIND: ClassVar[str] = "GenericStep"
    step_type: str = "Action"


class UnknownStep(StepBase):
    """A step of a type this library does not know; every field it carries is kept as given."""

    KIND: ClassVar[str] = "UnknownStep"


class _MixedStep(StepBase):
    """Never built: a step whose payloads contradict each other is refused here with a clear error."""

    KIND: ClassVar[str] = "MixedStep"

    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, data: Any) -> Any:
        keys = sorted(_payload_keys(data))
        raise ValueError(f"a step may not combine {', '.join(keys)}")


_STEP_CLASSES: tuple[type[StepBase], ...] = (
    SequenceCallStep, NumericStep, ChartStep, StringStep, BooleanStep, AttachmentStep,
    MessagePopupStep, CallExecutableStep, GenericStep, UnknownStep, _MixedStep,
)  # fmt: skip
STEP_KINDS = frozenset(cls.KIND for cls in _STEP_CLASSES)

# JSON key (and Python name) of each payload, and the kind it makes a step.
_PAYLOADS = {
    "steps": "SequenceCallStep",
    "seqCall": "SequenceCallStep",
    "seq_call": "SequenceCallStep",
    "numericMeas": "NumericStep",
    "numeric_meas": "NumericStep",
    "chart": "ChartStep",
    "stringMeas": "StringStep",
    "string_meas": "StringStep",
    "booleanMeas": "BooleanStep",
    "boolean_meas": "BooleanStep",
    "messagePopup": "MessagePopupStep",
    "message_popup": "MessagePopupStep",
    "callExe": "CallExecutableStep",
    "call_exe": "CallExecutableStep",
}
_BY_TYPE = {
    **dict.fromkeys(SEQUENCE_TYPES, "SequenceCallStep"),
    **dict.fromkeys(NUMERIC_TYPES, "NumericStep"),
    **dict.fromkeys(STRING_TYPES, "StringStep"),
    **dict.fromkeys(BOOLEAN_TYPES, "BooleanStep"),
    **dict.fromkeys(ATTACHMENT_TYPES, "AttachmentStep"),
    **dict.fromkeys(GENERIC_TYPES, "GenericStep"),
}


_PAYLOAD_KEYS = frozenset(_PAYLOADS)


def _payload_keys(data: Any) -> set[str]:
    keys = {key for key in _PAYLOAD_KEYS.intersection(data) if data[key] not in (None, [])}
    return keys | {"attachment"} if data.get("attachment") is not None else keys


def _step_kind(data: Any) -> str:
    # Runs once per step on every load: kept to a set intersection done in C and a small loop.
    if isinstance(data, StepBase):
        return data.KIND
    if not isinstance(data, dict):
        return "UnknownStep"  # pydantic then reports that a step must be an object
    kinds = {_PAYLOADS[key] for key in _PAYLOAD_KEYS.intersection(data) if data[key] not in (None, [])}
    if kinds:
        if kinds == {"NumericStep", "ChartStep"}:
            kinds = {"ChartStep"}
        if len(kinds) > 1 or ("ChartStep" in kinds and data.get("attachment") is not None):
            return "MixedStep"
        return kinds.pop()
    # No payload: the type decides; kinds that need a payload (chart, popup, call-executable) are
    # not listed in _BY_TYPE, so such a step without its payload is kept as unknown, not refused.
    return _BY_TYPE.get(data.get("stepType", data.get("step_type")), "UnknownStep")


Step = Annotated[
    Union[tuple(Annotated[cls, Tag(cls.KIND)] for cls in _STEP_CLASSES)],  # type: ignore[misc]
    Discriminator(_step_kind),
]

SequenceCallStep.model_rebuild()

__all__ = [
    "AttachmentStep",
    "BooleanStep",
    "CallExecutableStep",
    "ChartStep",
    "GenericStep",
    "MessagePopupStep",
    "NumericStep",
    "SequenceCallStep",
    "Step",
    "StepBase",
    "StringStep",
    "UnknownStep",
    "STEP_KINDS",
]
