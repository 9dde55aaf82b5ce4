"""The watcher's event kinds are an enum whose values are a public contract:
`regtui watch --json` prints them as `event`, and the TUI's watch panel shows them."""

from __future__ import annotations

import json

from regtui.watch.events import EventKind, WatchEvent

# What `regtui watch --json` has always printed; scripts match on these words.
PRINTED = {
    "started",
    "ready",
    "registered",
    "exists",
    "refused",
    "waiting",
    "incomplete",
    "logged",
    "error",
    "skipped",
    "changed",
    "progress",
    "rescan",
    "stopped",
}


def test_event_kinds_keep_their_printed_values() -> None:
    assert {k.value for k in EventKind} == PRINTED
    assert all(k.name.lower() == k.value for k in EventKind)


def test_json_event_is_the_plain_word() -> None:
    for kind in EventKind:
        out = WatchEvent(kind, "/m/model.onnx", done=1, total=2).to_json()
        assert type(out["event"]) is str and out["event"] == kind.value
        assert json.loads(json.dumps(out))["event"] == kind.value
        assert ("done" in out) is (kind is EventKind.PROGRESS)
