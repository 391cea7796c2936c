"""The read-only HTML pages: the report list (newest first) and one report's steps, escaped."""

from __future__ import annotations

import httpx
from emulator_support import accepted, make_repair, make_report


def test_list_shows_reports_newest_first_with_results(fresh_emulator) -> None:
    with fresh_emulator.client() as client:
        assert "No reports yet" in httpx.get(fresh_emulator.url + "/").text
        first = make_report(sn="PAGE-FIRST")
        second = make_report(sn="PAGE-SECOND", result="F")
        accepted(client, first)
        accepted(client, second)
    page = httpx.get(fresh_emulator.url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' forbids scripts
    html = page.text
    assert html.index("PAGE-SECOND") < html.index("PAGE-FIRST")
    assert "Failed" in html and "Passed" in html
    assert f"/reports/{first['id']}" in html


def test_report_page_lists_steps_and_escapes_markup(fresh_emulator) -> None:
    report = make_report(sn="<script>alert(1)</script>")
    report["root"]["steps"][0]["steps"][0]["name"] = "V<b>cc</b> & more"
    with fresh_emulator.client() as client:
        accepted(client, report)
    listing = httpx.get(fresh_emulator.url + "/").text
    assert "<script>" not in listing and "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    page = httpx.get(f"{fresh_emulator.url}/reports/{report['id']}")
    assert page.status_code == 200
    html = page.text
    assert "<script>" not in html and "<b>cc</b>" not in html
    assert "V&lt;b&gt;cc&lt;/b&gt; &amp; more" in html
    for text in ("MainSequence", "Power", "photo.png", "GELE", "3.31", "Firmware", "1.4.2"):
        assert text in html


def test_repair_page_shows_failures(fresh_emulator) -> None:
    report = make_repair()
    with fresh_emulator.client() as client:
        accepted(client, report)
    html = httpx.get(f"{fresh_emulator.url}/reports/{report['id']}").text
    assert "repair (UUR)" in html and "Solder Bridge R5" in html


def test_unknown_report_page_is_404(fresh_emulator) -> None:
    assert httpx.get(f"{fresh_emulator.url}/reports/00000000-0000-0000-0000-000000000000").status_code == 404
