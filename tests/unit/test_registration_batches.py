"""Registration writes with driver-level SQL and multi-row inserts: the same
versions, numbers, dedupe, audit events and index rows as one-by-one."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtui.catalog.scan import find_artifacts, scan
from regtui.catalog.service import Catalog
from regtui.errors import CatalogError
from tests.unit.helpers import artifact, open_as


def test_a_batch_numbers_gaplessly_and_dedupes_within_and_across(
    db_url: str, tmp_path: Path
) -> None:
    cat = open_as(db_url, "alice")
    cat.register(artifact(tmp_path, "old.bin", "bytes 3"), "a")
    cands = []
    for i in range(300):  # more than one INSERT chunk (100) and one IN list (256)
        model = "b" if i % 3 == 0 else "a"
        path = artifact(tmp_path, f"f{i}.bin", f"bytes {i % 250}")
        cands.append(cat.prepare(path, model, metrics={"i": i}, tags={"n": str(i)}))
    results = cat.add_candidates(cands)

    # What one-by-one registration would give: same bytes -> the version that has them.
    have: dict[str, dict[str, int]] = {"a": {"bytes 3": 1}, "b": {}}
    expected = []
    for i, cand in enumerate(cands):
        seen = have[cand.model]
        content = f"bytes {i % 250}"
        if content in seen:
            expected.append((cand.model, seen[content], False))
        else:
            seen[content] = len(seen) + 1
            expected.append((cand.model, seen[content], True))
    got = [(r.version.model, r.version.version, r.created) for r in results]
    assert got == expected
    for model in ("a", "b"):
        numbers = [v.version for v in cat.versions(model)]
        assert numbers == list(range(1, len(have[model]) + 1))

    # The returned records are what was stored; the same bytes again in the batch
    # merged their explicit metrics into the version, the later value replacing.
    merged: dict[str, dict[str, float]] = {}
    for cand, r in zip(cands, results, strict=True):
        merged.setdefault(r.version.ref, {}).update(cand.metrics)
    for cand, r in zip(cands, results, strict=True):
        stored = cat.get(r.version.ref)
        assert (stored.sha256, stored.path) == (r.version.sha256, r.version.path)
        if r.created:
            assert stored.metrics == merged[r.version.ref] and stored.tags == cand.tags
    # Index rows went in for the new versions only (filters read them).
    first_b = [r.version for r in results if r.created and r.version.model == "b"]
    hits = cat.versions("b", where=f"metrics.i = {first_b[0].metrics['i']}")
    assert [v.version for v in hits] == [first_b[0].version]
    assert len(cat.versions("a", where="tags.n != 'x'")) == len(have["a"]) - 1

    # One event per new version, in order, after its model's creation; chain intact.
    events = cat.audit_events()
    assert cat.verify_audit().ok
    b_events = [e.action for e in events if e.model == "b"]
    assert b_events[0] == "model_created"
    assert b_events.count("registered") == len(have["b"])
    registered = [e.target for e in events if e.action == "registered"][1:]
    assert registered == [f"{m}:{n}" for m, n, created in expected if created]


def test_an_empty_batch_writes_nothing(db_url: str) -> None:
    cat = open_as(db_url, "alice")
    assert cat.add_candidates([]) == []
    assert cat.audit_head()[0] == 0


def test_scan_keeps_order_with_big_files_in_the_pool(sqlite_path: str, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for i in range(5):
        artifact(root / "m", f"small-{i}.bin", f"small {i}")
    artifact(root / "m", "small-2-big.bin", b"\x01" * (1 << 20))  # prepared in the pool
    cat = Catalog(sqlite_path)
    items = scan(cat, [root])
    assert [it.path for it in items] == [str(p) for p in find_artifacts(root.absolute())]
    assert [it.outcome for it in items] == ["registered"] * 6
    assert [it.version.version for it in items] == list(range(1, 7))
    assert [it.outcome for it in scan(cat, [root])] == ["exists"] * 6


@pytest.mark.pg
def test_driver_level_errors_on_postgresql_are_translated(
    pg_server: object, tmp_path: Path
) -> None:
    """A role that may read but not write versions gets regtui's one-line error,
    though the failing INSERT ran on the driver, not through SQLAlchemy."""
    from tests.support.pg import PgServer, url_as

    assert isinstance(pg_server, PgServer)
    url = pg_server.new_database()
    admin = Catalog(url)
    admin.register(artifact(tmp_path, "a.bin", "A"), "churn")
    dbname = url.split("/")[3].split("?")[0]
    url_as(url, "reader", superuser=False)
    import psycopg

    with psycopg.connect(
        host=str(pg_server.socket_dir),
        port=pg_server.port,
        user="postgres",
        dbname=dbname,
        autocommit=True,
    ) as conn:
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    reader = Catalog(url_as(url, "reader", superuser=False))
    with pytest.raises(CatalogError, match="lacks a privilege"):
        reader.register(artifact(tmp_path, "b.bin", "B"), "churn")
    assert [v.version for v in admin.versions("churn")] == [1]
    assert admin.verify_audit().ok
