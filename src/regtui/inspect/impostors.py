"""Files saved under a model's name that are not models at all: a Git LFS pointer
left by a clone without `git lfs pull`, or the HTML page, XML or JSON error
document a failed download wrote in the model's place. Told by their first bytes;
each is damage, with a reason that says what happened.
"""

from __future__ import annotations

import re

# The pointer spec puts this line first (hawser was Git LFS's name before 1.0).
_LFS = (b"version https://git-lfs.github.com/spec/", b"version https://hawser.github.com/spec/")
_LFS_SIZE = re.compile(rb"\nsize (\d{1,20})\n")
_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"
_EXCERPT = 60


def lfs_pointer(head: bytes) -> str | None:
    """The damage reason for a Git LFS pointer, or None."""
    if not head.startswith(_LFS):
        return None
    m = _LFS_SIZE.search(head[:1024])
    real = f" for a file of {int(m.group(1))} bytes" if m else ""
    return f"Git LFS pointer{real}, not the model: run `git lfs pull`"


def error_page(head: bytes) -> tuple[str, str] | None:
    """(format, damage reason) for an HTML page or XML error document, or None."""
    text = head.lstrip(_BOM_AND_SPACE)
    low = text[:64].lower()
    if low.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "html", f"an HTML page, not a model: a failed download? ({excerpt(text)})"
    if low.startswith((b"<?xml", b"<error")):
        return "xml", f"an XML document, not a model: a failed download? ({excerpt(text)})"
    return None


def json_document(head: bytes) -> str:
    """The damage reason for a JSON document where a model should be."""
    text = head.lstrip(_BOM_AND_SPACE)
    return (
        f"a JSON document, not a model: an error response saved under a model's name? "
        f"({excerpt(text)})"
    )


def excerpt(data: bytes) -> str:
    """The first characters, printable ASCII only: artifact text is never markup or escapes."""
    text = data[: _EXCERPT * 4].decode("ascii", errors="replace")
    text = re.sub(r"[^\x21-\x7e]+", " ", text).strip()
    return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def may_be_json(head: bytes, size: int) -> bool:
    """A JSON document is never a model: it only explains damage."""
    return head.lstrip()[:1] == b"{"
