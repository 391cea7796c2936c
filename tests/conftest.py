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
