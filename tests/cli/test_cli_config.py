"""``pywats-client config``: init, show, get, set, validate, and the token never appearing in any output.

Every test works in its own ``PYWATS_HOME`` (a tmp_path) through typer's CliRunner; the scripting forms the
brief fixes are also run as real subprocesses (``python -m pywats_client``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pywats_client import config as config_module
from typer.testing import CliRunner

from pywats_client.cli import app

TOKEN = "s3cret-T0KEN-value=="


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path / "home"))
    for name in list(os.environ):
        if name.upper().startswith("PYWATS_") and name.upper() not in ("PYWATS_HOME", "PYWATS_SAMPLES"):
            monkeypatch.delenv(name)
    return tmp_path / "home"


def cli(*args: str, code: int = 0, input: str | None = None):
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert TOKEN not in result.stdout and TOKEN not in result.stderr  # never, in any command or mode
    return result


def config_path(home: Path, instance: str = "default") -> Path:
    return home / "instances" / instance / "config.json"


def init(*extra: str) -> None:
    cli("config", "init", "--server-url", "https://acme.wats.example", "--token", TOKEN, "--station-name", "ICT-01",
        *extra)


def test_init_writes_an_owner_only_file_and_refuses_to_overwrite(home: Path) -> None:
    init("--location", "Line 1", "--purpose", "Production")
    path = config_path(home)
    saved = json.loads(path.read_text())
    assert saved["server_url"] == "https://acme.wats.example"
    assert saved["api_token"].startswith("enc:v1:") and TOKEN not in path.read_text()  # sealed, never in clear
    assert config_module.load_file(path)["api_token"] == TOKEN
    assert saved["station"] == {"name": "ICT-01", "location": "Line 1", "purpose": "Production"}
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0

    refused = cli("config", "init", "--server-url", "https://other.example", code=1)
    assert str(path) in refused.stderr and "--force" in refused.stderr
    assert json.loads(path.read_text())["server_url"] == "https://acme.wats.example"

    cli("config", "init", "--server-url", "https://other.example", "--station-name", "X", "--force")
    assert json.loads(path.read_text())["server_url"] == "https://other.example"


def test_init_reads_the_token_from_stdin_and_refuses_a_bad_url(home: Path) -> None:
    cli("config", "init", "--server-url", "https://acme.wats.example", "--token", "-", input=TOKEN + "\n")
    assert config_module.load_file(config_path(home))["api_token"] == TOKEN
    bad = cli("config", "init", "--server-url", "ftp://nope", "--force", code=1)
    assert "server_url" in bad.stderr and "nothing was saved" in bad.stderr


def test_show_masks_the_token_and_marks_environment_values(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init()
    shown = cli("config", "show")
    assert 'api_token = "********"' in shown.stdout
    assert 'station.name = "ICT-01"' in shown.stdout

    monkeypatch.setenv("PYWATS_STATION__NAME", "FROM-ENV")
    monkeypatch.setenv("PYWATS_UPLOAD_CONCURRENCY", "9")
    shown = cli("config", "show")
    assert 'station.name = "FROM-ENV"    # from the environment' in shown.stdout
    assert "upload_concurrency = 9    # from the environment" in shown.stdout
    data = json.loads(cli("config", "show", "--json").stdout)
    assert data["version"] == "1"
    assert data["config"]["api_token"] == "********"
    assert data["config"]["station"]["name"] == "FROM-ENV"
    assert data["from_environment"] == ["station", "upload_concurrency"]


def test_show_without_a_file_shows_defaults(home: Path) -> None:
    shown = cli("config", "show", "--json")
    assert json.loads(shown.stdout)["config"]["api_token"] is None
    assert "no configuration file" in shown.stderr


def test_get_prints_values_by_dotted_key_with_the_token_masked(home: Path) -> None:
    init()
    cli("converters", "add", "line1", "--converter", "wsjf", "--watch", str(home / "in"))
    assert cli("config", "get", "station.name").stdout == "ICT-01\n"
    assert cli("config", "get", "upload_concurrency").stdout == "5\n"
    assert cli("config", "get", "converters.0.watch").stdout == f"{home / 'in'}\n"
    assert cli("config", "get", "api_token").stdout == "********\n"
    assert json.loads(cli("config", "get", "station").stdout)["name"] == "ICT-01"
    missing = cli("config", "get", "station.nickname", code=1)
    assert "station.nickname" in missing.stderr


def test_set_parses_json_validates_and_names_the_key_and_rule(home: Path) -> None:
    init()
    path = config_path(home)
    cli("config", "set", "upload_concurrency", "12")
    cli("config", "set", "polling", "true")
    cli("config", "set", "station.location", "Line 2")
    cli("config", "set", "station.name", "007")  # JSON 7 is no name: the text is what was meant
    saved = json.loads(path.read_text())
    assert (saved["upload_concurrency"], saved["polling"]) == (12, True)
    assert saved["station"]["location"] == "Line 2" and saved["station"]["name"] == "007"

    before = path.read_text()
    refused = cli("config", "set", "upload_concurrency", "0", code=1)
    assert "upload_concurrency" in refused.stderr and "greater than or equal to 1" in refused.stderr
    assert "nothing was saved" in refused.stderr
    unknown = cli("config", "set", "upload_concurency", "3", code=1)
    assert "upload_concurency: is not a configuration key" in unknown.stderr
    deep = cli("config", "set", "station.name.first", "x", code=1)
    assert "station.name.first" in deep.stderr
    assert path.read_text() == before


def test_set_changes_the_token_without_showing_it(home: Path) -> None:
    init()
    result = cli("config", "set", "api_token", TOKEN[::-1])
    assert TOKEN[::-1] not in result.stdout + result.stderr
    assert "api_token = ********" in result.stderr
    assert config_module.load_file(config_path(home))["api_token"] == TOKEN[::-1]


def test_set_never_writes_environment_values_into_the_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init()
    monkeypatch.setenv("PYWATS_SERVER_URL", "https://from-env.example")
    monkeypatch.setenv("PYWATS_API_TOKEN", "env-token-value")
    result = cli("config", "set", "station.location", "Hall B")
    assert "env-token-value" not in result.stdout + result.stderr
    saved = config_module.load_file(config_path(home))
    assert saved["server_url"] == "https://acme.wats.example"
    assert saved["api_token"] == TOKEN
    noted = cli("config", "set", "server_url", "https://file.example")
    assert "environment wins" in noted.stderr
    assert cli("config", "get", "api_token").stdout == "********\n"


def test_validate_says_valid_or_lists_every_problem(home: Path, tmp_path: Path) -> None:
    init()
    assert cli("config", "validate").stdout.startswith("valid")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"upload_concurrency": 0, "colour": "red", "station": {"name": ""}}))
    result = cli("config", "validate", str(bad), code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert any("upload_concurrency" in line for line in lines)
    assert any("colour: is not a configuration key" in line for line in lines)
    assert any("station.name" in line for line in lines)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "not valid JSON" in cli("config", "validate", str(broken), code=1).stderr
    assert "does not exist" in cli("config", "validate", str(tmp_path / "none.json"), code=1).stderr


def test_config_file_option_and_instance_option(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere.json"
    cli("--config-file", str(other), "config", "init", "--server-url", "https://x.example", "--token", TOKEN)
    assert json.loads(other.read_text())["server_url"] == "https://x.example"
    assert not config_path(home).exists()
    assert cli("--config-file", str(other), "config", "get", "server_url").stdout == "https://x.example\n"

    cli("--instance", "line2", "config", "init", "--server-url", "https://two.example", "--token", TOKEN)
    assert json.loads(config_path(home, "line2").read_text())["server_url"] == "https://two.example"
    bad = cli("--instance", "../escape", "config", "show", code=2)
    assert "instance name" in bad.stderr
    monkeypatch.setenv("PYWATS_INSTANCE", "line2")  # the environment names the instance too
    assert cli("config", "get", "server_url").stdout == "https://two.example\n"
    shown = json.loads(cli("-i", "default", "config", "show", "--json").stdout)  # the option beats the environment
    assert shown["config"]["server_url"] is None


def test_an_unreadable_configuration_is_one_red_line(home: Path) -> None:
    path = config_path(home)
    path.parent.mkdir(parents=True)
    path.write_text("[1, 2]")
    result = cli("status", code=0)  # status still reports, naming the problem
    assert "INVALID" in result.stdout
    failed = cli("config", "show", code=1)
    assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("error: ")


# -- the forms scripts depend on, as real processes ----------------------------------------------------------


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("PYWATS_")}
    env.update(PYWATS_HOME=str(home), NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "pywats_client", *args], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_scripting_forms_as_subprocesses(home: Path, tmp_path: Path) -> None:
    init_result = run(home, "--instance", "line3", "config", "init", "--server-url", "https://acme.wats.example",
                      "--token", TOKEN, "--station-name", "ICT-03")  # fmt: skip
    assert init_result.returncode == 0, init_result.stderr
    watch, done, error = tmp_path / "in", tmp_path / "done", tmp_path / "err"
    added = run(home, "--instance", "line3", "converters", "add", "json", "--converter", "wsjf", "--watch", str(watch),
                "--done", str(done), "--error", str(error))  # fmt: skip
    assert added.returncode == 0, added.stderr
    shown = run(home, "--instance", "line3", "config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["config"]["station"]["name"] == "ICT-03"
    assert data["config"]["converters"][0]["watch"] == str(watch)
    assert data["config"]["converters"][0]["done"] == str(done)
    for result in (init_result, added, shown):
        assert TOKEN not in result.stdout + result.stderr
    assert "\x1b[" not in shown.stdout + shown.stderr  # no colour codes in pipes
    unknown = run(home, "--instance", "line3", "converters", "add", "x", "--converter", "nope", "--watch", str(watch))
    assert unknown.returncode == 1 and "no converter named 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
