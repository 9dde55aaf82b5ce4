"""MLflow's model URIs name the same versions as regtui's refs: `models:/M/3` is
`M:3`, `models:/M@stage` is `M@stage`, `models:/M/latest` is `M`, and the legacy
`models:/M/Production` is `M@production`; anything else is one clear usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.catalog.refs import MAX_VERSION, MODEL_NAME, STAGE_NAME, Ref, parse_ref
from regtui.errors import UsageError
from tests.unit.helpers import catalog_with_versions

MODELS = st.from_regex(MODEL_NAME, fullmatch=True)
STAGES = st.from_regex(STAGE_NAME, fullmatch=True)


@given(MODELS, st.integers(1, MAX_VERSION))
def test_a_numbered_uri_is_that_version(model: str, version: int) -> None:
    assert parse_ref(f"models:/{model}/{version}") == parse_ref(f"{model}:{version}")
    assert parse_ref(f"models:/{model}/{version}") == Ref(model, version=version)


@given(MODELS, STAGES)
def test_an_alias_uri_is_that_stage(model: str, stage: str) -> None:
    assert parse_ref(f"models:/{model}@{stage}") == Ref(model, stage=stage)


@given(MODELS, st.sampled_from(["latest", "Latest", "LATEST"]))
def test_latest_is_the_models_latest_version(model: str, word: str) -> None:
    assert parse_ref(f"models:/{model}/{word}") == Ref(model)


@pytest.mark.parametrize(("word", "stage"), [("Production", "production"), ("Staging", "staging")])
def test_the_legacy_stages_name_the_stage_of_that_name(word: str, stage: str) -> None:
    assert parse_ref(f"models:/churn/{word}") == Ref("churn", stage=stage)


@pytest.mark.parametrize(
    "uri",
    [
        "models:/",
        "models:/churn",
        "models:/churn/",
        "models:/churn/0",
        "models:/churn/Archived",
        "models:/churn/None",
        f"models:/churn/{MAX_VERSION + 1}",
        "models:/churn/３",
        "models:/churn@",
        "models:/churn@Champion",
        "models:/Churn/1",
        "models:/a/b/1",
        "models:/@production",
        "models://churn/1",
    ],
)
def test_other_uris_are_one_line_usage_errors(uri: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_ref(uri)
    assert "\n" not in str(caught.value)


def test_the_api_resolves_an_mlflow_uri(tmp_path: Path) -> None:
    with catalog_with_versions(str(tmp_path / "c.sqlite"), tmp_path, 3) as cat:
        assert cat.resolve("models:/churn/2").version == 2
        assert cat.resolve("models:/churn/latest").version == 3
        assert cat.get("models:/churn/1") == cat.get("churn:1")
