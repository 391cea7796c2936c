"""``api.product``: products (part numbers), their revisions and BOMs, vendors and product groups.

Endpoints (``wats-api/openapi_public_v3.json``, tag Product):

============================  ===========================================================================
method                        endpoint
============================  ===========================================================================
``get_product``               ``GET /api/Product/{partNumber}``
``get_revision``              ``GET /api/Product/{partNumber}/{revision}``
``get_bom``                   ``GET /api/Product/{partNumber}/{revision}``, the ``<BOM>`` in its ``xmlData``
``query_products``            ``GET /api/Product/Query`` (OData ``$filter $top $skip $orderby``)
``save_product``              ``PUT /api/Product``
``save_revision``             ``PUT /api/Product/Revision``
``save_bom``                  ``PUT /api/Product/BOM`` (WSBF XML body)
``save_products``             ``PUT /api/Products`` (bulk, for ERP integration)
``save_revisions``            ``PUT /api/Products/Revisions`` (bulk)
``get_vendors``               ``GET /api/Product/Vendors``
``save_vendors``              ``PUT /api/Product/Vendors``
``delete_vendors``            ``DELETE /api/Product/Vendors``
``add_product_group_filter``  ``POST /api/Product/ProductGroupFilter``
``get_product_groups``        ``GET /api/Product/ProductGroupsByProduct``
============================  ===========================================================================

Saving takes a model, a dict, keywords, or a model plus keywords (the keywords win), so both
``save_product(product)`` after editing a fetched one and ``save_product(part_number="PCBA-100", name="Main
board")`` work. Endpoints the spec types only as "object" (vendors, BOM, groups, bulk) return None: their
answer carries nothing a caller needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any, TypeVar
from uuid import UUID
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

import httpx
from pydantic import AliasChoices, Field as PydanticField

from .._ops import Op, encode_json, json_as, path_segment
from ..formats import wsbf
from ..formats.wsbf import Bom, BomComponent
from ._domain import Domain, Flow, M, endpoint
from ._models import ApiModel
from ._query import odata_params
from .odata import Expr, Field

# GET routes under /api/Product/ that a part number in the path would collide with (WATS routes them first).
RESERVED_PART_NUMBERS = frozenset({"query", "vendors", "productgroupsbyproduct"})

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class ProductState(IntEnum):
    """``state`` of a product or revision."""

    INACTIVE = 0
    ACTIVE = 1


class Setting(ApiModel):
    """A key/value tag (``xmlData`` as JSON). ``change`` is WATS's edit marker; it is only ever read."""

    key: str | None = None
    value: str | None = None
    change: int | None = None


class ProductRevision(ApiModel):
    """A revision of a product (``Product.Public.ProductRevision``). Its part number is spelled ``PartNumber``."""

    product_revision_id: UUID | None = None
    product_id: UUID | None = None
    revision: str | None = None
    name: str | None = None
    description: str | None = None
    state: int | None = None
    xml_data: str | None = None
    part_number: str | None = PydanticField(
        default=None, validation_alias=AliasChoices("PartNumber", "partNumber"), serialization_alias="PartNumber"
    )
    tags: list[Setting] | None = None

    @property
    def bom(self) -> Bom | None:
        """The BOM held in ``xml_data`` (WATS keeps a revision's WSBF there), or None."""
        return bom_from_xml_data(self.xml_data)


class Product(ApiModel):
    """A product: one part number (``Product.Public.Product``), with its revisions when read."""

    product_id: UUID | None = None
    non_serial: bool | None = None
    part_number: str | None = None
    name: str | None = None
    description: str | None = None
    state: int | None = None
    xml_data: str | None = None
    product_category_id: UUID | None = None
    product_category_name: str | None = None
    revisions: list[ProductRevision] | None = None
    tags: list[Setting] | None = None


class ProductView(ApiModel):
    """A product as ``GET /api/Product/Query`` lists it."""

    part_number: str | None = None
    name: str | None = None
    category: str | None = None
    non_serial: bool | None = None
    state: int | None = None


class Vendor(ApiModel):
    """A component vendor (``ERP.Vendor``): WATS spells its one field ``VendorName``."""

    vendor_name: str | None = PydanticField(
        default=None, validation_alias=AliasChoices("VendorName", "vendorName"), serialization_alias="VendorName"
    )


class ProductGroup(ApiModel):
    """A product group a part number belongs to (``GET /api/Product/ProductGroupsByProduct``)."""

    product_group_id: int | UUID | str | None = None
    product_group_name: str | None = None


def tags_xml(tags: Mapping[str, Any]) -> str:
    """``xmlData`` for key/value tags: ``{"Site": "01"}`` → ``<Root><Site Value="01" /></Root>``.

    Raises:
        ValueError: a key that cannot be an XML element name.
    """
    items = []
    for key, value in tags.items():
        if not isinstance(key, str) or not _XML_NAME.fullmatch(key) or key.lower().startswith("xml"):
            raise ValueError(f"a tag name must be an XML element name, not {key!r}")
        items.append(f"<{key} Value={quoteattr('' if value is None else str(value))} />")
    return f"<Root>{''.join(items)}</Root>"


def bom_from_xml_data(xml_data: str | None) -> Bom | None:
    """The ``<BOM>`` inside a revision's ``xmlData``; None when there is none or the XML cannot be read."""
    if not xml_data:
        return None
    try:
        element = wsbf.find_bom(ElementTree.fromstring(xml_data))
        return wsbf.from_element(element) if element is not None else None
    except (ElementTree.ParseError, ValueError):
        return None


ModelT = TypeVar("ModelT", bound=ApiModel)


def merged(model_type: type[ModelT], given: ModelT | Mapping[str, Any] | None, fields: dict[str, Any]) -> ModelT:
    """A ``model_type`` from a model or a dict (WATS or Python names) plus keyword fields, which win."""
    if given is None:
        base: dict[str, Any] = {}
    elif isinstance(given, model_type):
        base = given.model_dump(by_alias=False, exclude_unset=True)
    elif isinstance(given, Mapping):
        base = model_type.model_validate(dict(given)).model_dump(by_alias=False, exclude_unset=True)
    else:
        raise TypeError(f"expected a {model_type.__name__} or a dict, not {type(given).__name__}")
    return model_type.model_validate({**base, **fields})


def _needs(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is required (a non-empty string)")
    return value


def _json_body(payload: Any) -> dict[str, Any]:
    return {"body": encode_json(payload), "content_type": "application/json"}


def _many(models: Iterable[Any], model_type: type[ModelT]) -> list[dict[str, Any]]:
    items = [merged(model_type, item, {}) for item in models]
    return [item.model_dump(by_alias=True, exclude_none=True, mode="json") for item in items]


def ignore_body(response: httpx.Response) -> None:
    """For endpoints whose answer the spec leaves untyped and a caller does not need."""
    return None


def _xml_bytes(text: str) -> bytes:
    """XML text encoded as its declaration says (the spec's own example declares utf-16), else UTF-8."""
    match = re.match(r"""\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""", text)
    return text.encode(match.group(1) if match else "utf-8")


class ProductService(Domain[M]):
    """Products: ``api.product``. Every method works the same on ``pyWATS`` and (awaited) on ``AsyncWATS``."""

    @endpoint
    def get_product(self, part_number: str) -> Op[Product]:
        """The product with this part number, with its revisions.

        Raises:
            NotFoundError: no such product (``ErrorMode.LENIENT``: returns None instead).

        >>> api.product.get_product("PCBA-100").name
        """
        _needs(part_number, "part_number")
        if part_number.lower() in RESERVED_PART_NUMBERS:
            raise ValueError(f"part number {part_number!r} is also an endpoint name: use query_products()")
        return Op("GET", f"/api/Product/{path_segment(part_number)}", parser=json_as(Product), missing_ok=True)

    @endpoint
    def get_revision(self, part_number: str, revision: str) -> Op[ProductRevision]:
        """One revision of a product.

        Raises:
            NotFoundError: no such product or revision (``ErrorMode.LENIENT``: returns None instead).
        """
        pn, rev = path_segment(_needs(part_number, "part_number")), path_segment(_needs(revision, "revision"))
        return Op("GET", f"/api/Product/{pn}/{rev}", parser=json_as(ProductRevision), missing_ok=True)

    @endpoint
    def get_bom(self, part_number: str, revision: str) -> Flow[Bom | None]:
        """The BOM saved for a product revision (read from the revision's ``xmlData``), or None if it has none."""
        found = yield self.get_revision.build(part_number, revision)  # type: ignore[attr-defined]
        return found.bom if found is not None else None

    @endpoint
    def query_products(
        self,
        filter: Expr | str | None = None,
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | Field | Iterable[str | Field] | None = None,
    ) -> Op[list[ProductView]]:
        """Products matching an OData filter (WATS returns at most 1000 when there is no filter).

        >>> api.product.query_products(F.part_number.startswith("PCBA"), orderby="partNumber")
        """
        params = odata_params(filter, top=top, skip=skip, orderby=orderby)
        return Op("GET", "/api/Product/Query", params=params, parser=json_as(list[ProductView]))

    @endpoint
    def save_product(self, product: Product | Mapping[str, Any] | None = None, /, **fields: Any) -> Op[Product]:
        """Create a product, or update it (found by ``product_id``, else by ``part_number``).

        Revisions given in ``revisions`` are saved with it. Returns the product as stored.

        >>> api.product.save_product(part_number="PCBA-100", name="Main board", state=ProductState.ACTIVE)
        """
        model = merged(Product, product, fields)
        _needs(model.part_number, "part_number")
        return Op("PUT", "/api/Product", **_json_body(model), parser=json_as(Product))

    @endpoint
    def save_revision(
        self, revision: ProductRevision | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> Op[ProductRevision]:
        """Create or update a revision of an existing product (give ``part_number`` or ``product_id``).

        >>> api.product.save_revision(part_number="PCBA-100", revision="B", name="Rev B")
        """
        model = merged(ProductRevision, revision, fields)
        _needs(model.revision, "revision")
        if model.part_number is None and model.product_id is None:
            raise ValueError("save_revision() needs the product: part_number or product_id")
        return Op("PUT", "/api/Product/Revision", **_json_body(model), parser=json_as(ProductRevision))

    @endpoint
    def save_bom(self, bom: Bom | str | bytes) -> Op[None]:
        """Save the BOM of a product revision (both must exist), replacing any BOM it had.

        Args:
            bom: a :class:`~pywats.formats.wsbf.Bom`, or WSBF XML as text or bytes (sent as is).
        """
        if isinstance(bom, Bom):
            body = wsbf.dumps(bom).encode("utf-8")
        elif isinstance(bom, str):
            wsbf.loads(bom)  # a ValueError here names the problem before anything is sent
            body = _xml_bytes(bom)
        elif isinstance(bom, (bytes, bytearray)):
            wsbf.loads(bytes(bom))
            body = bytes(bom)
        else:
            raise TypeError(f"save_bom() takes a Bom or WSBF text/bytes, not {type(bom).__name__}")
        return Op("PUT", "/api/Product/BOM", body=body, content_type="application/xml", parser=ignore_body)

    @endpoint
    def save_products(self, products: Iterable[Product | Mapping[str, Any]]) -> Op[None]:
        """Create or update many products at once, matched by part number (one request, all or nothing)."""
        items = _many(products, Product)
        for index, item in enumerate(items):
            _needs(item.get("partNumber"), f"products[{index}].part_number")
        return Op("PUT", "/api/Products", **_json_body(items), parser=ignore_body)

    @endpoint
    def save_revisions(self, revisions: Iterable[ProductRevision | Mapping[str, Any]]) -> Op[None]:
        """Create or update many revisions at once, matched by part number and revision (all or nothing)."""
        items = _many(revisions, ProductRevision)
        for index, item in enumerate(items):
            _needs(item.get("revision"), f"revisions[{index}].revision")
        return Op("PUT", "/api/Products/Revisions", **_json_body(items), parser=ignore_body)

    @endpoint
    def get_vendors(self) -> Op[list[Vendor]]:
        """Every vendor known to the server."""
        return Op("GET", "/api/Product/Vendors", parser=json_as(list[Vendor]))

    @endpoint
    def save_vendors(self, vendors: Iterable[str | Vendor]) -> Op[None]:
        """Add the vendors that do not exist yet (names already known are left as they are)."""
        return Op("PUT", "/api/Product/Vendors", **_json_body(_vendor_list(vendors)), parser=ignore_body)

    @endpoint
    def delete_vendors(self, vendors: Iterable[str | Vendor]) -> Op[None]:
        """Delete vendors by name."""
        return Op("DELETE", "/api/Product/Vendors", **_json_body(_vendor_list(vendors)), parser=ignore_body)

    @endpoint
    def add_product_group_filter(
        self, product_group: str, part_number: str, revision: str | None = None, *, exclude: bool | None = None
    ) -> Op[None]:
        """Add a part number (and optionally a revision) to an existing product group, or exclude it with
        ``exclude=True``. Adding the same filter again changes nothing, so it is safe to retry."""
        params = {
            "productGroup": _needs(product_group, "product_group"),
            "partNumber": _needs(part_number, "part_number"),
            "revision": revision,
            "exclude": exclude,
        }
        return Op("POST", "/api/Product/ProductGroupFilter", params=params, parser=ignore_body, idempotent=True)

    @endpoint
    def get_product_groups(self, part_number: str, revision: str | None = None) -> Op[list[ProductGroup]]:
        """The product groups a part number (and revision) belongs to."""
        params = {"partNumber": _needs(part_number, "part_number"), "revision": revision}
        return Op("GET", "/api/Product/ProductGroupsByProduct", params=params, parser=json_as(list[ProductGroup]))


def _vendor_list(vendors: Iterable[str | Vendor]) -> list[dict[str, str]]:
    if isinstance(vendors, (str, Vendor)):
        vendors = [vendors]
    names = [vendor.vendor_name if isinstance(vendor, Vendor) else vendor for vendor in vendors]
    for name in names:
        _needs(name, "a vendor name")
    return [{"VendorName": name} for name in names]  # type: ignore[misc]


__all__ = [
    "Bom",
    "BomComponent",
    "Product",
    "ProductGroup",
    "ProductRevision",
    "ProductService",
    "ProductState",
    "ProductView",
    "Setting",
    "Vendor",
    "bom_from_xml_data",
    "tags_xml",
]
