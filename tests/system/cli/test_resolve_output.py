"""`resolve` as serving code and people use it, in a real subprocess: to a terminal
(a pty) a path's control characters show as visible escapes; to a pipe the exact
bytes go out, newline-ended, or NUL-ended with `-0`; `--json` round-trips. And the
commands that print catalog text show a hostile format, state or stage escaped."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.catalog.refs import Ref
from regtui.catalog.service import Catalog
from tests.unit.cli.test_injection import assert_terminal_safe
from tests.unit.helpers import model_bytes

# File names an artifact's producer may choose: escape sequences (CSI, OSC with
# BEL, a screen clear), C1 controls, bidi overrides, a tab and a newline.
HOSTILE_NAMES = [
    "m\x1b[31mred\x1b[0m.safetensors",
    "m\x1b]0;pwned\x07.safetensors",
    "m\x1b[2J\x1b[H.safetensors",
    "m\x9b31m\x85.safetensors",
    "m\u202eevil\u202c.safetensors",
    "m\u2066x\u2069\u200f.safetensors",
    "m\tt\x7f.safetensors",
    "m\nnewline.safetensors",
]


def _env(db: Path) -> dict[str, str]:
    return {**os.environ, "REGTUI_DB": str(db), "REGTUI_USER": "alice"}


def _catalog(tmp_path: Path, name: str, model: str = "m") -> tuple[Path, Path]:
    """A catalog whose model `model` has its one version in staging, at a file `name`."""
    db = tmp_path / "cat.sqlite"
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / name
    path.write_bytes(model_bytes(name))
    with Catalog(db, user="alice") as cat:
        cat.register(path, model)
        cat.promote(str(Ref(model, 1)), "staging")
    return db, path


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "regtui", *args]
    return subprocess.run(cmd, capture_output=True, env=_env(db), timeout=120)


def _on_tty(db: Path, *args: str) -> str:
    """What the command writes to a terminal: its stdout is a pty."""
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "regtui", *args]
    proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.PIPE, env=_env(db))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else b""
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_resolve_to_a_terminal_escapes_the_path(tmp_path: Path, name: str) -> None:
    db, _ = _catalog(tmp_path, name)
    shown = _on_tty(db, "resolve", "m@staging")
    assert_terminal_safe(shown)
    assert shown.count("\n") == 1, "one line, even for a name holding a newline"
    assert str(tmp_path) in shown  # the rest of the path as it is


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_resolve_to_a_pipe_writes_the_exact_bytes(tmp_path: Path, name: str) -> None:
    db, path = _catalog(tmp_path, name)
    plain = _cli(db, "resolve", "m@staging")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == os.fsencode(path) + b"\n"
    nul = _cli(db, "resolve", "-0", "m@staging")
    assert nul.returncode == 0, nul.stderr
    assert nul.stdout == os.fsencode(path) + b"\0"
    assert Path(os.fsdecode(nul.stdout[:-1])).read_bytes() == path.read_bytes()
    as_json = _cli(db, "resolve", "--json", "m@staging")
    assert as_json.stdout.isascii()
    assert json.loads(as_json.stdout)["serve_path"] == str(path)


def test_a_newline_in_the_path_is_pointed_out_to_line_readers(tmp_path: Path) -> None:
    db, _ = _catalog(tmp_path, "m\nx.safetensors")
    proc = _cli(db, "resolve", "m@staging")
    assert b"-0" in proc.stderr and b"newline" in proc.stderr
    assert _cli(db, "resolve", "-0", "m@staging").stderr == b""


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("format", "\x1b[2Jsafetensors"),
        ("approval_status", "pending\x1b]0;x\x07"),
        ("artifact_state", "changed\u202e"),
        ("sha256", "\x1b[31m" + "0" * 58),
    ],
)
def test_show_escapes_catalog_text_a_table_edit_planted(
    tmp_path: Path, column: str, value: str
) -> None:
    """The catalog's own columns are escaped too: a hostile value planted in the
    file (or by an old import) is shown, never acted on."""
    db, _ = _catalog(tmp_path, "m.safetensors")
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE version SET {column} = ?", (value,))
        conn.execute("UPDATE stage SET name = ?", ("st\x1b[5m",))
    shown = _on_tty(db, "show", "m:1")
    assert_terminal_safe(shown)
    assert "\\x1b" in shown or "\\u202e" in shown


@pytest.mark.parametrize("model", ["m", "Team Model", "team:m", "a@b"])
def test_resolve_refuses_a_file_swapped_in_the_table_and_audit_names_it(
    tmp_path: Path, model: str
) -> None:
    """path and sha256 edited together to other real bytes: the re-hash would pass;
    resolve refuses (exit 7, nothing on stdout) and `audit --verify` names the row,
    whatever the model is called (the registration event is found by name)."""
    db, _ = _catalog(tmp_path, "m.safetensors", model)
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(model_bytes("evil"))
    sha = hashlib.sha256(evil.read_bytes()).hexdigest()
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE version SET path = ?, sha256 = ?, size_bytes = ?",
            (str(evil), sha, evil.stat().st_size),
        )
    served = _cli(db, "resolve", str(Ref(model, stage="staging")))
    assert served.returncode == 7 and served.stdout == b""
    assert b"audit log" in served.stderr
    audited = _cli(db, "audit", "--verify")
    assert audited.returncode == 8
    assert f"{model}:1".encode() in audited.stdout and b"sha256" in audited.stdout
    as_json = json.loads(_cli(db, "audit", "--verify", "--json").stdout)
    assert as_json["ok"] is False and as_json["chain_ok"] is True
    assert {m["field"] for m in as_json["mismatches"]} >= {"path", "sha256"}
    assert _cli(db, "verify").returncode == 9


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_import_of_deeply_nested_json_is_a_usage_error(tmp_path: Path, depth: int) -> None:
    file = tmp_path / "deep.json"
    file.write_text("[" * depth + "]" * depth)
    proc = _cli(tmp_path / "t.sqlite", "import", str(file))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr


@pytest.mark.parametrize("edit", ["pending", "rejected", "damaged", "archived"])
def test_resolve_refuses_a_stage_pointer_that_breaks_the_policy(tmp_path: Path, edit: str) -> None:
    """A protected stage pointed, outside regtui, at a version the policy forbids there
    is not served (the audit replay names the edit; resolve must not act on it)."""
    db, path = _catalog(tmp_path, "model.safetensors")
    with Catalog(db, user="alice") as cat:
        cat.approve("m:1", "ok")
        cat.promote("m:1", "production")
        other = path.with_name("two.safetensors")
        other.write_bytes(model_bytes("two"))
        cat.register(other, "m")
        if edit == "rejected":
            cat.reject("m:2", "no")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE stage SET version_id = (SELECT id FROM version WHERE number = 2) "
                    "WHERE name = 'production'")  # fmt: skip
        if edit == "damaged":
            con.execute("UPDATE version SET damage = 'cut', approval_status = 'approved' "
                        "WHERE number = 2")  # fmt: skip
        if edit == "archived":
            con.execute("UPDATE version SET archived = 1, approval_status = 'approved' "
                        "WHERE number = 2")  # fmt: skip
    proc = _cli(db, "resolve", "m@production")
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout == b""
    assert b"not served" in proc.stderr and b"m:2" in proc.stderr
    assert _cli(db, "audit", "--verify").returncode != 0


@pytest.mark.parametrize("value", ["garbage", '{"protected_stages": "production"}', "[1, 2]"])
def test_a_policy_setting_regtui_did_not_write_is_one_clear_error(
    tmp_path: Path, value: str
) -> None:
    db, _ = _catalog(tmp_path, "model.safetensors")
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM setting WHERE key = 'policy'")
        con.execute("INSERT INTO setting (key, value) VALUES ('policy', ?)", (value,))
    for args in (
        ("policy",),
        ("resolve", "m@staging"),
        ("promote", "m:1", "--reason", "r", "--to", "production"),
    ):
        proc = _cli(db, *args)
        assert proc.returncode == 7, (args, proc.stderr)
        assert proc.stderr.decode().startswith("regtui: error: the catalog's policy setting")


def test_export_never_replaces_a_device_and_a_full_disk_is_an_error(tmp_path: Path) -> None:
    db, _ = _catalog(tmp_path, "model.safetensors")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        proc = _cli(db, "export", str(target))
        assert proc.returncode == 2 and b"not a regular file" in proc.stderr, proc.stderr
    assert fifo.is_fifo()
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    for args in (("export", "-"), ("versions", "m", "--json"), ("audit", "--json")):
        with open("/dev/full", "wb") as full:
            proc = subprocess.run([sys.executable, "-m", "regtui", *args], stdout=full,
                                  stderr=subprocess.PIPE, env=_env(db), timeout=120)  # fmt: skip
        assert proc.returncode == 1, (args, proc.stderr)
        assert b"No space left on device" in proc.stderr and b"internal error" not in proc.stderr


def test_clearing_damage_beside_the_log_shows_and_is_not_served(tmp_path: Path) -> None:
    db = tmp_path / "cat.sqlite"
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(model_bytes("whole")[:-1])  # its data ends before the header says
    with Catalog(db, user="alice") as cat:
        assert cat.register(cut, "m").damage
    with sqlite3.connect(db) as con:
        con.execute("UPDATE version SET damage = NULL")
    assert _cli(db, "--user", "bob", "approve", "m:1", "--reason", "looks fine").returncode == 0
    assert (
        _cli(
            db, "--user", "bob", "promote", "m:1", "--reason", "r", "--to", "production"
        ).returncode
        == 0
    )
    proc = _cli(db, "resolve", "m@production")
    assert proc.returncode == 7 and proc.stdout == b"", proc.stderr
    assert b"damage" in proc.stderr
    audit = _cli(db, "audit", "--verify")
    assert audit.returncode == 8 and b"damage" in audit.stdout + audit.stderr


@pytest.mark.parametrize(
    "ref",
    ["m@staging", "models:/m@staging", "models:/m/Staging", "models:/m/1", "models:/m/latest"],
)
def test_resolve_takes_mlflow_model_uris_for_the_same_version(tmp_path: Path, ref: str) -> None:
    db, path = _catalog(tmp_path, "model.safetensors")
    proc = _cli(db, "resolve", ref)
    assert proc.returncode == 0, proc.stderr
    kept = Path(proc.stdout.decode().rstrip("\n"))
    assert hashlib.sha256(kept.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
    assert proc.stdout == _cli(db, "resolve", "m:1").stdout
