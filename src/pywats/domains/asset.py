"""``api.asset``: fixtures, instruments and other test equipment, their counts, calibration and log.

Endpoints (``wats-api/openapi_public_v3.json``, tag Asset):

=======================  ==================================================================================
method                   endpoint
=======================  ==================================================================================
``query_assets``         ``GET /api/Asset`` (OData ``$filter $top $skip $orderby``)
``get_asset``            ``GET /api/Asset/{assetId}`` or ``GET /api/Asset/{serialNumber}``
``save_asset``           ``PUT /api/Asset``
``delete_asset``         ``DELETE /api/Asset?id|serialNumber``
``get_asset_types``      ``GET /api/Asset/Types`` (OData)
``save_asset_type``      ``PUT /api/Asset/Types``
``increment_count``      ``PUT /api/Asset/Count?id|serialNumber&incrementBy|totalCount&incrementChildren``
``record_calibration``   ``POST /api/Asset/Calibration?id|serialNumber&dateTime&comment``
``record_maintenance``   ``POST /api/Asset/Maintenance?id|serialNumber&dateTime&comment``
``reset_running_count``  ``POST /api/Asset/ResetRunningCount?id|serialNumber&comment``
``set_state``            ``PUT /api/Asset/State?state&id|serialNumber``
``get_status``           ``GET /api/Asset/Status?id|serialNumber&translate&cultureCode``
``get_log``              ``GET /api/Asset/Log`` (OData)
``post_message``         ``POST /api/Asset/Message?id|serialNumber`` (``AssetMessage`` body)
``get_sub_assets``       ``GET /api/Asset/SubAssets?id|serialNumber&level``
=======================  ==================================================================================

An asset is named by ``asset_id`` or ``serial_number`` (keyword arguments, exactly one). Counts and
calibration/maintenance dates change only through their own endpoints; ``save_asset`` leaves them alone,
as WATS does.

Retrying: ``increment_count(increment_by=...)`` is never resent after an ambiguous failure (a second
delivery would count twice); ``increment_count(total_count=...)`` sets an absolute value and is. The POSTs
that write a log record are not resent either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import IntEnum
from typing import Any
from uuid import UUID

import httpx
from pydantic import Field as PydanticField, TypeAdapter

from .._ops import Op, encode_json, json_as, path_segment
from ._domain import Domain, M, endpoint
from ._models import ApiModel, WatsDateTime
from ._query import count, odata_params
from .odata import Expr, Field
from .product import Setting, ignore_body, merged

# GET routes under /api/Asset/ that an id or serial number in the path would collide with.
RESERVED_KEYS = frozenset({"log", "status", "subassets", "types"})


class AssetState(IntEnum):
    """``state`` of an asset (``PUT /api/Asset/State``)."""

    UNKNOWN = 0
    IN_OPERATION = 1
    IN_TRANSIT = 2
    IN_MAINTENANCE = 3
    IN_CALIBRATION = 4
    IN_STORAGE = 5
    SCRAPPED = 6


class AssetLogType(IntEnum):
    """``type`` of an asset log record. WATS may use more values; the field stays a plain int."""

    MESSAGE = 0
    REGISTER = 1
    UPDATE = 2
    RESET_COUNT = 3
    CALIBRATION = 4
    MAINTENANCE = 5


class AssetType(ApiModel):
    """A kind of asset and its limits: counts, calibration and maintenance intervals (days), thresholds (%)."""

    type_id: UUID | None = None
    type_name: str | None = None
    running_count_limit: int | None = None
    total_count_limit: int | None = None
    maintenance_interval: float | None = None
    calibration_interval: float | None = None
    warning_threshold: float | None = None
    alarm_threshold: float | None = None
    is_readonly: bool | None = None
    icon: str | None = None


class AssetLog(ApiModel):
    """One record of an asset's log (see :class:`AssetLogType`)."""

    log_id: int | None = None
    asset_id: str | None = None
    serial_number: str | None = None
    date: WatsDateTime | None = None
    user: str | None = None
    type: int | None = None
    property: str | None = None
    value: str | None = None
    comment: str | None = None


class Asset(ApiModel):
    """An asset. ``query_assets`` fills the OData fields (with ``xml_data``); ``get_asset`` the public model
    (with ``tags`` and ``asset_type``)."""

    asset_id: str | None = None
    parent_asset_id: str | None = None
    serial_number: str | None = None
    parent_serial_number: str | None = None
    asset_name: str | None = None
    part_number: str | None = None
    revision: str | None = None
    type_id: UUID | None = None
    client_id: int | None = PydanticField(default=None, alias="ClientId")
    state: int | None = None
    description: str | None = None
    location: str | None = None
    first_seen_date: WatsDateTime | None = None
    last_seen_date: WatsDateTime | None = None
    last_maintenance_date: WatsDateTime | None = None
    next_maintenance_date: WatsDateTime | None = None
    last_calibration_date: WatsDateTime | None = None
    next_calibration_date: WatsDateTime | None = None
    total_count: int | None = None
    running_count: int | None = None
    xml_data: str | None = None
    tags: list[Setting] | None = None
    asset_children: list[Asset] | None = None
    asset_type: AssetType | None = None
    asset_log: list[AssetLog] | None = None


class AssetStatus(ApiModel):
    """Where an asset stands against its type's limits: ``status`` is ``OK``, ``Warning`` or ``Alarm`` and
    ``message`` says why (the spec leaves this answer untyped; the fields are those the emulator returns)."""

    asset_id: str | None = None
    serial_number: str | None = None
    state: int | None = None
    status: str | None = None
    message: str | None = None
    running_count: int | None = None
    running_count_limit: int | None = None
    total_count: int | None = None
    total_count_limit: int | None = None
    last_calibration_date: WatsDateTime | None = None
    next_calibration_date: WatsDateTime | None = None
    last_maintenance_date: WatsDateTime | None = None
    next_maintenance_date: WatsDateTime | None = None


def model_or_none(tp: Any) -> Any:
    """A parser for answers the spec types only as "object": the model when there is a body, else None."""
    adapter = TypeAdapter(tp)

    def parse(response: httpx.Response) -> Any:
        return adapter.validate_json(response.content) if response.content.strip() else None

    return parse


def target(asset_id: str | None, serial_number: str | None) -> dict[str, str | None]:
    """The ``id`` / ``serialNumber`` query pair naming one asset: exactly one of them, not empty."""
    if (asset_id is None) == (serial_number is None):
        raise ValueError("name the asset with asset_id or serial_number (exactly one)")
    value = asset_id if asset_id is not None else serial_number
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"asset_id / serial_number must be a non-empty string, not {value!r}")
    return {"id": asset_id, "serialNumber": serial_number}


def _json(payload: Any) -> dict[str, Any]:
    return {"body": encode_json(payload), "content_type": "application/json"}


class AssetService(Domain[M]):
    """Assets: ``api.asset``. Every method works the same on ``pyWATS`` and (awaited) on ``AsyncWATS``."""

    @endpoint
    def query_assets(
        self,
        filter: Expr | str | None = None,
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | Field | Iterable[str | Field] | None = None,
    ) -> Op[list[Asset]]:
        """Assets matching an OData filter (WATS: the first 1000 by ``assetId`` unless told otherwise).

        >>> api.asset.query_assets(F.running_count > 1000, orderby=F.running_count.desc())
        """
        params = odata_params(filter, top=top, skip=skip, orderby=orderby)
        return Op("GET", "/api/Asset", params=params, parser=json_as(list[Asset]))

    @endpoint
    def get_asset(self, id_or_serial_number: str) -> Op[Asset]:
        """The asset with this asset id or serial number, with its tags and type.

        Raises:
            NotFoundError: no such asset (``ErrorMode.LENIENT``: returns None instead).
        """
        key = id_or_serial_number
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"get_asset() needs an asset id or serial number, not {key!r}")
        if key.lower() in RESERVED_KEYS:
            raise ValueError(f"{key!r} is also an endpoint name: use query_assets(F.serial_number == {key!r})")
        return Op("GET", f"/api/Asset/{path_segment(key)}", parser=json_as(Asset), missing_ok=True)

    @endpoint
    def save_asset(self, asset: Asset | Mapping[str, Any] | None = None, /, **fields: Any) -> Op[Asset | None]:
        """Create an asset, or update it (found by ``asset_id``, else by ``serial_number``).

        ``serial_number`` and ``type_id`` are required. Counts and last calibration/maintenance dates are
        not changed here (use :meth:`increment_count`, :meth:`record_calibration`...).

        >>> api.asset.save_asset(serial_number="FIX-001", type_id=fixture_type.type_id, asset_name="ICT fixture")
        """
        model = merged(Asset, asset, fields)
        if not model.serial_number or model.type_id is None:
            raise ValueError("save_asset() needs serial_number and type_id")
        return Op("PUT", "/api/Asset", **_json(model), parser=model_or_none(Asset))

    @endpoint
    def delete_asset(self, *, asset_id: str | None = None, serial_number: str | None = None) -> Op[None]:
        """Delete an asset and its log; its sub assets move to its parent."""
        return Op("DELETE", "/api/Asset", params=target(asset_id, serial_number), parser=ignore_body)

    @endpoint
    def get_asset_types(
        self,
        filter: Expr | str | None = None,
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | Field | Iterable[str | Field] | None = None,
    ) -> Op[list[AssetType]]:
        """Asset types matching an OData filter (ordered by name unless told otherwise).

        >>> api.asset.get_asset_types(F.type_name == "Fixture")
        """
        params = odata_params(filter, top=top, skip=skip, orderby=orderby)
        return Op("GET", "/api/Asset/Types", params=params, parser=json_as(list[AssetType]))

    @endpoint
    def save_asset_type(
        self, asset_type: AssetType | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> Op[AssetType | None]:
        """Create an asset type, or update it (found by ``type_id``, else by ``type_name``).

        >>> api.asset.save_asset_type(type_name="Fixture", running_count_limit=10000, calibration_interval=365)
        """
        model = merged(AssetType, asset_type, fields)
        if not model.type_name:
            raise ValueError("save_asset_type() needs type_name")
        return Op("PUT", "/api/Asset/Types", **_json(model), parser=model_or_none(AssetType))

    @endpoint
    def increment_count(
        self,
        *,
        asset_id: str | None = None,
        serial_number: str | None = None,
        increment_by: int | None = None,
        total_count: int | None = None,
        increment_children: bool | None = None,
        culture_code: str | None = None,
    ) -> Op[AssetStatus | None]:
        """Add to the running and total count (by 1 unless told otherwise), or set the total count and add
        the difference. Returns the asset's status after counting, so a station sees a limit reached.

        >>> api.asset.increment_count(serial_number="FIX-001")           # one more test on this fixture
        """
        if increment_by is not None and total_count is not None:
            raise ValueError("give increment_by or total_count, not both")
        if increment_by is None and total_count is None:
            increment_by = 1
        params = {
            **target(asset_id, serial_number),
            "incrementBy": count("increment_by", increment_by),
            "totalCount": count("total_count", total_count),
            "incrementChildren": increment_children,
            "cultureCode": culture_code,
        }
        return Op("PUT", "/api/Asset/Count", params=params, parser=model_or_none(AssetStatus),
                  idempotent=total_count is not None)  # fmt: skip

    @endpoint
    def record_calibration(
        self,
        *,
        asset_id: str | None = None,
        serial_number: str | None = None,
        date_time: datetime | None = None,
        comment: str | None = None,
    ) -> Op[Asset | None]:
        """Record that the asset was calibrated (now, unless ``date_time`` says when); logs ``comment``."""
        params = {**target(asset_id, serial_number), "dateTime": date_time, "comment": comment}
        return Op("POST", "/api/Asset/Calibration", params=params, parser=model_or_none(Asset))

    @endpoint
    def record_maintenance(
        self,
        *,
        asset_id: str | None = None,
        serial_number: str | None = None,
        date_time: datetime | None = None,
        comment: str | None = None,
    ) -> Op[Asset | None]:
        """Record that the asset had maintenance (now, unless ``date_time`` says when); logs ``comment``."""
        params = {**target(asset_id, serial_number), "dateTime": date_time, "comment": comment}
        return Op("POST", "/api/Asset/Maintenance", params=params, parser=model_or_none(Asset))

    @endpoint
    def reset_running_count(
        self, *, asset_id: str | None = None, serial_number: str | None = None, comment: str | None = None
    ) -> Op[Asset | None]:
        """Set the running count to 0 (the total count stays); logs ``comment``."""
        params = {**target(asset_id, serial_number), "comment": comment}
        return Op("POST", "/api/Asset/ResetRunningCount", params=params, parser=model_or_none(Asset))

    @endpoint
    def set_state(
        self, state: AssetState | int, *, asset_id: str | None = None, serial_number: str | None = None
    ) -> Op[Asset | None]:
        """Set the asset's state, e.g. ``AssetState.IN_CALIBRATION`` while it is away."""
        if isinstance(state, bool) or not isinstance(state, int) or state not in AssetState._value2member_map_:
            raise ValueError(f"state must be an AssetState (0 to 6), not {state!r}")
        params = {"state": int(state), **target(asset_id, serial_number)}
        return Op("PUT", "/api/Asset/State", params=params, parser=model_or_none(Asset))

    @endpoint
    def get_status(
        self,
        *,
        asset_id: str | None = None,
        serial_number: str | None = None,
        translate: bool | None = None,
        culture_code: str | None = None,
    ) -> Op[AssetStatus]:
        """The asset's status against its limits.

        Raises:
            NotFoundError: no such asset (``ErrorMode.LENIENT``: returns None instead).
        """
        params = {**target(asset_id, serial_number), "translate": translate, "cultureCode": culture_code}
        return Op("GET", "/api/Asset/Status", params=params, parser=json_as(AssetStatus), missing_ok=True)

    @endpoint
    def get_log(
        self,
        filter: Expr | str | None = None,
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | Field | Iterable[str | Field] | None = None,
    ) -> Op[list[AssetLog]]:
        """Asset log records matching an OData filter, newest first unless told otherwise.

        >>> api.asset.get_log(F.serial_number == "FIX-001", top=20)
        """
        params = odata_params(filter, top=top, skip=skip, orderby=orderby)
        return Op("GET", "/api/Asset/Log", params=params, parser=json_as(list[AssetLog]))

    @endpoint
    def post_message(
        self,
        content: str,
        *,
        asset_id: str | None = None,
        serial_number: str | None = None,
        culture_code: str | None = None,
    ) -> Op[AssetLog | None]:
        """Write a message into the asset's log."""
        if not isinstance(content, str) or not content.strip():
            raise ValueError("post_message() needs a non-empty message")
        params = {**target(asset_id, serial_number), "cultureCode": culture_code}
        return Op("POST", "/api/Asset/Message", params=params, **_json({"content": content}),
                  parser=model_or_none(AssetLog))  # fmt: skip

    @endpoint
    def get_sub_assets(
        self, *, asset_id: str | None = None, serial_number: str | None = None, level: int | None = None
    ) -> Op[list[Asset]]:
        """The asset's sub assets: ``level=1`` its children only, ``0`` (the default) every level below.

        Raises:
            NotFoundError: no such asset (``ErrorMode.LENIENT``: returns None instead).
        """
        params = {**target(asset_id, serial_number), "level": count("level", level)}
        return Op("GET", "/api/Asset/SubAssets", params=params, parser=json_as(list[Asset]), missing_ok=True)


__all__ = [
    "Asset",
    "AssetLog",
    "AssetLogType",
    "AssetService",
    "AssetState",
    "AssetStatus",
    "AssetType",
]
