"""Refs and MLflow's model URIs. Every model name, however written (`Churn Model v2`,
`team:churn`, `a@b`), round-trips through the ref regtui prints for it. MLflow's URIs
name the same versions: `models:/M/3` is `M:3`, `models:/M@Alias` is the stage the
alias maps to, `models:/M/latest` is `M`, and the legacy `models:/M/Production` is
`M@production`; anything else is one clear usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.catalog.refs import (
    MAX_VERSION,
    STAGE_NAME,
    Ref,
    check_model_name,
    model_arg,
    parse_ref,
    quote_model,
    stage_for_alias,
)
from regtui.errors import UsageError
from tests.support.names import MODEL_NAMES
from tests.unit.helpers import catalog_with_versions

STAGES = st.from_regex(STAGE_NAME, fullmatch=True)
# In a URI the name runs to the last '/' or '@' (MLflow's own reading), and a leading
# '/' would name another registry (models://PROFILE/...)
URI_MODELS = MODEL_NAMES.filter(lambda m: "@" not in m and not m.startswith(("/", "models:/")))


@given(MODEL_NAMES, st.one_of(st.none(), st.integers(1, MAX_VERSION)), st.none() | STAGES)
def test_every_name_round_trips_through_its_printed_ref(
    model: str, version: int | None, stage: str | None
) -> None:
    ref = Ref(model, version=version, stage=None if version else stage)
    assert parse_ref(str(ref)) == ref
    assert parse_ref(f"  {ref}  ") == ref
    assert model_arg(quote_model(model)) == model
    assert check_model_name(model) == model


@given(MODEL_NAMES)
def test_a_name_needs_quotes_only_where_a_ref_would_read_it_otherwise(model: str) -> None:
    if quote_model(model) == model:
        assert parse_ref(model) == Ref(model)
        assert model_arg(model) == model
    else:
        assert quote_model(model).startswith('"')


@given(URI_MODELS, st.integers(1, MAX_VERSION))
def test_a_numbered_uri_is_that_version(model: str, version: int) -> None:
    assert parse_ref(f"models:/{model}/{version}") == Ref(model, version=version)


@given(URI_MODELS, STAGES)
def test_an_alias_uri_is_that_stage(model: str, stage: str) -> None:
    assert parse_ref(f"models:/{model}@{stage}") == Ref(model, stage=stage)
    assert parse_ref(f"models:/{model}@{stage.upper()}") == Ref(model, stage=stage)


@given(URI_MODELS, st.sampled_from(["latest", "Latest", "LATEST"]))
def test_latest_is_the_models_latest_version(model: str, word: str) -> None:
    assert parse_ref(f"models:/{model}/{word}") == Ref(model)


@pytest.mark.parametrize(
    ("alias", "stage"),
    [("Champion", "champion"), ("prod v2", "prod-v2"), ("A/B", "a-b"), ("-x-", "x")],
)
def test_an_alias_maps_to_a_lowercase_stage(alias: str, stage: str) -> None:
    assert stage_for_alias(alias) == stage


@pytest.mark.parametrize(
    "name",
    ["", " churn", "churn ", "a\tb", "a\nb", "\x1b[31m", "a\u202eb", "a\u00a0b", "x" * 129],
)
def test_names_that_are_not_printable_one_liners_are_refused(name: str) -> None:
    name = name.encode().decode("unicode_escape") if "\\" in name else name
    with pytest.raises(UsageError) as caught:
        check_model_name(name)
    assert "\n" not in str(caught.value)


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
        "models:/churn@???",
        "models:/a/b",
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
