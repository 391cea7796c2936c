"""The Product area of the WATS API: products, revisions, BOMs (WSBF), vendors and product groups.

Tables (created by :func:`init`): ``products``, ``product_revisions``, ``product_vendors``,
``product_groups`` and ``product_group_filters``.

Behaviour, where the OpenAPI document leaves room:

- ``PUT /api/Product`` updates the product named by ``productId`` (404 if there is none), else the one with
  the same part number, else creates one. ``revisions`` in the body are saved with it. The answer is the
  product as stored, with its revisions; ``tags`` are ``xmlData`` as JSON.
- ``PUT /api/Product/Revision`` finds the product by ``productId`` or ``PartNumber`` (400 if neither names
  one), then the revision by ``productRevisionId`` (404 if unknown) or by name.
- ``PUT /api/Product/BOM`` needs the product revision to exist and stores the BOM inside that revision's
  ``xmlData`` ``<Root>`` (the spec: "Root may also contain a WSBF document"), replacing an earlier BOM; this
  is how a BOM is read back. ``Qty`` must be a number >= 0.
- The bulk ``PUT /api/Products`` and ``/api/Products/Revisions`` are one transaction: one bad item refuses
  them all, naming its index.
- Vendors are unique by name without regard to case; deleting an unknown vendor is not an error.
- Product groups cannot be created through the public API (WATS does that in Control Panel): the emulator
  starts with the groups in ``config.product_groups`` when that setting exists, else
  :data:`DEFAULT_PRODUCT_GROUPS`. A filter's part number may hold ``%`` or ``*`` wildcards; a filter without
  a revision covers every revision; an exclude filter wins over an include filter.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from pywats.formats import wsbf

from ..errors import ApiError
from ..odata import EntitySchema, Field
from ..state import EmulatorState, get_state
from ._checks import (NAME_LENGTH, boolean, guid, integer, json_body, json_list, json_object, new_id, odata_list,
                      tags_of, text, xml_data)  # fmt: skip

router = APIRouter(tags=["Product"])

DEFAULT_PRODUCT_GROUPS = ("PCBA", "Box build")

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    product_id TEXT PRIMARY KEY,
    part_number TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT, description TEXT,
    non_serial INTEGER NOT NULL DEFAULT 0,
    state INTEGER NOT NULL DEFAULT 1,
    xml_data TEXT,
    category_id TEXT, category_name TEXT
);
CREATE TABLE IF NOT EXISTS product_revisions (
    revision_id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (product_id) ON DELETE CASCADE,
    revision TEXT NOT NULL COLLATE NOCASE,
    name TEXT, description TEXT,
    state INTEGER NOT NULL DEFAULT 1,
    xml_data TEXT,
    UNIQUE (product_id, revision)
);
CREATE TABLE IF NOT EXISTS product_vendors (name TEXT PRIMARY KEY COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS product_groups (
    group_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE IF NOT EXISTS product_group_filters (
    group_id TEXT NOT NULL REFERENCES product_groups (group_id) ON DELETE CASCADE,
    part_number TEXT NOT NULL COLLATE NOCASE,
    revision TEXT NOT NULL DEFAULT '' COLLATE NOCASE,   -- '' = every revision
    exclude INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, part_number, revision, exclude)
)
"""

PRODUCT_VIEW = EntitySchema(
    "ProductView",
    (
        Field("partNumber", "part_number", "string"),
        Field("name", "name", "string"),
        Field("category", "category_name", "string"),
        Field("nonSerial", "non_serial", "bool", output="(non_serial = 1)"),
        Field("state", "state", "int"),
    ),
    orderable=("partNumber", "name", "category", "nonSerial", "state"),
)


def init(state: EmulatorState) -> None:
    """Create the tables and the starting product groups."""
    state.storage.ensure_schema(SCHEMA)
    names = getattr(state.config, "product_groups", DEFAULT_PRODUCT_GROUPS)
    with state.storage.write() as db:
        for name in names:
            group_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"wats-emulator:product-group:{name.lower()}"))
            db.execute("INSERT OR IGNORE INTO product_groups (group_id, name) VALUES (?, ?)", (group_id, name))


# -- JSON out -------------------------------------------------------------------------------------------


def revision_json(row: sqlite3.Row, part_number: str) -> dict[str, Any]:
    return {
        "productRevisionId": row["revision_id"], "productId": row["product_id"], "revision": row["revision"],
        "name": row["name"], "description": row["description"], "state": row["state"],
        "xmlData": row["xml_data"], "PartNumber": part_number, "tags": tags_of(row["xml_data"]),
    }  # fmt: skip


REVISIONS_OF = "SELECT * FROM product_revisions WHERE product_id = ? ORDER BY rowid"


def product_json(row: sqlite3.Row, revisions: list[sqlite3.Row]) -> dict[str, Any]:
    return {
        "productId": row["product_id"], "nonSerial": bool(row["non_serial"]), "partNumber": row["part_number"],
        "name": row["name"], "description": row["description"], "state": row["state"], "xmlData": row["xml_data"],
        "productCategoryId": row["category_id"], "productCategoryName": row["category_name"],
        "revisions": [revision_json(revision, row["part_number"]) for revision in revisions],
        "tags": tags_of(row["xml_data"]),
    }  # fmt: skip


def _product_by_pn(db: sqlite3.Connection, part_number: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM products WHERE part_number = ?", (part_number,)).fetchone()


def _product_by_id(db: sqlite3.Connection, product_id: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM products WHERE product_id = ?", (product_id,)).fetchone()


# -- saving ---------------------------------------------------------------------------------------------


def save_product(db: sqlite3.Connection, data: Any, where: str) -> sqlite3.Row:
    """Insert or update one product (and the revisions it carries); the stored row."""
    data = json_object(data, where)
    part_number = text(data, "partNumber", where, required=True, max_length=NAME_LENGTH)
    product_id = guid(data.get("productId"), f"{where}.productId")
    values = {
        "name": text(data, "name", where), "description": text(data, "description", where),
        "non_serial": boolean(data, "nonSerial", where), "state": integer(data, "state", where, choices=range(2)),
        "xml_data": xml_data(data, "xmlData", where),
        "category_id": guid(data.get("productCategoryId"), f"{where}.productCategoryId"),
        "category_name": text(data, "productCategoryName", where),
    }  # fmt: skip
    if values["category_name"] and not values["category_id"]:  # one id per category name, stable across runs
        values["category_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"wats-emulator:{values['category_name'].lower()}"))
    revisions = json_list(data["revisions"], f"{where}.revisions") if data.get("revisions") is not None else []
    existing = _product_by_id(db, product_id) if product_id else _product_by_pn(db, part_number)
    if product_id and existing is None:
        raise ApiError(404, f"Product {product_id} was not found (leave productId empty to add a product).")
    holder = _product_by_pn(db, part_number)
    if existing is not None and holder is not None and holder["product_id"] != existing["product_id"]:
        raise ApiError(400, f"{where}.partNumber '{part_number}' is already the part number of another product.")
    if existing is None:
        product_id = new_id()
        db.execute(
            "INSERT INTO products (product_id, part_number, name, description, non_serial, state, xml_data,"
            " category_id, category_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (product_id, part_number, values["name"], values["description"], bool(values["non_serial"]),
             1 if values["state"] is None else values["state"], values["xml_data"], values["category_id"],
             values["category_name"]),
        )  # fmt: skip
    else:
        product_id = existing["product_id"]
        if not data.get("productId"):  # found by part number without case: keep its spelling
            part_number = existing["part_number"]
        changes = changed_columns(values, data)
        assignments = ", ".join(f"{column} = ?" for column in ["part_number", *changes])
        db.execute(f"UPDATE products SET {assignments} WHERE product_id = ?",
                   (part_number, *changes.values(), product_id))  # fmt: skip
    product = _product_by_id(db, product_id)
    for index, revision in enumerate(revisions):
        revision = json_object(revision, f"{where}.revisions[{index}]")
        save_revision(db, {**revision, "productId": product_id}, f"{where}.revisions[{index}]")
    return product


_COLUMN_KEYS = {
    "name": "name", "description": "description", "nonSerial": "non_serial", "state": "state",
    "xmlData": "xml_data", "productCategoryId": "category_id", "productCategoryName": "category_name",
}  # fmt: skip


def changed_columns(values: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The columns a body sets: a field left out keeps its stored value (a partial update), and so does a
    null state or nonSerial (those columns always have a value)."""
    named = {_COLUMN_KEYS[key] for key in data if key in _COLUMN_KEYS}
    if "productCategoryName" in data:
        named.add("category_id")
    return {column: value for column, value in values.items()
            if column in named and not (value is None and column in ("state", "non_serial"))}  # fmt: skip


def save_revision(db: sqlite3.Connection, data: Any, where: str) -> tuple[sqlite3.Row, str]:
    """Insert or update one revision; its stored row and its product's part number."""
    data = json_object(data, where)
    revision = text(data, "revision", where, required=True, max_length=NAME_LENGTH)
    product_id = guid(data.get("productId"), f"{where}.productId")
    part_number = text(data, "PartNumber", where) or text(data, "partNumber", where)
    product = _product_by_id(db, product_id) if product_id else _product_by_pn(db, part_number) if part_number else None
    if product is None:
        named = f"productId {product_id}" if product_id else f"part number '{part_number}'" if part_number else None
        if named is None:
            raise ApiError(400, f"{where} must name its product with productId or PartNumber.")
        raise ApiError(400, f"{where}: there is no product with {named} (add it with PUT /api/Product first).")
    values = {
        "name": text(data, "name", where), "description": text(data, "description", where),
        "state": integer(data, "state", where, choices=range(2)), "xml_data": xml_data(data, "xmlData", where),
    }  # fmt: skip
    revision_id = guid(data.get("productRevisionId"), f"{where}.productRevisionId")
    if revision_id:
        existing = db.execute("SELECT * FROM product_revisions WHERE revision_id = ?", (revision_id,)).fetchone()
        if existing is None:
            raise ApiError(404, f"Product revision {revision_id} was not found (leave productRevisionId empty "
                                "to add a revision).")  # fmt: skip
    else:
        existing = db.execute("SELECT * FROM product_revisions WHERE product_id = ? AND revision = ?",
                              (product["product_id"], revision)).fetchone()  # fmt: skip
    if existing is None:
        revision_id = new_id()
        db.execute(
            "INSERT INTO product_revisions (revision_id, product_id, revision, name, description, state, xml_data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (revision_id, product["product_id"], revision, values["name"], values["description"],
             1 if values["state"] is None else values["state"], values["xml_data"]),
        )  # fmt: skip
    else:
        if not revision_id:  # found by name without case: keep its spelling
            revision = existing["revision"]
        revision_id = existing["revision_id"]
        changes = changed_columns(values, data)
        assignments = ", ".join(f"{column} = ?" for column in ["revision", "product_id", *changes])
        try:
            db.execute(f"UPDATE product_revisions SET {assignments} WHERE revision_id = ?",
                       (revision, product["product_id"], *changes.values(), revision_id))  # fmt: skip
        except sqlite3.IntegrityError:
            raise ApiError(400, f"{where}: product '{product['part_number']}' already has a revision "
                                f"'{revision}'.") from None  # fmt: skip
    row = db.execute("SELECT * FROM product_revisions WHERE revision_id = ?", (revision_id,)).fetchone()
    return row, product["part_number"]


def _write(state: EmulatorState, work: Any, *args: Any) -> Any:
    with state.storage.write() as db:
        return work(db, *args)


# -- routes (static paths before /api/Product/{partNumber}) ----------------------------------------------


@router.get("/api/Product/Query", summary="Returns the list of products matching the specified filter.")
def query_products(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    # "Only returns $top=1000 if $filter option is not specified": with a filter, everything that matches.
    has_filter = bool(request.query_params.get("$filter", "").strip())
    rows = odata_list(request, state, PRODUCT_VIEW, "products", default_order="part_number ASC",
                      default_top=10_000 if has_filter else 1000)  # fmt: skip
    for row in rows:
        if "nonSerial" in row:
            row["nonSerial"] = bool(row["nonSerial"])
    return JSONResponse(rows)


@router.get("/api/Product/Vendors", summary="Get all vendors.")
def get_vendors(state: EmulatorState = Depends(get_state)) -> JSONResponse:
    rows = state.storage.read("SELECT name FROM product_vendors ORDER BY name")
    return JSONResponse([{"VendorName": row["name"]} for row in rows])


def _vendor_names(data: Any) -> list[str]:
    return [text(json_object(item, f"vendors[{index}]"), "VendorName", f"vendors[{index}]", required=True,
                 max_length=NAME_LENGTH)  # fmt: skip
            for index, item in enumerate(json_list(data, "The body (a list of vendors)"))]  # type: ignore[misc]


@router.put("/api/Product/Vendors", summary="Add vendors that doesn't already exist.")
async def put_vendors(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    names = _vendor_names(await json_body(request))

    def add(db: sqlite3.Connection) -> None:
        db.executemany("INSERT OR IGNORE INTO product_vendors (name) VALUES (?)", [(name,) for name in names])

    await run_in_threadpool(_write, state, add)
    return JSONResponse({})


@router.delete("/api/Product/Vendors", summary="Delete vendors.")
async def delete_vendors(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    names = _vendor_names(await json_body(request))

    def delete(db: sqlite3.Connection) -> None:
        db.executemany("DELETE FROM product_vendors WHERE name = ?", [(name,) for name in names])

    await run_in_threadpool(_write, state, delete)
    return JSONResponse({})


@router.get("/api/Product/ProductGroupsByProduct", summary="Lookup product groups by part number and revision.")
def groups_by_product(partNumber: str, revision: str | None = None,
                      state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    groups = state.storage.read("SELECT * FROM product_groups ORDER BY name")
    filters = state.storage.read("SELECT * FROM product_group_filters")
    found = []
    for group in groups:
        mine = [f for f in filters if f["group_id"] == group["group_id"]]
        included = any(not f["exclude"] and _covers(f, partNumber, revision, include=True) for f in mine)
        excluded = any(f["exclude"] and _covers(f, partNumber, revision, include=False) for f in mine)
        if included and not excluded:
            found.append({"productGroupId": group["group_id"], "productGroupName": group["name"]})
    return JSONResponse(found)


def _covers(group_filter: sqlite3.Row, part_number: str, revision: str | None, *, include: bool) -> bool:
    """Whether a filter matches. Asked without a revision, an include filter for one revision still counts
    (the product is in the group in that revision); an exclude filter for one revision does not."""
    pattern = "".join(".*" if c in "%*" else re.escape(c) for c in group_filter["part_number"])
    if not re.fullmatch(pattern, part_number, re.IGNORECASE):
        return False
    if not group_filter["revision"]:
        return True
    if revision is None:
        return include
    return group_filter["revision"].lower() == revision.lower()


@router.post("/api/Product/ProductGroupFilter", summary="Add a product group filter to a pre-existing product group.")
def add_group_filter(productGroup: str, partNumber: str, revision: str | None = None, exclude: bool = False,
                     state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    if not productGroup.strip() or not partNumber.strip():
        raise ApiError(400, "productGroup and partNumber must not be empty.")
    with state.storage.write() as db:
        group = db.execute("SELECT group_id FROM product_groups WHERE name = ?", (productGroup,)).fetchone()
        if group is None:
            raise ApiError(404, f"Product group '{productGroup}' was not found (product groups are created in "
                                "WATS Control Panel).")  # fmt: skip
        db.execute("INSERT OR IGNORE INTO product_group_filters (group_id, part_number, revision, exclude)"
                   " VALUES (?, ?, ?, ?)", (group["group_id"], partNumber, revision or "", exclude))  # fmt: skip
    return JSONResponse({})


@router.put("/api/Product/BOM", summary="Inserts or updates a BOM using WSBF (WATS Standard BOM Format).")
async def put_bom(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    body = await request.body()
    try:
        bom = wsbf.loads(body)
    except ValueError as error:
        raise ApiError(400, f"The BOM is not valid: {error}.") from None
    await run_in_threadpool(_write, state, store_bom, bom)
    return JSONResponse({})


def store_bom(db: sqlite3.Connection, bom: wsbf.Bom) -> None:
    """Put the BOM into its revision's ``xmlData`` ``<Root>``, replacing a BOM that was there."""
    product = _product_by_pn(db, bom.part_number)
    if product is None:
        raise ApiError(400, f"The BOM's Partnumber '{bom.part_number}' is not a product (PUT /api/Product first).")
    row = db.execute("SELECT * FROM product_revisions WHERE product_id = ? AND revision = ?",
                     (product["product_id"], bom.revision)).fetchone()  # fmt: skip
    if row is None:
        raise ApiError(400, f"Product '{bom.part_number}' has no revision '{bom.revision}' "
                            "(PUT /api/Product/Revision first).")  # fmt: skip
    others = ""
    if row["xml_data"]:
        root = ElementTree.fromstring(row["xml_data"])
        kept = [child for child in root if child.tag.rpartition("}")[2] != "BOM"]
        others = "".join(ElementTree.tostring(child, encoding="unicode") for child in kept)
    xml = f"<Root>{others}{wsbf.dumps(bom, declaration=False)}</Root>"
    db.execute("UPDATE product_revisions SET xml_data = ? WHERE revision_id = ?", (xml, row["revision_id"]))


@router.put("/api/Product", summary="Add a product or update an existing product.")
async def put_product(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    data = await json_body(request)

    def save(db: sqlite3.Connection) -> dict[str, Any]:
        row = save_product(db, data, "Product")
        return product_json(row, db.execute(REVISIONS_OF, (row["product_id"],)).fetchall())

    return JSONResponse(await run_in_threadpool(_write, state, save))


@router.put("/api/Product/Revision", summary="Add a revision to a product or update an existing revision.")
async def put_revision(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    data = await json_body(request)

    def save(db: sqlite3.Connection) -> dict[str, Any]:
        return revision_json(*save_revision(db, data, "ProductRevision"))

    return JSONResponse(await run_in_threadpool(_write, state, save))


@router.put("/api/Products", summary="For use with ERP integration. Add or update products (part numbers).")
async def put_products(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    items = json_list(await json_body(request), "The body (a list of products)")

    def save(db: sqlite3.Connection) -> None:
        for index, item in enumerate(items):
            save_product(db, item, f"products[{index}]")

    await run_in_threadpool(_write, state, save)
    return JSONResponse({})


@router.put("/api/Products/Revisions", summary="For use with ERP integration. Add or update revisions of products.")
async def put_revisions(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    items = json_list(await json_body(request), "The body (a list of revisions)")

    def save(db: sqlite3.Connection) -> None:
        for index, item in enumerate(items):
            save_revision(db, item, f"revisions[{index}]")

    await run_in_threadpool(_write, state, save)
    return JSONResponse({})


@router.get("/api/Product/{partNumber}", summary="Get product by partnumber.")
def get_product(partNumber: str, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    rows = state.storage.read("SELECT * FROM products WHERE part_number = ?", (partNumber,))
    if not rows:
        raise ApiError(404, f"Product '{partNumber}' was not found.")
    return JSONResponse(product_json(rows[0], state.storage.read(REVISIONS_OF, (rows[0]["product_id"],))))


@router.get("/api/Product/{partNumber}/{revision}", summary="Get product revision")
def get_revision(partNumber: str, revision: str, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    rows = state.storage.read(
        "SELECT r.*, p.part_number FROM product_revisions AS r JOIN products AS p USING (product_id)"
        " WHERE p.part_number = ? AND r.revision = ?",
        (partNumber, revision),
    )
    if not rows:
        raise ApiError(404, f"Product '{partNumber}' has no revision '{revision}'.")
    return JSONResponse(revision_json(rows[0], rows[0]["part_number"]))
