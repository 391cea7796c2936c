"""``api.production`` end to end against the emulator over loopback, once with each client.

Units (save, read, phases, processes, changes, parent/child relations, batches, verification from real
reports), serial number pools (types, take, range, reference, export, upload), the never-twice rule under
concurrent takes, and how 404/400 answers reach the caller.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from domain_helpers import MODES, call, run

import pywats
from pywats import BadRequestError, ErrorMode, NotFoundError, ReportBuilder, Station
from pywats.domains._serials import parse_serial_text
from pywats.domains.production import (
    ChildUnitCheck,
    ProductionBatch,
    SerialNumber,
    Unit,
    UnitChange,
    UnitPhase,
    UnitVerificationGrade,
)

mode = pytest.mark.parametrize("mode", MODES)
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


def uut(sn: str, process_code: int, passed: bool, minutes: int, pn: str = "PCBA-100"):
    builder = ReportBuilder.uut(pn=pn, sn=sn, rev="B", process_code=process_code, machine_name="ICT-01",
                                location="Line 1", purpose="Production",
                                start=T0 + timedelta(minutes=minutes))  # fmt: skip
    builder.numeric("Vcc", 3.3 if passed else 9.9, low=3.2, high=3.4, unit="V")
    return builder.build()


@mode
async def test_units_phases_changes_and_batches(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        assert await call(api.production.save_units([
            Unit(serial_number="BOX-1", part_number="BOX-100", revision="A", batch_number="B-7"),
            {"serialNumber": "PCB-1", "partNumber": "PCBA-100", "revision": "C",
             "tags": [{"key": "Line", "value": "2"}]},
        ])) is None  # fmt: skip
        unit = await call(api.production.get_unit("box-1", "box-100"))  # serial and part number ignore case
        assert isinstance(unit, Unit) and unit.serial_number == "BOX-1" and unit.batch_number == "B-7"
        assert unit.unit_phase_id == UnitPhase.UNDER_PRODUCTION and unit.unit_phase == "Under production"
        board = await call(api.production.get_unit("PCB-1", "PCBA-100"))
        assert [(tag.key, tag.value) for tag in board.tags] == [("Line", "2")] and board.revision == "C"

        await call(api.production.set_unit_phase("PCB-1", "PCBA-100", UnitPhase.FINALIZED))
        await call(api.production.set_unit_process("PCB-1", "PCBA-100", "ICT"))
        board = await call(api.production.get_unit("PCB-1", "PCBA-100"))
        assert board.unit_phase_id == 16 and board.unit_phase == "Finalized" and board.process_code == "20"

        # A partial save keeps what it does not name.
        await call(api.production.save_units([Unit(serial_number="PCB-1", part_number="PCBA-100", revision="D")]))
        board = await call(api.production.get_unit("PCB-1", "PCBA-100"))
        assert board.revision == "D" and board.unit_phase_id == 16 and board.process_code == "20"

        changes = await call(api.production.get_unit_changes(100))
        assert all(isinstance(change, UnitChange) for change in changes)
        assert [(c.unit_serial_number, c.new_revision, c.new_unit_phase_id) for c in changes] == [
            ("BOX-1", "A", 2), ("PCB-1", "C", 2), ("PCB-1", "C", 16), ("PCB-1", "D", 16)]
        first_two = await call(api.production.get_unit_changes(max_count=2))
        assert [c.id for c in first_two] == [c.id for c in changes[:2]]
        for change in changes:
            await call(api.production.acknowledge_unit_change(change.id))
        assert await call(api.production.get_unit_changes()) == []

        assert await call(api.production.save_batches([ProductionBatch(batch_number="B-7", batch_size=50),
                                                       {"batchNumber": "B-8"}])) is None  # fmt: skip
        rows = fresh_emulator.state.storage.read("SELECT * FROM production_batches ORDER BY batch_number")
        assert [(row["batch_number"], row["batch_size"]) for row in rows] == [("B-7", 50), ("B-8", None)]
        return True

    assert await run(mode, fresh_emulator, scenario)


@mode
async def test_parent_and_child_units(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        await call(api.production.save_units([
            Unit(serial_number="BOX-1", part_number="BOX-100", revision="A"),
            Unit(serial_number="PCB-1", part_number="PCBA-100", revision="C", unit_phase_id=UnitPhase.FINALIZED),
            Unit(serial_number="PSU-1", part_number="PSU-20", revision="1"),
        ]))  # fmt: skip
        await call(api.production.add_child_unit("BOX-1", "BOX-100", "PCB-1", "PCBA-100"))
        box = await call(api.production.get_unit("BOX-1", "BOX-100"))
        assert [(sub.serial_number, sub.parent_serial_number) for sub in box.sub_units] == [("PCB-1", "BOX-1")]

        # The rules: the child must be Finalized, have no parent yet, match the check part number, make no loop.
        with pytest.raises(BadRequestError, match="must be Finalized"):
            await call(api.production.add_child_unit("BOX-1", "BOX-100", "PSU-1", "PSU-20"))
        await call(api.production.set_unit_phase("PSU-1", "PSU-20", UnitPhase.FINALIZED))
        with pytest.raises(BadRequestError, match="does not have part number"):
            await call(api.production.add_child_unit("BOX-1", "BOX-100", "PSU-1", "PSU-20", check_part_number="PSU-30"))
        with pytest.raises(BadRequestError, match="has revision '1', not '2'"):
            await call(api.production.add_child_unit("BOX-1", "BOX-100", "PSU-1", "PSU-20",
                                                     check_part_number="PSU-*", check_revision="2"))  # fmt: skip
        await call(api.production.add_child_unit("BOX-1", "BOX-100", "PSU-1", "PSU-20", check_part_number="PSU-*",
                                                 check_revision="1"))  # fmt: skip
        with pytest.raises(BadRequestError, match="already has a parent"):
            await call(api.production.add_child_unit("PCB-1", "PCBA-100", "PSU-1", "PSU-20"))
        await call(api.production.set_unit_phase("BOX-1", "BOX-100", UnitPhase.FINALIZED))
        with pytest.raises(BadRequestError, match="loop"):
            await call(api.production.add_child_unit("PCB-1", "PCBA-100", "BOX-1", "BOX-100"))

        check = await call(api.production.check_child_units("BOX-1", "BOX-100"))
        assert isinstance(check, ChildUnitCheck) and check.is_valid is True
        assert [child.serial_number for child in check.child_units] == ["PCB-1", "PSU-1"]
        await call(api.production.set_unit_phase("PSU-1", "PSU-20", UnitPhase.PRODUCTION_REPAIR))
        check = await call(api.production.check_child_units("BOX-1", "BOX-100"))
        assert check.is_valid is False and "Production repair" in check.child_units[1].message

        await call(api.production.remove_child_unit("BOX-1", "BOX-100", "PSU-1", "PSU-20"))
        with pytest.raises(BadRequestError, match="is not a child of"):
            await call(api.production.remove_child_unit("BOX-1", "BOX-100", "PSU-1", "PSU-20"))
        box = await call(api.production.get_unit("BOX-1", "BOX-100"))
        assert [sub.serial_number for sub in box.sub_units] == ["PCB-1"]
        changes = await call(api.production.get_unit_changes(100))
        assert [c.new_parent_serial_number for c in changes if c.unit_serial_number == "PSU-1"][-2:] == ["BOX-1", None]
        return True

    assert await run(mode, fresh_emulator, scenario)


@mode
async def test_units_from_reports_and_verification(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        # SN-A: passes ICT then PCBA Test first time. SN-B: fails ICT, is repaired, passes.
        for report in (uut("SN-A", 20, True, 0), uut("SN-A", 50, True, 5), uut("SN-B", 20, False, 0)):
            await call(api.report.submit(report))
        failed = uut("SN-B", 20, False, 1)
        await call(api.report.submit(failed))
        repair = ReportBuilder.uur(pn="PCBA-100", sn="SN-B", rev="B", test_process_code=20, ref_uut=failed.id,
                                   machine_name="RP-1", location="Line 1", purpose="Repair",
                                   start=T0 + timedelta(minutes=2))  # fmt: skip
        repair.failure("Component", "C12")
        await call(api.report.submit(repair.build()))
        await call(api.report.submit(uut("SN-B", 20, True, 3)))

        grade = await call(api.production.get_unit_verification("SN-A", "PCBA-100"))
        assert isinstance(grade, UnitVerificationGrade) and (grade.status, grade.grade) == ("Passed", "A")
        assert grade.all_processes_passed_first_run and grade.no_repairs
        assert grade.all_processes_executed_in_correct_order
        assert [(r.process_code, r.process_name, r.process_index, r.status) for r in grade.results] == [
            (20, "ICT", 0, "Passed"), (50, "PCBA Test", 1, "Passed")]
        grade = await call(api.production.get_unit_verification("SN-B"))
        assert (grade.status, grade.grade, grade.no_repairs, grade.all_processes_passed_first_run) == \
            ("Passed", "C", False, False)  # fmt: skip
        (ict,) = grade.results
        assert (ict.total_count, ict.non_passed_count, ict.repair_count, ict.station_name) == (3, 2, 1, "ICT-01")

        # A unit known only from its reports is registered on first use, as WATS does.
        unit = await call(api.production.get_unit("SN-A", "PCBA-100"))
        assert (unit.revision, unit.unit_phase_id) == ("B", UnitPhase.UNDER_PRODUCTION)
        await call(api.production.set_unit_phase("SN-B", "PCBA-100", UnitPhase.FINALIZED))
        registered = await call(api.production.save_units([{"serialNumber": "SN-C", "partNumber": "PCBA-100"}]))
        assert registered is None
        untested = await call(api.production.get_unit_verification("SN-C"))
        assert (untested.status, untested.grade, untested.results) == ("Unknown", None, [])
        return True

    assert await run(mode, fresh_emulator, scenario)


@mode
async def test_serial_number_pools(mode: str, fresh_emulator) -> None:
    station = Station("PROG-07", "Line 3", "Production")

    async def scenario(api):
        types = {t.name: t for t in await call(api.production.get_serial_number_types())}
        assert {"MACAddress", "SerialNumber", "IMEI"} <= set(types)
        assert types["MACAddress"].format == "XX:XX:XX:XX:XX:XX" and types["IMEI"].reg_ex == r"^\d{15}$"

        macs = await call(api.production.take_serial_numbers("MACAddress", 3, ref_sn="SN-1", ref_pn="PCBA-100"))
        assert macs == ["00:50:C2:00:00:00", "00:50:C2:00:00:01", "00:50:C2:00:00:02"]
        more = await call(api.production.take_serial_numbers("macaddress", 2, ref_sn="SN-2", ref_pn="PCBA-100",
                                                            station_name="ICT-01"))  # fmt: skip
        assert more == ["00:50:C2:00:00:03", "00:50:C2:00:00:04"]

        taken = await call(api.production.get_serial_numbers_by_reference("MACAddress", ref_sn="SN-1"))
        assert all(isinstance(item, SerialNumber) for item in taken)
        assert [(t.serial_number, t.taken, t.ref_pn, t.station_name) for t in taken] == [
            (mac, True, "PCBA-100", "PROG-07") for mac in macs]  # the client's active station by default
        assert len(await call(api.production.get_serial_numbers_by_reference("MACAddress", ref_pn="PCBA-100"))) == 5
        window = await call(api.production.get_serial_numbers_by_range(
            "MACAddress", "00:50:C2:00:00:01", "00:50:c2:00:00:03"))  # fmt: skip
        assert [item.serial_number for item in window] == macs[1:] + more[:1]
        later = datetime.now(timezone.utc) + timedelta(hours=1)
        assert await call(api.production.get_serial_numbers_by_range(
            "MACAddress", "00:50:C2:00:00:00", "00:50:C2:00:00:09", start_date=later)) == []  # fmt: skip

        csv_text = await call(api.production.export_serial_numbers("MACAddress", "csv"))
        assert csv_text.splitlines()[0].startswith("serialNumber,") and len(csv_text.splitlines()) == 6
        xml_text = await call(api.production.export_serial_numbers("MACAddress", "XML",
                                                                   start_address="00:50:C2:00:00:04"))  # fmt: skip
        assert [item.serial_number for item in parse_serial_text(xml_text)] == more[1:]

        # Uploaded numbers: the pool of an upload-only type; duplicates are skipped; a take gets what there is.
        await call(api.production.upload_serial_numbers("IMEI", "serialNumber\n350000000000001\n350000000000002\n"))
        xml = "<SerialNumbers><SN id='350000000000002'/><SN id='350000000000004'/></SerialNumbers>"
        await call(api.production.upload_serial_numbers("IMEI", xml.encode(), format="xml"))
        with pytest.raises(BadRequestError, match="in sequence"):
            await call(api.production.take_serial_numbers("IMEI", 3, only_in_sequence=True))
        assert await call(api.production.take_serial_numbers("IMEI", 2, only_in_sequence=True)) == \
            ["350000000000001", "350000000000002"]  # fmt: skip
        assert await call(api.production.take_serial_numbers("IMEI", 5)) == ["350000000000004"]
        assert await call(api.production.take_serial_numbers("IMEI", 1)) == []
        with pytest.raises(BadRequestError, match="regEx"):
            await call(api.production.upload_serial_numbers("IMEI", "12345\n"))

        # Uploaded numbers in a generated range are used first; generation skips them.
        await call(api.production.upload_serial_numbers("SerialNumber", "SN-00000002\n"))
        assert await call(api.production.take_serial_numbers("SerialNumber", 1)) == ["SN-00000002"]
        assert await call(api.production.take_serial_numbers("SerialNumber", 3, only_in_sequence=True)) == \
            ["SN-00000003", "SN-00000004", "SN-00000005"]  # fmt: skip
        return True

    assert await run(mode, fresh_emulator, scenario, station=station)


def test_concurrent_takes_never_hand_out_a_number_twice(fresh_emulator) -> None:
    threads, rounds, quantity = 8, 6, 5
    start = threading.Barrier(threads)

    def worker(index: int) -> list[str]:
        with pywats.pyWATS(fresh_emulator.url, fresh_emulator.token, rate_limit=None) as api:
            start.wait()
            return [number for _ in range(rounds)
                    for number in api.production.take_serial_numbers("SerialNumber", quantity, ref_sn=f"T{index}")]

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    numbers = [number for result in results for number in result]
    assert len(numbers) == threads * rounds * quantity
    assert len(set(numbers)) == len(numbers)  # never twice...
    assert sorted(numbers) == [f"SN-{n:08d}" for n in range(1, len(numbers) + 1)]  # ...and no number skipped


async def test_concurrent_async_takes_are_distinct(fresh_emulator) -> None:
    async with pywats.AsyncWATS(fresh_emulator.url, fresh_emulator.token, rate_limit=None) as api:
        batches = await asyncio.gather(*(api.production.take_serial_numbers("MACAddress", 4) for _ in range(10)))
    numbers = [number for batch in batches for number in batch]
    assert len(set(numbers)) == len(numbers) == 40


@mode
async def test_missing_and_refused(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        with pytest.raises(NotFoundError, match="'NOPE' with part number 'X' was not found"):
            await call(api.production.get_unit("NOPE", "X"))
        with pytest.raises(NotFoundError):
            await call(api.production.set_unit_phase("NOPE", "X", UnitPhase.SCRAPPED))
        with pytest.raises(NotFoundError):
            await call(api.production.acknowledge_unit_change(987654))
        with pytest.raises(NotFoundError, match="Serial number type 'Nope' was not found"):
            await call(api.production.take_serial_numbers("Nope", 1))
        with pytest.raises(NotFoundError):
            await call(api.production.get_unit_verification("NOPE"))
        with pytest.raises(NotFoundError):
            await call(api.production.check_child_units("NOPE", "X"))
        await call(api.production.save_units([Unit(serial_number="U-1", part_number="P-1")]))
        with pytest.raises(BadRequestError, match="is not a unit phase"):
            await call(api.production.set_unit_phase("U-1", "P-1", 3))
        with pytest.raises(BadRequestError, match="is not a process on this server"):
            await call(api.production.set_unit_process("U-1", "P-1", "ict"))
        with pytest.raises(BadRequestError, match="parentSerialNumber 'NOPE' is not a unit"):
            await call(api.production.save_units([Unit(serial_number="U-2", part_number="P-1",
                                                       parent_serial_number="NOPE")]))  # fmt: skip
        return True

    assert await run(mode, fresh_emulator, scenario)


@mode
async def test_lenient_mode_and_local_checks(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        assert await call(api.production.get_unit("NOPE", "X")) is None
        with pytest.raises(NotFoundError):  # only reads of one thing become None
            await call(api.production.set_unit_phase("NOPE", "X", UnitPhase.SCRAPPED))
        return True

    assert await run(mode, fresh_emulator, scenario, error_mode=ErrorMode.LENIENT)


def test_arguments_are_checked_before_sending() -> None:
    with pywats.pyWATS("http://127.0.0.1:9", "dG9rZW4=") as api:  # nothing is sent: port 9 would refuse
        with pytest.raises(ValueError, match="quantity"):
            api.production.take_serial_numbers("MACAddress", 0)
        with pytest.raises(ValueError, match="ref_sn, ref_pn or both"):
            api.production.get_serial_numbers_by_reference("MACAddress")
        with pytest.raises(ValueError, match="XML' or 'CSV"):
            api.production.export_serial_numbers("MACAddress", "json")
        with pytest.raises(ValueError, match="part_number"):
            api.production.save_units([{"serialNumber": "X"}])
        with pytest.raises(TypeError, match="list of Unit"):
            api.production.save_units(Unit(serial_number="X", part_number="Y"))
        with pytest.raises(ValueError, match="empty"):
            api.production.save_batches([])


def test_emulator_answers_readable_400s(fresh_emulator) -> None:
    with fresh_emulator.client() as http:
        answer = http.get("/api/Production/SerialNumbers", params={"serialNumberType": "IMEI", "format": "json"})
        assert answer.status_code == 400 and answer.json()["Message"] == "format must be XML or CSV, not 'json'."
        answer = http.post("/api/Production/SerialNumbers/Take", params={"serialNumberType": "IMEI", "quantity": "x"})
        assert answer.status_code == 400 and "quantity" in answer.json()["Message"]
        answer = http.put("/api/Production/Units", json=[{"serialNumber": "A"}])
        assert answer.status_code == 400 and answer.json()["Message"] == "units[0].partNumber is required."
        answer = http.put("/api/Production/SerialNumbers", params={"serialNumberType": "IMEI", "format": "CSV"},
                          content=b"1", headers={"Content-Type": "text/csv"})  # fmt: skip
        assert answer.status_code == 400 and "multipart/form-data" in answer.json()["Message"]
        answer = http.get("/api/Production/Units/Changes", params={"maxCount": 0})
        assert answer.status_code == 400


def test_serial_answers_in_every_shape() -> None:
    assert [r.serial_number for r in parse_serial_text("A1\nA2\n")] == ["A1", "A2"]
    assert [r.serial_number for r in parse_serial_text('["A1", {"serialNumber": "A2", "taken": true}]')] == ["A1", "A2"]
    records = parse_serial_text("SN,refSN,taken\nA1,U-9,true\n")
    assert (records[0].serial_number, records[0].ref_sn, records[0].taken) == ("A1", "U-9", True)
    xml = "<SerialNumbers><SerialNumber><Value>A1</Value></SerialNumber><SN id='A2' refPN='P'/></SerialNumbers>"
    assert [(r.serial_number, r.ref_pn) for r in parse_serial_text(xml)] == [("A1", None), ("A2", "P")]
    assert parse_serial_text("") == []
