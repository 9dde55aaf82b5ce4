"""The --filter language, parsed with Lark and compiled to SQL (never eval'd).

    metrics.auc > 0.9 and (tags.team = 'growth' or format = 'onnx')
        and approval = 'approved' and not path like '%tmp%'

Fields: metrics.K, params.K, tags.K, metadata.K; format, framework, path,
sha256, approval, created_by, model, stage; version, size; created (ISO date);
archived (true/false); dataset (any of a version's datasets, by hash, path, URI
or name: `dataset = '<sha256>'`). A comparison on a key a version lacks is false
(so `not` of it is true). Numbers are ASCII; an integer past 64 bits compares as
a float, one past float range is an error; `not`/`and`/`or` nest at most
MAX_NESTING deep. Every error is a FilterError (a usage error) naming the column.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    intersect,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.types import Float, Text

from regtui.catalog.filter_fields import PLAIN_FIELDS, field_hint
from regtui.catalog.schema import (
    ModelRow,
    StageRow,
    VersionDatasetRow,
    VersionMetricRow,
    VersionRow,
    VersionTagRow,
)
from regtui.errors import FilterError
from regtui.inspect.bounds import is_finite_number

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negate
         | atom
?atom: "(" or_expr ")"
     | comparison
comparison: FIELD OP value                          -> compare
          | FIELD _LIKE STRING                      -> like
          | FIELD _NOT _LIKE STRING                 -> unlike
          | FIELD _IN "(" value ("," value)* ")"    -> within
?value: NUMBER -> number
      | STRING -> string
      | TRUE  -> true_
      | FALSE -> false_

_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_LIKE.2: /like\b/i
_IN.2: /in\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
FIELD: /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_\-\/.:]+|\."[^"\n]{1,128}")?/
OP: "==" | "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
NUMBER: /[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?/
STRING: /'([^'\\]|\\.)*'/ | /"([^"\\]|\\.)*"/
%ignore /\s+/
"""

MAX_FILTER_LEN = 4000
_NUMBER_RE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")

# A query of version ids from an index table. Typed, not Any: mypy (2.4) crashes
# inferring SQLAlchemy 2.1's TypeVarTuple `intersect(*ids)` when the ids are Any
# and an Any gives the call its context (`x if c else intersect(*xs)`).
Ids = Select[Any]

V = VersionRow.__table__
M = ModelRow.__table__
S = StageRow.__table__
VM = VersionMetricRow.__table__
VT = VersionTagRow.__table__
VD = VersionDatasetRow.__table__

TEXT_COLUMNS = {
    "format": V.c.format,
    "framework": V.c.framework,
    "path": V.c.path,
    "sha256": V.c.sha256,
    "approval": V.c.approval_status,
    "created_by": V.c.created_by,
    "model": M.c.name,
}
NUMBER_COLUMNS = {"version": V.c.number, "size": V.c.size_bytes}
JSON_COLUMNS = {
    "metrics": V.c.metrics,
    "params": V.c.params,
    "tags": V.c.tags,
    "metadata": V.c.meta,
}


@lru_cache(maxsize=1)
def _parser() -> Any:
    from lark import Lark

    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


def compile_filter(text: str, dialect: str, *, probes: bool = False) -> ColumnElement[bool]:
    """SQL condition on the version (joined with model) for a filter expression.
    `probes`: test each version by the index tables' primary keys, never list
    their matches (for a few versions already chosen, as a first page walks)."""
    if not text.strip():
        return true()
    if len(text) > MAX_FILTER_LEN:
        raise FilterError(f"longer than {MAX_FILTER_LEN} characters")
    from lark.exceptions import UnexpectedInput

    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        from regtui.catalog.filter_hints import parse_error

        raise parse_error(text, exc, _parser()) from None
    _check_nesting(tree)
    return _Compiler(dialect, probes).expr(tree)


MAX_NESTING = 32  # levels of `not` and parentheses: far past any real filter


def _check_nesting(tree: Any) -> None:
    """Refuse a filter nested past MAX_NESTING before anything recurses into it
    (compiling it, or SQL compiling the result, would run out of stack)."""
    from lark import Token, Tree

    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            tokens = node.scan_values(lambda v: isinstance(v, Token))
            first = next(iter(tokens), None)
            raise FilterError(
                f"nests deeper than {MAX_NESTING} levels of 'not' and parentheses",
                *(_span(first) if first is not None else ()),
            )
        if node.data in ("negate", "and_expr", "or_expr"):
            depth += 1
        stack.extend((c, depth) for c in node.children if isinstance(c, Tree))


def _unquote(token: str) -> str:
    body = token[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            i += 1
            ch = body[i]
        out.append(ch)
        i += 1
    return "".join(out)


class _Compiler:
    def __init__(self, dialect: str, probes: bool = False) -> None:
        self.pg = dialect == "postgresql"
        self.probes = probes
        # Conditions answered from an index table: id(condition) -> its id query,
        # whether it is an equality (likely few ids), and the same test as a
        # probe of one version (its index table's primary key finds the row).
        self.index_selects: dict[int, tuple[Ids, bool, ColumnElement[bool]]] = {}

    def indexed(
        self, ids: Ids, probe: ColumnElement[bool], *, equality: bool
    ) -> ColumnElement[bool]:
        if self.probes:
            return probe
        cond = V.c.id.in_(ids)
        self.index_selects[id(cond)] = (ids, equality, probe)
        return cond

    def expr(self, tree: Any) -> ColumnElement[bool]:
        kind = tree.data
        if kind == "or_expr":
            return or_(*(self.expr(c) for c in tree.children))
        if kind == "and_expr":
            parts = [self.expr(c) for c in tree.children]
            indexed = [self.index_selects[id(p)] for p in parts if id(p) in self.index_selects]
            if len(indexed) < 2:
                return and_(*parts)
            rest = [p for p in parts if id(p) not in self.index_selects]
            drivers = [ids for ids, equality, _ in indexed if equality]
            if not drivers:
                # Ranges only: one INTERSECT of the id lists, far cheaper than
                # probing every version against each list in turn.
                return and_(V.c.id.in_(intersect(*(ids for ids, _, _ in indexed))), *rest)
            # Equalities (tags.team = 'x') usually match few versions: their ids
            # drive, and the ranges (metrics.auc > 0.5, maybe half the catalog) are
            # checked per driven version by primary key instead of being listed in
            # full. At 100k versions: ~20 ms whatever the range, against 10-110 ms.
            probes = [probe for _, equality, probe in indexed if not equality]
            driver = drivers[0] if len(drivers) == 1 else intersect(*drivers)
            return and_(V.c.id.in_(driver), *probes, *rest)
        if kind == "negate":
            return not_(self.expr(tree.children[0]))
        if kind == "compare":
            field, op, value = tree.children
            return self.compare(field, op, value)
        if kind in ("like", "unlike"):
            field, pattern = tree.children
            head, _, key = str(field).partition(".")
            if head.lower() == "tags" and key:
                cond = self.indexed(
                    *_tagged(_strip_quotes(key), lambda col: col.like(_unquote(str(pattern)))),
                    equality=False,
                )
            elif head.lower() == "dataset" and not key:
                cond = self.indexed(
                    *_with_dataset(VD.c.ident.like(_unquote(str(pattern)))), equality=False
                )
            else:
                cond = self.text_of(str(field), field).like(_unquote(str(pattern)))
            return not_(cond) if kind == "unlike" else cond
        if kind == "within":
            field, *values = tree.children
            return or_(*(self.compare(field, None, v) for v in values))
        raise FilterError(f"unsupported construct {kind}")  # pragma: no cover

    def value(self, node: Any) -> Any:
        kind = node.data
        if kind == "number":
            return _number(node.children[0])
        if kind == "string":
            return _unquote(str(node.children[0]))
        return kind == "true_"

    def compare(self, field_tok: Any, op_tok: Any, node: Any) -> ColumnElement[bool]:
        """`field op value` (op_tok None: one value of `field in (...)`, an =)."""
        field = str(field_tok)
        op = {"==": "=", "<>": "!="}.get(str(op_tok), str(op_tok)) if op_tok else "="
        value = self.value(node)
        head, _, key = field.partition(".")
        head = head.lower()
        at_op = _span(op_tok) if op_tok is not None else _span(field_tok)
        at_value = _span(node.children[0])
        if head in ("stage", "dataset") and not key:
            if op not in ("=", "!="):
                raise FilterError(
                    f"{head} takes = or !=", *at_op, hint=f"{head} = '…' or {head} != '…'"
                )
            if not isinstance(value, str):
                example = "'production'" if head == "stage" else "'<sha256>', a path or a URI"
                raise FilterError(
                    f"{head} compares with text", *at_value, hint=f"{head} = {example}"
                )
            if head == "stage":
                held = exists(select(S.c.id).where(S.c.version_id == V.c.id, S.c.name == value))
                return held if op == "=" else not_(held)
            found = self.indexed(*_with_dataset(VD.c.ident == value), equality=True)
            return found if op == "=" else not_(found)
        if head == "archived" and not key:
            if op not in ("=", "!="):
                raise FilterError("archived takes = or !=", *at_op, hint="archived = true")
            if not isinstance(value, bool):
                raise FilterError(
                    "archived is true or false",
                    *at_value,
                    hint="archived = true or archived = false",
                )
            return _apply(V.c.archived, op, value)
        if head == "created" and not key:
            if not isinstance(value, str):
                raise FilterError(
                    "created compares with a date", *at_value, hint="created > '2026-11-01'"
                )
            from datetime import UTC, datetime

            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                raise FilterError(
                    f"{value[:40]!r} is not an ISO date", *at_value, hint="created > '2026-11-01'"
                ) from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return _apply(V.c.created_at, op, when)
        if head in NUMBER_COLUMNS and not key:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FilterError(
                    f"{head} compares with a number", *at_value, hint=_number_hint(field, op, node)
                )
            return _apply(NUMBER_COLUMNS[head], op, value)
        if head in TEXT_COLUMNS and not key:
            return _apply(TEXT_COLUMNS[head], op, _as_text(value))
        if head in JSON_COLUMNS and key:
            key = _strip_quotes(key)
            # Metrics and tags have index tables (migration 0004): use them.
            if head == "metrics" and isinstance(value, int | float) and not isinstance(value, bool):
                test = (VM.c.name == key, _apply(VM.c.value, op, float(value)))
                return self.indexed(
                    select(VM.c.version_id).where(*test),
                    exists(select(VM.c.version_id).where(VM.c.version_id == V.c.id, *test)),
                    equality=op == "=",
                )
            if head == "tags" and isinstance(value, str):
                return self.indexed(
                    *_tagged(key, lambda col: _apply(col, op, value)), equality=op == "="
                )
            col = JSON_COLUMNS[head]
            if isinstance(value, bool):
                return _apply(self.json_text(col, key), op, "true" if value else "false")
            if isinstance(value, int | float):
                return _apply(self.json_number(col, key), op, value)
            if head == "metrics":
                raise FilterError(
                    "metrics are numbers",
                    *at_value,
                    hint=_number_hint(field, op, node),
                )
            return _apply(self.json_text(col, key), op, value)
        raise FilterError(
            f"unknown field {field[:80]!r}", *_span(field_tok), hint=field_hint(field)
        )

    def text_of(self, field: str, tok: Any) -> ColumnElement[Any]:
        head, _, key = field.partition(".")
        head = head.lower()
        if head in TEXT_COLUMNS and not key:
            return TEXT_COLUMNS[head]
        if head in JSON_COLUMNS and key:
            return self.json_text(JSON_COLUMNS[head], _strip_quotes(key))
        known = head in TEXT_COLUMNS or head in JSON_COLUMNS or head in PLAIN_FIELDS
        raise FilterError(
            f"'like' needs a text field, not {field[:80]!r}",
            *_span(tok),
            hint=(
                "like takes "
                + ", ".join(TEXT_COLUMNS)
                + ", tags.NAME, params.NAME or metadata.NAME"
                if known
                else field_hint(field)
            ),
        )

    def json_number(self, col: Any, key: str) -> ColumnElement[Any]:
        """The key's value when it is a JSON number, else NULL (never a cast error)."""
        if self.pg:
            return case(
                (
                    func.jsonb_typeof(col.op("->")(key)) == "number",
                    sa_cast(col.op("->>")(key), Float),
                ),
                else_=None,
            )
        path = _sqlite_path(key)
        return case(
            (func.json_type(col, path).in_(("integer", "real")), func.json_extract(col, path)),
            else_=None,
        )

    def json_text(self, col: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        if self.pg:
            return col.op("->>")(key)
        path = _sqlite_path(key)
        return case(
            (func.json_type(col, path) == "text", func.json_extract(col, path)),
            (func.json_type(col, path).in_(("true", "false")), func.json_type(col, path)),
            (
                func.json_type(col, path).in_(("integer", "real")),
                sa_cast(func.json_extract(col, path), Text),
            ),
            else_=None,
        )


INT64 = 1 << 63


def _number(tok: Any) -> int | float:
    """A number token as SQL can bind it: an int within 64 bits (SQLite's INTEGER,
    PostgreSQL's bigint), else a finite float; past float range it is an error."""
    raw = str(tok)
    if not any(c in raw for c in ".eE") and -INT64 <= int(raw) < INT64:
        return int(raw)
    value = float(raw)
    if not is_finite_number(value):
        raise FilterError(f"number {raw[:40]!r} is out of range", *_span(tok))
    return value


def _span(tok: Any) -> tuple[int, int]:
    """(column, end column) of a token in the whole filter text, 1-based: the
    position in the text as typed, even when it spans lines."""
    return tok.start_pos + 1, tok.end_pos + 1


def _number_hint(field: str, op: str, node: Any) -> str:
    """The fix for text given where a number belongs: its quotes dropped when it
    holds a number, else an example."""
    if node.data == "string":
        inner = _unquote(str(node.children[0])).strip()
        if _NUMBER_RE.fullmatch(inner):
            return f"drop the quotes: {field} {op} {inner}"
    return f"e.g. {field} {op} " + ("3" if field.lower() in NUMBER_COLUMNS else "0.9")


def _strip_quotes(key: str) -> str:
    return key[1:-1] if key.startswith('"') else key


def _tagged(key: str, test: Any) -> tuple[Ids, ColumnElement[bool]]:
    """Versions with tag `key` whose value passes `test`, from the tag index: the
    ids as a query, and the same test as a probe of one version."""
    cond = (VT.c.key == key, test(VT.c.value))
    return (
        select(VT.c.version_id).where(*cond),
        exists(select(VT.c.version_id).where(VT.c.version_id == V.c.id, *cond)),
    )


def _with_dataset(test: ColumnElement[bool]) -> tuple[Ids, ColumnElement[bool]]:
    """Versions with a dataset identity passing `test`, from the dataset index:
    the ids as a query, and the same test as a probe of one version."""
    return (
        select(VD.c.version_id).where(test),
        exists(select(VD.c.version_id).where(VD.c.version_id == V.c.id, test)),
    )


def _sqlite_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _apply(col: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    # With an Any operand mypy types `col == value` as Any; it is always a condition.
    cond: ColumnElement[bool]
    if op == "=":
        cond = col == value
    elif op == "!=":
        cond = col != value
    elif op == "<":
        cond = col < value
    elif op == "<=":
        cond = col <= value
    elif op == ">":
        cond = col > value
    else:
        cond = col >= value
    return cond
