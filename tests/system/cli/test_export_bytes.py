"""`regtui export` → `regtui import` (an empty catalog) → `regtui export` writes the
same bytes, on the demo catalog (real sample models, reviews, stage moves, a
rollback, a model edit), into SQLite and into PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from regtui.catalog.service import Catalog
from regtui.demo import seed_demo
from tests.support.pg import PgServer
from tests.system.cli.test_cli import js, run


def test_export_import_export_is_the_same_file_on_both_backends(
    tmp_path: Path, pg_server: PgServer
) -> None:
    source = str(tmp_path / "demo.sqlite")
    with Catalog(source) as cat:
        seed_demo(cat)
        assert cat.count_versions() > 20
    first = tmp_path / "first.json"
    run("export", str(first), db=source)
    for name, target in (
        ("sqlite", str(tmp_path / "copy.sqlite")),
        ("pg", pg_server.new_database()),
    ):
        imported = js("import", str(first), db=target)
        assert isinstance(imported, dict) and imported["versions"] > 20
        again = tmp_path / f"again-{name}.json"
        run("export", str(again), db=target)
        assert again.read_bytes() == first.read_bytes(), name
