"""An audit event's change in a table cell: fitted to the width, never hiding what changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.catalog import hooks
from regtui.catalog.records import AuditEvent
from regtui.tui.audit_change import change_cell, full_value, origin, parts

WORDS = st.text(alphabet="abcdefghij/._-0123456789 ", min_size=0, max_size=120)
CONTROLS = "\x1b\x9b\u202e\x00\x07"


def event(before: Any, after: Any, reason: str | None = None) -> AuditEvent:
    return AuditEvent(
        seq=1,
        at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        actor="alice",
        action="edited",
        model="m",
        target="m",
        before=before,
        after=after,
        reason=reason,
        prev_hash="0" * 64,
        hash="1" * 64,
    )


@given(WORDS, WORDS, st.integers(30, 160))
def test_a_changed_value_shows_different_on_each_side(a: str, b: str, width: int) -> None:
    """However long the two values and wherever they differ, the cell's before and
    after differ: the cut keeps where they differ (elide_pair), never hides it."""
    cell = change_cell(event({"path": a}, {"path": b}), width)
    assert len(cell) <= width
    shown = cell.removeprefix("path: ")
    before, after = shown.split(" → ")
    assert (before == after) == (a == b)


@given(
    st.dictionaries(st.sampled_from("abcdefgh"), WORDS, max_size=6),
    st.dictionaries(st.sampled_from("abcdefgh"), WORDS, max_size=6),
    st.integers(30, 160),
)
def test_a_cell_fits_its_width(before: dict[str, str], after: dict[str, str], width: int) -> None:
    assert len(change_cell(event(before, after), width)) <= width


@given(st.text(alphabet=CONTROLS + "[]/@=ab\n\t", max_size=80), st.integers(30, 120))
def test_controls_are_shown_as_escapes(value: str, width: int) -> None:
    cell = change_cell(event({"k": "x"}, {"k": value}), width)
    assert not any(c in cell for c in CONTROLS + "\n\t")
    assert not any(c in full_value(value) for c in CONTROLS)


def test_only_the_changed_fields_are_in_the_cell() -> None:
    cell = change_cell(
        event({"description": "same", "tags": {}}, {"description": "same", "tags": {"a": 1}}), 80
    )
    assert cell == 'tags: {} → {"a": 1}'


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, {"name": "m"}, [("name", False, True)]),
        ({"version": 2}, {"version": 1}, [("version", True, True)]),
        ({"a": 1, "b": 2}, {"b": 3}, [("a", True, False), ("b", True, True)]),
        ("pending", "approved", [(None, True, True)]),
        ({"a": 1}, "x", [(None, True, True)]),
        (None, None, []),
    ],
)
def test_parts_field_by_field(before: Any, after: Any, expected: list[tuple]) -> None:
    assert [(p.key, p.had_before, p.has_after) for p in parts(event(before, after))] == expected


def test_full_value_keeps_lines_and_indents_json() -> None:
    assert full_value("a\nb") == "a\nb"
    assert full_value({"team": "demo"}) == '{\n  "team": "demo"\n}'
    assert full_value("") == '""' and full_value(None) == "none"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("imported from MLflow sqlite:///m.db", "imported from MLflow sqlite:///m.db"),
        ("approved (imported from MLflow ./mlruns)", "imported from MLflow ./mlruns"),
        ("ship it", None),
        (None, None),
    ],
)
def test_origin_of_an_imported_change(reason: str | None, expected: str | None) -> None:
    assert origin(event(None, {"a": 1}, reason)) == expected


HOOK_ACTIONS = st.lists(
    st.sampled_from(sorted(hooks.READABLE)), min_size=1, max_size=8, unique=True
)


@given(
    st.from_regex(hooks.HOOK_NAME, fullmatch=True),
    HOOK_ACTIONS,
    st.sampled_from(hooks.KINDS),
    st.text(alphabet="abc /-:." + CONTROLS, min_size=1, max_size=150),
    st.none() | st.just("churn"),
    st.none() | st.just("production"),
    st.booleans(),
    st.sampled_from(["hook_added", "hook_removed"]),
    st.integers(8, 200),
)
def test_a_hook_event_reads_as_the_hook_name_kind_and_events(
    name: str,
    actions: list[str],
    kind: str,
    target: str,
    model: str | None,
    stage: str | None,
    secret: bool,
    action: str,
    width: int,
) -> None:
    """A hook_added / hook_removed cell is the hook as `hook list` puts it (name, kind,
    the events by the names a payload carries, filters, then the command or URL cut in
    the middle), never a cut list of its config's values, and never wider than asked."""
    config = hooks.hook_config(name, actions, model, stage, kind, target, secret, 60.0)
    added = action == "hook_added"
    e = replace(event(None if added else config, config if added else None), action=action)
    cell = change_cell(e, width)
    assert len(cell) <= width
    assert not set(CONTROLS) & set(cell)
    assert "60.0" not in cell and "timeout" not in cell
    assert cell.endswith("→ —") == (not added)
    only = "".join(f" {k}={v}" for k, v in (("model", model), ("stage", stage)) if v)
    head = f"{name}: {kind} on {','.join(hooks.READABLE[a] for a in actions)}{only}: "
    if len(head) + 6 + 4 <= width:
        assert cell.startswith(head)
    else:
        assert cell.startswith(head[: min(len(name), width - 6)])
