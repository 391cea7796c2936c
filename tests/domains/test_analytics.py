"""``api.analytics`` against the emulator, and the emulator's statistics as pure functions.

The end-to-end tests submit a small known production day to a fresh emulator and check exact figures
through both clients (each scenario is one ``async def`` run with the sync client, where it never suspends,
and with the async client):

    part PCBA-A, ICT (process 20), day 1               part PCBA-B, ICT, day 2
      U1  run 1 pass  S1                                 U4  run 1 pass  S2
      U2  run 1 FAIL  S1  → repair (C12) → run 2 pass  S2
      U3  run 1 FAIL  S1  → run 2 FAIL (Vcc, LED) S2  → repair (C12, C15)
      U1  Final Function Test (100): pass S2

Vcc fails above 3.4 V. ICT of PCBA-A: 3 units, FPY 1/3, SPY = TPY = LPY 2/3, test yield 2/5.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import pywats
from pywats import BadRequestError, ReportBuilder
from pywats.domains.analytics import YieldData, measurement_path
from pywats_emulator.app_filter import (
    AppFilter,
    FilterError,
    ReportRow,
    Window,
    add_periods,
    date_window,
    parse_order,
    period_label,
    sort_items,
    text_matches,
)
from pywats_emulator.oee import available_hours, connection_times, oee_analysis, parse_available_time
from pywats_emulator.step_stats import capability, parse_measurement_paths, spec_limits, top_failed, walk_steps
from pywats_emulator.yields import dynamic_yield, unit_runs, yield_kpis

DAY1 = (datetime.now(timezone.utc) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
DAY2 = DAY1 + timedelta(days=1)
VCC = "MainSequence Callback/Power/Vcc"

# (sn, pn, process, station, hour, vcc, led ok, exec seconds); run order follows the hour
TESTS = [
    ("U1", "PCBA-A", 20, "S1", DAY1 + timedelta(hours=1), 3.30, True, 60.0),
    ("U2", "PCBA-A", 20, "S1", DAY1 + timedelta(hours=2), 3.50, True, 90.0),
    ("U2", "PCBA-A", 20, "S2", DAY1 + timedelta(hours=3), 3.31, True, 70.0),
    ("U3", "PCBA-A", 20, "S1", DAY1 + timedelta(hours=4), 3.60, True, 120.0),
    ("U3", "PCBA-A", 20, "S2", DAY1 + timedelta(hours=5), 3.55, False, 80.0),
    ("U1", "PCBA-A", 100, "S2", DAY1 + timedelta(hours=7), 3.30, True, 30.0),
    ("U4", "PCBA-B", 20, "S2", DAY2 + timedelta(hours=6), 3.29, True, 50.0),
]


def uut(sn: str, pn: str, process: int, station: str, start: datetime, vcc: float, led: bool, exec_time: float):
    builder = ReportBuilder.uut(
        pn=pn, sn=sn, rev="A" if pn == "PCBA-A" else "B", process_code=process, machine_name=station,
        location="Line 1", purpose="Production", start=start, exec_time=exec_time, user=f"op-{station}",
        batch_sn="B1",
    )  # fmt: skip
    power = builder.sequence("Power")
    power.numeric("Vcc", vcc, low=3.2, high=3.4, unit="V")
    power.multi_numeric("Rails").measure("3V3", 3.3, low=3.1, high=3.5, unit="V").measure("5V", 5.0, low=4.8, high=5.2)
    builder.pass_fail("LED", led)
    return builder.build()


def seed(url: str, token: str) -> dict[str, Any]:
    """Submit the production day; the ids of the failed first runs of U2 and U3's second run."""
    ids = {}
    with pywats.pyWATS(url, token) as api:
        for row in TESTS:
            report = uut(*row)
            api.report.submit(report)
            ids[(row[0], row[4])] = report.id
        u2_fail, u3_second = ids[("U2", TESTS[1][4])], ids[("U3", TESTS[4][4])]
        repair = ReportBuilder.uur(pn="PCBA-A", sn="U2", rev="A", test_process_code=20, ref_uut=u2_fail,
                                   start=DAY1 + timedelta(hours=2, minutes=30), machine_name="R1")  # fmt: skip
        repair.failure("Component", "C12", comRef="R7")
        api.report.submit(repair.build())
        repair = ReportBuilder.uur(pn="PCBA-A", sn="U3", rev="A", test_process_code=20, ref_uut=u3_second,
                                   start=DAY1 + timedelta(hours=5, minutes=30), machine_name="R1")  # fmt: skip
        repair.failure("Component", "C12", comRef="R7").failure("Solder", "C15", comRef="U9")
        api.report.submit(repair.build())
    return ids


async def maybe(value: Any) -> Any:
    """Await a result of the async client; hand back a result of the sync client as it is."""
    return await value if hasattr(value, "__await__") else value


async def run(mode: str, emulator: Any, scenario: Any) -> None:
    if mode == "sync":
        with pywats.pyWATS(emulator.url, emulator.token) as api:
            coroutine = scenario(api)
            with pytest.raises(StopIteration):
                coroutine.send(None)  # a sync scenario never suspends
    else:
        async with pywats.AsyncWATS(emulator.url, emulator.token) as api:
            await scenario(api)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def day(fresh_emulator: Any) -> Any:
    seed(fresh_emulator.url, fresh_emulator.token)
    return fresh_emulator


def by(rows: list, *names: str) -> dict:
    return {tuple(getattr(row, name) for name in names): row for row in rows}


# -- end to end ------------------------------------------------------------------------------------------


async def test_dynamic_yield_by_product_and_operation(mode: str, day: Any) -> None:
    async def scenario(api):
        rows = await maybe(api.analytics.get_dynamic_yield(dimensions="partNumber;testOperation"))
        assert all(isinstance(row, YieldData) for row in rows)
        assert [(row.part_number, row.test_operation) for row in rows] == [
            ("PCBA-A", "Final Function Test"), ("PCBA-A", "ICT"), ("PCBA-B", "ICT")]
        ict = by(rows, "part_number", "test_operation")[("PCBA-A", "ICT")]
        assert (ict.unit_count, ict.fp_count, ict.sp_count, ict.tp_count, ict.lp_count) == (3, 1, 2, 2, 2)
        assert ict.fpy == pytest.approx(100 / 3) and ict.spy == ict.tpy == ict.lpy == pytest.approx(200 / 3)
        assert (ict.test_report_count, ict.test_yield_count, ict.retest_count) == (5, 2, 2)
        assert ict.test_yield == pytest.approx(40.0) and ict.ppm_fpy == pytest.approx(2e6 / 3)
        assert (ict.fp_fail_count, ict.lp_fail_count) == (2, 1)
        assert ict.first_utc == DAY1 + timedelta(hours=1) and ict.last_utc == DAY1 + timedelta(hours=5)
        # default dimensions: unitCount desc, then part number and operation; every KPI
        default = await maybe(api.analytics.get_dynamic_yield())
        assert [(row.part_number, row.test_operation, row.unit_count) for row in default] == [
            ("PCBA-A", "ICT", 3), ("PCBA-A", "Final Function Test", 1), ("PCBA-B", "ICT", 1)]
        assert default[0].fpy == pytest.approx(100 / 3)

    await run(mode, day, scenario)


async def test_dynamic_yield_dimensions_filters_and_kpi_selection(mode: str, day: Any) -> None:
    async def scenario(api):
        # Units count at the station of their first run; reports at their own station.
        stations = by(await maybe(api.analytics.get_dynamic_yield(test_operation="ICT", dimensions=["stationName"])),
                      "station_name")  # fmt: skip
        assert (stations[("S1",)].unit_count, stations[("S1",)].fp_count, stations[("S1",)].lp_count) == (3, 1, 2)
        assert (stations[("S1",)].test_report_count, stations[("S1",)].test_yield_count) == (3, 1)
        assert (stations[("S2",)].unit_count, stations[("S2",)].fpy) == (1, 100.0)
        assert (stations[("S2",)].test_report_count, stations[("S2",)].retest_count) == (3, 2)
        assert stations[("S2",)].test_yield == pytest.approx(200 / 3)
        # Periods: one per UTC day, named by its start.
        periods = await maybe(api.analytics.get_dynamic_yield(
            test_operation="ICT", date_grouping=1, dimensions="period;fpy"))
        assert [(row.period, row.unit_count, row.fpy) for row in periods] == [
            (DAY1.strftime("%Y-%m-%dT%H:%M:%SZ"), None, pytest.approx(100 / 3)),
            (DAY2.strftime("%Y-%m-%dT%H:%M:%SZ"), None, 100.0)]
        # Only the KPIs asked for, in the order asked for.
        worst = await maybe(api.analytics.get_dynamic_yield(
            {"testOperation": "ICT"}, dimensions="fpy asc;unitCount;partNumber"))
        assert [(row.part_number, row.fpy, row.unit_count, row.test_yield) for row in worst] == [
            ("PCBA-A", pytest.approx(100 / 3), 3, None), ("PCBA-B", 100.0, 1, None)]
        # Filters: wildcards, lists, serial numbers, status, dates (outside the window: nothing).
        assert [row.part_number for row in await maybe(api.analytics.get_dynamic_yield(
            part_number="pcba-*", test_operation="20", dimensions="partNumber"))] == ["PCBA-A", "PCBA-B"]
        u2 = await maybe(api.analytics.get_dynamic_yield(serial_number="U2;U9", dimensions="partNumber"))
        assert [(row.unit_count, row.fp_count, row.sp_count) for row in u2] == [(1, 0, 1)]
        failed = await maybe(api.analytics.get_dynamic_yield(status="Failed", dimensions="stationName"))
        assert {row.station_name: row.test_report_count for row in failed} == {"S1": 2, "S2": 1}
        assert await maybe(api.analytics.get_dynamic_yield(date_to=DAY1 - timedelta(days=1))) == []
        day2 = await maybe(api.analytics.get_dynamic_yield(date_from=DAY2, date_to=DAY2 + timedelta(days=1),
                                                           dimensions="partNumber"))  # fmt: skip
        assert [(row.part_number, row.unit_count) for row in day2] == [("PCBA-B", 1)]

    await run(mode, day, scenario)


async def test_yield_lists(mode: str, day: Any) -> None:
    async def scenario(api):
        volume = await maybe(api.analytics.get_volume_yield())
        assert [(row.part_number, row.test_operation) for row in volume] == [
            ("PCBA-A", "Final Function Test"), ("PCBA-A", "ICT"), ("PCBA-B", "ICT")]
        high = await maybe(api.analytics.get_high_volume(days=7))
        assert (high[0].part_number, high[0].test_operation, high[0].unit_count) == ("PCBA-A", "ICT", 3)
        worst = await maybe(api.analytics.get_worst_yield(yield_=50))
        assert [(row.part_number, row.test_operation) for row in worst] == [("PCBA-A", "ICT")]
        assert [row.part_number for row in await maybe(api.analytics.get_worst_yield(days=7))][0] == "PCBA-A"
        groups = await maybe(api.analytics.get_high_volume_by_product_group())
        assert [(row.product_group, row.test_operation, row.unit_count) for row in groups] == [
            (None, "ICT", 4), (None, "Final Function Test", 1)]
        worst_groups = await maybe(api.analytics.get_worst_yield_by_product_group(top_count=1))
        assert [(row.test_operation, row.fpy) for row in worst_groups] == [("ICT", 50.0)]
        assert await maybe(api.analytics.get_product_groups(include_filters=True)) == []
        assert await maybe(api.analytics.get_levels()) == []

    await run(mode, day, scenario)


async def test_top_failed_history_and_repairs(mode: str, day: Any) -> None:
    async def scenario(api):
        failed = await maybe(api.analytics.get_top_failed(part_number="PCBA-A", test_operation="ICT"))
        assert [(row.step_path, row.fail_count, row.caused_uut_failure_count, row.step_count) for row in failed] == [
            (VCC, 3, 3, 5), ("MainSequence Callback/LED", 1, 0, 5)]
        recent = await maybe(api.analytics.get_top_failed(days=7, part_number="PCBA-A", process_code=20, count=1))
        assert [row.step_name for row in recent] == ["Vcc"]
        history = await maybe(api.analytics.get_serial_number_history(serial_number="U2"))
        assert [(h.report_type, h.process_name, h.result, h.station_name) for h in history] == [
            ("T", "ICT", "Failed", "S1"), ("R", "Repair", "Passed", "R1"), ("T", "ICT", "Passed", "S2")]
        assert [h.run for h in history if h.report_type == "T"] == [1, 2]
        batch = await maybe(api.analytics.get_serial_number_history(batch_number="B1", part_number="PCBA-B"))
        assert [(h.serial_number, h.result) for h in batch] == [("U4", "Passed")]
        repairs = await maybe(api.analytics.get_dynamic_repair())
        assert [(r.part_number, r.repair_operation, r.repair_report_count, r.repair_count) for r in repairs] == [
            ("PCBA-A", "Repair", 2, 3)]
        codes = await maybe(api.analytics.get_dynamic_repair(dimensions="repairCode;testStationName;repairCount"))
        assert [(r.repair_code, r.test_station_name, r.repair_count, r.repair_report_count) for r in codes] == [
            ("C12", "S1", 1, None), ("C12", "S2", 1, None), ("C15", "S2", 1, None)]
        related = await maybe(api.analytics.get_related_repair_history("PCBA-A", "A", test_operation_code=20))
        assert [(r.serial_number, r.repair_code, r.component_ref) for r in related] == [
            ("U3", "C12", "R7"), ("U3", "C15", "U9"), ("U2", "C12", "R7")]
        assert await maybe(api.analytics.get_related_repair_history("PCBA-A", "A", repair_operation_code=10)) == []

    await run(mode, day, scenario)


async def test_step_analysis_and_measurements(mode: str, day: Any) -> None:
    async def scenario(api):
        steps = await maybe(api.analytics.get_test_step_analysis(part_number="PCBA-A", test_operation="ICT"))
        rows = by(steps, "step_path", "measure_name")
        vcc = rows[(VCC, None)]  # run 1 of each unit by default: U1, U2, U3
        assert (vcc.step_count, vcc.pass_count, vcc.fail_count, vcc.caused_uut_failure_count) == (3, 1, 2, 2)
        assert (vcc.value_count, vcc.min, vcc.max, vcc.low_limit, vcc.high_limit, vcc.comp_op, vcc.unit) == (
            3, 3.30, 3.60, 3.2, 3.4, "GELE", "V")
        assert vcc.avg == pytest.approx(statistics.mean([3.30, 3.50, 3.60]))
        assert vcc.stdev == pytest.approx(statistics.stdev([3.30, 3.50, 3.60]))
        rails = "MainSequence Callback/Power/Rails"
        assert rows[(rails, None)].value_count == 0 and rows[(rails, "5V")].avg == pytest.approx(5.0)
        assert rows[(rails, "3V3")].pass_count == 3
        everything = by(await maybe(api.analytics.get_test_step_analysis(
            part_number="PCBA-A", test_operation="ICT", run=-2)), "step_path", "measure_name")
        assert everything[(VCC, None)].step_count == 5
        assert everything[("MainSequence Callback/LED", None)].fail_count == 1
        second = by(await maybe(api.analytics.get_test_step_analysis(
            {"partNumber": "PCBA-A", "testOperation": "ICT"}, run=2)), "step_path", "measure_name")
        assert (second[(VCC, None)].min, second[(VCC, None)].max) == (3.31, 3.55)

        values = [3.30, 3.50, 3.31, 3.60, 3.55]
        path = measurement_path("MainSequence Callback", "Power", "Vcc")
        found = await maybe(api.analytics.get_measurements(path, part_number="PCBA-A", test_operation="ICT"))
        assert [(m.serial_number, m.value, m.status) for m in found] == [
            ("U1", 3.30, "P"), ("U2", 3.50, "F"), ("U2", 3.31, "P"), ("U3", 3.60, "F"), ("U3", 3.55, "F")]
        assert {m.measurement_path for m in found} == {path} and {m.step_path for m in found} == {VCC}
        both = await maybe(api.analytics.get_measurements(
            [VCC, measurement_path("MainSequence Callback", "Power", "Rails", measurement="5V")],
            part_number="PCBA-A", test_operation="ICT", max_count=6))
        assert [m.measure_name for m in both] == [None, "5V", None, "5V", None, "5V"]  # the newest six

        [stats] = await maybe(api.analytics.get_aggregated_measurements(path, part_number="PCBA-A",
                                                                        test_operation="ICT"))  # fmt: skip
        mean, stdev = statistics.mean(values), statistics.stdev(values)
        assert (stats.value_count, stats.pass_count, stats.fail_count, stats.min, stats.max) == (5, 2, 3, 3.30, 3.60)
        assert stats.avg == pytest.approx(mean) and stats.stdev == pytest.approx(stdev)
        assert stats.cp == pytest.approx((3.4 - 3.2) / (6 * stdev))
        assert stats.cpk == pytest.approx(min(3.4 - mean, mean - 3.2) / (3 * stdev))

    await run(mode, day, scenario)


async def test_oee(mode: str, day: Any) -> None:
    async def scenario(api):
        oee = await maybe(api.analytics.get_oee_analysis(
            [8] * 7, test_operation="ICT", date_from=DAY1, date_to=DAY2))
        assert (oee.report_count, oee.passed_count, oee.station_count, oee.available_time) == (5, 2, 2, 16.0)
        s1 = by(oee.stations, "station_name")[("S1",)]
        run_s1 = 60.0 + 90.0 + 120.0
        assert (s1.report_count, s1.available_time, s1.ideal_cycle_time) == (3, 8.0, 60.0)
        assert s1.availability == pytest.approx(100 * run_s1 / (8 * 3600))
        assert s1.performance == pytest.approx(100 * 60.0 * 3 / run_s1)
        assert s1.quality == pytest.approx(100 / 3)
        assert s1.oee == pytest.approx(100 * (run_s1 / 28800) * (180 / run_s1) * (1 / 3))
        targeted = await maybe(api.analytics.get_oee_analysis(
            "8,8,8,8,8,8,8", test_operation="ICT", date_from=DAY1, date_to=DAY2, target_output=480,
            max_execution_time=100))
        assert targeted.report_count == 4 and targeted.ideal_cycle_time == pytest.approx(60.0)

    await run(mode, day, scenario)


async def test_bad_filters_are_400(mode: str, day: Any) -> None:
    async def scenario(api):
        with pytest.raises(BadRequestError, match="not a supported dimension"):
            await maybe(api.analytics.get_dynamic_yield(dimensions="partNumber;shoeSize"))
        with pytest.raises(BadRequestError, match="partNumber and testOperation"):
            await maybe(api.analytics.get_test_step_analysis(part_number="PCBA-A"))
        with pytest.raises(BadRequestError, match="asc or desc"):
            await maybe(api.analytics.get_dynamic_yield(dimensions="partNumber sideways"))
        with pytest.raises(BadRequestError, match="availableTime"):
            await maybe(api.analytics.get_oee_analysis("24,24"))
        with pytest.raises(BadRequestError, match="serialNumber"):
            await maybe(api.analytics.get_serial_number_history())
        with pytest.raises(BadRequestError, match="dateGrouping"):
            await maybe(api.analytics.get_dynamic_yield(date_grouping=-1, dimensions="period"))

    await run(mode, day, scenario)


def test_emulator_answers_malformed_filters_400(fresh_emulator: Any) -> None:
    """What the client cannot send (it checks types first) the emulator still refuses with a reason."""
    with fresh_emulator.client() as http:
        for path, params, body, reason in [
            ("/api/App/DynamicYield", {}, {"dateFrom": "yesterday"}, "dateFrom"),
            ("/api/App/DynamicYield", {}, {"dateGrouping": 9}, "dateGrouping"),
            ("/api/App/TestStepAnalysis", {}, {"partNumber": "A", "testOperation": "ICT", "run": 4}, "run"),
            ("/api/App/WorstYield", {}, {"topCount": -1}, "topCount"),
            ("/api/App/OeeAnalysis", {}, {}, "availableTime"),
            ("/api/App/RelatedRepairHistory", {"partNumber": "A"}, None, "revision"),
            ("/api/App/RelatedRepairHistory", {"partNumber": "A", "revision": "A", "testOperationCode": "Nope"},
             None, "testOperationCode"),
        ]:
            if body is None:
                response = http.get(path, params=params)
            else:
                response = http.post(path, params=params, json=body)
            assert response.status_code == 400, (path, body, response.text)
            assert reason in response.json()["Message"]


def test_client_checks_arguments_before_sending() -> None:
    api = pywats.pyWATS("http://127.0.0.1:9", "dG9rZW4=")
    with pytest.raises(ValueError, match="run"):
        api.analytics.get_test_step_analysis(run=4)
    with pytest.raises(ValueError, match="seven"):
        api.analytics.get_oee_analysis([24] * 6)
    with pytest.raises(ValueError, match="days"):
        api.analytics.get_volume_yield(days=7, part_number="X")
    with pytest.raises(ValueError, match="needs part_number"):
        api.analytics.get_top_failed(days=7)
    op = api.analytics.get_dynamic_yield.build({"partNumber": "A"}, dimensions=["partNumber", "fpy desc"], top_count=5)
    assert (op.method, op.path, dict(op.params), op.is_idempotent) == (
        "POST", "/api/App/DynamicYield", {"dimensions": "partNumber;fpy desc"}, True)
    assert op.body == b'{"partNumber":"A","topCount":5}'
    get = api.analytics.get_top_failed.build(days=3, part_number="A", process_code=20, count=5)
    assert get.url == "/api/App/TopFailed?days=3&productGroupId=&levelId=&partNumber=A&processCode=20&count=5"
    assert measurement_path("Main", "Rails", measurement="5V") == "Main¶Rails¶¶5V"
    api.close()


# -- pure computations -----------------------------------------------------------------------------------


def row(sn: str, result: str, hour: int, *, station: str = "S1", pn: str = "P", process: int = 20, **more) -> ReportRow:
    return ReportRow(id=f"{sn}-{hour}-{process}", type="T", sn=sn, pn=pn, rev="A", process_code=process,
                     process_name="ICT", start=DAY1 + timedelta(hours=hour), result=result, station=station,
                     timestamp=hour, **more)  # fmt: skip


def test_runs_and_kpis() -> None:
    rows = [row("A", "P", 1), row("B", "F", 2), row("B", "F", 3), row("B", "P", 4), row("C", "F", 5),
            row("C", "E", 6), row("C", "T", 7), row("C", "D", 8)]  # fmt: skip
    runs = unit_runs(reversed(rows))
    assert [r.result for r in runs[("C", "P", 20)]] == ["F", "E", "T", "D"]
    kpis = yield_kpis(list(runs.values()), [(r, 1) for r in rows])
    assert (kpis["fpCount"], kpis["spCount"], kpis["tpCount"], kpis["lpCount"]) == (1, 1, 2, 3)
    assert (kpis["testYieldCount"], kpis["testReportCount"], kpis["retestCount"]) == (3, 8, 0)
    empty = yield_kpis([], [])
    assert (empty["unitCount"], empty["fpy"], empty["testYield"], empty["firstUtc"]) == (0, None, None, None)


def test_unit_counts_where_its_first_run_is() -> None:
    rows = [row("A", "F", 1, station="S1"), row("A", "P", 30, station="S2"), row("B", "P", 31, station="S2")]
    window = Window(DAY1 + timedelta(hours=24), None)  # run 1 of A is before the window
    items = dynamic_yield(rows, AppFilter(), window, "stationName", unit="day")
    figures = [(i["stationName"], i["unitCount"], i["fpCount"], i["testReportCount"], i["retestCount"]) for i in items]
    assert figures == [("S2", 1, 1, 2, 1)]
    everything = dynamic_yield(rows, AppFilter(), Window(), "stationName", unit="day")
    s1 = next(i for i in everything if i["stationName"] == "S1")
    assert (s1["unitCount"], s1["fpCount"], s1["spCount"], s1["lpCount"]) == (1, 0, 1, 1)  # later runs count too


def test_dimensions_with_several_values_per_report() -> None:
    rows = [row("A", "P", 1, misc=(("FW", "1.0"), ("HW", "B"))), row("B", "F", 2, misc=(("FW", "2.0"),))]
    items = dynamic_yield(rows, AppFilter(), Window(), "miscInfoDescription;miscInfoString;unitCount", unit="day")
    assert [(i["miscInfoDescription"], i["miscInfoString"], i["unitCount"]) for i in items] == [
        ("FW", "1.0", 1), ("FW", "2.0", 1), ("HW", "B", 1)]
    matching = dynamic_yield(rows, AppFilter(miscDescription="FW", miscValue="2*"), Window(), "partNumber", unit=None)
    assert [(i["unitCount"], i["fpCount"]) for i in matching] == [(1, 0)]


def test_text_patterns_order_and_periods() -> None:
    assert text_matches("PCBA-100", "pcba-*") and text_matches("SN_7", "SN?7") and text_matches("X", "Y; X")
    assert not text_matches("PCBA-100", "PCBA") and not text_matches(None, "*")
    assert parse_order("unitCount DESC; partNumber", ["partNumber", "unitCount"]) == [
        ("unitCount", True), ("partNumber", False)]
    for bad in ("partNumber sideways", "nope", "partNumber;partNumber"):
        with pytest.raises(FilterError):
            parse_order(bad, ["partNumber"])
    items = [{"a": 2, "b": "x"}, {"a": None, "b": "y"}, {"a": 2, "b": "w"}]
    assert [i["b"] for i in sort_items(items, [("a", True), ("b", False)])] == ["w", "x", "y"]
    moment = datetime(2025, 11, 19, 13, 30, tzinfo=timezone.utc)  # a Wednesday
    assert [period_label(moment, unit) for unit in ("hour", "day", "week", "month", "quarter", "year")] == [
        "2025-11-19T13:00:00Z", "2025-11-19T00:00:00Z", "2025-11-17T00:00:00Z", "2025-11-01T00:00:00Z",
        "2025-10-01T00:00:00Z", "2025-01-01T00:00:00Z"]
    utc = timezone.utc
    assert add_periods(datetime(2025, 11, 1, tzinfo=utc), "quarter", 1) == datetime(2026, 2, 1, tzinfo=utc)
    assert date_window(AppFilter(periodCount=3, dateGrouping=3), moment) == Window(
        datetime(2025, 9, 1, tzinfo=timezone.utc), None)
    previous = date_window(AppFilter(periodCount=1, dateGrouping=1, includeCurrentPeriod=False), moment)
    assert (previous.start, previous.end + timedelta(microseconds=1)) == (
        datetime(2025, 11, 18, tzinfo=timezone.utc), datetime(2025, 11, 19, tzinfo=timezone.utc))
    with pytest.raises(FilterError):
        date_window(AppFilter(dateFrom="2025-02-01", dateTo="2025-01-01"), moment)


def test_step_paths_failures_and_capability() -> None:
    report = uut("U9", "P", 20, "S1", DAY1, 3.6, False, 10.0)
    from pywats.formats import wsjf

    stored = row("U9", "F", 1, body_text=wsjf.dumps(report))
    paths = [path for path, _ in walk_steps(stored.body["root"])]
    assert paths[:3] == [("MainSequence Callback",), ("MainSequence Callback", "Power"), tuple(VCC.split("/"))]
    assert [(i["stepPath"], i["failCount"], i["causedUutFailureCount"]) for i in top_failed([stored])] == [
        (VCC, 1, 1), ("MainSequence Callback/LED", 1, 0)]
    [slash, pilcrow] = parse_measurement_paths("Main/Power/Rails//5V; Main¶Power¶Vcc")
    assert (slash.steps, slash.measure, pilcrow.steps, pilcrow.measure) == (
        ("Main", "Power", "Rails"), "5V", ("Main", "Power", "Vcc"), None)
    assert spec_limits("LE", 5.0, None) == (None, 5.0) and spec_limits("GT", 1.0, None) == (1.0, None)
    assert spec_limits("LEGE", 1.0, 2.0) == (None, None)
    cp, cpk = capability(10.0, 0.5, 8.0, 13.0)
    assert (cp, cpk) == (pytest.approx(5 / 3), pytest.approx(4 / 3))
    assert capability(10.0, 0.0, 8.0, 13.0) == (None, None) and capability(10.0, 1.0, None, 13.0)[0] is None


def test_oee_arithmetic() -> None:
    assert parse_available_time("0, 8,8,8,8,8, 0") == [0, 8, 8, 8, 8, 8, 0]
    for bad in ("", "8,8", "25,8,8,8,8,8,8", "a,8,8,8,8,8,8"):
        with pytest.raises(FilterError):
            parse_available_time(bad)
    saturday = datetime(2025, 11, 22, tzinfo=timezone.utc)
    hours = [1, 2, 3, 4, 5, 6, 7]  # Sunday first
    assert available_hours(saturday, saturday + timedelta(days=2), hours) == 7 + 1
    assert available_hours(saturday + timedelta(hours=12), saturday + timedelta(days=1, hours=6), hours) == 3.5 + 0.25
    rows = [row("A", "P", 1, execution_time=600.0), row("B", "F", 2, execution_time=600.0),
            row("C", "P", 3, station="S2", execution_time=100.0)]  # fmt: skip
    assert connection_times(rows) == {rows[0].id: 600.0, rows[1].id: 3600.0, rows[2].id: 100.0}
    result = oee_analysis(rows, DAY1, DAY1 + timedelta(days=1), [24] * 7)
    assert (result["stationCount"], result["reportCount"], result["idealCycleTime"]) == (2, 3, 100.0)
    assert result["oee"] == pytest.approx(100 * 100.0 * 2 / (2 * 86400))
    assert math.isclose(result["stations"][0]["quality"], 50.0)
