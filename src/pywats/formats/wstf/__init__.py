"""WSTF, the WATS Standard Text Format: the tab-delimited text a test station drops for the WATS client.

>>> report = loads(path.read_bytes())          # one validated UUTReport, statuses filled in
>>> reports = loads_all(text)                  # a file may hold several reports, one after another

A report is a block of lines (cells separated by tabs; trailing empty cells are common and ignored)::

    --Header-Start--
    SerialNumber  <sn>                   header: key TAB value; any key not listed below is a misc info
    Subunit  <partType>  <pn>  <sn>  <rev>
    --Step-Data-Start--
    StepType  StepName  MeasureName ...  the column header: columns in any order, matched by name
    <step rows>
    --Step-Data-End--
    UUTStatus  Passed                    footer
    --UUT-End--

Markers are matched ignoring case and spaces (the format owner's own sample writes ``-- UUT-End--``).
Bytes are read as UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252 (the WATS converter's default).
Numbers use a decimal point (en-US, the converter's default culture). Cells are stripped of spaces.
A column header naming an unknown column, or a row with a value beyond the last column, is refused.

Header keys (names matched ignoring case):

- ``SerialNumber``, ``PartNumber`` (both required, non-empty), ``Revision`` (empty or absent → ``""``);
- ``OperationTypeCode`` or ``OperationTypeName`` (one required; the code wins; a name is resolved through
  ``processes``, case-sensitively as WATS does);
- ``UTCStartDateTime`` and/or ``StartDateTime`` (one required): ISO 8601 (``2014-07-04T12:09:04``, optional
  fraction and offset) or en-US (``7/4/2014 12:09:04 PM``, the WATS converter's default culture). UTC alone
  gives a UTC start; local alone with no offset is taken in this machine's time zone (the converter runs on
  the station); both give the local offset as their difference, rounded to the minute;
- ``UUTStatus`` (also allowed in the footer, which wins: it is written when the test has ended);
- ``ExecutionTime``, ``BatchSerialNumber``, ``FixtureId``, ``TestSocketIndex``, ``OperatorName``,
  ``ErrorCode``, ``ErrorMessage`` → ``uut``; several ``Comment`` lines are joined with line breaks;
- ``StationName`` → ``machineName`` (the ``machine_name`` argument is the fallback when it is absent);
- ``SoftwareName`` / ``SoftwareVersion`` → the root sequence call: ``name`` and ``seqCall.path`` are the
  software name, ``seqCall.name`` its last path component, ``seqCall.version`` the version. Without a
  software name the root is called ``MainSequence``, as in TestStand;
- any other key → a misc info with the value as ``text``. Never ``numeric``: WATS keeps it as a 16-bit
  number and drops it when text is present, and a value like ``007`` must stay as written.

Step rows, by ``StepType`` (ignoring case):

- ``SequenceCall`` opens a sequence, ``EndSequenceCall`` closes it. Rows outside any sequence belong to the
  root sequence call (step id 0); ids then follow the rows, depth first.
- ``NumericLimitTest``/``MultipleNumericLimitTest``, ``StringValueTest``/``MultipleStringValueTest``,
  ``PassFailTest``/``MultiplePassFailTest``: one measurement per row. A row with an empty ``StepName``
  adds a measurement to the step above it; so does a row repeating that step's name with a new
  ``MeasureName`` when every measurement of the step is named. The step type written is ``ET_NLT``,
  ``ET_SVT``, ``ET_PFT`` for one measurement and ``ET_MNLT``, ``ET_MSVT``, ``ET_MPFT`` for several.
  Numeric rows use every column; string rows keep their limit in ``LowLimit``; pass/fail rows have
  ``Value`` ``TRUE`` or ``FALSE`` (also 1/0, yes/no). Single-limit operators (EQ NE GT GE LT LE) read ``LowLimit``, as WATS
  keeps them; an empty ``CompOperator`` means ``LOG``, as in WATS.
- ``ActionStep`` → an ``Action`` step.
- ``Chart`` starts a chart step (``WATS_XYGMNLT``). Our layout, the format's documentation giving none:
  ``MeasureName`` = chart label (empty → the step name), ``Value`` = chart type (``Line``, ``LineLogXY``,
  ``LineLogX``, ``LineLogY``; empty → ``Line``), ``LowLimit`` = X-axis label, ``HighLimit`` = Y-axis label, ``Unit`` =
  ``<x unit>;<y unit>``. Each following ``Series`` row (``StepName`` empty or the chart's) adds a series:
  ``MeasureName`` = series name, ``LowLimit`` = x data, ``HighLimit`` = y data (``;``-separated numbers;
  the X column is the low-limit one for the chart and its series alike). Numeric rows with an empty
  ``StepName`` after them add the step's numeric measurements.

A step's status, error and failure flags come from its first row; its ``totTime`` is the sum of its rows'
``StepExecutionTime`` (each row of a multi-measurement step reports its own measurement's time); report texts
and error messages of its rows are joined with line breaks; ``CausedSequenceFailure`` is set when any row
says so. A cell that a row type does not use must be empty: nothing is ever dropped in silence.

Statuses ("use the status if given, otherwise compute it from the limits", as the WATS converter does):

- a step's status is its first row's ``StepStatus`` when given; otherwise it is computed from its
  measurements (or children, for a sequence);
- a step with one measurement: the measurement takes the row's status when it is Passed, Failed or Skipped,
  otherwise it is computed from the limits (from TRUE/FALSE for pass/fail);
- a step with several measurements: the first row's status belongs to the step, so each measurement is
  judged on its own data: limits, or TRUE/FALSE. A row without a value is judged by its row's status when
  given (a skipped measurement has no value to compare), else by the limits (a missing value fails);
- the report result is ``UUTStatus`` when given (``Done`` counts as passed: WATS results are P/F/E/T), and
  the root sequence gets that status; otherwise the root is computed and the result follows it.

Every problem raises :class:`pywats.ReportFormatError` with the 1-based ``line`` it was found on.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from ...models import LengthMode, UUTReport
from ...processes import DEFAULT_PROCESSES, ProcessInfo
from ._lines import decode, fail, split_lines
from ._report import Options, read_reports

__all__ = ["loads", "loads_all"]


def loads_all(
    text: str | bytes,
    *,
    lengths: LengthMode = "strict",
    processes: Sequence[ProcessInfo] = DEFAULT_PROCESSES,
    machine_name: str | None = None,
    location: str = "",
    purpose: str = "",
) -> list[UUTReport]:
    """Read every report of a WSTF file (the format allows several, one after another).

    Each report gets a random id; give each one a stable id before sending (``report.id = ...``).

    Raises:
        ReportFormatError: anything malformed, with the 1-based ``line`` it was found on.
    """
    options = Options.checked(lengths, processes, machine_name, location, purpose, None)
    return [report for _, report in read_reports(split_lines(decode(text)), options)]


def loads(
    text: str | bytes,
    *,
    lengths: LengthMode = "strict",
    processes: Sequence[ProcessInfo] = DEFAULT_PROCESSES,
    machine_name: str | None = None,
    location: str = "",
    purpose: str = "",
    report_id: UUID | None = None,
) -> UUTReport:
    """Read a WSTF file holding one report (see the module doc for the mapping and the status rules).

    Args:
        text: the file's text, or its bytes (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252).
        lengths: ``"strict"`` refuses a value longer than WATS allows; ``"truncate"`` cuts it.
        processes: the server's processes, to resolve ``OperationTypeName`` to its code.
        machine_name: the station name when the header has no ``StationName``.
        location, purpose: the report's location and purpose (the format has no header for them).
        report_id: the report's id; a random one when not given.

    Raises:
        ReportFormatError: anything malformed, with the 1-based ``line`` it was found on; also when the
            file holds more than one report (use :func:`loads_all`).
    """
    options = Options.checked(lengths, processes, machine_name, location, purpose, report_id)
    reports = read_reports(split_lines(decode(text)), options)
    _, report = next(reports)
    for line, _ in reports:
        fail(line, "the file holds more than one report; read it with loads_all()")
    return report
