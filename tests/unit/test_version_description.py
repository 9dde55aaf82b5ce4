"""A version's description: written with `edit REF --description` (or the API), read
back by every read path, audited with before and after, exported and imported, shown
in the diff where either side has one; on PostgreSQL the team guard lets it change
while the columns fixed at registration stay fixed
(tests/system/test_team_enforcement.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.catalog.quickread import QuickReader
from regtui.catalog.refs import parse_ref
from regtui.catalog.service import Catalog
from regtui.errors import Conflict, UsageError
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import catalog_with_versions

NOTE = "Retrained on March data.\nAUC is up; latency unchanged.  \u202eliteral\x1b[31m"


def test_a_description_is_written_read_and_audited(db_url: str, tmp_path: Path) -> None:
    with catalog_with_versions(db_url, tmp_path, 2) as cat:
        assert cat.get("churn:1").description is None
        v = cat.edit("churn:1", description=NOTE, reason="notes")
        assert v.description == NOTE
        assert cat.get("churn:1").description == NOTE
        assert cat.get("churn:1").to_json()["description"] == NOTE
        assert cat.get("churn:2").description is None  # only the version named
        event = cat.audit_events("churn")[-1]
        assert (event.action, event.target) == ("edited", "churn:1")
        assert (event.before, event.after) == ({"description": None}, {"description": NOTE})
        assert cat.verify_audit().ok
        cat.edit("churn:1", description="", reason="cleared")
        assert cat.get("churn:1").description is None
        with pytest.raises(Conflict, match="nothing to change"):
            cat.edit("churn:1", description="")


def test_description_and_tags_change_in_one_edit(db_url: str, tmp_path: Path) -> None:
    with catalog_with_versions(db_url, tmp_path, 1) as cat:
        v = cat.edit("churn:1", description="first", tags={"owner": "ana"}, untag=["team"])
        assert (v.description, v.tags) == ("first", {"owner": "ana"})
        assert cat.audit_events("churn")[-1].after == {
            "description": "first",
            "tags": {"owner": "ana"},
        }


def test_the_quick_read_path_reads_it_too(tmp_path: Path) -> None:
    url = str(tmp_path / "c.sqlite")
    with catalog_with_versions(url, tmp_path, 1) as cat:
        cat.edit("churn:1", description=NOTE)
        full = cat.get("churn:1")
    quick = QuickReader.open(url)
    assert quick is not None
    with quick:
        v = quick.get(parse_ref("churn:1"))
    assert v.description == NOTE
    assert v.to_json_text() == full.to_json_text()


def test_export_and_import_carry_it_and_older_exports_still_import(tmp_path: Path) -> None:
    with catalog_with_versions(str(tmp_path / "a.sqlite"), tmp_path, 2) as cat:
        cat.edit("churn:2", description=NOTE)
        data = cat.export_data()
    with Catalog(str(tmp_path / "b.sqlite")) as copy:
        copy.import_data(data)
        assert copy.get("churn:2").description == NOTE
        assert copy.verify_audit().ok
    for v in data["versions"]:  # as exported before the column existed
        del v["description"]
    with Catalog(str(tmp_path / "c.sqlite")) as older:
        older.import_data(data)
        assert older.get("churn:2").description is None


def test_the_diff_shows_it_where_either_side_has_one(tmp_path: Path) -> None:
    with catalog_with_versions(str(tmp_path / "c.sqlite"), tmp_path, 2) as cat:
        assert "description" not in {r.key for r in cat.diff("churn:1", "churn:2").rows}
        cat.edit("churn:2", description="new data")
        rows = {r.key: r for r in cat.diff("churn:1", "churn:2").rows}
        assert (rows["description"].left, rows["description"].right) == (None, "new data")
        assert rows["description"].differs


@settings(max_examples=examples(30), deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_any_text_reads_back_as_written(
    tmp_path_factory: pytest.TempPathFactory, note: str
) -> None:
    folder = tmp_path_factory.mktemp("d")
    with catalog_with_versions(str(folder / "c.sqlite"), folder, 1) as cat:
        try:
            cat.edit("churn:1", description=note)
        except UsageError:
            return  # text the catalog refuses (a NUL): one line, nothing written
        except Conflict:
            return  # the same as it already is: nothing to change
        assert cat.get("churn:1").description == note
