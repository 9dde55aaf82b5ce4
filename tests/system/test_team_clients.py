"""Twenty people on one PostgreSQL catalog at once, through the benchmark's own
client mix (bench/team_clients.py), so the test holds the benchmark honest and the
benchmark measures what the test proves: no operation fails, every model's version
numbers stay 1..N without a gap while clients register into the same models at once,
and the audit chain and the tables' replay of it verify at the end (also as
`regtui audit --verify` reports them).

Not timed: the figures are the benchmark's business (`python -m bench.run`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from bench.team_clients import READS, WRITES, prepare, run_team

from tests.support.pg import PgServer, url_as

pytestmark = pytest.mark.pg

CLIENTS, OPS, MODELS, VERSIONS = 20, 20, 4, 30


@pytest.fixture(scope="module")
def team_run(
    pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, Any]]:
    """One run of the mix for the module: CLIENTS processes × OPS operations on MODELS
    shared models (few models, so registrations into one model collide often)."""
    folder = tmp_path_factory.mktemp("team")
    url = pg_server.new_database()
    # This fixture outlives each test's isolated environment: the clients (spawned
    # processes, inheriting it) keep their copies under this module's folder instead.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REGTUI_DATA_DIR", str(folder / "data"))
        env.setenv("XDG_DATA_HOME", str(folder / "xdg-data"))
        env.setenv("XDG_CONFIG_HOME", str(folder / "xdg-config"))
        env.delenv("REGTUI_DB", raising=False)
        prepare(url, folder, MODELS, VERSIONS)
        result = run_team(
            url,
            folder,
            clients=CLIENTS,
            ops=OPS,
            models=MODELS,
            versions=VERSIONS,
            role_url=url_as,
        )
    return url, result


def test_every_operation_of_every_client_succeeds(team_run: tuple[str, dict[str, Any]]) -> None:
    _, r = team_run
    assert r["errors"] == []
    assert r["ops_done"] == CLIENTS * OPS
    assert len(r["roles"]) == CLIENTS  # each client acted as its own database role


def test_the_mix_holds_every_kind_of_operation(team_run: tuple[str, dict[str, Any]]) -> None:
    """The mix is what the benchmark says: every read and write kind ran, writes
    about a tenth (the seeded draw lands within a few points of it)."""
    _, r = team_run
    assert set(r["ops"]) == set(READS) | set(WRITES)
    share = r["writes"]["n"] / r["ops_done"]
    assert 0.04 <= share <= 0.18, share


def test_version_numbers_stay_gapless_per_model(team_run: tuple[str, dict[str, Any]]) -> None:
    _, r = team_run
    assert r["gaps"] == {}
    registered = r["ops"]["register"]["n"]
    assert registered >= CLIENTS // 2  # enough registrations raced for the numbers


def test_the_chain_and_its_replay_verify(team_run: tuple[str, dict[str, Any]]) -> None:
    url, r = team_run
    assert r["chain_ok"] and r["state_ok"], r["chain_problem"]
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", url, "audit", "--verify", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["chain_ok"]
    assert report["events"] == r["chain_events"]


def test_actors_in_the_log_are_the_clients_roles(team_run: tuple[str, dict[str, Any]]) -> None:
    """Every write a client made is logged under its own role (the server's word)."""
    url, r = team_run
    from regtui.catalog.service import Catalog

    with Catalog(url) as cat:
        actors = {e.actor for e in cat.audit_events() if e.action in ("approved", "promoted")}
    assert actors - {"postgres"} <= set(r["roles"])
    assert len(actors - {"postgres"}) >= 2
