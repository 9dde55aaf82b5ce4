"""Errors the faces (CLI, TUI, watcher) show to a person as one line."""

from __future__ import annotations


class RegtuiError(Exception):
    """Base: its message is shown as `regtui: error: <message>`."""

    exit_code = 1


class UsageError(RegtuiError):
    """Bad arguments or a bad reference."""

    exit_code = 2


class NotFound(RegtuiError):
    exit_code = 3


class PolicyRefused(RegtuiError):
    """A policy rule refused a change; `rule` names it."""

    exit_code = 4

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"refused by policy rule '{rule}': {message}")
        self.rule = rule
        self.detail = message


class Conflict(RegtuiError):
    """The catalog's state does not allow the action as asked: someone else changed
    what it expected, or it is already so (already approved, already in the stage,
    nothing earlier to roll back to). Nothing was written. Bad arguments are a
    UsageError; a state that could change is a Conflict."""

    exit_code = 5


class ArtifactError(RegtuiError):
    """The artifact could not be read (missing, changed while hashing, refused)."""

    exit_code = 6


# The kinds below are what scan and the watcher decide on (a refusal is reported,
# a change is looked at again, a vanished entry is skipped): by class, never by
# the words of the message, which hold the path.


def reason_for(path: str, detail: str) -> str:
    """An artifact error's message without the path it begins with (`PATH: refused:
    why` → `why`), for a line that already names the path."""
    for lead in (f"{path}: refused: ", f"{path}: "):
        if detail.startswith(lead):
            return detail[len(lead) :]
    return detail


class ArtifactRefused(ArtifactError):
    """The entry itself will not do (a broken link, a name that is not UTF-8, an
    inspector's refusal); reading it again changes nothing. Says ": refused:"."""


class ArtifactChanged(ArtifactError):
    """The bytes changed while they were read: look again once it is quiet."""


class ArtifactGone(ArtifactError):
    """The entry vanished before or while it was read."""


class StoreUnreachable(ArtifactError):
    """An object store (an s3:// store) could not be reached or refused us:
    no credentials, an unreachable endpoint, no such bucket, access denied. Never
    a reason to try another source: every source would meet the same store."""


class CatalogError(RegtuiError):
    """The catalog could not be opened or written (locked, read-only, newer schema)."""

    exit_code = 7


class FilterError(UsageError):
    """A --filter expression (or an order-by field) regtui cannot use.

    For a face to show: `message` says what is wrong, `column` where (1-based, in
    the text as given; None: the text as a whole), `end` the column just past the
    offending token, `hint` the likely fix (None: no guess). `str()` joins them
    on one line: `filter: unknown field 'creatd' at column 1; did you mean created?`.
    """

    def __init__(
        self,
        message: str,
        column: int | None = None,
        end: int | None = None,
        hint: str | None = None,
        label: str = "filter",
    ) -> None:
        self.message = message
        self.column = column
        self.end = end if end is not None or column is None else column + 1
        self.hint = hint
        self.label = label
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"{label}: {message}{where}" + (f"; {hint}" if hint else ""))

    def __reduce__(self) -> tuple[type[FilterError], tuple[object, ...]]:
        return type(self), (self.message, self.column, self.end, self.hint, self.label)
