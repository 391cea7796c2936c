"""Bad input of any kind gets ReportFormatError, never another exception and never a silent drop."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pywats import ReportFormatError
from pywats.formats import wsjf
from pywats.synthetic import synthetic_report

SOURCE = wsjf.dumps(synthetic_report(12))


def loads_or_format_error(text) -> None:
    try:
        wsjf.loads(text)
    except ReportFormatError as error:
        assert str(error)  # always says something
        assert error.line or error.path or error.problems


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, len(SOURCE) - 1))
@example(cut=0)
@example(cut=1)
def test_truncated_json(cut: int) -> None:
    loads_or_format_error(SOURCE[:cut])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(0, len(SOURCE) - 1), replacement=st.text(max_size=3))
def test_mutated_json(position: int, replacement: str) -> None:
    loads_or_format_error(SOURCE[:position] + replacement + SOURCE[position + 1 :])


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    loads_or_format_error(data)


@settings(max_examples=100, deadline=None)
@given(data=st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=5),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)))
def test_random_json_values(data) -> None:
    import json

    loads_or_format_error(json.dumps(data))
