"""Station registry and exactly when station fields are filled into a report."""

from __future__ import annotations

import pytest

from pywats import ReportBuilder, Station, StationRegistry
from pywats._station import fill_station


def report(**header: str):
    builder = ReportBuilder.uut(pn="PCBA-100", sn="SN-1", rev="A", process_code=50, **header)
    builder.numeric("Voltage", 5.0, low=4.5, high=5.5, unit="V")
    return builder.build()


def test_first_added_is_active_and_activate_switches() -> None:
    stations = StationRegistry()
    assert stations.active is None
    stations.add(Station("ICT-01", "Line 1", "Production"))
    stations.add("FCT-02", "Line 2", "Debug")
    assert stations.active.name == "ICT-01"
    assert stations.activate("FCT-02") == Station("FCT-02", "Line 2", "Debug")
    assert stations.active.purpose == "Debug"
    assert stations.names == ["ICT-01", "FCT-02"] and len(stations) == 2 and "ICT-01" in stations
    stations.add(Station("EOL-03"), activate=True)
    assert stations.active.name == "EOL-03"


def test_remove_and_unknown_names() -> None:
    stations = StationRegistry([Station("A"), Station("B")])
    stations.remove("A")
    assert stations.active is None and stations.names == ["B"]
    with pytest.raises(KeyError, match="no station named 'C'"):
        stations.activate("C")
    stations.deactivate()
    assert stations.active is None


def test_re_adding_a_name_replaces_it() -> None:
    stations = StationRegistry([Station("A", "old")])
    stations.add(Station("A", "new"))
    assert stations.get("A").location == "new" and len(stations) == 1


@pytest.mark.parametrize(
    "bad", [{"name": ""}, {"name": "  "}, {"name": "x" * 101}, {"name": "A", "purpose": "p" * 101}]
)
def test_station_validation(bad: dict) -> None:
    with pytest.raises(ValueError):
        Station(**bad)


def test_fill_only_empty_fields_on_a_copy() -> None:
    original = report(machine_name="", location="Given", purpose="")
    filled = fill_station(original, Station("ICT-01", "Line 1", "Production"))
    assert (filled.machine_name, filled.location, filled.purpose) == ("ICT-01", "Given", "Production")
    assert original.machine_name == "" and original.purpose == ""  # untouched


def test_fill_without_station_or_with_empty_station_fields() -> None:
    original = report(machine_name="", location="", purpose="")
    assert fill_station(original, None) is original
    filled = fill_station(original, Station("ICT-01"))
    assert (filled.machine_name, filled.location, filled.purpose) == ("ICT-01", "", "")


def test_fill_never_overwrites() -> None:
    original = report(machine_name="Own", location="Own", purpose="Own")
    assert fill_station(original, Station("ICT-01", "L", "P")) is original
