"""Names and references: `MODEL:VERSION`, `MODEL@STAGE`, or `MODEL` (its latest version),
and the same written as MLflow's model URIs (`models:/MODEL/VERSION`,
`models:/MODEL@ALIAS`, `models:/MODEL/latest`, `models:/MODEL/Production`).

Model names are written as people write them (`Churn Model v2`, as MLflow allows):
any printable characters, matched exactly. A name holding ':' or '@' (which a ref
would read as its version or stage) or starting with '"' is written in double
quotes in a ref, with backslash before '"' and '\\': `"team:churn"@production`.
Stage names stay lowercase slugs; an MLflow alias maps to one by `stage_for_alias`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from regtui.errors import UsageError

MAX_MODEL_NAME = 128
# ASCII digits only: str.isdigit() and int() also take '²', '٣' and '３'.
DIGITS = re.compile(r"[0-9]+")
MAX_VERSION = 2**31 - 1  # the version column is a 32-bit integer on PostgreSQL
STAGE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_NOT_IN_STAGE = re.compile(r"[^a-z0-9._-]+")
MLFLOW_SCHEME = "models:/"


def check_model_name(name: str) -> str:
    """A model name: 1 … 128 printable characters (no control, format or separator
    character but the ASCII space), not starting or ending with whitespace."""
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_MODEL_NAME
        or not name.isprintable()
        or name != name.strip()
    ):
        shown = repr(name)[:200] if isinstance(name, str) else type(name).__name__
        raise UsageError(
            f"bad model name {shown}: use 1 to {MAX_MODEL_NAME} printable characters, "
            "not starting or ending with a space"
        )
    return name


def check_stage_name(name: str) -> str:
    if not STAGE_NAME.fullmatch(name or ""):
        hint = ""
        if isinstance(name, str) and name:
            with_case = _NOT_IN_STAGE.sub("-", name.lower()).strip("-._")[:64]
            if with_case and with_case != name and STAGE_NAME.fullmatch(with_case):
                hint = f" (did you mean {with_case!r}?)"
        raise UsageError(
            f"bad stage name {name[:200]!r}: use lowercase letters, digits, '.', '_' or '-', "
            f"at most 64 characters{hint}"
        )
    return name


def stage_for_alias(alias: str) -> str:
    """The stage an MLflow alias (or legacy stage) becomes: lowercased, each run of
    other characters one '-' (`Champion` → `champion`, `prod v2` → `prod-v2`)."""
    stage = alias.strip().lower()
    if not STAGE_NAME.fullmatch(stage):
        stage = _NOT_IN_STAGE.sub("-", stage).strip("-._")[:64].rstrip("-._")
    if not STAGE_NAME.fullmatch(stage):
        raise UsageError(f"the alias {alias[:200]!r} names no stage regtui can hold")
    return stage


def needs_quotes(name: str) -> bool:
    return ":" in name or "@" in name or name.startswith(('"', MLFLOW_SCHEME))


def quote_model(name: str) -> str:
    """The name as a ref writes it: bare when it can be, else in double quotes."""
    if not needs_quotes(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: str) -> tuple[str, str]:
    """A leading double-quoted name and the text after its closing quote."""
    out: list[str] = []
    i = 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), text[i + 1 :]
        out.append(c)
        i += 1
    raise UsageError(f'unclosed quote in {text[:200]!r}: write a quoted name as "NAME"')


def model_arg(text: str) -> str:
    """A MODEL argument: a name, bare or in a ref's double quotes."""
    text = text.strip()
    if text.startswith('"'):
        name, rest = _unquote(text)
        if rest.strip():
            raise UsageError(f"unexpected {rest[:40]!r} after the quoted model name")
        return check_model_name(name)
    return check_model_name(text.strip())


@dataclass(frozen=True)
class Ref:
    model: str
    version: int | None = None
    stage: str | None = None

    def __str__(self) -> str:
        model = quote_model(self.model)
        if self.version is not None:
            return f"{model}:{self.version}"
        if self.stage is not None:
            return f"{model}@{self.stage}"
        return model


# MLflow's legacy registry stages that name a stage; its alias is the stage's name.
MLFLOW_STAGES = {"production", "staging"}


def parse_mlflow_uri(text: str) -> Ref:
    """`models:/NAME/VERSION`, `models:/NAME@ALIAS` (the alias names a stage, by
    `stage_for_alias`), `models:/NAME/latest` and the legacy `models:/NAME/Production`."""
    rest = text[len(MLFLOW_SCHEME) :]
    if rest.startswith("/"):
        rest = ""  # models://PROFILE/... names another registry in MLflow
    if "@" in rest:
        model, alias = rest.rsplit("@", 1)  # an alias holds no '@'; a name may
        return Ref(check_model_name(model), stage=stage_for_alias(alias))
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
    if text.startswith('"'):
        model, rest = _unquote(text)
        model = check_model_name(model)
        if not rest:
            return Ref(model)
        if rest[0] == "@":
            return Ref(model, stage=check_stage_name(rest[1:]))
        if rest[0] == ":":
            return Ref(model, version=_version_in(text, rest[1:]))
        raise UsageError(
            f"unexpected {rest[:40]!r} after the quoted model name in {text[:200]!r}: "
            "expected :VERSION or @STAGE"
        )
    if "@" in text:
        model, stage = text.rsplit("@", 1)  # a stage holds no '@'
        return Ref(check_model_name(model), stage=check_stage_name(stage))
    if ":" in text:
        model, number = text.rsplit(":", 1)
        return Ref(check_model_name(model), version=_version_in(text, number))
    return Ref(check_model_name(text))


def _version_in(text: str, number: str) -> int:
    digits = number[1:] if number[:1] in ("v", "V") else number
    version = version_number(digits)
    if version is None:
        raise UsageError(
            f"bad version in {text[:200]!r}: expected MODEL:N with N = 1, 2, 3 … "
            f"up to {MAX_VERSION} (a name holding ':' or '@' goes in double quotes: "
            '"team:churn":3)'
        )
    return version


def audit_target(model: str, number: int) -> str:
    """How an audit event names a version: `MODEL:N` as written, never quoted
    (unambiguous there: N is digits and the event's model column holds the name)."""
    return f"{model}:{number}"


def version_number(text: str) -> int | None:
    """A version number typed by a person (ASCII digits, 1 … MAX_VERSION), or None."""
    if not DIGITS.fullmatch(text) or len(text) > 12 or not 1 <= int(text) <= MAX_VERSION:
        return None
    return int(text)
