"""The filter language's field names, kept free of SQLAlchemy (the CLI's quick path
asks them too): which fields there are, what kind of value each compares with, the
known field a misspelt name most likely meant, and the field an order-by names."""

from __future__ import annotations

from difflib import get_close_matches
from typing import Literal

from regtui.errors import FilterError

TEXT_FIELDS = ("format", "framework", "path", "sha256", "approval", "created_by", "model")
NUMBER_FIELDS = ("version", "size")
# Fields that take a key: metrics.auc, tags."team name".
KEYED_FIELDS = ("metrics", "params", "tags", "metadata")
PLAIN_FIELDS = (*TEXT_FIELDS, *NUMBER_FIELDS, "created", "archived", "stage", "dataset")
# What an order-by takes: one value per version (a version may hold several
# stages and datasets, so those two cannot order).
ORDER_PLAIN = (*TEXT_FIELDS, *NUMBER_FIELDS, "created", "archived")

Kind = Literal["number", "text", "date", "bool", "any"]
# Metric values are numbers and tag values text; params and metadata hold either.
KEYED_KIND: dict[str, Kind] = {
    "metrics": "number",
    "tags": "text",
    "params": "any",
    "metadata": "any",
}


def split(field: str) -> tuple[str, str]:
    """(head lowercased, key without its double quotes; "" for a plain field)."""
    head, _, key = field.partition(".")
    if key.startswith('"') and key.endswith('"') and len(key) >= 2:
        key = key[1:-1]
    return head.lower(), key


def kind_of(field: str) -> Kind | None:
    """What `field` compares with (None: no such field)."""
    head, key = split(field)
    if key:
        return KEYED_KIND.get(head)
    if head in NUMBER_FIELDS:
        return "number"
    if head == "created":
        return "date"
    if head == "archived":
        return "bool"
    if head in (*TEXT_FIELDS, "stage", "dataset"):
        return "text"
    return None


def field_hint(field: str, plain: tuple[str, ...] = PLAIN_FIELDS) -> str:
    """The likely fix for an unknown field name: the nearest known one."""
    head, dot, key = field.partition(".")
    lower = head.lower()
    keyed = [f"{k}.{key}" if dot and key else f"{k}.NAME" for k in KEYED_FIELDS]
    if dot and lower in plain:
        return f"{lower} takes no key: {lower} = …"
    if not dot and lower in KEYED_FIELDS:
        return f"{lower} needs a key: {lower}.NAME"
    if dot:
        near = get_close_matches(lower, KEYED_FIELDS, n=1, cutoff=0.6)
        if near:
            return f"did you mean {near[0]}.{key}?"
        return "fields with a key are " + ", ".join(keyed)
    near = get_close_matches(lower, [*plain, *KEYED_FIELDS], n=1, cutoff=0.6)
    if near and near[0] in KEYED_FIELDS:
        return f"did you mean {near[0]}.NAME?"
    if near:
        return f"did you mean {near[0]}?"
    return "fields are " + ", ".join([*plain, *keyed])


def order_field(text: str, label: str = "order by") -> tuple[str, str]:
    """The (head, key) an order-by names: a field of ORDER_PLAIN or a keyed field
    with its key. Anything else is a FilterError naming the nearest field."""
    field = text.strip()
    head, key = split(field)
    if (head in ORDER_PLAIN and "." not in field) or (head in KEYED_FIELDS and key):
        return head, key
    if head in ("stage", "dataset") and "." not in field:
        raise FilterError(
            f"cannot order by {head}",
            hint="a version may hold several of them; order by created, version, "
            "metrics.NAME or another field with one value",
            label=label,
        )
    raise FilterError(
        f"unknown field {field[:80]!r}", hint=field_hint(field, ORDER_PLAIN), label=label
    )
