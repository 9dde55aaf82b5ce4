"""Shell completion for bash, zsh and fish, through argcomplete.

`regtui completion SHELL` prints the script a shell sources; from then on each
Tab runs `regtui` with argcomplete's environment (`_ARGCOMPLETE`), and `main`
hands the parser to `run` before anything else. argcomplete is imported only
then, so a normal start never pays for it.

The completers read model names, versions and stages through the stdlib-sqlite3
reader (catalog.quickread): no SQLAlchemy, so a Tab answers in a fraction of a
second. They honour `--db` typed earlier on the line, else REGTUI_DB. A catalog
that is missing, older, a PostgreSQL URL or unreadable completes nothing: a
completion never prints an error into the shell.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from regtui.catalog.quickread import QuickReader

SHELLS = ("bash", "zsh", "fish")
MAX_CANDIDATES = 500  # a Tab that would list more is no help; a shell pages fewer

Completer = Callable[..., list[str]]

REF_METAVARS = {"REF", "MODEL@STAGE", "MODEL|REF"}


def completer_for(metavar: Any, dest: str) -> Completer | None:
    """The completer for an argument, by what it holds (its metavar or name)."""
    if metavar in REF_METAVARS:
        return refs
    if metavar == "MODEL" or dest == "model":
        return models
    if metavar == "STAGE" or dest in ("stage", "stages", "demote"):
        return stages
    if dest == "order_by":
        return order_fields
    return None


def script(shell: str) -> str:
    """The script that makes `shell` complete `regtui`."""
    try:
        from argcomplete.shell_integration import shellcode
    except ImportError:  # a dependency; only an install that left it out lacks it
        from regtui.errors import RegtuiError

        raise RegtuiError("shell completion needs argcomplete: pip install argcomplete") from None
    return str(shellcode(["regtui"], shell=shell))


def run(parser: argparse.ArgumentParser) -> None:
    """Answer the completion the shell asked for (argcomplete exits the process);
    without argcomplete, return and let the shell complete nothing."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser, always_complete_options=False)


@contextlib.contextmanager
def _reader(parsed_args: argparse.Namespace | None) -> Iterator[QuickReader | None]:
    """The catalog `--db` (else REGTUI_DB, else the default) names, read-only; None
    when it cannot be read quickly. Nothing here may raise into the shell."""
    try:
        from regtui.catalog.quickread import QuickReader

        reader = QuickReader.open(getattr(parsed_args, "db", None))
    except Exception:
        reader = None
    if reader is None:
        yield None
        return
    try:
        yield reader
    finally:
        reader.close()


def _quiet(fn: Callable[[QuickReader, str], list[str]]) -> Completer:
    """A completer that answers [] on any failure: a Tab never shows a traceback."""

    def complete(prefix: str = "", parsed_args: Any = None, **_: Any) -> list[str]:
        try:
            with _reader(parsed_args) as reader:
                if reader is None:
                    return []
                found = fn(reader, prefix)
        except Exception:
            if os.environ.get("_ARC_DEBUG"):
                raise
            return []
        return [c for c in found if c.startswith(prefix)][:MAX_CANDIDATES]

    complete.__name__ = fn.__name__
    return complete


def _names(reader: QuickReader) -> list[str]:
    return [str(r[0]) for r in reader.con.execute("SELECT name FROM model ORDER BY name")]


def _model_rows(reader: QuickReader, name: str) -> tuple[list[int], list[str]]:
    """The version numbers and the held stages of the model named exactly `name`."""
    con = reader.con
    row = con.execute("SELECT id FROM model WHERE name = ?", (name,)).fetchone()
    if row is None:
        return [], []
    numbers = [
        int(r[0])
        for r in con.execute(
            "SELECT number FROM version WHERE model_id = ? ORDER BY number", (row[0],)
        )
    ]
    held = [
        str(r[0])
        for r in con.execute(
            "SELECT name FROM stage WHERE model_id = ? AND version_id IS NOT NULL ORDER BY name",
            (row[0],),
        )
    ]
    return numbers, held


def _split(prefix: str) -> tuple[str, str] | None:
    """A typed `MODEL:` or `MODEL@` (the model parsed as a ref reads it) and the
    separator; None while the model name is still being typed."""
    from regtui.catalog.refs import model_arg

    for sep in (":", "@"):
        head, found, _ = prefix.rpartition(sep)
        if found and head:
            try:
                return model_arg(head), sep
            except Exception:
                continue
    return None


def _models(reader: QuickReader, prefix: str) -> list[str]:
    from regtui.catalog.refs import quote_model

    return [quote_model(n) for n in _names(reader)]


def _refs(reader: QuickReader, prefix: str) -> list[str]:
    """MODEL, MODEL@STAGE for each stage it holds and its newest MODEL:N; all its
    versions once the name is typed up to its `:` (a model may have 100,000)."""
    from regtui.catalog.refs import quote_model

    split = _split(prefix)
    if split is not None:
        name, _ = split
        numbers, held = _model_rows(reader, name)
        q = quote_model(name)
        return [f"{q}@{s}" for s in held] + [f"{q}:{n}" for n in reversed(numbers)]
    out: list[str] = []
    for name in _names(reader):
        q = quote_model(name)
        if not q.startswith(prefix):
            continue
        numbers, held = _model_rows(reader, name)
        out.append(q)
        out += [f"{q}@{s}" for s in held]
        out += [f"{q}:{n}" for n in reversed(numbers[-20:])]  # the newest first
    return out


def _stages(reader: QuickReader, prefix: str) -> list[str]:
    found = reader.con.execute("SELECT DISTINCT name FROM stage ORDER BY name").fetchall()
    names = [str(r[0]) for r in found]
    return names + [s for s in ("production", "staging") if s not in names]


# JSON columns of the version table behind `metrics.K`, `params.K`, `tags.K`, `metadata.K`
KEYED_COLUMNS = {"metrics": "metrics", "params": "params", "tags": "tags", "metadata": "meta"}
KEYS_FROM_NEWEST = 500  # the keys of the newest versions: what a reviewer sorts by


def _keys(reader: QuickReader, prefix: str) -> list[str]:
    """`metrics.auc`, … for a prefix naming a keyed field, from the newest versions."""
    kind, dot, _ = prefix.partition(".")
    column = KEYED_COLUMNS.get(kind)
    if not dot or column is None:
        return []
    found = reader.con.execute(  # `column` is one of KEYED_COLUMNS' fixed names
        f"SELECT DISTINCT j.key FROM (SELECT {column} AS doc FROM version "
        "ORDER BY id DESC LIMIT ?) AS v, json_each(v.doc) AS j ORDER BY j.key",
        (KEYS_FROM_NEWEST,),
    ).fetchall()
    return [f"{kind}.{r[0]}" for r in found]


def order_fields(prefix: str = "", parsed_args: Any = None, **_: Any) -> list[str]:
    """`--order-by` values: the plain fields and `metrics.` & co (no catalog needed),
    then, after a dot, the keys the newest versions hold."""
    from regtui.catalog.filter_fields import KEYED_FIELDS, ORDER_PLAIN

    plain = [*ORDER_PLAIN, *(f"{k}." for k in KEYED_FIELDS)]
    keyed = _quiet(_keys)(prefix, parsed_args) if "." in prefix else []
    return [c for c in (*plain, *keyed) if c.startswith(prefix)][:MAX_CANDIDATES]


models = _quiet(_models)
refs = _quiet(_refs)
stages = _quiet(_stages)
