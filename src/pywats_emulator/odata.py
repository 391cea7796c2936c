"""The OData query subset WATS supports, compiled to a parameterised SQLite query.

``$filter`` goes through a tokenizer and a recursive-descent parser to a small syntax tree, which is then
type-checked against an :class:`EntitySchema` and compiled to a ``WHERE`` fragment whose values are all bound
parameters: a literal can never become SQL, whatever quotes it holds.

Grammar (lowest precedence first)::

    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | comparison
    comparison  := operand (("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand | "in" "(" literal ("," literal)* ")")?
    operand     := "(" or_expr ")" | function "(" [or_expr ("," or_expr)*] ")" | literal | property

Literals: ``'text'`` (a quote doubled inside), whole and decimal numbers, ``true``/``false``/``null``,
date-times (``2024-05-01T08:00:00Z`` or with an offset), dates (``2024-05-01``) and GUIDs, unquoted as in
OData v4. Functions: ``contains startswith endswith`` (case-sensitive, as in OData), ``tolower toupper trim
length indexof substring concat``. There is no arithmetic and no date function, as on WATS.

As on WATS, property and function names are matched without regard to case (its own examples write
``$expand=subunits`` for ``subUnits`` and ``$orderby=timestamp`` for ``timeStamp``); operators and
``and``/``or``/``not`` are lowercase, as OData defines them. ``not`` binds to the comparison after it, so
``not a eq 'x'`` means ``not (a eq 'x')``. ``eq``/``ne`` are null-safe (``x ne 'a'`` is true when x is null).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Union

MAX_DEPTH = 64
COMPARISONS = {"eq": "IS", "ne": "IS NOT", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
KEYWORDS = {"and", "or", "not", "in", *COMPARISONS}
EDM_NAMES = {
    "string": "Edm.String", "int": "Edm.Int32", "number": "Edm.Double", "datetime": "Edm.DateTimeOffset",
    "date": "Edm.Date", "guid": "Edm.Guid", "bool": "Edm.Boolean", "null": "null",
}  # fmt: skip


class ODataError(ValueError):
    """A query option that cannot be parsed or is not supported; the message says what and where."""


@dataclass(frozen=True)
class Field:
    """A property of an entity type: its OData name, the SQL it filters and orders on, and its type.

    Args:
        name: the property name as returned (e.g. ``serialNumber``).
        sql: SQL expression over the entity's table, used in ``$filter`` and ``$orderby``.
        kind: ``string``, ``int``, ``number``, ``datetime``, ``guid`` or ``bool``.
        output: SQL expression for the returned value, when it differs from ``sql``.
        normalise: maps a literal compared with this property (e.g. result ``'P'`` → ``'Passed'``).
    """

    name: str
    sql: str
    kind: str
    output: str | None = None
    normalise: Callable[[Any], Any] | None = None

    @property
    def select_sql(self) -> str:
        return self.output or self.sql


@dataclass(frozen=True)
class EntitySchema:
    """The properties of one entity type and which of them ``$orderby`` and ``$expand`` may use."""

    type_name: str
    fields: Sequence[Field]
    orderable: Sequence[str] = ()
    expandable: Sequence[str] = ()
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> Field:
        found = self._by_name.get(name.lower())
        if found is None:
            raise ODataError(f"Could not find a property named '{name}' on type '{self.type_name}'.")
        return found


@dataclass
class Query:
    """A parsed query: SQL pieces (values only in ``params``), the page, and what to return."""

    where: str = "1"
    params: list[Any] = field(default_factory=list)
    order_by: str = ""
    top: int = 10
    skip: int = 0
    select: list[Field] = field(default_factory=list)
    expand: list[str] = field(default_factory=list)


# -- tokenizer ----------------------------------------------------------------------------------------

_TOKEN_PATTERNS = [
    ("ws", r"\s+"),
    ("string", r"'(?:[^']|'')*'"),
    ("guid", r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![\w-])"),
    ("datetime", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?(?![\w:.])"),
    ("date", r"\d{4}-\d{2}-\d{2}(?![\w:.-])"),
    ("number", r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])"),
    ("ident", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("punct", r"[(),]"),
]
_TOKENS = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _TOKEN_PATTERNS))


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """The tokens of a ``$filter`` expression, ending with an ``eof`` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKENS.match(text, pos)
        if match is None:
            if text[pos] == "'":
                raise ODataError(f"Unterminated string literal at position {pos} in $filter.")
            if text[pos] == "/":
                raise ODataError(f"Navigation paths ('/') are not supported in $filter (position {pos}).")
            # A date-time offset such as +02:00 sent without URL-encoding arrives as " 02:00".
            hint = " (send the '+' of a date-time offset URL-encoded, as %2B)" if text[pos] == ":" else ""
            raise ODataError(f"Syntax error at position {pos} in $filter: unexpected character {text[pos]!r}{hint}.")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


# -- syntax tree and parser ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    kind: str  # string, int, number, datetime, date, guid, bool, null
    value: Any
    pos: int


@dataclass(frozen=True)
class Property:
    name: str
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class InList:
    operand: Node
    items: tuple[Literal, ...]
    pos: int


@dataclass(frozen=True)
class Logical:
    op: str  # and, or
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Union[Literal, Property, Call, Compare, InList, Logical, Not]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _is_word(self, *words: str) -> bool:
        token = self.token
        if token.kind != "ident":
            return False
        if token.text in words:
            return True
        if token.text.lower() in words:
            raise ODataError(
                f"'{token.text}' at position {token.pos}: OData operators are lowercase, write '{token.text.lower()}'."
            )
        return False

    def _expect(self, text: str) -> Token:
        if self.token.text != text:
            raise ODataError(f"Syntax error at position {self.token.pos} in $filter: expected '{text}', "
                             f"found {self._describe(self.token)}.")  # fmt: skip
        return self._advance()

    @staticmethod
    def _describe(token: Token) -> str:
        return "the end of the expression" if token.kind == "eof" else f"'{token.text}'"

    def parse(self) -> Node:
        if self.token.kind == "eof":
            raise ODataError("$filter is empty.")
        node = self._or()
        if self.token.kind != "eof":
            raise ODataError(f"Syntax error at position {self.token.pos} in $filter: unexpected "
                             f"{self._describe(self.token)}.")  # fmt: skip
        return node

    def _or(self) -> Node:
        node = self._and()
        while self._is_word("or"):
            self._advance()
            node = Logical("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._is_word("and"):
            self._advance()
            node = Logical("and", node, self._not())
        return node

    def _not(self) -> Node:
        if self._is_word("not"):
            self._advance()
            return Not(self._nested(self._not))
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._operand()
        if self._is_word(*COMPARISONS):
            op = self._advance()
            return Compare(op.text, left, self._operand(), op.pos)
        if self._is_word("in"):
            where = self._advance().pos
            self._expect("(")
            items = [self._literal_item()]
            while self.token.text == ",":
                self._advance()
                items.append(self._literal_item())
            self._expect(")")
            return InList(left, tuple(items), where)
        return left

    def _literal_item(self) -> Literal:
        node = self._operand()
        if not isinstance(node, Literal):
            raise ODataError(f"The list after 'in' may hold only literals (position {self.token.pos}).")
        return node

    def _nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ODataError(f"$filter is nested too deeply (more than {MAX_DEPTH} levels).")
        try:
            return parse()
        finally:
            self.depth -= 1

    def _operand(self) -> Node:
        token = self.token
        if token.text == "(":
            self._advance()
            node = self._nested(self._or)
            self._expect(")")
            return node
        if token.kind in ("string", "guid", "datetime", "date", "number"):
            self._advance()
            return _literal(token)
        if token.kind == "ident":
            if token.text in KEYWORDS:
                raise ODataError(f"Syntax error at position {token.pos} in $filter: expected a value, found "
                                 f"'{token.text}'.")  # fmt: skip
            self._advance()
            if token.text in ("true", "false"):
                return Literal("bool", token.text == "true", token.pos)
            if token.text == "null":
                return Literal("null", None, token.pos)
            if self.token.text == "(":
                self._advance()
                args: list[Node] = []
                if self.token.text != ")":
                    args.append(self._nested(self._or))
                    while self.token.text == ",":
                        self._advance()
                        args.append(self._nested(self._or))
                self._expect(")")
                return Call(token.text, tuple(args), token.pos)
            return Property(token.text, token.pos)
        raise ODataError(f"Syntax error at position {token.pos} in $filter: expected a value, found "
                         f"{self._describe(token)}.")  # fmt: skip


def _literal(token: Token) -> Literal:
    text = token.text
    if token.kind == "string":
        return Literal("string", text[1:-1].replace("''", "'"), token.pos)
    if token.kind == "guid":
        return Literal("guid", text.lower(), token.pos)
    if token.kind in ("datetime", "date"):
        return Literal(token.kind, parse_datetime(text, f"position {token.pos}"), token.pos)
    if re.fullmatch(r"[-+]?\d+", text):
        return Literal("int", int(text), token.pos)
    return Literal("number", float(text), token.pos)


def parse_filter(text: str) -> Node:
    """The syntax tree of a ``$filter`` expression.

    Raises:
        ODataError: a syntax error, with its position.
    """
    return _Parser(text).parse()


def parse_datetime(text: str, where: str = "") -> datetime:
    """An aware UTC datetime from an OData date-time or date literal (no offset means UTC)."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?", text)
    try:
        if match is None:
            raise ValueError
        day, hour_minute, seconds, fraction, offset = match.groups()
        value = datetime.fromisoformat(f"{day}T{hour_minute or '00:00'}:{seconds or '00'}")
        value += timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))
        if offset and offset != "Z":
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            return (value - sign * delta).replace(tzinfo=timezone.utc)
        return value.replace(tzinfo=timezone.utc)
    except ValueError:
        raise ODataError(f"'{text}' is not a valid date/time" + (f" ({where})." if where else ".")) from None


def utc_text(value: datetime) -> str:
    """The sortable text form date-times are stored and compared in: ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- type checking and SQL ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sql:
    sql: str
    params: tuple[Any, ...]
    kind: str
    field: Field | None = None


def _template(template: str, *parts: _Sql) -> tuple[str, tuple[Any, ...]]:
    """Fill ``{0}``, ``{1}``... with the parts' SQL, collecting their parameters in order of use."""
    params: list[Any] = []

    def fill(match: re.Match[str]) -> str:
        part = parts[int(match.group(1))]
        params.extend(part.params)
        return part.sql

    return re.sub(r"\{(\d)\}", fill, template), tuple(params)


# name: (argument kinds, optional extra argument kinds, result kind, SQL template)
_FUNCTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str]] = {
    "contains": (("string", "string"), (), "bool", "(instr({0}, {1}) > 0)"),
    "startswith": (("string", "string"), (), "bool", "(instr({0}, {1}) = 1)"),
    "endswith": (("string", "string"), (), "bool",
                 "(length({0}) >= length({1}) AND substr({0}, length({0}) - length({1}) + 1) = {1})"),
    "tolower": (("string",), (), "string", "lower({0})"),
    "toupper": (("string",), (), "string", "upper({0})"),
    "trim": (("string",), (), "string", "trim({0})"),
    "length": (("string",), (), "int", "length({0})"),
    "indexof": (("string", "string"), (), "int", "(instr({0}, {1}) - 1)"),
    "substring": (("string", "int"), ("int",), "string", "substr({0}, {1} + 1)"),
    "concat": (("string", "string"), (), "string", "({0} || {1})"),
}  # fmt: skip


def _compatible(left: str, right: str) -> bool:
    groups = ({"int", "number"}, {"datetime", "date"})
    return left == right or any(left in group and right in group for group in groups)


class _Compiler:
    def __init__(self, schema: EntitySchema) -> None:
        self.schema = schema

    def boolean(self, node: Node) -> _Sql:
        compiled = self.compile(node)
        if compiled.kind != "bool":
            raise ODataError("The $filter expression must evaluate to true or false, "
                             f"not {EDM_NAMES[compiled.kind]}.")  # fmt: skip
        if compiled.field is not None or compiled.sql in ("?",):
            return _Sql(f"({compiled.sql} IS 1)", compiled.params, "bool")
        return compiled

    def compile(self, node: Node) -> _Sql:
        if isinstance(node, Literal):
            return self._literal(node)
        if isinstance(node, Property):
            found = self.schema.field(node.name)
            return _Sql(found.sql, (), found.kind, found)
        if isinstance(node, Logical):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return _Sql(f"({left.sql} {node.op.upper()} {right.sql})", left.params + right.params, "bool")
        if isinstance(node, Not):
            inner = self.boolean(node.operand)
            return _Sql(f"(NOT {inner.sql})", inner.params, "bool")
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, InList):
            return self._in(node)
        return self._call(node)

    def _literal(self, node: Literal, field: Field | None = None) -> _Sql:
        value = node.value
        if field is not None and field.normalise is not None and node.kind == "string":
            value = field.normalise(value)
        if node.kind in ("datetime", "date"):
            value = utc_text(value)
        elif node.kind == "bool":
            value = int(value)
        elif node.kind == "null":
            return _Sql("NULL", (), "null")
        return _Sql("?", (value,), node.kind)

    def _operands(self, left_node: Node, right_node: Node) -> tuple[_Sql, _Sql]:
        left, right = self.compile(left_node), self.compile(right_node)
        # A literal compared with a property may need the property's own spelling (result 'P' → 'Passed').
        if isinstance(right_node, Literal) and left.field is not None:
            right = self._literal(right_node, left.field)
        if isinstance(left_node, Literal) and right.field is not None:
            left = self._literal(left_node, right.field)
        return left, right

    def _compare(self, node: Compare) -> _Sql:
        left, right = self._operands(node.left, node.right)
        if "null" in (left.kind, right.kind):
            if node.op not in ("eq", "ne"):
                raise ODataError(f"null can only be compared with eq or ne (position {node.pos}).")
        elif not _compatible(left.kind, right.kind):
            raise ODataError(
                f"A binary operator with incompatible types was detected at position {node.pos}: "
                f"'{node.op}' between {EDM_NAMES[left.kind]} and {EDM_NAMES[right.kind]}."
            )
        elif left.kind == "bool" and node.op not in ("eq", "ne"):
            raise ODataError(f"true/false values can only be compared with eq or ne (position {node.pos}).")
        return _Sql(f"({left.sql} {COMPARISONS[node.op]} {right.sql})", left.params + right.params, "bool")

    def _in(self, node: InList) -> _Sql:
        operand = self.compile(node.operand)
        items = [self._literal(item, operand.field) for item in node.items]
        for item in items:
            if not _compatible(operand.kind, item.kind):
                raise ODataError(f"The list after 'in' at position {node.pos} holds {EDM_NAMES[item.kind]}, "
                                 f"but the value is {EDM_NAMES[operand.kind]}.")  # fmt: skip
        params = operand.params + tuple(param for item in items for param in item.params)
        return _Sql(f"({operand.sql} IN ({', '.join(item.sql for item in items)}))", params, "bool")

    def _call(self, node: Call) -> _Sql:
        name = node.name.lower()
        if name not in _FUNCTIONS:
            raise ODataError(f"'{node.name}' is not a supported function (position {node.pos}); supported: "
                             f"{', '.join(_FUNCTIONS)}.")  # fmt: skip
        required, optional, result, template = _FUNCTIONS[name]
        if not len(required) <= len(node.args) <= len(required) + len(optional):
            count = f"{len(required)}" + (f" or {len(required) + len(optional)}" if optional else "")
            raise ODataError(f"'{name}' takes {count} arguments, not {len(node.args)} (position {node.pos}).")
        args = [self.compile(arg) for arg in node.args]
        for index, (arg, kind) in enumerate(zip(args, required + optional)):
            if not _compatible(arg.kind, kind) or (kind == "int" and arg.kind == "number"):
                raise ODataError(f"Argument {index + 1} of '{name}' must be {EDM_NAMES[kind]}, "
                                 f"not {EDM_NAMES[arg.kind]} (position {node.pos}).")  # fmt: skip
        if name == "substring" and len(args) == 3:
            template = "substr({0}, {1} + 1, {2})"
        sql, params = _template(template, *args)
        return _Sql(sql, params, result)


def compile_filter(text: str, schema: EntitySchema) -> tuple[str, list[Any]]:
    """``$filter`` as a SQL condition and its parameters.

    Raises:
        ODataError: a syntax error, an unknown property or function, or mismatched types.
    """
    compiled = _Compiler(schema).boolean(parse_filter(text))
    return compiled.sql, list(compiled.params)


def compile_orderby(text: str, schema: EntitySchema) -> str:
    """``$orderby`` as a SQL ``ORDER BY`` list (properties limited to ``schema.orderable``)."""
    allowed = {name.lower() for name in schema.orderable}
    terms = []
    for raw in text.split(","):
        words = raw.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ODataError(f"'{raw.strip()}' in $orderby: write a property, then optionally asc or desc.")
        found = schema.field(words[0])
        if found.name.lower() not in allowed and words[0].lower() not in allowed:
            raise ODataError(f"$orderby is supported only on {', '.join(schema.orderable)}, not '{words[0]}'.")
        terms.append(f"{found.sql} {'DESC' if len(words) == 2 and words[1].lower() == 'desc' else 'ASC'}")
    return ", ".join(terms)


def _count(name: str, text: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise ODataError(f"{name} must be a whole number of at least 0, not '{text}'.")
    return int(text)


SUPPORTED_OPTIONS = ("$filter", "$orderby", "$top", "$skip", "$select", "$expand")


def parse_query(
    options: Mapping[str, str], schema: EntitySchema, *, default_order: str, default_top: int = 10,
    max_top: int = 10_000,
) -> Query:  # fmt: skip
    """All query options of a request (non-``$`` parameters are ignored).

    Raises:
        ODataError: an unsupported option or a bad value; the message names it.
    """
    query = Query(top=default_top, select=list(schema.fields), order_by=default_order)
    for name, value in options.items():
        if name.startswith("$") and name not in SUPPORTED_OPTIONS:
            raise ODataError(f"The query option '{name}' is not supported; supported: {', '.join(SUPPORTED_OPTIONS)}.")
    if options.get("$filter", "").strip():
        query.where, query.params = compile_filter(options["$filter"], schema)
    if options.get("$orderby", "").strip():
        query.order_by = compile_orderby(options["$orderby"], schema)
    if "$top" in options:
        query.top = _count("$top", options["$top"])
        if query.top > max_top:
            raise ODataError(f"The limit of '{max_top}' for $top has been exceeded: page with $skip.")
    if "$skip" in options:
        query.skip = _count("$skip", options["$skip"])
    if options.get("$select", "").strip() and options["$select"].strip() != "*":
        names = [name.strip() for name in options["$select"].split(",")]
        query.select = [schema.field(name) for name in dict.fromkeys(names) if name]
    if options.get("$expand", "").strip():
        expandable = {name.lower(): name for name in schema.expandable}
        for name in options["$expand"].split(","):
            if name.strip().lower() not in expandable:
                raise ODataError(f"'{name.strip()}' cannot be expanded; expandable: {', '.join(schema.expandable)}.")
            query.expand.append(expandable[name.strip().lower()])
    return query
