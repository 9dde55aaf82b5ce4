"""Kept copies are immutable, and the store belongs to its catalog.

What training code really does to its output after a version was promoted, on
both backends; the copy and reflink paths of the store; separate stores for
separate catalogs; one shared store for hosts of one PostgreSQL catalog.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog import store
from regtui.catalog.artifacts import serve_path
from regtui.catalog.quickread import QuickReader
from regtui.catalog.records import Policy
from regtui.catalog.refs import parse_ref
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, Conflict, PolicyRefused, UsageError
from regtui.hashing import hash_path, iter_tree
from tests.support.hypothesis_runs import examples
from tests.unit.inspect.helpers import safetensors_bytes


def weights(run: int) -> bytes:
    """Real safetensors bytes, different for every run."""
    return safetensors_bytes({"w": ("F32", [4 + run])}, {"run": str(run)})


def _open_wb(p: Path, data: bytes) -> None:
    with open(p, "wb") as f:  # same inode, rewritten in place
        f.write(data)


def _write_bytes(p: Path, data: bytes) -> None:
    p.write_bytes(data)


def _shutil_copy(p: Path, data: bytes) -> None:
    src = p.parent.parent / f".elsewhere-{len(data)}"
    src.write_bytes(data)
    shutil.copy(src, p)  # `cp new out/model`: writes into the existing file


def _truncate(p: Path, data: bytes) -> None:
    os.truncate(p, 0)
    with open(p, "r+b") as f:
        f.write(data)


def _unlink_recreate(p: Path, data: bytes) -> None:
    p.unlink()
    p.write_bytes(data)


def _rename_over(p: Path, data: bytes) -> None:
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, p)


def _delete_folder(p: Path, data: bytes) -> None:
    shutil.rmtree(p.parent)
    p.parent.mkdir()
    p.write_bytes(data)


OVERWRITES: dict[str, Callable[[Path, bytes], None]] = {
    "open-wb": _open_wb,
    "write_bytes": _write_bytes,
    "shutil.copy": _shutil_copy,
    "os.truncate": _truncate,
    "unlink+recreate": _unlink_recreate,
    "rename-over": _rename_over,
    "delete-folder": _delete_folder,
}


def _two_releases(url: str, out: Path, overwrite: Callable[[Path, bytes], None]) -> Catalog:
    """Training writes out/model.safetensors; run 1 and then run 2 (written over
    run 1 the given way) were each registered, approved and promoted."""
    cat = Catalog(url)
    model = out / "model.safetensors"
    out.mkdir(parents=True)
    model.write_bytes(weights(1))
    for run in (1, 2):
        if run == 2:
            overwrite(model, weights(2))
        cat.register(model, "churn")
        cat.approve(f"churn:{run}", "ok")
        cat.promote(f"churn:{run}", "production")
    return cat


@pytest.mark.parametrize("end", ["rewritten", "deleted"])
@pytest.mark.parametrize("how", list(OVERWRITES))
def test_overwriting_training_output_never_touches_production(
    db_url: str, tmp_path: Path, how: str, end: str
) -> None:
    out = tmp_path / "runs" / "out"
    cat = _two_releases(db_url, out, OVERWRITES[how])
    model = out / "model.safetensors"
    # Run 3 overwrites the output once more (or the whole folder is cleaned up).
    if end == "rewritten":
        OVERWRITES[how](model, weights(3))
    else:
        shutil.rmtree(out)

    served = cat.artifact_path(cat.resolve("churn@production"))
    assert served.read_bytes() == weights(2)
    assert served.is_relative_to(cat.store_location().path)
    cat.rollback("churn", reason="run 2 was worse")
    served = cat.artifact_path(cat.resolve("churn@production"))
    assert served.read_bytes() == weights(1)

    checks = {c.ref: c.state for c in cat.verify_artifacts("churn")}
    training = "changed" if end == "rewritten" else "missing"
    assert checks == {
        "churn:1": training,
        "churn:1 (kept copy)": "ok",
        "churn:2": training,
        "churn:2 (kept copy)": "ok",
    }


def test_a_kept_copy_is_its_own_sealed_file(db_url: str, tmp_path: Path) -> None:
    cat = _two_releases(db_url, tmp_path / "out", _open_wb)
    model = tmp_path / "out" / "model.safetensors"
    kept = cat.artifact_path(cat.resolve("churn@production"))
    assert not os.path.samestat(os.stat(kept), os.stat(model))
    assert os.stat(kept).st_nlink == 1  # no hard link anywhere
    assert stat.S_IMODE(os.stat(kept).st_mode) == store.FILE_MODE
    v = cat.get("churn:2")
    assert v.stored_path == store.copy_key(v.sha256, "model.safetensors")  # relative


def test_a_kept_bundle_folder_is_sealed_and_survives_its_source(tmp_path: Path) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    bundle = tmp_path / "runs" / "bert"
    (bundle / "sub").mkdir(parents=True)
    (bundle / "model.safetensors").write_bytes(weights(1))
    (bundle / "sub" / "config.json").write_text('{"layers": 2}')
    (bundle / "link").symlink_to("model.safetensors")
    v = cat.register(bundle, "bert")
    cat.approve("bert:1", "ok")
    cat.promote("bert:1", "production")
    kept = cat.artifact_path(cat.resolve("bert@production"))
    assert kept != bundle and hash_path(kept).sha256 == v.sha256
    modes = {p.relative_to(kept).as_posix(): stat.S_IMODE(p.lstat().st_mode) for p in
             [kept, *kept.rglob("*")]}  # fmt: skip
    # The link is kept as the bytes it points to (tests/unit/test_store_links.py).
    assert modes == {".": 0o555, "sub": 0o555, "model.safetensors": 0o444, "sub/config.json": 0o444,
                     "link": 0o444}  # fmt: skip
    _open_wb(bundle / "sub" / "config.json", b'{"layers": 3}')
    shutil.rmtree(bundle / "sub")
    assert cat.artifact_path(cat.resolve("bert@production")) == kept
    assert (kept / "sub" / "config.json").read_text() == '{"layers": 2}'


def _no_clone(src_fd: int, dst_fd: int) -> None:
    raise OSError(errno.EOPNOTSUPP, "Operation not supported")


def test_without_reflinks_the_store_makes_real_copies(
    sqlite_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def no_clone(src_fd: int, dst_fd: int) -> None:
        calls.append(dst_fd)
        _no_clone(src_fd, dst_fd)

    monkeypatch.setattr(store, "_clone", no_clone)
    src = tmp_path / "m.safetensors"
    src.write_bytes(weights(1))
    sha = hash_path(src).sha256
    kept = store.keep(src.name, sha, tmp_path / "s", [src])
    assert calls and kept.how == "copy"
    assert kept.path.read_bytes() == weights(1)
    _truncate(src, weights(2))
    assert kept.path.read_bytes() == weights(1)
    # and through the catalog, overwrite after promotion as in the family above
    cat = _two_releases(sqlite_path, tmp_path / "out", _open_wb)
    _open_wb(tmp_path / "out" / "model.safetensors", weights(3))
    assert cat.artifact_path(cat.resolve("churn@production")).read_bytes() == weights(2)


@pytest.fixture
def reflink_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on a file system with reflinks: REGTUI_REFLINK_DIR if set (e.g. an XFS
    or Btrfs mount; .ci/run makes one where it can), else tmp_path if it clones."""
    base = os.environ.get("REGTUI_REFLINK_DIR")
    where = Path(tempfile.mkdtemp(dir=base)) if base else tmp_path
    if not store.reflinks_work(where):
        pytest.skip(f"the file system of {where} has no reflinks (FICLONE); copy path only")
    yield where
    if base:
        for p in [where, *where.rglob("*")]:  # kept copies are sealed read-only
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(where)


def test_where_the_file_system_clones_the_store_uses_reflinks(reflink_dir: Path) -> None:
    src = reflink_dir / "m.safetensors"
    src.write_bytes(weights(1) * 1000)
    kept = store.keep(src.name, hash_path(src).sha256, reflink_dir / "s", [src])
    assert kept.how == "reflink"
    _truncate(src, weights(2))  # in place: copy-on-write keeps the clone's bytes
    assert kept.path.read_bytes() == weights(1) * 1000


@pytest.mark.parametrize("how", list(OVERWRITES))
def test_with_reflinks_overwriting_training_output_never_touches_production(
    reflink_dir: Path, how: str
) -> None:
    # The catalog, its store and the training output on one cloning file system, so
    # every kept copy is a clone sharing blocks with the output it came from.
    out = reflink_dir / "runs" / "out"
    cat = _two_releases(f"sqlite:///{reflink_dir / 'catalog.db'}", out, OVERWRITES[how])
    OVERWRITES[how](out / "model.safetensors", weights(3))
    served = cat.artifact_path(cat.resolve("churn@production"))
    assert served.read_bytes() == weights(2)
    cat.rollback("churn", reason="run 2 was worse")
    assert cat.artifact_path(cat.resolve("churn@production")).read_bytes() == weights(1)
    kept = {c.ref: c.state for c in cat.verify_artifacts("churn") if "kept" in c.ref}
    assert kept == {"churn:1 (kept copy)": "ok", "churn:2 (kept copy)": "ok"}
    cat.close()


def test_keep_rechecks_what_it_reuses_and_leaves_nothing_half_kept(tmp_path: Path) -> None:
    src = tmp_path / "m.safetensors"
    src.write_bytes(weights(1))
    sha = hash_path(src).sha256
    where = tmp_path / "store"
    first = store.keep(src.name, sha, where, [src])
    assert store.keep(src.name, sha, where, [src]).how == "reused"
    os.chmod(first.path, 0o644)
    first.path.write_bytes(weights(9))  # tampered
    again = store.keep(src.name, sha, where, [src])
    assert again.how in ("copy", "reflink") and again.path.read_bytes() == weights(1)
    # A source that no longer matches is never kept; the next source that does is.
    stale = tmp_path / "stale.safetensors"
    stale.write_bytes(weights(2))
    store.remove(again.path)
    assert store.keep(src.name, sha, where, [stale, src]).path.read_bytes() == weights(1)
    store.remove(first.path)
    with pytest.raises(ArtifactError, match="changed since it was registered"):
        store.keep(src.name, sha, where, [stale])
    leftovers = [p.name for p in first.path.parent.iterdir()]
    assert leftovers == []  # no staging folder, no copy


names = st.one_of(
    st.text(alphabet="abcdefghij_-.", min_size=1, max_size=8).filter(
        lambda s: s not in (".", "..")
    ),
    # A Trainer's checkpoint folders: outside the hash right inside the root, inside it deeper.
    st.integers(0, 999).map(lambda n: f"checkpoint-{n}"),
)
trees = st.dictionaries(
    st.lists(names, min_size=1, max_size=3).map(tuple), st.binary(max_size=200), max_size=6
)


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=trees, clone_fails=st.booleans())
def test_any_bundle_is_kept_exactly_and_sealed(
    tmp_path_factory: pytest.TempPathFactory, tree: dict[tuple[str, ...], bytes], clone_fails: bool
) -> None:
    root = tmp_path_factory.mktemp("bundle")
    src = root / "bundle"
    src.mkdir()
    for parts, data in tree.items():
        p = src.joinpath(*parts)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            if not p.exists():
                p.write_bytes(data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a generated path ran into a file of the same name
    sha = hash_path(src).sha256
    mp = pytest.MonkeyPatch()
    if clone_fails:
        mp.setattr(store, "_clone", _no_clone)
    try:
        kept = store.keep(src.name, sha, root / "store", [src])
    finally:
        mp.undo()
    assert hash_path(kept.path).sha256 == sha
    # Exactly what the hash covers: nothing in the copy goes unchecked by verify.
    listed = [rel for rel, _ in iter_tree(src, checkpoints=False)]
    assert [rel for rel, _ in iter_tree(kept.path)] == listed
    for p in [kept.path, *kept.path.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (store.FOLDER_MODE if p.is_dir() else store.FILE_MODE), p
    for p in src.rglob("*"):
        if p.is_file():
            _open_wb(p, b"overwritten")
    assert hash_path(kept.path).sha256 == sha
    store.remove(kept.path)
    assert not kept.path.exists()


def test_two_sqlite_catalogs_keep_separate_stores(tmp_path: Path) -> None:
    """Same REGTUI_DATA_DIR, two catalogs: neither sees nor shares the other's copies."""
    run = tmp_path / "out" / "model.safetensors"
    run.parent.mkdir()
    run.write_bytes(weights(1))
    for name in ("team-a", "team-b"):
        (tmp_path / name).mkdir()
    cats = [Catalog(str(tmp_path / name / "catalog.sqlite")) for name in ("team-a", "team-b")]
    for cat in cats:
        cat.register(run, "churn")
        cat.approve("churn:1", "ok")
        cat.promote("churn:1", "production")
    a, b = (cat.artifact_path(cat.resolve("churn@production")) for cat in cats)
    assert a.is_relative_to(tmp_path / "team-a" / "catalog.sqlite.store")
    assert b.is_relative_to(tmp_path / "team-b" / "catalog.sqlite.store")
    assert not os.path.samestat(os.stat(a), os.stat(b))
    assert not (Path(os.environ["REGTUI_DATA_DIR"]) / "store").exists()
    store.remove(a)
    assert cats[1].artifact_path(cats[1].resolve("churn@production")) == b
    # Team A's copy is gone: it falls back to the matching training output, never to B's.
    assert cats[0].artifact_path(cats[0].resolve("churn@production")) == run
    run.write_bytes(weights(2))
    with pytest.raises(ArtifactError, match="refusing to serve"):
        cats[0].artifact_path(cats[0].resolve("churn@production"))


def test_a_tampered_kept_copy_is_reported_and_refused(db_url: str, tmp_path: Path) -> None:
    cat = _two_releases(db_url, tmp_path / "out", _write_bytes)
    kept = cat.artifact_path(cat.resolve("churn@production"))
    os.chmod(kept, 0o644)
    kept.write_bytes(weights(7))
    checks = {c.ref: c for c in cat.verify_artifacts("churn")}
    assert checks["churn:2 (kept copy)"].state == "changed"
    assert checks["churn:2 (kept copy)"].path == str(kept)
    # The training output still holds run 2, but production is served from its
    # kept copy alone: a changed copy is refused, not swapped for a mutable file.
    assert checks["churn:2"].state == "ok"
    with pytest.raises(ArtifactError, match=r"refusing to serve: kept copy .* changed"):
        cat.artifact_path(cat.resolve("churn@production"))
    kept.unlink()
    # Gone (not changed): the training output serves while it still matches.
    model = tmp_path / "out" / "model.safetensors"
    for check in (True, False):
        assert cat.artifact_path(cat.resolve("churn@production"), check=check) == model
    model.write_bytes(weights(8))
    with pytest.raises(
        ArtifactError, match=r"refusing to serve: kept copy .* missing.*training output changed"
    ):
        cat.artifact_path(cat.resolve("churn@production"), check=False)
    model.write_bytes(weights(2))
    # Moving the stage back to run 2 re-keeps its copy from the output, which still matches.
    cat.rollback("churn")
    cat.rollback("churn", to=2)
    assert cat.artifact_path(cat.resolve("churn@production")).read_bytes() == weights(2)


def _legacy(cat: Catalog, sqlite_path: str, ref: str) -> Path:
    """Make `ref`'s kept copy look like one from before stores belonged to their
    catalog: an absolute path in <data dir>/store/…, and no copy in the new store."""
    v = cat.get(ref)
    where = cat.store_location().path
    old = Path(os.environ["REGTUI_DATA_DIR"]) / "store" / v.stored_path  # type: ignore[operator]
    old.parent.mkdir(parents=True)
    shutil.move(where / v.stored_path, old)  # type: ignore[operator]
    with sqlite3.connect(sqlite_path) as con:
        con.execute("UPDATE version SET stored_path = ? WHERE id = ?", (str(old), v.id))
    return old


def test_an_older_catalogs_absolute_kept_copies_still_resolve(
    sqlite_path: str, tmp_path: Path
) -> None:
    cat = _two_releases(sqlite_path, tmp_path / "out", _open_wb)
    old2, old1 = _legacy(cat, sqlite_path, "churn:2"), _legacy(cat, sqlite_path, "churn:1")
    shutil.rmtree(tmp_path / "out")
    assert cat.artifact_path(cat.resolve("churn@production")) == old2
    reader = QuickReader.open(sqlite_path)
    assert reader is not None
    with reader:
        v = reader.get(parse_ref("churn@production"))
        assert cat.artifact_path(v) == old2 and reader.store_location() == cat.store_location()
    checks = {c.ref: c.state for c in cat.verify_artifacts("churn")}
    assert checks["churn:2 (kept copy)"] == "ok" and checks["churn:1 (kept copy)"] == "ok"
    # Moving back to version 1 keeps it in this catalog's own store, from the old copy.
    cat.rollback("churn")
    v1 = cat.get("churn:1")
    assert v1.stored_path == store.copy_key(v1.sha256, "model.safetensors")
    served = cat.artifact_path(cat.resolve("churn@production"))
    assert served.is_relative_to(cat.store_location().path) and served != old1
    assert served.read_bytes() == weights(1)


def test_moving_the_store_copies_every_kept_copy_and_is_audited(
    db_url: str, tmp_path: Path
) -> None:
    cat = _two_releases(db_url, tmp_path / "out", _delete_folder)
    before = cat.store_location()
    assert before.source == "default"
    shutil.rmtree(tmp_path / "out")  # only the kept copies hold the bytes now
    moved = cat.set_store_location(tmp_path / "shared" / "store", reason="team share")
    assert moved.path == tmp_path / "shared" / "store" and moved.source == "setting"
    assert cat.store_location() == moved
    served = cat.artifact_path(cat.resolve("churn@production"))
    assert served.is_relative_to(moved.path) and served.read_bytes() == weights(2)
    assert (before.path / cat.get("churn:2").stored_path).exists()  # type: ignore[operator]
    event = cat.audit_events(action="store_moved")[-1]
    assert (event.target, event.reason) == ("store", "team share")
    assert event.before == {"location": str(before.path), "source": "default"}
    assert event.after == {"location": str(moved.path)}
    assert cat.verify_audit().ok
    assert {c.state for c in cat.verify_artifacts() if "kept" in c.ref} == {"ok"}
    with pytest.raises(Conflict, match="already at"):
        cat.set_store_location(moved.path)


def test_a_store_move_that_would_lose_a_copy_changes_nothing(
    sqlite_path: str, tmp_path: Path
) -> None:
    cat = _two_releases(sqlite_path, tmp_path / "out", _open_wb)
    kept = cat.artifact_path(cat.resolve("churn@production"))
    store.remove(kept)  # gone, and the training output holds other bytes now
    _open_wb(tmp_path / "out" / "model.safetensors", weights(3))
    with pytest.raises(ArtifactError, match="store not moved: 1 kept copies match nowhere"):
        cat.set_store_location(tmp_path / "elsewhere")
    assert cat.store_location().source == "default"
    assert cat.audit_events(action="store_moved") == []
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UsageError, match=r"cannot use .* as the store"):
        cat.set_store_location(blocker / "store")


@pytest.fixture
def keep_hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """Run the callables in the list while a kept copy is being made (once each)."""
    hooks: list[Callable[[], None]] = []
    real = store.keep

    def keep(*args: object, **kw: object) -> store.Kept:
        while hooks:
            hooks.pop(0)()
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "keep", keep)
    yield hooks


def _write_lock_is_free(sqlite_path: str) -> None:
    con = sqlite3.connect(sqlite_path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")  # fails at once if anyone holds the write lock
        con.execute("ROLLBACK")
    finally:
        con.close()


def test_keeping_happens_outside_the_write_lock(
    sqlite_path: str, tmp_path: Path, keep_hook: list[Callable[[], None]]
) -> None:
    cat = _two_releases(sqlite_path, tmp_path / "out", _open_wb)
    for action in (lambda: cat.rollback("churn"), lambda: cat.promote("churn:2", "production")):
        keep_hook.append(lambda: _write_lock_is_free(sqlite_path))
        action()
        assert not keep_hook  # the hook ran, inside keep, and found the lock free


@pytest.mark.parametrize("meanwhile", ["staging-moved", "store-moved"])
def test_a_change_while_keeping_is_rechecked_under_the_lock(
    db_url: str, tmp_path: Path, keep_hook: list[Callable[[], None]], meanwhile: str
) -> None:
    """Promote churn@staging to production while, during the copy, staging moves on
    to version 3 (or the store moves): version 3 lands, with its copy in the store
    the catalog names at commit."""
    cat = _two_releases(db_url, tmp_path / "out", _write_bytes)
    _write_bytes(tmp_path / "out" / "model.safetensors", weights(3))
    cat.register(tmp_path / "out" / "model.safetensors", "churn")
    cat.approve("churn:3", "ok")
    other = Catalog(db_url)
    if meanwhile == "staging-moved":
        cat.promote("churn:1", "staging")
        keep_hook.append(lambda: other.promote("churn:3", "staging"))
    else:
        cat.promote("churn:3", "staging")  # never kept before: its first copy is being made
        keep_hook.append(lambda: other.set_store_location(tmp_path / "moved"))
    cat.promote("churn@staging", "production")
    assert not keep_hook
    v = cat.resolve("churn@production")
    assert v.version == 3 and v.stored_path == store.copy_key(v.sha256, "model.safetensors")
    served = cat.artifact_path(v)
    assert served.is_relative_to(cat.store_location().path)
    assert served.read_bytes() == weights(3)
    assert [m.to_version for m in cat.stage_history("churn", "production")] == [1, 2, 3]


@pytest.mark.pg
def test_a_postgresql_catalogs_default_store_is_host_local(pg_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = pg_server.new_database()
    with Catalog(url) as cat:
        where = cat.store_location()
    assert where.host_local and where.source == "default"
    assert where.path.is_relative_to(Path(os.environ["REGTUI_DATA_DIR"]) / "stores")
    assert "host-local" in where.note and "regtui store --set" in where.note
    assert "postgres@" not in str(where.path)


def _resolve_on_host(url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGTUI_DATA_DIR": str(data_dir), "REGTUI_DB": url}
    return subprocess.run(
        [sys.executable, "-m", "regtui", "resolve", "churn@production"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


@pytest.mark.pg
def test_hosts_of_one_postgresql_catalog_share_a_set_store(
    pg_server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    url = pg_server.new_database()
    host_a, host_b = tmp_path / "host-a", tmp_path / "host-b"
    out = tmp_path / "out"
    monkeypatch.setenv("REGTUI_DATA_DIR", str(host_a))
    cat = _two_releases(url, out, _open_wb)
    # Without the setting each host has its own store: B cannot serve what A kept,
    # only the training output while it still matches.
    proc = _resolve_on_host(url, host_b)
    assert Path(proc.stdout.strip()) == out / "model.safetensors", proc.stderr
    _open_wb(out / "model.safetensors", weights(3))
    proc = _resolve_on_host(url, host_b)
    assert proc.returncode == 6 and "refusing to serve" in proc.stderr, proc.stderr
    cat.set_store_location(tmp_path / "nfs" / "regtui-store", reason="shared by the team")
    cat.rollback("churn")
    shutil.rmtree(out)
    on_a = cat.artifact_path(cat.resolve("churn@production"))
    assert on_a.is_relative_to(tmp_path / "nfs" / "regtui-store")
    proc = _resolve_on_host(url, host_b)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == on_a and on_a.read_bytes() == weights(1)


@pytest.mark.parametrize("meanwhile", ["rejected", "store-moved", "stage-moved"])
def test_a_change_while_rollback_keeps_is_rechecked_under_the_lock(
    db_url: str, tmp_path: Path, keep_hook: list[Callable[[], None]], meanwhile: str
) -> None:
    cat = _two_releases(db_url, tmp_path / "out", _rename_over)
    _rename_over(tmp_path / "out" / "model.safetensors", weights(3))
    cat.register(tmp_path / "out" / "model.safetensors", "churn")
    cat.approve("churn:3", "ok")
    other = Catalog(db_url)
    change = {
        "rejected": lambda: other.reject("churn:1", "leaked test data"),
        "store-moved": lambda: other.set_store_location(tmp_path / "moved"),
        "stage-moved": lambda: other.promote("churn:3", "production"),
    }[meanwhile]
    keep_hook.append(change)
    if meanwhile == "rejected":
        with pytest.raises(PolicyRefused, match="rejected-no-stage"):
            cat.rollback("churn")  # decided on version 1, which was rejected meanwhile
        assert cat.get("churn@production").version == 2
        return
    move = cat.rollback("churn")
    expected = {"store-moved": (2, 1), "stage-moved": (3, 2)}[meanwhile]
    assert (move.from_version, move.to_version) == expected
    served = cat.artifact_path(cat.resolve("churn@production"))
    assert served.read_bytes() == weights(expected[1])
    assert served.is_relative_to(cat.store_location().path)


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)


@settings(max_examples=examples(60), deadline=None)
@given(
    user=words,
    other=words,
    password=st.text(alphabet="PQWXYZ", min_size=4, max_size=12),  # unlike any name or hex
    db=words,
    port=st.integers(1, 65535),
)
def test_a_server_catalogs_store_is_keyed_by_the_catalog_not_the_login(
    user: str, other: str, password: str, db: str, port: int
) -> None:
    from regtui.settings import database_url, default_store

    def where(url: str) -> Path:
        path, host_local = default_store(database_url(url))
        assert host_local
        return path

    base = where(f"postgresql://{user}:{password}@db.example:{port}/{db}")
    assert password not in str(base)
    # every role of one catalog shares one folder on this host …
    assert where(f"postgresql://{other}@db.example:{port}/{db}") == base
    # … and other databases, servers or ports get their own
    assert where(f"postgresql://{user}@db.example:{port}/{db}x") != base
    assert where(f"postgresql://{user}@db2.example:{port}/{db}") != base
    assert where(f"postgresql://{user}@db.example:{port % 65535 + 1}/{db}") != base


# ------------------------------------------------- the catalog file moves on


def _by_backup(cat: Catalog, src: Path, dst: Path) -> None:
    cat.backup(dst)


def _by_mv(cat: Catalog, src: Path, dst: Path) -> None:
    cat.close()
    src.rename(dst)


def _by_cp(cat: Catalog, src: Path, dst: Path) -> None:
    cat.close()
    shutil.copyfile(src, dst)


def _by_import(cat: Catalog, src: Path, dst: Path) -> None:
    data = cat.export_data()
    with Catalog(str(dst)) as fresh:
        fresh.import_data(data)


CATALOG_MOVES: dict[str, Callable[[Catalog, Path, Path], None]] = {
    "backup": _by_backup,
    "mv": _by_mv,
    "cp": _by_cp,
    "import": _by_import,
}


@pytest.mark.parametrize("output", ["still-matches", "overwritten", "deleted"])
@pytest.mark.parametrize("how", list(CATALOG_MOVES))
def test_production_survives_the_catalog_file_moving(
    sqlite_path: str, tmp_path: Path, how: str, output: str
) -> None:
    """A backup takes its kept copies along; a catalog moved, copied or imported
    away from its store serves the training output while it still matches, and
    refuses (never serves other bytes) once it does not."""
    cat = _two_releases(sqlite_path, tmp_path / "out", _rename_over)
    model = tmp_path / "out" / "model.safetensors"
    moved = tmp_path / "elsewhere" / "moved.sqlite"
    moved.parent.mkdir()
    CATALOG_MOVES[how](cat, Path(sqlite_path), moved)
    if output == "overwritten":
        model.write_bytes(weights(3))
    elif output == "deleted":
        model.unlink()
    with Catalog(str(moved)) as there:
        assert there.store_location().path == Path(str(moved) + ".store")
        counted = there.count_kept_copies()
        if how == "backup":
            assert counted == store.KeptCount(2, 0)
            served = there.artifact_path(there.resolve("churn@production"))
            assert served.is_relative_to(Path(str(moved) + ".store"))
            assert served.read_bytes() == weights(2)
            assert {c.state for c in there.verify_artifacts() if "kept" in c.ref} == {"ok"}
            there.rollback("churn")  # version 1's bytes travelled too
            assert there.artifact_path(there.resolve("churn@production")).read_bytes() == weights(1)
        else:
            assert counted == store.KeptCount(0, 2)
            if output == "still-matches":
                assert there.artifact_path(there.resolve("churn@production")) == model
            else:
                with pytest.raises(ArtifactError, match=r"kept copy .* missing.*training output"):
                    there.artifact_path(there.resolve("churn@production"))
    reader = QuickReader.open(str(moved))  # the CLI's quick path resolves the same way
    assert reader is not None
    with reader, Catalog(str(moved), read_only=True) as there:
        quick = _served(lambda: serve_path(reader.get(parse_ref("churn@production")),
                                           reader.store_location().path))  # fmt: skip
        assert quick == _served(lambda: there.artifact_path(there.resolve("churn@production")))


def _served(serve: Callable[[], Path]) -> Path | str:
    try:
        return serve()
    except ArtifactError as exc:
        return str(exc)


def test_a_backup_of_a_catalog_with_a_set_store_shares_that_store(
    sqlite_path: str, tmp_path: Path
) -> None:
    cat = _two_releases(sqlite_path, tmp_path / "out", _open_wb)
    shared = cat.set_store_location(tmp_path / "shared").path
    done = cat.backup(tmp_path / "b.sqlite")
    assert (done.store, done.copies, done.problems) == (None, 0, [])
    assert not Path(str(tmp_path / "b.sqlite") + ".store").exists()
    with Catalog(str(tmp_path / "b.sqlite")) as b:
        assert b.store_location().path == shared
        assert b.artifact_path(b.resolve("churn@production")).is_relative_to(shared)


def test_a_backup_names_kept_copies_it_could_not_take(sqlite_path: str, tmp_path: Path) -> None:
    cat = _two_releases(sqlite_path, tmp_path / "out", _open_wb)
    store.remove(cat.artifact_path(cat.resolve("churn:1")))  # gone, output holds run 2
    done = cat.backup(tmp_path / "b.sqlite")
    assert done.copies == 1 and len(done.problems) == 1
    assert "cannot keep a copy" in done.problems[0]
    with Catalog(str(tmp_path / "b.sqlite")) as b:
        assert b.count_kept_copies() == store.KeptCount(1, 1)


STORE_SETTINGS = {
    "existing folder": lambda tmp: {"location": str(tmp / "shared")},
    "missing folder": lambda tmp: {"location": str(tmp / "not-there")},
    "relative path": lambda tmp: {"location": "shared"},
    "blank": lambda tmp: {"location": ""},
    "not an object": lambda tmp: "/abs",
    "no location": lambda tmp: {},
}


@pytest.mark.parametrize("kind", list(STORE_SETTINGS))
def test_importing_a_store_setting_says_so_and_keeps_only_a_real_folder(
    db_url: str, sqlite_path: str, tmp_path: Path, kind: str
) -> None:
    (tmp_path / "shared").mkdir()
    with Catalog(str(tmp_path / "src.sqlite")) as src:
        data = src.export_data()
    data["settings"]["store"] = STORE_SETTINGS[kind](tmp_path)
    notes: list[str] = []
    with Catalog(db_url) as fresh:
        fresh.import_data(data, notes)
        where = fresh.store_location()
    assert len(notes) == 1
    if kind == "existing folder":
        assert where.source == "setting" and where.path == tmp_path / "shared"
        assert notes[0].startswith("kept the export's store setting")
    else:
        assert where.source == "default"
        assert notes[0].startswith("dropped the export's store setting")


@pytest.mark.parametrize("blank", ["", " ", "\t", "  \n"])
def test_a_blank_store_location_is_refused(sqlite_path: str, blank: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        store.absolute_location(blank)
    with Catalog(sqlite_path) as cat, pytest.raises(UsageError, match="empty"):
        cat.set_store_location(blank)


@pytest.mark.parametrize("rel", ["s", "a/b", "./s", "../s"])
def test_a_relative_store_location_is_taken_against_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rel: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert store.absolute_location(rel) == Path(os.path.abspath(work / rel))


@pytest.mark.parametrize("how", list(OVERWRITES))
def test_protecting_a_stage_keeps_what_it_already_holds(
    db_url: str, tmp_path: Path, how: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    model = out / "model.safetensors"
    model.write_bytes(weights(1))
    cat = Catalog(db_url)
    cat.register(model, "churn")
    cat.approve("churn:1", "ok")
    cat.promote("churn:1", "staging")  # not protected: no kept copy yet
    assert cat.get("churn:1").stored_path is None
    cat.set_policy(Policy(protected_stages=("production", "staging")), "staging serves too")
    assert cat.get("churn:1").stored_path is not None
    OVERWRITES[how](model, weights(2))
    assert cat.artifact_path(cat.resolve("churn@staging")).read_bytes() == weights(1)


def test_protecting_a_stage_whose_holder_cannot_be_kept_changes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    model = tmp_path / "model.safetensors"
    model.write_bytes(weights(1))
    cat = Catalog(db_url)
    cat.register(model, "churn")
    cat.approve("churn:1", "ok")
    cat.promote("churn:1", "staging")
    model.write_bytes(weights(2))  # the bytes it was registered with are gone
    before = cat.policy()
    with pytest.raises(ArtifactError):
        cat.set_policy(Policy(protected_stages=("production", "staging")))
    assert cat.policy() == before
    assert cat.get("churn:1").stored_path is None
