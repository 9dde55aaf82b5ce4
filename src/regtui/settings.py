"""Where the catalog lives and who is acting: flags, then environment, then defaults."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

APP_NAME = "regtui"


def data_dir() -> Path:
    """The platformdirs user data directory (REGTUI_DATA_DIR overrides, for tests)."""
    override = os.environ.get("REGTUI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs  # lazy: keeps `regtui --version` fast

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / "catalog.sqlite"


def is_url(target: str) -> bool:
    return "://" in target


def database_url(target: str | os.PathLike[str] | None = None) -> str:
    """SQLAlchemy URL for --db (a path or URL), else REGTUI_DB, else the default file."""
    if target is None:
        target = os.environ.get("REGTUI_DB") or None
    if target is None:
        path = default_db_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    target = os.fspath(target)
    if target.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    if is_url(target):
        return target
    return f"sqlite:///{Path(target).expanduser().resolve()}"


def current_user(explicit: str | None = None) -> str:
    """--user, else REGTUI_USER, else the OS login name."""
    if explicit:
        return explicit
    env = os.environ.get("REGTUI_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def sqlite_is_read_only(target: str | os.PathLike[str] | None = None) -> bool:
    """True when the catalog is an SQLite file this process may not write."""
    url = database_url(target)
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url[len("sqlite:///"):])
    if not path.exists():
        return False
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
