"""Benchmark: every built-in converter, beside plain reading (and parsing) of the same bytes (the floor).

    python bench/converters.py [--quick] [--mb 20] [--repeat 3] [--only NAME ...] [--gc-freeze]

Samples: ``../shared/samples/<format>/`` (or ``$PYWATS_SAMPLES``) and the project's own
``tests/converters/fixtures/<converter>/``, so it runs without the shared samples. Each file goes to the
converter that ``auto`` chooses for it (``AutoConverter.choose``); a fixture file that ``auto`` refuses goes to
the converter its folder is named after (``csv``, whose ``validate()`` never reaches auto's threshold). Each
top-level folder is read as a ``SourceFolder`` and goes to the folder converter most confident of it
(``klippel``; ``auto`` considers file converters only); a header file beside a folder belongs to the folder.
A converter left without any sample gets a generated one when the project can write its format (WSJF, WSXF
from ``pywats.synthetic``).

Every sample is converted once (its reports, steps or error are listed in the row). Then the largest sample
of each converter is converted ``repeats`` times in a row, enough for ``--mb`` megabytes (10^6 bytes), and
that is done ``--repeat`` times; the median repetition is reported. One conversion is what the service does
with a file: read it (``SourceFile.read`` / ``SourceFolder.read``), ``convert_source(converter, source,
context)`` (ids, station fill); "convert+dump" adds ``wsjf.dumps`` of every report (the service serialises
each report for its queue). The floor reads the same file the same number of times and, by the sample's
kind, also parses it the plain way (the row's ``floor`` says which):

- XML: ``xml.etree.ElementTree.fromstring``; JSON: ``bytes.decode`` + ``json.loads``;
- other text: ``bytes.decode`` + ``splitlines``; a folder: ``SourceFolder.read``, each file decoded and split;
- zip (``.xjlog``): every member read, the XML members parsed; other binary (STDF): the read alone.

MB/s figures are bytes x repeats / CPU seconds (``time.process_time``); the ``*_wall`` ones use wall time.
``reports_per_s`` and ``steps_per_s`` are for convert+dump, in CPU time. ``auto_choose_ms`` is what ``auto``
adds per file on top of the row's converter (every candidate's ``validate()``), CPU time.

The garbage collector runs as in the service (which does not freeze it); ``--gc-freeze`` calls
``gc.freeze()`` once everything is loaded, to show what the collector's passes over the loaded modules cost.

Prints one JSON document (progress goes to stderr). Targets (issue 6), on ``mb_per_s_convert``: every text or
XML format (every converter but ``stdf``) above 5 MB/s; STDF (``tests/converters/fixtures/stdf/*.stdf``) above
20 MB/s. ``targets_convert_dump`` applies the same limits to ``mb_per_s_convert_dump``.
"""

from __future__ import annotations

import argparse
import codecs
import gc
import io
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pywats import Station
from pywats.formats import wsjf, wsxf
from pywats.synthetic import synthetic_report
from pywats_client.converters import (
    ConversionContext,
    ConversionError,
    Converter,
    SourceFile,
    SourceFolder,
    available_converters,
    convert_source,
)
from pywats_client.converters.builtin.auto import AutoConverter
from pywats_client.converters.sources import sidecar_paths

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("PYWATS_SAMPLES", REPO.parent / "shared" / "samples"))
FIXTURES = REPO / "tests" / "converters" / "fixtures"
CONTEXT = ConversionContext(station=Station("BENCH-01", "Line 1", "Benchmark"))
MB = 1_000_000
TEXT_TARGET_MB_S = 5.0
STDF_TARGET_MB_S = 20.0
FLOORS = {
    "xml": "read + ElementTree.fromstring",
    "json": "read + bytes.decode + json.loads",
    "text": "read + bytes.decode + splitlines",
    "zip": "read + zipfile members read + ElementTree.fromstring of the XML members",
    "binary": "read (SourceFile.read)",
    "folder": "SourceFolder.read + bytes.decode + splitlines of each file",
}


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- samples ---------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    path: Path
    label: str  # "shared:spea/testdata.csv", "fixtures:stdf/a.stdf", "generated:wsjf/synthetic-186.json"
    folder: str  # the format folder it was found in
    is_dir: bool
    size: int

    def read(self) -> SourceFile | SourceFolder:
        return SourceFolder.read(self.path) if self.is_dir else SourceFile.read(self.path)


def folder_size(path: Path) -> int:
    files = [item for item in path.rglob("*") if item.is_file()] + sidecar_paths(path)
    return sum(item.stat().st_size for item in files)


def find_samples(root: Path, origin: str) -> list[Sample]:
    """Every top-level file and folder of each format folder of ``root`` (sidecars belong to their folder)."""
    found: list[Sample] = []
    if not root.is_dir():
        return found
    for format_folder in sorted(item for item in root.iterdir() if item.is_dir() and not item.name.startswith(".")):
        entries = sorted(format_folder.iterdir())
        folders = {item.name for item in entries if item.is_dir()}
        for item in entries:
            label = f"{origin}:{format_folder.name}/{item.name}"
            if item.is_dir():
                found.append(Sample(item, label, format_folder.name, True, folder_size(item)))
            elif item.is_file() and item.stem not in folders and not item.name.startswith("."):
                found.append(Sample(item, label, format_folder.name, False, item.stat().st_size))
    return found


def generated_samples(folder: Path, missing: set[str]) -> list[Sample]:
    """Samples the project can write itself, for converters that found none (no shared samples)."""
    writers: dict[str, tuple[str, Callable[[], str]]] = {
        "wsjf": ("synthetic-186.json", lambda: wsjf.dumps(synthetic_report(186))),
        "wsxf": ("synthetic-186.xml", lambda: wsxf.dumps(synthetic_report(186))),
    }
    made = []
    for name in sorted(missing & set(writers)):
        file_name, write = writers[name]
        path = folder / name / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(write(), encoding="utf-8")
        made.append(Sample(path, f"generated:{name}/{file_name}", name, False, path.stat().st_size))
    return made


def assign(samples: list[Sample], auto: AutoConverter, converters: dict[str, type[Converter]],
           assigned: dict[str, list[tuple[Sample, str]]], unassigned: list[dict]) -> None:  # fmt: skip
    """Give each sample to the converter that would handle it (see the module docstring)."""
    folder_converters = [cls() for cls in converters.values() if cls.kind == "folder"]
    threshold = auto.arguments.threshold
    for sample in samples:
        if sample.is_dir:
            source = sample.read()
            scores = sorted(((float(one.validate(source)), one.name) for one in folder_converters), reverse=True)
            if scores and scores[0][0] >= threshold:
                assigned.setdefault(scores[0][1], []).append(
                    (sample, f"folder converter validate() {scores[0][0]:.2f}"))
            else:
                unassigned.append({"sample": sample.label, "reason": f"no folder converter reaches {threshold}"})
            continue
        try:
            chosen = auto.choose(sample.read())
            assigned.setdefault(chosen.name, []).append((sample, "auto"))
        except ConversionError as error:
            if sample.folder in converters and sample.label.startswith("fixtures:"):
                assigned.setdefault(sample.folder, []).append((sample, f"fixture folder name (auto: {error})"))
            else:
                unassigned.append({"sample": sample.label, "reason": str(error)})


# -- the floor -------------------------------------------------------------------------------------------------


def text_encoding(data: bytes) -> str:
    """The encoding a plain ``bytes.decode`` of this file would use (chosen once, outside the timing)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return name
    for name in ("utf-8", "cp1252"):
        try:
            data.decode(name)
            return name
        except UnicodeDecodeError:
            continue
    return "latin-1"


def kind_of(sample: Sample) -> str:
    if sample.is_dir:
        return "folder"
    data = sample.path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data[:2] == b"\x1f\x8b" or (len(data) >= 4 and data[2:4] == b"\x00\x0a"):  # gzip, or an STDF FAR
        return "binary"
    head = data[:4096]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary"
    text = head.decode(text_encoding(head), "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "xml"
    if text.startswith(("{", "[")):
        return "json"
    return "text"


def floor_action(sample: Sample, kind: str) -> Callable[[], object]:
    """One read of ``sample`` and the plain parse its kind gets (see :data:`FLOORS`)."""
    path = sample.path
    if kind == "folder":
        def folder() -> object:
            source = SourceFolder.read(path)
            return [data.decode(text_encoding(data[:4096])).splitlines()
                    for data in [*source.files.values(), *source.sidecars.values()]]  # fmt: skip
        return folder
    if kind == "binary":
        return lambda: SourceFile.read(path)
    if kind == "xml":
        return lambda: ET.fromstring(SourceFile.read(path).data)
    if kind == "zip":
        def unzip() -> object:
            with zipfile.ZipFile(io.BytesIO(SourceFile.read(path).data)) as archive:
                members = [(info.filename, archive.read(info)) for info in archive.infolist()]
            return [ET.fromstring(data) for name, data in members if name.lower().endswith(".xml")]
        return unzip
    encoding = text_encoding(path.read_bytes())
    if kind == "json":
        return lambda: json.loads(SourceFile.read(path).data.decode(encoding))
    return lambda: SourceFile.read(path).data.decode(encoding).splitlines()


# -- timing ----------------------------------------------------------------------------------------------------


def time_loop(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    """CPU and wall seconds of ``action`` done ``repeats`` times."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        action()
    return time.process_time() - cpu, time.perf_counter() - wall


def time_conversions(sample: Sample, converter: Converter, repeats: int) -> dict[str, float]:
    """CPU and wall seconds of ``repeats`` service-style conversions, without and with the WSJF dumps."""
    convert_cpu = convert_wall = dump_cpu = dump_wall = 0.0
    cpu_clock, wall_clock = time.process_time, time.perf_counter
    for _ in range(repeats):
        cpu, wall = cpu_clock(), wall_clock()
        conversion = convert_source(converter, sample.read(), CONTEXT)
        cpu_converted, wall_converted = cpu_clock(), wall_clock()
        for report in conversion.reports:
            wsjf.dumps(report)
        cpu_dumped, wall_dumped = cpu_clock(), wall_clock()
        convert_cpu += cpu_converted - cpu
        convert_wall += wall_converted - wall
        dump_cpu += cpu_dumped - cpu_converted
        dump_wall += wall_dumped - wall_converted
    return {"convert_cpu": convert_cpu, "convert_wall": convert_wall, "convert_dump_cpu": convert_cpu + dump_cpu,
            "convert_dump_wall": convert_wall + dump_wall}  # fmt: skip


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def rate(amount: float, seconds: float) -> float:
    return round(amount / seconds, 2) if seconds > 0 else math.inf


def choose_ms(auto: AutoConverter, sample: Sample) -> float | None:
    if sample.is_dir:
        return None
    source = sample.read()
    times = []
    for _ in range(20):
        start = time.process_time()
        try:
            auto.choose(source)
        except ConversionError:  # refusing costs the same validate() calls (csv: auto never picks it)
            pass
        times.append(time.process_time() - start)
    return round(statistics.median(times) * 1000, 3)


# -- one converter ---------------------------------------------------------------------------------------------


def steps_of(report: object) -> int:
    return len(report.iter_steps()) if hasattr(report, "iter_steps") else 0


def measure(name: str, converter: Converter, samples: list[tuple[Sample, str]], auto: AutoConverter,
            target_bytes: int, repetitions: int) -> dict:  # fmt: skip
    listed, converted = [], []
    for sample, chosen_by in sorted(samples, key=lambda item: item[0].label):
        entry = {"sample": sample.label, "bytes": sample.size, "chosen_by": chosen_by}
        try:
            reports = convert_source(converter, sample.read(), CONTEXT).reports
        except ConversionError as error:
            entry["error"] = str(error)
        else:
            entry.update(reports=len(reports), steps=sum(steps_of(report) for report in reports))
            converted.append((sample, entry))
        listed.append(entry)
    row: dict = {"converter": name, "version": converter.version}
    if not converted:
        return {**row, "error": "no sample converts", "samples": listed}
    sample, entry = max(converted, key=lambda item: (item[0].size, item[0].label))
    kind = kind_of(sample)
    repeats = max(1, math.ceil(target_bytes / sample.size))
    progress(f"{name}: {sample.label} ({sample.size} bytes) x {repeats}, {repetitions} repetition(s)")
    runs = [time_conversions(sample, converter, repeats) for _ in range(repetitions)]
    timed = median_of(runs)
    floor = floor_action(sample, kind)
    floor()  # warm up (and fail here, not inside the timing, if the plain parse cannot read it)
    floor_cpu, floor_wall = (statistics.median(values) for values in
                             zip(*(time_loop(floor, repeats) for _ in range(repetitions))))  # fmt: skip
    read = (lambda: SourceFolder.read(sample.path)) if sample.is_dir else (lambda: SourceFile.read(sample.path))
    read_cpu = statistics.median(time_loop(read, repeats)[0] for _ in range(repetitions))
    total = sample.size * repeats / MB
    convert_rate = rate(total, timed["convert_cpu"])
    floor_rate = rate(total, floor_cpu)
    return {
        **row,
        "sample": sample.label,
        "kind": kind,
        "bytes": sample.size,
        "repeats": repeats,
        "reports_per_conversion": entry["reports"],
        "steps_per_conversion": entry["steps"],
        "mb_per_s_convert": convert_rate,
        "mb_per_s_convert_dump": rate(total, timed["convert_dump_cpu"]),
        "mb_per_s_convert_wall": rate(total, timed["convert_wall"]),
        "mb_per_s_convert_dump_wall": rate(total, timed["convert_dump_wall"]),
        "reports_per_s": rate(entry["reports"] * repeats, timed["convert_dump_cpu"]),
        "steps_per_s": rate(entry["steps"] * repeats, timed["convert_dump_cpu"]),
        "floor": FLOORS[kind],
        "floor_mb_per_s": floor_rate,
        "floor_mb_per_s_wall": rate(total, floor_wall),
        "read_mb_per_s": rate(total, read_cpu),
        "floor_to_convert_ratio": round(floor_rate / convert_rate, 1) if convert_rate else None,
        "auto_choose_ms": choose_ms(auto, sample),
        "samples": listed,
    }  # fmt: skip


# -- main ------------------------------------------------------------------------------------------------------


def targets(rows: list[dict], key: str) -> dict:
    measured = {row["converter"]: row.get(key) for row in rows}
    text = {name: value is not None and value > TEXT_TARGET_MB_S for name, value in measured.items() if name != "stdf"}
    stdf = measured.get("stdf")
    return {"text_xml_above_5_mb_s": text, "stdf_above_20_mb_s": stdf is not None and stdf > STDF_TARGET_MB_S}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 MB per converter, one repetition")
    parser.add_argument("--mb", type=float, default=None, help="megabytes converted per repetition (default 20)")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions, the median is reported (default 3)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="measure only these converters")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() before measuring (the service does not)")
    args = parser.parse_args()
    megabytes = args.mb if args.mb is not None else (1.0 if args.quick else 20.0)
    repetitions = args.repeat if args.repeat is not None else (1 if args.quick else 3)

    converters = {name: cls for name, cls in available_converters().items() if name != "auto"}
    auto = AutoConverter()
    assigned: dict[str, list[tuple[Sample, str]]] = {}
    unassigned: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="pywats-bench-") as scratch:
        assign(find_samples(SAMPLES, "shared") + find_samples(FIXTURES, "fixtures"), auto, converters, assigned,
               unassigned)  # fmt: skip
        assign(generated_samples(Path(scratch), set(converters) - set(assigned)), auto, converters, assigned,
               unassigned)  # fmt: skip
        rows, missing = [], []
        if args.gc_freeze:
            gc.freeze()
        for name, cls in converters.items():
            if args.only and name not in args.only:
                continue
            if name not in assigned:
                missing.append(name)
                continue
            rows.append(measure(name, cls(), assigned[name], auto, int(megabytes * MB), repetitions))
    print(json.dumps({
        "benchmark": "converters",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "shared_samples": str(SAMPLES) if SAMPLES.is_dir() else None,
        "mb_per_repetition": megabytes,
        "repetitions": repetitions,
        "gc_frozen": args.gc_freeze,
        "auto": {"candidates": [one.name for one in auto.candidates()], "threshold": auto.arguments.threshold},
        "rows": rows,
        "no_sample": missing,
        "unassigned_samples": unassigned,
        "targets": targets(rows, "mb_per_s_convert"),
        "targets_measured_on": "mb_per_s_convert (CPU time, file read included, no WSJF dump)",
        "targets_convert_dump": targets(rows, "mb_per_s_convert_dump"),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
