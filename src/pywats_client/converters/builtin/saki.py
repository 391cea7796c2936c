"""Saki AOI XML: one inspected panel, its boards (images) and the components the machine flagged.

The document looks like::

    <Panel barcode="SN123" result="failed" startDate="01/10/2024" startTime="08:59:14" side="PN1" operator="Op">
      <Program name="Test Sequence" ver=""/>
      <Image barcode="N/A" id="1" result="failed">
        <Results>
          <FalseCalls><Reference designator="R1165" partNumber="4123456" package="R0603" description=".."/>
          </FalseCalls>
          <Failed><Reference designator="C1164" partNumber="4326543" package="C0603" description=".."/></Failed>

Each image (board of the panel) becomes a sequence; confirmed defects (``Failed``) become failed pass/fail
steps named by designator, false calls (flagged by the machine, passed by the operator) passed ones.
With ``per_board`` each image becomes a report of its own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile
from ._xml import local_name, parse, root_name

_NO_BARCODE = frozenset({"", "n/a", "na", "none", "null", "-", "noread", "no read"})
_RESULTS = {
    "passed": "P", "pass": "P", "good": "P", "ok": "P", "falsecall": "P", "false call": "P",
    "failed": "F", "fail": "F", "ng": "F", "defect": "F", "bad": "F", "error": "E",
}  # fmt: skip
# Result groups under <Results>: the verdict of each component listed there, and the step sequence name.
_GROUPS = {
    "failed": ("F", "Failed"), "defects": ("F", "Failed"), "defect": ("F", "Failed"), "ng": ("F", "Failed"),
    "falsecalls": ("P", "False calls"), "falsecall": ("P", "False calls"),
    "passed": ("P", "Passed"), "good": ("P", "Passed"),
}  # fmt: skip
_LABELS = {"partNumber": "part number"}


class SakiArguments(ConverterArguments):
    process_code: int = Field(40, description="WATS process code of the reports (default 40, AOI)")
    part_number: str = Field(
        "", description="part number of every report; empty: the Panel's side attribute (where Saki writes it)"
    )
    revision: str = Field("", description="revision of every report (the format has none)")
    date_format: str = Field("%m/%d/%Y", description="strptime format of the Panel's startDate (US order by default)")
    time_format: str = Field("%H:%M:%S", description="strptime format of the Panel's startTime")
    per_board: bool = Field(
        False,
        description="one report per image (board) instead of one per panel; a board without its own barcode "
        "gets '<panel barcode>-<image id>'",
    )
    false_calls: bool = Field(True, description="list false calls as passed steps (False: leave them out)")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to the WATS limits; 'strict' refuses the file"
    )


class SakiAOIConverter(FileConverter):
    name = "saki-aoi"
    version = "1.0"
    description = "Saki AOI XML: panel, boards (images) and flagged components, defects as failed steps"
    patterns = ("*.xml",)
    Arguments = SakiArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head()
        if root_name(head) != "Panel":
            return 0.0
        score = 0.5
        if b"barcode=" in head:
            score += 0.2
        if b"<Image" in head or b"<Program" in head:
            score += 0.2
        return score

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        panel = parse(source.data)
        if local_name(panel.tag) != "Panel":
            raise ConversionError(f"not a Saki AOI file: the root element is <{local_name(panel.tag)}>")
        args = self.arguments
        barcode = (panel.get("barcode") or "").strip()
        if barcode.lower() in _NO_BARCODE:
            raise ConversionError("the panel has no barcode (serial number)", element="Panel", field="barcode")
        pn = args.part_number or (panel.get("side") or "").strip()
        if not pn:
            raise ConversionError("no part number: the Panel has no side attribute and no part_number argument "
                                  "is set", element="Panel", field="side")  # fmt: skip
        start = self._start(panel, context)
        program = next((child for child in panel if local_name(child.tag) == "Program"), None)
        images = [child for child in panel if local_name(child.tag) == "Image"]
        header = {
            "pn": pn, "rev": args.revision, "process_code": args.process_code, "start": start,
            "user": (panel.get("operator") or "").strip() or None,
            "root_name": ((program.get("name") or "").strip() if program is not None else "") or "AOI inspection",
        }  # fmt: skip
        version = (program.get("ver") or "").strip() if program is not None else ""
        if not args.per_board:
            builder = ReportBuilder.uut(sn=barcode, result=_RESULTS.get((panel.get("result") or "").strip().lower()),
                                        **header)  # fmt: skip
            self._misc(builder, panel)
            for image in images:
                image_id = (image.get("id") or "").strip() or str(images.index(image) + 1)
                image_barcode = (image.get("barcode") or "").strip()
                fields = {"status": _RESULTS.get((image.get("result") or "").strip().lower())}
                if image_barcode.lower() not in _NO_BARCODE:
                    fields["reportText"] = f"board barcode: {image_barcode}"
                    builder.sub_unit(f"Board {image_id}"[:50], image_barcode, pn, args.revision or None)
                self._image(builder.sequence(f"Image {image_id}", **fields), image)
            return [self._build(builder, version)]
        reports = []
        for index, image in enumerate(images):
            image_id = (image.get("id") or "").strip() or str(index + 1)
            image_barcode = (image.get("barcode") or "").strip()
            sn = image_barcode if image_barcode.lower() not in _NO_BARCODE else f"{barcode}-{image_id}"
            builder = ReportBuilder.uut(sn=sn, result=_RESULTS.get((image.get("result") or "").strip().lower()),
                                        **header)  # fmt: skip
            builder.misc_info("Panel barcode", barcode[:100])
            builder.misc_info("Image", image_id[:100])
            self._misc(builder, panel)
            self._image(builder, image)
            reports.append(self._build(builder, version))
        return reports

    def _start(self, panel: ET.Element, context: ConversionContext) -> datetime:
        date, time = (panel.get("startDate") or "").strip(), (panel.get("startTime") or "").strip()
        if not date:
            raise ConversionError("the panel has no start date", element="Panel", field="startDate")
        formats = f"{self.arguments.date_format} {self.arguments.time_format}" if time else self.arguments.date_format
        text = f"{date} {time}" if time else date
        try:
            return context.localize(datetime.strptime(text, formats))
        except ValueError:
            raise ConversionError(f"{text!r} does not match the date format {formats!r}", element="Panel",
                                  field="startDate") from None  # fmt: skip

    def _misc(self, builder: Any, panel: ET.Element) -> None:
        side = (panel.get("side") or "").strip()
        if side:
            builder.misc_info("Side", side[:100])
        for key, value in panel.attrib.items():
            if key not in ("barcode", "result", "startDate", "startTime", "side", "operator") and value.strip():
                builder.misc_info(local_name(key)[:100], value.strip()[:100])

    def _image(self, container: Any, image: ET.Element) -> None:
        for results in image:
            if local_name(results.tag) != "Results":
                continue
            for group in results:
                tag = local_name(group.tag)
                known = _GROUPS.get(tag.lower())
                if known is None:
                    continue  # an inspection list this converter does not know: left out
                verdict, title = known
                if verdict == "P" and title == "False calls" and not self.arguments.false_calls:
                    continue
                references = [ref for ref in group if local_name(ref.tag) == "Reference"]
                if not references:
                    continue
                sequence = container.sequence(title, status=verdict)
                for ref in references:
                    # One pass/fail step per component, given as a WSJF dict with its status (the cheap path)
                    details = []
                    designator = "(no designator)"
                    for key, value in ref.attrib.items():
                        value = value.strip()
                        if not value:
                            continue
                        if key == "designator":
                            designator = value
                        elif key == "description":
                            details.append(value)
                        else:
                            details.append(f"{_LABELS.get(key, key)}: {value}")
                    step = {"stepType": "ET_PFT", "name": designator, "status": verdict,
                            "booleanMeas": [{"status": verdict}]}  # fmt: skip
                    if details:
                        step["reportText"] = "; ".join(details)
                    sequence.add_step(step)

    def _build(self, builder: Any, version: str) -> Report:
        try:
            report = builder.build(lengths=self.arguments.lengths)
            if version:
                report.root.seq_call.version = version[:30]
        except ValueError as error:
            raise ConversionError(f"the panel breaks a WATS rule: {error}") from None
        return report


CONVERTERS = (SakiAOIConverter,)
