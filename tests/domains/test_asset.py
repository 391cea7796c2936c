"""``api.asset`` end to end against the emulator over loopback, once with each client.

Every AssetService method runs here: types, assets and their hierarchy, counts and status, calibration,
maintenance, state, messages and the log, deletion, not-found handling in STRICT and LENIENT mode, and 400
messages reaching ``BadRequestError``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from domain_helpers import MODES, call, run

from pywats import BadRequestError, ErrorMode, F, NotFoundError
from pywats.domains.asset import Asset, AssetLogType, AssetState, AssetStatus, AssetType

pytestmark = pytest.mark.parametrize("mode", MODES)


async def make_fixture_type(api, **limits) -> AssetType:
    return await call(api.asset.save_asset_type(type_name="Fixture", **limits))


async def test_asset_types(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        fixture = await make_fixture_type(api, running_count_limit=1000, calibration_interval=365.0)
        assert isinstance(fixture, AssetType) and fixture.type_id is not None and fixture.is_readonly is False
        await call(api.asset.save_asset_type(type_name="DMM", calibration_interval=180, warning_threshold=90))
        # Found by name without regard to case; what is not named stays.
        updated = await call(api.asset.save_asset_type(type_name="fixture", total_count_limit=50_000))
        assert updated.type_id == fixture.type_id and updated.running_count_limit == 1000
        assert updated.total_count_limit == 50_000

        listed = await call(api.asset.get_asset_types())
        assert [t.type_name for t in listed] == ["DMM", "Fixture"]  # by name
        assert [t.type_name for t in await call(api.asset.get_asset_types(F.calibration_interval == 180))] == ["DMM"]
        newest = await call(api.asset.get_asset_types(orderby=F.type_name.desc(), top=1))
        assert [t.type_name for t in newest] == ["Fixture"]

        with pytest.raises(NotFoundError, match="leave typeId empty"):
            await call(api.asset.save_asset_type(type_id="00000000-0000-4000-8000-000000000001", type_name="X"))
        with pytest.raises(BadRequestError, match="runningCountLimit must be at least 0"):
            await call(api.asset.save_asset_type(type_name="Bad", running_count_limit=-1))
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_asset_lifecycle(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        fixture = await make_fixture_type(api)
        station = await call(api.asset.save_asset(serial_number="ST-1", type_id=fixture.type_id, location="Line 1"))
        asset = await call(api.asset.save_asset(
            serial_number="FIX-001", type_id=fixture.type_id, asset_name="ICT fixture", part_number="FX-100",
            revision="B", parent_serial_number="ST-1", tags=[{"key": "Owner", "value": "Test dept"}],
        ))  # fmt: skip
        assert isinstance(asset, Asset) and asset.state == AssetState.IN_OPERATION
        assert asset.parent_asset_id == station.asset_id and asset.parent_serial_number == "ST-1"
        assert asset.running_count == 0 and asset.first_seen_date is not None
        assert asset.asset_type.type_name == "Fixture" and [(t.key, t.value) for t in asset.tags] == [
            ("Owner", "Test dept")]  # fmt: skip

        by_id = await call(api.asset.get_asset(asset.asset_id))
        by_serial = await call(api.asset.get_asset("fix-001"))
        assert by_id.asset_id == by_serial.asset_id == asset.asset_id

        # Counts in the body are ignored; other fields update and each change is logged.
        edited = await call(api.asset.save_asset(by_serial, description="Probe plate", running_count=99))
        assert edited.description == "Probe plate" and edited.running_count == 0 and edited.asset_name == "ICT fixture"
        updates = await call(api.asset.get_log((F.serial_number == "FIX-001") & (F.type == AssetLogType.UPDATE)))
        assert [(log.property, log.value) for log in updates] == [("description", "Probe plate")]

        queried = await call(api.asset.query_assets(F.parent_serial_number == "ST-1"))
        assert [a.serial_number for a in queried] == ["FIX-001"]
        assert 'Owner Value="Test dept"' in queried[0].xml_data
        ordered = await call(api.asset.query_assets(orderby=F.serial_number.desc()))
        assert [a.serial_number for a in ordered] == ["ST-1", "FIX-001"]

        # Deleting the station: its fixture moves up to the station's parent (none), its log goes too.
        await call(api.asset.delete_asset(serial_number="ST-1"))
        assert (await call(api.asset.get_asset("FIX-001"))).parent_asset_id is None
        assert await call(api.asset.get_log(F.serial_number == "ST-1")) == []
        await call(api.asset.delete_asset(asset_id=asset.asset_id))
        assert await call(api.asset.query_assets()) == []
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_counts_and_status(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        kind = await make_fixture_type(api, running_count_limit=100, total_count_limit=1000, warning_threshold=75)
        await call(api.asset.save_asset(serial_number="FIX-1", type_id=kind.type_id))
        await call(api.asset.save_asset(serial_number="PIN-1", type_id=kind.type_id, parent_serial_number="FIX-1"))

        status = await call(api.asset.increment_count(serial_number="FIX-1"))
        assert isinstance(status, AssetStatus) and status.running_count == 1 and status.status == "OK"
        status = await call(api.asset.increment_count(serial_number="FIX-1", increment_by=79, increment_children=True))
        assert (status.running_count, status.status) == (80, "Warning") and "Running count: 80 of 100" in status.message
        status = await call(api.asset.increment_count(serial_number="FIX-1", total_count=120))
        assert (status.total_count, status.running_count, status.status) == (120, 120, "Alarm")
        assert (await call(api.asset.get_status(serial_number="PIN-1"))).running_count == 79  # children counted once

        with pytest.raises(BadRequestError, match="Counts only go up"):
            await call(api.asset.increment_count(serial_number="FIX-1", total_count=5))
        with pytest.raises(ValueError, match="not both"):
            await call(api.asset.increment_count(serial_number="FIX-1", increment_by=1, total_count=5))

        reset = await call(api.asset.reset_running_count(serial_number="FIX-1", comment="new pins"))
        assert (reset.running_count, reset.total_count) == (0, 120)
        status = await call(api.asset.get_status(serial_number="FIX-1", translate=True, culture_code="en-US"))
        assert status.status == "OK" and status.total_count_limit == 1000
        (record,) = await call(api.asset.get_log(F.type == AssetLogType.RESET_COUNT))
        assert (record.comment, record.value, record.user) == ("new pins", "120", "pywats")
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_calibration_maintenance_state_and_messages(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        kind = await make_fixture_type(api, calibration_interval=30, maintenance_interval=7)
        asset = await call(api.asset.save_asset(serial_number="DMM-7", type_id=kind.type_id))
        assert asset.next_calibration_date - asset.first_seen_date == timedelta(days=30)

        calibrated_at = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)
        calibrated = await call(api.asset.record_calibration(serial_number="DMM-7", date_time=calibrated_at,
                                                             comment="Certificate 42"))  # fmt: skip
        assert calibrated.last_calibration_date == calibrated_at
        assert calibrated.next_calibration_date == calibrated_at + timedelta(days=30)
        status = await call(api.asset.get_status(asset_id=asset.asset_id))
        assert status.status == "Alarm" and "days since the last calibration" in status.message

        maintained = await call(api.asset.record_maintenance(asset_id=asset.asset_id, comment="cleaned"))
        assert maintained.next_maintenance_date - maintained.last_maintenance_date == timedelta(days=7)

        in_cal = await call(api.asset.set_state(AssetState.IN_CALIBRATION, serial_number="DMM-7"))
        assert in_cal.state == AssetState.IN_CALIBRATION
        message = await call(api.asset.post_message("Sent to the lab", serial_number="DMM-7"))
        assert message.type == AssetLogType.MESSAGE and message.comment == "Sent to the lab"

        log = await call(api.asset.get_log(F.asset_id == asset.asset_id))
        assert [record.type for record in log] == [AssetLogType.MESSAGE, AssetLogType.UPDATE,
                                                   AssetLogType.MAINTENANCE, AssetLogType.CALIBRATION,
                                                   AssetLogType.REGISTER]  # newest first  # fmt: skip
        assert log[1].property == "state" and log[1].value == "4" and log[3].comment == "Certificate 42"
        oldest = await call(api.asset.get_log(F.asset_id == asset.asset_id, orderby="logId", top=1, skip=1))
        assert [record.type for record in oldest] == [AssetLogType.CALIBRATION]

        with pytest.raises(BadRequestError, match="dateTime must be an ISO 8601"):
            await call(api.asset.record_maintenance(serial_number="DMM-7", date_time="yesterday"))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="AssetState"):
            await call(api.asset.set_state(9, serial_number="DMM-7"))
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_sub_assets(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        kind = await make_fixture_type(api)
        await call(api.asset.save_asset(serial_number="RACK", type_id=kind.type_id))
        for serial, parent in (("SLOT-1", "RACK"), ("SLOT-2", "RACK"), ("CARD-1", "SLOT-1")):
            await call(api.asset.save_asset(serial_number=serial, type_id=kind.type_id, parent_serial_number=parent))
        everything = await call(api.asset.get_sub_assets(serial_number="RACK"))
        assert [a.serial_number for a in everything] == ["SLOT-1", "SLOT-2", "CARD-1"]
        children = await call(api.asset.get_sub_assets(serial_number="RACK", level=1))
        assert [a.serial_number for a in children] == ["SLOT-1", "SLOT-2"]
        assert await call(api.asset.get_sub_assets(serial_number="CARD-1")) == []

        with pytest.raises(BadRequestError, match="cannot be the parent"):
            await call(api.asset.save_asset(serial_number="RACK", type_id=kind.type_id, parent_serial_number="CARD-1"))
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_not_found_strict_and_lenient(mode: str, fresh_emulator) -> None:
    async def strict(api):
        for read in (lambda: api.asset.get_asset("NO-SUCH"), lambda: api.asset.get_status(serial_number="NO-SUCH"),
                     lambda: api.asset.get_sub_assets(asset_id="NO-SUCH")):  # fmt: skip
            with pytest.raises(NotFoundError) as caught:
                await call(read())
            assert caught.value.status_code == 404
        return True

    async def lenient(api):
        assert await call(api.asset.get_asset("NO-SUCH")) is None
        assert await call(api.asset.get_status(serial_number="NO-SUCH")) is None
        assert await call(api.asset.get_sub_assets(serial_number="NO-SUCH")) is None
        # Writes to an unknown asset are errors in every mode.
        with pytest.raises(NotFoundError, match="serial number 'NO-SUCH' was not found"):
            await call(api.asset.increment_count(serial_number="NO-SUCH"))
        with pytest.raises(NotFoundError):
            await call(api.asset.delete_asset(serial_number="NO-SUCH"))
        return True

    assert await run(mode, fresh_emulator, strict)
    assert await run(mode, fresh_emulator, lenient, error_mode=ErrorMode.LENIENT)


async def test_bad_requests_carry_the_servers_reason(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        with pytest.raises(BadRequestError, match="is not an asset type") as caught:
            await call(api.asset.save_asset(serial_number="X-1", type_id="00000000-0000-4000-8000-00000000abcd"))
        assert caught.value.status_code == 400
        kind = await make_fixture_type(api)
        with pytest.raises(BadRequestError, match="Asset.state must be from 0 to 6"):
            await call(api.asset.save_asset(serial_number="X-1", type_id=kind.type_id, state=8))
        with pytest.raises(BadRequestError, match="parent asset 'NOPE' does not exist"):
            await call(api.asset.save_asset(serial_number="X-1", type_id=kind.type_id, parent_serial_number="NOPE"))
        await call(api.asset.save_asset(serial_number="X-1", type_id=kind.type_id))
        with pytest.raises(BadRequestError, match="AssetMessage.content is required"):
            await call(api._run(_message_op("X-1")))
        # Checked before sending.
        with pytest.raises(ValueError, match="exactly one"):
            await call(api.asset.get_status())
        with pytest.raises(ValueError, match="endpoint name"):
            await call(api.asset.get_asset("Types"))
        with pytest.raises(ValueError, match="serial_number and type_id"):
            await call(api.asset.save_asset(serial_number="X-2"))
        return True

    assert await run(mode, fresh_emulator, scenario)


def _message_op(serial: str):
    """A message with empty content, past the client's own check, to see the server's answer."""
    from pywats._ops import Op

    return Op("POST", "/api/Asset/Message", params={"serialNumber": serial}, body=b'{"content": ""}',
              content_type="application/json")  # fmt: skip
