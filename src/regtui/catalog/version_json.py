"""A version's JSON text, built as a string: the fast path of `versions --json`.

`VersionInfo.to_json_text()` gives the same text as `json.dumps(v.to_json())`, but
JSON columns still held as text (SQLite's, already ASCII-escaped) are spliced in
and SQLite's UTC timestamps converted without parsing. Its pieces are derived once
from version_fields.FIELDS, like every other shape of the record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from regtui.catalog.clock import iso, utc
from regtui.catalog.version_fields import AT, FIELDS, Field, Kind
from regtui.text import json_text

if TYPE_CHECKING:
    from regtui.catalog.records import VersionInfo


def versions_json_text(versions: list[VersionInfo]) -> str:
    """A JSON list of versions, one per line, built without decoding what the
    database already holds as JSON text (the fast path of `versions --json`).
    Same content as [v.to_json() for v in versions]."""
    return ascii_json("[\n" + ",\n".join(v.to_json_text() for v in versions) + "\n]")


# Past ASCII, and DEL: json.dumps escapes it too (its escapes cover all but space to ~).
_NON_ASCII = re.compile(r"[^\x00-\x7e]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def ascii_json(text: str) -> str:
    """JSON text with every non-ASCII character written as a \\u escape (all of
    JSON's own syntax is ASCII, so only string contents change, not meaning).
    Stored JSON is spliced as stored, and a row written by another tool or an
    older release may hold raw non-ASCII text: it must not reach a terminal so."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _NON_ASCII.sub(_escape, text)


# JSON string literals with non-ASCII escaped (json's own C encoder), as
# json.dumps(ensure_ascii=True) writes them: control and bidi characters from
# artifacts must never reach a terminal raw.
_str: Callable[[str], str] = json.encoder.encode_basestring_ascii
_dumps: Callable[[Any], str] = json_text
# Stored JSON text that may hold a bare NaN/Infinity (json.dumps' default wrote
# them): such a value is decoded and re-encoded by json_text instead of spliced.
_MAYBE_NON_FINITE = re.compile(r"NaN|Infinity")


def _opt(value: str | None) -> str:
    return "null" if value is None else _str(value)


def _iso_text(value: Any) -> str | None:
    """iso(utc(value)), with SQLite's naive-UTC text converted without parsing."""
    if isinstance(value, str) and len(value) >= 19 and value[10] == " " and "+" not in value:
        return value.replace(" ", "T", 1) + "Z"
    return iso(utc(value))


def _json_part(v: VersionInfo, name: str, value: Any, cache: dict[str, Any] | None) -> str:
    """A JSON column's text as stored, else (decoded already, stored null, or
    possibly holding NaN) its value encoded anew."""
    if (
        not isinstance(value, str)
        or value == "null"
        or (cache is not None and name in cache)
        or _MAYBE_NON_FINITE.search(value)  # a row from before they were refused
    ):
        value = v._get(name)
        return _dumps(list(value) if isinstance(value, tuple) else value)
    return value


_Part = Callable[["VersionInfo", Any, "dict[str, Any] | None"], str]


def json_layout() -> list[str | Field]:
    """The shape of a version's JSON text, from version_fields.FIELDS: the fixed
    text between values (neighbours merged) and, where a value goes, its field.
    Both builders of the text (here, and SQLite's in version_json_sql) use it."""
    # (key, [(part name or None, field)], composite?): a composite's parts gather under its key.
    entries: list[tuple[str, list[tuple[str | None, Field]], bool]] = []
    for f in FIELDS:
        if not f.json:
            continue
        head, _, part = f.name.partition(".")
        if not part:
            entries.append((f.name, [(None, f)], False))
            continue
        if not entries or entries[-1][0] != head:
            entries.append((head, [], True))
        entries[-1][1].append((part, f))
    pieces: list[str | Field] = ["{"]
    for n, (key, parts, composite) in enumerate(entries):
        pieces.append((", " if n else "") + f'"{key}": ' + ("{" if composite else ""))
        for m, (sub, f) in enumerate(parts):
            if sub is not None:
                pieces.append((", " if m else "") + f'"{sub}": ')
            pieces.append(f)
        if composite:
            pieces.append("}")
    pieces.append("}")
    merged: list[str | Field] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def _json_text_parts() -> list[str | _Part]:
    """`json_text_of`'s pieces: json_layout with one small function per value.
    Built once at import (no code is generated or executed): `versions --json`
    joins them 100,000 times."""

    def encode(f: Field) -> _Part:
        if f.kind is Kind.JOINED:
            return joined[f.name]
        i, name = AT[f.name], f.name
        if f.kind is Kind.INT:
            return lambda v, r, c: f"{r[i]}"
        if f.kind is Kind.TEXT:
            return lambda v, r, c: _opt(r[i])
        if f.kind is Kind.FLAG:
            return lambda v, r, c: "true" if r[i] else "false"
        if f.kind is Kind.TIME:
            return lambda v, r, c: _opt(_iso_text(r[i]))
        return lambda v, r, c: _json_part(v, name, r[i], c)

    joined: dict[str, _Part] = {
        "model": lambda v, r, c: _str(v._model),
        "stages": lambda v, r, c: _dumps(list(v._stages)),
    }
    return [p if isinstance(p, str) else encode(p) for p in json_layout()]


_JSON_PARTS = _json_text_parts()


def json_text_of(v: VersionInfo, r: Any, cache: dict[str, Any] | None) -> str:
    return "".join([p if isinstance(p, str) else p(v, r, cache) for p in _JSON_PARTS])
