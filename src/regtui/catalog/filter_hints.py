"""A filter that does not parse, as a FilterError that points at the offending
token and says the likely fix: quotes around a bare word where text belongs, an
operator where one is missing, `and`/`or` between two conditions.

Lark says where parsing stopped and what it expected there; the tokens before
that point (lexed again, they parsed) say which field the value was meant for.
"""

from __future__ import annotations

import re
from typing import Any

from regtui.catalog.filter_fields import KEYED_FIELDS, kind_of
from regtui.errors import FilterError

VALUE_TERMINALS = {"NUMBER", "STRING", "TRUE", "FALSE"}
OPERATORS = "= != < <= > >= like in"
# A bare word as a person typed it: up to a space, a quote, a parenthesis or a comma.
_WORD = re.compile(r"[^\s(),'\"]+")
# Characters other query languages use, and what this one says instead.
CHARACTER_HINTS = {
    "&": "join conditions with and",
    "|": "join conditions with or",
    "!": "negate with not; != compares",
    ";": "one filter expression: join conditions with and / or",
    "`": "quote text with ' or \"",
    "[": "list values with in (…)",
    "{": "list values with in (…)",
    "'": "text ends with a closing '",
    '"': 'text ends with a closing "',
}
# Two operators typed the other way round.
SWAPPED = {("=", ">"): ">=", ("=", "<"): "<=", ("=", "!"): "!=", ("<", ">"): "!="}
SHOWN = 40  # characters of an offending token quoted in the message


def parse_error(text: str, exc: Any, parser: Any) -> FilterError:
    """The FilterError for Lark's UnexpectedInput `exc` on `text`."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    if isinstance(exc, UnexpectedCharacters):
        pos = min(exc.pos_in_stream or 0, len(text) - 1)
        char = text[pos]
        before = _tokens(parser, text[:pos])
        hint = CHARACTER_HINTS.get(char)
        if hint is None and expected & VALUE_TERMINALS and _WORD.match(text, pos):
            # A bare word that starts with a letter no token takes (é): all of it.
            word = _word(text, pos)
            shown = word[:SHOWN]
            return FilterError(
                f"unexpected {shown!r}", pos + 1, pos + 1 + len(word), _value_hint(before, word)
            )
        return FilterError(f"unexpected character {char!r}", pos + 1, pos + 2, hint)
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        end = len(text.rstrip()) + 1
        return FilterError("ends too early", end, end + 1, _missing_hint(text, parser, expected))
    token = exc.token
    start = token.start_pos
    before = _tokens(parser, text[:start])
    end = token.end_pos
    hint = None
    if expected & VALUE_TERMINALS:
        if token.type == "OP" and before and before[-1].type == "OP":
            swapped = SWAPPED.get((str(before[-1]), str(token)))
            hint = f"did you mean {swapped}?" if swapped else "one operator per comparison"
        else:
            # A bare word may lex as several tokens (team-7): point at all of it.
            word = _word(text, start)
            end = max(end, start + len(word))
            hint = _value_hint(before, word)
    elif expected & {"OP", "_LIKE", "_IN"}:
        hint = f"a comparison needs an operator after the field: {OPERATORS}"
    elif expected & {"_AND", "_OR"}:
        hint = "join two conditions with and / or"
    elif "FIELD" in expected:
        hint = "a condition starts with a field, e.g. version = 3"
    shown = text[start:end][:SHOWN]
    return FilterError(f"unexpected {shown!r}", start + 1, end + 1, hint)


def _tokens(parser: Any, prefix: str) -> list[Any]:
    """The tokens of the part of the filter that parsed (empty if it will not lex)."""
    from lark.exceptions import UnexpectedInput

    try:
        return list(parser.lex(prefix))
    except UnexpectedInput:  # only a guess for a hint rides on it
        return []


def _word(text: str, pos: int) -> str:
    match = _WORD.match(text, pos)
    return match.group() if match else text[pos : pos + 1]


def _field_before(tokens: list[Any]) -> tuple[str, str] | None:
    """(field, how it compares: the operator, 'like' or 'in') of the comparison
    the value at the end of `tokens` belongs to."""
    how = None
    for tok in reversed(tokens):
        if tok.type == "FIELD":
            return str(tok), how or "="
        if tok.type == "OP" and how is None:
            how = str(tok)
        elif tok.type in ("_LIKE", "_IN"):
            how = str(tok).lower()
        elif tok.type in ("_AND", "_OR"):
            break
    return None


def _value_hint(before: list[Any], word: str) -> str | None:
    """The fix for `word` (bare) where a value belongs."""
    if not word.isprintable():
        return None
    found = _field_before(before)
    field, how = found if found else ("", "=")
    head = word.partition(".")[0].lower()
    if "." in word and head in KEYED_FIELDS:
        return "compare a field with a value, not with another field"
    kind = kind_of(field) if field else None
    quoted = "'" + word + "'"
    example = f"{field} {how} {quoted}" if field else quoted
    if kind == "number":
        return f"{field} compares with a number, e.g. {field} {how if how != 'like' else '='} 3"
    if kind == "date":
        return f"put the date in quotes, e.g. {field} {how} '2026-11-01'"
    if kind == "bool":
        return f"{field} is true or false, e.g. {field} = true"
    return f"put text in quotes: {f'in ({quoted}, …)' if how == 'in' else example}"


def _missing_hint(text: str, parser: Any, expected: set[str]) -> str:
    """What the filter lacks at its end."""
    tokens = _tokens(parser, text)
    last = str(tokens[-1]) if tokens else ""
    if expected & VALUE_TERMINALS and tokens:
        return f"add a value after {last!r}"
    if expected & {"OP", "_LIKE", "_IN"} and tokens:
        return f"add an operator and a value after {last!r}: {OPERATORS}"
    if "FIELD" in expected and tokens:
        return f"add a condition after {last!r}"
    depth = sum(t.type == "LPAR" for t in tokens) - sum(t.type == "RPAR" for t in tokens)
    if depth > 0:
        return "close the parenthesis with ')'" if depth == 1 else f"add {depth} ')'"
    return "a value or ')' is missing"
