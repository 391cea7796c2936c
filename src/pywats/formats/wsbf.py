"""WSBF, the WATS Standard BOM Format: one product revision's bill of materials as XML.

``PUT /api/Product/BOM`` takes it as its body (``Content-Type: application/xml``). The OpenAPI document gives
the shape by example::

    <BOM Partnumber="100100" Revision="1.0" Desc="Product Description"
         xmlns="http://wats.virinco.com/schemas/WATS/wsbf">
      <Component Number="100200" Rev="1.0" Qty="2" Desc="Component Description" Ref="A30;A31"
                 FunctionBlock="A" />
    </BOM>

A product revision's ``xmlData`` may also hold such a ``<BOM>`` inside its ``<Root>``, which is how a BOM is
read back (see :attr:`pywats.domains.product.ProductRevision.bom`).

Rules:

1. Attribute names are WATS's (``Partnumber``, not ``PartNumber``); Python names are snake_case.
2. Attributes this module does not know are kept: they become extra fields of the model and are written
   back, so reading and writing a BOM loses nothing.
3. :func:`loads` accepts the BOM in the WSBF namespace or in none (the spec's own example carries a stray
   space in the namespace), at the top or inside a ``<Root>``; anything else is a ``ValueError`` that says
   what is wrong.

>>> bom = Bom(part_number="PCBA-100", revision="A", components=[BomComponent(number="R12", qty=2)])
>>> loads(dumps(bom)).components[0].number
'R12'
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NAMESPACE = "http://wats.virinco.com/schemas/WATS/wsbf"


class BomComponent(BaseModel):
    """One line of a BOM: a component part number, how many, and where it sits."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="allow")

    number: str = Field(alias="Number", min_length=1)
    rev: str | None = Field(default=None, alias="Rev")
    qty: float | None = Field(default=None, alias="Qty", ge=0)
    description: str | None = Field(default=None, alias="Desc")
    ref: str | None = Field(default=None, alias="Ref")
    function_block: str | None = Field(default=None, alias="FunctionBlock")


class Bom(BaseModel):
    """The BOM of one product revision."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="allow")

    part_number: str = Field(alias="Partnumber", min_length=1)
    revision: str = Field(alias="Revision", min_length=1)
    description: str | None = Field(default=None, alias="Desc")
    components: list[BomComponent] = Field(default_factory=list)


def _number_text(value: float) -> str:
    """``2.0`` → ``"2"``; a fraction keeps every digit (``0.125``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _attributes(model: BaseModel, skip: frozenset[str] = frozenset()) -> str:
    pairs: list[tuple[str, Any]] = []
    for name, info in type(model).model_fields.items():
        if name in skip:
            continue
        value = getattr(model, name)
        if value is not None:
            pairs.append((info.alias or name, _number_text(value) if isinstance(value, float) else value))
    pairs += [(key, value) for key, value in (model.model_extra or {}).items() if value is not None]
    return "".join(f" {key}={quoteattr(str(value))}" for key, value in pairs)


def dumps(bom: Bom, *, declaration: bool = True) -> str:
    """The BOM as WSBF text; send it encoded as UTF-8, as its declaration says.

    Args:
        declaration: start with ``<?xml ...?>`` (False when embedding the BOM in a ``<Root>``).
    """
    lines = [f"<BOM{_attributes(bom, frozenset({'components'}))} xmlns={quoteattr(NAMESPACE)}>"]
    lines += [f"  <Component{_attributes(component)} />" for component in bom.components]
    lines.append("</BOM>")
    if declaration:
        lines.insert(0, '<?xml version="1.0" encoding="utf-8"?>')
    return "\n".join(lines) + "\n"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def find_bom(root: ElementTree.Element) -> ElementTree.Element | None:
    """The ``<BOM>`` element: ``root`` itself or a direct child of it (a ``<Root>`` of ``xmlData``)."""
    if _local(root.tag) == "BOM":
        return root
    return next((child for child in root if _local(child.tag) == "BOM"), None)


def from_element(element: ElementTree.Element) -> Bom:
    """A :class:`Bom` from a parsed ``<BOM>`` element. Raises ValueError naming the bad attribute."""
    components = []
    for index, child in enumerate(child for child in element if _local(child.tag) == "Component"):
        try:
            components.append(BomComponent.model_validate(dict(child.attrib)))
        except ValidationError as error:
            raise ValueError(f"WSBF Component {index + 1}: {_problem(error)}") from None
    try:
        return Bom.model_validate({**element.attrib, "components": components})
    except ValidationError as error:
        raise ValueError(f"WSBF BOM: {_problem(error)}") from None


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return f"attribute {where} is required"
    return f"attribute {where}: {first['msg']}"


def loads(text: str | bytes) -> Bom:
    """Read WSBF text (or an ``xmlData`` ``<Root>`` holding a ``<BOM>``).

    Raises:
        ValueError: not XML, no ``<BOM>``, or a missing or bad attribute; the message says which.
    """
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise ValueError(f"WSBF is not well-formed XML: {error}") from None
    element = find_bom(root)
    if element is None:
        raise ValueError(f"WSBF must have a <BOM> element, not <{_local(root.tag)}>")
    return from_element(element)


__all__ = ["NAMESPACE", "Bom", "BomComponent", "dumps", "find_bom", "from_element", "loads"]
