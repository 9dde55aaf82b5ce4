"""Bad refs, filters and catalog paths are usage errors: exit 2, one line, never an
internal error (exit 70) or a traceback.

Refs and filters are generated from their grammars with hostile tokens (digits that
are not ASCII, numbers past every integer type, deep nesting, stray quotes); the API
either answers or raises UsageError, and the CLI exits 0, 2 or 3 with one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.filter import MAX_NESTING
from regtui.catalog.refs import MAX_VERSION, parse_ref
from regtui.catalog.service import Catalog
from regtui.errors import FilterError, UsageError
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact

# Characters str.isdigit()/int() take as digits that are not ASCII: superscript,
# Arabic-Indic, extended Arabic-Indic, Devanagari, fullwidth, Bengali, Thai.
FOREIGN_DIGITS = "²³¹٠١٢٣٤٥٦٧٨٩۱۲१२３０１６৪๓"
HUGE = ["99999999999999999999", "9" * 24, "18446744073709551616", "9223372036854775808",
        str(MAX_VERSION + 1), "1" + "0" * 400]  # fmt: skip


def regtui(*args: str, db: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGTUI_DB": db}
    return subprocess.run(
        [sys.executable, "-m", "regtui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def assert_answered(proc: subprocess.CompletedProcess[str], allowed: tuple[int, ...]) -> None:
    assert proc.returncode in allowed, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    if proc.returncode:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("regtui: error: "), proc.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "c.sqlite")
    with Catalog(path) as cat:
        for i in range(3):
            cat.register(
                artifact(tmp_path, f"m{i}.bin", f"M{i}"),
                "m",
                metrics={"auc": 0.5 + i / 10},
                params={"lr": 0.1 * (i + 1), "big": 10**30, "name": f"n{i}"},
            )
    return path


# ------------------------------------------------------------ refs

version_text = st.one_of(
    st.integers(-5, 10**25).map(str),
    st.sampled_from(HUGE),
    st.text(alphabet=FOREIGN_DIGITS + "0123456789", min_size=0, max_size=6),
    st.builds(
        lambda a, b: a + b,
        st.sampled_from(["v", "V", "+", "-", " ", "0"]),
        st.text(alphabet="0123456789²١", max_size=5),
    ),
)
ref_text = st.one_of(
    st.builds(lambda m, n: f"{m}:{n}", st.sampled_from(["m", "M", "m m", "", "a" * 130]), version_text),
    st.builds(lambda m, s: f"{m}@{s}", st.sampled_from(["m", ""]), st.text(max_size=8)),
    st.text(max_size=12),
).filter(lambda t: "\x00" not in t)  # fmt: skip  # an argv cannot hold NUL


@settings(max_examples=examples(300), deadline=None)
@given(text=ref_text)
def test_parse_ref_answers_or_refuses_and_only_ascii_digits_are_numbers(text: str) -> None:
    try:
        ref = parse_ref(text)
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    if ref.version is not None:
        digits = text.strip().rsplit(":", 1)[1].lstrip("vV")
        assert digits.isascii() and digits.isdigit() and 1 <= ref.version <= MAX_VERSION


@pytest.mark.parametrize("digit", list(FOREIGN_DIGITS))
def test_a_foreign_digit_never_names_a_version(digit: str) -> None:
    with pytest.raises(UsageError, match="bad version"):
        parse_ref(f"m:{digit}")


@settings(max_examples=examples(8), deadline=None, suppress_health_check=list(HealthCheck))
@given(text=ref_text)
def test_show_with_a_generated_ref_is_an_answer_or_a_usage_error(db: str, text: str) -> None:
    proc = regtui("show", text, "--json", db=db)
    assert_answered(proc, (0, 2, 3))


@pytest.mark.parametrize("number", ["9" * 24, str(MAX_VERSION + 1), "²", "٣", "３"])
@pytest.mark.parametrize(
    "command",
    [["show", "m:{n}"], ["approve", "m:{n}", "--reason", "r"], ["diff", "m:1", "m:{n}"],
     ["rollback", "m", "--to", "{n}", "--reason", "r"],
     ["promote", "m:1", "--to", "staging", "--expect", "{n}", "--reason", "r"]],
)  # fmt: skip
def test_bad_version_numbers_are_usage_errors_everywhere(
    db: str, number: str, command: list[str]
) -> None:
    proc = regtui(*(a.replace("{n}", number) for a in command), db=db)
    assert_answered(proc, (2,))


# ------------------------------------------------------------ filters

FIELDS = ["version", "size", "metrics.auc", "params.lr", "params.big", "params.name", "tags.t",
          "metadata.x", "created", "archived", "stage", "dataset", "format", "nosuch", "metrics"]  # fmt: skip
OPS = ["=", "!=", "<", "<=", ">", ">=", "==", "<>", "like", "in", "not like", "=>", ""]
VALUES = [*HUGE, "1e999", "-1e999", "1e308", "0", "-0.5", ".5", "5.", "١", "３", "'x'", "'%'",
          "true", "false", "'2026-01-01'", "'", "(1, 2)", "(1e999)", "NaN", "Infinity", ""]  # fmt: skip


@st.composite
def filters(draw: st.DrawFn) -> str:
    def comparison() -> str:
        op = draw(st.sampled_from(OPS))
        value = draw(st.sampled_from(VALUES))
        if op == "in" and not value.startswith("("):
            value = f"({value})"
        return f"{draw(st.sampled_from(FIELDS))} {op} {value}"

    expr = comparison()
    for _ in range(draw(st.integers(0, 4))):
        expr = f"{expr} {draw(st.sampled_from(['and', 'or']))} {comparison()}"
    depth = draw(st.sampled_from([0, 1, 5, MAX_NESTING, MAX_NESTING + 1, 200, 990]))
    wrap = draw(st.sampled_from(["not ", "(", "not (", "noise"]))
    if wrap == "noise":
        return expr + draw(st.sampled_from([")", "(", " and", "'", "\x00", "\u202e", ""]))
    for _ in range(depth):
        expr = f"{wrap}{expr}" + (")" if "(" in wrap else "")
    return expr


@settings(max_examples=examples(300), deadline=None, suppress_health_check=list(HealthCheck))
@given(text=filters())
def test_the_api_answers_a_generated_filter_or_raises_a_filter_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    cat = _shared_catalog(tmp_path_factory)
    try:
        cat.versions("m", where=text)
        cat.count_versions("m", where=text)
    except UsageError as exc:
        assert "\n" not in str(exc)


_CATALOGS: dict[str, Catalog] = {}


def _shared_catalog(factory: pytest.TempPathFactory) -> Catalog:
    """One seeded catalog for the hypothesis examples (a fixture is per test, not
    per example)."""
    if "c" not in _CATALOGS:
        folder = factory.mktemp("filters")
        cat = Catalog(str(folder / "c.sqlite"))
        cat.register(
            artifact(folder, "a.bin", "A"),
            "m",
            metrics={"auc": 0.5},
            params={"lr": 0.1, "big": 10**30},
        )
        _CATALOGS["c"] = cat
    return _CATALOGS["c"]


@settings(max_examples=examples(8), deadline=None, suppress_health_check=list(HealthCheck))
@given(text=filters())
def test_versions_with_a_generated_filter_answers_or_is_a_usage_error(db: str, text: str) -> None:
    if "\x00" in text:
        text = text.replace("\x00", "")  # argv cannot carry NUL
    proc = regtui("versions", "m", "--filter", text, "--json", db=db)
    assert_answered(proc, (0, 2))


@pytest.mark.parametrize(
    "text,where",
    [
        ("not " * 990 + "version = 1", f"deeper than {MAX_NESTING}"),
        ("not (" * (MAX_NESTING + 1) + "version = 1" + ")" * (MAX_NESTING + 1), "deeper"),
        ("(" * 1000 + "version = 1" + ")" * 1000, None),  # parentheses alone nest nothing
        ("(" * 2000 + "version = 1" + ")" * 2000, "longer than"),
        ("version = " + "9" * 24, None),
        ("metrics.auc > " + "9" * 24, None),
        ("params.big = " + "1" + "0" * 30, None),
        ("size < -" + "9" * 24, None),
        ("version = 1e999", "out of range at column 11"),
        ("params.lr < 1e999", "out of range"),
        ("version = ١", "column 11"),
        ("version in (1, ３)", "column 16"),
    ],
)
def test_hostile_filters_answer_or_name_the_problem(db: str, text: str, where: str | None) -> None:
    proc = regtui("versions", "m", "--filter", text, "--json", db=db)
    if where is None:
        assert_answered(proc, (0,))
    else:
        assert_answered(proc, (2,))
        assert where in proc.stderr


def test_nesting_up_to_the_limit_is_fine(db: str) -> None:
    with Catalog(db) as cat:
        odd = MAX_NESTING % 2  # an odd number of nots negates: all three versions
        assert len(cat.versions("m", where="not " * MAX_NESTING + "version > 5")) == 3 * odd
        with pytest.raises(FilterError, match=str(MAX_NESTING)):
            cat.versions("m", where="not " * (MAX_NESTING + 1) + "version > 5")


def test_a_24_digit_number_filters_as_the_number_it_is(db: str) -> None:
    with Catalog(db) as cat:
        assert len(cat.versions("m", where="version < " + "9" * 24)) == 3
        assert cat.versions("m", where="version > " + "9" * 24) == []
        assert len(cat.versions("m", where="params.big > " + "9" * 24)) == 3  # 10**30


# ------------------------------------------------------------ --db


@pytest.mark.parametrize("kind", ["loop", "fifo", "folder", "dev_null", "url_fifo", "env_loop"])
def test_a_catalog_path_that_is_no_file_is_a_usage_error(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target"
    if kind in ("loop", "env_loop"):
        os.symlink(target.name, target)
    elif kind in ("fifo", "url_fifo"):
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    db = "/dev/null" if kind == "dev_null" else str(target)
    if kind == "url_fifo":
        db = f"sqlite:///{target}"
    flag = [] if kind == "env_loop" else ["--db", db]  # else REGTUI_DB names it
    path = str(artifact(tmp_path, "a.bin", "A"))
    for command in (["models"], ["register", path, "--model", "m"], ["show", "m:1", "--json"]):
        proc = regtui(*command, *flag, db=db, timeout=30)
        assert_answered(proc, (2,))
        assert "not a catalog file" in proc.stderr


@pytest.mark.parametrize(
    "url", ["sqlite://relative.db", "mysql://x/y", "http://host/c.db", "postgres+x://a"]
)
def test_a_url_that_names_no_catalog_is_a_usage_error(tmp_path: Path, url: str) -> None:
    proc = regtui("models", "--db", url, db=str(tmp_path / "unused.sqlite"), timeout=30)
    assert_answered(proc, (2,))
    assert "not a catalog URL" in proc.stderr


@pytest.mark.parametrize("raw", [b"bad\xff.safetensors", b"m\xc3(.bin", b"\xed\xa0\x80.onnx"])
def test_a_file_name_that_is_not_utf8_is_refused_in_one_line(
    db: str, tmp_path: Path, raw: bytes
) -> None:
    folder = os.fsencode(tmp_path)
    path = os.path.join(folder, raw)
    with open(path, "wb") as fh:
        fh.write(b"x" * 64)
    proc = regtui("register", os.fsdecode(path), "--model", "x", db=db, timeout=30)
    assert_answered(proc, (6,))
    assert "not valid UTF-8" in proc.stderr


@pytest.mark.parametrize(
    "where", ["missing.sqlite", "sub/x.sqlite", "postgresql://nobody@127.0.0.1:1/x"]
)
def test_demo_refuses_a_catalog_it_would_not_use(tmp_path: Path, where: str) -> None:
    """The demo always seeds a fresh temporary catalog: a --db is refused, not ignored,
    and nothing is created there."""
    target = where if "://" in where else str(tmp_path / where)
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "demo", "--db", target],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "demo always opens a fresh temporary catalog" in done.stderr
    assert not list(tmp_path.iterdir())
