"""STDF V4 (Standard Test Data Format, Teradyne's public specification): one report per tested part.

An STDF file is a sequence of binary records, each with a 4-byte header (``REC_LEN`` U2, ``REC_TYP`` U1,
``REC_SUB`` U1) and ``REC_LEN`` bytes of fields. The first record is the FAR, whose ``CPU_TYPE`` gives the
byte order of everything else (1: big-endian, Sun; 2: little-endian, x86). Optional fields at the end of a
record may be left out: they then take the specification's "missing" value, and for PTR/MPR limits, units
and scaling the defaults the first record of that test number set ("the first PTR sets the defaults").

What is read (everything else is skipped, unknown record types too):

- FAR (byte order, version 4 only), MIR (lot, part type, node, operator, job name and revision, test code,
  start time, ...), SDR (load board / probe card as fixture), PMR (pin names for MPR results), WIR (wafer),
  BPS/EPS (program sections become sequences), HBR/SBR (bin names), TSR (test names when a PTR has none).
- PIR ... PRR bracket one part on one head/site; PTR (one numeric result), MPR (several results) and FTR
  (functional pass/fail) between them are given to the part open on their head/site, so interleaved
  multi-site data is attributed correctly.

The reader is a single pass over a ``bytes`` object with precompiled :class:`struct.Struct` objects and
``unpack_from`` at offsets (no copies of record bodies, no per-byte loops); reports are built after it.
Times are seconds since 1970 in the tester's local time (the specification's rule; ``timestamps="utc"`` for
writers that store UTC).
"""

from __future__ import annotations

import math
import struct
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

# Record types as (REC_TYP << 8) | REC_SUB.
FAR, ATR, MIR, MRR, PCR, HBR, SBR, PMR = 0x000A, 0x0014, 0x010A, 0x0114, 0x011E, 0x0128, 0x0132, 0x013C
SDR, WIR, WRR, PIR, PRR, TSR, PTR, MPR, FTR = 0x0150, 0x020A, 0x0214, 0x050A, 0x0514, 0x0A1E, 0x0F0A, 0x0F0F, 0x0F14
BPS, EPS, DTR = 0x140A, 0x1414, 0x321E
RECORD_NAMES = {
    FAR: "FAR", ATR: "ATR", MIR: "MIR", MRR: "MRR", PCR: "PCR", HBR: "HBR", SBR: "SBR", PMR: "PMR", SDR: "SDR",
    WIR: "WIR", WRR: "WRR", PIR: "PIR", PRR: "PRR", TSR: "TSR", PTR: "PTR", MPR: "MPR", FTR: "FTR", BPS: "BPS",
    EPS: "EPS", DTR: "DTR", 0x011E: "PCR", 0x013E: "PGR", 0x013F: "PLR", 0x0146: "RDR", 0x021E: "WCR",
    0x320A: "GDR",
}  # fmt: skip

# Field layouts of the records read with the general reader: one code per field, in order.
# ("N1", i) / ("U2", i) / ("U1", i): an array whose length is field i of the same record.
_MIR = ("U4", "U4", "U1", "C1", "C1", "C1", "U2", "C1") + ("Cn",) * 30
_MIR_NAMES = (
    "SETUP_T", "START_T", "STAT_NUM", "MODE_COD", "RTST_COD", "PROT_COD", "BURN_TIM", "CMOD_COD", "LOT_ID",
    "PART_TYP", "NODE_NAM", "TSTR_TYP", "JOB_NAM", "JOB_REV", "SBLOT_ID", "OPER_NAM", "EXEC_TYP", "EXEC_VER",
    "TEST_COD", "TST_TEMP", "USER_TXT", "AUX_FILE", "PKG_TYP", "FAMLY_ID", "DATE_COD", "FACIL_ID", "FLOOR_ID",
    "PROC_ID", "OPER_FRQ", "SPEC_NAM", "SPEC_VER", "FLOW_ID", "SETUP_ID", "DSGN_REV", "ENG_ID", "ROM_COD",
    "SERL_NUM", "SUPR_NAM",
)  # fmt: skip
_PRR = ("U1", "U1", "U1", "U2", "U2", "U2", "I2", "I2", "U4", "Cn", "Cn", "Bn")
_PIR = ("U1", "U1")
_BIN = ("U1", "U1", "U2", "U4", "C1", "Cn")
_PMR = ("U2", "U2", "Cn", "Cn", "Cn", "U1", "U1")
_SDR = ("U1", "U1", "U1", ("U1", 2)) + ("Cn",) * 16
_WIR = ("U1", "U1", "U4", "Cn")
_TSR = ("U1", "U1", "C1", "U4", "U4", "U4", "U4", "Cn", "Cn", "Cn")
_FTR = (
    "U4", "U1", "U1", "B1", "B1", "U4", "U4", "U4", "U4", "I4", "I4", "I2", "U2", "U2", ("U2", 12), ("N1", 12),
    ("U2", 13), ("N1", 13), "Dn", "Cn", "Cn", "Cn", "Cn", "Cn", "Cn", "Cn",
)  # fmt: skip
_PTR_TAIL = ("B1", "I1", "I1", "I1", "R4", "R4")
_BPS = ("Cn",)

# MIR fields that become misc infos (description, field).
_MIR_MISC = (
    ("Lot", "LOT_ID"), ("Sublot", "SBLOT_ID"), ("Test code", "TEST_COD"), ("Tester type", "TSTR_TYP"),
    ("Tester serial", "SERL_NUM"), ("Program", "JOB_NAM"), ("Program revision", "JOB_REV"),
    ("Executive", "EXEC_TYP"), ("Executive version", "EXEC_VER"), ("Temperature", "TST_TEMP"),
    ("Package", "PKG_TYP"), ("Family", "FAMLY_ID"), ("Date code", "DATE_COD"), ("Facility", "FACIL_ID"),
    ("Floor", "FLOOR_ID"), ("Process", "PROC_ID"), ("Frequency", "OPER_FRQ"), ("Specification", "SPEC_NAM"),
    ("Specification version", "SPEC_VER"), ("Flow", "FLOW_ID"), ("Setup", "SETUP_ID"), ("Engineering lot", "ENG_ID"),
    ("ROM code", "ROM_COD"), ("Supervisor", "SUPR_NAM"), ("User text", "USER_TXT"), ("Aux file", "AUX_FILE"),
    ("Mode", "MODE_COD"), ("Retest code", "RTST_COD"),
)  # fmt: skip

_UNIT_PREFIX = {15: "f", 12: "p", 9: "n", 6: "u", 3: "m", 2: "%", 0: "", -3: "k", -6: "M", -9: "G", -12: "T"}
_F32 = struct.Struct("<f")
_MAX_UNZIPPED = 2 * 1024 * 1024 * 1024


class _Short(Exception):
    """A field runs past the end of its record."""


class _Codec:
    """The structs of one byte order and the readers built on them."""

    def __init__(self, order: str) -> None:
        self.order = order
        self.ptr_head = struct.Struct(order + "IBBBBf")  # TEST_NUM HEAD SITE TEST_FLG PARM_FLG RESULT
        self.ptr_tail = struct.Struct(order + "Bbbbff")  # OPT_FLAG RES/LLM/HLM_SCAL LO_LIMIT HI_LIMIT
        self.mpr_head = struct.Struct(order + "IBBBBHH")  # ... RTN_ICNT RSLT_CNT
        self.fixed = {
            "U1": struct.Struct("B"), "B1": struct.Struct("B"), "I1": struct.Struct("b"),
            "U2": struct.Struct(order + "H"), "I2": struct.Struct(order + "h"), "U4": struct.Struct(order + "I"),
            "I4": struct.Struct(order + "i"), "R4": struct.Struct(order + "f"), "R8": struct.Struct(order + "d"),
        }  # fmt: skip
        self.u2 = self.fixed["U2"]
        self._floats: dict[int, struct.Struct] = {}
        self._shorts: dict[int, struct.Struct] = {}

    def floats(self, count: int) -> struct.Struct:
        found = self._floats.get(count)
        if found is None:
            found = self._floats[count] = struct.Struct(f"{self.order}{count}f")
        return found

    def shorts(self, count: int) -> struct.Struct:
        found = self._shorts.get(count)
        if found is None:
            found = self._shorts[count] = struct.Struct(f"{self.order}{count}H")
        return found

    def read(self, data: bytes, pos: int, end: int, layout: tuple[Any, ...]) -> tuple[list[Any], int]:
        """The fields of ``layout`` from ``data[pos:end]``; fields missing at the end are ``None``."""
        values: list[Any] = []
        fixed = self.fixed
        for code in layout:
            if pos >= end:
                values.append(None)
                continue
            if code == "Cn" or code == "Bn":
                stop = pos + 1 + data[pos]
                if stop > end:
                    raise _Short
                raw = data[pos + 1 : stop]
                values.append(_text(raw) if code == "Cn" else raw)
                pos = stop
            elif code == "C1":
                values.append(chr(data[pos]))
                pos += 1
            elif code == "Dn":
                if pos + 2 > end:
                    raise _Short
                stop = pos + 2 + (self.u2.unpack_from(data, pos)[0] + 7) // 8
                if stop > end:
                    raise _Short
                values.append(data[pos + 2 : stop])
                pos = stop
            elif isinstance(code, tuple):
                kind, index = code
                count = values[index] or 0
                size = (count + 1) // 2 if kind == "N1" else count * (2 if kind == "U2" else 1)
                if pos + size > end:
                    raise _Short
                if kind == "U2":
                    values.append(self.shorts(count).unpack_from(data, pos))
                else:
                    values.append(data[pos : pos + size])
                pos += size
            else:
                unpacker = fixed[code]
                if pos + unpacker.size > end:
                    raise _Short
                values.append(unpacker.unpack_from(data, pos)[0])
                pos += unpacker.size
        return values, pos


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").strip("\x00 \t\r\n")


def _clean(value: float) -> float:
    """A float32 as the shortest decimal that is the same float32 (1.2, not 1.2000000476837158)."""
    if value != value or value in (math.inf, -math.inf):
        return value
    exact = _F32.pack(value)
    for fmt in ("%.7g", "%.8g"):
        shorter = float(fmt % value)
        try:
            if _F32.pack(shorter) == exact:
                return shorter
        except OverflowError:
            break
    return value


def _scale(value: float, factor: float | None) -> float:
    if factor is None or value != value or value in (math.inf, -math.inf):
        return value
    return float(f"{value * factor:.9g}")


class _Part:
    __slots__ = ("head", "site", "ordinal", "wafer", "start", "tests", "prr", "line")

    def __init__(self, head: int, site: int, ordinal: int, wafer: str, start: int | None, offset: int) -> None:
        self.head = head
        self.site = site
        self.ordinal = ordinal
        self.wafer = wafer
        self.start = start
        self.tests: list[tuple[Any, ...]] = []
        self.prr: list[Any] | None = None
        self.line = offset


class StdfFile:
    """What one pass over an STDF file collected: header records, parts with their test results, names.

    Each test result is a tuple: ``("P", section, test_num, test_flg, parm_flg, result, text, low, high,
    units, res_scal, llm_scal, hlm_scal, alarm)`` for a PTR, ``("M", section, test_num, test_flg, parm_flg,
    results, text, low, high, units, res_scal, llm_scal, hlm_scal, alarm, pin_indexes)`` for an MPR and
    ``("F", section, test_num, test_flg, text, vector, fails, result_text, alarm)`` for an FTR.
    """

    def __init__(self, data: bytes) -> None:
        if len(data) < 6:
            raise ConversionError("not an STDF file: shorter than a FAR record")
        if data[2] != 0 or data[3] != 10:
            raise ConversionError("not an STDF file: it does not start with a FAR record (0, 10)")
        cpu, version = data[4], data[5]
        if version != 4:
            raise ConversionError(f"STDF version {version} is not supported (only V4)", field="STDF_VER")
        order = {1: ">", 2: "<"}.get(cpu)
        if order is None:
            raise ConversionError(f"CPU_TYPE {cpu} is not supported (1 = big-endian, 2 = little-endian IEEE)",
                                  field="CPU_TYPE")  # fmt: skip
        if struct.unpack_from(order + "H", data, 0)[0] != 2:
            other = "<" if order == ">" else ">"
            if struct.unpack_from(other + "H", data, 0)[0] != 2:
                raise ConversionError("not an STDF file: the FAR record length is not 2", field="REC_LEN")
            order = other  # the record header decides; some writers set CPU_TYPE wrong
        self.codec = _Codec(order)
        self._ptr_head = self.codec.ptr_head.unpack_from
        self._ptr_tail = self.codec.ptr_tail.unpack_from
        self.byte_order = "big" if order == ">" else "little"
        self.mir: dict[str, Any] = {}
        self.parts: list[_Part] = []
        self.open: dict[tuple[int, int], _Part] = {}
        self.ptr_defaults: dict[int, tuple[Any, ...]] = {}
        self.mpr_defaults: dict[int, tuple[Any, ...]] = {}
        self.test_names: dict[int, str] = {}
        self.hard_bins: dict[int, str] = {}
        self.soft_bins: dict[int, str] = {}
        self.pins: dict[int, str] = {}
        self.fixtures: dict[int, str] = {}
        self.handlers: dict[int, str] = {}
        self.wafers: dict[int, tuple[str, int | None]] = {}
        self.section: tuple[str, ...] = ()
        self.skipped: dict[str, int] = {}
        self.templates: dict[tuple[Any, ...], tuple[dict[str, Any], float | None]] = {}  # for the report builder
        self.names: dict[tuple[int, str], str] = {}
        self._texts: dict[bytes, str] = {}
        self._units: dict[bytes, str] = {}
        self.finished = False
        self._parse(data)

    # -- the pass over the records ------------------------------------------------------------------

    def _parse(self, data: bytes) -> None:
        handlers = {
            PTR: self._ptr, MPR: self._mpr, FTR: self._ftr, PIR: self._pir, PRR: self._prr, MIR: self._mir,
            SDR: self._sdr, PMR: self._pmr, WIR: self._wir, WRR: self._wrr, HBR: self._hbr, SBR: self._sbr,
            TSR: self._tsr, BPS: self._bps, EPS: self._eps, MRR: self._mrr,
        }  # fmt: skip
        # REC_TYP and REC_SUB read as one U2 in the file's order: the key is (typ << 8) | sub big-endian,
        # (sub << 8) | typ little-endian; the handler table is keyed to match, so no shifting per record.
        little = self.codec.order == "<"
        handlers = {((key & 0xFF) << 8 | key >> 8) if little else key: handler for key, handler in handlers.items()}
        unpack_header = struct.Struct(self.codec.order + "HH").unpack_from
        ptr_key = ((PTR & 0xFF) << 8 | PTR >> 8) if little else PTR
        ptr = self._ptr
        ptr_head = self._ptr_head
        ptr_defaults = self.ptr_defaults
        open_parts = self.open
        size = len(data)
        pos = 0
        raw_kind = 0
        try:
            while pos + 4 <= size:
                length, raw_kind = unpack_header(data, pos)
                start = pos + 4
                end = start + length
                if end > size:
                    kind = ((raw_kind & 0xFF) << 8 | raw_kind >> 8) if little else raw_kind
                    raise ConversionError(
                        f"the {RECORD_NAMES.get(kind, f'({kind >> 8}, {kind & 0xFF})')} record at byte {pos} needs "
                        f"{length} bytes, the file has {size - start}: the file is cut short", field="REC_LEN",
                    )  # fmt: skip
                if raw_kind == ptr_key:
                    if length == 12:  # the commonest record of a big file: a result, all else defaulted
                        test_num, head, site, test_flg, parm_flg, result = ptr_head(data, start)
                        defaults = ptr_defaults.get(test_num)
                        part = open_parts.get((head, site))
                        if defaults is not None and part is not None:
                            part.tests.append(("P", self.section, test_num, test_flg, parm_flg, result, *defaults, ""))
                            pos = end
                            continue
                    ptr(data, start, end, pos)
                else:
                    handler = handlers.get(raw_kind)
                    if handler is not None:
                        handler(data, start, end, pos)
                    else:
                        kind = ((raw_kind & 0xFF) << 8 | raw_kind >> 8) if little else raw_kind
                        if kind != FAR:
                            name = RECORD_NAMES.get(kind, f"({kind >> 8}, {kind & 0xFF})")
                            self.skipped[name] = self.skipped.get(name, 0) + 1
                pos = end
        except (_Short, struct.error, IndexError, OverflowError):
            kind = ((raw_kind & 0xFF) << 8 | raw_kind >> 8) if little else raw_kind
            name = RECORD_NAMES.get(kind, f"type {kind >> 8}, sub {kind & 0xFF}")
            raise ConversionError(f"the {name} record at byte {pos} is malformed: a field runs past its end",
                                  field=name) from None  # fmt: skip
        if pos != size:
            raise ConversionError(f"the file is cut short: its last {size - pos} bytes are less than a record header")
        if self.open:
            part = next(iter(self.open.values()))
            raise ConversionError(
                f"the part on head {part.head}, site {part.site} (PIR at byte {part.line}) has no PRR: "
                "the file is cut short", field="PRR",
            )  # fmt: skip

    def _part(self, head: int, site: int) -> _Part | None:
        part = self.open.get((head, site))
        if part is None:
            self.skipped["test outside PIR/PRR"] = self.skipped.get("test outside PIR/PRR", 0) + 1
        return part

    def _ptr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        # Most records of a big file: kept flat on purpose (no helper calls, few lookups).
        # (A PTR holding only a result, for a test whose defaults are known, is taken in the record loop.)
        if end - pos >= 12:
            test_num, head, site, test_flg, parm_flg, result = self._ptr_head(data, pos)
            pos += 12
        else:
            values, _ = self.codec.read(data, pos, end, ("U4", "U1", "U1", "B1", "B1", "R4"))
            if values[2] is None:
                raise _Short
            test_num, head, site, test_flg, parm_flg, result = (0 if value is None else value for value in values)
            if values[5] is None:  # no RESULT: the value is not valid
                test_flg |= 0x02
            pos = end
        text = alarm = ""
        opt = low = high = units = res_scal = llm_scal = hlm_scal = None
        if pos < end:  # TEST_TXT, ALARM_ID
            stop = pos + 1 + data[pos]
            if stop > end:
                raise _Short
            raw = data[pos + 1 : stop]
            text = self._texts.get(raw)  # test names repeat part after part: decode each once
            if text is None:
                text = self._texts[raw] = raw.decode("latin-1").strip("\x00 \t\r\n")
            pos = stop
            if pos < end:
                stop = pos + 1 + data[pos]
                if stop > end:
                    raise _Short
                if stop > pos + 1:
                    alarm = data[pos + 1 : stop].decode("latin-1").strip("\x00 \t\r\n")
                pos = stop
        if pos + 12 <= end:
            opt, res_scal, llm_scal, hlm_scal, low, high = self._ptr_tail(data, pos)
            pos += 12
        elif pos < end:
            (opt, res_scal, llm_scal, hlm_scal, low, high), pos = self.codec.read(data, pos, end, _PTR_TAIL)
        if pos < end:
            stop = pos + 1 + data[pos]
            if stop > end:
                raise _Short
            raw = data[pos + 1 : stop]
            units = self._units.get(raw)
            if units is None:
                units = self._units[raw] = raw.decode("latin-1").strip(" \t")
        defaults = self.ptr_defaults.get(test_num)
        if defaults is None:  # the first PTR of a test number sets the defaults
            defaults = self.ptr_defaults[test_num] = (
                text, *_first_limits(opt, low, high, res_scal, llm_scal, hlm_scal, (units or "").strip("\x00")),
            )
            text, low, high, units, res_scal, llm_scal, hlm_scal = defaults
            if test_flg & 0x10 and parm_flg == 0:
                return  # a defaults-only PTR (not a test execution), wherever it stands
        else:
            d_text, d_low, d_high, d_units, d_res, d_llm, d_hlm = defaults
            text = text or d_text
            units = d_units if not units else units.strip("\x00")
            low, high, res_scal, llm_scal, hlm_scal = _with_defaults(
                opt, (low, high, res_scal, llm_scal, hlm_scal), (d_low, d_high, d_res, d_llm, d_hlm))
        part = self.open.get((head, site))
        if part is None:
            if not (test_flg & 0x10 and parm_flg == 0):  # not a defaults-only PTR
                self._part(head, site)
            return
        part.tests.append(("P", self.section, test_num, test_flg, parm_flg, result, text, low, high, units,
                           res_scal, llm_scal or 0, hlm_scal or 0, alarm))  # fmt: skip

    def _mpr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        codec = self.codec
        if end - pos >= 12:
            test_num, head, site, test_flg, parm_flg, pins, count = codec.mpr_head.unpack_from(data, pos)
            pos += 12
        else:
            values, pos = codec.read(data, pos, end, ("U4", "U1", "U1", "B1", "B1", "U2", "U2"))
            if values[2] is None:
                raise _Short
            test_num, head, site, test_flg, parm_flg, pins, count = (value or 0 for value in values)
        pos += (pins + 1) // 2  # RTN_STAT: the returned pin states are not mapped
        if pos + 4 * count > end:
            raise _Short
        results = codec.floats(count).unpack_from(data, pos) if count else ()
        pos += 4 * count
        (text, alarm, opt, res_scal, llm_scal, hlm_scal, low, high, _start, _incr, indexes, units), _ = (
            self._mpr_tail(data, pos, end, pins)
        )
        defaults = self.mpr_defaults.get(test_num)
        if defaults is None:
            defaults = self.mpr_defaults[test_num] = (
                text or "", *_first_limits(opt, low, high, res_scal, llm_scal, hlm_scal, units or ""), indexes or (),
            )
            text, low, high, units, res_scal, llm_scal, hlm_scal, indexes = defaults
            if test_flg & 0x10 and parm_flg == 0:
                return  # a defaults-only MPR
        else:
            d_text, d_low, d_high, d_units, d_res, d_llm, d_hlm, d_indexes = defaults
            text = text or d_text
            units = units or d_units
            indexes = indexes or d_indexes
            low, high, res_scal, llm_scal, hlm_scal = _with_defaults(
                opt, (low, high, res_scal, llm_scal, hlm_scal), (d_low, d_high, d_res, d_llm, d_hlm))
        part = self.open.get((head, site))
        if part is None:
            if not (test_flg & 0x10 and parm_flg == 0):
                self._part(head, site)
            return
        part.tests.append(("M", self.section, test_num, test_flg, parm_flg, results, text, low, high, units,
                           res_scal, llm_scal or 0, hlm_scal or 0, alarm or "", indexes))  # fmt: skip

    def _mpr_tail(self, data: bytes, pos: int, end: int, pins: int) -> tuple[list[Any], int]:
        values, pos = self.codec.read(data, pos, end, ("Cn", "Cn", "B1", "I1", "I1", "I1", "R4", "R4", "R4", "R4"))
        indexes: tuple[int, ...] | None = None
        units = None
        if pos < end and pins:
            if pos + 2 * pins > end:
                raise _Short
            indexes = self.codec.shorts(pins).unpack_from(data, pos)
            pos += 2 * pins
        if pos < end:
            (units,), pos = self.codec.read(data, pos, end, ("Cn",))
        return [*values[:8], values[8], values[9], indexes, units], pos

    def _ftr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        values, _ = self.codec.read(data, pos, end, _FTR)
        if values[2] is None:
            raise _Short
        test_num, head, site = values[0], values[1], values[2]
        test_flg = values[3] or 0
        opt = values[4]
        fails = values[8] if opt is not None and not opt & 0x08 else None
        text = values[22] or self.test_names.get(test_num, "")
        part = self._part(head, site)
        if part is not None:
            part.tests.append(("F", self.section, test_num, test_flg, text, values[19] or "", fails,
                               values[25] or "", values[23] or ""))  # fmt: skip

    def _pir(self, data: bytes, pos: int, end: int, offset: int) -> None:
        (head, site), _ = self.codec.read(data, pos, end, _PIR)
        key = (head if head is not None else 1, site if site is not None else 1)
        previous = self.open.pop(key, None)
        if previous is not None:  # a PIR without the PRR of the part before it: that part was abandoned
            previous.prr = None
        wafer, started = self.wafers.get(key[0], ("", None))
        part = _Part(key[0], key[1], len(self.parts) + 1, wafer, started, offset)
        self.parts.append(part)
        self.open[key] = part

    def _prr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        values, _ = self.codec.read(data, pos, end, _PRR)
        key = (values[0] if values[0] is not None else 1, values[1] if values[1] is not None else 1)
        part = self.open.pop(key, None)
        if part is None:
            self.skipped["PRR without PIR"] = self.skipped.get("PRR without PIR", 0) + 1
            return
        part.prr = values

    def _mir(self, data: bytes, pos: int, end: int, offset: int) -> None:
        values, _ = self.codec.read(data, pos, end, _MIR)
        self.mir = {name: value for name, value in zip(_MIR_NAMES, values) if value is not None}

    def _sdr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        values, _ = self.codec.read(data, pos, end, _SDR)
        head = values[0] if values[0] is not None else 1
        strings = [value or "" for value in values[4:]]
        hand_typ, hand_id, card_typ, card_id, load_typ, load_id, dib_typ, dib_id = (strings + [""] * 8)[:8]
        fixture = load_id or dib_id or card_id
        if fixture:
            self.fixtures.setdefault(head, fixture)
        handler = " ".join(part for part in (hand_typ, hand_id) if part)
        if handler:
            self.handlers.setdefault(head, handler)

    def _pmr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        (index, _kind, channel, physical, logical, _head, _site), _ = self.codec.read(data, pos, end, _PMR)
        if index is not None:
            self.pins[index] = logical or physical or channel or str(index)

    def _wir(self, data: bytes, pos: int, end: int, offset: int) -> None:
        (head, _group, started, wafer), _ = self.codec.read(data, pos, end, _WIR)
        self.wafers[head if head is not None else 1] = (wafer or "", started or None)

    def _wrr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        return  # the wafer stays named for parts that follow without a new WIR

    def _bin(self, data: bytes, pos: int, end: int, names: dict[int, str]) -> None:
        (_head, _site, number, _count, passfail, name), _ = self.codec.read(data, pos, end, _BIN)
        if number is not None and name:
            names.setdefault(number, name)
        elif number is not None and passfail in ("P", "F"):
            names.setdefault(number, "pass" if passfail == "P" else "fail")

    def _hbr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        self._bin(data, pos, end, self.hard_bins)

    def _sbr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        self._bin(data, pos, end, self.soft_bins)

    def _tsr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        values, _ = self.codec.read(data, pos, end, _TSR)
        if values[3] is not None and values[7]:
            self.test_names.setdefault(values[3], values[7])

    def _bps(self, data: bytes, pos: int, end: int, offset: int) -> None:
        (name,), _ = self.codec.read(data, pos, end, _BPS)
        self.section = (*self.section, name or "Section")

    def _eps(self, data: bytes, pos: int, end: int, offset: int) -> None:
        self.section = self.section[:-1]

    def _mrr(self, data: bytes, pos: int, end: int, offset: int) -> None:
        self.finished = True


def _unzipped(data: bytes) -> bytes:
    """The bytes of a gzip-compressed STDF file (``.stdf.gz``), bounded against decompression bombs."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, _MAX_UNZIPPED)
        if inflater.unconsumed_tail:
            raise ConversionError(f"the compressed file unpacks to more than {_MAX_UNZIPPED} bytes")
        return out
    except zlib.error as error:
        raise ConversionError(f"the gzip-compressed file is damaged: {error}") from None


class StdfArguments(ConverterArguments):
    process_code: int = Field(50, description="WATS process (operation type) code of the reports; 50 is PCBA Test")
    part_number: str = Field("", description="part number of every report; empty: the MIR PART_TYP")
    revision: str = Field("1", description="part revision when the MIR has no DSGN_REV")
    serial_fallback: bool = Field(
        True, description="a part without PART_ID gets the serial <lot>[-<sublot>][-<wafer>]-X<x>-Y<y> "
        "(or -P<n>, its place in the file, without coordinates); false: such a part is an error",
    )  # fmt: skip
    timestamps: Literal["local", "utc"] = Field(
        "local", description="how the file's U4 times count: 'local' seconds since 1970 on the tester's clock "
        "(the STDF rule) or 'utc'",
    )  # fmt: skip
    scale_results: bool = Field(
        False, description="show results and limits scaled by RES_SCAL/LLM_SCAL/HLM_SCAL with a prefixed unit "
        "(mV instead of V); false: the base units the file stores",
    )  # fmt: skip
    test_numbers: bool = Field(True, description="start each step name with its test number ('1000 VDD_MEAS')")
    limit_comparison: Literal["flags", "inclusive"] = Field(
        "flags", description="'flags': a limit is inclusive when PARM_FLG bit 6/7 says so (the STDF rule), "
        "else exclusive (GT/LT); 'inclusive': always GE/LE",
    )  # fmt: skip
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names and texts to WATS limits; 'strict' refuses them"
    )


class StdfConverter(FileConverter):
    name = "stdf"
    version = "1.0"
    description = "STDF V4 (Standard Test Data Format) binary test data, either byte order: one report per part"
    patterns = ("*.stdf", "*.std", "*.stdf.gz", "*.std.gz")
    Arguments = StdfArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head(64)
        if head[:2] == b"\x1f\x8b":
            try:
                head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(source.head(4096), 64)
            except zlib.error:
                return 0.0
        if len(head) < 6 or head[2:4] != b"\x00\x0a" or head[:2] not in (b"\x00\x02", b"\x02\x00"):
            return 0.0
        return 0.95 if head[5] == 4 and head[4] in (1, 2) else 0.4

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        data = source.data
        if data[:2] == b"\x1f\x8b":
            data = _unzipped(data)
        stdf = StdfFile(data)
        if not stdf.finished:
            context.log.debug("%s: no MRR record (the lot was not closed)", source.name)
        for what, count in stdf.skipped.items():
            context.log.debug("%s: %d %s record(s) skipped", source.name, count, what)
        if not stdf.parts:
            raise ConversionError("the file holds no part (no PIR/PRR records)", field="PIR")
        return [self._report(stdf, part, context) for part in stdf.parts]

    # -- building one report ----------------------------------------------------------------------

    def _time(self, seconds: int | None, context: ConversionContext) -> datetime | None:
        if not seconds:
            return None
        if self.arguments.timestamps == "utc":
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
        return context.localize(datetime(1970, 1, 1) + timedelta(seconds=seconds))

    def _serial(self, stdf: StdfFile, part: _Part, part_id: str, x: int | None, y: int | None) -> str:
        if part_id:
            return part_id
        if not self.arguments.serial_fallback:
            raise ConversionError(f"part {part.ordinal} (PRR after byte {part.line}) has no PART_ID", field="PART_ID")
        pieces = [stdf.mir.get("LOT_ID") or "LOT", stdf.mir.get("SBLOT_ID") or "", f"W{part.wafer}" if part.wafer else ""]
        key = "-".join(piece for piece in pieces if piece)
        if x is not None and y is not None and x != -32768 and y != -32768:
            return f"{key}-X{x}-Y{y}"
        return f"{key}-P{part.ordinal}"

    def _report(self, stdf: StdfFile, part: _Part, context: ConversionContext) -> Report:
        args = self.arguments
        mir = stdf.mir
        prr = part.prr
        if prr is None:
            flags, hard, soft, x, y, test_t, part_id, part_txt = 0x04, None, None, None, None, None, "", ""
        else:
            flags = prr[2] or 0
            hard, soft, x, y, test_t = prr[4], prr[5], prr[6], prr[7], prr[8]
            part_id, part_txt = prr[9] or "", prr[10] or ""
        pn = args.part_number or mir.get("PART_TYP", "")
        if not pn:
            raise ConversionError("the file names no part type (MIR PART_TYP is empty): give part_number",
                                  field="PART_TYP")  # fmt: skip
        if prr is None or flags & 0x04:
            result = "T"  # abnormal end of testing (or no PRR before the next PIR)
        elif flags & 0x10:
            result = None  # no pass/fail indication: from the tests
        else:
            result = "F" if flags & 0x08 else "P"
        start = self._time(part.start, context) or self._time(mir.get("START_T"), context) or context.localize(
            datetime(1970, 1, 1)
        )
        builder = ReportBuilder.uut(
            pn=pn, sn=self._serial(stdf, part, part_id, x, y), rev=mir.get("DSGN_REV") or args.revision,
            process_code=args.process_code, start=start, result=result, root_name=mir.get("JOB_NAM") or "STDF",
            machine_name=mir.get("NODE_NAM") or None, user=mir.get("OPER_NAM") or None,
            batch_sn=mir.get("LOT_ID") or None, fixture_id=stdf.fixtures.get(part.head),
            exec_time=test_t / 1000.0 if test_t else None, test_socket_index=part.site,
        )  # fmt: skip
        for description, key in _MIR_MISC:
            value = mir.get(key)
            if value and value.strip():
                builder.misc_info(description, value.strip())
        if mir.get("STAT_NUM") is not None:
            builder.misc_info("Station number", str(mir["STAT_NUM"]))
        builder.misc_info("Head", str(part.head))
        if part.wafer:
            builder.misc_info("Wafer", part.wafer)
        if x is not None and x != -32768:
            builder.misc_info("X", str(x))
        if y is not None and y != -32768:
            builder.misc_info("Y", str(y))
        if hard is not None:
            builder.misc_info("Hard bin", f"{hard} {stdf.hard_bins.get(hard, '')}".strip())
        if soft is not None and soft != 65535:
            builder.misc_info("Soft bin", f"{soft} {stdf.soft_bins.get(soft, '')}".strip())
        if part_txt:
            builder.misc_info("Part text", part_txt)
        if flags & 0x03:
            builder.misc_info("Retest", "supersedes the part with the same " + ("PART_ID" if flags & 1 else "X/Y"))
        if stdf.handlers.get(part.head):
            builder.misc_info("Handler", stdf.handlers[part.head])
        for step in self._steps(stdf, part):
            builder.add_step(step)
        try:
            report = builder.build(lengths=args.lengths)
        except ReportFormatError as error:
            raise ConversionError(f"part {part.ordinal} gives an invalid report: {error}") from None
        if mir.get("JOB_REV"):
            try:
                report.root.seq_call.version = mir["JOB_REV"][:30]  # type: ignore[union-attr]
            except ValueError:
                pass
        return report

    def _steps(self, stdf: StdfFile, part: _Part) -> list[dict[str, Any]]:
        root: list[dict[str, Any]] = []
        path: tuple[str, ...] = ()
        containers: list[list[dict[str, Any]]] = [root]
        opened: list[dict[str, Any]] = []
        for test in part.tests:
            section = test[1]
            if section != path:
                common = 0
                while common < min(len(path), len(section)) and path[common] == section[common]:
                    common += 1
                while len(opened) > common:
                    sequence = opened.pop()
                    containers.pop()
                    sequence["status"] = _worst(sequence["steps"])
                for name in section[common:]:
                    sequence = {"stepType": "SequenceCall", "name": name, "seqCall": {"path": name, "name": name},
                                "steps": []}  # fmt: skip
                    containers[-1].append(sequence)
                    containers.append(sequence["steps"])
                    opened.append(sequence)
                path = section
            kind = test[0]
            if kind == "P":
                step = self._ptr_step(stdf, test)
            elif kind == "M":
                step = self._mpr_step(stdf, test)
            else:
                step = self._ftr_step(test)
            containers[-1].append(step)
        while opened:
            sequence = opened.pop()
            sequence["status"] = _worst(sequence["steps"])
        return root

    def _name(self, stdf: StdfFile, test_num: int, text: str) -> str:
        key = (test_num, text)
        name = stdf.names.get(key)
        if name is None:
            text = text or stdf.test_names.get(test_num, "")
            name = f"{test_num} {text}".strip() if self.arguments.test_numbers else text or f"Test {test_num}"
            stdf.names[key] = name
        return name

    def _comp_op(self, low: float | None, high: float | None, parm_flg: int) -> str:
        inclusive = self.arguments.limit_comparison == "inclusive"
        low_op = "GE" if inclusive or parm_flg & 0x40 else "GT"
        high_op = "LE" if inclusive or parm_flg & 0x80 else "LT"
        if low is not None and high is not None:
            return low_op + high_op
        if low is not None:
            return low_op
        if high is not None:
            return high_op
        return "LOG"

    def _ptr_step(self, stdf: StdfFile, test: tuple[Any, ...]) -> dict[str, Any]:
        (_, _, test_num, test_flg, parm_flg, result, text, low, high, units, res_scal, llm_scal, hlm_scal,
         alarm) = test  # fmt: skip
        name = self._name(stdf, test_num, text)
        status, step_status, message = _statuses(test_flg)
        notes = [f"alarm {alarm}"] if alarm else []
        if test_flg & 0x02:  # executed, but no datalogged value
            step = {"stepType": "ET_PFT", "name": name, "status": step_status or status or "P",
                    "booleanMeas": [{"status": status or "P"}]}  # fmt: skip
        else:
            measurement = self._limits(stdf, result, low, high, units, res_scal, parm_flg)
            if status is not None:
                measurement["status"] = status
            step = {"stepType": "ET_NLT", "name": name, "numericMeas": [measurement]}
            if step_status or status:
                step["status"] = step_status or status
        if message:
            step["errorMessage"] = message
        if notes:
            step["reportText"] = "; ".join(notes)
        return step

    def _limits(
        self, stdf: StdfFile, value: float, low: float | None, high: float | None, units: str, res_scal: int,
        parm_flg: int,
    ) -> dict[str, Any]:  # fmt: skip
        """A numeric measurement; the limit part is made once per distinct limits (most tests repeat them)."""
        if low is not None and low != low:
            low = None
        if high is not None and high != high:
            high = None
        key = (low, high, units, res_scal, parm_flg & 0xC0)
        cached = stdf.templates.get(key)
        if cached is None:
            factor = None
            if self.arguments.scale_results and res_scal in _UNIT_PREFIX and res_scal:
                factor = 10.0**res_scal
                units = "%" if res_scal == 2 else _UNIT_PREFIX[res_scal] + units
            low_value = None if low is None else _scale(_clean(low), factor)
            high_value = None if high is None else _scale(_clean(high), factor)
            template: dict[str, Any] = {"compOp": self._comp_op(low_value, high_value, parm_flg)}
            if low_value is not None:
                template["lowLimit"] = low_value
                if high_value is not None:
                    template["highLimit"] = high_value
            elif high_value is not None:
                template["lowLimit"] = high_value  # single-limit operators keep their limit in lowLimit
            if units:
                template["unit"] = units
            cached = stdf.templates[key] = (template, factor)
        template, factor = cached
        measurement = template.copy()
        measurement["value"] = _scale(_clean(value), factor)
        return measurement

    def _mpr_step(self, stdf: StdfFile, test: tuple[Any, ...]) -> dict[str, Any]:
        (_, _, test_num, test_flg, parm_flg, results, text, low, high, units, res_scal, llm_scal, hlm_scal,
         alarm, indexes) = test  # fmt: skip
        name = self._name(stdf, test_num, text)
        status, step_status, message = _statuses(test_flg)
        if not results:
            step: dict[str, Any] = {"stepType": "ET_PFT", "name": name, "status": step_status or status or "P",
                                    "booleanMeas": [{"status": status or "P"}]}  # fmt: skip
        else:
            measurements = []
            for index, result in enumerate(results):
                measurement = self._limits(stdf, result, low, high, units, res_scal, parm_flg)
                pin = indexes[index] if index < len(indexes) else None
                measurement["name"] = stdf.pins.get(pin, str(pin)) if pin is not None else f"result {index + 1}"
                if measurement["compOp"] == "LOG" and status is not None:
                    measurement["status"] = status
                measurements.append(measurement)
            step = {"stepType": "ET_MNLT", "name": name, "numericMeas": measurements}
            if step_status or status:
                step["status"] = step_status or status
        if message:
            step["errorMessage"] = message
        if alarm:
            step["reportText"] = f"alarm {alarm}"
        return step

    def _ftr_step(self, test: tuple[Any, ...]) -> dict[str, Any]:
        _, _, test_num, test_flg, text, vector, fails, result_text, alarm = test
        name = f"{test_num} {text}".strip() if self.arguments.test_numbers else text or f"Test {test_num}"
        status, step_status, message = _statuses(test_flg)
        step: dict[str, Any] = {"stepType": "ET_PFT", "name": name, "status": step_status or status or "P",
                                "booleanMeas": [{"status": status or "P"}]}  # fmt: skip
        notes = [f"pattern {vector}" if vector else "", f"{fails} failing pins" if fails else "", result_text,
                 f"alarm {alarm}" if alarm else ""]  # fmt: skip
        note = "; ".join(item for item in notes if item)
        if note:
            step["reportText"] = note
        if message:
            step["errorMessage"] = message
        return step


def _statuses(test_flg: int) -> tuple[str | None, str | None, str | None]:
    """(measurement status, step status when it differs, error message) from TEST_FLG."""
    if test_flg & 0x10:
        return "S", "S", None
    status = None if test_flg & 0x40 else ("F" if test_flg & 0x80 else "P")
    if test_flg & 0x20:
        return status, "E", "test aborted"
    if test_flg & 0x08:
        return status, "E", "timeout"
    return status, None, None


_SEVERITY = {"T": 4, "E": 3, "F": 2}


def _worst(steps: list[dict[str, Any]]) -> str | None:
    """A sequence's status from its children's (T > E > F > passed); None while one is still to compute."""
    worst = "P"
    for step in steps:
        status = step.get("status")
        if status is None:
            return None
        if _SEVERITY.get(status, 0) > _SEVERITY.get(worst, 0):
            worst = status
    return worst



def _first_limits(opt: int | None, low: float | None, high: float | None, res_scal: int | None,
                  llm_scal: int | None, hlm_scal: int | None, units: str) -> tuple[Any, ...]:  # fmt: skip
    """``(low, high, units, res_scal, llm_scal, hlm_scal)`` as the first PTR/MPR of a test number sets them for
    the later ones: OPT_FLAG bits 4/6 (0x50) drop the low limit, 5/7 (0xA0) the high one, bit 0 the result scale."""
    no_low = opt is None or opt & 0x50 or low is None
    no_high = opt is None or opt & 0xA0 or high is None
    return (
        None if no_low else low, None if no_high else high, units,
        0 if opt is None or opt & 1 or res_scal is None else res_scal,
        0 if no_low or llm_scal is None else llm_scal, 0 if no_high or hlm_scal is None else hlm_scal,
    )  # fmt: skip


def _with_defaults(opt: int | None, given: tuple[Any, ...], defaults: tuple[Any, ...]) -> tuple[Any, ...]:
    """A later PTR/MPR's ``(low, high, res_scal, llm_scal, hlm_scal)``, taking the first one's where OPT_FLAG says
    its own are invalid (bits 4/5: use the default; bits 6/7: no limit; bit 0: default result scale) or missing."""
    if opt is None:
        return defaults
    low, high, res_scal, llm_scal, hlm_scal = given
    d_low, d_high, d_res, d_llm, d_hlm = defaults
    if opt & 0x40:
        low = None
    elif opt & 0x10 or low is None:
        low, llm_scal = d_low, d_llm
    if opt & 0x80:
        high = None
    elif opt & 0x20 or high is None:
        high, hlm_scal = d_high, d_hlm
    if opt & 1 or res_scal is None:
        res_scal = d_res
    return low, high, res_scal, llm_scal, hlm_scal

CONVERTERS = (StdfConverter,)
__all__ = ["StdfArguments", "StdfConverter", "StdfFile"]
