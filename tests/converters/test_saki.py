"""The Saki AOI converter on the project's own fixtures (fixtures/saki-aoi/)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step, step_tree

from pywats_client.converters import ConversionContext, ConversionError, SourceFile, load_converter_class

HERE = FIXTURES / "saki-aoi"
UTC = ConversionContext(timezone=timezone.utc)


def _converter(**arguments):
    return load_converter_class("saki-aoi")(arguments)


def _convert_bytes(data: bytes, **arguments):
    return _converter(**arguments).convert(SourceFile(Path("panel.xml"), data), UTC)


def test_passing_panel() -> None:
    [report] = convert("saki-aoi", HERE / "panel_pass.xml")
    assert (report.sn, report.pn, report.rev, report.process_code) == ("PNL-2024-0815", "BRD-400-TOP", "", 40)
    assert report.result.value == "P"
    assert report.uut.user == "kim"
    assert report.root.name == "BRD-400 top" and report.root.seq_call.version == "2.3"
    misc = {m.description: m.text for m in report.misc_infos}
    assert misc == {"Side": "BRD-400-TOP", "machine": "BF-Comet10", "lane": "1"}
    assert [(u.part_type, u.sn, u.pn) for u in report.sub_units] == [
        ("Board 1", "BRD400-0001", "BRD-400-TOP"), ("Board 2", "BRD400-0002", "BRD-400-TOP")]  # fmt: skip
    assert step_tree(report.root) == [("Image 1", [("False calls", ["R12", "U3"])]), ("Image 2", [])]
    r12 = find_step(report.root, "Image 1", "False calls", "R12")
    assert (r12.step_type, r12.status.value) == ("ET_PFT", "P")
    assert r12.report_text == "part number: RES-10K; package: R0402; Resistor 10k"


def test_failing_panel_has_defects_as_failed_steps() -> None:
    [report] = _convert_bytes((HERE / "panel_fail.xml").read_bytes())
    assert report.sn == "PNL-2024-0816"
    assert report.start == datetime(2024, 3, 14, 13, 47, 40, tzinfo=timezone.utc)  # MM/DD/YYYY, local time
    assert report.result.value == "F"
    assert report.sub_units == []  # the boards' barcodes are N/A
    assert step_tree(report.root) == [
        ("Image 1", [("False calls", ["C7"]), ("Failed", ["D2", "C9"])]),
        ("Image 2", [("False calls", ["R4"])]),
    ]
    image = find_step(report.root, "Image 1")
    assert image.status.value == "F"
    d2 = find_step(image, "Failed", "D2")
    assert d2.status.value == "F" and d2.boolean_meas[0].status.value == "F"
    assert d2.report_text == "part number: LED-RED; package: LED0603; LED red; defect: Polarity"
    assert find_step(report.root, "Image 2").status.value == "P"


def test_per_board_reports_and_options() -> None:
    reports = _convert_bytes((HERE / "panel_fail.xml").read_bytes(), per_board=True, false_calls=False,
                             part_number="BRD-400", revision="C")  # fmt: skip
    assert [(r.sn, r.pn, r.rev, r.result.value) for r in reports] == [
        ("PNL-2024-0816-1", "BRD-400", "C", "F"), ("PNL-2024-0816-2", "BRD-400", "C", "P")]  # fmt: skip
    assert {m.description: m.text for m in reports[0].misc_infos}["Panel barcode"] == "PNL-2024-0816"
    assert step_tree(reports[0].root) == [("Failed", ["D2", "C9"])]
    assert step_tree(reports[1].root) == []
    [board, _] = _convert_bytes((HERE / "panel_pass.xml").read_bytes(), per_board=True)
    assert board.sn == "BRD400-0001"


def test_date_format_argument() -> None:
    [report] = _convert_bytes((HERE / "panel_fail.xml").read_bytes().replace(b"03/14/2024", b"14.03.2024"),
                              date_format="%d.%m.%Y")  # fmt: skip
    assert report.start.date().isoformat() == "2024-03-14"
    with pytest.raises(ConversionError, match="date format") as caught:
        _convert_bytes((HERE / "panel_fail.xml").read_bytes().replace(b"03/14/2024", b"14/03/2024"))
    assert (caught.value.element, caught.value.field) == ("Panel", "startDate")


def test_panel_without_start_date_is_refused() -> None:
    data = (HERE / "panel_fail.xml").read_bytes().replace(b'startDate="03/14/2024" ', b"")
    with pytest.raises(ConversionError, match="no start date") as caught:
        _convert_bytes(data)
    assert (caught.value.element, caught.value.field) == ("Panel", "startDate")


@pytest.mark.parametrize("barcode", [b"", b"N/A"])
def test_panel_without_barcode_is_refused(barcode: bytes) -> None:
    data = (HERE / "panel_fail.xml").read_bytes().replace(b'barcode="PNL-2024-0816"', b'barcode="' + barcode + b'"')
    with pytest.raises(ConversionError, match="barcode") as caught:
        _convert_bytes(data)
    assert (caught.value.element, caught.value.field) == ("Panel", "barcode")


def test_missing_part_number_and_broken_xml() -> None:
    data = (HERE / "panel_fail.xml").read_bytes().replace(b'side="BRD-400-TOP" ', b"")
    with pytest.raises(ConversionError, match="part number"):
        _convert_bytes(data)
    with pytest.raises(ConversionError, match="well-formed"):
        _convert_bytes(data[:300])
    with pytest.raises(ConversionError, match="root element is <UnitReport>"):
        _convert_bytes(b"<UnitReport start-time='2024-01-01T00:00:00'/>")


def test_validate_scores() -> None:
    converter = _converter()
    for path in sorted(HERE.iterdir()):
        assert converter.validate(SourceFile.read(path)) >= 0.8, path.name
    for name in ("sigmaquest", "stepwize", "custom-xml"):
        for path in sorted((FIXTURES / name).iterdir()):
            assert converter.validate(SourceFile.read(path)) <= 0.2, path.name
    junit = b'<?xml version="1.0"?><testsuites><testsuite name="Panel"/></testsuites>'
    assert converter.validate(SourceFile(Path("x.xml"), junit)) == 0.0
    assert converter.validate(SourceFile(Path("x.txt"), b"Panel barcode=1")) == 0.0
