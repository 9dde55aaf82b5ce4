"""The keys of the changes a reviewer makes, one declaration for every screen that
offers them (catalog, version, diff): the same key does the same thing everywhere."""

from __future__ import annotations

from textual.binding import Binding

SHOWN = ("approve", "promote", "rollback")


def change_keys(
    *, version_edit_key: str, model_edit_key: str, shown: tuple[str, ...] = SHOWN
) -> list[Binding]:
    """Approve, reject, promote, roll back, demote, archive, log metrics and the two
    edits. Which edit takes `e` depends on what the screen is about; `shown` are the
    ones the footer lists (help and the palette list them all)."""
    keys = [
        Binding("a", "approve", "Approve", id="version.approve", tooltip="Approve (asks why)"),
        Binding(
            "x", "reject", "Reject", show=False, id="version.reject", tooltip="Reject (asks why)"
        ),
        Binding(
            "p",
            "promote",
            "Promote",
            id="version.promote",
            tooltip="Point a stage (production, staging, …) at the version",
        ),
        Binding(
            "r",
            "rollback",
            "Roll back",
            id="stage.rollback",
            tooltip="Move a stage back to the version it held before",
        ),
        Binding(
            "D",
            "demote",
            "Demote",
            show=False,
            id="stage.demote",
            tooltip="Empty a stage of the model (asks which, then why)",
        ),
        Binding(
            "A",
            "archive",
            "Archive",
            show=False,
            id="version.archive",
            tooltip="Archive the version, or unarchive it (asks why)",
        ),
        Binding(
            "L",
            "log_metrics",
            "Log metrics",
            show=False,
            id="version.log",
            tooltip="Log metrics onto the version (an evaluation done later; asks why)",
        ),
        Binding(
            version_edit_key,
            "edit_tags",
            "Edit version",
            show=False,
            id="version.edit",
            tooltip="Edit the version's description and tags",
        ),
        Binding(
            model_edit_key,
            "edit",
            "Edit model",
            show=False,
            id="model.edit",
            tooltip="Edit the model's description and tags",
        ),
    ]
    return [
        Binding(
            k.key,
            k.action,
            k.description,
            show=k.action in shown,
            id=k.id,
            tooltip=k.tooltip,
        )
        for k in keys
    ]
