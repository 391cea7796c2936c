"""Stations: who is sending the reports. A client keeps several named stations, one of them active.

WATS files every report under the station that sent it (``machineName``, ``location``, ``purpose``). A test
program usually knows the unit and the steps but not which PC it runs on, so the client fills those three fields
from the active station.

Exactly when a field is filled (``fill_station``):

- only by ``report.submit()`` (WSJF, from a model, a dict or text), after the report was validated locally;
- only while a station is active (``api.stations.active`` is not None);
- each of ``machineName``, ``location`` and ``purpose`` separately, only when it is empty (``""``, which is also
  what a report that leaves the field out gets); a value already in the report is never overwritten;
- on a copy: the report object you passed in is not changed;
- never for ``report.submit_wsxf()``: WSXF text is sent exactly as given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from .models import ReportBase

MAX_LENGTH = 100  # machineName, location and purpose are 100 characters at most in WSJF

R = TypeVar("R", bound=ReportBase)


@dataclass(frozen=True)
class Station:
    """A test station: ``name`` becomes the report's ``machineName``.

    >>> Station("ICT-01", location="Line 2", purpose="Production")
    Station(name='ICT-01', location='Line 2', purpose='Production')
    """

    name: str
    location: str = ""
    purpose: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ValueError("a station needs a name")
        for field in ("name", "location", "purpose"):
            value = getattr(self, field)
            if not isinstance(value, str):
                raise TypeError(f"station {field} must be a string, not {type(value).__name__}")
            if len(value) > MAX_LENGTH:
                raise ValueError(f"station {field} is {len(value)} characters; WATS allows {MAX_LENGTH}")


def fill_station(report: R, station: Station | None) -> R:
    """A copy of ``report`` with its empty station fields taken from ``station`` (see the module docstring)."""
    if station is None:
        return report
    update = {
        field: value
        for field, value in (
            ("machine_name", station.name),
            ("location", station.location),
            ("purpose", station.purpose),
        )
        if value and not getattr(report, field)
    }
    return report.model_copy(update=update) if update else report


class StationRegistry:
    """The named stations of one client, and which one is active. Thread-safe.

    The first station added becomes active; :meth:`activate` switches.

    >>> stations = StationRegistry()
    >>> _ = stations.add(Station("ICT-01", "Line 1", "Production"))
    >>> _ = stations.add(Station("FCT-02", "Line 1", "Production"))
    >>> stations.activate("FCT-02").name
    'FCT-02'
    """

    def __init__(self, stations: tuple[Station, ...] | list[Station] = ()) -> None:
        self._lock = threading.Lock()
        self._stations: dict[str, Station] = {}
        self._active: str | None = None
        for station in stations:
            self.add(station)

    def add(self, station: Station | str, location: str = "", purpose: str = "", *, activate: bool = False) -> Station:
        """Add a station (or replace the one with the same name) and return it.

        Args:
            station: a :class:`Station`, or just its name with ``location`` and ``purpose`` beside it.
            activate: make it the active station. The first station added becomes active anyway.
        """
        if isinstance(station, str):
            station = Station(station, location, purpose)
        elif not isinstance(station, Station):
            raise TypeError(f"expected a Station or a name, not {type(station).__name__}")
        with self._lock:
            self._stations[station.name] = station
            if activate or self._active is None:
                self._active = station.name
        return station

    def remove(self, name: str) -> Station:
        """Remove a station; when it was the active one, no station is active afterwards."""
        with self._lock:
            station = self._lookup(name)
            del self._stations[name]
            if self._active == name:
                self._active = None
            return station

    def activate(self, name: str) -> Station:
        """Make the station called ``name`` the active one and return it.

        Raises:
            KeyError: no station has that name.
        """
        with self._lock:
            station = self._lookup(name)
            self._active = name
            return station

    def deactivate(self) -> None:
        """Have no active station: reports are then sent with whatever station fields they carry."""
        with self._lock:
            self._active = None

    @property
    def active(self) -> Station | None:
        """The active station, or None."""
        with self._lock:
            return self._stations[self._active] if self._active is not None else None

    def get(self, name: str) -> Station:
        """The station called ``name``. Raises KeyError when there is none."""
        with self._lock:
            return self._lookup(name)

    def _lookup(self, name: str) -> Station:
        try:
            return self._stations[name]
        except KeyError:
            known = ", ".join(sorted(self._stations)) or "none"
            raise KeyError(f"no station named {name!r} (known: {known})") from None

    @property
    def names(self) -> list[str]:
        """The station names, in the order they were added."""
        with self._lock:
            return list(self._stations)

    def __iter__(self) -> Iterator[Station]:
        with self._lock:
            return iter(list(self._stations.values()))

    def __len__(self) -> int:
        return len(self._stations)

    def __contains__(self, name: object) -> bool:
        return name in self._stations

    def __repr__(self) -> str:
        return f"<StationRegistry {self.names} active={self._active!r}>"


__all__ = ["Station", "StationRegistry", "fill_station"]
