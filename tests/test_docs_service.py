"""docs/service.md documents every configuration key (no setting without a description)."""

from __future__ import annotations

from pathlib import Path

from pywats_client.config import ClientConfig, ConverterConfig, StationConfig

DOC = (Path(__file__).resolve().parent.parent / "docs" / "service.md").read_text(encoding="utf-8")


def test_every_configuration_key_is_documented() -> None:
    missing = [name for name in ClientConfig.model_fields if f"`{name}`" not in DOC and f"`{name}," not in DOC]
    missing += [f"station.{name}" for name in StationConfig.model_fields
                if f"station.{name}" not in DOC]  # fmt: skip
    missing += [f"converters[].{name}" for name in ConverterConfig.model_fields
                if f"`{name}`" not in DOC and f"`{name}," not in DOC]  # fmt: skip
    assert missing == []
