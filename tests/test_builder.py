"""ReportBuilder: every step kind, inferred operators, computed statuses, deterministic ids, and
hypothesis-generated reports that round-trip through WSJF and WSXF without loss."""

from __future__ import annotations

import base64
import importlib.util
import math
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats import ReportBuilder, ReportFormatError
from pywats.builder import report_id_for
from pywats.formats import wsjf
from pywats.models import (
    AttachmentStep,
    CallExecutableStep,
    ChartStep,
    CompOp,
    GenericStep,
    MeasurementStatus,
    MessagePopupStep,
    NumericStep,
    ReportResult,
    StepStatus,
    UURReport,
    UUTReport,
)
from pywats.models.status import apply_statuses

FORMATS = ["wsjf"] + (["wsxf"] if importlib.util.find_spec("pywats.formats.wsxf") else [])


def new(**kw) -> object:
    args = dict(pn="PCBA-100", sn="SN0001", rev="A", process_code=10, machine_name="Station 1",
                location="Line 2", purpose="Production")  # fmt: skip
    args.update(kw)
    return ReportBuilder.uut(**args)


def test_every_step_kind(tmp_path) -> None:
    photo = tmp_path / "led.png"
    photo.write_bytes(b"\x89PNG fake")
    builder = new()
    power = builder.sequence("Power", version="1.2")
    power.numeric("Vcc", 3.31, low=3.2, high=3.4, unit="V")
    power.string("Firmware", "1.4.2", limit="1.4.2")
    power.multi_numeric("Rails").measure("3V3", 3.3, low=3.2, high=3.4).measure("5V", 5.5, low=4.8, high=5.2)
    builder.pass_fail("LED", True).attach("photo", path=photo).message_popup("Ask", "OK", 1)
    builder.call_executable("Flash", 0).action("Wait", step_type="NI_Wait")
    builder.chart("Sweep", x_label="f", x_unit="Hz").series("gain", [1, 10, 100], [0.1, 1.0, 0.5]).measure(
        "peak", 1.0, low=0.8)
    builder.multi_string("IDs").measure("a", "x", limit="X", comp_op="IGNORECASE").measure("b", "y")
    builder.multi_pass_fail("Checks").measure("one", True).measure("two", False)
    report = builder.build()

    steps = {step.name: step for step in report.iter_steps()}
    assert [s.id for s in report.iter_steps()] == list(range(len(steps)))  # numbered depth first
    assert steps["Power"].seq_call.version == "1.2"
    assert steps["Power"].status is StepStatus.FAILED  # the 5V rail is out of range
    assert steps["Rails"].numeric_meas[1].status is MeasurementStatus.FAILED
    assert isinstance(steps["photo"], AttachmentStep)
    assert base64.b64decode(steps["photo"].attachment.data) == b"\x89PNG fake"
    assert steps["photo"].attachment.content_type == "image/png"
    assert isinstance(steps["Ask"], MessagePopupStep) and isinstance(steps["Flash"], CallExecutableStep)
    assert isinstance(steps["Wait"], GenericStep) and steps["Wait"].step_type == "NI_Wait"
    assert isinstance(steps["Sweep"], ChartStep) and steps["Sweep"].chart.series[0].xdata == "1.0;10.0;100.0"
    assert steps["IDs"].string_meas[0].status is MeasurementStatus.PASSED
    assert steps["Checks"].status is StepStatus.FAILED
    assert report.result is ReportResult.FAILED
    assert wsjf.loads(wsjf.dumps(report)) == report


@pytest.mark.parametrize(
    "kwargs, op, low, high",
    [
        ({"low": 1.0, "high": 2.0}, CompOp.GELE, 1.0, 2.0),
        ({"low": 1.0}, CompOp.GE, 1.0, None),
        ({"high": 2.0}, CompOp.LE, 2.0, None),  # the single limit goes to lowLimit, as WATS wants
        ({}, CompOp.LOG, None, None),
        ({"high": 2.0, "comp_op": "LT"}, CompOp.LT, 2.0, None),
        ({"low": 1.0, "high": 2.0, "comp_op": "LTGT"}, CompOp.LTGT, 1.0, 2.0),
    ],
)
def test_operator_and_limits_inferred(kwargs, op, low, high) -> None:
    measurement = new().numeric("x", 1.5, **kwargs).build().root.steps[0].numeric_meas[0]
    assert (measurement.comp_op, measurement.low_limit, measurement.high_limit) == (op, low, high)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"low": 1.0, "high": 2.0, "comp_op": "GE"}, "takes one limit"),
        ({"comp_op": "GT"}, "needs a limit"),
        ({"low": 1.0, "comp_op": "GELE"}, "needs both low and high"),
        ({"low": 1.0, "comp_op": "IGNORECASE"}, "not a comparison for numeric"),
    ],
)
def test_wrong_limits_are_refused_at_once(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        new().numeric("x", 1.0, **kwargs)


def test_explicit_statuses_are_kept() -> None:
    report = new(result="E").numeric("x", 100.0, low=0.0, high=1.0, status="P").build()
    assert report.root.steps[0].numeric_meas[0].status is MeasurementStatus.PASSED
    assert report.result is ReportResult.ERROR


def test_deterministic_id() -> None:
    first = new(id_key="conv:1.0:abc:0").build()
    second = new(id_key="conv:1.0:abc:0").build()
    other = new(id_key="conv:1.0:abc:1").build()
    assert first.id == second.id == report_id_for("conv:1.0:abc:0") != other.id
    assert first.id.version == 5
    assert new().build().id != new().build().id  # random without a key
    fixed = uuid.uuid4()
    assert new(report_id=fixed).build().id == fixed
    with pytest.raises(ValueError):
        new(report_id=fixed, id_key="k")


def test_station_fills_the_header() -> None:
    class Station:
        name, location, purpose = "ST-7", "Hall B", "Debug"

    report = ReportBuilder.uut(pn="p", sn="s", rev="r", process_code=10, station=Station()).build()
    assert (report.machine_name, report.location, report.purpose) == ("ST-7", "Hall B", "Debug")


def test_start_time_and_utc() -> None:
    start = datetime(2024, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    report = new(start=start).build()
    assert report.start == start and report.start_utc == start
    assert report.start_utc.utcoffset() == timedelta(0)


def test_build_errors_are_located() -> None:
    with pytest.raises(ReportFormatError) as caught:
        new().numeric("x", 1.0, unit="u" * 40).build()
    assert caught.value.path == "root.steps[0].numericMeas[0].unit"
    report = new().numeric("x", 1.0, unit="u" * 40).build(lengths="truncate")
    assert report.root.steps[0].numeric_meas[0].unit == "u" * 20


def test_sub_units_misc_info_assets() -> None:
    report = new().sub_unit("PCBA", "S1", "P1", "B").misc_info("Order", "42").misc_info("Temp", numeric=23).asset(
        "FIX-1", 17).build()
    assert report.sub_units[0].part_type == "PCBA"
    assert [m.description for m in report.misc_infos] == ["Order", "Temp"]
    assert report.assets[0].asset_sn == "FIX-1" and report.assets[0].usage_count == 17


def test_uur() -> None:
    failed = new().numeric("x", 5.0, high=1.0).build()
    builder = ReportBuilder.uur(pn="PCBA-100", sn="SN0001", rev="A", test_process_code=10, ref_uut=failed.id,
                                user="tech", comment="reflowed U3")  # fmt: skip
    part = builder.sub_unit("IC", "U3-SN", "IC-555", parent_idx=0)
    builder.sub_unit("IC", "U3-NEW", "IC-555", replaced_idx=part)
    builder.failure("Solder", "Bridge", idx=part, comRef="U3", refStepId=1).attach("photo", b"img", content_type="image/jpeg")
    report = builder.build()
    assert isinstance(report, UURReport)
    assert report.uur.ref_uut == failed.id and report.process_code == 500
    assert [u.idx for u in report.sub_units] == [0, 1, 2]
    assert report.sub_units[1].failures[0].com_ref == "U3"
    assert report.sub_units[2].replaced_idx == 1
    with pytest.raises(ValueError, match="no sub unit with idx 9"):
        builder.failure("a", "b", idx=9)


# --- hypothesis: generated reports round-trip ------------------------------------------------------

# Text XML 1.0 can carry (WSXF strips the rest, documented as its one lossy case).
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=30,
)
names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s.strip() == s and "\ufffe" not in s and "\uffff" not in s
)
numbers = st.floats(allow_nan=True, allow_infinity=True, width=64)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@st.composite
def numeric_args(draw):
    op = draw(st.sampled_from([None, "LOG", "EQ", "NE", "GT", "GE", "LT", "LE", "GELE", "GTLT", "LEGE", "LTGT"]))
    low, high = sorted([draw(finite), draw(finite)])
    if op is None:
        return draw(st.sampled_from([{}, {"low": low}, {"high": high}, {"low": low, "high": high}]))
    if op == "LOG":
        return {"comp_op": op}
    if op in ("EQ", "NE", "GT", "GE", "LT", "LE"):
        return {"comp_op": op, draw(st.sampled_from(["low", "high"])): low}
    return {"comp_op": op, "low": low, "high": high}


leaf = st.one_of(
    st.tuples(st.just("numeric"), names, numbers, numeric_args(), st.one_of(st.none(), text.map(lambda s: s[:20]))),
    st.tuples(st.just("string"), names, text, st.one_of(st.none(), text),
              st.sampled_from([None, "EQ", "NE", "IGNORECASE", "CASESENSIT"])),
    st.tuples(st.just("pass_fail"), names, st.booleans()),
    st.tuples(st.just("multi"), names, st.lists(st.tuples(names, finite, numeric_args()), min_size=2, max_size=4,
                                                unique_by=lambda t: t[0])),
    st.tuples(st.just("chart"), names, st.lists(st.tuples(names, st.lists(finite, min_size=1, max_size=5)),
                                                min_size=1, max_size=3)),
    st.tuples(st.just("attach"), names, st.binary(max_size=64)),
    st.tuples(st.just("popup"), names, text, st.integers(0, 5)),
    st.tuples(st.just("exe"), names, st.integers(-5, 255)),
    st.tuples(st.just("action"), names, st.sampled_from(["Action", "NI_Flow_If", "Label", "Statement"])),
)
tree = st.recursive(
    st.lists(leaf, max_size=4),
    lambda children: st.lists(st.one_of(leaf, st.tuples(st.just("sequence"), names, children)), max_size=4),
    max_leaves=25,
)


def apply(parent, specs) -> None:
    for spec in specs:
        kind, name = spec[0], spec[1]
        if kind == "numeric":
            _, _, value, args, unit = spec
            args = {k: v for k, v in args.items() if not (k == "comp_op" and v is None)}
            parent.numeric(name, value, unit=unit or None, **args)
        elif kind == "string":
            _, _, value, limit, op = spec
            if op not in (None, "LOG") and limit is None:
                limit = ""
            parent.string(name, value, limit=limit, comp_op=op)
        elif kind == "pass_fail":
            parent.pass_fail(name, spec[2])
        elif kind == "multi":
            step = parent.multi_numeric(name)
            for measure_name, value, args in spec[2]:
                step.measure(measure_name, value, **args)
        elif kind == "chart":
            step = parent.chart(name)
            for series_name, ys in spec[2]:
                step.series(series_name, range(len(ys)), ys)
        elif kind == "attach":
            parent.attach(name, spec[2])
        elif kind == "popup":
            parent.message_popup(name, spec[2] or None, spec[3])
        elif kind == "exe":
            parent.call_executable(name, spec[2])
        elif kind == "action":
            parent.action(name, step_type=spec[2])
        else:
            apply(parent.sequence(name), spec[2])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=tree, sn=names, misc=st.lists(st.tuples(names, text), max_size=3), fmt=st.sampled_from(FORMATS))
def test_generated_reports_round_trip(specs, sn, misc, fmt) -> None:
    builder = new(sn=sn)
    apply(builder, specs)
    for description, value in misc:
        builder.misc_info(description, value)
    report = builder.build()
    assert isinstance(report, UUTReport)

    # Statuses are consistent: recomputing them from the limits changes nothing.
    assert wsjf.dumps(apply_statuses(report.model_copy(deep=True), overwrite=True)) == wsjf.dumps(report)

    module = __import__(f"pywats.formats.{fmt}", fromlist=["loads"])
    again = module.loads(module.dumps(report))
    # Compared as WSJF text, so that NaN equals NaN.
    assert wsjf.dumps(again) == wsjf.dumps(report)
    if not any(math.isnan(m.value) for s in report.iter_steps() for m in getattr(s, "numeric_meas", []) if m.value is not None):
        assert again == report
