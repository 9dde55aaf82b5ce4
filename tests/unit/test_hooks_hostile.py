"""Hooks against hostile or careless input (review findings): text no environment
can hold, a `hook test` that must not name a real version, a URL holding a
password, a command printing without end or leaving a child behind."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from regtui.catalog import input_checks
from regtui.catalog.hook_delivery import Retry
from regtui.catalog.service import Catalog
from regtui.errors import UsageError
from tests.support.patience import patient
from tests.unit.helpers import catalog_with_versions

ONCE = Retry(attempts=1, backoff=0)


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    return catalog_with_versions(str(tmp_path / "c.sqlite"), tmp_path / "art", 3)


def env_and_stdin(out: Path) -> str:
    """A command writing REGTUI_REASON, REGTUI_TEST, REGTUI_PATH and stdin to files
    `out`.reason, .test, .path, .json (exact bytes: printf %s, no newline added)."""
    keep = "; ".join(
        f"printf %s \"$REGTUI_{k.upper()}\" > '{out}.{k}'" for k in ("reason", "test", "path")
    )
    return f"{keep}; cat > '{out}.json'"


def got(out: Path) -> tuple[str, str, str, dict[str, object]]:
    read = [Path(f"{out}.{k}").read_bytes().decode() for k in ("reason", "test", "path", "json")]
    return read[0], read[1], read[2], json.loads(read[3])


@pytest.mark.parametrize(
    "reason",
    ["nul\x00inside", "\x00", "two\nlines $(touch PWNED) `id`", "\x1b[31mred\x07", "é" * 2000],
)
def test_a_reason_no_environment_can_hold_is_delivered_and_later_hooks_still_go(
    cat: Catalog, tmp_path: Path, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "\x00" in reason:
        # Refused since (input_checks.refuse_nul); a SQLite catalog written before
        # may hold one, and its hooks must still go.
        monkeypatch.setattr(input_checks, "refuse_nul", lambda value, what: None)
    out, after = tmp_path / "a.txt", tmp_path / "b.txt"
    cat.add_hook("a", ["metrics_logged"], run=env_and_stdin(out))
    cat.add_hook("b", ["metrics_logged"], run=f"cat > '{after}'")
    cat.log("churn:1", metrics={"x": 1.0}, reason=reason)
    seen = []
    cat.hook_deliverer(ONCE, on_attempt=seen.append).run_once()
    assert sorted((a.hook, a.ok) for a in seen) == [
        ("a", True),
        ("b", True),
    ]  # hooks run side by side
    env_reason, test_flag, _path, data = got(out)
    stored = cat.audit_events(action="logged")[-1].reason
    assert stored is not None and env_reason == stored.replace("\x00", "\ufffd")
    assert data["reason"] == stored  # stdin keeps the exact text
    assert test_flag == ""
    assert json.loads(after.read_text())["reason"] == stored
    assert not list(tmp_path.rglob("PWNED"))


@pytest.mark.parametrize(
    "event", ["approved", "rejected", "promoted", "rolled_back", "archived", "metrics_logged"]
)
def test_hook_test_with_nothing_matched_names_no_real_version(
    cat: Catalog, tmp_path: Path, event: str
) -> None:
    out = tmp_path / "t.txt"
    stage = "production" if event in ("promoted", "rolled_back") else None
    cat.add_hook("deploy", [event], run=env_and_stdin(out), model="churn", stage=stage)
    ev, attempt = cat.test_hook("deploy")
    assert ev.seq == 0 and attempt.ok  # made up: churn:1 exists but was never this event
    _reason, test_flag, path, data = got(out)
    assert (data["version"], data["path"], data["sha256"], data["test"]) == (None, None, None, True)
    assert (path, test_flag) == ("", "1")


@pytest.mark.parametrize(
    "url",
    [
        "http://bob:hunter2@127.0.0.1:9/x",
        "https://hunter2@ci.example/hook",
        "http://:hunter2@127.0.0.1/",
        "HTTPS://bob:hunter2@CI.example:8443/a?b=c",
    ],
)
def test_a_post_url_holding_credentials_is_refused_and_never_echoed(cat: Catalog, url: str) -> None:
    before = cat.audit_head()
    with pytest.raises(UsageError) as err:
        cat.add_hook("ci", ["approved"], post=url)
    assert "hunter2" not in str(err.value) and "\n" not in str(err.value)
    assert cat.audit_head() == before and cat.hooks() == []


def test_output_is_read_from_a_pipe_and_dropped_past_the_limit(cat: Catalog) -> None:
    # 64 MB of output: with the output spooled to a file this would land on disk.
    cat.add_hook(
        "loud",
        ["approved"],
        run="stat -L -c %F /proc/self/fd/1; head -c 64000000 /dev/zero | tr '\\0' A",
        timeout=patient(60),
    )
    cat.approve("churn:1", "ok")
    seen = []
    cat.hook_deliverer(ONCE, on_attempt=seen.append).run_once()
    [attempt] = seen
    assert attempt.ok, attempt.output
    assert attempt.output.startswith("fifo") and len(attempt.output.encode()) <= 2048 * 4


def test_a_child_left_running_with_the_output_open_does_not_hold_the_attempt(
    cat: Catalog,
) -> None:
    cat.add_hook("bg", ["approved"], run="echo started; sleep 30 & exit 0", timeout=patient(20))
    cat.approve("churn:1", "ok")
    seen = []
    cat.hook_deliverer(ONCE, on_attempt=seen.append).run_once()
    [attempt] = seen
    assert attempt.ok and attempt.output == "started\n"
    assert attempt.duration < 5


def test_a_hook_added_again_under_its_name_starts_with_a_clean_record(cat: Catalog) -> None:
    cat.add_hook("h", ["metrics_logged"], run="exit 1")
    cat.log("churn:1", metrics={"a": 1.0}, reason="x")
    cat.hook_deliverer(ONCE).run_once()
    [old] = cat.hooks()
    assert (old.delivered, old.failed) == (0, 1) and old.last_failure is not None
    cat.remove_hook("h", "redo")
    cat.add_hook("h", ["metrics_logged"], run="true")
    [new] = cat.hooks()
    assert (new.delivered, new.failed, new.last_failure, new.last_delivery) == (0, 0, None, None)
    cat.log("churn:2", metrics={"a": 2.0}, reason="y")
    cat.hook_deliverer(ONCE).run_once()
    [new] = cat.hooks()
    assert (new.delivered, new.failed, new.last_failure) == (1, 0, None)


def test_a_post_answered_too_slowly_times_out_at_the_hook_timeout(cat: Catalog) -> None:
    class Trickle(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:  # each byte well within the socket timeout, the sum not
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "40")
            self.end_headers()
            for _ in range(40):
                if done.wait(0.2):
                    return
                self.wfile.write(b"x")
                self.wfile.flush()

    done = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        cat.add_hook("slow", ["metrics_logged"], post=url, timeout=1.0)
        cat.log("churn:1", metrics={"a": 1.0}, reason="x")
        seen = []
        cat.hook_deliverer(ONCE, on_attempt=seen.append).run_once()
        [attempt] = seen
        assert not attempt.ok and attempt.status is None and "timed out" in attempt.output
        assert attempt.duration < patient(3)
    finally:
        done.set()
        server.shutdown()
        server.server_close()
