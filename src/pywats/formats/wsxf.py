"""WSXF, the WATS Standard XML Format: ``POST /api/Report/WSXF`` and the XML export of WATS.

>>> report = loads(xml)               # exactly one <Report>; a validated UUTReport or UURReport
>>> reports = loads_all(xml)          # any number of <Report> elements
>>> xml = dumps(report)               # one report in a <Reports> document; dumps_all(reports) for several

A file is ``<Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf">`` holding ``<Report>``
elements. Each report is read into the WSJF shape and validated by :func:`pywats.models.parse_report`, so
length modes (``lengths="strict"`` or ``"truncate"``) and structural rules are those of WSJF. Every
:class:`~pywats.ReportFormatError` names the XML element (``error.element``, e.g.
``Report[1]/Step[Id=5]/NumericLimit[2]``); broken XML gives ``line`` and ``column``. DOCTYPE declarations
are refused (no entity tricks); external entities are never resolved.

Vocabulary seen in WATS's own files (attribute → WSJF field)
-------------------------------------------------------------
- ``<Report type="UUT|UUR" ID Start Start_utc Result SN PN Rev MachineName Location Purpose origin>``;
  ``Result`` is ``Passed|Failed|Error|Terminated`` (``Done`` for ``D``). A repair report without
  ``Result`` (as WATS exports them) reads as ``Passed``; one without ``ID`` gets a new random id, as the
  WATS client gives it.
- ``<Process Code Name>`` in the report: ``processCode``/``processName`` (``CodeFormat``: ``processCodeFormat``);
  inside ``<UUR>``: the failed test operation (``uur.processCode``/``processName``).
- ``<UUT UserLoginName BatchSN ExecutionTime FixtureId ErrorMessage><Comment/></UUT>``.
- ``<UUR UserLoginName ConfirmDate FinalizeDate ExecutionTime ReferencedUUT><Comment/><Process/></UUR>``.
- ``<MiscInfo Description Typedef Numeric Id>text</MiscInfo>``.
- ``<ReportUnitHierarchy PartType PN SN Rev>``; in repairs also ``Idx ParentIDX ReplacedIDX Position``.
- ``<Failures Category Code CompRef StepID Idx PartIdx><Comment/></Failures>``: report-level siblings; each
  goes to the sub unit whose ``Idx`` is its ``PartIdx`` (0, the repaired unit, when absent).
- ``<Step Id Group="Main|Setup|Cleanup" Name StepType Status total_time TSGuid StepCausedUUTFailure>``;
  ``Status`` is ``Passed|Failed|Skipped|Error|Terminated|Done`` (``Unknown`` for ``U``); booleans are
  written ``1``/``0`` (``true``/``false`` are read too). Sub-steps nest.
- ``<SequenceCall Name Version Filepath>`` (``seqCall.name``, ``.version``, ``.path``).
- ``<NumericLimit Name NumericValue LowLimit HighLimit Units CompOperator Status/>``. **The single limit of
  LT and LE sits in** ``HighLimit`` in WSXF, while WSJF keeps every single limit in ``lowLimit``: for LT/LE
  the two limits (and their formats) are exchanged on read and on write. Statuses are kept as the file
  says, never recomputed.
- ``<StringValue Name CompOperator StringValue StringLimit Status/>``, ``<PassFail Name Status/>``.
- ``<Chart ChartType Label XLabel XUnit YLabel YUnit><Series Name DataType><ydata>…</ydata>
  <xdata>…</xdata></Series></Chart>``; ``<Attachment Name ContentType>base64</Attachment>``.

pyWATS's representation of what those files do not show
--------------------------------------------------------
Names follow WATS's WRML/WSXF schema where it is publicly known, otherwise the sample's style.

- Report: ``ProductName`` attribute. ``<Asset AssetSN UsageCount UsageCountFormat/>`` and
  ``<AdditionalData Name>`` children (see property trees).
- UUT: attributes ``ErrorCode TestSocketIndex BatchFailCount BatchLoopIndex StepIdCausedUUTFailure``;
  ``<RefUUR ID Start/>`` children for ``uut.refUURs``.
- UUR: attribute ``Parent``; ``<Child ID/>`` children for ``uur.children``.
- Failures: ``FunctionBlock StepName ArticleNumber ArticleRevision ArticleVendor ArticleDescription``.
  ``Idx`` numbers the failures from 1 (renumbered on write) so attachments can name them.
- Repair attachments: ``<Binary BinaryDataIndex FailIdx><Data FileName ContentType BinaryDataGUID>base64
  </Data></Binary>`` as report-level siblings; with ``FailIdx`` it is an attachment of that failure, without
  it one of the report's ``binaryData``. ``BinaryDataIndex`` is renumbered on write.
- Step: attributes ``Start StepErrorCode StepErrorMessage StepCausedSequenceFailure InteractiveExeNum``;
  children ``<ReportText>text</ReportText>``, ``<Loop index num ending_index passed failed/>``,
  ``<MessagePopup Response Button/>``, ``<Callexe ExitCode/>``, ``<AdditionalResults Name>`` (property
  tree), and ``Id`` on ``<Attachment>``; the attachment's base64 data is its text.
- Measurements: ``NumericValueFormat LowLimitFormat HighLimitFormat`` on ``<NumericLimit>``.
- Property trees: ``<Property Name Type Flags NumFormat Comment Value ValueType>`` nested in
  ``<AdditionalData>``/``<AdditionalResults>``/``<Property>``, with ``<Array Dimension Type><Index Value
  ValueType/>…</Array>``. ``Value`` holds text as is; any other value (number, boolean, list, object) is
  JSON and marked ``ValueType="json"``.
- Numbers are written so they read back exactly (``repr``; ``NaN``, ``INF``, ``-INF``); dates in ISO 8601
  with their UTC offset.

Extras and other values plain WSXF cannot say
---------------------------------------------
- An attribute this module does not know is kept as a text field of that name (a model extra: e.g. WATS's
  ``MeasIndex``, ``StepIndex``, ``module_time``, attachment ``Size``) and written back as the same attribute.
  Like every extra, it also travels in the report's WSJF.
- A model extra with a text value is written as an attribute of its own name when the name is free;
  anything else, and the few values XML cannot tell apart (an empty text where none is possible, an empty
  list, ``None`` where the field's default is not ``None``), goes into one JSON object in the attribute
  ``pywats:fields`` (namespace ``urn:pywats:wsxf:1``), which is merged back into the element's fields on
  read. A normal report never needs it. Extras must be JSON-compatible values.
- Unknown elements and stray text are refused, never dropped.

Lossy, by design
----------------
- Characters XML 1.0 cannot hold (U+0000–U+001F except tab, LF and CR; U+FFFE, U+FFFF; lone surrogates)
  are removed on write, as the .NET client does. Everything else a model holds round-trips exactly.
- On read, ``Failures@Idx`` and ``Binary@BinaryDataIndex`` only link elements; they are renumbered on write.
  Attributes of ``<Process>`` and ``<Binary>`` that this module does not know are kept, but written back on
  the element that holds the process (``<Report>`` or ``<UUR>``) and on ``<Data>`` respectively.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from .._exceptions import ReportFormatError
from ..models import LengthMode, UURReport, UUTReport, parse_report
from ._wsxf_read import NAMESPACE, NS, Reader
from ._wsxf_write import dumps_all as _dumps_all

__all__ = ["NAMESPACE", "dumps", "dumps_all", "loads", "loads_all"]


def loads(xml: str | bytes, *, lengths: LengthMode = "strict") -> UUTReport | UURReport:
    """Read a WSXF document holding exactly one report.

    Raises:
        ReportFormatError: broken XML (``line``, ``column``), a document with no or several reports, or a
            report that breaks a rule (``element``, and ``path`` for model rules).
    """
    elements = _report_elements(_parse_xml(xml))
    if len(elements) != 1:
        raise ReportFormatError(
            f"expected exactly one <Report>, found {len(elements)}; use wsxf.loads_all() to read several",
            element="Reports",
        )
    return _load_report(elements[0], "Report[1]", lengths)


def loads_all(xml: str | bytes, *, lengths: LengthMode = "strict") -> list[UUTReport | UURReport]:
    """Read every report of a WSXF document, in document order."""
    elements = _report_elements(_parse_xml(xml))
    return [_load_report(element, f"Report[{index}]", lengths) for index, element in enumerate(elements, 1)]


def dumps(report: UUTReport | UURReport) -> str:
    """Write one report as a WSXF document."""
    return _dumps_all([report])


def dumps_all(reports: Iterable[UUTReport | UURReport]) -> str:
    """Write several reports into one WSXF document."""
    return _dumps_all(reports)


class _DoctypeRefused(Exception):
    pass


class _TreeBuilder(ET.TreeBuilder):
    """Builds the tree as usual but refuses a DOCTYPE before expat reads any entity declaration in it."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeRefused(name)


def _parse_xml(xml: str | bytes) -> ET.Element:
    if isinstance(xml, str):
        xml = xml.removeprefix("\ufeff")  # a BOM left by reading a file as plain UTF-8
    elif not isinstance(xml, (bytes, bytearray)):
        raise TypeError(f"WSXF must be str or bytes, not {type(xml).__name__}")
    parser = ET.XMLParser(target=_TreeBuilder())
    try:
        parser.feed(xml)
        return parser.close()
    except ET.ParseError as error:
        line, column = error.position
        message = str(error).split(": line ")[0]
        raise ReportFormatError(f"not well-formed XML: {message}", line=line, column=column + 1) from None
    except _DoctypeRefused:
        raise ReportFormatError("DOCTYPE declarations are not allowed in WSXF") from None


def _report_elements(root: ET.Element) -> list[ET.Element]:
    if root.tag != NS + "Reports":
        namespace, _, local = root.tag[1:].rpartition("}") if root.tag.startswith("{") else ("", "", root.tag)
        if local == "Reports":
            problem = f"is in namespace {namespace!r}" if namespace else "has no namespace"
            raise ReportFormatError(f"root element <Reports> {problem}; WSXF uses {NAMESPACE}", element="Reports")
        raise ReportFormatError(f"root element is <{local}>; a WSXF document is <Reports>", element=local)
    elements = []
    for index, element in enumerate(root, 1):
        if element.tag != NS + "Report":
            raise ReportFormatError(f"<Reports> may hold only <Report> elements, found {element.tag}",
                                    element=f"Reports/*[{index}]")  # fmt: skip
        elements.append(element)
    if (root.text or "").strip() or any((element.tail or "").strip() for element in root):
        raise ReportFormatError("unexpected text in <Reports>", element="Reports")
    return elements


def _load_report(element: ET.Element, path: str, lengths: LengthMode) -> UUTReport | UURReport:
    reader = Reader()
    try:
        raw: dict[str, Any] = reader.report(element, path)
    except RecursionError:  # the model accepts about 250 levels; this is far beyond
        raise ReportFormatError("elements are nested too deeply", element=path) from None
    try:
        return parse_report(raw, lengths=lengths)
    except ReportFormatError as error:
        where, message = reader.locate(raw, error.path, error.message)
        raise ReportFormatError(message, path=error.path, element=where, problems=error.problems) from None
