"""Names and references: `MODEL:VERSION`, `MODEL@STAGE`, or `MODEL` (its latest version),
and the same written as MLflow's model URIs (`models:/MODEL/VERSION`,
`models:/MODEL@ALIAS`, `models:/MODEL/latest`, `models:/MODEL/Production`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from regtui.errors import UsageError

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
# ASCII digits only: str.isdigit() and int() also take '²', '٣' and '３'.
DIGITS = re.compile(r"[0-9]+")
MAX_VERSION = 2**31 - 1  # the version column is a 32-bit integer on PostgreSQL
STAGE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_model_name(name: str) -> str:
    if not MODEL_NAME.fullmatch(name or ""):
        raise UsageError(
            f"bad model name {name!r}: use lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, at most 128 characters"
        )
    return name


def check_stage_name(name: str) -> str:
    if not STAGE_NAME.fullmatch(name or ""):
        raise UsageError(
            f"bad stage name {name!r}: use lowercase letters, digits, '.', '_' or '-', "
            "at most 64 characters"
        )
    return name


@dataclass(frozen=True)
class Ref:
    model: str
    version: int | None = None
    stage: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.model}:{self.version}"
        if self.stage is not None:
            return f"{self.model}@{self.stage}"
        return self.model


MLFLOW_SCHEME = "models:/"
# MLflow's legacy registry stages that name a stage; its alias is the stage's name.
MLFLOW_STAGES = {"production", "staging"}


def parse_mlflow_uri(text: str) -> Ref:
    """`models:/NAME/VERSION`, `models:/NAME@ALIAS` (the alias is a stage),
    `models:/NAME/latest` and the legacy `models:/NAME/Production|Staging`."""
    rest = text[len(MLFLOW_SCHEME) :]
    if "@" in rest:
        model, alias = rest.split("@", 1)
        return Ref(check_model_name(model), stage=check_stage_name(alias))
    model, _, tail = rest.rpartition("/")
    if model:
        version = version_number(tail)
        if version is not None:
            return Ref(check_model_name(model), version=version)
        if tail.lower() == "latest":
            return Ref(check_model_name(model))
        if tail.lower() in MLFLOW_STAGES:
            return Ref(check_model_name(model), stage=tail.lower())
    raise UsageError(
        f"bad model URI {text[:200]!r}: expected models:/MODEL/VERSION, models:/MODEL@STAGE, "
        "models:/MODEL/latest or models:/MODEL/Production"
    )


def parse_ref(text: str) -> Ref:
    """Parse a version reference; the error says which form was expected."""
    text = text.strip()
    if text.startswith(MLFLOW_SCHEME):
        return parse_mlflow_uri(text)
    if "@" in text:
        model, stage = text.split("@", 1)
        return Ref(check_model_name(model), stage=check_stage_name(stage))
    if ":" in text:
        model, number = text.rsplit(":", 1)
        digits = number[1:] if number[:1] in ("v", "V") else number
        version = version_number(digits)
        if version is None:
            raise UsageError(
                f"bad version in {text[:200]!r}: expected MODEL:N with N = 1, 2, 3 … "
                f"up to {MAX_VERSION}"
            )
        return Ref(check_model_name(model), version=version)
    return Ref(check_model_name(text))


def version_number(text: str) -> int | None:
    """A version number typed by a person (ASCII digits, 1 … MAX_VERSION), or None."""
    if not DIGITS.fullmatch(text) or len(text) > 12 or not 1 <= int(text) <= MAX_VERSION:
        return None
    return int(text)
