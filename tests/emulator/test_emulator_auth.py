"""Authentication: ``Authorization: Basic <token>`` on every /api and /_emulator path, nothing on the pages."""

from __future__ import annotations

import httpx
import pytest

from pywats_emulator import DEFAULT_TOKEN
from pywats_emulator.auth import check_authorization
from pywats_emulator.testing import running_emulator


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/Report/WSJF"), ("GET", "/api/Report/Query/Header"), ("GET", "/api/App/Processes"),
     ("GET", "/api/app/version"), ("GET", "/api/No/Such/Route"), ("GET", "/_emulator/stats"),
     ("PUT", "/_emulator/faults")],
)  # fmt: skip
@pytest.mark.parametrize(
    "header", [None, "Basic wrong-token", f"Bearer {DEFAULT_TOKEN}", DEFAULT_TOKEN, f"Basic {DEFAULT_TOKEN}x"]
)
def test_missing_or_wrong_token_is_401(emulator, method, path, header) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.request(method, emulator.url + path, headers=headers, content=b"{}", timeout=10)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "Authorization has been denied" in response.json()["Message"]


def test_token_is_used_verbatim(emulator) -> None:
    for scheme in ("Basic", "basic"):
        response = httpx.get(f"{emulator.url}/api/App/Version", headers={"Authorization": f"{scheme} {emulator.token}"})
        assert response.status_code == 200


def test_pages_need_no_token(emulator) -> None:
    assert httpx.get(emulator.url + "/").status_code == 200


def test_several_tokens() -> None:
    with running_emulator(tokens=["Zmlyc3Q6b25l", "c2Vjb25kOnR3bw=="]) as emulator:
        for token in ("Zmlyc3Q6b25l", "c2Vjb25kOnR3bw=="):
            response = httpx.get(f"{emulator.url}/api/App/Version", headers={"Authorization": f"Basic {token}"})
            assert response.status_code == 200
        default = httpx.get(f"{emulator.url}/api/App/Version", headers={"Authorization": f"Basic {DEFAULT_TOKEN}"})
        assert default.status_code == 401


def test_check_authorization_explains_why() -> None:
    assert check_authorization(f"Basic {DEFAULT_TOKEN}", [DEFAULT_TOKEN]) is None
    assert "send 'Authorization: Basic <token>'" in check_authorization(None, [DEFAULT_TOKEN])
    assert "Basic scheme" in check_authorization("Bearer x", [DEFAULT_TOKEN])
    assert "not valid" in check_authorization("Basic x", [DEFAULT_TOKEN])
