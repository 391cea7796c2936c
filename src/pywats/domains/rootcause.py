"""``api.rootcause``: WATS's root cause tickets, to track a failure from first report to solution.

Endpoints (``wats-api/openapi_public_v3.json``, tag RootCause):

==========================  ==========================================================================
method                      endpoint
==========================  ==========================================================================
``get_tickets``             ``GET /api/RootCause/Tickets?status&view&searchString``
``get_ticket``              ``GET /api/RootCause/Ticket?ticketId``
``create_ticket``           ``POST /api/RootCause/Ticket``
``update_ticket``           ``PUT /api/RootCause/Ticket``
``add_comment``             ``GET`` then ``PUT /api/RootCause/Ticket`` with an ``update``
``set_ticket_status``       ``GET`` then ``PUT /api/RootCause/Ticket``
``assign_ticket``           ``GET`` then ``PUT /api/RootCause/Ticket``
``archive_tickets``         ``POST /api/RootCause/ArchiveTickets``
``upload_attachment``       ``POST /api/RootCause/Attachment`` (multipart)
``get_attachment``          ``GET /api/RootCause/Attachment?attachmentId&fileName``
==========================  ==========================================================================

A ticket's conversation is its ``history``: a list of updates (text, progress, property changes). To add to
it, a PUT carries the new entry in ``update``; WATS appends it and records what else the PUT changed. Files
are uploaded first (:meth:`RootCauseService.upload_attachment` gives their id) and then referenced from an
update. Only Solved tickets can be archived.

The enum values below are those of WATS's API (``status`` is a flag set: ``TicketStatus.OPEN |
TicketStatus.IN_PROGRESS`` asks for both); models keep plain ints, so a value a newer WATS adds still reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, IntFlag
from typing import Union
from uuid import UUID

import httpx

from .._ops import Op, as_uuid, bytes_body, json_as
from ._domain import Domain, Flow, M, endpoint
from ._mes import Setting, TagsInput, file_upload, json_body, list_of, no_content, required_text, settings_of
from ._models import ApiModel, WatsDateTime


class TicketStatus(IntFlag):
    """Ticket status flags (``GET /api/RootCause/Tickets`` takes a combination)."""

    OPEN = 1
    IN_PROGRESS = 2
    ON_HOLD = 4
    SOLVED = 8
    CLOSED = 16
    ARCHIVED = 32


class TicketView(IntEnum):
    """Whose tickets ``get_tickets`` lists. ``ALL`` needs the "Manage All Tickets" permission."""

    ASSIGNED = 0
    FOLLOWING = 1
    ALL = 2


class TicketPriority(IntEnum):
    """Ticket priority."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2


class TicketUpdateType(IntEnum):
    """What a history entry records."""

    CONTENT = 0
    PROGRESS = 1
    PROPERTIES = 2
    NOTIFICATION = 3


class TicketAttachment(ApiModel):
    """A file referenced by a ticket update."""

    attachment_id: UUID | None = None
    filename: str | None = None


class TicketUpdate(ApiModel):
    """One entry of a ticket's history, or the new entry a PUT adds (``update``)."""

    update_id: UUID | None = None
    update_utc: WatsDateTime | None = None
    update_user: str | None = None
    content: str | None = None
    update_type: int | None = None
    attachments: list[TicketAttachment] | None = None


class Ticket(ApiModel):
    """A root cause ticket. ``status`` holds one :class:`TicketStatus`, ``priority`` a :class:`TicketPriority`."""

    ticket_id: UUID | None = None
    ticket_number: int | None = None
    progress: str | None = None
    owner: str | None = None
    assignee: str | None = None
    subject: str | None = None
    status: int | None = None
    priority: int | None = None
    report_uuid: UUID | None = None
    created_utc: WatsDateTime | None = None
    updated_utc: WatsDateTime | None = None
    team: str | None = None
    origin: str | None = None
    tags: list[Setting] | None = None
    history: list[TicketUpdate] | None = None
    update: TicketUpdate | None = None


AttachmentInput = Union[TicketAttachment, UUID, str]


def _attachments(items: Iterable[AttachmentInput] | None) -> list[TicketAttachment] | None:
    if items is None:
        return None
    found = []
    for item in items:
        if isinstance(item, TicketAttachment):
            found.append(item)
        else:
            found.append(TicketAttachment(attachment_id=as_uuid(item, "attachment id")))
    return found


def _new_update(content: str | None, attachments: Iterable[AttachmentInput] | None) -> TicketUpdate | None:
    files = _attachments(attachments)
    if content is None and not files:
        return None
    return TicketUpdate(content=content, update_type=TicketUpdateType.CONTENT.value, attachments=files)


def _flag_value(value: int, what: str, allowed: range) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or int(value) not in allowed:
        raise ValueError(f"{what} must be a whole number from {allowed.start} to {allowed.stop - 1}, not {value!r}")
    return int(value)


def _ticket_body(ticket: Ticket) -> bytes:
    # The history is the server's: sending it back would only make the request bigger.
    return json_body(ticket.model_copy(update={"history": None}))


def _uuid_answer(response: httpx.Response) -> UUID:
    """The id in an upload answer: a JSON string (or, from some servers, bare text)."""
    text = response.text.strip()
    value = response.json() if text[:1] in ('"', "{") else text
    if isinstance(value, dict):
        value = next((v for k, v in value.items() if k.lower() in ("id", "attachmentid")), None)
    return UUID(str(value))


class RootCauseService(Domain[M]):
    """Root cause tickets: ``api.rootcause``."""

    @endpoint
    def get_tickets(
        self, status: TicketStatus | int, view: TicketView | int = TicketView.ASSIGNED, search: str | None = None
    ) -> Op[list[Ticket]]:
        """Tickets with any of the ``status`` flags, in ``view``; ``search`` matches subject, tags or tag value.

        >>> api.rootcause.get_tickets(TicketStatus.OPEN | TicketStatus.IN_PROGRESS, TicketView.ALL)
        """
        params = {"status": _flag_value(status, "ticket status", range(1, 64)),
                  "view": _flag_value(view, "ticket view", range(0, 3)), "searchString": search}  # fmt: skip
        return Op("GET", "/api/RootCause/Tickets", params=params, parser=list_of(Ticket))

    @endpoint
    def get_ticket(self, ticket_id: UUID | str) -> Op[Ticket]:
        """One ticket with its history. Missing: ``NotFoundError`` (None when LENIENT)."""
        params = {"ticketId": as_uuid(ticket_id, "ticket_id")}
        return Op("GET", "/api/RootCause/Ticket", params=params, parser=json_as(Ticket), missing_ok=True)

    @endpoint
    def create_ticket(
        self,
        subject: str,
        *,
        comment: str | None = None,
        assignee: str | None = None,
        priority: TicketPriority | int | None = None,
        team: str | None = None,
        report_uuid: UUID | str | None = None,
        tags: TagsInput = None,
        attachments: Iterable[AttachmentInput] | None = None,
    ) -> Op[Ticket]:
        """Open a ticket; ``comment`` (and ``attachments``) become its first history entry.

        >>> api.rootcause.create_ticket("C12 cracked after burn-in", assignee="anna", priority=TicketPriority.HIGH)
        """
        ticket = Ticket(
            subject=required_text("subject", subject), assignee=assignee, team=team,
            priority=None if priority is None else int(priority),
            report_uuid=as_uuid(report_uuid, "report_uuid") if report_uuid is not None else None,
            tags=settings_of(tags), update=_new_update(comment, attachments),
        )  # fmt: skip
        return Op("POST", "/api/RootCause/Ticket", body=json_body(ticket), content_type="application/json",
                  parser=json_as(Ticket))  # fmt: skip

    @endpoint
    def update_ticket(self, ticket: Ticket) -> Op[Ticket]:
        """Save a changed ticket (found by ``ticket_id``); its ``update``, if set, is added to the history."""
        if not isinstance(ticket, Ticket) or ticket.ticket_id is None:
            raise ValueError("update_ticket takes a Ticket with its ticket_id (get it with get_ticket)")
        return Op("PUT", "/api/RootCause/Ticket", body=_ticket_body(ticket), content_type="application/json",
                  parser=json_as(Ticket), idempotent=ticket.update is None)  # fmt: skip

    @endpoint
    def add_comment(
        self, ticket_id: UUID | str, content: str | None, *, attachments: Iterable[AttachmentInput] | None = None
    ) -> Flow[Ticket]:
        """Add a comment (and/or attachments) to a ticket's history; returns the ticket as now stored."""
        update = _new_update(content, attachments)
        if update is None:
            raise ValueError("give the comment's content, attachments, or both")
        ticket = yield self.get_ticket.build(ticket_id)  # type: ignore[attr-defined]
        if ticket is None:  # ErrorMode.LENIENT and no such ticket
            return None
        changed = ticket.model_copy(update={"update": update})
        return (yield self.update_ticket.build(changed))  # type: ignore[attr-defined]

    @endpoint
    def set_ticket_status(
        self, ticket_id: UUID | str, status: TicketStatus | int, *, comment: str | None = None
    ) -> Flow[Ticket]:
        """Change a ticket's status (archive with :meth:`archive_tickets`), optionally with a comment."""
        value = _flag_value(status, "ticket status", range(1, 64))
        ticket = yield self.get_ticket.build(ticket_id)  # type: ignore[attr-defined]
        if ticket is None:
            return None
        changed = ticket.model_copy(update={"status": value, "update": _new_update(comment, None)})
        return (yield self.update_ticket.build(changed))  # type: ignore[attr-defined]

    @endpoint
    def assign_ticket(self, ticket_id: UUID | str, assignee: str, *, comment: str | None = None) -> Flow[Ticket]:
        """Give a ticket to ``assignee`` (a WATS user name), optionally with a comment."""
        required_text("assignee", assignee)
        ticket = yield self.get_ticket.build(ticket_id)  # type: ignore[attr-defined]
        if ticket is None:
            return None
        changed = ticket.model_copy(update={"assignee": assignee, "update": _new_update(comment, None)})
        return (yield self.update_ticket.build(changed))  # type: ignore[attr-defined]

    @endpoint
    def archive_tickets(self, ticket_ids: Iterable[UUID | str]) -> Op[None]:
        """Archive Solved tickets (allowed to their owner, or a user who may manage all tickets).

        A ticket that is not Solved is refused (``BadRequestError``; the emulator then archives none of them).
        """
        if isinstance(ticket_ids, (str, UUID)):
            raise TypeError("archive_tickets takes a list of ticket ids")
        ids = [str(as_uuid(ticket_id, "ticket id")) for ticket_id in ticket_ids]
        if not ids:
            raise ValueError("give at least one ticket id")
        # WATS answers with one ticket, whichever it picks; the call's result is that they are archived.
        return Op("POST", "/api/RootCause/ArchiveTickets", body=json_body(ids), content_type="application/json",
                  parser=no_content)  # fmt: skip

    @endpoint
    def upload_attachment(
        self, content: bytes, filename: str, content_type: str = "application/octet-stream"
    ) -> Op[UUID]:
        """Upload a file for a ticket update; returns its attachment id."""
        body, multipart_type = file_upload(content, required_text("filename", filename), content_type)
        return Op("POST", "/api/RootCause/Attachment", body=body, content_type=multipart_type, parser=_uuid_answer)

    @endpoint
    def get_attachment(self, attachment_id: UUID | str, filename: str | None = None) -> Op[bytes]:
        """An attachment's bytes. ``filename`` asks for it as a download under that name."""
        params = {"attachmentId": as_uuid(attachment_id, "attachment_id"), "fileName": filename}
        return Op("GET", "/api/RootCause/Attachment", params=params, accept="*/*", parser=bytes_body,
                  missing_ok=True)  # fmt: skip


__all__ = [
    "RootCauseService",
    "Ticket",
    "TicketAttachment",
    "TicketPriority",
    "TicketStatus",
    "TicketUpdate",
    "TicketUpdateType",
    "TicketView",
]
