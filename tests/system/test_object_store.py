"""Kept copies in an S3 bucket, against moto's S3 server on 127.0.0.1.

The round trip (promote -> the object in the bucket -> resolve on another host,
a fresh cache -> a verified local path holding the bytes), uploads of every size
around the multipart threshold, an interrupted upload that resumes, a changed,
cut or deleted object refused by resolve and reported by verify, a changed local
cache downloaded again, and a store this host cannot use refused with nothing
recorded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from regtui.catalog import bucket, bucket_upload, hook_delivery, store
from regtui.catalog.artifacts import serve_uri
from regtui.catalog.bucket import Bucket
from regtui.catalog.core import Core
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, StoreUnreachable
from regtui.hashing import hash_path
from tests.support.s3 import PART_MIN, S3Server
from tests.unit.inspect.helpers import safetensors_bytes

PART = 2 * PART_MIN


def weights(size: int, run: int = 1) -> bytes:
    """Real safetensors bytes of exactly `size` bytes (or a little more when tiny)."""
    head = len(safetensors_bytes({"w": ("U8", [0])}, {"run": str(run)}))
    body = max(size - head, 1)
    data = safetensors_bytes({"w": ("U8", [body])}, {"run": str(run)})
    return data


def _released(cat: Catalog, path: Path, data: bytes, model: str = "churn") -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    v = cat.register(path, model)
    cat.approve(v.ref, "ok")
    cat.promote(v.ref, "production")
    return cat.get(v.ref)


def _where(url: str) -> Bucket:
    return bucket.parse(url)


def _object(s3: S3Server, url: str, key: str) -> bytes:
    b = _where(url)
    body = s3.client().get_object(Bucket=b.bucket, Key=b.full_key(key))["Body"]
    return bytes(body.read())


def _another_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """A host that has never resolved anything: its own, empty cache."""
    cache = tmp_path / f"cache-{name}"
    monkeypatch.setenv("REGTUI_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def parts(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("REGTUI_S3_PART_BYTES", str(PART))
    return PART


# Sizes around the threshold: one put below, at and one past it, and many parts.
SIZES = {
    "tiny": 200,
    "part-1": PART - 1,
    "part": PART,
    "part+1": PART + 1,
    "parts": 5 * PART + 7,
}


@pytest.mark.parametrize("size", list(SIZES))
def test_round_trip_through_the_bucket(
    s3_server: S3Server,
    s3_store: str,
    parts: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: str,
) -> None:
    data = weights(SIZES[size])
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    cat.set_store_location(s3_store, "team bucket")
    model = tmp_path / "out" / "model.safetensors"
    v = _released(cat, model, data)
    assert v.stored_path == store.copy_key(v.sha256, "model.safetensors")
    assert _object(s3_server, s3_store, v.stored_path) == data
    assert cat.count_kept_copies() == store.KeptCount(1, 0)

    model.unlink()  # training cleaned up: the bucket alone holds the bytes
    cache = _another_host(tmp_path, monkeypatch, "b")
    served = Catalog(str(tmp_path / "catalog.sqlite")).artifact_path(
        cat.resolve("churn@production")
    )
    assert served.is_relative_to(cache) and served.name == "model.safetensors"
    assert served.read_bytes() == data
    assert stat.S_IMODE(served.stat().st_mode) == store.FILE_MODE
    assert serve_uri(v, _where(s3_store)) == f"{s3_store}/{v.stored_path}"
    # A hook told of the promotion is told where the bytes are: the object's URL.
    (promoted,) = cat.audit_events("churn", action="promoted")
    told = hook_delivery.payload(Core(cat.url), promoted)
    assert told["path"] == f"{s3_store}/{v.stored_path}" and told["sha256"] == v.sha256
    checks = {c.ref: (c.state, c.path) for c in cat.verify_artifacts()}
    assert checks["churn:1 (kept copy)"] == ("ok", f"{s3_store}/{v.stored_path}")
    # nothing left half-done in the bucket
    b = _where(s3_store)
    assert not s3_server.client().list_multipart_uploads(Bucket=b.bucket).get("Uploads")


def test_a_bundle_folder_round_trip(
    s3_server: S3Server, s3_store: str, parts: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    cat.set_store_location(s3_store)
    bundle = tmp_path / "runs" / "bert"
    (bundle / "sub").mkdir(parents=True)
    (bundle / "model.safetensors").write_bytes(weights(3 * PART))
    (bundle / "sub" / "config.json").write_text('{"layers": 2}')
    (bundle / "link").symlink_to("model.safetensors")  # kept as the bytes it points to
    v = cat.register(bundle, "bert")
    cat.approve("bert:1", "ok")
    cat.promote("bert:1", "production")
    _another_host(tmp_path, monkeypatch, "b")
    served = cat.artifact_path(cat.resolve("bert@production"))
    assert hash_path(served).sha256 == v.sha256
    assert sorted(p.relative_to(served).as_posix() for p in served.rglob("*")) == [
        "link", "model.safetensors", "sub", "sub/config.json",
    ]  # fmt: skip
    assert not (served / "link").is_symlink()
    assert {c.ref: c.state for c in cat.verify_artifacts()}["bert:1 (kept copy)"] == "ok"


class Interrupted(Exception):
    pass


def _interrupt_after(n: int, sent: list[int]) -> Callable[[int, int], None]:
    def hook(number: int, count: int) -> None:
        sent.append(number)
        if len(sent) == n:
            raise Interrupted(f"connection lost after part {number} of {count}")

    return hook


@pytest.mark.parametrize("cut_after", [1, 3, 5])
def test_an_interrupted_upload_resumes_and_counts_only_once_verified(
    s3_server: S3Server,
    s3_store: str,
    parts: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cut_after: int,
) -> None:
    data = weights(5 * PART + 100)  # 6 parts
    count = -(-len(data) // PART)
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    cat.set_store_location(s3_store)
    model = tmp_path / "out" / "model.safetensors"
    model.parent.mkdir()
    model.write_bytes(data)
    v = cat.register(model, "churn")
    cat.approve("churn:1", "ok")
    sent: list[int] = []
    monkeypatch.setattr(bucket_upload, "on_part_sent", _interrupt_after(cut_after, sent))
    with pytest.raises(Interrupted):
        cat.promote("churn:1", "production")
    # Nothing recorded: no kept copy, no stage, no event; no object at the key.
    assert cat.get("churn:1").stored_path is None
    assert "production" not in cat.get("churn:1").stages
    assert not cat.audit_events(action="promoted")
    b = _where(s3_store)
    key = store.copy_key(v.sha256, "model.safetensors")
    assert bucket.head(b, key) is None
    pending = s3_server.client().list_multipart_uploads(Bucket=b.bucket)["Uploads"]
    assert [u["Key"] for u in pending] == [b.full_key(key)]

    resent: list[int] = []
    monkeypatch.setattr(bucket_upload, "on_part_sent", lambda n, c: resent.append(n))
    cat.promote("churn:1", "production")
    assert resent == list(range(cut_after + 1, count + 1))  # the rest, not a restart
    assert cat.get("churn:1").stored_path == key
    assert _object(s3_server, s3_store, key) == data
    assert not s3_server.client().list_multipart_uploads(Bucket=b.bucket).get("Uploads")


def test_a_resumed_upload_of_changed_bytes_never_becomes_the_copy(
    s3_server: S3Server, s3_store: str, parts: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = weights(5 * PART + 100)
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    cat.set_store_location(s3_store)
    model = tmp_path / "out" / "model.safetensors"
    model.parent.mkdir()
    model.write_bytes(data)
    v = cat.register(model, "churn")
    cat.approve("churn:1", "ok")
    monkeypatch.setattr(bucket_upload, "on_part_sent", _interrupt_after(2, []))
    with pytest.raises(Interrupted):
        cat.promote("churn:1", "production")
    monkeypatch.setattr(bucket_upload, "on_part_sent", None)
    # Training rewrites the output (same size, the end changed) before the retry.
    model.write_bytes(data[:-10] + b"\xff" * 10)
    with pytest.raises(ArtifactError, match="changed since it was registered"):
        cat.promote("churn:1", "production")
    assert cat.get("churn:1").stored_path is None
    assert bucket.head(_where(s3_store), store.copy_key(v.sha256, "model.safetensors")) is None


def _changed_byte(c: Any, b: str, k: str, data: bytes) -> None:
    c.put_object(Bucket=b, Key=k, Body=data[:-1] + bytes([data[-1] ^ 1]))


def _truncated(c: Any, b: str, k: str, data: bytes) -> None:
    c.put_object(Bucket=b, Key=k, Body=data[: len(data) // 2])


def _appended(c: Any, b: str, k: str, data: bytes) -> None:
    c.put_object(Bucket=b, Key=k, Body=data + b"\n")


def _deleted(c: Any, b: str, k: str, data: bytes) -> None:
    c.delete_object(Bucket=b, Key=k)


TAMPERING = {
    "changed-byte": _changed_byte,
    "truncated": _truncated,
    "appended": _appended,
    "deleted": _deleted,
}


@pytest.mark.parametrize("training", ["kept", "gone"])
@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_tampered_object_is_refused_by_resolve_and_reported_by_verify(
    s3_server: S3Server,
    s3_store: str,
    parts: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    training: str,
) -> None:
    data = weights(3 * PART)
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    cat.set_store_location(s3_store)
    model = tmp_path / "out" / "model.safetensors"
    v = _released(cat, model, data)
    b = _where(s3_store)
    assert v.stored_path
    TAMPERING[how](s3_server.client(), b.bucket, b.full_key(v.stored_path), data)
    if training == "gone":
        model.unlink()
    _another_host(tmp_path, monkeypatch, "b")
    checks = {c.ref: c for c in cat.verify_artifacts()}
    kept = checks["churn:1 (kept copy)"]
    assert kept.path == f"{s3_store}/{v.stored_path}"
    assert kept.state == ("missing" if how == "deleted" else "changed")
    if how == "deleted" and training == "kept":
        # As in a folder store: a missing copy falls back to a training output
        # that still matches; a changed one never does.
        assert cat.artifact_path(cat.resolve("churn@production")) == model
        return
    with pytest.raises(ArtifactError, match="refusing to serve") as err:
        cat.artifact_path(cat.resolve("churn@production"))
    assert "\n" not in str(err.value)
    if how != "deleted":
        with pytest.raises(ArtifactError, match="refusing to serve"):
            serve_uri(v, b)


def _flip(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))


def _cut(p: Path) -> None:
    os.truncate(p, 10)


CACHE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "changed-byte": _flip,
    "truncated": _cut,
    "deleted": Path.unlink,
}


@pytest.mark.parametrize("how", list(CACHE_DAMAGE))
def test_a_changed_cache_file_is_downloaded_again(
    s3_server: S3Server,
    s3_store: str,
    parts: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    data = weights(3 * PART)
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    cat.set_store_location(s3_store)
    _released(cat, tmp_path / "out" / "model.safetensors", data)
    served = cat.artifact_path(cat.resolve("churn@production"))
    os.chmod(served, 0o644)
    CACHE_DAMAGE[how](served)
    again = cat.artifact_path(cat.resolve("churn@production"))
    assert again == served and again.read_bytes() == data


def test_moving_a_folder_store_into_a_bucket_and_back(
    s3_server: S3Server, s3_store: str, parts: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    folder = cat.store_location().path
    model = tmp_path / "out" / "model.safetensors"
    v = _released(cat, model, weights(3 * PART + 1))
    model.unlink()  # the folder store's copy is the only source now
    moved = cat.set_store_location(s3_store, "to the bucket")
    assert moved.path == _where(s3_store) and cat.count_kept_copies() == store.KeptCount(1, 0)
    assert v.stored_path and _object(s3_server, s3_store, v.stored_path) == weights(3 * PART + 1)
    events = cat.audit_events(action="store_moved")
    assert [e.after for e in events] == [{"location": s3_store}]
    back = tmp_path / "back"
    cat.set_store_location(back, "and back")  # from the bucket, through the cache
    assert (back / v.stored_path).read_bytes() == weights(3 * PART + 1)
    chain, state = cat.verify_catalog()  # the log says where the store is now
    assert folder != back and chain.ok and state is not None and state.ok


@pytest.mark.parametrize("broken", ["no-credentials", "unreachable", "no-such-bucket"])
def test_a_store_this_host_cannot_use_is_one_line_and_nothing_is_recorded(
    s3_server: S3Server,
    s3_store: str,
    parts: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    cat.set_store_location(s3_store)
    model = tmp_path / "out" / "model.safetensors"
    model.parent.mkdir()
    model.write_bytes(weights(300))
    cat.register(model, "churn")
    cat.approve("churn:1", "ok")
    target = s3_store
    if broken == "no-credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    elif broken == "unreachable":
        with __import__("socket").socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    else:
        target = "s3://no-such-bucket-here/x"
    events = len(cat.audit_events())
    with pytest.raises(StoreUnreachable) as err:
        cat.set_store_location(target + "/elsewhere")
    assert "\n" not in str(err.value) and str(err.value).startswith("s3://")
    if broken != "no-such-bucket":
        with pytest.raises(StoreUnreachable):
            cat.promote("churn:1", "production")
    assert cat.get("churn:1").stored_path is None and not cat.get("churn:1").stages
    assert len(cat.audit_events()) == events
    assert cat.store_location().path == _where(s3_store)


def test_two_hosts_keeping_the_same_bytes_at_once_both_succeed(
    s3_server: S3Server, s3_store: str, parts: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Host B resumes and completes the upload host A started; A's next part then
    meets a finished upload: A's keep counts B's copy, once it verifies."""
    data = weights(5 * PART + 100)
    src = tmp_path / "model.safetensors"
    src.write_bytes(data)
    sha = hash_path(src).sha256
    b = _where(s3_store)
    hows: list[str] = []

    def other_host(number: int, count: int) -> None:
        if number == 2:
            monkeypatch.setattr(bucket_upload, "on_part_sent", None)
            hows.append(bucket_upload.keep(src.name, sha, b, [src])[1])

    monkeypatch.setattr(bucket_upload, "on_part_sent", other_host)
    key, how = bucket_upload.keep(src.name, sha, b, [src])
    assert hows == ["upload"] and how == "reused"
    assert _object(s3_server, s3_store, key) == data
