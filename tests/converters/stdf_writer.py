"""A small STDF V4 writer for the tests: records from field lists, either byte order.

Each record method takes the fields in specification order; trailing fields left as ``None`` are omitted
from the record, as the specification allows (the reader then uses its defaults). ``write_fixtures()``
regenerates the committed files in ``fixtures/stdf/``::

    python tests/converters/stdf_writer.py
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stdf"


class StdfWriter:
    """Collects records; ``bytes()`` gives the file. ``order`` is ``"<"`` (x86, CPU_TYPE 2) or ``">"`` (Sun, 1)."""

    def __init__(self, order: str = "<") -> None:
        self.order = order
        self.records: list[bytes] = []
        self.far()

    # -- encoding -----------------------------------------------------------------------------------

    def encode(self, code: str, value: Any) -> bytes:
        o = self.order
        if code == "Cn":
            raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
            return bytes([len(raw)]) + raw
        if code == "Bn":
            return bytes([len(value)]) + bytes(value)
        if code == "C1":
            return value.encode("latin-1")[:1]
        if code == "Dn":
            bits, raw = value
            return struct.pack(o + "H", bits) + bytes(raw)
        if code == "N1":  # a list of nibbles, first in the low half
            items = list(value) + ([0] if len(value) % 2 else [])
            return bytes(items[i] | (items[i + 1] << 4) for i in range(0, len(items), 2))
        if code.startswith("x"):  # xU2: an array
            return b"".join(self.encode(code[1:], item) for item in value)
        formats = {"U1": "B", "B1": "B", "I1": "b", "U2": "H", "I2": "h", "U4": "I", "I4": "i", "R4": "f", "R8": "d"}
        return struct.pack(o + formats[code], value)

    def record(self, typ: int, sub: int, layout: tuple[str, ...], values: tuple[Any, ...]) -> StdfWriter:
        values = tuple(values) + (None,) * (len(layout) - len(values))
        last = max((i for i, value in enumerate(values) if value is not None), default=-1)
        body = b"".join(self.encode(code, value) for code, value in zip(layout[: last + 1], values[: last + 1]))
        self.records.append(struct.pack(self.order + "HBB", len(body), typ, sub) + body)
        return self

    def raw(self, typ: int, sub: int, body: bytes) -> StdfWriter:
        self.records.append(struct.pack(self.order + "HBB", len(body), typ, sub) + body)
        return self

    def __bytes__(self) -> bytes:
        return b"".join(self.records)

    # -- records ------------------------------------------------------------------------------------

    def far(self) -> StdfWriter:
        return self.record(0, 10, ("U1", "U1"), (2 if self.order == "<" else 1, 4))

    def mir(self, *, setup_t: int = 0, start_t: int = 0, stat_num: int = 1, mode: str = "P", lot: str = "",
            part_typ: str = "", node: str = "", tester: str = "", job: str = "", job_rev: str = "",
            sublot: str = "", operator: str = "", test_cod: str = "", dsgn_rev: str | None = None) -> StdfWriter:  # fmt: skip
        layout = ("U4", "U4", "U1", "C1", "C1", "C1", "U2", "C1") + ("Cn",) * 30
        strings: list[Any] = [lot, part_typ, node, tester, job, job_rev, sublot, operator, "", "", test_cod]
        if dsgn_rev is not None:
            strings += [""] * 14 + [dsgn_rev]
        return self.record(1, 10, layout, (setup_t, start_t, stat_num, mode, " ", " ", 65535, " ", *strings))

    def sdr(self, head: int, sites: list[int], *, load_id: str = "", hand_id: str = "") -> StdfWriter:
        layout = ("U1", "U1", "U1", "xU1") + ("Cn",) * 16
        return self.record(1, 80, layout, (head, 1, len(sites), sites, "", hand_id, "", "", "", load_id))

    def pmr(self, index: int, logical: str) -> StdfWriter:
        return self.record(1, 60, ("U2", "U2", "Cn", "Cn", "Cn", "U1", "U1"), (index, 0, f"CH{index}", "", logical, 1, 1))

    def wir(self, head: int, start_t: int, wafer: str) -> StdfWriter:
        return self.record(2, 10, ("U1", "U1", "U4", "Cn"), (head, 255, start_t, wafer))

    def wrr(self, head: int, finish_t: int, parts: int, good: int, wafer: str) -> StdfWriter:
        layout = ("U1", "U1", "U4", "U4", "U4", "U4", "U4", "U4", "Cn")
        return self.record(2, 20, layout, (head, 255, finish_t, parts, 0, 0, good, 0, wafer))

    def pir(self, head: int = 1, site: int = 1) -> StdfWriter:
        return self.record(5, 10, ("U1", "U1"), (head, site))

    def prr(self, head: int = 1, site: int = 1, *, flags: int = 0, num_test: int = 0, hard: int = 1,
            soft: int | None = None, x: int | None = None, y: int | None = None, test_t: int | None = None,
            part_id: str | None = None, part_txt: str | None = None) -> StdfWriter:  # fmt: skip
        layout = ("U1", "U1", "B1", "U2", "U2", "U2", "I2", "I2", "U4", "Cn", "Cn")
        values = (head, site, flags, num_test, hard, soft, x, y, test_t, part_id, part_txt)
        filled = _fill_gaps(values, (None, None, None, None, None, 65535, -32768, -32768, 0, "", ""))
        return self.record(5, 20, layout, filled)

    def ptr(self, test_num: int, head: int = 1, site: int = 1, *, test_flg: int = 0, parm_flg: int = 0xC0,
            result: float | None = 0.0, text: str | None = None, alarm: str | None = None, opt: int | None = None,
            res_scal: int | None = None, llm_scal: int | None = None, hlm_scal: int | None = None,
            low: float | None = None, high: float | None = None, units: str | None = None) -> StdfWriter:  # fmt: skip
        layout = ("U4", "U1", "U1", "B1", "B1", "R4", "Cn", "Cn", "B1", "I1", "I1", "I1", "R4", "R4", "Cn")
        values = (test_num, head, site, test_flg, parm_flg, result, text, alarm, opt, res_scal, llm_scal, hlm_scal,
                  low, high, units)  # fmt: skip
        filled = _fill_gaps(values, (None,) * 6 + ("", "", 0x0E, 0, 0, 0, 0.0, 0.0, ""))
        return self.record(15, 10, layout, filled)

    def mpr(self, test_num: int, head: int = 1, site: int = 1, *, test_flg: int = 0, parm_flg: int = 0xC0,
            results: list[float] = (), states: list[int] | None = None, text: str | None = None,
            opt: int | None = None, low: float | None = None, high: float | None = None,
            indexes: list[int] | None = None, units: str | None = None) -> StdfWriter:  # fmt: skip
        pins = len(indexes) if indexes is not None else 0
        states = states if states is not None else [0] * pins
        layout = ("U4", "U1", "U1", "B1", "B1", "U2", "U2", "N1", "xR4", "Cn", "Cn", "B1", "I1", "I1", "I1", "R4",
                  "R4", "R4", "R4", "xU2", "Cn")  # fmt: skip
        tail_given = any(value is not None for value in (opt, low, high, indexes, units))
        values = (test_num, head, site, test_flg, parm_flg, pins, len(results), states, list(results), text or "", "",
                  opt if opt is not None else 0x02, 0, 0, 0, low or 0.0, high or 0.0, 0.0, 0.0, indexes or [],
                  units)  # fmt: skip
        if not tail_given:
            values = values[:9] + ((text,) if text else ())
        return self.record(15, 15, layout, values)

    def ftr(self, test_num: int, head: int = 1, site: int = 1, *, test_flg: int = 0, text: str = "",
            vector: str = "", fails: int | None = None, result_text: str = "") -> StdfWriter:  # fmt: skip
        layout = ("U4", "U1", "U1", "B1", "B1", "U4", "U4", "U4", "U4", "I4", "I4", "I2", "U2", "U2", "xU2", "N1",
                  "xU2", "N1", "Dn", "Cn", "Cn", "Cn", "Cn", "Cn", "Cn", "Cn")  # fmt: skip
        opt = 0xC0 | 0x37 | (0 if fails is not None else 0x08)
        values = (test_num, head, site, test_flg, opt, 0, 0, 0, fails or 0, 0, 0, 0, 0, 0, [], [], [], [], (0, b""),
                  vector, "", "", text, "", "", result_text)  # fmt: skip
        return self.record(15, 20, layout, values)

    def tsr(self, test_num: int, name: str, kind: str = "P") -> StdfWriter:
        layout = ("U1", "U1", "C1", "U4", "U4", "U4", "U4", "Cn", "Cn", "Cn")
        return self.record(10, 30, layout, (255, 255, kind, test_num, 0, 0, 0, name, "", ""))

    def hbr(self, number: int, name: str, passfail: str = "P") -> StdfWriter:
        return self.record(1, 40, ("U1", "U1", "U2", "U4", "C1", "Cn"), (255, 255, number, 1, passfail, name))

    def sbr(self, number: int, name: str, passfail: str = "P") -> StdfWriter:
        return self.record(1, 50, ("U1", "U1", "U2", "U4", "C1", "Cn"), (255, 255, number, 1, passfail, name))

    def bps(self, name: str) -> StdfWriter:
        return self.record(20, 10, ("Cn",), (name,))

    def eps(self) -> StdfWriter:
        return self.record(20, 20, (), ())

    def dtr(self, text: str) -> StdfWriter:
        return self.record(50, 30, ("Cn",), (text,))

    def mrr(self, finish_t: int) -> StdfWriter:
        return self.record(1, 20, ("U4", "C1", "Cn", "Cn"), (finish_t, " ", "", ""))


def _fill_gaps(values: tuple[Any, ...], missing: tuple[Any, ...]) -> tuple[Any, ...]:
    """Fields before the last given one cannot be left out: they get the specification's missing value."""
    last = max((i for i, value in enumerate(values) if value is not None), default=-1)
    return tuple(missing[i] if value is None and i < last else value for i, value in enumerate(values))


START = 1_700_000_000  # 2023-11-14 22:13:20 (local time of the tester, as STDF counts)


def two_site_lot(order: str) -> bytes:
    """A lot of three parts on two sites, interleaved: part A (site 1) passes, part B (site 2) fails on
    VDD, part C (site 1, no PART_ID) passes; sections, an MPR, an FTR, defaults taken from the first PTR."""
    w = StdfWriter(order)
    w.mir(start_t=START, lot="LOT42", part_typ="PCBA-STDF-1", node="TESTER-7", tester="J750", job="PROG_A",
          job_rev="2.1", sublot="S1", operator="alice", test_cod="FT1", dsgn_rev="B")  # fmt: skip
    w.sdr(1, [1, 2], load_id="LB-0099", hand_id="H1")
    w.pmr(1, "DQ0").pmr(2, "DQ1")
    w.ptr(100, 1, 1, test_flg=0x10, parm_flg=0, result=0.0, text="VDD", opt=0x02, low=3.0, high=3.6, units="V")
    w.pir(1, 1).pir(1, 2)
    w.bps("POWER")
    w.ptr(100, 1, 1, result=3.3)  # limits, units and name from the defaults-only PTR above
    w.ptr(100, 1, 2, test_flg=0x80, parm_flg=0xC8, result=3.75)
    w.ptr(101, 1, 1, text="IDD", result=0.0125, opt=0x02 | 0x40, high=0.02, units="A", res_scal=3)
    w.ptr(101, 1, 2, result=0.0118)
    w.eps()
    w.bps("DIGITAL")
    w.mpr(200, 1, 1, results=[0.41, 0.43], text="VOL", opt=0x02, low=0.0, high=0.5, indexes=[1, 2], units="V")
    w.mpr(200, 1, 2, results=[0.40, 0.44])
    w.ftr(300, 1, 1, text="FUNC_MARCH", vector="march_c")
    w.ftr(300, 1, 2, text="FUNC_MARCH", vector="march_c", test_flg=0x80, fails=2, result_text="miscompare")
    w.eps()
    w.ptr(102, 1, 1, text="TEMP", test_flg=0x02, result=0.0)  # executed, no value logged
    w.prr(1, 1, num_test=6, hard=1, soft=1, x=3, y=4, test_t=1250, part_id="PART-A")
    w.prr(1, 2, flags=0x08, num_test=6, hard=5, soft=12, x=4, y=4, test_t=1300, part_id="PART-B")
    w.pir(1, 1)
    w.ptr(100, 1, 1, result=3.29)
    w.ptr(101, 1, 1, result=0.011)
    w.prr(1, 1, num_test=2, hard=1, soft=1, x=5, y=4, test_t=900)
    w.tsr(100, "VDD_TSR").tsr(102, "TEMP")
    w.hbr(1, "GOOD").hbr(5, "FAIL_VDD", "F").sbr(1, "PASS_ALL").sbr(12, "VDD_HIGH", "F")
    w.mrr(START + 60)
    return bytes(w)


def wafer_sort(order: str) -> bytes:
    """A wafer-sort run: WIR/WRR, dies with X/Y but no PART_ID, one failing die, records cut short."""
    w = StdfWriter(order)
    w.mir(start_t=START, lot="W-LOT", part_typ="DIE-9", node="PROBER-1", job="SORT", test_cod="WS1")
    w.wir(1, START + 5, "W07")
    for index, (x, y, value) in enumerate(((10, 11, 1.21), (11, 11, 1.19), (12, 11, 0.71))):
        w.pir(1, 0)
        if index == 0:
            w.ptr(1, 1, 0, result=value, text="VREF", opt=0x02, low=1.1, high=1.3, units="V")
            w.ptr(2, 1, 0, result=5e-9, text="ILEAK", opt=0x02 | 0x40, high=1e-8, units="A")
        else:
            w.ptr(1, 1, 0, test_flg=0x80 if value < 1.1 else 0, result=value)
            w.ptr(2, 1, 0, result=4e-9)
        w.ftr(3, 1, 0, text="SCAN", test_flg=0x80 if value < 1.1 else 0)
        w.prr(1, 0, flags=0x08 if value < 1.1 else 0, num_test=3, hard=1 if value >= 1.1 else 3, x=x, y=y)
    w.wrr(1, START + 50, 3, 2, "W07")
    w.mrr(START + 60)
    return bytes(w)


def write_fixtures() -> list[Path]:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make, order in (
        ("two_site_lot_le.stdf", two_site_lot, "<"), ("two_site_lot_be.stdf", two_site_lot, ">"),
        ("wafer_sort_be.stdf", wafer_sort, ">"),
    ):  # fmt: skip
        path = FIXTURES / name
        path.write_bytes(make(order))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_fixtures():
        print(path, path.stat().st_size, "bytes")
