"""`regtui versions [MODEL] [--filter EXPR] [--order-by FIELD] [--desc] [--limit N]`:
without MODEL it searches every model and names each row MODEL:N (quoted where a
ref must quote it); JSON answers equal the API's; without a filter it reads through
the stdlib-sqlite3 quick path (no SQLAlchemy import); bad fields and filters are
usage errors (exit 2) on one line with the likely fix."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.catalog.service import Candidate, Catalog
from regtui.hashing import Digest

MODELS = ["churn", "team:churn", "B", "vision@2", "evil\x1b[31m"]


def _cli(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess that reports whether SQLAlchemy was imported."""
    code = (
        "import sys; from regtui.cli.main import main; rc = main(sys.argv[1:]); "
        "sys.stdout.flush(); sys.stderr.write('SQLA=%s\\n' % ('sqlalchemy' in sys.modules)); "
        "sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "--db", db, *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "c.sqlite")
    with Catalog(path) as cat:
        cat.add_candidates(
            [
                Candidate(
                    path=tmp_path / f"{i}.onnx",
                    model=MODELS[i % len(MODELS)],
                    digest=Digest(hashlib.sha256(str(i).encode()).hexdigest(), 100 + i),
                    format="onnx",
                    metrics={"auc": round(0.5 + (i * 7 % 10) / 20, 3)} if i % 4 else {},
                    params={"lr": [0.1, "adam", 3][i % 3]},
                    tags={"team": "growth" if i % 2 else "core"},
                )
                for i in range(17)
            ]
        )
        cat.archive("churn:2")
    return path


ASKED = [
    [],
    ["--limit", "4"],
    ["--desc"],
    ["--order-by", "metrics.auc", "--desc", "--limit", "5"],
    ["--order-by", "params.lr"],
    ["--order-by", "model", "--desc"],
    ["--order-by", "created", "--limit", "1"],
    ["--filter", "tags.team = 'growth'"],
    ["--filter", "metrics.auc > 0.6", "--order-by", "metrics.auc", "--desc", "--limit", "3"],
    ["--filter", "archived = true or version > 3", "--limit", "2"],
]


@pytest.mark.parametrize("asked", ASKED, ids=[" ".join(a) or "all" for a in ASKED])
@pytest.mark.parametrize("model", [None, "team:churn"])
def test_json_answers_equal_the_api_and_plain_lists_skip_sqlalchemy(
    db: str, asked: list[str], model: str | None
) -> None:
    args = ["versions", *([f'"{model}"'] if model else []), *asked, "--json"]
    proc = _cli(*args, db=db)
    assert proc.returncode == 0, proc.stderr
    opts = {
        a: asked[i + 1] for i, a in enumerate(asked) if a in ("--filter", "--order-by", "--limit")
    }
    with Catalog(db) as cat:
        expected = cat.versions(
            model,
            where=opts.get("--filter"),
            order_by=opts.get("--order-by"),
            desc="--desc" in asked,
            limit=int(opts["--limit"]) if "--limit" in opts else None,
        )
    assert json.loads(proc.stdout) == [v.to_json() for v in expected]
    assert expected, "each question finds something"
    filtered = "--filter" in asked
    assert f"SQLA={filtered}" in proc.stderr, proc.stderr


def test_text_rows_name_each_version_by_its_ref_across_models(db: str) -> None:
    proc = _cli("versions", "--order-by", "model", db=db)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["REF", "CREATED"]
    refs = [line.split()[0] for line in lines[1:]]
    with Catalog(db) as cat:
        every = cat.versions(order_by="model")
    assert len(refs) == len(every) == 17
    assert '"team:churn":1' in refs and '"vision@2":1' in refs and "churn:1" in refs
    # Untrusted names print as visible escapes, never as terminal control.
    assert "\x1b" not in proc.stdout and "evil\\x1b[31m:1" in refs
    assert refs == sorted(
        refs, key=lambda r: [v.ref for v in every].index(r.replace("\\x1b", "\x1b"))
    )


def test_one_model_keeps_its_version_column(db: str) -> None:
    proc = _cli("versions", "churn", "--desc", "--limit", "2", db=db)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[0] == "VER" and [line.split()[0] for line in lines[1:]] == ["4", "3"]


def test_nothing_found_says_so(db: str) -> None:
    proc = _cli("versions", "--filter", "version > 99", db=db)
    assert proc.returncode == 0 and proc.stdout.strip() == "no versions match"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--order-by", "creatd"], "--order-by: unknown field 'creatd'; did you mean created?"),
        (["--order-by", "metric.auc"], "did you mean metrics.auc?"),
        (["--order-by", "stage"], "cannot order by stage"),
        (["--order-by", "metrics"], "metrics needs a key: metrics.NAME"),
        (["--limit", "0"], "expected a whole number from 1"),
        (["--limit", "-3"], "expected a whole number from 1"),
        (["--limit", "٣"], "expected a whole number from 1"),
        (["--filter", "tags.team = growth"], "put text in quotes: tags.team = 'growth'"),
        (["--filter", "approvel = 'approved'"], "at column 1; did you mean approval?"),
        (["--filter", "version = 'x'"], "version compares with a number at column 11"),
        (["nope"], "no model named 'nope'"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors_with_the_fix(
    db: str, args: list[str], says: str
) -> None:
    proc = _cli("versions", *args, db=db)
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("SQLA=")]
    assert proc.returncode == (3 if args == ["nope"] else 2), proc.stderr
    assert len(lines) == 1 and lines[0].startswith("regtui: error: ") and says in lines[0], lines
    assert proc.stdout == ""


def test_a_bad_order_field_is_refused_before_the_catalog_is_read(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.sqlite")
    proc = _cli("versions", "--order-by", "creatd", db=missing)
    assert proc.returncode == 2 and "did you mean created?" in proc.stderr
    assert not Path(missing).exists() and "SQLA=False" in proc.stderr
