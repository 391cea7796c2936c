"""STDF V4 converter: files made by the test writer (``stdf_writer.py``) in both byte orders."""

from __future__ import annotations

import gzip
import math
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert
from stdf_writer import START, StdfWriter, two_site_lot, wafer_sort

from pywats.formats import wsjf
from pywats.models import BooleanStep, NumericStep, SequenceCallStep
from pywats_client.converters import ConversionContext, ConversionError, SourceFile, load_converter_class
from pywats_client.converters.builtin.stdf import StdfFile

STDF = FIXTURES / "stdf"
UTC = ConversionContext(timezone=timezone.utc)


def _convert(data: bytes, **arguments):
    return load_converter_class("stdf")(arguments).convert(SourceFile(Path("x.stdf"), data), UTC)


def _steps(report):
    return {step.name: step for step in report.iter_steps()}


def _minimal(order: str = "<", **prr) -> StdfWriter:
    w = StdfWriter(order)
    w.mir(start_t=START, lot="L1", part_typ="PT", job="J")
    w.pir()
    w.ptr(1, text="T1", result=1.5, opt=0x02, low=1.0, high=2.0, units="V")
    w.prr(**({"part_id": "SN1"} | prr))
    return w


def test_committed_fixtures_are_what_the_writer_makes() -> None:
    assert (STDF / "two_site_lot_le.stdf").read_bytes() == two_site_lot("<")
    assert (STDF / "two_site_lot_be.stdf").read_bytes() == two_site_lot(">")
    assert (STDF / "wafer_sort_be.stdf").read_bytes() == wafer_sort(">")


def test_wafer_sort_serials_from_lot_wafer_and_coordinates() -> None:
    reports = convert("stdf", STDF / "wafer_sort_be.stdf")
    assert [r.sn for r in reports] == ["W-LOT-WW07-X10-Y11", "W-LOT-WW07-X11-Y11", "W-LOT-WW07-X12-Y11"]
    assert [r.result.value for r in reports] == ["P", "P", "F"]
    assert reports[0].start.replace(tzinfo=None) == datetime(1970, 1, 1) + timedelta(seconds=START + 5)  # WIR
    misc = {m.description: m.text for m in reports[2].misc_infos}
    assert (misc["Wafer"], misc["X"], misc["Y"], misc["Hard bin"]) == ("W07", "12", "11", "3")
    vref = _steps(reports[2])["1 VREF"]
    assert vref.status.value == "F" and vref.numeric_meas[0].value == 0.71
    assert (vref.numeric_meas[0].low_limit, vref.numeric_meas[0].high_limit) == (1.1, 1.3)
    assert _steps(reports[1])["2 ILEAK"].numeric_meas[0].value == 4e-09


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_both_byte_orders_read_the_same(order: str) -> None:
    data = two_site_lot(order)
    assert data[4] == (2 if order == "<" else 1)
    assert StdfFile(data).byte_order == ("little" if order == "<" else "big")
    dumps = [wsjf.dumps(r.model_copy(update={"id": None})) for r in _convert(data)]
    reference = [wsjf.dumps(r.model_copy(update={"id": None})) for r in _convert(two_site_lot("<"))]
    assert dumps == reference


def test_header_fields() -> None:
    reports = convert("stdf", STDF / "two_site_lot_le.stdf")
    assert [r.sn for r in reports] == ["PART-A", "PART-B", "LOT42-S1-X5-Y4"]
    a = reports[0]
    assert (a.pn, a.rev, a.process_code, a.result.value) == ("PCBA-STDF-1", "B", 50, "P")
    assert a.machine_name == "TESTER-7" and a.uut.user == "alice" and a.uut.batch_sn == "LOT42"
    assert a.uut.fixture_id == "LB-0099" and a.uut.test_socket_index == 1 and a.uut.exec_time == 1.25
    assert a.start.replace(tzinfo=None) == datetime(1970, 1, 1) + timedelta(seconds=START)  # local time, as STDF counts
    assert a.root.name == "PROG_A" and a.root.seq_call.version == "2.1"
    misc = {m.description: m.text for m in a.misc_infos}
    assert misc["Lot"] == "LOT42" and misc["Sublot"] == "S1" and misc["Test code"] == "FT1"
    assert misc["Hard bin"] == "1 GOOD" and misc["Soft bin"] == "1 PASS_ALL" and misc["X"] == "3"
    assert misc["Handler"] == "H1" and misc["Tester type"] == "J750"


def test_multi_site_results_are_attributed_by_head_and_site() -> None:
    a, b, c = convert("stdf", STDF / "two_site_lot_le.stdf")
    assert (b.result.value, b.uut.test_socket_index) == ("F", 2)
    vdd_a = _steps(a)["100 VDD"].numeric_meas[0]
    vdd_b = _steps(b)["100 VDD"].numeric_meas[0]
    assert (vdd_a.value, vdd_a.status.value) == (3.3, "P")
    assert (vdd_b.value, vdd_b.status.value) == (3.75, "F")
    assert {m.description: m.text for m in b.misc_infos}["Hard bin"] == "5 FAIL_VDD"
    assert [step.name for step in c.root.steps] == ["100 VDD", "101 IDD"]  # written outside BPS/EPS
    assert _steps(c)["100 VDD"].numeric_meas[0].value == 3.29


def test_first_ptr_sets_the_defaults() -> None:
    a, b, _ = convert("stdf", STDF / "two_site_lot_le.stdf")
    vdd = _steps(a)["100 VDD"].numeric_meas[0]  # the PTR holds only a result: the rest from the first PTR
    assert (vdd.low_limit, vdd.high_limit, vdd.unit, vdd.comp_op.value) == (3.0, 3.6, "V", "GELE")
    idd = _steps(b)["101 IDD"].numeric_meas[0]  # OPT_FLAG bit 6 on the first PTR: no low limit
    assert (idd.comp_op.value, idd.low_limit, idd.high_limit, idd.unit, idd.value) == ("LE", 0.02, None, "A", 0.0118)


def test_step_tree_follows_program_sections() -> None:
    a = convert("stdf", STDF / "two_site_lot_le.stdf")[0]
    assert [step.name for step in a.root.steps] == ["POWER", "DIGITAL", "102 TEMP"]
    power, digital, temp = a.root.steps
    assert isinstance(power, SequenceCallStep) and [s.name for s in power.steps] == ["100 VDD", "101 IDD"]
    assert [s.name for s in digital.steps] == ["200 VOL", "300 FUNC_MARCH"]
    assert isinstance(temp, BooleanStep) and temp.status.value == "P"  # TEST_FLG bit 1: no value logged


def test_mpr_is_a_multi_numeric_step_named_by_pins() -> None:
    a, b, _ = convert("stdf", STDF / "two_site_lot_le.stdf")
    vol = _steps(a)["200 VOL"]
    assert vol.step_type == "ET_MNLT"
    assert [(m.name, m.value, m.low_limit, m.high_limit, m.unit) for m in vol.numeric_meas] == [
        ("DQ0", 0.41, 0.0, 0.5, "V"), ("DQ1", 0.43, 0.0, 0.5, "V")]  # fmt: skip
    assert [m.name for m in _steps(b)["200 VOL"].numeric_meas] == ["DQ0", "DQ1"]  # indexes from the first MPR


def test_ftr_is_pass_fail() -> None:
    a, b, _ = convert("stdf", STDF / "two_site_lot_le.stdf")
    assert _steps(a)["300 FUNC_MARCH"].status.value == "P"
    failed = _steps(b)["300 FUNC_MARCH"]
    assert failed.status.value == "F" and failed.report_text == "pattern march_c; 2 failing pins; miscompare"


def test_limit_comparison_follows_parm_flg() -> None:
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.ptr(1, text="EXCL", parm_flg=0x00, result=1.5, opt=0x02, low=1.0, high=2.0)
    w.ptr(2, text="LOW_INCL", parm_flg=0x40, result=1.5, opt=0x02, low=1.0, high=2.0)
    w.prr(part_id="S")
    steps = _steps(_convert(bytes(w))[0])
    assert steps["1 EXCL"].numeric_meas[0].comp_op.value == "GTLT"
    assert steps["2 LOW_INCL"].numeric_meas[0].comp_op.value == "GELT"
    inclusive = _steps(_convert(bytes(w), limit_comparison="inclusive")[0])
    assert inclusive["1 EXCL"].numeric_meas[0].comp_op.value == "GELE"


def test_test_flags_give_statuses() -> None:
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.ptr(1, text="SKIPPED", test_flg=0x10, result=0.0)
    w.ptr(2, text="NO_VERDICT", test_flg=0x40, result=2.5, opt=0x02, low=1.0, high=2.0)
    w.ptr(3, text="ABORTED", test_flg=0x20 | 0x80, result=1.0)
    w.ptr(4, text="ALARM", test_flg=0x01, alarm="OVERTEMP", result=1.0)
    w.prr(part_id="S", flags=0x10)
    [report] = _convert(bytes(w))
    steps = _steps(report)
    assert steps["1 SKIPPED"].status.value == "S"
    assert steps["2 NO_VERDICT"].numeric_meas[0].status.value == "F"  # no indication: computed from limits
    assert steps["3 ABORTED"].status.value == "E" and steps["3 ABORTED"].error_message == "test aborted"
    assert steps["4 ALARM"].report_text == "alarm OVERTEMP"
    assert report.result.value == "E"  # PART_FLG bit 4: no verdict, from the steps


def test_fields_missing_at_the_end_take_defaults() -> None:
    w = StdfWriter(">")
    w.mir(part_typ="PT")  # MIR cut after PART_TYP: the rest is missing
    w.pir()
    w.raw(15, 10, struct.pack(">IBBBBf", 7, 1, 1, 0, 0, 0.25))  # PTR with no TEST_TXT and no OPT_FLAG
    w.raw(5, 20, struct.pack(">BBBHH", 1, 1, 0, 1, 1))  # PRR cut after HARD_BIN
    [report] = _convert(bytes(w))
    assert report.sn == "LOT-P1"  # no lot, no coordinates: lot placeholder and the part's place in the file
    step = _steps(report)["7"]
    assert isinstance(step, NumericStep) and step.numeric_meas[0].comp_op.value == "LOG"
    assert step.numeric_meas[0].value == 0.25 and report.result.value == "P"
    assert report.uut.exec_time is None


def test_scale_results_shows_prefixed_units() -> None:
    steps = _steps(convert("stdf", STDF / "two_site_lot_le.stdf", scale_results=True)[0])
    idd = steps["101 IDD"].numeric_meas[0]
    assert (idd.value, idd.low_limit, idd.unit) == (12.5, 20.0, "mA")


def test_names_without_test_numbers_and_tsr_names() -> None:
    steps = _steps(convert("stdf", STDF / "two_site_lot_le.stdf", test_numbers=False)[0])
    assert "VDD" in steps and "TEMP" in steps
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.ptr(9, result=1.0)
    w.prr(part_id="S")
    w.tsr(9, "FROM_TSR")
    assert "9 FROM_TSR" in _steps(_convert(bytes(w))[0])


def test_timestamps_utc_argument() -> None:
    [report] = _convert(bytes(_minimal()), timestamps="utc")
    assert report.start == datetime.fromtimestamp(START, timezone.utc)


def test_unknown_records_are_skipped() -> None:
    w = _minimal()
    w.raw(180, 1, b"vendor data")  # a record type STDF does not define
    w.dtr("free text")
    [report] = _convert(bytes(w))
    assert report.sn == "SN1"


def test_gzip_compressed_file() -> None:
    data = gzip.compress(two_site_lot("<"))
    converter = load_converter_class("stdf")()
    assert converter.validate(SourceFile(Path("lot.stdf.gz"), data)) >= 0.8
    assert [r.sn for r in _convert(data)] == ["PART-A", "PART-B", "LOT42-S1-X5-Y4"]


def test_nan_result_is_kept_and_fails() -> None:
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.ptr(1, text="N", test_flg=0x80, result=math.nan, opt=0x02, low=0.0, high=1.0)
    w.prr(part_id="S", flags=0x08)
    m = _steps(_convert(bytes(w))[0])["1 N"].numeric_meas[0]
    assert math.isnan(m.value) and m.status.value == "F"


# -- errors ---------------------------------------------------------------------------------------------


def test_part_without_part_id_is_an_error_without_fallback() -> None:
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.prr()
    with pytest.raises(ConversionError, match="PART_ID") as caught:
        _convert(bytes(w), serial_fallback=False)
    assert caught.value.field == "PART_ID"


def test_missing_part_type_is_an_error() -> None:
    w = StdfWriter()
    w.mir(lot="L")
    w.pir()
    w.prr(part_id="S")
    with pytest.raises(ConversionError, match="PART_TYP"):
        _convert(bytes(w))
    assert _convert(bytes(w), part_number="GIVEN")[0].pn == "GIVEN"


def test_truncated_file_is_an_error() -> None:
    data = two_site_lot("<")
    with pytest.raises(ConversionError, match="cut short"):
        _convert(data[: len(data) - 10])
    for size in (5, 300, 600):  # inside a header, inside a record, between records with parts open
        with pytest.raises(ConversionError):
            _convert(data[:size])


def test_part_without_prr_at_end_is_an_error() -> None:
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.ptr(1, result=1.0)
    with pytest.raises(ConversionError, match="no PRR"):
        _convert(bytes(w))


def test_malformed_record_is_an_error() -> None:
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.raw(15, 10, struct.pack("<IBBBBf", 1, 1, 1, 0, 0, 1.0) + b"\x20ab")  # TEST_TXT says 32 bytes, has 2
    w.prr(part_id="S")
    with pytest.raises(ConversionError, match="PTR record at byte"):
        _convert(bytes(w))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "shorter than a FAR"),
        (b"\x02\x00\x01\x0a\x02\x04", "does not start with a FAR"),
        (b"\x02\x00\x00\x0a\x02\x03", "version 3"),
        (b"\x02\x00\x00\x0a\x00\x04", "CPU_TYPE 0"),
        (b"\x02\x00\x00\x0a\x02\x04", "no part"),
    ],
)
def test_not_readable_files(data: bytes, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        _convert(data)


# -- validate -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(STDF.glob("*.stdf")), ids=lambda p: p.name)
def test_validate_claims_its_files(path: Path) -> None:
    assert load_converter_class("stdf")().validate(SourceFile.read(path)) >= 0.8


def test_validate_refuses_other_formats() -> None:
    converter = load_converter_class("stdf")()
    for folder in ("teradyne-gr228x", "teradyne-spectrum", "spea-3030"):
        for other in sorted((FIXTURES / folder).iterdir()):
            assert converter.validate(SourceFile.read(other)) <= 0.2, other.name
    assert converter.validate(SourceFile(Path("a.bin"), b"\x00\x01\x02\x03\x04\x05\x06")) <= 0.2


def test_defaults_only_ptr_inside_a_part_is_not_a_step() -> None:
    w = StdfWriter()
    w.mir(part_typ="PT")
    w.pir()
    w.ptr(5, test_flg=0x10, parm_flg=0, text="VBG", opt=0x02, low=1.0, high=1.4, units="V")
    w.ptr(5, result=1.2)
    w.prr(part_id="S")
    [report] = _convert(bytes(w))
    assert [step.name for step in report.root.steps] == ["5 VBG"]
    m = report.root.steps[0].numeric_meas[0]
    assert (m.value, m.low_limit, m.high_limit, m.unit) == (1.2, 1.0, 1.4, "V")
