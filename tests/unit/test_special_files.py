"""Only regular files are read: special files anywhere an artifact's folder can
put them are refused or named in a warning, never opened for reading, never waited on.

The sweep is structural too: an AST walk over src/regtui fails on any open of a
path outside the few helpers that open without blocking and fstat first.
"""

from __future__ import annotations

import ast
import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from regtui.catalog import scan as scan_mod
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError
from regtui.inspect import bounds
from tests.unit.helpers import model_bytes

SRC = Path(__file__).resolve().parents[2] / "src" / "regtui"

# ------------------------------------------------------------ the AST sweep

# Calls that open a path (or read a whole file) by themselves.
_OPENING_ATTRS = {
    "open",
    "fdopen",
    "read_bytes",
    "read_text",
    "ZipFile",
    "TarFile",
    "File",  # h5py.File
    "mmap",
    "memmap",
    "fromfile",
    "copy",
    "copy2",
    "copyfile",
    "copyfileobj",
    "copytree",
    "GzipFile",
    "BZ2File",
    "LZMAFile",
}
_LOADERS = {"np", "numpy", "json", "pickle", "tomllib", "torch", "joblib", "yaml", "h5py"}

# (file under src/regtui, enclosing function, call) -> why it may open.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("hashing.py", "open_regular", "os.open"): "THE opener for hashing: O_NONBLOCK, fstat S_ISREG",
    ("hashing.py", "hash_file", "os.fdopen"): "wraps the descriptor open_regular checked",
    ("inspect/bounds.py", "open_file", "os.open"): "THE opener for inspectors: O_NONBLOCK, fstat",
    ("inspect/bounds.py", "open_file", "os.fdopen"): "wraps the descriptor just checked",
    ("tree_walk.py", "resolve", "os.open"): "O_PATH: opens nothing, cannot block, never read",
    ("catalog/store.py", "clone_file", "os.fdopen"): "wraps the descriptor open_regular checked",
    ("catalog/store.py", "clone_file", "open"): "creates the store's own copy ('xb'), never reads",
    ("catalog/store.py", "clone_file", "shutil.copyfileobj"): "from the checked descriptor",
    (
        "catalog/bucket_upload.py",
        "send_file",
        "os.fdopen",
    ): "wraps the descriptor open_regular checked",
    (
        "catalog/bucket_cache.py",
        "_write",
        "open",
    ): "creates the cache's own copy ('xb') in its staging folder",
    ("inspect/zipcheck.py", "list_zip", "zipfile.ZipFile"): "over a file object from open_file",
    ("inspect/zipcheck.py", "read_entry", "zf.open"): "a member of a zip open_file opened",
    ("inspect/pytorch.py", "inspect_torch_zip", "zf.open"): "a member of a zip open_file opened",
    ("inspect/pt2.py", "_scan_entry", "zf.open"): "a member of a zip open_file opened",
    ("inspect/pt2.py", "_scan_entry", "zipfile.ZipFile"): "over a member stream, not a path",
    ("inspect/pt2.py", "_scan_entry", "inner.open"): "a member of that inner zip",
    ("inspect/decompress.py", "decompressed", "gzip.GzipFile"): "over open_file's stream",
    ("inspect/decompress.py", "decompressed", "bz2.BZ2File"): "over open_file's stream",
    ("inspect/decompress.py", "decompressed", "lzma.LZMAFile"): "over open_file's stream",
    ("inspect/pickle_members.py", "_walk", "zf.open"): "a member of a zip open_file opened",
    ("inspect/pickle_members.py", "_scan_member", "zf.open"): "a member of a zip open_file opened",
    ("inspect/pickle_members.py", "_nested", "zf.open"): "a member of a zip open_file opened",
    ("inspect/pickle_members.py", "_nested", "zipfile.ZipFile"): "over a member stream, not a path",
    ("inspect/bounds.py", "load_yaml_text", "yaml.load"): "parses text read by read_capped",
    ("inspect/protobuf_wire.py", "string", "self.read_bytes"): "a method on bytes in memory",
    ("serve/auth.py", "read", "os.open"): "the tokens file: O_NONBLOCK|O_NOFOLLOW, fstat S_ISREG",
    ("serve/auth.py", "read", "os.fdopen"): "wraps the descriptor just checked",
    (
        "serve/auth.py",
        "_write",
        "os.open",
    ): "creates the new tokens file (O_EXCL, 0600), never reads",
    ("serve/auth.py", "_write", "os.fdopen"): "wraps the descriptor it just created",
    ("cli/access.py", "read_quickly", "QuickReader.open"): "the catalog database, not an artifact",
    ("cli/completion.py", "_reader", "QuickReader.open"): "the catalog database, not an artifact",
    ("cli/audit_follow.py", "_write", "os.open"): "os.devnull as stdout once the reader left",
    ("catalog/hook_transport.py", "_post", "_OPENER.open"): "a hook's URL request, not a path",
    (
        "cli/commands_catalog.py",
        "cmd_import",
        "args.file.read_text",
    ): "the owner's export file, not artifact-side",
    ("demo.py", "_sidecar", "f.read_text"): "the sample models shipped with regtui",
    ("cli/main.py", "_flush_output", "open"): "os.devnull: drops output a full disk refused",
    ("catalog/scan_processes.py", "_fork", "os.fdopen"): "the read end of a pipe it just made",
    ("catalog/scan_processes.py", "_work", "os.fdopen"): "the write end of a pipe it was given",
    ("inspect/folder_names.py", "_mounted", "open"): "/proc/self/mountinfo, the kernel's table",
    (
        "tui/screens/help.py",
        "guide",
        "resources.files('regtui.tui').joinpath('help.md').read_text",
    ): ("regtui's own help text"),
}


def _is_opening(fn: ast.expr) -> bool:
    text = ast.unparse(fn)
    if isinstance(fn, ast.Name):
        return fn.id == "open"
    if not isinstance(fn, ast.Attribute):
        return False
    head = text.split(".")[0]
    if fn.attr.startswith("copy"):
        return head == "shutil"  # dict.copy() opens nothing
    return (
        fn.attr in _OPENING_ATTRS
        or (fn.attr in ("load", "open") and head in _LOADERS)
        or (head in ("os", "io") and fn.attr in ("open", "fdopen"))
    )


class _Sweep(ast.NodeVisitor):
    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.scopes: list[str] = []
        self.found: list[tuple[str, str, str, int]] = []

    def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scopes.append(node.name)
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = _scope
    visit_AsyncFunctionDef = _scope

    def visit_Call(self, node: ast.Call) -> None:
        if _is_opening(node.func):
            where = self.scopes[-1] if self.scopes else "<module>"
            self.found.append((self.rel, where, ast.unparse(node.func), node.lineno))
        self.generic_visit(node)


def _opening_calls() -> list[tuple[str, str, str, int]]:
    """(file, enclosing function, call text, line) of every call that opens a path."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        sweep = _Sweep(path.relative_to(SRC).as_posix())
        sweep.visit(ast.parse(path.read_text(encoding="utf-8")))
        found += sweep.found
    return found


def test_every_open_of_a_path_goes_through_a_non_blocking_opener() -> None:
    found = list(_opening_calls())
    raw = [
        f"{f}:{line} in {fn}(): {call}(...)"
        for f, fn, call, line in found
        if (f, fn, call) not in ALLOWED
    ]
    assert not raw, (
        "opens of a path outside the checked openers (use inspect.bounds.open_file or "
        "hashing.open_regular, or justify the site in ALLOWED):\n" + "\n".join(raw)
    )
    stale = set(ALLOWED) - {(f, fn, call) for f, fn, call, _ in found}
    assert not stale, f"allow-list entries with no site left: {sorted(stale)}"


def test_the_sweep_catches_the_raw_opens_it_is_for(tmp_path: Path) -> None:
    """The walker itself: each way of opening a path is seen."""
    sources = [
        "open(p)",
        "p.read_bytes()",
        "p.read_text()",
        "p.open('rb')",
        "os.open(p, 0)",
        "zipfile.ZipFile(p)",
        "h5py.File(p)",
        "np.load(p)",
        "json.load(fh)",
        "tomllib.load(fh)",
        "mmap.mmap(fd, 0)",
        "shutil.copy2(a, b)",
        "gzip.GzipFile(p)",
    ]
    harmless = ["d.copy()", "self.load()", "json.loads(b)"]
    tree = ast.parse("\n".join(sources))
    hits = sum(_is_opening(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert hits == len(sources)
    calm = ast.parse("\n".join(harmless))
    assert not any(_is_opening(n.func) for n in ast.walk(calm) if isinstance(n, ast.Call))


# ------------------------------------------------------------ special files


def _block_device() -> str | None:
    with os.scandir("/dev") as it:
        for entry in it:
            try:
                if stat.S_ISBLK(os.stat(entry.path).st_mode):
                    return entry.path
            except OSError:
                continue
    return None


def _make_special(path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        monkeypatch.chdir(path.parent)  # AF_UNIX paths are short: bind the bare name
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path.name)
        sock.close()
    elif kind == "chardev":
        try:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # what /dev/zero is
        except PermissionError:
            pytest.skip("no CAP_MKNOD here: the /dev links cover character devices")
    elif kind in ("dev-zero", "dev-urandom"):
        path.symlink_to("/dev/" + kind[4:])
    elif kind == "blockdev":
        dev = _block_device()
        if dev is None:
            pytest.skip("no block device visible")
        path.symlink_to(dev)
    elif kind == "folder":
        path.mkdir()
    else:
        raise AssertionError(kind)


KINDS = ["fifo", "socket", "chardev", "dev-zero", "dev-urandom", "blockdev", "folder"]
_HF_CONFIG = '{"model_type": "bert", "architectures": ["B"]}'


def _layout(root: Path, where: str) -> tuple[Path, Path]:
    """(artifact to register, where the special file goes) for one placement."""
    run = root / "run"
    run.mkdir(parents=True)
    weights = run / "model.safetensors"
    if where == "weights":
        return weights, weights
    if where.startswith("bundle/"):
        hf = run / "hf"
        hf.mkdir()
        for name, data in (
            ("config.json", _HF_CONFIG.encode()),
            ("model.safetensors", model_bytes("hf")),
        ):
            if where != f"bundle/{name}":
                (hf / name).write_bytes(data)
        return hf, hf / where.split("/", 1)[1]
    weights.write_bytes(model_bytes("w"))
    return weights, run / where


PLACES = [
    "weights",
    "metrics.json",
    "metrics.yaml",
    "hparams.yaml",
    "trainer_state.json",
    "params.json",
    "metrics.csv",
    ".git/HEAD",
    ".git/config",
    "bundle/config.json",
    "bundle/model.safetensors",
    "bundle/tokenizer.json",
    "bundle/model.safetensors.index.json",
]


def _cases() -> list[object]:
    out: list[object] = []
    for kind in KINDS:
        for where in PLACES:
            if kind == "folder" and where.startswith("bundle/"):
                continue  # a folder inside a bundle is only a folder
            out.append(pytest.param(kind, where, id=f"{kind}-{where}"))
    return out


def _finishes(work: Callable[[], object]) -> object:
    """Run `work` in a thread; a hang is a failure, not a stuck suite."""
    box: list[object] = []

    def run() -> None:
        try:
            box.append(work())
        except BaseException as exc:  # handed to the test
            box.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "hung on a special file"
    return box[0]


@pytest.mark.parametrize(("kind", "where"), _cases())
def test_special_files_are_refused_or_named_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, where: str
) -> None:
    artifact, special = _layout(tmp_path, where)
    _make_special(special, kind, monkeypatch)
    cat = Catalog(str(tmp_path / "catalog.sqlite"), user="tester")
    out = _finishes(lambda: cat.register(artifact, "m"))
    if isinstance(out, ArtifactError):
        msg = str(out)  # one line that names what was refused
        assert "\n" not in msg and len(msg) < 1000
        assert special.name in msg or str(artifact) in msg, msg
        return
    assert not isinstance(out, BaseException), repr(out)
    if special == artifact:
        # Only a folder may stand where a file was named: it is registered as a folder.
        assert kind == "folder", f"a {kind} registered as a model"
        return
    if where.startswith(".git/"):
        return  # lineage is best effort: no commit, no hang, the model registered
    # A sound artifact with a special file beside or inside it: named, not read.
    warnings = out.warnings  # type: ignore[attr-defined]
    assert any(special.name in w and "not a regular file" in w for w in warnings), warnings


@pytest.mark.parametrize("kind", ["fifo", "socket", "dev-zero", "folder"])
def test_scan_reports_each_special_file_and_registers_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    root = tmp_path / "runs"
    for i, where in enumerate(
        ["model.safetensors", "metrics.json", ".git/HEAD", "hf/tokenizer.json"]
    ):
        run = root / f"r{i}"
        run.mkdir(parents=True)
        if where.startswith("hf/"):
            (run / "hf").mkdir()
            (run / "hf" / "config.json").write_text(_HF_CONFIG)
            (run / "hf" / "model.safetensors").write_bytes(model_bytes(f"hf{i}"))
        elif where != "model.safetensors":
            (run / "model.safetensors").write_bytes(model_bytes(f"m{i}"))
        _make_special(run / where, kind, monkeypatch)
    good = root / "good" / "model.safetensors"
    good.parent.mkdir()
    good.write_bytes(model_bytes("good"))
    cat = Catalog(str(tmp_path / "catalog.sqlite"), user="tester")
    items = _finishes(lambda: scan_mod.scan(cat, [root], "m"))
    assert not isinstance(items, BaseException), repr(items)
    by_path = {Path(i.path): i for i in items}  # type: ignore[attr-defined]
    assert by_path[good].outcome == "registered"
    for item in items:  # type: ignore[attr-defined]
        assert "\n" not in (item.detail or "")


def test_an_inspection_over_its_deadline_is_refused_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget is checked on every read an inspector makes: a budget already
    spent refuses at the first read, naming the limit (no stopwatch needed)."""
    path = tmp_path / "model.safetensors"
    path.write_bytes(model_bytes("slow"))
    monkeypatch.setattr(bounds, "MAX_INSPECT_SECONDS", -1.0)
    cat = Catalog(str(tmp_path / "catalog.sqlite"), user="tester")
    with pytest.raises(ArtifactError) as err:
        cat.register(path, "m")
    assert "MAX_INSPECT_SECONDS" in str(err.value) and "deadline" in str(err.value)
    assert cat.versions("m") == [] if _has_model(cat, "m") else True


def _has_model(cat: Catalog, name: str) -> bool:
    return any(m.name == name for m in cat.models())


def test_a_cancelled_inspection_unwinds_through_swallowing_inspectors(tmp_path: Path) -> None:
    """Cancelled is no Exception: an inspector's `except Exception` cannot eat the stop."""
    path = tmp_path / "model.safetensors"
    path.write_bytes(model_bytes("x"))
    stop = threading.Event()
    stop.set()
    with bounds.cancelled_by(stop), bounds.deadline(), pytest.raises(bounds.Cancelled):
        try:
            with bounds.open_file(path) as fh:
                fh.read(8)
        except Exception:  # what a careless inspector does
            pytest.fail("Cancelled was caught as an Exception")
