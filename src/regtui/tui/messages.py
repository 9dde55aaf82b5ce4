"""App-wide messages: typed, past tense, posted by workers and handled with @on."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from regtui.catalog.records import ModelInfo, VersionInfo


@dataclass
class CatalogChanged(Message):
    """The catalog's change counter rose (this or another process wrote)."""

    counter: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CatalogChanged)


@dataclass
class ModelsLoaded(Message):
    models: list[ModelInfo]


@dataclass
class ChangeApplied(Message):
    """A change made from the UI went through; `summary` says what, `undo` how to undo."""

    summary: str
    undo: str = ""


@dataclass
class ChangeRefused(Message):
    """A change was refused (policy rule, conflict, bad input); nothing was written."""

    summary: str
    rule: str | None = None


@dataclass
class VersionRegistered(Message):
    """The watcher registered a new version (or found one already there)."""

    version: VersionInfo
    created: bool = True


@dataclass
class HashingProgressed(Message):
    """The watcher is hashing a large file."""

    path: str
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HashingProgressed) and message.path == self.path


@dataclass
class WatchReported(Message):
    """A line from the watcher: something was skipped, refused or failed."""

    path: str
    outcome: str
    detail: str = ""


@dataclass
class WatchStateChanged(Message):
    watching: bool
    detail: str = ""
