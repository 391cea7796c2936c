"""``api.rootcause`` end to end against the emulator over loopback, once with each client.

A ticket's life (attachment upload, creation, comments, assignment, status, archive), the history WATS keeps,
listing by status flags, view and search, and the refusals (400) and unknown ids (404).
"""

from __future__ import annotations

import uuid

import pytest
from domain_helpers import MODES, call, run

import pywats
from pywats import BadRequestError, ErrorMode, NotFoundError, ReportBuilder
from pywats.domains.rootcause import (
    Ticket,
    TicketAttachment,
    TicketPriority,
    TicketStatus,
    TicketUpdateType,
    TicketView,
)

mode = pytest.mark.parametrize("mode", MODES)
PHOTO = bytes(range(256)) * 4  # binary content must come back byte for byte


@mode
async def test_ticket_life(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        builder = ReportBuilder.uut(pn="PCBA-100", sn="SN-77", rev="A", process_code=20, machine_name="ICT-01",
                                    location="Line 1", purpose="Production")  # fmt: skip
        builder.numeric("Vcc", 9.9, low=3.2, high=3.4, unit="V")
        report_id = await call(api.report.submit(builder.build()))

        photo_id = await call(api.rootcause.upload_attachment(PHOTO, "c12.png", "image/png"))
        assert isinstance(photo_id, uuid.UUID)
        ticket = await call(api.rootcause.create_ticket(
            "C12 cracked after burn-in", comment="Seen on 3 boards", assignee="pywats", priority=TicketPriority.HIGH,
            team="Quality", report_uuid=report_id, tags={"Component": "C12"}, attachments=[photo_id],
        ))  # fmt: skip
        assert isinstance(ticket, Ticket) and ticket.ticket_number == 1 and ticket.status == TicketStatus.OPEN
        assert (ticket.owner, ticket.assignee, ticket.priority) == ("pywats", "pywats", TicketPriority.HIGH)
        assert ticket.report_uuid == report_id
        (first,) = ticket.history
        assert (first.content, first.update_type, first.update_user) == ("Seen on 3 boards", TicketUpdateType.CONTENT,
                                                                         "pywats")  # fmt: skip
        assert first.attachments == [TicketAttachment(attachment_id=photo_id, filename="c12.png")]
        assert await call(api.rootcause.get_attachment(photo_id)) == PHOTO
        assert await call(api.rootcause.get_attachment(photo_id, "c12.png")) == PHOTO

        other = await call(api.rootcause.create_ticket("Fixture 4 pogo pins worn", assignee="anna"))
        assert other.ticket_number == 2 and other.history == [] and other.priority == TicketPriority.LOW

        commented = await call(api.rootcause.add_comment(ticket.ticket_id, "Supplier informed"))
        assert [entry.content for entry in commented.history] == ["Seen on 3 boards", "Supplier informed"]
        moved = await call(api.rootcause.set_ticket_status(ticket.ticket_id, TicketStatus.IN_PROGRESS,
                                                           comment="8D started"))  # fmt: skip
        assert moved.status == TicketStatus.IN_PROGRESS
        assert [(e.update_type, e.content) for e in moved.history[-2:]] == [
            (TicketUpdateType.CONTENT, "8D started"), (TicketUpdateType.PROPERTIES, "Status: Open → In progress")]
        edited = moved.model_copy(update={"progress": "D4: root cause found", "subject": "C12 cracked (reflow)"})
        saved = await call(api.rootcause.update_ticket(edited))
        assert saved.subject == "C12 cracked (reflow)" and saved.progress == "D4: root cause found"
        assert [e.update_type for e in saved.history[-2:]] == [TicketUpdateType.PROGRESS, TicketUpdateType.PROPERTIES]

        # Listing: status flags, views, search.
        open_or_busy = TicketStatus.OPEN | TicketStatus.IN_PROGRESS
        assigned = await call(api.rootcause.get_tickets(open_or_busy))  # assigned to the token's user
        assert [t.ticket_number for t in assigned] == [1]
        everything = await call(api.rootcause.get_tickets(open_or_busy, TicketView.ALL))
        assert sorted(t.ticket_number for t in everything) == [1, 2]
        just_open = await call(api.rootcause.get_tickets(TicketStatus.OPEN, TicketView.ALL))
        assert [t.ticket_number for t in just_open] == [2]
        assert [t.ticket_number for t in await call(api.rootcause.get_tickets(open_or_busy, TicketView.ALL,
                                                                                "c12"))] == [1]  # fmt: skip
        following = await call(api.rootcause.get_tickets(open_or_busy, TicketView.FOLLOWING))
        assert sorted(t.ticket_number for t in following) == [1, 2]  # owner of both

        reassigned = await call(api.rootcause.assign_ticket(other.ticket_id, "pywats", comment="Taking it"))
        assert reassigned.assignee == "pywats" and reassigned.history[-1].content == "Assignee: anna → pywats"

        with pytest.raises(BadRequestError, match="only Solved tickets can be archived"):
            await call(api.rootcause.archive_tickets([ticket.ticket_id, other.ticket_id]))
        await call(api.rootcause.set_ticket_status(ticket.ticket_id, TicketStatus.SOLVED))
        with pytest.raises(BadRequestError, match="only Solved"):  # all or nothing
            await call(api.rootcause.archive_tickets([ticket.ticket_id, other.ticket_id]))
        assert await call(api.rootcause.archive_tickets([ticket.ticket_id])) is None
        archived = await call(api.rootcause.get_ticket(ticket.ticket_id))
        assert archived.status == TicketStatus.ARCHIVED
        assert archived.history[-1].content == "Status: Solved → Archived"
        in_archive = await call(api.rootcause.get_tickets(TicketStatus.ARCHIVED, TicketView.ALL))
        assert [t.ticket_number for t in in_archive] == [1]
        with pytest.raises(BadRequestError, match="archived"):
            await call(api.rootcause.add_comment(ticket.ticket_id, "too late"))
        return True

    assert await run(mode, fresh_emulator, scenario)


@mode
async def test_refusals_and_missing(mode: str, fresh_emulator) -> None:
    missing = uuid.UUID("6f1d2c3b-0000-4000-8000-000000000000")

    async def scenario(api):
        with pytest.raises(NotFoundError, match="was not found"):
            await call(api.rootcause.get_ticket(missing))
        with pytest.raises(NotFoundError):
            await call(api.rootcause.add_comment(missing, "hello"))
        with pytest.raises(NotFoundError):
            await call(api.rootcause.get_attachment(missing))
        with pytest.raises(BadRequestError, match="is not an uploaded attachment"):
            await call(api.rootcause.create_ticket("X", attachments=[missing]))
        with pytest.raises(BadRequestError, match="is not a report on this server"):
            await call(api.rootcause.create_ticket("X", report_uuid=missing))
        ticket = await call(api.rootcause.create_ticket("Y"))
        with pytest.raises(BadRequestError, match="ArchiveTickets"):
            await call(api.rootcause.set_ticket_status(ticket.ticket_id, TicketStatus.ARCHIVED))
        with pytest.raises(BadRequestError, match="must be one status"):
            await call(api.rootcause.set_ticket_status(ticket.ticket_id, TicketStatus.OPEN | TicketStatus.SOLVED))
        with pytest.raises(BadRequestError, match="not found"):
            await call(api.rootcause.archive_tickets([missing]))
        return True

    assert await run(mode, fresh_emulator, scenario)

    async def lenient(api):
        return (await call(api.rootcause.get_ticket(missing)), await call(api.rootcause.add_comment(missing, "x")),
                await call(api.rootcause.get_attachment(missing)))  # fmt: skip

    assert await run(mode, fresh_emulator, lenient, error_mode=ErrorMode.LENIENT) == (None, None, None)


def test_arguments_are_checked_before_sending() -> None:
    with pywats.pyWATS("http://127.0.0.1:9", "dG9rZW4=") as api:  # nothing is sent
        with pytest.raises(ValueError, match="ticket status must be a whole number from 1 to 63"):
            api.rootcause.get_tickets(0)
        with pytest.raises(ValueError, match="ticket view"):
            api.rootcause.get_tickets(TicketStatus.OPEN, 5)
        with pytest.raises(ValueError, match="subject"):
            api.rootcause.create_ticket("  ")
        with pytest.raises(ValueError, match="ticket_id must be a UUID"):
            api.rootcause.get_ticket("7")
        with pytest.raises(TypeError, match="list of ticket ids"):
            api.rootcause.archive_tickets("6f1d2c3b-0000-4000-8000-000000000000")
        with pytest.raises(ValueError, match="content, attachments"):
            api.rootcause.add_comment("6f1d2c3b-0000-4000-8000-000000000000", None)
        with pytest.raises(ValueError, match="ticket_id"):
            api.rootcause.update_ticket(Ticket(subject="no id"))


def test_emulator_answers_readable_400s(fresh_emulator) -> None:
    with fresh_emulator.client() as http:
        answer = http.get("/api/RootCause/Tickets", params={"status": 0, "view": 2})
        assert answer.status_code == 400 and "set of flags from 1 to 63" in answer.json()["Message"]
        answer = http.get("/api/RootCause/Tickets", params={"status": 1, "view": 7})
        assert answer.status_code == 400 and "view must be 0" in answer.json()["Message"]
        answer = http.get("/api/RootCause/Ticket", params={"ticketId": "nope"})
        assert answer.status_code == 400 and "ticketId" in answer.json()["Message"]
        answer = http.post("/api/RootCause/Ticket", json={"priority": 1})
        assert answer.status_code == 400 and answer.json()["Message"] == "ticket.subject is required."
        answer = http.put("/api/RootCause/Ticket", json={"subject": "no id"})
        assert answer.status_code == 400 and "ticketId is required" in answer.json()["Message"]
        answer = http.post("/api/RootCause/ArchiveTickets", json=[])
        assert answer.status_code == 400 and "empty list" in answer.json()["Message"]
        answer = http.post("/api/RootCause/Attachment", content=b"raw", headers={"Content-Type": "image/png"})
        assert answer.status_code == 400 and "multipart/form-data" in answer.json()["Message"]
