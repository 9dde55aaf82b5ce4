"""Shell completion as a shell runs it: `regtui completion SHELL` prints a script,
and each Tab runs regtui under argcomplete's protocol, completing commands,
options, model names and refs from the catalog that --db or REGTUI_DB names.

Three ways in: a real bash sourcing the script, a real fish where one is
installed, and argcomplete's environment protocol as a subprocess (as the zsh
and fish scripts call it), which needs no shell at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from tests.unit.helpers import model_bytes

REGTUI = [sys.executable, "-m", "regtui"]


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """churn:1 (in production), churn:2 and "team:fraud":1."""
    db = tmp_path / "c.sqlite"
    with Catalog(db, user="alice") as cat:
        for i, model in ((1, "churn"), (2, "churn"), (3, "team:fraud")):
            path = tmp_path / f"m{i}.safetensors"
            path.write_bytes(model_bytes(f"weights {i}"))
            cat.register(path, model)
    with Catalog(db, user="bob") as cat:
        cat.approve("churn:1", "ok")
        cat.promote("churn:1", "production", "ship")
    return db


def _env(db: Path | str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_ARC", "COMP_"))}
    env.pop("REGTUI_DB", None)
    if db is not None:
        env["REGTUI_DB"] = str(db)
    return env | extra


def protocol(
    line: str, db: Path | str | None, tmp_path: Path, shell: str = "bash"
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Completions for `line` (cursor at its end) through argcomplete's variables,
    as the sourced scripts set them; what regtui answers, split as the shell would."""
    out = tmp_path / f"completions.{shell}"
    out.unlink(missing_ok=True)
    env = _env(
        db,
        _ARGCOMPLETE="1",
        _ARGCOMPLETE_SHELL=shell,
        _ARGCOMPLETE_STDOUT_FILENAME=str(out),
        COMP_LINE=line,
        COMP_POINT=str(len(line)),
    )
    if shell == "bash":
        env["_ARGCOMPLETE_IFS"] = "\n"
    proc = subprocess.run(
        [*REGTUI], capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path
    )
    text = out.read_text() if out.exists() else ""
    sep = "\n" if shell == "bash" else "\x0b"
    words = [w for w in text.split(sep) if w]
    if shell == "zsh":  # "value:description", the value's colons escaped
        words = [w.rsplit(":", 1)[0].replace("\\:", ":") for w in words]
    return [w.strip() for w in words], proc


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(shell: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [*REGTUI, "completion", shell], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "regtui" in proc.stdout and "_ARGCOMPLETE" in proc.stdout, proc.stdout[:500]


def test_completion_refuses_a_shell_it_does_not_know() -> None:
    proc = subprocess.run(
        [*REGTUI, "completion", "tcsh"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_refs_and_model_names_come_from_the_catalog(
    shell: str, catalog: Path, tmp_path: Path
) -> None:
    words, proc = protocol("regtui show ", catalog, tmp_path, shell)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    joined = " ".join(words)
    for ref in ("churn", "churn@production", "churn:1", "churn:2"):
        assert ref in words, (ref, words)
    assert "team" in joined and "fraud" in joined  # quoted as a ref writes it
    assert not any(w.startswith("--") for w in words)  # options wait for a '-'


def test_a_model_typed_to_its_colon_completes_every_version(catalog: Path, tmp_path: Path) -> None:
    words, _ = protocol("regtui diff churn:1 churn:", catalog, tmp_path)
    # bash breaks words at ':', so what it is given to insert is the part after it
    assert {w.rsplit(":", 1)[-1] for w in words} == {"1", "2"}, words
    words, _ = protocol("regtui approve churn@", catalog, tmp_path)
    assert [w.rsplit("@", 1)[-1] for w in words] == ["production"], words


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("regtui ap", {"approve"}),
        ("regtui rollback --", {"--stage", "--to", "--reason", "--db", "--json"}),
        ("regtui versions ", {"churn", "team:fraud"}),
        ("regtui rollback ch", {"churn"}),
        ("regtui demote churn --stage ", {"production"}),
        ("regtui completion ", {"bash", "zsh", "fish"}),
        # --order-by completes fields, never file names
        ("regtui versions --order-by ", {"created", "version", "model", "metrics."}),
        ("regtui versions --order-by met", {"metrics.", "metadata."}),
    ],
)
def test_commands_options_models_and_stages(
    line: str, expected: set[str], catalog: Path, tmp_path: Path
) -> None:
    words, _ = protocol(line, catalog, tmp_path)
    found = {w.replace('\\"', "").replace('"', "") for w in words}
    assert expected <= found, (line, words)


def test_db_typed_on_the_line_wins_over_regtui_db(catalog: Path, tmp_path: Path) -> None:
    other = tmp_path / "empty.sqlite"
    Catalog(other).close()
    words, _ = protocol(f"regtui --db {catalog} show ", other, tmp_path)
    assert "churn:1" in words
    words, _ = protocol(f"regtui --db {other} show ", catalog, tmp_path)
    assert words == []


@pytest.mark.parametrize(
    "db",
    ["missing", "garbage", "folder", "no-such-dir/x.sqlite", "postgresql://nobody@127.0.0.1:1/x"],
)
def test_a_catalog_that_cannot_be_read_completes_nothing_quietly(db: str, tmp_path: Path) -> None:
    target = tmp_path / db
    if db == "garbage":
        target.write_bytes(b"not a database at all" * 100)
    elif db == "folder":
        target.mkdir()
    where = db if db.startswith("postgresql") else str(target)
    words, proc = protocol("regtui show ", where, tmp_path)
    assert words == [] and proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert not (tmp_path / "missing").exists()  # completing never makes a catalog


def test_completing_never_imports_sqlalchemy_and_answers_quickly(
    catalog: Path, tmp_path: Path
) -> None:
    """A Tab pays for Python and argparse, not for the ORM: with SQLAlchemy made
    unimportable the refs still complete."""
    out = tmp_path / "out"
    line = "regtui show "
    env = _env(
        catalog,
        _ARGCOMPLETE="1",
        _ARGCOMPLETE_IFS="\n",
        _ARGCOMPLETE_STDOUT_FILENAME=str(out),
        COMP_LINE=line,
        COMP_POINT=str(len(line)),
    )
    code = (
        "import sys; sys.modules['sqlalchemy'] = None; sys.modules['sqlmodel'] = None\n"
        "from regtui.cli.main import main; main()"
    )
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    took = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert "churn:1" in out.read_text().split("\n")
    assert took < 3.0, f"a completion took {took:.2f} s"


def test_a_normal_start_does_not_import_argcomplete() -> None:
    code = (
        "import sys\nfrom regtui.cli.main import build_parser\nbuild_parser()\n"
        "print('argcomplete' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr


BASH_DRIVER = r"""
source "$1"
line="$2"
COMP_LINE="$line"; COMP_POINT=${#COMP_LINE}
# split as bash does for completion: at blanks and at its COMP_WORDBREAKS (':' too)
COMP_WORDS=(); word=""
for ((i = 0; i < ${#line}; i++)); do
  c="${line:i:1}"
  if [[ "$c" == " " ]]; then [[ -n "$word" ]] && COMP_WORDS+=("$word"); word=""
  elif [[ "$c" == ":" || "$c" == "=" ]]; then
    [[ -n "$word" ]] && COMP_WORDS+=("$word"); COMP_WORDS+=("$c"); word=""
  else word+="$c"; fi
done
COMP_WORDS+=("$word")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
_python_argcomplete regtui "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


@pytest.fixture
def script_dir(tmp_path: Path) -> Path:
    """The bash script, and a `regtui` on PATH that is this checkout's."""
    where = tmp_path / "shell"
    where.mkdir()
    launcher = where / "regtui"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m regtui "$@"\n')
    launcher.chmod(0o755)
    script = subprocess.run(
        [*REGTUI, "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    (where / "regtui.bash").write_text(script)
    (where / "driver.sh").write_text(BASH_DRIVER)
    return where


def _in_bash(where: Path, line: str, db: Path) -> list[str]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    env = _env(db, PATH=f"{where}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [bash, str(where / "driver.sh"), str(where / "regtui.bash"), line],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return [w.strip() for w in proc.stdout.splitlines() if w.strip()]


def test_a_real_bash_completes_commands_models_and_refs(script_dir: Path, catalog: Path) -> None:
    assert _in_bash(script_dir, "regtui appr", catalog) == ["approve"]
    refs = _in_bash(script_dir, "regtui show ", catalog)
    assert {"churn", "churn@production", "churn:1", "churn:2"} <= set(refs), refs
    # after a ':' bash inserts only what follows it
    assert set(_in_bash(script_dir, "regtui show churn:", catalog)) == {"1", "2"}
    assert _in_bash(script_dir, "regtui rollback ", catalog) == ["churn", '\\"team:fraud\\"']


def test_a_real_fish_completes_refs(tmp_path: Path, catalog: Path, script_dir: Path) -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed here (the protocol tests cover its format)")
    script = subprocess.run(
        [*REGTUI, "completion", "fish"], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "regtui.fish").write_text(script)
    env = _env(catalog, PATH=f"{script_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [
            fish,
            "--no-config",
            "-c",
            f"source {tmp_path / 'regtui.fish'}; complete -C 'regtui show '",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    words = [w.split("\t")[0] for w in proc.stdout.splitlines()]
    assert {"churn", "churn@production", "churn:1"} <= set(words), (words, proc.stderr)


def test_order_by_completes_the_keys_versions_hold(tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite"
    with Catalog(db, user="alice") as cat:
        path = tmp_path / "m.safetensors"
        path.write_bytes(model_bytes("w"))
        cat.register(path, "churn", metrics={"auc": 0.9, "val_loss": 0.2}, tags={"team": "x"})
    words, _ = protocol("regtui versions --order-by metrics.", db, tmp_path)
    assert {"metrics.auc", "metrics.val_loss"} <= set(words)
    assert not any(Path(w).exists() for w in words if "/" in w)
    words, _ = protocol("regtui versions --order-by tags.", db, tmp_path)
    assert "tags.team" in words
