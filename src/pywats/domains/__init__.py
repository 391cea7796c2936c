"""The WATS API by area, one service object per domain: ``api.report``, ``api.process``...

Every domain is written once and serves both clients (see :mod:`pywats.domains._domain` for how). To add one:

1. write ``pywats/domains/<area>.py``: a ``Domain[M]`` subclass whose public methods are ``@endpoint``
   functions returning an ``Op`` (one request) or a flow (several), plus the ``ApiModel`` answer models;
2. add it to :class:`Domains` below: an annotation and one line in ``_attach_domains``.

``Domains`` is mixed into both clients; the annotations give type checkers the right mode per client
(``pyWATS().report`` is ``ReportService[Sync]``, ``AsyncWATS().report`` is ``ReportService[Async]``).
"""

from __future__ import annotations

import httpx

from .._ops import Op
from ._domain import Async, Domain, Flow, M, Runner, Sync, Work, endpoint
from ._models import ApiModel, WatsFilter
from .analytics import AnalyticsService
from .odata import F, Expr, Field
from .process import Process, ProcessService
from .asset import Asset, AssetService, AssetState, AssetType
from .product import Product, ProductRevision, ProductService
from .report import InsertReportResult, MiscInfoHeader, ReportHeader, ReportService
from .production import ProductionService, SerialNumber, SerialNumberType, Unit, UnitChange, UnitPhase
from .rootcause import RootCauseService, Ticket, TicketPriority, TicketStatus, TicketView
from .software import FileAttribute, Package, PackageFile, PackageStatus, SoftwareService, VirtualFolder


def _version_text(response: httpx.Response) -> str:
    """``GET /api/App/Version`` is typed as a string: a JSON string, or plain text from some servers."""
    text = response.text.strip()
    if "json" in response.headers.get("content-type", "") or text.startswith(('"', "{")):
        value = response.json()
        if isinstance(value, dict):  # tolerate {"version": "..."} shapes
            value = next((v for k, v in value.items() if str(k).lower() == "version"), None)
        if not isinstance(value, str):
            raise ValueError(f"expected a version string, got {response.text[:100]!r}")
        return value
    return text


class Domains(Runner[M]):
    """The domain services and client-level endpoints of a client (mixed into ``pyWATS`` and ``AsyncWATS``)."""

    report: ReportService[M]
    process: ProcessService[M]
    product: ProductService[M]
    asset: AssetService[M]
    production: ProductionService[M]
    software: SoftwareService[M]
    rootcause: RootCauseService[M]
    analytics: AnalyticsService[M]

    def _attach_domains(self) -> None:
        self.report = ReportService(self)  # type: ignore[arg-type]
        self.process = ProcessService(self)  # type: ignore[arg-type]
        self.product = ProductService(self)  # type: ignore[arg-type]
        self.asset = AssetService(self)  # type: ignore[arg-type]
        self.production = ProductionService(self)  # type: ignore[arg-type]
        self.software = SoftwareService(self)  # type: ignore[arg-type]
        self.rootcause = RootCauseService(self)  # type: ignore[arg-type]
        self.analytics = AnalyticsService(self)  # type: ignore[arg-type]

    @endpoint
    def get_version(self) -> Op[str]:
        """The WATS server's version (``GET /api/App/Version``).

        >>> api.get_version()
        '2025.1.0'
        """
        return Op("GET", "/api/App/Version", parser=_version_text)


__all__ = [
    "ApiModel",
    "Asset",
    "AssetService",
    "AssetState",
    "AssetType",
    "Async",
    "Domain",
    "Domains",
    "Expr",
    "F",
    "Field",
    "FileAttribute",
    "Flow",
    "InsertReportResult",
    "MiscInfoHeader",
    "Op",
    "Package",
    "PackageFile",
    "PackageStatus",
    "Process",
    "ProcessService",
    "Product",
    "ProductRevision",
    "ProductService",
    "ProductionService",
    "ReportHeader",
    "ReportService",
    "RootCauseService",
    "SerialNumber",
    "SerialNumberType",
    "SoftwareService",
    "Sync",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "TicketView",
    "Unit",
    "UnitChange",
    "UnitPhase",
    "VirtualFolder",
    "WatsFilter",
    "Work",
    "endpoint",
]
