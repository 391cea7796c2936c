"""``pywats-client queue``: list, show, retry, drop and export on a real SQLite queue.

The queue is filled the way the service fills it (:class:`ReportQueue`: enqueue, then claim and fail, hold
or complete), so every state is present without a server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pywats.formats import wsjf
from pywats.synthetic import synthetic_report
from pywats_client.cli import app
from pywats_client.queue import NewReport, ReportQueue


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path / "home"))
    for name in list(os.environ):
        if name.upper().startswith("PYWATS_") and name.upper() not in ("PYWATS_HOME", "PYWATS_SAMPLES"):
            monkeypatch.delenv(name)
    return tmp_path / "home"


@pytest.fixture
def filled(home: Path) -> dict[str, str]:
    """A queue with one report in each of pending, failed, held and done; their ids by state."""
    queue = ReportQueue(home / "instances" / "default" / "queue.db")
    reports = {state: synthetic_report(20, sn=f"Q-{state}") for state in ("done", "failed", "held", "pending")}
    queue.enqueue([NewReport(str(r.id), wsjf.dumps(r), source=f"/in/{r.sn}.json", converter="wsjf",
                             serial_number=r.sn, part_number=r.pn) for r in reports.values()])  # fmt: skip
    claimed = {item.id: item for item in queue.claim(3)}  # the three oldest due: done, failed, held
    ids = {state: str(report.id) for state, report in reports.items()}
    assert set(claimed) == {ids["done"], ids["failed"], ids["held"]}
    queue.complete([(ids["done"], claimed[ids["done"]].revision, "ok")])
    queue.fail(ids["failed"], "HTTP 400: processCode 99999 is not a process on this server")
    queue.hold(ids["held"], "HTTP 401 (check the API token and its permissions)")
    queue.close()
    return ids


def cli(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def states(home: Path) -> dict[str, str]:
    queue = ReportQueue(home / "instances" / "default" / "queue.db")
    try:
        return {item.serial_number: item.state for item in queue.list(limit=100)}
    finally:
        queue.close()


def test_list_filters_and_limits(home: Path, filled: dict[str, str]) -> None:
    data = json.loads(cli("queue", "list", "--json").stdout)
    assert data["version"] == "1"
    assert sorted(row["state"] for row in data["reports"]) == ["done", "failed", "held", "pending"]
    failed = json.loads(cli("queue", "list", "--state", "failed", "--json").stdout)["reports"]
    assert [row["id"] for row in failed] == [filled["failed"]]
    assert "processCode 99999" in failed[0]["last_error"]
    assert len(json.loads(cli("queue", "list", "--limit", "2", "--json").stdout)["reports"]) == 2
    table = cli("queue", "list").stdout
    assert filled["held"] in table and "Q-held" in table and "HTTP 401" in table
    assert cli("queue", "list", "--state", "sideways", code=2).exit_code == 2


def test_list_of_an_instance_without_a_queue_creates_nothing(home: Path) -> None:
    assert "empty" in cli("-i", "fresh", "queue", "list").stderr
    assert json.loads(cli("-i", "fresh", "queue", "list", "--json").stdout)["reports"] == []
    assert not (home / "instances" / "fresh").exists()


def test_show_with_and_without_payload(home: Path, filled: dict[str, str]) -> None:
    shown = cli("queue", "show", filled["pending"]).stdout
    assert "state            pending" in shown and "source           /in/Q-pending.json" in shown
    data = json.loads(cli("queue", "show", filled["pending"], "--payload", "--json").stdout)
    assert data["report"]["state"] == "pending"
    assert wsjf.loads(data["report"]["payload"]).sn == "Q-pending"
    assert json.loads(cli("queue", "show", filled["failed"].upper(), "--json").stdout)["report"]["state"] == "failed"
    assert '"sn": "Q-pending"' in cli("queue", "show", filled["pending"], "--payload").stdout
    assert "uploaded" in cli("queue", "show", filled["done"], "--payload").stdout  # the ledger keeps no payload
    missing = cli("queue", "show", "00000000-0000-0000-0000-000000000000", code=1)
    assert missing.stderr.startswith("error: no report")


def test_retry_by_id_and_all(home: Path, filled: dict[str, str]) -> None:
    assert "give the ids" in cli("queue", "retry", code=1).stderr
    assert "1 report(s) back to pending" in cli("queue", "retry", filled["failed"]).stderr
    assert states(home)["Q-failed"] == "pending"
    assert "1 report(s) back to pending" in cli("queue", "retry", "--all").stderr  # the held one
    assert states(home) == {"Q-done": "done", "Q-failed": "pending", "Q-held": "pending", "Q-pending": "pending"}


def test_drop_asks_for_yes_when_not_interactive(home: Path, filled: dict[str, str]) -> None:
    refused = cli("queue", "drop", filled["failed"], code=1)
    assert "--yes" in refused.stderr
    assert states(home)["Q-failed"] == "failed"
    dropped = cli("queue", "drop", filled["failed"], "ffffffff-0000-0000-0000-000000000000", "--yes")
    assert "1 report(s) dropped" in dropped.stderr and "1 not dropped" in dropped.stderr
    assert "Q-failed" not in states(home)


def test_export_writes_json_lines_with_payloads(home: Path, tmp_path: Path, filled: dict[str, str]) -> None:
    lines = cli("queue", "export").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert sorted(row["state"] for row in rows) == ["done", "failed", "held", "pending"]
    by_state = {row["state"]: row for row in rows}
    assert wsjf.loads(by_state["pending"]["payload"]).sn == "Q-pending"
    assert by_state["done"]["payload"] is None

    out = tmp_path / "export.jsonl"
    result = cli("queue", "export", "--state", "held", "--out", str(out))
    assert result.stdout == "" and "exported 1 report(s)" in result.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["id"] == filled["held"] and wsjf.loads(row["payload"]).sn == "Q-held"
