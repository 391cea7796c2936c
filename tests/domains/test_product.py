"""``api.product`` end to end against the emulator over loopback, once with each client.

Every ProductService method runs here; the emulator's answers are checked through the client, so both sides
of each endpoint are covered: products and revisions, BOMs (WSBF), bulk saves, vendors, product groups,
not-found handling in STRICT and LENIENT mode, and 400 messages reaching ``BadRequestError``.
"""

from __future__ import annotations

import pytest
from domain_helpers import MODES, call, run

from pywats import BadRequestError, ErrorMode, F, NotFoundError
from pywats.domains.product import Product, ProductRevision, ProductState, tags_xml
from pywats.formats.wsbf import Bom, BomComponent

pytestmark = pytest.mark.parametrize("mode", MODES)


async def test_products_and_revisions(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        saved = await call(api.product.save_product(
            part_number="PCBA-100", name="Main board", description="ICT-tested", non_serial=False,
            xml_data=tags_xml({"Site": "01"}), product_category_name="PCB",
        ))  # fmt: skip
        assert isinstance(saved, Product) and saved.product_id is not None
        assert saved.state == ProductState.ACTIVE and saved.revisions == []
        assert [(tag.key, tag.value) for tag in saved.tags] == [("Site", "01")]

        # Found by part number without regard to case; a partial update keeps what it does not name.
        updated = await call(api.product.save_product({"partNumber": "pcba-100", "name": "Main board v2"}))
        assert updated.product_id == saved.product_id and updated.description == "ICT-tested"
        fetched = await call(api.product.get_product("PCBA-100"))
        assert fetched.name == "Main board v2" and fetched.product_category_name == "PCB"

        # An edited model saved again, renamed through its product_id.
        renamed = await call(api.product.save_product(fetched, part_number="PCBA-101"))
        assert renamed.part_number == "PCBA-101" and renamed.product_id == saved.product_id

        revision = await call(api.product.save_revision(part_number="PCBA-101", revision="A", name="First"))
        assert isinstance(revision, ProductRevision) and revision.part_number == "PCBA-101"
        again = await call(api.product.save_revision(
            ProductRevision(product_id=saved.product_id, revision="A", description="released")
        ))  # fmt: skip
        assert again.product_revision_id == revision.product_revision_id and again.name == "First"
        fetched_revision = await call(api.product.get_revision("PCBA-101", "a"))
        assert fetched_revision.description == "released" and fetched_revision.state == 1

        # Revisions given with a product are saved with it.
        await call(api.product.save_product(part_number="CABLE-7", non_serial=True,
                                            revisions=[{"revision": "1"}, ProductRevision(revision="2")]))  # fmt: skip
        cable = await call(api.product.get_product("CABLE-7"))
        assert cable.non_serial is True and [r.revision for r in cable.revisions] == ["1", "2"]

        listed = await call(api.product.query_products(orderby="partNumber desc"))
        assert [p.part_number for p in listed] == ["PCBA-101", "CABLE-7"]
        assert listed[0].category == "PCB" and listed[1].non_serial is True
        found = await call(api.product.query_products(F.part_number.startswith("PCBA") & (F.state == 1), top=5))
        assert [p.part_number for p in found] == ["PCBA-101"]
        assert [p.part_number for p in await call(api.product.query_products(top=1, skip=1))] == ["PCBA-101"]
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_bom_round_trip(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        await call(api.product.save_product(part_number="PCBA-200", xml_data=tags_xml({"Site": "02"}),
                                            revisions=[{"revision": "A", "xmlData": tags_xml({"Line": "3"})}]))  # fmt: skip
        assert await call(api.product.get_bom("PCBA-200", "A")) is None
        bom = Bom(part_number="PCBA-200", revision="A", description="Main board", components=[
            BomComponent(number="R-10K", rev="1", qty=4, description="Resistor", ref="R1;R2;R3;R4",
                         function_block="PSU"),
            BomComponent(number="GLUE", qty=0.5),
        ])  # fmt: skip
        assert await call(api.product.save_bom(bom)) is None
        read = await call(api.product.get_bom("PCBA-200", "A"))
        assert read == bom
        revision = await call(api.product.get_revision("PCBA-200", "A"))
        assert [(t.key, t.value) for t in revision.tags] == [("Line", "3")]  # the other tags stay

        # WSBF text as the spec writes it (declared UTF-16): it replaces the BOM.
        text = ('<?xml version="1.0" encoding="utf-16"?>\n'
                '<BOM Partnumber="PCBA-200" Revision="A" Desc="Product Description" '
                'xmlns="http://wats.virinco.com/schemas/WATS/wsbf ">'
                '<Component Number="100200" Rev="1.0" Qty="2" Desc="Ω ohm" Ref="A30;A31" FunctionBlock="A" />'
                '</BOM>')  # fmt: skip
        await call(api.product.save_bom(text))
        replaced = await call(api.product.get_bom("PCBA-200", "A"))
        assert [(c.number, c.qty, c.description) for c in replaced.components] == [("100200", 2, "Ω ohm")]
        assert replaced.description == "Product Description"

        with pytest.raises(BadRequestError, match="has no revision 'B'"):
            await call(api.product.save_bom(Bom(part_number="PCBA-200", revision="B")))
        with pytest.raises(ValueError, match="Partnumber is required"):
            await call(api.product.save_bom('<BOM Revision="A" />'))
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_bulk_saves_are_all_or_nothing(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        assert await call(api.product.save_products([
            {"partNumber": "ERP-1", "name": "one"}, Product(part_number="ERP-2", name="two"),
        ])) is None  # fmt: skip
        await call(api.product.save_revisions([
            {"PartNumber": "ERP-1", "revision": "A"}, ProductRevision(part_number="ERP-2", revision="B"),
        ]))  # fmt: skip
        assert [r.revision for r in (await call(api.product.get_product("ERP-2"))).revisions] == ["B"]

        with pytest.raises(BadRequestError, match=r"products\[1\]\.state must be from 0 to 1"):
            await call(api.product.save_products([{"partNumber": "ERP-3"}, {"partNumber": "ERP-4", "state": 5}]))
        with pytest.raises(BadRequestError, match=r"revisions\[1\]: there is no product with part number 'NOPE'"):
            await call(api.product.save_revisions([{"PartNumber": "ERP-1", "revision": "Z"},
                                                   {"PartNumber": "NOPE", "revision": "A"}]))  # fmt: skip
        names = [p.part_number for p in await call(api.product.query_products())]
        assert names == ["ERP-1", "ERP-2"]  # nothing of the refused requests was stored
        assert [r.revision for r in (await call(api.product.get_product("ERP-1"))).revisions] == ["A"]
        with pytest.raises(ValueError, match=r"products\[0\]\.part_number is required"):
            await call(api.product.save_products([{"name": "no part number"}]))
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_vendors(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        assert await call(api.product.get_vendors()) == []
        await call(api.product.save_vendors(["Acme", "Bolt & Nut"]))
        await call(api.product.save_vendors(["ACME", "Capacitors Inc"]))  # Acme exists already
        assert [v.vendor_name for v in await call(api.product.get_vendors())] == ["Acme", "Bolt & Nut",
                                                                                  "Capacitors Inc"]  # fmt: skip
        await call(api.product.delete_vendors(["acme", "Never Added"]))
        assert [v.vendor_name for v in await call(api.product.get_vendors())] == ["Bolt & Nut", "Capacitors Inc"]
        with pytest.raises(ValueError, match="vendor name"):
            await call(api.product.save_vendors([""]))
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_product_groups(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        assert await call(api.product.get_product_groups("PCBA-100")) == []
        await call(api.product.add_product_group_filter("PCBA", "PCBA-%"))
        await call(api.product.add_product_group_filter("PCBA", "PCBA-%"))  # again: no change
        await call(api.product.add_product_group_filter("PCBA", "PCBA-999", exclude=True))
        await call(api.product.add_product_group_filter("Box build", "BOX-1", "B"))
        groups = await call(api.product.get_product_groups("pcba-100", "A"))
        assert [g.product_group_name for g in groups] == ["PCBA"] and groups[0].product_group_id is not None
        assert await call(api.product.get_product_groups("PCBA-999")) == []
        assert [g.product_group_name for g in await call(api.product.get_product_groups("BOX-1"))] == ["Box build"]
        assert await call(api.product.get_product_groups("BOX-1", "C")) == []
        with pytest.raises(NotFoundError, match="Product group 'Cables' was not found"):
            await call(api.product.add_product_group_filter("Cables", "CBL-1"))
        return True

    assert await run(mode, fresh_emulator, scenario)


async def test_not_found_strict_and_lenient(mode: str, fresh_emulator) -> None:
    async def strict(api):
        await call(api.product.save_product(part_number="KNOWN", revisions=[{"revision": "A"}]))
        for read in (lambda: api.product.get_product("UNKNOWN"), lambda: api.product.get_revision("KNOWN", "Z"),
                     lambda: api.product.get_bom("UNKNOWN", "A")):  # fmt: skip
            with pytest.raises(NotFoundError) as caught:
                await call(read())
            assert caught.value.status_code == 404
        return True

    async def lenient(api):
        assert await call(api.product.get_product("UNKNOWN")) is None
        assert await call(api.product.get_revision("KNOWN", "Z")) is None
        assert await call(api.product.get_bom("KNOWN", "Z")) is None
        # A write naming an unknown id is an error in every mode.
        with pytest.raises(NotFoundError, match="leave productId empty"):
            await call(api.product.save_product(part_number="X", product_id="6f1c2b8e-0000-4000-8000-000000000000"))
        return True

    assert await run(mode, fresh_emulator, strict)
    assert await run(mode, fresh_emulator, lenient, error_mode=ErrorMode.LENIENT)


async def test_bad_requests_carry_the_servers_reason(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        with pytest.raises(BadRequestError, match="Product.state must be from 0 to 1, not 3") as caught:
            await call(api.product.save_product(part_number="P-1", state=3))
        assert caught.value.status_code == 400
        with pytest.raises(BadRequestError, match="xmlData must have the root element <Root>"):
            await call(api.product.save_product(part_number="P-1", xml_data="<Tags/>"))
        with pytest.raises(BadRequestError, match="there is no product with part number 'P-404'"):
            await call(api.product.save_revision(part_number="P-404", revision="A"))
        await call(api.product.save_product(part_number="P-1"))
        await call(api.product.save_product(part_number="P-2"))
        p2 = await call(api.product.get_product("P-2"))
        with pytest.raises(BadRequestError, match="already the part number of another product"):
            await call(api.product.save_product(product_id=p2.product_id, part_number="p-1"))
        # Checked before sending: names that are endpoints, missing fields.
        with pytest.raises(ValueError, match="endpoint name"):
            await call(api.product.get_product("Vendors"))
        with pytest.raises(ValueError, match="part_number or product_id"):
            await call(api.product.save_revision(revision="A"))
        return True

    assert await run(mode, fresh_emulator, scenario)
