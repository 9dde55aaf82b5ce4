"""The catalog service: every change and every read the faces need.

Plain Python over SQLAlchemy Core (the tables are SQLModel's). Each change runs
in one write transaction together with its audit event, so a failure leaves
nothing half-written. Reads return frozen records (regtui.catalog.records).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Dialect,
    Text,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from regtui import readlog
from regtui.catalog import audit, audit_replay, lookups, reads, store
from regtui.catalog.artifacts import check_artifact, check_kept_copy, entry, serve_path
from regtui.catalog.db import (
    DriverSQL,
    MultiRowInsert,
    close_engine,
    make_engine,
    read_txn,
    write_txn,
)
from regtui.catalog.diff import Diff, diff_versions
from regtui.catalog.filter import compile_filter
from regtui.catalog.indexes import index_datasets, index_versions
from regtui.catalog.migrate import ensure_schema
from regtui.catalog.records import (
    ArtifactCheck,
    AuditEvent,
    ChainCheck,
    ModelInfo,
    Policy,
    RegisterResult,
    StageMove,
    VersionInfo,
    collector_paused,
    iso,
)
from regtui.catalog.refs import Ref, check_model_name, check_stage_name, parse_ref
from regtui.catalog.registration import identity_problem
from regtui.catalog.schema import (
    ApprovalRow,
    AuditEventRow,
    ModelRow,
    SettingRow,
    StageMoveRow,
    StageRow,
    VersionDatasetRow,
    VersionMetricRow,
    VersionRow,
    VersionTagRow,
    WatchRootRow,
)
from regtui.catalog.stage_rules import (
    bad_policy,
    check_approvable,
    check_holder,
    policy_from_json,
)
from regtui.catalog.version_fields import COLUMNS, INSERT_COLUMNS, RAW_COLUMNS, new_row
from regtui.errors import (
    ArtifactChanged,
    ArtifactError,
    ArtifactRefused,
    CatalogError,
    Conflict,
    NotFound,
    PolicyRefused,
    UsageError,
)
from regtui.hashing import Digest, Progress, hash_path, iter_tree
from regtui.inspect.bounds import is_finite_number, non_finite_at
from regtui.inspect.folder_names import remembered
from regtui.settings import current_user, locate, sqlite_file, sqlite_uri, sqlite_url

M = ModelRow.__table__
V = VersionRow.__table__
S = StageRow.__table__
SM = StageMoveRow.__table__
A = ApprovalRow.__table__
E = AuditEventRow.__table__
ST = SettingRow.__table__
W = WatchRootRow.__table__
VT = VersionTagRow.__table__
VM = VersionMetricRow.__table__
VD = VersionDatasetRow.__table__

if TYPE_CHECKING:
    from regtui.inspect.facts import Facts

MAX_REASON = 2000
READ_ATTEMPTS = 3  # looks at an artifact that keeps changing before it is refused
# The version record's columns (version_fields.COLUMNS, in that order) and the
# model's name, as reads.SELECT_VERSIONS selects them: JSON and timestamp
# columns handed over undecoded, for VersionInfo.from_db to decode on use.
VERSION_COLUMNS = [type_coerce(V.c[c], Text) if c in RAW_COLUMNS else V.c[c] for c in COLUMNS] + [
    M.c.name.label("model_name")
]


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Candidate:
    """An artifact hashed and inspected, ready to be written as a version."""

    path: Path
    model: str
    digest: Digest
    format: str = "unknown"
    framework: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Why the format shows the artifact incomplete or lying (None: sound).
    damage: str | None = None
    # Whether the format itself proves the bytes complete (the watcher need not
    # wait out the whole settle time for such a file).
    complete: bool = False
    datasets: list[dict[str, Any]] = field(default_factory=list)
    # The metrics/params the caller gave explicitly (not read from sidecars): on
    # registering the same bytes again these replace what the version holds,
    # while sidecar values only fill in what it lacks.
    given_metrics: dict[str, float] = field(default_factory=dict)
    given_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Kept:
    """A kept copy made outside the write lock, to be re-checked inside it."""

    version_id: int
    store: Path
    key: str
    # The audit head when the copy was decided on: every change appends an event,
    # so an unchanged head means nothing (the store location included) moved since.
    head: tuple[int, str]


# How often promote/rollback re-keep when the catalog changed under them meanwhile.
_KEEP_ATTEMPTS = 3


@dataclass(frozen=True)
class WatchRoot:
    path: str
    model: str | None
    settle_seconds: float


MAX_KEY = 200  # characters of a metric or param name


def check_key(key: Any, what: str) -> str:
    """A metric/param name: non-empty, at most MAX_KEY characters (one-line error)."""
    name = str(key)
    if not name.strip():
        raise UsageError(f"a {what} needs a non-empty name")
    if len(name) > MAX_KEY:
        raise UsageError(f"{what} name {name[:40]!r}… is longer than {MAX_KEY} characters")
    return name


def clean_metrics(metrics: dict[str, Any] | None, *, given: bool = True) -> dict[str, float]:
    """Metrics as finite numbers (bounds.is_finite_number). `given` (from a person,
    not a sidecar) also checks the names; an integer is kept exact."""
    out: dict[str, float] = {}
    for k, v in (metrics or {}).items():
        name = check_key(k, "metric") if given else str(k)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise UsageError(f"metric {name[:80]!r} must be a number, got {str(v)[:80]!r}")
        if not is_finite_number(v):
            raise UsageError(f"metric {name[:80]!r} must be a finite number, got {_shown(v)}")
        out[name] = float(v) if isinstance(v, float) else v
    return out


def clean_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Params as JSON values; every number in one, however nested, must be finite
    and within float range (JSON has no Infinity; filters compare them as floats)."""
    out: dict[str, Any] = {}
    for k, v in (params or {}).items():
        name = check_key(k, "param")
        at = non_finite_at(v)
        if at is not None:
            where = f"{name[:80]!r}" + (f" (at {at[:80]!r})" if at else "")
            raise UsageError(f"param {where} must hold finite numbers only, got {_shown(v, at)}")
        out[name] = v
    return out


def _shown(value: Any, at: str | None = "") -> str:
    """The offending number, briefly (an int past float range by its size)."""
    if at:
        return "a number out of range"
    if isinstance(value, int):
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def clean_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (tags or {}).items()}


def clean_reason(reason: str | None, required: bool = False) -> str | None:
    if reason is not None:
        reason = reason.strip()
    if required and not reason:
        raise UsageError("a reason is required for this action")
    if reason and len(reason) > MAX_REASON:
        raise UsageError(f"reason is longer than {MAX_REASON} characters")
    return reason or None


# New tags for a model or version: the whole set, or a function from the tags it
# holds to the new set, applied inside the write transaction (see Catalog.edit).
TagsEdit = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]


class Catalog:
    """The registry. `Catalog()` finds the catalog like the CLI: REGTUI_DB, then the default.

    >>> reg = Catalog()                      # doctest: +SKIP
    >>> reg.register("out/model.onnx", model="churn", metrics={"auc": 0.91})  # doctest: +SKIP
    >>> reg.log("churn:1", metrics={"test_auc": 0.89}, reason="holdout eval")  # doctest: +SKIP
    """

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        read_only: bool = False,
    ) -> None:
        where = locate(db)
        if where.default and where.file is not None and not read_only:
            where.file.parent.mkdir(parents=True, exist_ok=True)  # the data dir, made on first use
        self.url = where.url
        self.read_only = read_only
        self.engine = make_engine(self.url, read_only=read_only)
        ensure_schema(self.engine, read_only=read_only)
        self.dialect = self.engine.dialect.name
        self.actor = (
            self._session_role(user) if self.dialect == "postgresql" else current_user(user)
        )
        self._version_sql = _VersionSQL(self.engine.dialect)
        self._model_ids: dict[str, int] = {}
        self._reads: dict[str, DriverSQL] = {}  # reads' statements, prepared once each

    def _run(self, conn: Connection) -> reads.Run:
        """How the shared reads (catalog.reads) run here: on the driver, inside
        `conn`'s transaction; QuickReader runs the same SQL through sqlite3."""
        prepared = self._reads

        def run(sql: str, params: Any) -> list[Any]:
            stmt = prepared.get(sql)
            if stmt is None:
                stmt = prepared[sql] = DriverSQL(self.engine.dialect, sql)
            return stmt.all(conn, params)

        return run

    def _session_role(self, claimed: str | None) -> str:
        """On PostgreSQL the actor is the database role the session logged in as:
        the server vouches for it, and its triggers refuse any other name."""
        from sqlalchemy import text

        with read_txn(self.engine) as conn:
            role = conn.execute(text("SELECT current_user")).scalar_one()
        if claimed and claimed != role:
            raise UsageError(
                f"on a PostgreSQL catalog you act as your database role {role!r}; "
                f"--user {claimed!r} cannot change that (connect as that role instead)"
            )
        return str(role)

    def close(self) -> None:
        close_engine(self.engine)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ policy

    def policy(self) -> Policy:
        with read_txn(self.engine) as conn:
            return self._policy(conn)

    def _policy(self, conn: Connection) -> Policy:
        try:
            row = conn.execute(select(ST.c.value).where(ST.c.key == "policy")).first()
        except ValueError:  # not JSON at all
            raise bad_policy() from None
        return policy_from_json(row[0] if row is not None else None)

    def set_policy(self, policy: Policy, reason: str | None = None) -> Policy:
        """Change the policy. Refused (PolicyRefused) while a stage it protects holds
        a version that could not be promoted there now; removing protection from
        every stage needs a reason. A version a newly protected stage already holds
        gets its kept copy, as a promotion there would have made (outside the lock)."""
        for stage in policy.protected_stages:
            check_stage_name(stage)
        reason = clean_reason(reason)
        for _ in range(_KEEP_ATTEMPTS):
            with read_txn(self.engine) as conn:
                before = self._policy(conn)
                newly = self._check_holders(conn, policy, before)
                where = self._store_location(conn).path
                seen = audit.head(conn)
            kept = {v.id: _Kept(v.id, where, self._kept_copy(v, where), seen) for v in newly}
            with write_txn(self.engine) as conn:
                before = self._policy(conn)
                if before.protected_stages and not policy.protected_stages and not reason:
                    raise UsageError("removing protection from every stage needs a reason")
                newly = self._check_holders(conn, policy, before)
                if not all(self._still_kept(conn, kept.get(v.id), v.id) for v in newly):
                    continue  # a stage, the store or the policy moved meanwhile: again
                for v in newly:
                    self._record_kept(conn, v, kept[v.id])
                value = policy.to_json()
                if conn.execute(select(ST.c.key).where(ST.c.key == "policy")).first():
                    conn.execute(update(ST).where(ST.c.key == "policy").values(value=value))
                else:
                    conn.execute(insert(ST).values(key="policy", value=value))
                self._event(conn, "policy_changed", None, "policy", before.to_json(), value, reason)
            return policy
        raise Conflict("the protected stages kept changing while their kept copies were made")

    def _check_holders(
        self, conn: Connection, policy: Policy, before: Policy | None = None
    ) -> list[VersionInfo]:
        """Every version a stage protected by `policy` holds must be allowed there.
        Returns those held by a stage `before` did not protect (they need a kept copy)."""
        if not policy.protected_stages:
            return []
        rows = conn.execute(
            select(S.c.name, S.c.version_id)
            .where(S.c.name.in_(policy.protected_stages), S.c.version_id.is_not(None))
            .order_by(S.c.model_id, S.c.name)
        ).all()
        newly: dict[int, VersionInfo] = {}
        for stage, vid in rows:
            v = self._version_by_id(conn, vid)
            self._check_stage_policy(policy, v, stage)
            if before is not None and stage not in before.protected_stages:
                newly[v.id] = v
        return list(newly.values())

    # ------------------------------------------------------------ registration

    def prepare(
        self,
        path: str | os.PathLike[str],
        model: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        lineage: dict[str, Any] | None = None,
        root: Path | None = None,
        progress: Progress | None = None,
        datasets: Sequence[str | os.PathLike[str]] = (),
        dataset_progress: Progress | None = None,
    ) -> Candidate:
        """Inspect and hash an artifact (no database work; safe in any thread).

        Explicit metrics/params/tags/lineage win over what sidecars said.
        `datasets` are paths (hashed, see catalog.datasets) or URIs (never
        fetched) of the data that made it; sidecars naming data add theirs.
        """
        from regtui.catalog import datasets as data

        check_model_name(model)
        p, folder = entry(path)  # resolved first: the version is the bytes, not a link to them
        given_metrics = clean_metrics(metrics)
        given_params = clean_params(params)
        named = data.given(datasets, dataset_progress)  # before the artifact: fail fast
        with remembered():  # its sidecars, run folder and data files: each name asked once
            facts, digest = self._inspect_and_hash(p, folder, root, progress)
            warnings = list(facts.warnings)
            found = data.merge(named, data.from_sidecars(p, facts.metadata, warnings, root, folder))
        return Candidate(
            path=p,
            model=model,
            digest=digest,
            format=facts.format,
            framework=facts.framework,
            metrics={**clean_metrics(facts.metrics, given=False), **given_metrics},
            params={**facts.params, **given_params},
            tags=clean_tags(tags),
            metadata=facts.metadata,
            lineage={**facts.lineage, **(lineage or {})},
            warnings=warnings,
            damage=facts.damage,
            complete=facts.complete,
            datasets=found,
            given_metrics=given_metrics,
            given_params=given_params,
        )

    @staticmethod
    def _inspect_and_hash(
        p: Path, folder: bool, root: Path | None, progress: Progress | None
    ) -> tuple[Facts, Digest]:
        """Facts and sha256 of one and the same file or bundle (readlog): the
        identity of every file is taken before inspection and after hashing, and
        the hash re-checks every range inspection read. A file that changes
        meanwhile is looked at again, up to READ_ATTEMPTS times, then refused.
        Inspection runs under a deadline (bounds.deadline): over it, refused.
        `p` is resolved (artifacts.entry), `folder` says whether it is a bundle."""
        from regtui.inspect import inspect_path
        from regtui.inspect.bounds import deadline

        why = ""
        for _ in range(READ_ATTEMPTS):
            with readlog.reading() as log:
                before = readlog.snapshot(p, _members(p, folder))
                with deadline() as limit:
                    facts = inspect_path(p, root=root, folder=folder)
                if limit.passed:  # even if an inspector swallowed the refusal
                    raise ArtifactRefused(f"{p}: refused: {limit.reason()}")
                if facts.refused and not log.changed:
                    raise ArtifactRefused(f"{p}: refused: {facts.refused}")
                digest: Digest | None = None
                with contextlib.suppress(readlog.Changed):  # the log says why
                    digest = hash_path(p, progress, folder)
                after = readlog.snapshot(p, _members(p, folder))
                problem = readlog.mismatch(log, before, after)
            if problem is None and digest is not None:
                return facts, digest
            why = problem or "changed while it was being read"
        raise ArtifactChanged(
            f"{p}: refused: changed while it was being read ({READ_ATTEMPTS} tries); "
            f"try again when it is quiet: {why[:300]}"
        )

    def register(
        self,
        path: str | os.PathLike[str],
        model: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        lineage: dict[str, Any] | None = None,
        root: Path | None = None,
        progress: Progress | None = None,
        datasets: Sequence[str | os.PathLike[str]] = (),
    ) -> VersionInfo:
        """Register an artifact as the next version of `model` (created if new).

        The same bytes already registered under the model return that version,
        with new metrics/params merged in (see `log`).

        >>> reg.register("out/model.onnx", model="churn",
        ...              datasets=["data/train.parquet", "s3://b/eval.csv?versionId=3"])  # doctest: +SKIP
        """
        cand = self.prepare(
            path,
            model,
            metrics=metrics,
            params=params,
            tags=tags,
            lineage=lineage,
            root=root,
            progress=progress,
            datasets=datasets,
        )
        return self.add_candidates([cand])[0].version

    def add_candidates(self, candidates: Sequence[Candidate]) -> list[RegisterResult]:
        """Write prepared artifacts as versions, all in one transaction.

        This is the hot path of scans and bursts. The write lock is held from the
        first statement, so a look-up of the bytes each model already has and its
        top number stay true until commit: numbers are handed out gaplessly here,
        and then all versions go in with one multi-row INSERT per 100 (a scan's
        batch of 500 is a handful of statements, not one per artifact). The audit
        events and index rows go in with one executemany each, and the returned
        records are built from what was written instead of being read back.
        """
        if self.read_only:
            raise UsageError("catalog is open read-only")
        sql = self._version_sql
        with write_txn(self.engine) as conn:
            ts = now()
            chain = audit.Appender(conn)
            shas_of: dict[str, list[str]] = {}
            for cand in candidates:
                shas_of.setdefault(cand.model, []).append(cand.digest.sha256)
            model_ids: dict[str, int] = {}
            next_number: dict[int, int] = {}
            # (model id, sha256) -> version id; 0 while the version is still unwritten.
            have: dict[tuple[int, str], int] = {}
            new: list[tuple[int, Candidate, dict[str, Any]]] = []
            same: list[tuple[int, tuple[int, str]]] = []
            for i, cand in enumerate(candidates):
                mid = model_ids.get(cand.model)
                if mid is None:
                    mid = model_ids[cand.model] = self._model_id(
                        conn, cand.model, create=True, ts=ts, chain=chain
                    )
                    next_number[mid] = self._top_number(conn, mid) + 1
                    for vid, sha in sql.same_bytes(conn, mid, shas_of[cand.model]):
                        have[(mid, sha)] = vid
                key = (mid, cand.digest.sha256)
                if key in have:  # same bytes: registered before, or earlier in this batch
                    same.append((i, key))
                    continue
                have[key] = 0
                number = next_number[mid]
                next_number[mid] = number + 1
                row = new_row(
                    model_id=mid,
                    version=number,
                    path=str(cand.path),
                    sha256=cand.digest.sha256,
                    size_bytes=cand.digest.size_bytes,
                    format=cand.format,
                    framework=cand.framework,
                    metrics=cand.metrics,
                    params=cand.params,
                    tags=cand.tags,
                    metadata=cand.metadata,
                    lineage=cand.lineage,
                    warnings=cand.warnings,
                    created_at=ts,
                    created_by=self.actor,
                    damage=cand.damage,
                    datasets=cand.datasets,
                )
                new.append((i, cand, row))
                chain.add(
                    at=ts,
                    actor=self.actor,
                    action="registered",
                    model=cand.model,
                    target=f"{cand.model}:{number}",
                    before=None,
                    after={
                        "path": row["path"],
                        "sha256": cand.digest.sha256,
                        "size_bytes": cand.digest.size_bytes,
                        "format": cand.format,
                        # Which data made it, under the chain's protection too.
                        **({"datasets": cand.datasets} if cand.datasets else {}),
                        # Damage too: clearing it beside the log must show (and stop resolve).
                        **({"damage": cand.damage} if cand.damage else {}),
                    },
                    reason=None,
                )
            for vid, mid, sha in sql.insert.run(conn, [row for _, _, row in new]):
                have[(mid, sha)] = vid
            results: list[RegisterResult | None] = [None] * len(candidates)
            index_rows: list[tuple[int, dict[str, float], dict[str, str]]] = []
            dataset_rows: list[tuple[int, list[dict[str, Any]]]] = []
            for i, cand, row in new:
                vid = have[(row["model_id"], row["sha256"])]
                index_rows.append((vid, cand.metrics, cand.tags))
                if cand.datasets:
                    dataset_rows.append((vid, cand.datasets))
                results[i] = RegisterResult(_info_from_row(vid, cand.model, row), True)
            # Indexed before the merges below: the same bytes twice in one batch
            # merge into a version written just above, replacing its index rows.
            index_versions(conn, index_rows)
            index_datasets(conn, dataset_rows)
            for i, key in same:
                cand = candidates[i]
                v = self._version_by_id(conn, have[key])
                # Same bytes again: values it lacks are added, explicit ones replace
                # what it holds, each change audited (sidecars never overwrite).
                metrics = {
                    **{k: x for k, x in cand.metrics.items() if k not in v.metrics},
                    **cand.given_metrics,
                }
                params = {
                    **{k: x for k, x in cand.params.items() if k not in v.params},
                    **cand.given_params,
                }
                changes = self._log_values(
                    conn, v, metrics, params, None, ts, "registered again", chain, cand.datasets
                )
                if changes:
                    v = self._version_by_id(conn, have[key])
                results[i] = RegisterResult(v, False, changes)
            chain.flush()
        return results  # type: ignore[return-value]  # every slot was filled above

    def _top_number(self, conn: Connection, mid: int) -> int:
        """The model's highest version number, 0 if none. Numbers run 1..n without
        gaps, so this is also its count (an index seek, not a count)."""
        row = self._version_sql.top_number.first(conn, {"mid": mid})
        return (row[0] if row else None) or 0

    def _model_id(
        self,
        conn: Connection,
        name: str,
        *,
        create: bool = False,
        ts: datetime | None = None,
        chain: audit.Appender | None = None,
    ) -> int:
        cached = self._model_ids.get(name)
        if cached is not None:
            return cached
        found = reads.model_id(self._run(conn), name)
        if found is not None:
            # Models are never deleted, so a found id stays right for this catalog.
            self._model_ids[name] = found
            return found
        if not create:
            raise NotFound(f"no model named {name!r}")
        ts = ts or now()
        mid = conn.execute(
            insert(M).values(
                name=name, description="", tags={}, created_at=ts, created_by=self.actor
            )
        ).inserted_primary_key[0]
        if chain is None:
            self._event(conn, "model_created", name, name, None, {"name": name}, None, ts)
        else:
            chain.add(
                at=ts,
                actor=self.actor,
                action="model_created",
                model=name,
                target=name,
                before=None,
                after={"name": name},
                reason=None,
            )
        return mid

    # ------------------------------------------------------------------- reads

    def models(self) -> list[ModelInfo]:
        with read_txn(self.engine) as conn:
            return reads.models(self._run(conn))

    def metric_series(
        self, model: str, metric: str | None = None, last: int = 200
    ) -> tuple[list[str], str | None, list[float]]:
        """For a trend line: the metric names in the model's last `last` versions,
        the chosen metric (`metric`, else the first name) and its values, oldest
        first. Read from the metric index, not from full version rows."""
        with read_txn(self.engine) as conn:
            mid = self._model_id(conn, model)
            top = self._top_number(conn, mid)
            rows = conn.execute(
                select(V.c.number, VM.c.name, VM.c.value)
                .select_from(V.join(VM, VM.c.version_id == V.c.id))
                .where(V.c.model_id == mid, V.c.number > top - last)
                .order_by(V.c.number)
            ).all()
        names = sorted({name for _, name, _ in rows})
        chosen = metric if metric in names else (names[0] if names else None)
        return names, chosen, [value for _, name, value in rows if name == chosen]

    def model(self, name: str) -> ModelInfo:
        for info in self.models():
            if info.name == name:
                return info
        raise NotFound(f"no model named {name!r}")

    def versions(
        self,
        model: str | None = None,
        *,
        where: str | None = None,
        newest_first: bool = False,
        include_archived: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[VersionInfo]:
        """Versions of one model (or all), filtered by the filter language."""
        with read_txn(self.engine) as conn:
            q = self._versions_query(conn, model, where, include_archived)
            # With a filter, sort the few matches instead of walking the number
            # index over every version (`+ 0` keeps SQLite off that index).
            key = V.c.number + 0 if where else V.c.number
            order = (key.desc(),) if newest_first else (key,)
            if model is None:
                order = (M.c.name, *order)
            q = q.order_by(*order)
            if model is not None and not where and include_archived and offset:
                # Numbers run 1..n without gaps, so a page deep in a long list is a
                # number range (an index seek), not an OFFSET walk over the rows before it.
                top = self._top_number(conn, self._model_id(conn, model))
                if newest_first:
                    q = q.where(V.c.number <= top - offset)
                else:
                    q = q.where(V.c.number > offset)
            elif where and limit is not None:
                # A page of a broad match (half of 100k versions) would sort every
                # matching full row to keep 100: sort and cut the ids alone, then
                # fetch the page's rows (0.24 s -> well under 0.1 s at 100k).
                ids = self._versions_query(conn, None, where, include_archived, columns=[V.c.id])
                if model is not None:
                    # `+ 0` on SQLite: otherwise an id-only query walks the covering
                    # (model_id, number) index over every version of the model, testing
                    # each against the filter, instead of fetching the filter's ids.
                    owner = V.c.model_id + 0 if self.dialect == "sqlite" else V.c.model_id
                    ids = ids.where(owner == self._model_id(conn, model))
                page = ids.order_by(*order).offset(offset).limit(limit)
                q = (
                    select(*VERSION_COLUMNS)
                    .select_from(V.join(M, M.c.id == V.c.model_id))
                    .where(V.c.id.in_(page))
                    .order_by(*order)
                )
            else:
                q = q.offset(offset)
            if limit is not None:
                q = q.limit(limit)
            # Plain tuples straight from the driver: the columns need no processing
            # (see VERSION_COLUMNS), and Row objects cost more than the query.
            result = conn.execute(q)
            with collector_paused():
                rows = result.cursor.fetchall() if result.cursor is not None else []
                result.close()
                return self._to_infos(conn, rows)

    def count_versions(
        self, model: str | None = None, *, where: str | None = None, include_archived: bool = True
    ) -> int:
        with read_txn(self.engine) as conn:
            if model is not None and not where and include_archived:
                # Numbers run 1..n without gaps: the count is the top number.
                mid = self._model_id(conn, model)
                return self._top_number(conn, mid)
            q = self._versions_query(conn, model, where, include_archived, columns=[V.c.id])
            return conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()

    def _versions_query(
        self,
        conn: Connection,
        model: str | None,
        where: str | None,
        include_archived: bool,
        columns: Sequence[Any] = VERSION_COLUMNS,
    ) -> Any:
        q = select(*columns).select_from(V.join(M, M.c.id == V.c.model_id))
        if model is not None:
            q = q.where(V.c.model_id == self._model_id(conn, model))
        if where:
            q = q.where(compile_filter(where, self.dialect))
        if not include_archived:
            q = q.where(V.c.archived.is_(False))
        return q

    def _to_infos(self, conn: Connection, rows: Sequence[Any]) -> list[VersionInfo]:
        if not rows:
            return []
        stage_map: dict[int, list[str]] = {}
        model_ids = reads.model_ids_of(rows)
        q = select(S.c.version_id, S.c.name).where(S.c.version_id.is_not(None))
        if len(model_ids) <= 500:
            q = q.where(S.c.model_id.in_(model_ids))
        for vid, name in conn.execute(q.order_by(S.c.name)):
            stage_map.setdefault(vid, []).append(name)
        return reads.records(rows, stage_map)

    def _version_by_id(self, conn: Connection, vid: int) -> VersionInfo:
        return reads.version(self._run(conn), vid)

    def _resolve_id(self, conn: Connection, ref: Ref) -> int:
        found = reads.version_id(self._run(conn), self._model_id(conn, ref.model), ref)
        if found is not None:
            return found
        if ref.version is not None:
            raise NotFound(f"{ref.model} has no version {ref.version}")
        if ref.stage is not None:
            raise NotFound(f"{ref.model} has nothing in stage {ref.stage!r}")
        raise NotFound(f"{ref.model} has no versions")

    def get(self, ref: str | Ref) -> VersionInfo:
        """The version a reference names: MODEL:N, MODEL@STAGE or MODEL (latest)."""
        r = parse_ref(ref) if isinstance(ref, str) else ref
        with read_txn(self.engine) as conn:
            return self._version_by_id(conn, self._resolve_id(conn, r))

    def resolve(self, ref: str) -> VersionInfo:
        """What serving code asks: the version in MODEL@STAGE (or any ref)."""
        return self.get(ref)

    def _kept_copy(self, v: VersionInfo, where: Path) -> str:
        """The key of the version's kept copy in the store at `where`, made now from
        an older copy or the training output (whichever still matches) if the store
        has none that matches. Slow for big artifacts: call it outside any transaction."""
        sources = [*store.copy_paths(v.stored_path, v.sha256, where)] if v.stored_path else []
        sources.append(Path(v.path))
        return store.keep(Path(v.path).name, v.sha256, where, sources).key

    def artifact_path(self, v: VersionInfo, *, check: bool = True) -> Path:
        """Where to load the version from (see artifacts.serve_path); refused
        (CatalogError) when the row's path, sha256 or size are not what the audit
        log recorded at registration, since the re-hash alone cannot tell."""
        problem = identity_problem(v, self.registration(v))
        if problem:
            raise CatalogError(problem)
        return serve_path(v, self.store_location().path, check=check)

    def diff(
        self, left: str | Ref, right: str | Ref, directions: dict[str, bool] | None = None
    ) -> Diff:
        return diff_versions(self.get(left), self.get(right), directions)

    def stage_history(self, model: str, stage: str | None = None) -> list[StageMove]:
        with read_txn(self.engine) as conn:
            mid = self._model_id(conn, model)
            return self._moves(conn, mid, model, stage)

    def _moves(self, conn: Connection, mid: int, model: str, stage: str | None) -> list[StageMove]:
        return reads.stage_moves(self._run(conn), mid, model, stage)

    def stage_at(self, model: str, stage: str, when: datetime) -> int | None:
        """The version number `stage` pointed to at `when` (None: nothing then)."""
        holder = None
        for move in self.stage_history(model, stage):
            if move.at > when:
                break
            holder = move.to_version
        return holder

    # Typed reads for the watcher (catalog.lookups): no filter text, no length cap.

    def _select_versions(self) -> Any:
        return select(*VERSION_COLUMNS).select_from(V.join(M, M.c.id == V.c.model_id))

    def version_by_sha(self, model: str, sha256: str) -> VersionInfo | None:
        """The version of `model` holding these bytes (None: none, or no such model)."""
        found = self.versions_by_sha(sha256, model)
        return found[0] if found else None

    def versions_by_sha(self, sha256: str, model: str | None = None) -> list[VersionInfo]:
        """The versions holding these bytes, oldest first: of `model`, or of every model."""
        with read_txn(self.engine) as conn:
            rows = lookups.by_sha(conn, self._select_versions(), sha256, model)
            return self._to_infos(conn, rows)

    def versions_at_paths(self, paths: Iterable[str]) -> list[VersionInfo]:
        """Every version (any model) recorded at one of `paths`, oldest first."""
        with read_txn(self.engine) as conn:
            return self._to_infos(conn, lookups.at_paths(conn, self._select_versions(), paths))

    def newest_in_folder(self, folder: str | os.PathLike[str]) -> VersionInfo | None:
        """The newest version recorded at `folder` itself or at a file right inside it."""
        with read_txn(self.engine) as conn:
            row = lookups.newest_in_folder(conn, self._select_versions(), folder)
            return self._to_infos(conn, [row])[0] if row is not None else None

    # ----------------------------------------------------------------- changes

    def approve(self, ref: str, reason: str) -> VersionInfo:
        return self._decide(ref, "approved", reason)

    def reject(self, ref: str, reason: str) -> VersionInfo:
        return self._decide(ref, "rejected", reason)

    def _decide(self, ref: str, status: str, reason: str) -> VersionInfo:
        reason = clean_reason(reason, required=True)
        r = parse_ref(ref)
        with write_txn(self.engine) as conn:
            vid = self._resolve_id(conn, r)
            v = self._version_by_id(conn, vid)
            if v.approval.status == status:
                raise UsageError(f"{v.ref} is already {status}")
            policy = self._policy(conn)
            if status == "approved":
                check_approvable(ref=v.ref, damage=v.damage)
            if status == "approved" and policy.distinct_approver and v.created_by == self.actor:
                raise PolicyRefused(
                    "distinct-approver",
                    f"{self.actor} registered {v.ref} and cannot also approve it",
                )
            if status == "rejected" and v.stages:
                raise PolicyRefused(
                    "rejected-no-stage",
                    f"{v.ref} holds {', '.join(v.stages)}; move or roll back the stage first",
                )
            ts = now()
            conn.execute(
                update(V)
                .where(V.c.id == vid)
                .values(
                    approval_status=status,
                    approval_by=self.actor,
                    approval_at=ts,
                    approval_reason=reason,
                )
            )
            conn.execute(
                insert(A).values(version_id=vid, status=status, by=self.actor, at=ts, reason=reason)
            )
            self._event(
                conn,
                status,
                v.model,
                v.ref,
                {"approval": v.approval.status},
                {"approval": status},
                reason,
                ts,
            )
            return self._version_by_id(conn, vid)

    @staticmethod
    def _check_stage_policy(policy: Policy, v: VersionInfo, stage: str) -> None:
        check_holder(
            policy,
            stage,
            ref=v.ref,
            archived=v.archived,
            approval=v.approval.status,
            damage=v.damage,
        )

    def promote(
        self,
        ref: str,
        stage: str,
        reason: str | None = None,
        *,
        expect_version: int | None = None,
        expect_revision: int | None = None,
    ) -> StageMove:
        """Point `stage` at the version.

        Optimistic concurrency: with `expect_version` (0 = the stage is empty) or
        `expect_revision`, a stage that moved meanwhile raises Conflict instead
        of being silently overwritten.
        """
        return self.move_stages(
            ref,
            [stage],
            reason=reason,
            expect_version=expect_version,
            expect_revision=expect_revision,
        )[0]

    def move_stages(
        self,
        ref: str,
        to: Sequence[str],
        demote: Sequence[str] = (),
        *,
        reason: str | None = None,
        expect_version: int | None = None,
        expect_revision: int | None = None,
    ) -> list[StageMove]:
        """Point every stage in `to` at the version and empty every stage in
        `demote` (same model), all in one transaction: all happen or none."""
        for stage in (*to, *demote):
            check_stage_name(stage)
        if not to and not demote:
            raise UsageError("name at least one stage to move")
        if set(to) & set(demote):
            raise UsageError("a stage cannot be promoted to and demoted at once")
        reason = clean_reason(reason)
        r = parse_ref(ref)
        for _ in range(_KEEP_ATTEMPTS):
            kept = None
            with read_txn(self.engine) as conn:
                # Refusals first; then the (possibly slow) copy into the store, outside the lock.
                policy = self._policy(conn)
                if set(to) & set(policy.protected_stages):
                    v = self._version_by_id(conn, self._resolve_id(conn, r))
                    for stage in to:
                        self._check_stage_policy(policy, v, stage)
                    where = self._store_location(conn).path
                    seen = audit.head(conn)
            if set(to) & set(policy.protected_stages):
                kept = _Kept(v.id, where, self._kept_copy(v, where), seen)
            with write_txn(self.engine) as conn:
                vid = self._resolve_id(conn, r)
                v = self._version_by_id(conn, vid)
                policy = self._policy(conn)
                if set(to) & set(policy.protected_stages):
                    if not self._still_kept(conn, kept, vid):
                        continue  # the ref, the policy or the store changed meanwhile: again
                    self._record_kept(conn, v, kept)  # type: ignore[arg-type]
                return self._apply_moves(
                    conn, v, to, demote, reason, expect_version, expect_revision, policy
                )
        raise Conflict(f"{ref} kept changing while its kept copy was made; try again")

    def _apply_moves(
        self,
        conn: Connection,
        v: VersionInfo,
        to: Sequence[str],
        demote: Sequence[str],
        reason: str | None,
        expect_version: int | None,
        expect_revision: int | None,
        policy: Policy,
    ) -> list[StageMove]:
        moves = []
        mid = self._model_id(conn, v.model)
        for stage in to:
            self._check_stage_policy(policy, v, stage)
            row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
            if row is not None and row.version_id == v.id:
                raise UsageError(f"{v.ref} is already in {stage}")
            self._check_expected(conn, v.model, stage, row, expect_version, expect_revision)
            moves.append(self._move(conn, mid, v.model, stage, row, v.id, "promote", reason))
        for stage in demote:
            row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
            if row is None or row.version_id is None:
                raise NotFound(f"{v.model} has nothing in stage {stage!r} to demote")
            moves.append(self._move(conn, mid, v.model, stage, row, None, "demote", reason))
        return moves

    def _still_kept(self, conn: Connection, kept: _Kept | None, vid: int) -> bool:
        """Inside the write transaction: the copy kept outside it is for this version
        and in the store the catalog names now."""
        if kept is None or kept.version_id != vid:
            return False
        return audit.head(conn) == kept.head or kept.store == self._store_location(conn).path

    @staticmethod
    def _record_kept(conn: Connection, v: VersionInfo, kept: _Kept) -> None:
        if kept.key != v.stored_path:
            conn.execute(update(V).where(V.c.id == v.id).values(stored_path=kept.key))

    def _check_expected(
        self,
        conn: Connection,
        model: str,
        stage: str,
        row: Any,
        expect_version: int | None,
        expect_revision: int | None,
    ) -> None:
        current_rev = row.revision if row is not None else 0
        if expect_revision is not None and expect_revision != current_rev:
            raise Conflict(f"{model}@{stage} was moved by someone else meanwhile; look again")
        if expect_version is None:
            return
        held = 0
        if row is not None and row.version_id is not None:
            held = conn.execute(select(V.c.number).where(V.c.id == row.version_id)).scalar_one()
        if held != expect_version:

            def says(n: int) -> str:
                return f"version {n}" if n else "nothing"

            raise Conflict(
                f"{model}@{stage} holds {says(held)}, not {says(expect_version)}: "
                "it was moved meanwhile; nothing was changed"
            )

    def _move(
        self,
        conn: Connection,
        mid: int,
        model: str,
        stage: str,
        row: Any,
        to_vid: int | None,
        action: str,
        reason: str | None,
    ) -> StageMove:
        ts = now()
        from_vid = row.version_id if row is not None else None
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(S).values(
                            model_id=mid,
                            name=stage,
                            version_id=to_vid,
                            revision=1,
                            updated_at=ts,
                            updated_by=self.actor,
                        )
                    )
            except IntegrityError:
                raise Conflict(f"{model}@{stage} was created by someone else meanwhile") from None
        else:
            done = conn.execute(
                update(S)
                .where(S.c.id == row.id, S.c.revision == row.revision)
                .values(
                    version_id=to_vid,
                    revision=row.revision + 1,
                    updated_at=ts,
                    updated_by=self.actor,
                )
            )
            if done.rowcount != 1:
                raise Conflict(f"{model}@{stage} was moved by someone else meanwhile; look again")
        conn.execute(
            insert(SM).values(
                model_id=mid,
                stage=stage,
                from_version_id=from_vid,
                to_version_id=to_vid,
                action=action,
                at=ts,
                by=self.actor,
                reason=reason,
            )
        )
        numbers = dict(
            conn.execute(
                select(V.c.id, V.c.number).where(
                    V.c.id.in_([x for x in (from_vid, to_vid) if x is not None])
                )
            ).all()
        )
        from_n, to_n = numbers.get(from_vid), numbers.get(to_vid)
        verb = {"promote": "promoted", "rollback": "rolled_back", "demote": "demoted"}[action]
        self._event(
            conn,
            verb,
            model,
            f"{model}@{stage}",
            {"version": from_n},
            {"version": to_n},
            reason,
            ts,
        )
        return StageMove(model, stage, from_n, to_n, action, ts, self.actor, reason)

    def rollback(
        self,
        model: str,
        stage: str = "production",
        to: int | None = None,
        reason: str | None = None,
    ) -> StageMove:
        """Move `stage` back to the version it held before (or to version `to`).

        Like promote, a protected stage's kept copy is made outside the write lock,
        and the decision is re-checked inside it."""
        check_model_name(model)
        check_stage_name(stage)
        reason = clean_reason(reason)
        for _ in range(_KEEP_ATTEMPTS):
            kept = None
            with read_txn(self.engine) as conn:
                mid, planned, target = self._rollback_plan(conn, model, stage, to)
                policy = self._policy(conn)
                self._check_stage_policy(policy, target, stage)
                where = self._store_location(conn).path
                seen = audit.head(conn)
            if stage in policy.protected_stages:
                kept = _Kept(target.id, where, self._kept_copy(target, where), seen)
            with write_txn(self.engine) as conn:
                if audit.head(conn) != seen:  # something changed since the plan: check again
                    row = conn.execute(select(S).where(S.c.id == planned.id)).first()
                    if row is None or row.revision != planned.revision:
                        continue  # the stage moved, so its history did: plan again
                    target = self._version_by_id(conn, target.id)
                    policy = self._policy(conn)
                    self._check_stage_policy(policy, target, stage)
                    if stage in policy.protected_stages and not self._still_kept(
                        conn, kept, target.id
                    ):
                        continue  # the store moved (or the stage became protected): again
                if kept is not None:
                    self._record_kept(conn, target, kept)
                return self._move(conn, mid, model, stage, planned, target.id, "rollback", reason)
        raise Conflict(f"{model}@{stage} kept moving while this rollback was planned; try again")

    def _rollback_plan(
        self, conn: Connection, model: str, stage: str, to: int | None
    ) -> tuple[int, Any, VersionInfo]:
        """The model id, the stage row and the version a rollback would move it to."""
        mid = self._model_id(conn, model)
        row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
        if row is None or row.version_id is None:
            raise NotFound(f"{model} has nothing in stage {stage!r} to roll back")
        history = self._moves(conn, mid, model, stage)
        if to is None:
            target_n = _rollback_target(history)
            if target_n is None:
                raise UsageError(f"{model}@{stage} has no earlier version to roll back to")
        else:
            if to not in {m.to_version for m in history}:
                raise UsageError(f"{model}:{to} never held {stage}; use promote to put it there")
            target_n = to
        vid = self._resolve_id(conn, Ref(model, version=target_n))
        if vid == row.version_id:
            raise UsageError(f"{model}:{target_n} is already in {stage}")
        return mid, row, self._version_by_id(conn, vid)

    def rollback_target(self, model: str, stage: str) -> int | None:
        """The version `rollback(model, stage)` would move the stage back to, if any
        (so a face can say "nothing to roll back to" before asking for a reason)."""
        return _rollback_target(self.stage_history(model, stage))

    def demote(self, model: str, stage: str, reason: str | None = None) -> StageMove:
        """Empty a stage (it then points at no version)."""
        check_stage_name(stage)
        reason = clean_reason(reason)
        with write_txn(self.engine) as conn:
            mid = self._model_id(conn, model)
            row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
            if row is None or row.version_id is None:
                raise NotFound(f"{model} has nothing in stage {stage!r}")
            return self._move(conn, mid, model, stage, row, None, "demote", reason)

    def archive(self, ref: str, reason: str | None = None, archived: bool = True) -> VersionInfo:
        reason = clean_reason(reason)
        with write_txn(self.engine) as conn:
            vid = self._resolve_id(conn, parse_ref(ref))
            v = self._version_by_id(conn, vid)
            if v.archived == archived:
                raise UsageError(f"{v.ref} is already {'archived' if archived else 'not archived'}")
            if archived and v.stages:
                raise PolicyRefused(
                    "archived-no-stage",
                    f"{v.ref} holds {', '.join(v.stages)}; move the stage first",
                )
            conn.execute(update(V).where(V.c.id == vid).values(archived=archived))
            self._event(
                conn,
                "archived" if archived else "unarchived",
                v.model,
                v.ref,
                {"archived": v.archived},
                {"archived": archived},
                reason,
            )
            return self._version_by_id(conn, vid)

    def edit(
        self,
        target: str | Ref,
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        untag: Iterable[str] = (),
        reason: str | None = None,
    ) -> ModelInfo | VersionInfo:
        """Merge `tags` into the tags of MODEL or a version ref, drop the keys in
        `untag`, and set a model's description. The tags are read inside the write
        transaction: a concurrent edit is kept, and MODEL@STAGE is the version the
        stage holds when the change is written."""
        ref = parse_ref(target) if isinstance(target, str) else target
        gone = tuple(untag)

        def merged(held: dict[str, Any]) -> dict[str, Any]:
            out = {**held, **(tags or {})}
            for key in gone:
                out.pop(key, None)
            return out

        if ref.version is None and ref.stage is None:
            edit = merged if tags or gone else None  # else: the description only
            return self.edit_model(ref.model, description=description, tags=edit, reason=reason)
        if description is not None:
            raise UsageError("a version has no description: only a model has one")
        return self.edit_version(str(ref), tags=merged, reason=reason)

    def edit_model(
        self,
        model: str,
        *,
        description: str | None = None,
        tags: TagsEdit | None = None,
        reason: str | None = None,
    ) -> ModelInfo:
        """Replace the model's description and/or tags."""
        reason = clean_reason(reason)
        with write_txn(self.engine) as conn:
            mid = self._model_id(conn, model)
            row = conn.execute(select(M).where(M.c.id == mid)).one()
            new = tags(dict(row.tags or {})) if callable(tags) else tags
            values: dict[str, Any] = {}
            if description is not None and description != row.description:
                values["description"] = description
            if new is not None and clean_tags(new) != (row.tags or {}):
                values["tags"] = clean_tags(new)
            if not values:
                raise UsageError(f"nothing to change on {model}")
            before = {k: getattr(row, k) for k in values}
            conn.execute(update(M).where(M.c.id == mid).values(**values))
            self._event(conn, "edited", model, model, before, values, reason)
        return self.model(model)

    def log(
        self,
        ref: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> VersionInfo:
        """Add or update a version's metrics and params after registration (an
        evaluation that finished later, a sidecar written after the model). Each
        change is one audit event with before and after; values that are already
        there unchanged change nothing. `version.logged` keeps when each arrived.

        >>> from regtui import Registry
        >>> Registry().log("churn:3", metrics={"test_auc": 0.91}, params={"eval_set": "q4"},
        ...                reason="holdout evaluation finished")  # doctest: +SKIP
        """
        return self.log_changes(ref, metrics=metrics, params=params, reason=reason)[0]

    def log_changes(
        self,
        ref: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> tuple[VersionInfo, dict[str, Any] | None]:
        """`log`, also returning what changed (`{"metrics": {...}, "params": {...}}`,
        None when nothing did), decided in the same transaction as the change."""
        if self.read_only:
            raise UsageError("catalog is open read-only")
        metrics, params = clean_metrics(metrics), clean_params(params)
        if not metrics and not params:
            raise UsageError("name at least one metric or param to log")
        reason = clean_reason(reason)
        with write_txn(self.engine) as conn:
            vid = self._resolve_id(conn, parse_ref(ref))
            v = self._version_by_id(conn, vid)
            changes = self._log_values(conn, v, metrics, params, reason, now())
            if changes:
                v = self._version_by_id(conn, vid)
            return v, changes

    def _log_values(
        self,
        conn: Connection,
        v: VersionInfo,
        metrics: dict[str, float],
        params: dict[str, Any],
        reason: str | None,
        ts: datetime,
        how: str | None = None,
        chain: audit.Appender | None = None,
        datasets: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any] | None:
        """Merge values (and datasets it does not name yet) into version `v` with
        their `logged` times, reindex them and append one `logged` event; None if
        nothing changed."""
        from regtui.catalog import datasets as data

        new_m = {k: x for k, x in metrics.items() if v.metrics.get(k, _ABSENT) != x}
        new_p = {k: x for k, x in params.items() if v.params.get(k, _ABSENT) != x}
        known = {data.key(d) for d in v.datasets}
        new_d = [d for d in data.merge(datasets) if data.key(d) not in known]
        if not new_m and not new_p and not new_d:
            return None
        stamp = iso(ts)
        logged = {
            **v.logged,
            **{f"metrics.{k}": stamp for k in new_m},
            **{f"params.{k}": stamp for k in new_p},
        }
        values: dict[str, Any] = {
            "metrics": {**v.metrics, **new_m},
            "params": {**v.params, **new_p},
            "logged": logged,
        }
        if new_d:
            values["datasets"] = data.merge(v.datasets, new_d)
        conn.execute(update(V).where(V.c.id == v.id).values(**values))
        if new_m:
            conn.execute(VM.delete().where(VM.c.version_id == v.id, VM.c.name.in_(list(new_m))))
            index_versions(conn, [(v.id, new_m, {})])
        if new_d:
            # Rebuilt from the merged list: a new identity may share a hash with an old one.
            conn.execute(VD.delete().where(VD.c.version_id == v.id))
            index_datasets(conn, [(v.id, values["datasets"])])
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for kind, new, old in (("metrics", new_m, v.metrics), ("params", new_p, v.params)):
            if new:
                before[kind] = {k: old.get(k) for k in new}
                after[kind] = new
        if new_d:
            before["datasets"] = v.datasets
            after["datasets"] = new_d
        if how:
            after["how"] = how
        if chain is None:
            self._event(conn, "logged", v.model, v.ref, before, after, reason, ts)
        else:  # inside a batch: its appender holds the chain's tail
            chain.add(
                at=ts,
                actor=self.actor,
                action="logged",
                model=v.model,
                target=v.ref,
                before=before,
                after=after,
                reason=reason,
            )
        return after

    def edit_version(self, ref: str, *, tags: TagsEdit, reason: str | None = None) -> VersionInfo:
        """Replace a version's tags."""
        reason = clean_reason(reason)
        with write_txn(self.engine) as conn:
            vid = self._resolve_id(conn, parse_ref(ref))
            v = self._version_by_id(conn, vid)
            new = clean_tags(tags(dict(v.tags)) if callable(tags) else tags)
            if new == v.tags:
                raise UsageError(f"nothing to change on {v.ref}")
            conn.execute(update(V).where(V.c.id == vid).values(tags=new))
            conn.execute(VT.delete().where(VT.c.version_id == vid))
            index_versions(conn, [(vid, {}, new)])
            self._event(conn, "edited", v.model, v.ref, {"tags": v.tags}, {"tags": new}, reason)
            return self._version_by_id(conn, vid)

    def mark_artifact(self, ref: str, state: str, detail: str | None = None) -> VersionInfo:
        """Record that a version's file no longer matches (changed/missing) or does again."""
        if state not in ("ok", "changed", "missing"):
            raise UsageError(f"bad artifact state {state!r}")
        with write_txn(self.engine) as conn:
            vid = self._resolve_id(conn, parse_ref(ref))
            v = self._version_by_id(conn, vid)
            if v.artifact_state != state:
                conn.execute(update(V).where(V.c.id == vid).values(artifact_state=state))
                self._event(
                    conn,
                    "artifact_" + state,
                    v.model,
                    v.ref,
                    {"artifact_state": v.artifact_state},
                    {"artifact_state": state},
                    detail,
                )
            return self._version_by_id(conn, vid)

    # ------------------------------------------------------------------- audit

    def _event(
        self,
        conn: Connection,
        action: str,
        model: str | None,
        target: str,
        before: Any,
        after: Any,
        reason: str | None,
        ts: datetime | None = None,
    ) -> None:
        chain = audit.Appender(conn)
        chain.add(
            at=ts or now(),
            actor=self.actor,
            action=action,
            model=model,
            target=target,
            before=before,
            after=after,
            reason=reason,
        )
        chain.flush()

    def audit_events(
        self,
        model: str | None = None,
        *,
        actor: str | None = None,
        action: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        q = select(E)
        if model is not None:
            q = q.where(E.c.model == model)
        if actor is not None:
            q = q.where(E.c.actor == actor)
        if action is not None:
            q = q.where(E.c.action == action)
        q = q.order_by(E.c.seq.desc() if newest_first else E.c.seq)
        if limit is not None:
            q = q.limit(limit)
        with read_txn(self.engine) as conn:
            return [audit.row_to_event(r) for r in conn.execute(q)]

    def _iter_events(self) -> Iterator[AuditEvent]:
        with read_txn(self.engine) as conn:
            for r in conn.execute(select(E).order_by(E.c.seq)).yield_per(2000):
                yield audit.row_to_event(r)

    def verify_audit(self, expected_head: str | None = None) -> ChainCheck:
        """The hash chain, and the tables against the state it records (a table
        edited beside the log fails it, naming the first row; see verify_catalog)."""
        chain, state = self.verify_catalog(expected_head)
        if chain.ok and state is not None and not state.ok:
            first = state.mismatches[0]
            return ChainCheck(
                False,
                chain.events,
                chain.head,
                None,
                f"{len(state.mismatches)} table values disagree with the log, first: "
                f"{first.row} {first.field}: log says {first.log_says!r}, "
                f"table says {first.table_says!r}",
            )
        return chain

    def registration(self, v: VersionInfo) -> Any:
        """What the audit log recorded when `v` was registered (its `after`), or None."""
        with read_txn(self.engine) as conn:
            return conn.execute(
                select(E.c.after)
                .where(E.c.model == v.model, E.c.target == v.ref, E.c.action == "registered")
                .order_by(E.c.seq)
                .limit(1)
            ).scalar()

    def verify_catalog(
        self, expected_head: str | None = None
    ) -> tuple[ChainCheck, audit_replay.StateCheck | None]:
        """The chain and the tables compared with its replay, in one snapshot and one
        pass over the events (state None when the chain itself is broken)."""
        with read_txn(self.engine) as conn:
            if self.dialect == "postgresql":
                # One snapshot for the log and the tables: under READ COMMITTED a
                # writer committing between the two reads would look like an edit.
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            replay = audit_replay.Replay()
            rows = conn.execute(select(E).order_by(E.c.seq)).yield_per(2000)
            chain = audit.verify((replay.feed(audit.row_to_event(r)) for r in rows), expected_head)
            if not chain.ok:
                return chain, None
            return chain, audit_replay.compare(conn, replay.expected)

    def audit_head(self) -> tuple[int, str]:
        with read_txn(self.engine) as conn:
            return audit.head(conn)

    def change_counter(self) -> int:
        """Rises with every change to the catalog: a cheap way to notice other writers."""
        return self.audit_head()[0]

    # --------------------------------------------------------------- artifacts

    def verify_artifacts(self, model: str | None = None) -> list[ArtifactCheck]:
        """Re-hash every version's artifact and every kept copy in the catalog's
        store; report missing and changed ones, and any whose path, sha256 or size
        the table holds otherwise than its registration event recorded."""
        where = self.store_location().path
        q = select(E.c.target, E.c.after).where(E.c.action == "registered")
        with read_txn(self.engine) as conn:
            rows = conn.execute(q if model is None else q.where(E.c.model == model))
            registered = {target: after for target, after in rows}
        out = []
        for v in self.versions(model):
            # The log's word first: a path and sha256 swapped together in the
            # table would re-hash fine.
            problem = identity_problem(v, registered.get(v.ref))
            if problem:
                out.append(ArtifactCheck(v.ref, v.path, "changed", problem))
                continue
            if v.stored_path:
                out.append(check_kept_copy(v, where))
            out.append(check_artifact(v.ref, Path(v.path), v.sha256))
        return out

    # ------------------------------------------------------------------- store

    def store_location(self) -> store.StoreLocation:
        """Where this catalog keeps its copies: its "store" setting, else the default
        (beside a SQLite catalog; host-local for a server catalog)."""
        with read_txn(self.engine) as conn:
            return self._store_location(conn)

    def _store_location(self, conn: Connection) -> store.StoreLocation:
        row = conn.execute(select(ST.c.value).where(ST.c.key == store.SETTING_KEY)).first()
        return store.location_for(self.url, row[0] if row else None)

    def count_kept_copies(self) -> store.KeptCount:
        """How many versions have a kept copy that is in the store (or where an older
        catalog recorded it), and how many have none there (see `verify`)."""
        where = self.store_location().path
        with read_txn(self.engine) as conn:
            rows = conn.execute(
                select(V.c.stored_path, V.c.sha256).where(V.c.stored_path.is_not(None))
            ).all()
        present = sum(store.present_copy(sp, sha, where) is not None for sp, sha in rows)
        return store.KeptCount(present, len(rows) - present)

    def _kept_versions(self, conn: Connection) -> list[VersionInfo]:
        q = (
            select(*VERSION_COLUMNS)
            .select_from(V.join(M, M.c.id == V.c.model_id))
            .where(V.c.stored_path.is_not(None))
            .order_by(V.c.id)
        )
        return self._to_infos(conn, conn.execute(q).all())

    def set_store_location(
        self, path: str | os.PathLike[str], reason: str | None = None
    ) -> store.StoreLocation:
        """Point the catalog's store at `path` (absolute; made if missing).

        Every kept copy is copied there first (each verified, outside the write
        lock); then the new location and its audit event (`store_moved`) commit in
        one transaction. The old copies stay where they were. Refused, with nothing
        changed, when a kept copy matches nowhere (see `verify`).
        """
        if self.read_only:
            raise UsageError("catalog is open read-only")
        reason = clean_reason(reason)
        new = store.absolute_location(path)
        try:
            new.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot use {new} as the store: {exc.strerror or exc}") from None
        if not new.is_dir() or not os.access(new, os.W_OK | os.X_OK):
            raise UsageError(f"cannot use {new} as the store: not a folder this user may write")
        copied: set[int] = set()
        for _ in range(_KEEP_ATTEMPTS):
            with read_txn(self.engine) as conn:
                before = self._store_location(conn)
                kept = self._kept_versions(conn)
            if new == before.path:
                raise UsageError(f"the store is already at {new}")
            problems = []
            for v in kept:
                if v.id in copied:
                    continue
                sources = [*store.copy_paths(v.stored_path or "", v.sha256, before.path)]
                try:
                    store.keep(Path(v.path).name, v.sha256, new, [*sources, Path(v.path)])
                except ArtifactError as exc:
                    problems.append(f"{v.ref}: {exc}")
                else:
                    copied.add(v.id)
            if problems:
                raise ArtifactError(
                    f"store not moved: {len(problems)} kept copies match nowhere "
                    f"(first: {problems[0]})"
                )
            with write_txn(self.engine) as conn:
                if (
                    self._store_location(conn) != before
                    or {v.id for v in self._kept_versions(conn)} - copied
                ):
                    continue  # moved, or copies kept, meanwhile: copy what is new, again
                value = {"location": str(new)}
                if conn.execute(select(ST.c.key).where(ST.c.key == store.SETTING_KEY)).first():
                    conn.execute(
                        update(ST).where(ST.c.key == store.SETTING_KEY).values(value=value)
                    )
                else:
                    conn.execute(insert(ST).values(key=store.SETTING_KEY, value=value))
                self._event(
                    conn,
                    "store_moved",
                    None,
                    "store",
                    {"location": str(before.path), "source": before.source},
                    {"location": str(new)},
                    reason,
                )
                return self._store_location(conn)
        raise Conflict("the catalog kept changing while the store was moved; try again")

    # ------------------------------------------------------------- watch roots

    def add_watch_root(
        self, path: str | os.PathLike[str], model: str | None = None, settle_seconds: float = 2.0
    ) -> WatchRoot:
        p = str(Path(path).expanduser().resolve())
        if model is not None:
            check_model_name(model)
        with write_txn(self.engine) as conn:
            row = conn.execute(select(W).where(W.c.path == p)).first()
            values = {"model": model, "settle_seconds": float(settle_seconds)}
            if row is None:
                conn.execute(
                    insert(W).values(path=p, created_at=now(), created_by=self.actor, **values)
                )
                self._event(conn, "watch_added", model, p, None, values, None)
            elif (row.model, row.settle_seconds) != (model, float(settle_seconds)):
                conn.execute(update(W).where(W.c.id == row.id).values(**values))
                self._event(
                    conn,
                    "watch_changed",
                    model,
                    p,
                    {"model": row.model, "settle_seconds": row.settle_seconds},
                    values,
                    None,
                )
        return WatchRoot(p, model, float(settle_seconds))

    def watch_roots(self) -> list[WatchRoot]:
        with read_txn(self.engine) as conn:
            return [
                WatchRoot(r.path, r.model, r.settle_seconds)
                for r in conn.execute(select(W).order_by(W.c.path))
            ]

    def remove_watch_root(self, path: str | os.PathLike[str]) -> None:
        p = str(Path(path).expanduser().resolve())
        with write_txn(self.engine) as conn:
            done = conn.execute(W.delete().where(W.c.path == p))
            if done.rowcount == 0:
                raise NotFound(f"{p} is not watched")
            self._event(conn, "watch_removed", None, p, None, None, None)

    # ------------------------------------------------------------ import/export

    def backup(self, target: str | os.PathLike[str]) -> Backup:
        """A consistent copy of a live SQLite catalog (SQLite's online backup API).

        A catalog whose store is the default one (beside its file) takes its kept
        copies along: each is copied (reflinked where possible, verified) into the
        backup's own default store, so the backup resolves production by itself.
        """
        import sqlite3

        if self.dialect != "sqlite":
            raise UsageError("backup copies SQLite catalogs; for PostgreSQL use pg_dump")
        dest = Path(target).expanduser().absolute()
        if dest.exists():
            raise UsageError(f"{dest} exists; choose a new file")
        source = sqlite_file(self.url) or ""
        tmp = dest.with_name(dest.name + ".partial")
        try:
            src = sqlite3.connect(sqlite_uri(source, "ro"), uri=True)
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                pages = dst.execute("PRAGMA page_count").fetchone()[0]
                # From the copy itself: exactly the versions the backup holds.
                kept = dst.execute(
                    "SELECT path, sha256, stored_path FROM version "
                    "WHERE stored_path IS NOT NULL ORDER BY id"
                ).fetchall()
            finally:
                dst.close()
                src.close()
            tmp.replace(dest)
        except (sqlite3.Error, OSError) as exc:
            tmp.unlink(missing_ok=True)
            raise UsageError(f"backup to {dest} failed: {exc}") from None
        here = self.store_location()
        if here.source != "default":
            return Backup(dest, pages, None, 0, [])
        there = store.location_for(sqlite_url(dest), None).path
        copied, problems = 0, []
        for path, sha256, stored_path in kept:
            sources = [*store.copy_paths(stored_path, sha256, here.path), Path(path)]
            try:
                store.keep(Path(path).name, sha256, there, sources)
            except ArtifactError as exc:
                problems.append(str(exc))
            else:
                copied += 1
        return Backup(dest, pages, there, copied, problems)

    def export_data(self) -> dict[str, Any]:
        from regtui.catalog.exchange import export_catalog

        with read_txn(self.engine) as conn:
            return export_catalog(conn)

    def import_data(self, data: dict[str, Any], notes: list[str] | None = None) -> int:
        """Load an export into this empty catalog; what a person should know about it
        (such as the export's store setting) is appended to `notes`."""
        from regtui.catalog.exchange import import_catalog

        with write_txn(self.engine) as conn:
            return import_catalog(conn, data, notes)


@dataclass(frozen=True)
class Backup:
    """What `Catalog.backup` wrote: the file, and the kept copies it took along
    (`store` is None when the catalog's store is a setting the backup shares)."""

    file: Path
    pages: int
    store: Path | None
    copies: int
    problems: list[str]


def _rollback_target(moves: Iterable[StageMove]) -> int | None:
    """The version held before the current one, once rolled-back-over ones are dropped."""
    held = _effective_holders(moves)
    return held[-2] if len(held) >= 2 else None


def _effective_holders(moves: Iterable[StageMove]) -> list[int]:
    """Versions a stage held, oldest first, with rolled-back-over ones dropped.

    A promote pushes; a rollback to X drops everything after X (or pushes X if it
    was dropped earlier); a demote empties the stage.
    """
    held: list[int] = []
    for m in moves:
        if m.to_version is None:
            held = []
        elif m.action == "rollback" and m.to_version in held:
            del held[held.index(m.to_version) + 1 :]
        else:
            held.append(m.to_version)
    return held


class _VersionSQL:
    """The registration path's own statements, as driver-level SQL (see DriverSQL)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        q = dialect.identifier_preparer
        self._table, self._mid = q.format_table(V), q.quote("model_id")
        self.top_number = DriverSQL(
            dialect,
            f"SELECT max({q.quote('number')}) FROM {self._table} WHERE {self._mid} = :mid",
        )
        # No ON CONFLICT: same bytes were looked up under the write lock, so a
        # conflict here is a bug, and it fails loudly instead of leaving a gap.
        self.insert = MultiRowInsert(dialect, V, INSERT_COLUMNS, ("id", "model_id", "sha256"))
        self._same_bytes: dict[int, DriverSQL] = {}

    def same_bytes(self, conn: Connection, mid: int, shas: Sequence[str]) -> list[tuple[int, str]]:
        """(version id, sha256) of the versions of model `mid` that have one of `shas`."""
        out: list[tuple[int, str]] = []
        for start in range(0, len(shas), _IN_CHUNK):
            part = list(shas[start : start + _IN_CHUNK])
            # Padded to a power of two (repeats change nothing in IN): few distinct statements.
            n = 1 << (len(part) - 1).bit_length()
            part += part[-1:] * (n - len(part))
            stmt = self._same_bytes.get(n)
            if stmt is None:
                marks = ", ".join(f":s{j}" for j in range(n))
                stmt = self._same_bytes[n] = DriverSQL(
                    self.dialect,
                    f"SELECT id, sha256 FROM {self._table} "
                    f"WHERE {self._mid} = :mid AND sha256 IN ({marks})",
                )
            out.extend(stmt.all(conn, {"mid": mid, **{f"s{j}": x for j, x in enumerate(part)}}))
        return out


_IN_CHUNK = 256
_ABSENT = object()


def _info_from_row(vid: int, model: str, row: dict[str, Any]) -> VersionInfo:
    """The record of a version just inserted (no stages yet), without reading it back."""
    return VersionInfo([vid if c == "id" else row[c] for c in COLUMNS], model)


def _members(p: Path, folder: bool) -> list[Path] | None:
    """The files a bundle's hash covers (None for a file): the listing that must
    be the same before inspection and after hashing."""
    return [f for _, f in iter_tree(p, checkpoints=False)] if folder else None
