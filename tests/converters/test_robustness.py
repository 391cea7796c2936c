"""Every built-in parser, fed truncated, mutated and random input, ends quickly with reports or
``ConversionError``: never a hang, never another exception.

Seeds are each converter's own fixtures (``fixtures/<name>/``). A folder converter gets its fixture
folders with one file mutated. Hypothesis' deadline catches a parser that is slow on some input.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from converter_support import CONTEXT, fixture_paths, is_folder_converter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats_client.converters import ConversionError, SourceFile, SourceFolder, available_converters

CONVERTERS = {name: cls for name, cls in available_converters().items() if name != "auto"}
SETTINGS = settings(max_examples=60, deadline=timedelta(seconds=3), suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)  # fmt: skip


def _seeds(name: str) -> list[bytes | dict[str, bytes]]:
    seeds: list = []
    for path in fixture_paths(name):
        seeds.append(dict(SourceFolder.read(path).files) if path.is_dir() else path.read_bytes())
    return seeds


@st.composite
def _mutated(draw, seed: bytes) -> bytes:
    if not seed:
        return draw(st.binary(max_size=200))
    how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "random", "splice"]))
    position = draw(st.integers(0, len(seed)))
    if how == "truncate":
        return seed[:position]
    if how == "flip":
        index = min(position, len(seed) - 1)
        return seed[:index] + bytes([seed[index] ^ draw(st.integers(1, 255))]) + seed[index + 1:]
    if how == "insert":
        return seed[:position] + draw(st.binary(min_size=1, max_size=40)) + seed[position:]
    if how == "delete":
        end = draw(st.integers(position, min(len(seed), position + 200)))
        return seed[:position] + seed[end:]
    if how == "splice":
        other = draw(st.integers(0, len(seed)))
        return seed[:position] + seed[other:]
    return draw(st.binary(max_size=2000))


def _check(converter, source) -> None:
    try:
        reports = list(converter.convert(source, CONTEXT))
    except ConversionError:
        return
    for report in reports:
        assert report.sn is not None


def _params() -> list:
    params = []
    for name, cls in CONVERTERS.items():
        if cls.kind not in ("file", "folder"):
            continue
        marks = [] if _seeds(name) else [pytest.mark.skip(reason=f"no fixtures in fixtures/{name}/")]
        params.append(pytest.param(name, id=name, marks=marks))
    return params


@pytest.mark.parametrize("name", _params())
def test_mutated_input_gives_reports_or_conversion_error(name: str) -> None:
    cls = CONVERTERS[name]
    seeds = _seeds(name)
    converter = cls()

    if is_folder_converter(cls):
        folders = [seed for seed in seeds if isinstance(seed, dict) and seed]

        @SETTINGS
        @given(st.data())
        def run(data) -> None:
            files = dict(data.draw(st.sampled_from(folders)))
            victim = data.draw(st.sampled_from(sorted(files)))
            files[victim] = data.draw(_mutated(files[victim]))
            _check(converter, SourceFolder(Path("fuzzed"), files))
    else:
        blobs = [seed for seed in seeds if isinstance(seed, bytes)]

        @SETTINGS
        @given(st.data())
        def run(data) -> None:
            seed = data.draw(st.sampled_from(blobs))
            _check(converter, SourceFile(Path("fuzzed" + Path(str(cls.patterns[0])).suffix), data.draw(_mutated(seed))))

    run()


@pytest.mark.parametrize("name", [name for name, cls in CONVERTERS.items() if cls.kind == "file"])
def test_random_bytes_give_reports_or_conversion_error(name: str) -> None:
    converter = CONVERTERS[name]()

    @SETTINGS
    @given(st.binary(max_size=3000))
    def run(blob: bytes) -> None:
        _check(converter, SourceFile(Path("random.bin"), blob))

    run()
