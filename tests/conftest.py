"""Shared test fixtures.

Real sample files come from ``../shared/samples`` beside the checkout, or from ``$PYWATS_SAMPLES``; tests
that need them skip cleanly when the folder is absent (its licences keep some files out of this repo).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("PYWATS_SAMPLES", REPO.parent / "shared" / "samples"))


def sample_files(folder: str, pattern: str = "*") -> list[Path]:
    """The sample files of one format folder, sorted; empty when the samples are absent."""
    directory = SAMPLES / folder
    return sorted(path for path in directory.glob(pattern) if path.is_file()) if directory.is_dir() else []


def sample_params(folder: str, pattern: str = "*") -> list:
    """pytest parameters for each sample file, or one skipped parameter when there are none."""
    files = sample_files(folder, pattern)
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no samples in {SAMPLES / folder}"))]
    return [pytest.param(path, id=path.name, marks=pytest.mark.samples) for path in files]


@pytest.fixture(autouse=True)
def _private_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test writes the developer's keyring or their real machine key: tokens are sealed with a key under a
    temporary PYWATS_HOME (a test that sets PYWATS_HOME itself overrides it)."""
    monkeypatch.setenv("PYWATS_KEYRING", "0")
    if "PYWATS_HOME" not in os.environ:
        monkeypatch.setenv("PYWATS_HOME", str(tmp_path_factory.mktemp("pywats-home")))


# -- emulator fixtures (pywats_emulator.testing) ---------------------------------------------------------
# Imported inside the fixtures, so test runs without the emulator extra (FastAPI, uvicorn) still collect.


@pytest.fixture(scope="session")
def emulator():
    """One emulator for the whole session (loopback, temporary database).

    Shared: its reports accumulate across tests. Leave its faults alone; use ``fresh_emulator`` for that.
    """
    from pywats_emulator.testing import running_emulator

    with running_emulator() as running:
        yield running


@pytest.fixture
def fresh_emulator():
    """An emulator of this test's own: empty database, no faults. Stopped after the test."""
    from pywats_emulator.testing import running_emulator

    with running_emulator() as running:
        yield running
