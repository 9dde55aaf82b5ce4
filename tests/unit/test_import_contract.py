"""The core never imports a face: regtui.catalog, .inspect, .watch and the shared
modules import neither Textual nor Rich nor regtui.tui / regtui.cli.

Read from the AST of every module, so an import inside a function (the lazy kind that
a run-time `sys.modules` check never triggers) counts too, and followed through every
regtui module the core imports: a helper module that pulls in Rich taints the core.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import regtui

SRC = Path(regtui.__file__).resolve().parent  # src/regtui

CORE_PACKAGES = ("regtui.catalog", "regtui.inspect", "regtui.watch")
CORE_MODULES = (
    "regtui",  # runs first whenever any regtui module is imported
    "regtui.hashing",
    "regtui.readlog",
    "regtui.tree_walk",
    "regtui.settings",
    "regtui.errors",
)
FORBIDDEN = ("textual", "rich", "regtui.tui", "regtui.cli")


def _file_of(module: str, src: Path = SRC) -> Path | None:
    """The source file of a regtui module or package under `src`, None outside regtui."""
    parts = module.split(".")
    if parts[0] != "regtui":
        return None
    base = src.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _module_of(path: Path, src: Path = SRC) -> str:
    rel = path.relative_to(src.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool) -> Iterator[str]:
    """Every module name `source` may import, anywhere in it: `import a.b`,
    `from a import b` (as `a` and `a.b`), relative imports resolved against
    `module`, and `importlib.import_module("x")` / `__import__("x")` with a literal."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def core_files() -> list[Path]:
    files = [f for m in CORE_MODULES if (f := _file_of(m)) is not None]
    for package in CORE_PACKAGES:
        folder = _file_of(package)
        assert folder is not None, package
        files += sorted(folder.parent.rglob("*.py"))
    return files


def violations(roots: list[Path], src: Path = SRC) -> list[str]:
    """'module imports name' for each forbidden import reachable from `roots`
    through the regtui modules under `src`."""
    found: set[tuple[str, str]] = set()
    todo = list(roots)
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        module = _module_of(path, src)
        source = path.read_text(encoding="utf-8")
        for name in imported_names(source, module, path.name == "__init__.py"):
            if _forbidden(name):
                found.add((module, name))
            # importing a.b.c runs a/__init__ and a/b/__init__ as well
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                target = _file_of(".".join(parts[:i]), src)
                if target is not None and target not in seen:
                    todo.append(target)
    # `from rich.console import Console` names rich.console once, not also its members
    return sorted(
        f"{module} imports {name}"
        for module, name in found
        if not any((module, name.rpartition(".")[0]) == hit for hit in found)
    )


def test_the_core_is_where_the_contract_says() -> None:
    """A renamed or moved package must not make the contract check nothing."""
    files = core_files()
    modules = {_module_of(f) for f in files}
    assert set(CORE_MODULES) <= modules
    for package in CORE_PACKAGES:
        assert sum(m.startswith(package + ".") for m in modules) >= 5, package


def test_the_core_never_imports_textual_rich_or_the_faces() -> None:
    assert violations(core_files()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import textual", "textual"),
        ("import rich.text as t", "rich.text"),
        ("def f():\n    from textual.widgets import Static", "textual.widgets"),
        ("from regtui import tui", "regtui.tui"),
        ("from regtui.cli.output import emit", "regtui.cli.output"),
        ("from ..tui import app", "regtui.tui.app"),
        ("from .. import cli", "regtui.cli"),
        ("import importlib\nimportlib.import_module('rich.console')", "rich.console"),
        ("__import__('textual')", "textual"),
        ("class A:\n    def m(self):\n        import regtui.tui.app", "regtui.tui.app"),
    ],
)
def test_every_spelling_of_a_forbidden_import_is_seen(source: str, expected: str) -> None:
    names = set(imported_names(source, "regtui.catalog.example", is_package=False))
    assert expected in names
    assert any(_forbidden(n) for n in names)


def test_a_face_reached_through_a_helper_module_is_seen(tmp_path: Path) -> None:
    """The walk follows regtui imports: a core module importing an innocent-looking
    regtui module whose function imports Rich is a violation, named at the helper."""
    src = tmp_path / "regtui"
    (src / "catalog").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "catalog" / "__init__.py").write_text("")
    (src / "catalog" / "core.py").write_text("from regtui.pretty import show\n")
    (src / "pretty.py").write_text("def show():\n    from rich.console import Console\n")
    assert violations([src / "catalog" / "core.py"], src) == ["regtui.pretty imports rich.console"]
    (src / "pretty.py").write_text("def show():\n    import json\n")
    assert violations([src / "catalog" / "core.py"], src) == []


def test_harmless_imports_are_not_flagged() -> None:
    source = "import textwrap\nimport richer\nfrom regtui.catalog import tuition\n"
    names = set(imported_names(source, "regtui.watch.x", is_package=False))
    assert not any(_forbidden(n) for n in names)


# `pip install 'regtui[mlflow]'` is optional: MLflow is imported by these modules only,
# and only inside the functions that need it; the plugin package, which MLflow loads
# through its entry point and no regtui module imports, may import it at the top.
MLFLOW_READERS = {"regtui.from_mlflow.reader"}
MLFLOW_PLUGIN = "regtui.mlflow_plugin"


def _top_level_imports(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add((node.module or "").split(".")[0])
    return names


def test_only_the_mlflow_reader_imports_mlflow_and_only_when_called() -> None:
    importers = set()
    for path in sorted(SRC.rglob("*.py")):
        module = _module_of(path)
        source = path.read_text(encoding="utf-8")
        names = set(imported_names(source, module, path.name == "__init__.py"))
        if module.startswith(MLFLOW_PLUGIN):
            continue
        assert not any(n.startswith(MLFLOW_PLUGIN) for n in names), f"{module} imports the plugin"
        if any(n == "mlflow" or n.startswith("mlflow.") for n in names):
            importers.add(module)
            assert "mlflow" not in _top_level_imports(source), f"{module}: mlflow at import time"
    assert importers == MLFLOW_READERS
