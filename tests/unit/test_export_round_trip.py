"""`export` → `import` into an empty catalog → `export` gives the same bytes, for
generated catalogs: several models (names that need quotes in a ref among them),
versions with tags, metrics and params written in any order, reviews, stage moves
(promote, rollback, demote) across models and stages, archives, edits, logged
values, watch roots and a policy. The export file is what `regtui export` writes."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.records import Policy
from regtui.catalog.refs import Ref
from regtui.catalog.service import Catalog
from regtui.errors import RegtuiError
from regtui.text import json_text
from tests.support.hypothesis_runs import examples, in_fast_lane
from tests.support.names import MODEL_NAMES
from tests.unit.helpers import artifact, open_as


def export_text(cat: Catalog) -> str:
    """The file `regtui export FILE` writes (cli/commands_catalog.py)."""
    return json_text(cat.export_data(), indent=1, sort_keys=True) + "\n"


def unsorted_text(cat: Catalog) -> str:
    """The export as a script would write it with `json.dumps` (no sort_keys): the
    data's own order, which must be as fixed as the file's."""
    return json.dumps(cat.export_data(), ensure_ascii=False)


def keys_sorted(value: Any) -> bool:
    if isinstance(value, dict):
        return list(value) == sorted(value) and all(keys_sorted(x) for x in value.values())
    if isinstance(value, list):
        return all(keys_sorted(x) for x in value)
    return True


NAMES = st.one_of(
    st.sampled_from(["churn", "team:churn", "a@b", 'say "hi"', "Churn Model v2", "Ünïcode"]),
    MODEL_NAMES,
)
STAGES = st.sampled_from(["production", "production", "staging", "canary-eu"])
KEYS = st.sampled_from(["auc", "loss", "f1", "Zeta", "a.b", "ähnlich", "val loss"])
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64), st.integers(-(2**60), 2**60)
)
# NUL is left out: register takes it in tag text, import refuses it (reported apart)
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
METRICS = st.dictionaries(KEYS, NUMBERS, max_size=4)
PARAMS = st.dictionaries(KEYS, st.one_of(NUMBERS, TEXT, st.booleans(), st.none()), max_size=4)
TAGS = st.dictionaries(TEXT.filter(str.strip), TEXT, max_size=3)
WHO = st.sampled_from(["alice", "bob"])
PICK = st.integers(0, 9)

REGISTER = st.tuples(st.just("register"), PICK, METRICS, PARAMS, TAGS)
APPROVE = st.tuples(st.just("approve"), PICK, PICK, WHO)
PROMOTE = st.tuples(st.just("promote"), PICK, PICK, STAGES)
OPS = st.one_of(
    REGISTER,
    REGISTER,
    APPROVE,
    APPROVE,
    PROMOTE,
    st.tuples(st.just("release"), PICK, PICK, STAGES),
    st.tuples(st.just("turnover"), PICK, PICK, STAGES, st.sampled_from(["rollback", "demote"])),
    st.tuples(st.just("reject"), PICK, PICK, WHO),
    st.tuples(st.just("rollback"), PICK, STAGES),
    st.tuples(st.just("demote"), PICK, STAGES),
    st.tuples(st.just("archive"), PICK, PICK, st.booleans()),
    st.tuples(st.just("edit_model"), PICK, TEXT, TAGS),
    st.tuples(st.just("edit_version"), PICK, PICK, TEXT, TAGS),
    st.tuples(st.just("untag"), PICK, PICK, TAGS),
    st.tuples(st.just("log"), PICK, PICK, METRICS, PARAMS),
    st.tuples(st.just("watch"), PICK, st.booleans(), st.floats(0, 60)),
    st.tuples(st.just("policy"), st.lists(STAGES, max_size=2, unique=True), st.booleans()),
)


class Builder:
    """Applies generated ops to a fresh catalog as alice (and bob, who reviews and
    moves stages); a change the service refuses is simply skipped."""

    def __init__(self, url: str, folder: Path, names: list[str]) -> None:
        self.users = {u: open_as(url, u) for u in ("alice", "bob")}
        self.alice, self.bob = self.users["alice"], self.users["bob"]
        self.folder = folder
        self.names = names

    def model(self, i: int) -> str:
        """A model that has versions, where there is one (or a name not yet used)."""
        known = [m.name for m in self.alice.models() if m.versions]
        return known[i % len(known)] if known else self.names[i % len(self.names)]

    def ref(self, i: int, j: int) -> str:
        name = self.model(i)
        count = self.alice.count_versions(name) if self.alice.models() else 0
        return str(Ref(name, j % count + 1 if count else 1))

    def release(self, version: str, stage: str) -> None:
        """Approve (if need be) and promote: what makes later rollbacks possible."""
        if self.bob.get(version).approval.status == "pending":
            self.bob.approve(version, "fine")
        self.bob.promote(version, stage, "ship")

    def turnover(self, i: int, j: int, stage: str, action: str) -> None:
        """Two releases to one stage, then a rollback or a demote of it."""
        for version in (self.ref(i, j), self.ref(i, j + 1)):
            with contextlib.suppress(RegtuiError):
                self.release(version, stage)
        if action == "rollback":
            self.bob.rollback(self.model(i), stage, reason="back")
        else:
            self.bob.demote(self.model(i), stage, "empty")

    def apply(self, n: int, op: tuple[Any, ...]) -> None:
        a, bob = self.alice, self.bob
        match op:
            case ("register", i, metrics, params, tags):
                path = artifact(self.folder, f"m{n}.bin", f"model {n}")
                name = self.names[i % len(self.names)]
                a.register(path, name, metrics=metrics, params=params, tags=tags)
            case ("approve", i, j, who):
                self.users[who].approve(self.ref(i, j), "fine")
            case ("reject", i, j, who):
                self.users[who].reject(self.ref(i, j), "no")
            case ("promote", i, j, stage):
                bob.promote(self.ref(i, j), stage, "ship")
            case ("release", i, j, stage):
                self.release(self.ref(i, j), stage)
            case ("turnover", i, j, stage, action):
                self.turnover(i, j, stage, action)
            case ("rollback", i, stage):
                bob.rollback(self.model(i), stage, reason="back")
            case ("demote", i, stage):
                bob.demote(self.model(i), stage, "empty")
            case ("archive", i, j, archived):
                a.archive(self.ref(i, j), "old", archived=archived)
            case ("edit_model", i, text, tags):
                a.edit_model(self.model(i), description=text, tags=tags, reason="describe")
            case ("edit_version", i, j, text, tags):
                a.edit_version(self.ref(i, j), description=text, tags=tags, reason="describe")
            case ("untag", i, j, tags):
                a.edit(self.ref(i, j), tags=tags, untag=list(tags)[:1], reason="retag")
            case ("log", i, j, metrics, params):
                a.log(self.ref(i, j), metrics=metrics, params=params, reason="eval")
            case ("watch", i, with_model, settle):
                root = self.folder / f"root-{i}"
                root.mkdir(exist_ok=True)
                a.add_watch_root(root, self.model(i) if with_model else None, settle)
            case ("policy", stages, distinct):
                bob.set_policy(Policy(tuple(stages), distinct), "rules")
            case _:
                raise AssertionError(f"no such op {op!r}")


def build(url: str, folder: Path, names: list[str], ops: list[tuple[Any, ...]]) -> Catalog:
    """A catalog made by `ops` (see Builder); the caller closes it."""
    builder = Builder(url, folder, names)
    for n, op in enumerate(ops):
        with contextlib.suppress(RegtuiError):
            builder.apply(n, op)
    builder.bob.close()
    return builder.alice


def round_trip(source: Catalog, target_url: str) -> tuple[list[str], list[str]]:
    """(the source's export as the file and as json.dumps, the same of its import)."""
    first = export_text(source)
    with open_as(target_url, "carol") as target:
        target.import_data(json.loads(first))
        assert keys_sorted(target.export_data())
        return [first, unsorted_text(source)], [export_text(target), unsorted_text(target)]


# What a generated catalog must hold in some examples, or the property says little.
SHOWN = {
    "several models": lambda d: len(d["models"]) > 1,
    "a name needing quotes": lambda d: any(set(m["name"]) & set(':@"') for m in d["models"]),
    "stage moves": lambda d: len(d["stage_moves"]) > 1,
    "a rollback or demote": lambda d: any(m["action"] != "promote" for m in d["stage_moves"]),
    "approvals": lambda d: len(d["approvals"]) > 1,
    "an archive": lambda d: any(v["archived"] for v in d["versions"]),
    "tags": lambda d: any(v["tags"] for v in d["versions"]),
    "several metrics": lambda d: any(len(v["metrics"]) > 1 for v in d["versions"]),
    "logged values": lambda d: any(v.get("logged") for v in d["versions"]),
    "a model edit": lambda d: any(m["description"] or m["tags"] for m in d["models"]),
    "watch roots": lambda d: len(d["watch_roots"]) > 1,
    "a policy": lambda d: "policy" in d["settings"],
}


def test_export_import_export_is_byte_identical() -> None:
    seen = dict.fromkeys(SHOWN, 0)

    @settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(NAMES, min_size=1, max_size=4, unique=True),
        st.lists(REGISTER, min_size=1, max_size=8),
        st.lists(OPS, min_size=6, max_size=40),
    )
    def check(names: list[str], first: list[tuple[Any, ...]], ops: list[tuple[Any, ...]]) -> None:
        ops = first + ops
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            with build(str(folder / "src.sqlite"), folder, names, ops) as source:
                exported, again = round_trip(source, str(folder / "copy.sqlite"))
        assert exported == again
        data = json.loads(exported[0])
        for what, holds in SHOWN.items():
            seen[what] += bool(holds(data))

    check()
    if not in_fast_lane():  # a fifth of the examples need not show every kind
        assert all(seen.values()), sorted(seen.items())


@pytest.mark.parametrize("seed", range(3))
def test_sqlite_to_postgresql_exports_alike(seed: int, db_url: str, tmp_path: Path) -> None:
    """The same file, imported into either backend, exports the same bytes."""
    import random

    rng = random.Random(seed)
    names = ["churn", "team:churn", "a@b", "Ünïcode"][: 2 + seed]
    ops: list[tuple[Any, ...]] = []
    for i in range(25):
        metrics = {k: rng.uniform(-1, 1) for k in rng.sample(["z", "auc", "a.b", "ähnlich"], 3)}
        ops.append(("register", i, metrics, {"lr": 0.1, "depth": i}, {"b": "1", "a": "2"}))
        ops.append(("approve", i, rng.randrange(9), rng.choice(["alice", "bob"])))
        ops.append(("promote", i, rng.randrange(9), rng.choice(["production", "staging"])))
        if i % 4 == 0:
            ops.append(("rollback", i, "production"))
        if i % 5 == 0:
            ops.append(("edit_model", i, f"d{i}", {"team": str(i)}))
            ops.append(("log", i, i, {"late": i / 7}, {"eval": "q4"}))
    with build(str(tmp_path / "src.sqlite"), tmp_path, names, ops) as source:
        first, again = round_trip(source, db_url)
    assert first == again
