"""Who may use `regtui serve`: access tokens, the users they map to, and the tokens file.

A token is checked by its SHA-256 against every known hash with
`hmac.compare_digest` (no early exit: the time says nothing about which one was
close). The tokens file holds only those hashes, one user each, beside the SQLite
catalog (`catalog.sqlite.serve-tokens`) or, for a PostgreSQL catalog, in the user
config folder keyed by the catalog's URL without role or password. It is created
0600 with O_EXCL and never used when group or others may read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from regtui.errors import UsageError

# A user name as the header or `--add-user` may give it: it becomes `--user` of the
# session (and on PostgreSQL its role), so nothing that could be read as an option,
# a path or URL syntax.
USER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}")
TOKEN_BYTES = 32
_FILE_VERSION = 1


def valid_user(name: str) -> bool:
    return USER_NAME.fullmatch(name) is not None


def check_user(name: str) -> str:
    if not valid_user(name):
        raise UsageError(
            f"user name {name!r}: use letters, digits and _ . @ - (at most 63, "
            "not starting with . @ -)"
        )
    return name


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (brackets allowed): only this machine."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tokens_path(url: str) -> Path:
    """Where the tokens file of the catalog at `url` lives."""
    from regtui import settings

    file = settings.sqlite_file(url)
    if file == ":memory:" or (file is None and url.startswith("sqlite")):
        raise UsageError("an in-memory catalog cannot be served")
    if file is not None:
        p = Path(file).expanduser().resolve()
        return p.with_name(p.name + ".serve-tokens")
    import platformdirs

    folder = Path(platformdirs.user_config_dir(settings.APP_NAME, appauthor=False))
    return folder / "serve-tokens" / settings.catalog_key(url)


@dataclass
class TokensFile:
    """The users and their token hashes, read fresh at each check (a user added or
    removed while serving counts at their next request)."""

    path: Path
    users: dict[str, str] = field(default_factory=dict)  # name -> sha256 hex

    @classmethod
    def read(cls, path: Path) -> TokensFile:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise UsageError(f"tokens file {path}: {exc.strerror}") from None
        try:
            _check_private(path, os.fstat(fd))
        except UsageError:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as f:
            raw = f.read(1 << 20)
        try:
            data = json.loads(raw)
            users = {str(k): str(v) for k, v in data["users"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UsageError(f"tokens file {path}: not a regtui tokens file") from None
        bad = [u for u, h in users.items() if not valid_user(u) or len(h) != 64]
        if bad:
            raise UsageError(f"tokens file {path}: a malformed entry for {bad[0]!r}")
        return cls(path, users)

    def add(self, name: str) -> str:
        """A new token for `name` (replacing theirs); only its hash is written."""
        token = new_token()
        self.users[check_user(name)] = token_hash(token)
        self._write()
        return token

    def remove(self, name: str) -> bool:
        if self.users.pop(name, None) is None:
            return False
        self._write()
        return True

    def _write(self) -> None:
        """Replace the file by a new one made 0600 with O_EXCL (never another's file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": _FILE_VERSION, "users": self.users}, f, indent=1)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _check_private(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"tokens file {path}: not a regular file")
    if st.st_mode & 0o077:
        raise UsageError(f"tokens file {path} may be read by others: run 'chmod 600 {path}'")
    if st.st_uid != os.getuid():
        raise UsageError(f"tokens file {path}: owned by another user")


@dataclass(frozen=True)
class Gate:
    """Maps a presented token to its user: the startup token to the serving user,
    else the tokens file's users. None: nobody."""

    path: Path
    startup_hash: str | None  # None with --no-token
    serving_user: str

    def user_for(self, token: str | None) -> str | None:
        if token is None or len(token) > 512:
            return None
        presented = token_hash(token)
        found: str | None = None
        candidates: list[tuple[str, str]] = []
        if self.startup_hash is not None:
            candidates.append((self.serving_user, self.startup_hash))
        candidates += list(TokensFile.read(self.path).users.items())
        for user, known in candidates:  # every one compared: the time says nothing
            if hmac.compare_digest(presented, known) and found is None:
                found = user
        return found
