"""Shared fixtures: every test gets its own data dir and user; catalogs on both backends."""

from __future__ import annotations

import ast
import functools
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import hypothesis_runs, schema_template
from tests.support.pg import PgServer, start_server


def pytest_configure(config: pytest.Config) -> None:
    """The hypothesis profile, before any test module builds its @settings (so they
    inherit it), unless --hypothesis-profile names another. The fast lane is the run
    that leaves out the slow tests. xdist's controller runs no test, so it skips the
    imports that fix the examples (seconds before any worker starts)."""
    if config.getoption("hypothesis_profile", None) is None:
        markexpr = (config.getoption("markexpr", "") or "").replace(" ", "")
        controller = bool(config.getoption("numprocesses", None)) and not hasattr(
            config, "workerinput"
        )
        hypothesis_runs.load(fast_lane="notslow" in markexpr, draws_here=not controller)


SYSTEM = Path(__file__).parent / "system"
UI = Path(__file__).parent / "ui"

# The real ML libraries (the `frameworks` extra and what its tests import beside it): an
# in-process test whose own code imports one (`import`, `from`, `pytest.importorskip`)
# is a `frameworks` test.
FRAMEWORK_MODULES = {
    "accelerate", "h5py", "keras", "lightning", "mlflow", "numpy", "onnx",
    "pytorch_lightning", "safetensors", "skops", "sklearn", "torch", "transformers",
}  # fmt: skip


# In-process tests too costly for the fast lane, each with why. The full suite runs them.
SLOW_HERE = {
    "tests/unit/test_one_read.py::test_scan_and_watch_record_one_file_under_a_swap[watch]":
        "starts a real watcher thread on real files (a system test's work)",
    "tests/unit/test_policy_gates.py::test_generated_imports_are_clean_or_refused_whole":
        "generated export files, each imported into a fresh catalog",
    "tests/unit/test_import_validation.py::test_generated_edits_import_soundly_or_are_refused_whole":
        "generated export edits, each imported into a fresh catalog",
    "tests/unit/test_special_files.py::test_special_files_are_refused_or_named_never_read":
        "sixty special-file layouts, each inspected, scanned and registered in a thread",
    "tests/unit/test_scan_entries.py::test_a_scan_finishes_with_one_refused_line_per_bad_entry":
        "generated trees of loops, FIFOs and folders 1,100 deep, each scanned",
    "tests/ui/test_filter_errors.py::test_a_hostile_filter_shows_its_error_or_its_rows":
        "generated filters, each typed into a running TUI",
    "tests/unit/test_import_validation.py::test_every_field_refuses_hostile_values_on_both_backends":
        "every field of every row kind times every hostile value, each a refused import",
    "tests/unit/inspect/test_compressed_streams.py::test_reading_byte_by_byte_keeps_the_buffer_small":
        "three million one-byte reads of an inflating stream",
    "tests/unit/inspect/test_archives.py::test_hostile_skops_schemas":
        "schemas 100,000 deep and 101,000 wide, each inspected",
    "tests/unit/fuzz/test_known_bugs.py::test_pickle_scanner_stack_is_bounded":
        "an 80,000-opcode pickle scanned under a memory probe",
    "tests/unit/inspect/test_runlogs.py::test_hostile_keras_history_shapes":
        "a 300,000-value history read beside a model",
    "tests/unit/test_reliability.py::test_audit_tampering_is_always_detected":
        "120 tampered copies of a catalog, each verified",
}  # fmt: skip


def _imported(node: ast.AST) -> list[str]:
    """The modules one syntax node imports, where it is an import of any of the three kinds."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "importorskip"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


# What a test in tests/ui names when it starts the app: Pilot's run_test, or the snapshot
# fixture. Each such test costs about a second of CPU for the app alone.
_STARTS_THE_APP = {"run_test", "snap_compare"}


@functools.cache
def _functions_doing(filename: str) -> tuple[frozenset[str], frozenset[str]]:
    """Which functions of one test file import a real ML library, and which start the
    app, by their own code and parameters. Each file is parsed once, not once per test
    (inspect.getsource per item cost seconds per worker)."""
    try:
        tree = ast.parse(Path(filename).read_text())
    except (OSError, SyntaxError, ValueError):
        return frozenset(), frozenset()
    frameworks, app = set(), set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        nodes = list(ast.walk(fn))
        if any(m.split(".")[0] in FRAMEWORK_MODULES for n in nodes for m in _imported(n)):
            frameworks.add(fn.name)
        named = {n.attr for n in nodes if isinstance(n, ast.Attribute)}
        named |= {n.id for n in nodes if isinstance(n, ast.Name)}
        named |= {a.arg for a in fn.args.args}
        if named & _STARTS_THE_APP:
            app.add(fn.name)
    return frozenset(frameworks), frozenset(app)


def _facts(item: pytest.Item) -> tuple[bool, bool]:
    """(imports a real ML library, starts the app) for one test."""
    code = getattr(getattr(item, "function", None), "__code__", None)
    if code is None:
        return False, False
    frameworks, app = _functions_doing(code.co_filename)
    return code.co_name in frameworks, code.co_name in app


def _imports_a_framework(item: pytest.Item) -> bool:
    return _facts(item)[0]


def _starts_the_app(item: pytest.Item) -> bool:
    return item.path.is_relative_to(UI) and _facts(item)[1]


def _slow_here(item: pytest.Item) -> bool:
    nodeid = item.nodeid
    return nodeid in SLOW_HERE or nodeid.split("[")[0] in SLOW_HERE


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The one place that says which tests are slow, by what they do, so the fast lane
    (`-m "not slow"`) is tests/unit + the tests/ui tests that do not start the app,
    without each test saying so. Slow are: all of tests/system (subprocesses, watcher
    threads on real files, kill -9, real git, bench); every test in tests/ui that starts
    the app (`app`: Pilot or a snapshot); anything needing a PostgreSQL server (the
    `pg_server` fixture, or the `pg` side of `db_url`) or a real ML library
    (`frameworks`, or importing one); and the few in-process tests named in SLOW_HERE."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)
        if _imports_a_framework(item):
            item.add_marker(pytest.mark.frameworks)
        if _starts_the_app(item):
            item.add_marker(pytest.mark.app)
        if (
            item.path.is_relative_to(SYSTEM)
            or item.get_closest_marker("pg")
            or item.get_closest_marker("frameworks")
            or item.get_closest_marker("app")
            or _slow_here(item)
        ):
            item.add_marker(pytest.mark.slow)


_unmade = itertools.count()


@pytest.fixture(autouse=True)
def _isolated_env(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No test touches a real home directory or an outside catalog. The folders are
    under the test's tmp_path where it has one; a test without one gets a fresh path
    that nothing has made yet (making a tmp_path for each of ~2,000 tests cost
    seconds), which regtui creates if it writes there."""
    if "tmp_path" in request.fixturenames:
        base = request.getfixturevalue("tmp_path")
    else:
        base = tmp_path_factory.getbasetemp() / f"unmade-{next(_unmade)}"
    monkeypatch.setenv("REGTUI_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "xdg-config"))
    monkeypatch.setenv("REGTUI_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("REGTUI_USER", "tester")
    monkeypatch.delenv("REGTUI_DB", raising=False)


@pytest.fixture(autouse=True)
def _schema_from_template(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """New empty SQLite catalogs get the migrations' schema replayed, not re-migrated
    (tests/support/schema_template.py says why and where the real path still runs)."""
    if request.node.get_closest_marker("real_migrations") is None:
        schema_template.use(monkeypatch)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server; failing to start one is an error, not a skip,
    unless REGTUI_SKIP_PG=1 says the run is knowingly without it."""
    if os.environ.get("REGTUI_SKIP_PG") == "1":
        pytest.skip("REGTUI_SKIP_PG=1: PostgreSQL tests skipped on purpose")
    try:
        server = start_server()
    except Exception as exc:  # a loud failure: CI must not pass without PostgreSQL
        pytest.fail(f"could not start PostgreSQL for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalog location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    return str(tmp_path / "catalog.sqlite")
