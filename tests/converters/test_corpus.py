"""Every real sample file converts into reports that pass strict validation and that the emulator accepts.

The files come from ``../shared/samples`` (or ``$PYWATS_SAMPLES``) and every folder named in
``$PYWATS_CORPUS``; the test skips when there are none. Each file (or, for folder converters, each folder
that a folder converter is confident about) goes through ``auto``, as a station configured with ``auto``
would send it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from converter_support import CONTEXT, corpus_roots, is_folder_converter

from pywats.formats import wsjf
from pywats_client.converters import ConversionError, SourceFile, SourceFolder, available_converters, convert_source
from pywats_client.converters import load_converter_class
from pywats_client.converters.sources import sidecar_paths

SKIP_NAMES = {"SOURCES.md", "README.md", "LICENSE", "NOTICE"}


def _corpus() -> list:
    items: list = []
    folder_converters = [cls() for cls in available_converters().values() if is_folder_converter(cls)]
    for root in corpus_roots():
        claimed: set[Path] = set()
        for folder in sorted(path for path in root.rglob("*") if path.is_dir()):
            source = SourceFolder.read(folder)
            if any(converter.validate(source) >= 0.5 for converter in folder_converters):
                claimed.add(folder)
                claimed.update(sidecar_paths(folder))
                items.append(pytest.param(folder, id=f"{root.parent.name}/{folder.relative_to(root)}/", marks=pytest.mark.samples))
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.name not in SKIP_NAMES and path not in claimed and not (
                claimed & set(path.parents)
            ):
                items.append(pytest.param(path, id=f"{root.parent.name}/{path.relative_to(root)}", marks=pytest.mark.samples))
    if not items:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no sample files (../shared/samples or $PYWATS_CORPUS)"))]
    return items


def _convert(path: Path) -> tuple[str, list]:
    if path.is_dir():
        source = SourceFolder.read(path)
        for cls in available_converters().values():
            if is_folder_converter(cls) and cls().validate(source) >= 0.5:
                conversion = convert_source(cls(), source, CONTEXT)
                return conversion.converter.name, conversion.reports
        raise AssertionError(f"no folder converter for {path}")
    conversion = convert_source(load_converter_class("auto")(), SourceFile.read(path), CONTEXT)
    return conversion.converter.name, conversion.reports


@pytest.mark.parametrize("path", _corpus())
def test_sample_converts_and_the_emulator_accepts_it(path: Path, emulator) -> None:
    try:
        name, reports = _convert(path)
    except ConversionError as error:
        pytest.fail(f"{path.name}: {error}")
    assert reports, f"{path.name}: {name} made no report"
    with emulator.client(timeout=30) as client:
        for report in reports:
            text = wsjf.dumps(report)
            wsjf.loads(text)  # strict lengths and every structural rule
            answer = client.post("/api/Report/WSJF", content=text, headers={"Content-Type": "application/json"})
            assert answer.status_code == 200, f"{path.name} ({name}): {answer.text}"


def test_every_builtin_converter_module_loads() -> None:
    from pywats_client.converters.builtin import LOAD_ERRORS, builtin_converters

    builtin_converters()
    assert LOAD_ERRORS == {}
