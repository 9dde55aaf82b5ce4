"""The changes a reviewer makes (approve, reject, promote, roll back, demote,
archive, edit, diff), shared by the catalog and version screens. The policy is
checked before a reason is asked; each change asks for one in a modal and runs on
the app's change worker; refusals come back as plain notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from regtui.catalog.records import ModelInfo, VersionInfo
from regtui.catalog.refs import Ref
from regtui.catalog.stage_rules import (
    check_approvable,
    check_approver,
    check_archivable,
    check_holder,
    check_may_hold_stages,
    check_rejectable,
)
from regtui.errors import PolicyRefused, RegtuiError
from regtui.tui.safe import clean
from regtui.tui.screens.edit import EditModal, Edits
from regtui.tui.screens.log_metrics import Logged, LogMetricsModal
from regtui.tui.screens.reason import ReasonModal
from regtui.tui.screens.stage import StageChooser

if TYPE_CHECKING:
    from regtui.catalog.service import Catalog
    from regtui.tui.app import RegtuiApp

CHANGE_ACTIONS = {
    "approve",
    "reject",
    "promote",
    "promote_to",
    "rollback",
    "demote",
    "archive",
    "edit",
    "edit_tags",
    "log_metrics",
}
# What the footer shows depends on these (recomputed as the cursor moves).
FOOTER_ACTIONS = (
    "approve",
    "reject",
    "promote",
    "rollback",
    "demote",
    "archive",
    "edit",
    "edit_tags",
    "log_metrics",
    "diff",
    "open",
    "mark",
)


class VersionActions(Screen[Any]):
    """A screen with a current version and model, and the actions on them."""

    @property
    def rapp(self) -> RegtuiApp:
        return self.app  # type: ignore[return-value]

    def current_version(self) -> VersionInfo | None:
        raise NotImplementedError

    def current_model(self) -> ModelInfo | None:
        raise NotImplementedError

    def marked_version(self) -> VersionInfo | None:
        return None

    def version_for_bindings(self) -> VersionInfo | None:
        """The version the footer's actions are shown for (the current one by default)."""
        return self.current_version()

    # ------------------------------------------------------------ availability

    _binding_state: object = None

    def update_bindings(self) -> None:
        """Refresh the footer only when what applies changed (a refresh recomposes it)."""
        state = tuple(self.check_action(a, ()) for a in FOOTER_ACTIONS)
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Textual: False hides a key, None shows it greyed. A read-only catalog hides
        # every change; a change that does not apply to this version is greyed.
        if action in CHANGE_ACTIONS and self.rapp.read_only:
            return False
        v = self.version_for_bindings()
        if action == "approve":
            return True if v is not None and v.approval.status != "approved" else None
        if action == "reject":
            return True if v is not None and v.approval.status != "rejected" else None
        if action in ("promote", "promote_to"):
            # Offered for a rejected or archived version too: the key then says why not.
            ok = v is not None
            if ok and action == "promote_to" and parameters:
                ok = parameters[0] not in v.stages  # type: ignore[union-attr]
            return True if ok else None
        if action in ("rollback", "demote"):
            m = self.current_model()
            return True if m is not None and any(x is not None for x in m.stages.values()) else None
        if action == "edit":
            return True if self.current_model() is not None else None
        if action in ("archive", "edit_tags", "log_metrics"):
            return True if v is not None else None
        if action in ("diff", "open", "mark"):
            return True if v is not None else None
        return True

    # ----------------------------------------------------------------- actions

    def _ask_why_then(
        self,
        modal: ReasonModal,
        summary: str,
        undo: str,
        change: Callable[[Catalog, str], object],
    ) -> None:
        """Ask for the reason; given one, run `change(catalog, reason)` on the
        app's change worker (a cancelled dialog changes nothing)."""

        def done(reason: str | None) -> None:
            if reason:
                self.rapp.apply_change(summary, undo, lambda c: change(c, reason))

        self.app.push_screen(modal, done)

    def _refused(self, check: Callable[[], None]) -> bool:
        """Run a policy check the catalog would apply after the reason is typed, and
        say at once if it refuses. True if refused."""
        try:
            check()
        except PolicyRefused as exc:
            self.rapp.report_refusal(str(exc), exc.rule)
            return True
        return False

    def action_approve(self) -> None:
        v = self.current_version()
        if v is None or self._refused(lambda: self._check_approve(v)):
            return
        ref = v.ref
        self._ask_why_then(
            ReasonModal(f"Approve {ref}", f"now {v.approval.status}", action_label="Approve"),
            f"Approved {ref}.",
            "x rejects it again",
            lambda c, reason: c.approve(ref, reason),
        )

    def _check_approve(self, v: VersionInfo) -> None:
        check_approvable(ref=v.ref, damage=v.damage)
        check_approver(
            self.rapp.policy, ref=v.ref, actor=self.rapp.catalog.actor, created_by=v.created_by
        )

    def action_reject(self) -> None:
        v = self.current_version()
        if v is None or self._refused(lambda: check_rejectable(ref=v.ref, stages=v.stages)):
            return
        ref = v.ref
        detail = f"now {v.approval.status}; a rejected version can go to no stage"
        self._ask_why_then(
            ReasonModal(f"Reject {ref}", detail, action_label="Reject"),
            f"Rejected {ref}.",
            "a approves it again",
            lambda c, reason: c.reject(ref, reason),
        )

    def action_promote(self) -> None:
        v, m = self.current_version(), self.current_model()
        if v is None or self._refused(
            lambda: check_may_hold_stages(
                ref=v.ref, archived=v.archived, approval=v.approval.status
            )
        ):
            return
        stages = dict(m.stages) if m is not None else {}

        def chosen(stage: str | None) -> None:
            if stage:
                self.action_promote_to(stage)

        self.app.push_screen(
            StageChooser(f"Promote {v.ref} to…", stages, self.rapp.protected_stages), chosen
        )

    def action_promote_to(self, stage: str) -> None:
        v, m = self.current_version(), self.current_model()
        if v is None:
            return
        if self._refused(
            lambda: check_holder(
                self.rapp.policy,
                stage,
                ref=v.ref,
                archived=v.archived,
                approval=v.approval.status,
                damage=v.damage,
            )
        ):
            return
        ref = v.ref
        held = m.stages.get(stage) if m is not None else None
        detail = f"{stage} now holds v{held}" if held is not None else f"{stage} is empty"
        if stage in self.rapp.protected_stages:
            detail += f"; {stage} is protected (approved versions only)"
        self._ask_why_then(
            ReasonModal(f"Promote {ref} to {stage}", detail, action_label="Promote"),
            f"Promoted {ref} to {stage}.",
            "r rolls it back",
            lambda c, reason: c.promote(ref, stage, reason),
        )

    def action_rollback(self) -> None:
        m = self.current_model()
        if m is not None:
            self._on_a_held_stage(m, f"Roll back which stage of {m.name}?", self._rollback_stage)

    def _on_a_held_stage(
        self, m: ModelInfo, question: str, then: Callable[[ModelInfo, str], None]
    ) -> None:
        """`then(m, stage)` for the one stage of `m` that holds a version, or for the
        one chosen when several do (none: nothing)."""
        held = [s for s, n in m.stages.items() if n is not None]
        if len(held) <= 1:
            if held:
                then(m, held[0])
            return

        def chosen(stage: str | None) -> None:
            if stage:
                then(m, stage)

        self.app.push_screen(
            StageChooser(question, m.stages, self.rapp.protected_stages, only_existing=True),
            chosen,
        )

    def _rollback_stage(self, m: ModelInfo, stage: str) -> None:
        name = m.name
        now = m.stages.get(stage)
        # Say so now rather than after asking for a reason (one small read).
        try:
            earlier = self.rapp.catalog.rollback_target(name, stage)
        except RegtuiError as exc:
            self.rapp.report_refusal(str(exc))
            return
        if earlier is None:
            self.notify(
                f"{clean(name)}@{clean(stage)} has no earlier version to roll back to; "
                f"D empties {clean(stage)} (demote).",
                severity="warning",
                markup=False,
            )
            return
        self._ask_why_then(
            ReasonModal(
                f"Roll back {name}@{stage}",
                f"{stage} holds v{now}; it goes back to v{earlier}, which it held before",
                action_label="Roll back",
            ),
            f"Rolled back {name}@{stage} (was v{now}).",
            f"p promotes v{now} again",
            lambda c, reason: c.rollback(name, stage, reason=reason),
        )

    def action_demote(self) -> None:
        m = self.current_model()
        if m is not None:
            question = f"Demote which stage of {m.name}? (it will hold no version)"
            self._on_a_held_stage(m, question, self._demote_stage)

    def _demote_stage(self, m: ModelInfo, stage: str) -> None:
        name, now = m.name, m.stages.get(stage)
        if now is None:
            return
        shown = str(Ref(name, stage=stage))
        self._ask_why_then(
            ReasonModal(
                f"Demote {shown}",
                f"{stage} holds v{now}; it will hold no version, and resolving "
                f"{shown} fails until a version is promoted",
                action_label="Demote",
            ),
            f"Demoted {shown} (was v{now}).",
            f"p promotes v{now} again",
            lambda c, reason: c.demote(name, stage, reason),
        )

    def action_archive(self) -> None:
        v = self.current_version()
        if v is None:
            return
        ref, archiving = v.ref, not v.archived
        if archiving and self._refused(lambda: check_archivable(ref=ref, stages=v.stages)):
            return
        verb = "Archive" if archiving else "Unarchive"
        detail = (
            "an archived version keeps its record and history, and can go to no "
            "stage until it is unarchived"
            if archiving
            else "it may be promoted again"
        )
        self._ask_why_then(
            ReasonModal(f"{verb} {ref}", detail, action_label=verb),
            f"{verb}d {ref}.",
            "A unarchives it" if archiving else "A archives it again",
            lambda c, reason: c.archive(ref, reason, archived=archiving),
        )

    def action_edit_tags(self) -> None:
        v = self.current_version()
        if v is not None:
            target = Ref(v.model, v.version)
            self._edit(target, v.ref, v.description or "", dict(v.tags))

    def _edit(self, target: Ref, shown: str, description: str, tags: dict[str, str]) -> None:
        """The edit dialog for a model or a version; only a description that changed
        is written, with the tags set and removed."""

        def done(edits: Edits | None) -> None:
            if edits is None:
                return
            desc = edits.description if edits.description != description else None
            self.rapp.apply_change(
                f"Edited {shown}.",
                "edit it again to undo",
                lambda c: c.edit(
                    target,
                    description=desc,
                    tags=edits.set_tags,
                    untag=edits.unset_tags,
                    reason=edits.reason,
                ),
            )

        self.app.push_screen(EditModal(f"Edit {shown}", description, tags), done)

    def action_log_metrics(self) -> None:
        v = self.current_version()
        if v is None:
            return
        ref, target = v.ref, str(Ref(v.model, v.version))
        shown = ", ".join(f"{k}={x}" for k, x in list(v.metrics.items())[:6]) or "none yet"

        def done(logged: Logged | None) -> None:
            if logged is None:
                return
            names = ", ".join(logged.metrics)
            self.rapp.apply_change(
                f"Logged {names} onto {ref}.",
                "",
                lambda c: c.log(target, metrics=logged.metrics, reason=logged.reason),
            )

        self.app.push_screen(
            LogMetricsModal(f"Log metrics onto {ref}", f"metrics now: {shown}"), done
        )

    def action_edit(self) -> None:
        m = self.current_model()
        if m is not None:
            self._edit(Ref(m.name), m.name, m.description, dict(m.tags))

    def action_diff(self) -> None:
        v = self.current_version()
        if v is None:
            return
        marked = self.marked_version()
        if marked is not None and marked.id != v.id:
            self.rapp.open_diff(marked.ref, v.ref)
            return
        m = self.current_model()
        prod = m.stages.get("production") if m is not None else None
        if prod is not None and prod != v.version:
            self.rapp.open_diff(str(Ref(v.model, prod)), v.ref)
        elif v.version > 1:
            self.rapp.open_diff(str(Ref(v.model, v.version - 1)), v.ref)
        else:
            self.notify(
                "Nothing to compare with: no other version in production and no earlier "
                "version. Mark one with space, then press d on another.",
                markup=False,
            )
