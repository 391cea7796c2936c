"""End to end over loopback HTTP against the WATS emulator: every domain method with both clients.

Each scenario is one ``async def`` run twice (``mode`` = sync / async) through ``wats_helpers.run_scenario``;
for the sync client it runs without suspending, inside the test's running event loop, which is also the
Jupyter situation. Tests use their own serial numbers, so they share one emulator per module.
"""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from wats_helpers import maybe, mode, run_scenario, wats_server  # noqa: F401 - fixtures

import pywats
from pywats import (
    APIResponseValidationError,
    AuthenticationError,
    BadRequestError,
    ErrorMode,
    F,
    NotFoundError,
    ProcessNotFoundError,
    ReportBuilder,
    ReportFormatError,
    Station,
    WatsFilter,
)
from pywats.formats import wsjf, wsxf


def new_sn() -> str:
    return f"SN-{uuid.uuid4().hex[:12]}"


def uut_report(sn: str, *, process_code: int = 20, misc: str | None = None, attach: bytes | None = None,
               **header):  # fmt: skip
    builder = ReportBuilder.uut(pn="PCBA-100", sn=sn, rev="A", process_code=process_code, **header)
    builder.sequence("Power")
    builder.numeric("Voltage", 5.02, low=4.5, high=5.5, unit="V")
    if misc is not None:
        builder.misc_info("Firmware", misc)
    if attach is not None:
        builder.attach("log.txt", attach, content_type="text/plain")
    return builder.build()


def uur_report(sn: str, ref_uut: uuid.UUID):
    builder = ReportBuilder.uur(pn="PCBA-100", sn=sn, rev="A", test_process_code=20, ref_uut=ref_uut)
    builder.failure("Component", "C12")
    return builder.build()


async def test_version_and_processes(mode: str, wats_server) -> None:
    async def scenario(api):
        assert await maybe(api.get_version()) == "2025.1.0"
        listed = await maybe(api.process.get_processes())
        assert {"ICT", "Repair"} <= {process.name for process in listed}
        tests_only = await maybe(api.process.get_processes(include_test_operations=True))
        assert all(process.is_test_operation for process in tests_only)
        assert await maybe(api.process.code_for("ICT")) == 20
        assert await maybe(api.process.name_for(500)) == "Repair"
        with pytest.raises(ProcessNotFoundError):
            await maybe(api.process.code_for("No Such Process"))
        refreshed = await maybe(api.process.refresh())
        assert [process.code for process in refreshed] == [process.code for process in api.process.cached]
        return True

    assert await run_scenario(mode, scenario, wats_server.url, wats_server.token)


async def test_submit_and_read_back(mode: str, wats_server) -> None:
    sn = new_sn()
    report = uut_report(sn, misc="1.2.3", attach=b"log line\n", machine_name="", location="", purpose="")

    async def scenario(api):
        report_id = await maybe(api.report.submit(report))
        assert report_id == report.id
        back = await maybe(api.report.get(report_id))
        assert isinstance(back, pywats.models.UUTReport)
        assert (back.sn, back.pn, back.result, back.machine_name, back.location) == (
            sn, "PCBA-100", report.result, "ICT-07", "Line 3")  # fmt: skip
        partial = await maybe(api.report.get(report_id, detail_level=0))
        assert partial.sn == sn and partial.root is None
        text = await maybe(api.report.get_wsjf(report_id, detail_level=7, include_attachments=False))
        assert wsjf.loads(text).id == report.id
        xml = await maybe(api.report.get_wsxf(report_id, include_indexes=True))
        assert wsxf.loads(xml).sn == sn
        assert report.machine_name == ""  # the caller's object was not changed by the station fill
        return report_id

    report_id = await run_scenario(mode, scenario, wats_server.url, wats_server.token,
                                   station=Station("ICT-07", "Line 3", "Production"))  # fmt: skip
    assert report_id == report.id


async def test_submit_every_form_and_overwrite(mode: str, wats_server) -> None:
    sn = new_sn()
    report = uut_report(sn)

    async def scenario(api):
        ids = [
            await maybe(api.report.submit(report)),
            await maybe(api.report.submit(wsjf.dumps(report))),
            await maybe(api.report.submit(wsjf.dumps(report).encode())),
            await maybe(api.report.submit(wsjf.to_dict(report))),
        ]
        headers = await maybe(api.report.query_headers(F.serial_number == sn))
        return ids, headers

    ids, headers = await run_scenario(mode, scenario, wats_server.url, wats_server.token)
    assert set(ids) == {report.id}
    assert len(headers) == 1  # the same id four times: overwritten, not duplicated


async def test_submit_wsxf(mode: str, wats_server) -> None:
    report = uut_report(new_sn())
    xml = wsxf.dumps(report)

    async def scenario(api):
        report_id = await maybe(api.report.submit_wsxf(xml))
        back = await maybe(api.report.get(report_id))
        with pytest.raises(ReportFormatError):
            await maybe(api.report.submit_wsxf("<Reports><Report"))
        return report_id, back

    report_id, back = await run_scenario(mode, scenario, wats_server.url, wats_server.token)
    assert report_id == report.id and back.sn == report.sn


async def test_query_headers(mode: str, wats_server) -> None:
    sn = new_sn()
    first, second = uut_report(sn, misc="fw-" + sn), uut_report(sn, process_code=50)

    async def scenario(api):
        for report in (first, second):
            await maybe(api.report.submit(report))
        everything = await maybe(api.report.query_headers(F.serial_number == sn, orderby=F.start.desc()))
        one = await maybe(api.report.query_headers((F.serial_number == sn) & (F.process_code == 50), top=1))
        skipped = await maybe(api.report.query_headers(F.serial_number == sn, skip=1, top=5))
        selected = await maybe(api.report.query_headers(
            F.serial_number == sn, select=["uuid", "serial_number"], expand=["miscinfo"], orderby="start asc"))
        hostile = await maybe(api.report.query_headers(F.serial_number == "x' or serialNumber ne 'x"))
        by_misc = await maybe(api.report.query_headers_by_misc_info(description="Firmware", data="fw-" + sn))
        return everything, one, skipped, selected, hostile, by_misc

    everything, one, skipped, selected, hostile, by_misc = await run_scenario(
        mode, scenario, wats_server.url, wats_server.token)  # fmt: skip
    assert [header.uuid for header in everything] == [second.id, first.id]
    assert [header.uuid for header in one] == [second.id] and one[0].process_name == "PCBA Test"
    assert len(skipped) == 1
    assert selected[0].uuid == first.id and selected[0].misc_info[0].value == "fw-" + sn
    assert hostile == []  # the quote stayed inside the literal: no report has that serial number
    assert [header.uuid for header in by_misc] == [first.id] and by_misc[0].misc_data[0].data == "fw-" + sn


async def test_attachments(mode: str, wats_server) -> None:
    report = uut_report(new_sn(), attach=b"measured 5.02 V\n")

    async def scenario(api):
        report_id = await maybe(api.report.submit(report))
        headers = await maybe(api.report.query_headers(F.uuid == report_id, expand="attachments"))
        step_id = headers[0].attachments[0].step_id
        data = await maybe(api.report.get_attachment(report_id, step_id=step_id))
        archive = await maybe(api.report.get_attachments_zip(report_id))
        return data, archive

    data, archive = await run_scenario(mode, scenario, wats_server.url, wats_server.token)
    assert data == b"measured 5.02 V\n"
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert [opened.read(name) for name in opened.namelist()] == [b"measured 5.02 V\n"]


async def test_report_lists(mode: str, wats_server) -> None:
    sn = new_sn()
    test = uut_report(sn)
    repair = uur_report(sn, test.id)

    async def scenario(api):
        await maybe(api.report.submit(test))
        await maybe(api.report.submit(repair))
        uuts = await maybe(api.report.list_uut_reports(serial_number=sn))
        uurs = await maybe(api.report.list_uur_reports(WatsFilter(serial_number=sn, top_count=10)))
        repair_back = await maybe(api.report.get(repair.id))
        return uuts, uurs, repair_back

    uuts, uurs, repair_back = await run_scenario(mode, scenario, wats_server.url, wats_server.token)
    assert [header.uuid for header in uuts] == [test.id]
    assert [header.uuid for header in uurs] == [repair.id]
    assert isinstance(repair_back, pywats.models.UURReport) and repair_back.uur.ref_uut == test.id


async def test_errors_by_status(mode: str, wats_server) -> None:
    missing = uuid.uuid4()

    async def scenario(api):
        with pytest.raises(NotFoundError) as not_found:
            await maybe(api.report.get(missing))
        assert str(missing) in not_found.value.message
        with pytest.raises(BadRequestError) as bad:
            await maybe(api.report.submit(uut_report(new_sn(), process_code=9999)))
        assert "9999" in bad.value.message
        with pytest.raises(BadRequestError):
            await maybe(api.report.query_headers("serialNumber eq"))  # broken OData, written by hand
        with pytest.raises(NotFoundError):  # the emulator does not render certificates
            await maybe(api.report.get_certificate(missing))
        return True

    assert await run_scenario(mode, scenario, wats_server.url, wats_server.token)

    async def wrong_token(api):
        with pytest.raises(AuthenticationError):
            await maybe(api.get_version())
        return True

    assert await run_scenario(mode, wrong_token, wats_server.url, "bm90OnRoZXRva2Vu")


async def test_lenient_mode(mode: str, wats_server) -> None:
    async def scenario(api):
        assert await maybe(api.report.get(uuid.uuid4())) is None
        assert await maybe(api.report.get_wsxf(uuid.uuid4())) is None
        assert await maybe(api.process.code_for("No Such Process")) is None
        with pytest.raises(BadRequestError):  # only "not found" is softened
            await maybe(api.report.submit(uut_report(new_sn(), process_code=9999)))
        return True

    assert await run_scenario(mode, scenario, wats_server.url, wats_server.token, error_mode=ErrorMode.LENIENT)


async def test_unreadable_answer_from_a_real_server(mode: str, wats_server) -> None:
    async def scenario(api):
        # The emulator's HTML page is not WSJF: the client says so instead of handing back garbage.
        from pywats._ops import Op

        with pytest.raises(APIResponseValidationError):
            await maybe(api._run(Op("GET", "/", parser=lambda response: response.json())))
        return True

    assert await run_scenario(mode, scenario, wats_server.url, wats_server.token)


async def test_http2_option(mode: str, wats_server) -> None:
    pytest.importorskip("h2")

    async def scenario(api):
        return await maybe(api.get_version())

    # Over plain http httpx speaks HTTP/1.1 even with http2=True (no h2c); over TLS it negotiates HTTP/2.
    assert await run_scenario(mode, scenario, wats_server.url, wats_server.token, http2=True) == "2025.1.0"
