"""The store holds bytes, never links; no store path is built from a raw name.

A bundle's hash covers the bytes its links point to (under the links' names),
and its kept copy holds exactly those bytes as plain files; links that cannot be
hashed as bytes (dangling, looping, to a folder, leaving the bundle) are refused
with the reason. An artifact path is resolved before anything else, so a version
records the file its bytes are in. A kept copy's name is a safe member name, and
keeping a copy deletes nothing but its own staging folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog import store
from regtui.catalog.artifacts import serve_path
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError
from regtui.hashing import hash_path
from tests.support.hypothesis_runs import examples
from tests.unit.inspect.helpers import safetensors_bytes

SLOW = settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def weights(run: int) -> bytes:
    return safetensors_bytes({"w": ("F32", [4 + run])}, {"run": str(run)})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_tree_hash(members: dict[str, bytes]) -> str:
    """The folder hash computed from what each member should hold (an oracle
    independent of the walk): sorted `rel NUL sha256(bytes)` lines."""
    outer = hashlib.sha256()
    for rel in sorted(members):
        outer.update(f"{rel}\0{sha(members[rel])}\n".encode())
    return outer.hexdigest()


def no_links_under(root: Path) -> bool:
    return not any(p.is_symlink() for p in [root, *root.rglob("*")])


def released(cat: Catalog, path: Path | str, model: str) -> Path:
    v = cat.register(path, model)
    cat.approve(f"{model}:{v.version}", "ok")
    cat.promote(f"{model}:{v.version}", "production")
    return cat.artifact_path(cat.resolve(f"{model}@production"))


# ------------------------------------------------------------ links in bundles

# "via-outside-hop": a link to a link outside the bundle that points back in. Only
# the final target counts: its bytes are in the bundle, and they are what is kept.
GOOD_KINDS = ("relative", "absolute", "chained", "nested-relative", "via-outside-hop")
BAD_KINDS = {
    "dangling": "dangling symlink",
    "loop": "symlink loop",
    "self-loop": "symlink loop",
    "to-folder": "symlink to a folder",
    "relative-outside": "leaves the bundle",
    "absolute-outside": "leaves the bundle",
    "in-and-out-again": "leaves the bundle",
}


def make_link(bundle: Path, name: str, kind: str, target_rel: str, outside: Path) -> None:
    """A link called `name` in `bundle`, of `kind`, to the file `target_rel` in it."""
    link = bundle / name
    link.parent.mkdir(parents=True, exist_ok=True)
    target = bundle / target_rel
    if kind == "relative":
        link.symlink_to(os.path.relpath(target, link.parent))
    elif kind == "absolute":
        link.symlink_to(target)
    elif kind == "chained":  # link -> link -> file
        hop = bundle / f"{name}.hop"
        hop.symlink_to(target)
        link.symlink_to(hop.name)
    elif kind == "nested-relative":  # through `..` and back down, still inside
        link.symlink_to(Path("..") / link.parent.name / os.path.relpath(target, link.parent))
    elif kind == "dangling":
        link.symlink_to("no-such-file.bin")
    elif kind == "loop":
        (bundle / f"{name}.other").symlink_to(link.name)
        link.symlink_to(f"{link.name}.other")
    elif kind == "self-loop":
        link.symlink_to(link.name)
    elif kind == "to-folder":
        (bundle / "sub").mkdir(exist_ok=True)
        link.symlink_to(bundle / "sub", target_is_directory=True)
    elif kind == "relative-outside":
        link.symlink_to(os.path.relpath(outside, link.parent))
    elif kind == "absolute-outside":
        link.symlink_to(outside)
    elif kind == "via-outside-hop":
        hop = outside.parent / f"hop-{name.replace('/', '_')}"
        hop.symlink_to(target)
        link.symlink_to(hop)
    elif kind == "in-and-out-again":  # a link to a link in the bundle that leaves it
        hop = bundle / f"{name}.hop"
        hop.symlink_to(outside)
        link.symlink_to(hop.name)
    else:
        raise AssertionError(kind)


file_names = st.text(alphabet="abcdefgh_-", min_size=1, max_size=6)
bundle_trees = st.dictionaries(
    st.lists(file_names, min_size=1, max_size=3).map(lambda parts: "/".join(parts) + ".bin"),
    st.binary(min_size=1, max_size=64),
    min_size=1,
    max_size=5,
)


@SLOW
@given(
    files=bundle_trees,
    links=st.lists(
        st.tuples(st.sampled_from(GOOD_KINDS), st.integers(0, 100), st.sampled_from(["", "d/"])),
        min_size=1,
        max_size=4,
    ),
)
def test_links_inside_a_bundle_are_hashed_and_kept_as_their_bytes(
    tmp_path_factory: pytest.TempPathFactory,
    files: dict[str, bytes],
    links: list[tuple[str, int, str]],
) -> None:
    base = tmp_path_factory.mktemp("links")
    bundle, outside = base / "bundle", base / "outside.bin"
    outside.write_bytes(b"outside")
    members: dict[str, bytes] = {}
    for rel, data in files.items():
        p = bundle / rel
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a generated path ran into a file of the same name
        members[rel] = data
    if not members:
        return
    targets = sorted(members)
    for i, (kind, pick, folder) in enumerate(links):
        target = targets[pick % len(targets)]
        name = f"{folder}link{i}.bin"
        if (bundle / name).exists():
            continue
        make_link(bundle, name, kind, target, outside)
        members[name] = members[target]
        if kind == "chained":
            members[f"{name}.hop"] = members[target]
    digest = hash_path(bundle)
    assert digest.sha256 == expected_tree_hash(members)
    assert digest.size_bytes == sum(len(b) for b in members.values())

    kept = store.keep("bundle", digest.sha256, base / "store", [bundle])
    assert no_links_under(kept.path)
    held = {p.relative_to(kept.path).as_posix(): p.read_bytes()
            for p in kept.path.rglob("*") if p.is_file()}  # fmt: skip
    assert held == members
    assert hash_path(kept.path).sha256 == digest.sha256

    # The bytes behind a link changing changes the bundle's hash.
    (bundle / targets[0]).write_bytes(members[targets[0]] + b"swapped")
    assert hash_path(bundle).sha256 != digest.sha256
    assert hash_path(kept.path).sha256 == digest.sha256


@SLOW
@given(
    bad=st.sampled_from(sorted(BAD_KINDS)),
    good=st.lists(st.sampled_from(GOOD_KINDS), max_size=3),
    depth=st.sampled_from(["", "a/", "a/b/"]),
)
def test_a_link_that_is_not_bytes_in_the_bundle_is_refused_with_the_reason(
    tmp_path_factory: pytest.TempPathFactory, bad: str, good: list[str], depth: str
) -> None:
    base = tmp_path_factory.mktemp("badlink")
    bundle, outside = base / "bundle", base / "outside.bin"
    bundle.mkdir()
    outside.write_bytes(b"secret outside the bundle")
    (bundle / "model.bin").write_bytes(b"weights")
    for i, kind in enumerate(good):
        make_link(bundle, f"ok{i}.bin", kind, "model.bin", outside)
    make_link(bundle, f"{depth}bad.bin", bad, "model.bin", outside)
    with pytest.raises(ArtifactError) as caught:
        hash_path(bundle)
    message = str(caught.value)
    assert BAD_KINDS[bad] in message and "bad.bin" in message
    assert "\n" not in message
    with pytest.raises(ArtifactError):
        store.keep("bundle", "0" * 64, base / "store", [bundle])
    assert not any((base / "store").rglob("*.bin"))  # nothing from outside was copied


@pytest.mark.parametrize("bad", sorted(BAD_KINDS))
def test_register_refuses_a_bundle_with_a_bad_link_and_says_why(tmp_path: Path, bad: str) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    bundle, outside = tmp_path / "run" / "bert", tmp_path / "outside.bin"
    bundle.mkdir(parents=True)
    outside.write_bytes(b"secret")
    (bundle / "config.json").write_text('{"model_type": "bert"}')
    (bundle / "model.safetensors").write_bytes(weights(1))
    make_link(bundle, "extra.bin", bad, "model.safetensors", outside)
    with pytest.raises(ArtifactError, match="refused") as caught:
        cat.register(bundle, "bert")
    assert BAD_KINDS[bad] in str(caught.value)
    assert cat.models() == []


def hf_cache(base: Path) -> tuple[Path, dict[str, bytes]]:
    """A Hugging Face hub cache entry: files in blobs/ named by their hash, and a
    snapshot whose files are relative links into ../../blobs/."""
    repo = base / "hub" / "models--org--tiny"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    rev = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs" / "main").write_text(rev)
    snapshot = repo / "snapshots" / rev
    snapshot.mkdir(parents=True)
    members = {
        "config.json": b'{"model_type": "bert", "architectures": ["BertModel"]}',
        "model.safetensors": weights(3),
        "tokenizer.json": b'{"version": "1.0"}',
    }
    for name, data in members.items():
        blob = repo / "blobs" / sha(data)
        blob.write_bytes(data)
        (snapshot / name).symlink_to(Path("..") / ".." / "blobs" / blob.name)
    return snapshot, members


def test_a_hugging_face_cache_snapshot_is_kept_as_bytes_and_outlives_the_cache(
    tmp_path: Path,
) -> None:
    snapshot, members = hf_cache(tmp_path)
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    v = cat.register(snapshot, "tiny")
    assert v.format == "huggingface"
    assert v.sha256 == expected_tree_hash(members)
    # Facts come from the bytes behind the links, as the hash does.
    assert [f["file"] for f in v.metadata["files"]] == ["model.safetensors"]
    assert v.metadata["files"][0]["format"] == "safetensors"
    assert v.metadata["weights_bytes"] == len(members["model.safetensors"])
    kept = released(cat, snapshot, "tiny")
    assert kept != snapshot and no_links_under(kept)
    # Training folder and blobs gone: production still resolves, to the same bytes.
    shutil.rmtree(tmp_path / "hub")
    served = cat.artifact_path(cat.resolve("tiny@production"))
    assert served == kept
    assert {p.name: p.read_bytes() for p in served.iterdir()} == members
    assert [c.state for c in cat.verify_artifacts("tiny") if "kept" in c.ref] == ["ok"]


def test_scanning_a_hugging_face_cache_registers_its_snapshot(tmp_path: Path) -> None:
    from regtui.catalog.scan import scan

    snapshot, members = hf_cache(tmp_path)
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    for root in (snapshot, tmp_path / "hub"):
        items = scan(cat, [root], "tiny")
        assert [(i.path, i.outcome) for i in items if i.outcome != "exists"] in (
            [(str(snapshot), "registered")],
            [],
        ), items
    (v,) = cat.versions("tiny")
    assert v.sha256 == expected_tree_hash(members)


@pytest.mark.parametrize("spelling", ["absolute", "relative", "chained"])
def test_a_registered_link_to_a_file_is_its_target_and_keeps_its_bytes(
    tmp_path: Path, spelling: str
) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    blobs, out = tmp_path / "blobs", tmp_path / "out"
    blobs.mkdir()
    out.mkdir()
    target = blobs / "abc123"
    target.write_bytes(weights(1))
    link = out / "model.safetensors"
    if spelling == "absolute":
        link.symlink_to(target)
    elif spelling == "relative":
        link.symlink_to(Path("..") / "blobs" / "abc123")
    else:
        (out / "hop").symlink_to(target)
        link.symlink_to("hop")
    v = cat.register(link, "m")
    assert v.path == str(target)  # the version is the file the bytes are in
    kept = released(cat, link, "m")
    assert not kept.is_symlink() and kept.read_bytes() == weights(1)
    shutil.rmtree(out)
    shutil.rmtree(blobs)
    assert serve_path(cat.resolve("m@production"), cat.store_location().path) == kept
    assert kept.read_bytes() == weights(1)


@pytest.mark.parametrize("what", ["snapshot-absolute", "snapshot-relative", "file"])
def test_swapping_the_bytes_behind_a_link_is_caught(tmp_path: Path, what: str) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    if what.startswith("snapshot"):
        path, _ = hf_cache(tmp_path)
        if what == "snapshot-absolute":
            for link in path.iterdir():
                target = Path(os.path.realpath(link))
                link.unlink()
                link.symlink_to(target)
        behind = Path(os.path.realpath(path / "model.safetensors"))
    else:
        behind = tmp_path / "elsewhere" / "weights.safetensors"
        behind.parent.mkdir()
        behind.write_bytes(weights(1))
        path = tmp_path / "model.safetensors"
        path.symlink_to(behind)
    v = cat.register(path, "m")
    os.chmod(behind, 0o644)
    behind.write_bytes(weights(2))  # same name, other bytes; the link is untouched
    (check,) = [c for c in cat.verify_artifacts("m") if c.ref == v.ref]
    assert check.state == "changed"
    with pytest.raises(ArtifactError, match="refusing to serve"):
        cat.artifact_path(cat.resolve(v.ref))


# ------------------------------------------------------------ store member names

HOSTILE_NAMES = [".", "..", "/", "", "~", "a/..", "../..", "a/b", "x/", "\0", "a\0b", "..\0",
                 ".incoming-x", "x" * 1000, "é" * 300 + ".safetensors", "\udcff\udcfe.bin",
                 "sha256", " ", "-"]  # fmt: skip
names = st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(max_size=300))


@given(name=names)
def test_a_member_name_is_always_one_safe_path_component(name: str) -> None:
    got = store.member_name(name)
    assert got and got not in (".", "..") and not got.startswith(".")
    assert "/" not in got and "\0" not in got
    assert len(got.encode("utf-8")) <= store.NAME_BYTES
    assert Path(got).name == got
    key = store.copy_key("a" * 64, name)
    assert Path(key).parent == Path("sha256/aa/" + "a" * 64)


def same_prefix_bytes(other: str, n: int) -> bytes:
    """Bytes whose sha256 starts like `other` (so their copies share a folder)."""
    i = 0
    while True:
        data = b"weights %d %d" % (n, i)
        if sha(data)[:2] == other[:2]:
            return data
        i += 1


@settings(max_examples=examples(25), deadline=None)
@given(name=st.sampled_from(HOSTILE_NAMES), tamper=st.booleans())
def test_keeping_under_any_name_never_touches_another_copy(
    tmp_path_factory: pytest.TempPathFactory, name: str, tamper: bool
) -> None:
    base = tmp_path_factory.mktemp("names")
    where = base / "store"
    first = base / "a.safetensors"
    first.write_bytes(weights(1))
    a = store.keep(first.name, sha(weights(1)), where, [first])
    data = same_prefix_bytes(sha(weights(1)), 0)
    src = base / "b.bin"
    src.write_bytes(data)
    b = store.keep(name, sha(data), where, [src])
    assert b.path.parent == where / "sha256" / sha(data)[:2] / sha(data)
    assert b.path.read_bytes() == data
    if tamper:  # a retry over a copy that no longer matches replaces only that copy
        os.chmod(b.path, 0o644)
        b.path.write_bytes(b"tampered")
        again = store.keep(name, sha(data), where, [src])
        assert again.path == b.path and again.path.read_bytes() == data
    assert a.path.read_bytes() == weights(1) and hash_path(a.path).sha256 == sha(weights(1))
    leftovers = [p.name for p in b.path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
