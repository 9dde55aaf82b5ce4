"""Making untrusted text safe to print in a terminal.

Artifact text (names, model cards, metadata) may hold escape sequences, C1
controls or bidi overrides; printed raw they could recolour, move the cursor,
retitle the window or reorder what a reviewer reads. Here they become visible
escapes like `\\x1b` or `\\u202e`, so the text is shown, never acted on.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# C0 controls except tab and newline, DEL, the C1 range, and the Unicode
# bidi marks, embedding/override/isolate controls and line/paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_UNSAFE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
DEFAULT_LIMIT = 10_000


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, limit: int = DEFAULT_LIMIT, *, one_line: bool = False) -> str:
    """`value` as text with every control character made visible, cut at `limit`.

    `one_line` also escapes tabs and newlines (for table cells).
    """
    text = value if isinstance(value, str) else str(value)
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    text = (_UNSAFE_LINE if one_line else _UNSAFE).sub(_visible, text)
    return text + "…" if cut else text


def human_size(n: int) -> str:
    """Bytes in decimal units, as people read file sizes: 532 B, 23.3 kB, 1.2 GB."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def counted(n: int, noun: str, nouns: str | None = None) -> str:
    """`n` with its noun in the right number: 1 version, 2 versions, 1,234 versions."""
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"


_STRICT = json.JSONEncoder(ensure_ascii=True, allow_nan=False)


def json_text(value: Any, **options: Any) -> str:
    """JSON that every parser accepts: never NaN or Infinity (json.dumps' default
    writes both). A non-finite float (only a catalog written before regtui refused
    them can hold one) is written as the string "Infinity", "-Infinity" or "NaN".
    Non-ASCII is escaped, so control and bidi characters arrive as escapes."""
    encoder = (
        json.JSONEncoder(ensure_ascii=True, allow_nan=False, **options) if options else _STRICT
    )
    try:
        return encoder.encode(value)
    except ValueError:
        return encoder.encode(_finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def elide_middle(value: str, width: int) -> str:
    """`value` in at most `width` characters, cut in the middle: paths and hashes
    differ at their ends, so both ends stay visible."""
    if len(value) <= width:
        return value
    if width <= 1:
        return "…"[:width]
    head = (width - 1) // 2
    tail = width - 1 - head
    return value[:head] + "…" + (value[-tail:] if tail else "")


def elide_pair(a: str, b: str, width: int) -> tuple[str, str]:
    """Two values in at most `width` characters each, cut so that where they first
    differ stays visible in both (what a reviewer compares), else in the middle."""
    if len(a) <= width and len(b) <= width:
        return a, b
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    if a == b or common < (width - 1) // 2:
        # the first difference falls in the head that elide_middle keeps
        return elide_middle(a, width), elide_middle(b, width)

    def around(s: str) -> str:
        if len(s) <= width:
            return s
        # keep a little of the shared prefix for context, the rest from the difference on
        start = max(0, common - width // 4)
        window = s[start:]
        if len(window) + 1 <= width:
            return "…" + window
        return "…" + elide_middle(window, width - 1)

    return around(a), around(b)
