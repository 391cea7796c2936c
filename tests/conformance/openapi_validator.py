"""Check HTTP answers against an OpenAPI 3.0 document: the validator of the conformance tests.

:class:`OpenApiDocument` finds the operation for a method and a concrete path, takes the response the document
gives for the status, and checks the answer against it:

1. the status is documented (``"404"``, else a range such as ``"4XX"``, else ``"default"``);
2. the media type of the answer is one the response lists (``*/*`` and ``image/*`` match as wildcards); a
   response without ``content`` describes no body, so the answer must have none;
3. a JSON answer (``application/json``, ``text/json``, ``*+json``) parses and matches the schema; an XML answer
   is well-formed XML (its schema is not applied: that would need the document's XML mapping); other answers
   (a file, a zip) are checked for their media type only.

Schemas are turned into JSON Schema (draft 2020-12) and checked with ``jsonschema``:

- ``$ref`` to ``#/components/schemas/X`` becomes ``#/$defs/X`` (so recursive models work); the siblings of a
  ``$ref`` are dropped, as OpenAPI 3.0 ignores them;
- ``nullable: true`` adds ``null`` to the type (or to the ``enum``);
- ``allOf`` / ``oneOf`` / ``anyOf`` / ``not`` are kept as they are; OpenAPI 3.0's boolean ``exclusiveMinimum`` /
  ``exclusiveMaximum`` become the numbers JSON Schema wants;
- ``format`` is checked loosely: ``uuid`` (any case), ``date-time`` (ISO 8601, offset optional, any number of
  fraction digits as .NET writes them), ``int32`` / ``int64`` ranges; other formats are not checked;
- annotations (``example``, ``readOnly``, ``xml``, ``discriminator``...) are dropped.

``unsaid_nullable=True`` also lets an object's *property* be ``null`` when its schema does not say
``nullable``. It is off by default; see the conformance test for when it is used and why.

Each problem found is a :class:`Problem` whose :attr:`~Problem.key` (``"$[0].start format"``,
``"content-type not-listed"``) names where it is and which rule it breaks, so a test can list the problems it
knows of exactly.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_ANNOTATIONS = {"example", "examples", "readOnly", "writeOnly", "xml", "discriminator", "externalDocs",
                "deprecated", "description", "title", "default", "nullable"}  # fmt: skip
_SUBSCHEMA_LISTS = ("allOf", "oneOf", "anyOf")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[Zz]|[+-](\d{2}):?(\d{2}))?"
)


@dataclass(frozen=True)
class Problem:
    """One way an answer differs from the document."""

    where: str  # "operation", "status", "content-type", "body", or a JSON path such as "$[0].start"
    rule: str  # what is broken: "undocumented", "not-listed", "not-json", or a JSON Schema keyword ("type"...)
    expected: str
    actual: str

    @property
    def key(self) -> str:
        """Where and which rule, without the values: stable enough to list as a known problem."""
        return f"{self.where} {self.rule}"

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}: the document expects {self.expected}; got {self.actual}"


# -- paths --------------------------------------------------------------------------------------------


_PARAM = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


def path_shape(template: str) -> str:
    """A template without its parameter names, literal text lower-cased: ``/api/asset/{}``."""
    return _PARAM.sub("{}", template).lower().rstrip("/") or "/"


def _segment_rank(segment: str) -> int:
    """0 for literal text, 1 for a segment mixing text and a parameter, 2 for a bare parameter."""
    if not _PARAM.search(segment):
        return 0
    return 2 if _PARAM.fullmatch(segment) else 1


def _template_regex(template: str) -> re.Pattern[str]:
    parts, position = [], 0
    for match in _PARAM.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        # a {name:path} parameter (Starlette) spans segments; every other parameter is one segment
        parts.append(".+" if match.group(2) == "path" else "[^/]+")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts).rstrip("/") + "/?", re.IGNORECASE)


class PathTemplates:
    """Path templates, matched against concrete paths as WATS matches them: literal text without regard to case.

    When several templates match (``/api/Asset/Log`` and ``/api/Asset/{assetId}``), the most specific wins:
    literal segments beat parameters, segment by segment from the left, as ASP.NET routing decides.
    """

    def __init__(self, templates: Iterable[str]) -> None:
        self._compiled = [(template, _template_regex(template)) for template in dict.fromkeys(templates)]

    def matches(self, path: str) -> list[str]:
        """Every template ``path`` matches, the most specific first."""
        found = [template for template, regex in self._compiled if regex.fullmatch(path)]
        return sorted(found, key=lambda template: [_segment_rank(s) for s in template.split("/")])

    def best(self, path: str) -> str | None:
        found = self.matches(path)
        return found[0] if found else None


# -- schemas ------------------------------------------------------------------------------------------


def _pointer_token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_path(parts: Iterable[Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("uuid")
    def is_uuid(value: Any) -> bool:
        return not isinstance(value, str) or bool(_UUID.fullmatch(value))

    @checker.checks("date-time")
    def is_date_time(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        match = _DATE_TIME.fullmatch(value)
        if not match:
            return False
        year, month, day, hour, minute, second, offset_hours, offset_minutes = match.groups()
        try:
            datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        except ValueError:
            return False
        return offset_hours is None or (int(offset_hours) <= 14 and int(offset_minutes) < 60)

    for name, (low, high) in _INT_RANGES.items():

        def in_range(value: Any, low: int = low, high: int = high) -> bool:
            return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high

        checker.checks(name)(in_range)
    return checker


class SchemaConverter:
    """Turns OpenAPI 3.0 schemas into JSON Schema; see the module docstring for what changes."""

    def __init__(self, components: dict[str, Any], *, unsaid_nullable: bool = False) -> None:
        self.unsaid_nullable = unsaid_nullable
        self.defs = {name: self.convert(schema) for name, schema in components.items()}

    def convert(self, schema: Any, *, is_property: bool = False) -> Any:
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            converted: dict[str, Any] = {"$ref": self._ref(schema["$ref"])}
            nullable = is_property and self.unsaid_nullable
            return {"anyOf": [converted, {"type": "null"}]} if nullable else converted
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _ANNOTATIONS:
                continue
            if key == "properties":
                out[key] = {name: self.convert(sub, is_property=True) for name, sub in value.items()}
            elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
                out[key] = self.convert(value)
            elif key in _SUBSCHEMA_LISTS:
                out[key] = [self.convert(sub) for sub in value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
                bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                if value and bound in schema:
                    out[key] = schema[bound]
            elif key in ("minimum", "maximum") and schema.get(f"exclusive{key.title()}") is True:
                continue  # moved into the exclusive bound above
            else:
                out[key] = value
        if schema.get("nullable") is True or (is_property and self.unsaid_nullable):
            out = self._with_null(out)
        return out

    @staticmethod
    def _with_null(schema: dict[str, Any]) -> dict[str, Any]:
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            schema = {**schema, "type": [*types, "null"] if "null" not in types else types}
            if "enum" in schema and None not in schema["enum"]:
                schema["enum"] = [*schema["enum"], None]
            return schema
        return {"anyOf": [schema, {"type": "null"}]} if schema else schema

    @staticmethod
    def _ref(ref: str) -> str:
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise ValueError(f"only references to {prefix}... are supported, not {ref!r}")
        return "#/$defs/" + _pointer_token(ref[len(prefix) :])


# -- the document -------------------------------------------------------------------------------------


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _is_json(media: str) -> bool:
    return media in ("application/json", "text/json") or media.endswith("+json")


def _is_xml(media: str) -> bool:
    return media in ("application/xml", "text/xml") or media.endswith("+xml")


def _listed(media: str, listed: Iterable[str]) -> str | None:
    """The key of ``listed`` that covers ``media``: the same type, else a wildcard."""
    by_name = {key.lower(): key for key in listed}
    if media in by_name:
        return by_name[media]
    major = media.split("/")[0]
    return by_name.get(f"{major}/*") or by_name.get("*/*")


class OpenApiDocument:
    """An OpenAPI 3.0 document, ready to check answers (and request bodies) against."""

    def __init__(self, document: dict[str, Any], *, unsaid_nullable: bool = False) -> None:
        self.document = document
        components = document.get("components", {})
        self._converter = SchemaConverter(components.get("schemas", {}), unsaid_nullable=unsaid_nullable)
        self._formats = _format_checker()
        self._validators: dict[str, Draft202012Validator] = {}
        self.operations: dict[tuple[str, str], dict[str, Any]] = {}
        for template, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method in HTTP_METHODS:
                    self.operations[(method.upper(), template)] = operation
        self.templates = PathTemplates(template for _, template in self.operations)

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> OpenApiDocument:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")), **options)

    # -- finding operations

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """``(template, operation)`` for a concrete path, or None when the document has no such operation."""
        method = method.upper()
        for template in self.templates.matches(path):
            if (method, template) in self.operations:
                return template, self.operations[(method, template)]
        return None

    def has_template(self, method: str, template: str) -> bool:
        """Whether the document has ``method`` on a path of the same shape (parameter names aside, any case)."""
        shape = path_shape(template)
        return any(m == method.upper() and path_shape(t) == shape for m, t in self.operations)

    def documented_statuses(self, method: str, template: str) -> list[str]:
        for (m, t), operation in self.operations.items():
            if m == method.upper() and path_shape(t) == path_shape(template):
                return list(operation.get("responses", {}))
        return []

    # -- checking

    def check_response(
        self, method: str, path: str, status: int, content_type: str | None, body: bytes
    ) -> list[Problem]:
        """What is wrong with this answer to ``method path``, by the document; empty when nothing."""
        found = self.operation(method, path)
        if found is None:
            return [Problem("operation", "undocumented", "an operation for the path", f"{method.upper()} {path}")]
        template, operation = found
        responses = operation.get("responses", {})
        key = self._status_key(responses, status)
        if key is None:
            return [Problem("status", "undocumented", " or ".join(responses) or "no answers", str(status))]
        response = self._resolve(responses[key], "responses")
        return self._check_content(response.get("content") or {}, content_type, body, f"{method} {template} {key}")

    def check_request(self, method: str, path: str, content_type: str | None, body: bytes) -> list[Problem]:
        """What is wrong with a request body, by the operation's ``requestBody``; empty when it describes none."""
        found = self.operation(method, path)
        if found is None:
            return [Problem("operation", "undocumented", "an operation for the path", f"{method.upper()} {path}")]
        template, operation = found
        if "requestBody" not in operation:
            return []
        request_body = self._resolve(operation["requestBody"], "requestBodies")
        content = request_body.get("content") or {}
        problems = self._check_content(content, content_type, body, f"{method} {template} request")
        return [Problem(f"request {p.where}", p.rule, p.expected, p.actual) for p in problems]

    def validate(self, instance: Any, schema: dict[str, Any], cache_key: str | None = None) -> list[Problem]:
        """Problems of a JSON value against an OpenAPI schema (which may ``$ref`` the document's components)."""
        validator = self._validators.get(cache_key) if cache_key else None
        if validator is None:
            root = {"$defs": self._converter.defs, **self._converter.convert(schema)}
            validator = Draft202012Validator(root, format_checker=self._formats)
            if cache_key:
                self._validators[cache_key] = validator
        problems = []
        for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
            expected = f"{error.validator} {_short(error.validator_value)}"
            where = _json_path(error.absolute_path)
            problems.append(Problem(where, str(error.validator), expected, _short(error.instance)))
        return problems

    # -- helpers

    @staticmethod
    def _status_key(responses: dict[str, Any], status: int) -> str | None:
        by_upper = {key.upper(): key for key in responses}
        for candidate in (str(status), f"{status // 100}XX", "DEFAULT"):
            if candidate in by_upper:
                return by_upper[candidate]
        return None

    def _resolve(self, item: dict[str, Any], section: str) -> dict[str, Any]:
        prefix = f"#/components/{section}/"
        seen = 0
        while "$ref" in item:
            ref = item["$ref"]
            if not ref.startswith(prefix) or seen > 20:
                raise ValueError(f"cannot resolve {ref!r} (expected {prefix}...)")
            item = self.document["components"][section][ref[len(prefix) :]]
            seen += 1
        return item

    def _check_content(
        self, content: dict[str, Any], content_type: str | None, body: bytes, cache_key: str
    ) -> list[Problem]:
        media = _media_type(content_type)
        if not content:
            if not body:
                return []
            return [Problem("body", "undocumented", "no body", f"{len(body)} bytes of {media or '?'}")]
        if not body:
            return [Problem("body", "empty", f"a body ({', '.join(content)})", "no body")]
        listed = _listed(media, content)
        if listed is None:
            return [Problem("content-type", "not-listed", ", ".join(content), media or "(none)")]
        if _is_json(media):
            try:
                value = json.loads(body.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                return [Problem("body", "not-json", f"JSON ({media})", f"{error} in {body[:60]!r}")]
            schema = content[listed].get("schema")
            return self.validate(value, schema, f"{cache_key} {listed}") if schema is not None else []
        if _is_xml(media):
            try:
                ET.fromstring(body)
            except ET.ParseError as error:
                return [Problem("body", "not-xml", f"well-formed XML ({media})", str(error))]
        return []
