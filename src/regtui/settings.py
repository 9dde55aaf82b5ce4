"""Where the catalog lives and who is acting: flags, then environment, then defaults."""

from __future__ import annotations

import errno
import getpass
import os
import stat
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "regtui"


def data_dir() -> Path:
    """The platformdirs user data directory (REGTUI_DATA_DIR overrides, for tests)."""
    override = os.environ.get("REGTUI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs  # lazy: keeps `regtui --version` fast

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """The platformdirs user cache directory (REGTUI_CACHE_DIR overrides, for tests):
    local copies of kept copies held in an object store."""
    override = os.environ.get("REGTUI_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / "catalog.sqlite"


def is_url(target: str) -> bool:
    return "://" in target


@dataclass(frozen=True)
class Location:
    """Where the catalog is, as `locate` found it."""

    url: str  # the SQLAlchemy URL
    # The SQLite catalog file (which may not exist yet); None for a server or memory.
    file: Path | None
    default: bool  # the default file in the data dir: nothing named a catalog
    given_as_url: bool  # named by a URL (not a plain path)


def locate(target: str | os.PathLike[str] | None = None) -> Location:
    """Where the catalog is: --db (a path or URL), else REGTUI_DB, else the
    default file in the data dir. Only looks: creates nothing (Catalog makes
    the data dir when it creates the default catalog). A --db that is no
    catalog URL, or a path that is no regular file, is a usage error."""
    if target is None:
        target = os.environ.get("REGTUI_DB") or None
    if target is None:
        path = default_db_path()
        return Location(sqlite_url(path), path, default=True, given_as_url=False)
    target = os.fspath(target)
    if target.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + target.split("://", 1)[1]
        return Location(url, None, default=False, given_as_url=True)
    if is_url(target):
        if not (target == "sqlite://" or target.startswith(("sqlite:///", "postgresql+"))):
            from regtui.errors import UsageError

            raise UsageError(
                f"--db {target.split('://', 1)[0]}://…: not a catalog URL; give a file, "
                "sqlite:///PATH or postgresql://ROLE@HOST/DB"
            )
        file = sqlite_file(target)
        if file is not None and file != ":memory:":
            check_catalog_file(Path(file), target)
            return Location(target, Path(file), default=False, given_as_url=True)
        return Location(target, None, default=False, given_as_url=True)
    path = check_catalog_file(Path(target).expanduser(), target)
    return Location(sqlite_url(path), path, default=False, given_as_url=False)


def database_url(target: str | os.PathLike[str] | None = None) -> str:
    """SQLAlchemy URL for --db (a path or URL), else REGTUI_DB, else the default file."""
    return locate(target).url


def check_catalog_file(path: Path, given: str) -> Path:
    """`path` made absolute, refused (a usage error) unless it is a regular file
    or does not exist yet: a folder, FIFO, device or symlink loop is no catalog,
    and SQLite would fail on it deep inside, or wait on a FIFO."""
    from regtui.errors import UsageError
    from regtui.hashing import kind_of

    try:
        path = path.resolve()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (3.11)
        from regtui.path_problems import folder_problem

        if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
            reason = "a symlink loop, not a catalog file"
        else:
            reason = folder_problem(path) or "not readable, not a catalog file"
        raise UsageError(f"catalog {given!r}: {reason}") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"catalog {given!r}: is {kind_of(mode)}, not a catalog file")
    return path


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a catalog file. A URL's database part is %-decoded and
    ends at '?', so those two characters are encoded: '/a?b/c.db' must not open '/a'."""
    return "sqlite:///" + str(path).replace("%", "%25").replace("?", "%3F")


def sqlite_uri(path: str | os.PathLike[str], mode: str, *, immutable: bool = False) -> str:
    """The SQLite URI (`file:…?mode=ro`) opening `path` in `mode` ("ro", or "rw":
    never create); `immutable` reads it without the WAL's shared-memory file. The
    path is %-encoded: '?' or '#' in it would end it."""
    from urllib.parse import quote

    return f"file:{quote(os.fspath(path))}?mode={mode}" + ("&immutable=1" if immutable else "")


def sqlite_needs_immutable(path: str | os.PathLike[str]) -> bool:
    """True when a read-only open of this WAL catalog could not make its `-shm` file
    (a folder nobody here may write, a read-only mount) and none exists: SQLite then
    opens it only as immutable. No writer is running then (a running one keeps the
    `-shm` there), so the catalog reads as it was last closed."""
    file = Path(path)
    return not os.access(file.parent, os.W_OK) and not Path(f"{file}-shm").exists()


def sqlite_file(url: str) -> str | None:
    """The file an sqlite:/// URL names (decoded as SQLAlchemy decodes it), else None."""
    if not url.startswith("sqlite:///"):
        return None
    from urllib.parse import unquote

    return unquote(url[len("sqlite:///") :].split("?", 1)[0]) or None


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
    file = sqlite_file(database_url(target))
    if file is None:
        return False
    path = Path(file)
    if not path.exists():
        return False
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def default_store(url: str) -> tuple[Path, bool]:
    """Where a catalog keeps its kept copies when no setting says otherwise, and
    whether that folder is host-local.

    A SQLite catalog's store sits beside its file (`catalog.sqlite.store`), so it
    belongs to that catalog alone and travels with it. Any other catalog (a
    PostgreSQL server) gets a folder under this host's data dir, keyed by the
    catalog's identity: each host keeps its own copies until a setting names a
    shared folder.
    """
    file = sqlite_file(url)
    if file is not None and file != ":memory:":
        p = Path(file).expanduser().resolve()
        return p.with_name(p.name + ".store"), False
    return data_dir() / "stores" / catalog_key(url), True


def catalog_key(url: str) -> str:
    """A folder name for a catalog URL: readable database name plus a hash of the
    URL without user and password (every role of one catalog shares its store)."""
    import hashlib
    import re
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    host = parts.hostname or ""
    port = parts.port or ""
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query)) if k != "password")
    identity = f"{scheme}://{host}:{port}{parts.path}?{query}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", parts.path.strip("/"))[:40] or "catalog"
    return f"{scheme}-{name}-{digest}"
