"""The tokens file and the token gate of `regtui serve`, and what a session runs.

The file: created 0600 with O_EXCL, only hashes in it (no token appears in its
bytes), refused when group or others may read it (each such bit), refused as a
symlink or a folder. The gate: each user's token maps to that user and no other;
near misses map to nobody. A session's command: this interpreter, isolated, with
the server's catalog and the authenticated user, and nothing else from anywhere.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.errors import UsageError
from regtui.serve.auth import (
    Gate,
    TokensFile,
    is_loopback,
    token_hash,
    tokens_path,
    valid_user,
)
from regtui.serve.session import SessionPlan, with_role


def test_tokens_file_is_0600_and_holds_only_hashes(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite.serve-tokens"
    tokens = {name: TokensFile.read(path).add(name) for name in ("ann", "bo.b", "c-3@x")}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    for token in tokens.values():
        assert token.encode() not in raw and token[:16].encode() not in raw
        assert token_hash(token).encode() in raw
        assert len(token) >= 40  # 32 random bytes
    assert set(TokensFile.read(path).users) == set(tokens)
    assert len(set(tokens.values())) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o620, 0o602, 0o610, 0o601, 0o644, 0o666])
def test_a_tokens_file_others_may_read_is_refused(tmp_path: Path, bits: int) -> None:
    path = tmp_path / "t"
    TokensFile.read(path).add("ann")
    os.chmod(path, bits)
    with pytest.raises(UsageError, match=rf"chmod 600 {path}"):
        TokensFile.read(path)
    with pytest.raises(UsageError):
        Gate(path, None, "owner").user_for("anything")


def test_a_tokens_file_that_is_a_link_or_a_folder_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    TokensFile.read(real).add("ann")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UsageError):
        TokensFile.read(link)
    (tmp_path / "dir").mkdir(mode=0o700)
    with pytest.raises(UsageError):
        TokensFile.read(tmp_path / "dir")


def test_a_damaged_tokens_file_is_one_line_not_a_crash(tmp_path: Path) -> None:
    for content in (
        b"",
        b"{",
        b"[]",
        b'{"users": {"ann": "short"}}',
        b'{"users": {"-x": "' + b"0" * 64 + b'"}}',
    ):
        path = tmp_path / "t"
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, content)
        os.close(fd)
        with pytest.raises(UsageError, match="tokens file"):
            TokensFile.read(path)


def test_each_token_maps_to_its_own_user_and_near_misses_to_nobody(tmp_path: Path) -> None:
    path = tmp_path / "t"
    ann = TokensFile.read(path).add("ann")
    bob = TokensFile.read(path).add("bob")
    gate = Gate(path, token_hash("startup"), "owner")
    assert (gate.user_for(ann), gate.user_for(bob), gate.user_for("startup")) == (
        "ann", "bob", "owner",
    )  # fmt: skip
    for wrong in (None, "", ann[:-1], ann + "x", ann.upper(), ann.lower(), " " + ann, bob[1:],
                  "Startup", token_hash("startup"), token_hash(ann), "x" * 10_000):  # fmt: skip
        assert gate.user_for(wrong) is None, wrong
    assert TokensFile.read(path).add("ann") != ann  # a new token for ann
    assert gate.user_for(ann) is None  # the old one stops at once
    assert TokensFile.read(path).remove("bob")
    assert gate.user_for(bob) is None
    assert Gate(path, None, "owner").user_for("startup") is None  # --no-token: no startup token


@given(st.text(max_size=80))
def test_a_user_name_never_looks_like_an_option_a_path_or_url_syntax(name: str) -> None:
    if valid_user(name):
        assert name[0] not in "-.@" and len(name) <= 63
        assert not set(name) & set("/\\:?#=%&' \"\n\r\t\x00;$`*")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
        ("localhost", True), ("LOCALHOST", True), ("0.0.0.0", False), ("::", False),
        ("192.168.1.5", False), ("10.0.0.1", False), ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False), ("::ffff:127.0.0.1", False), ("", False), ("example.com", False),
    ],
)  # fmt: skip
def test_loopback_is_only_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_tokens_file_lives_beside_sqlite_or_keyed_by_the_server_without_role(
    tmp_path: Path,
) -> None:
    assert tokens_path(f"sqlite:///{tmp_path}/c.sqlite") == tmp_path / "c.sqlite.serve-tokens"
    a = tokens_path("postgresql+psycopg://ann:pw1@db.example:5432/reg")
    b = tokens_path("postgresql+psycopg://bob:other@db.example:5432/reg")
    c = tokens_path("postgresql+psycopg://ann:pw1@db.example:5432/other")
    assert a == b != c and "pw1" not in str(a) and "ann" not in str(a)
    with pytest.raises(UsageError):
        tokens_path("sqlite://")


def test_a_session_runs_regtui_isolated_as_the_authenticated_user() -> None:
    plan = SessionPlan("sqlite:////tmp/c.sqlite", read_only=True, postgres=False, serving_user="o")
    argv = plan.argv("ann")
    assert argv[:4] == [sys.executable, "-I", "-m", "regtui.serve.child"]
    assert argv[4:] == ["--user", "ann", "--read-only"]
    env = plan.environment(
        {"REGTUI_SERVE_TOKEN": "t", "REGTUI_USER": "owner", "REGTUI_DB": "/x", "PATH": "/bin"},
        "ann",
    )
    assert env == {"REGTUI_USER": "ann", "REGTUI_DB": "sqlite:////tmp/c.sqlite", "PATH": "/bin"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://owner:secret@db.example:5433/reg?sslmode=require",
         "postgresql+psycopg://ann@db.example:5433/reg?sslmode=require"),
        ("postgresql+psycopg://owner@/reg?host=/run/pg&port=5432",
         "postgresql+psycopg://ann@/reg?host=/run/pg&port=5432"),
        ("postgresql+psycopg://owner:s@[::1]:5432/reg", "postgresql+psycopg://ann@[::1]:5432/reg"),
    ],
)  # fmt: skip
def test_on_postgresql_a_session_logs_in_as_its_users_role_without_the_servers_password(
    url: str, expected: str
) -> None:
    assert with_role(url, "ann") == expected
    plan = SessionPlan(url, read_only=False, postgres=True, serving_user="owner")
    assert plan.url_for("ann") == expected
    assert plan.url_for("owner") == url  # the server's own role keeps its own URL
