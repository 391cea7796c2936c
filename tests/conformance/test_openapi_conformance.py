"""The emulator's answers, checked against WATS's own OpenAPI document (``tests/data/openapi_public_v3.json``).

One emulator runs for the module, seeded by :func:`conformance_examples.seed` (a test report made by
``synthetic_report(20)``, a test report with an attachment, a repair report, products, assets, units, software
packages, root cause tickets). Each entry of :data:`conformance_examples.EXAMPLES` is then sent over HTTP and
its answer checked by :mod:`openapi_validator`: the status, the media type and, for JSON, the body against the
response schema the document gives (and a JSON request body against the document's ``requestBody``).

**Error answers.** The document lists no 4xx answer for any operation the emulator serves. Where an operation
documents the status, the error answer is checked against the document like any other; where it does not, the
body is checked against the error shape WATS (ASP.NET Web API) answers with, ``{"Message": "..."}``
(:data:`WATS_ERROR`). :func:`test_documented_error_answers_have_examples` makes sure that, should the document
list a 4xx answer for an operation the emulator serves, an example exercises it.

**Known differences.** An example may name, in ``known``, problem keys (:attr:`openapi_validator.Problem.key`)
where the emulator and the literal document are known to differ, with the reason in ``why``
(:mod:`conformance_examples` defines the kinds). The test fails if the problems found are not exactly those, so a
difference cannot widen unnoticed, and one that goes away must be taken off the list.

**Nulls.** The document never writes ``nullable`` (its generator does not), yet WATS models are .NET classes
whose strings, GUIDs and numbers are ``null`` when a report has no value for them (a test report has no
``referencedUut``). While the document says nothing about nullability anywhere, an object's property may be
``null``; the body itself and array items may not. If a later document writes ``nullable`` anywhere, its word is
taken instead (``UNSAID_NULLABLE`` turns off).

**Coverage.** Every route the app serves under ``/api`` must be an operation of the document and must have an
example in :data:`conformance_examples.EXAMPLES`: a route added without one fails
:func:`test_every_served_api_route_has_an_example`, naming it.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conformance_examples import EXAMPLES, MISSING_ID, Example, Seeded, seed
from openapi_validator import OpenApiDocument, PathTemplates, Problem, path_shape

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "data" / "openapi_public_v3.json"
_RAW = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
UNSAID_NULLABLE = '"nullable"' not in json.dumps(_RAW)
DOCUMENT = OpenApiDocument(_RAW, unsaid_nullable=UNSAID_NULLABLE)

WATS_ERROR = {"type": "object", "required": ["Message"], "properties": {"Message": {"type": "string"}}}
"""The body of a WATS error answer (ASP.NET Web API's ``HttpError``), used where the document lists none."""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Any, httpx.Client, Seeded]]:
    """A running emulator of this module's own, seeded: ``(emulator, client, seeded values)``."""
    from pywats_emulator.testing import running_emulator

    with running_emulator() as emulator, emulator.client(timeout=10) as client:
        yield emulator, client, seed(client)


def _fill(value: Any, seeded: Seeded) -> Any:
    """``value`` with each ``{name}`` replaced by the seeded value (kept as is when it is the whole string)."""
    if isinstance(value, str):
        for name, replacement in seeded.items():
            if value == f"{{{name}}}":
                return replacement
            value = value.replace(f"{{{name}}}", str(replacement))
        return value
    if isinstance(value, dict):
        return {key: _fill(item, seeded) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, seeded) for item in value]
    return value


def send(client: httpx.Client, example: Example, seeded: Seeded) -> tuple[httpx.Response, bytes | None]:
    """Send ``example``; the answer and the request body sent (None for none or a multipart upload)."""
    headers: dict[str, str] = {}
    content: bytes | None = None
    if example.body is not None:
        made = example.body(seeded)
        content = made.encode() if isinstance(made, str) else made
    elif example.json is not None:
        content = json.dumps(_fill(example.json, seeded)).encode()
    if content is not None:
        headers["Content-Type"] = example.content_type or "application/json"
    request = client.build_request(
        example.method, _fill(example.path, seeded), params=_fill(example.params, seeded), content=content,
        files=example.files(seeded) if example.files is not None else None, headers=headers,
    )  # fmt: skip
    if not example.authorized:
        del request.headers["Authorization"]
    return client.send(request), content


def problems_of(example: Example, response: httpx.Response) -> list[Problem]:
    """The answer's problems by the document; for an error the document does not list, by :data:`WATS_ERROR`."""
    path = response.request.url.path
    content_type = response.headers.get("content-type")
    problems = DOCUMENT.check_response(example.method, path, response.status_code, content_type, response.content)
    if response.status_code >= 400 and [p.key for p in problems] == ["status undocumented"]:
        if not (content_type or "").startswith("application/json"):
            return [Problem("content-type", "error-shape", "application/json", content_type or "(none)")]
        return DOCUMENT.validate(response.json(), WATS_ERROR)
    return problems


def _report(example: Example, problems: list[Problem]) -> str:
    lines = [f"{example.id}: the problems found are not those listed in known={example.known!r}:"]
    lines += [f"  - {problem}   [key: {problem.key!r}]" for problem in problems]
    unexpected = {p.key for p in problems} - set(example.known)
    gone = set(example.known) - {p.key for p in problems}
    if unexpected:
        lines.append(f"  not known for this example: {sorted(unexpected)}")
    if gone:
        lines.append(f"  listed in known= but not found (take them off the list): {sorted(gone)}")
    return "\n".join(lines)


# -- the tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", [pytest.param(e, id=e.id) for e in EXAMPLES])
def test_answer_conforms_to_the_document(served, example: Example) -> None:
    _, client, seeded = served
    assert not example.known or example.why, f"{example.id}: say in why= why the known problems are accepted"
    response, sent = send(client, example, seeded)
    assert response.status_code == example.status, f"{example.id}: got {response.status_code}: {response.text[:500]}"
    if sent is not None and example.status < 400:
        request_problems = DOCUMENT.check_request(
            example.method, response.request.url.path, response.request.headers.get("content-type"), sent
        )  # fmt: skip
        assert not request_problems, "the example's request body differs from the document:\n" + "\n".join(
            f"  - {problem}" for problem in request_problems
        )
    problems = problems_of(example, response)
    assert {p.key for p in problems} == set(example.known), _report(example, problems)


def served_api_routes(app: Any) -> list[tuple[str, str]]:
    """``(method, path template)`` of every route ``app`` serves under ``/api``.

    Starlette's automatic ``HEAD`` beside a ``GET`` is left out. Newer FastAPI versions keep an included router
    as one node of ``app.routes`` (with ``original_router`` and a prefix); older ones copy its routes in.
    """
    found: list[tuple[str, str]] = []

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                walk(included.routes, prefix + getattr(getattr(route, "include_context", None), "prefix", ""))
                continue
            methods = set(getattr(route, "methods", None) or ())
            path = prefix + (getattr(route, "path", "") or "")
            if not methods and getattr(route, "routes", None) is not None:  # a Mount
                walk(route.routes, path)
                continue
            lowered = path.lower()
            if lowered == "/api" or lowered.startswith("/api/"):
                found.extend((m, path) for m in sorted(methods) if not (m == "HEAD" and "GET" in methods))

    walk(app.routes, "")
    assert ("POST", "/api/Report/WSJF") in found, f"route introspection found no upload route: {found}"
    return sorted(set(found), key=lambda item: (item[1].lower(), item[0]))


def _route_of(example: Example, routes: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The served route an example reaches (its ``{placeholders}`` stand for any one segment)."""
    templates = PathTemplates(template for method, template in routes if method == example.method)
    template = templates.best(example.path)
    return (example.method, template) if template is not None else None


def test_every_served_api_route_is_in_the_document(served) -> None:
    emulator, _, _ = served
    routes = served_api_routes(emulator.app)
    missing = [f"{method} {path}" for method, path in routes if not DOCUMENT.has_template(method, path)]
    assert not missing, (
        "these emulator routes are not operations of the WATS OpenAPI document (method + path, any case):\n  "
        + "\n  ".join(missing)
    )


def test_every_served_api_route_has_an_example(served) -> None:
    emulator, _, _ = served
    routes = served_api_routes(emulator.app)
    reached = {_route_of(example, routes) for example in EXAMPLES}
    missing = [f"{method} {path}" for method, path in routes if (method, path) not in reached]
    assert not missing, (
        "these emulator routes have no conformance example; add one or more to EXAMPLES in "
        "tests/conformance/conformance_examples.py:\n  " + "\n  ".join(missing)
    )


def test_every_example_reaches_a_served_route(served) -> None:
    emulator, _, _ = served
    routes = served_api_routes(emulator.app)
    stray = [example.id for example in EXAMPLES if _route_of(example, routes) is None]
    assert not stray, "these examples reach no route the emulator serves:\n  " + "\n  ".join(stray)


def test_example_ids_are_unique() -> None:
    counts = Counter(example.id for example in EXAMPLES)
    twice = sorted(name for name, count in counts.items() if count > 1)
    assert not twice, f"give these examples a name= that tells them apart: {twice}"


def test_documented_error_answers_have_examples(served) -> None:
    emulator, _, _ = served
    routes = served_api_routes(emulator.app)
    tried = {(_route_of(example, routes), str(example.status)) for example in EXAMPLES}
    missing = []
    for method, path in routes:
        for status in DOCUMENT.documented_statuses(method, path):
            if status[0] == "4" and ((method, path), status) not in tried:
                missing.append(f"{method} {path} {status}")
    assert not missing, "the document lists these error answers; add an example for each:\n  " + "\n  ".join(missing)


# -- the validator itself -----------------------------------------------------------------------------

INSERT_RESULT = "#/components/schemas/Virinco.WATS.Models.Store.InsertReportResult"
HEADER = "#/components/schemas/Virinco.WATS.Web.Dashboard.Models.OData.ReportHeader"


def _json_answer(method: str, path: str, body: Any, status: int = 200) -> list[str]:
    return [p.key for p in DOCUMENT.check_response(method, path, status, "application/json", json.dumps(body).encode())]


def test_validator_finds_operations_as_wats_routes_paths() -> None:
    assert DOCUMENT.operation("post", "/api/report/wsjf")[0] == "/api/Report/WSJF"
    assert DOCUMENT.operation("GET", f"/api/REPORT/wsjf/{uuid.uuid4()}")[0] == "/api/Report/Wsjf/{id}"
    assert DOCUMENT.operation("GET", "/api/Asset/Log")[0] == "/api/Asset/Log"  # literal beats {assetId}
    assert DOCUMENT.operation("GET", "/api/Asset/A-17")[0] in ("/api/Asset/{assetId}", "/api/Asset/{serialNumber}")
    assert DOCUMENT.operation("GET", "/api/SCIM/v2/Users/userName=ann")[0] == "/api/SCIM/v2/Users/userName={userName}"
    assert DOCUMENT.operation("GET", "/api/Report/WSJF") is None  # the upload path has no GET
    assert DOCUMENT.has_template("GET", "/api/product/{pn}/{rev}")
    assert path_shape("/api/Production/Unit/{serialNumber}/{partNumber}") == "/api/production/unit/{}/{}"


def test_validator_checks_schemas_through_references() -> None:
    good = {"ID": MISSING_ID, "uuid": MISSING_ID, "Report_ID": 7}
    assert _json_answer("POST", "/api/Report/WSJF", good) == []
    assert _json_answer("POST", "/api/Report/WSJF", {**good, "Report_ID": "7"}) == ["$.Report_ID type"]
    assert _json_answer("POST", "/api/Report/WSJF", {**good, "ID": "7"}) == ["$.ID format"]
    assert _json_answer("POST", "/api/Report/WSJF", {**good, "Report_ID": 2**31}) == ["$.Report_ID format"]
    assert _json_answer("POST", "/api/Report/WSJF", [good]) == ["$ type"]
    header = {"uuid": MISSING_ID, "start": "2024-05-01T10:00:00.1234567+02:00", "miscInfo": [{"value": 5}]}
    assert _json_answer("GET", "/api/Report/Query/Header", [header]) == ["$[0].miscInfo[0].value type"]
    bad_date = {"uuid": MISSING_ID, "start": "2024-13-01T10:00:00Z"}
    assert _json_answer("GET", "/api/Report/Query/Header", [bad_date]) == ["$[0].start format"]


def test_validator_checks_status_and_media_type() -> None:
    assert _json_answer("GET", "/api/App/Version", "2025.1", status=404) == ["status undocumented"]
    assert _json_answer("GET", "/api/No/Such/Path", {}) == ["operation undocumented"]
    zip_answer = DOCUMENT.check_response("GET", f"/api/Report/Attachments/{MISSING_ID}", 200, "application/zip", b"PK")
    assert [p.key for p in zip_answer] == ["content-type not-listed"]
    xml = DOCUMENT.check_response("GET", f"/api/Report/Wsxf/{MISSING_ID}", 200, "application/xml", b"<Reports>")
    assert [p.key for p in xml] == ["body not-xml"]
    text = DOCUMENT.check_response("GET", "/api/App/Version", 200, "application/json; charset=utf-8", b"not json")
    assert [p.key for p in text] == ["body not-json"]
    # a documented body that is missing, and a body where the document describes none
    empty = DOCUMENT.check_response("PUT", "/api/Production/SetUnitPhase", 200, None, b"")
    assert [p.key for p in empty] == ["body empty"]
    assert DOCUMENT.check_response("PUT", f"/api/Software/Package/{MISSING_ID}", 200, None, b"") == []
    extra = DOCUMENT.check_response("PUT", f"/api/Software/Package/{MISSING_ID}", 200, "application/json", b"{}")
    assert [p.key for p in extra] == ["body undocumented"]


def test_nulls_follow_the_unsaid_nullable_rule() -> None:
    strict = OpenApiDocument(_RAW)
    header = [{"uuid": MISSING_ID, "comment": None, "referencedUut": None}]
    assert sorted(p.key for p in strict.validate(header, {"type": "array", "items": {"$ref": HEADER}})) == [
        "$[0].comment type", "$[0].referencedUut type",
    ]  # fmt: skip
    lenient = OpenApiDocument(_RAW, unsaid_nullable=True)
    assert lenient.validate(header, {"type": "array", "items": {"$ref": HEADER}}) == []
    assert [p.key for p in lenient.validate([None], {"type": "array", "items": {"$ref": HEADER}})] == ["$[0] type"]
    assert [p.key for p in lenient.validate(None, {"$ref": INSERT_RESULT})] == ["$ type"]
    # nullable: true, as OpenAPI 3.0 writes it, is honoured by the strict reading too
    said = {"type": "object", "properties": {"a": {"type": "string", "nullable": True, "enum": ["x"]}}}
    assert strict.validate({"a": None}, said) == []
    assert [p.key for p in strict.validate({"a": "y"}, said)] == ["$.a enum"]
