"""OData query options shared by the MES domains (``api.product.query_products``, ``api.asset.query_assets``...).

Every value goes through :mod:`pywats.domains.odata`: a filter is an expression built with :data:`pywats.F`
(or OData text the caller wrote), names in ``orderby`` are checked, counts are whole numbers. So no caller
input can change the query string beyond the option it was given for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .odata import Expr, Field, filter_text, name_list



def count(name: str, value: int | None) -> int | None:
    """``value`` checked as a whole number >= 0 (None passes: the server's default applies)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    return value


def odata_params(
    filter: Expr | str | None,
    *,
    top: int | None,
    skip: int | None,
    orderby: str | Field | Iterable[str | Field] | None,
) -> dict[str, Any]:
    """``$filter``, ``$top``, ``$skip`` and ``$orderby`` for an OData GET; None options are left out."""
    return {
        "$filter": filter_text(filter),
        "$top": count("top", top),
        "$skip": count("skip", skip),
        "$orderby": name_list(orderby, what="orderby"),
    }


__all__ = ["count", "odata_params"]
