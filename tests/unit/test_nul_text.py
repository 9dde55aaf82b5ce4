"""A NUL character: PostgreSQL stores none in text or JSONB, and an export holding
one is refused on import, so no catalog takes one. What a person gives (tags,
params however nested, metric and param names, descriptions, reasons) is refused
with one line and nothing changes, on both backends alike; what an artifact or
its sidecars say (a header's metadata) is recorded with the NUL shown as U+FFFD,
so such an artifact registers on both backends and exports and imports whole."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.service import Catalog
from regtui.errors import UsageError
from tests.unit.helpers import artifact, catalog_with_versions

# Text with a NUL somewhere in it (start, middle, end, alone, twice).
WITH_NUL = st.tuples(st.text(max_size=4), st.text(max_size=4)).map(lambda ab: f"{ab[0]}\x00{ab[1]}")
_n = itertools.count()


def _calls(tmp: Path, text: str) -> list[Callable[[Catalog], Any]]:
    """Every way a person hands the catalog text, each carrying `text`."""

    def new_file() -> Path:
        return artifact(tmp, f"n{next(_n)}.safetensors", f"new {next(_n)}")

    return [
        lambda c: c.register(new_file(), "churn", tags={"k": text}),
        lambda c: c.register(new_file(), "churn", tags={text: "v"}),
        lambda c: c.register(new_file(), "churn", params={"p": {"deep": [1, text]}}),
        lambda c: c.register(new_file(), "churn", params={text: 1}),
        lambda c: c.register(new_file(), "churn", metrics={text: 0.5}),
        lambda c: c.edit("churn:1", description=text),
        lambda c: c.edit("churn", description=text),
        lambda c: c.edit("churn:1", tags={"k": text}),
        lambda c: c.approve("churn:1", reason=text),
        lambda c: c.log("churn:1", params={"p": text}),
    ]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=WITH_NUL)
def test_a_person_giving_a_nul_is_refused_in_one_line_and_nothing_changes(
    db_url: str, tmp_path: Path, text: str
) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 1) if not _has_churn(db_url) else Catalog(db_url)
    try:
        before = (cat.audit_head(), cat.get("churn:1").to_json(), cat.count_versions("churn"))
        for call in _calls(tmp_path, text):
            with pytest.raises(UsageError) as refused:
                call(cat)
            message = str(refused.value)
            assert "NUL" in message and "\n" not in message and "\x00" not in message
        assert (
            cat.audit_head(),
            cat.get("churn:1").to_json(),
            cat.count_versions("churn"),
        ) == before
    finally:
        cat.close()


def _has_churn(url: str) -> bool:
    if not url.startswith("postgresql") and not Path(url).exists():
        return False
    with Catalog(url) as cat:
        return any(m.name == "churn" for m in cat.models())


@pytest.mark.parametrize("said", ["\x00", "a\x00b", "\x00\x00x", "é\x00\u202e"])
def test_an_artifact_saying_a_nul_registers_everywhere_with_it_shown(
    db_url: str, tmp_path: Path, said: str
) -> None:
    with Catalog(db_url) as cat:
        v = cat.register(artifact(tmp_path, "m.safetensors", said), "churn")
        shown = said.replace("\x00", "\ufffd")
        assert v.metadata["metadata"]["content"] == shown
        assert cat.get("churn:1").metadata["metadata"]["content"] == shown
        assert "\\ufffd" in cat.get("churn:1").to_json_text()
        chain, state = cat.verify_catalog()
        assert chain.ok and state is not None and state.ok
        exported = cat.export_data()
    copy = tmp_path / "copy.sqlite"
    with Catalog(str(copy)) as other:
        other.import_data(exported)
        assert other.get("churn:1").metadata["metadata"]["content"] == shown
