"""The Python examples in README.md and docs/*.md run as written.

Each block runs on its own. Blocks that use ``api`` get a sync ``pyWATS`` connected to the test emulator;
a block marked ``# doc-test: skip`` is shown to readers but not run (say why next to the marker).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def examples() -> list:
    found = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for index, match in enumerate(BLOCK.finditer(path.read_text(encoding="utf-8"))):
            code = match.group(1)
            if "# doc-test: skip" not in code:
                found.append(pytest.param(code, id=f"{path.name}-{index}"))
    return found


@pytest.mark.parametrize("code", examples())
def test_example_runs(code: str, request, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc_example__"}
    if re.search(r"\bapi\b", code):
        from pywats import pyWATS

        emulator = request.getfixturevalue("emulator")
        namespace["api"] = api = pyWATS(emulator.url, emulator.token)
        request.addfinalizer(api.close)
    exec(compile(code, "<doc example>", "exec"), namespace)
