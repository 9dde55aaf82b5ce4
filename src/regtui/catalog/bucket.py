"""A store in an S3-compatible bucket (`s3://bucket/prefix`): its URL, the client,
and reading what it holds (exists, size, a streaming sha256).

A kept copy there is an object named like the folder store's file
(`<prefix>/sha256/ab/<sha256>/<name>`); a bundle folder is one object per member
under that key (`…/<name>/<member path>`), hashed as `hashing.hash_tree` hashes a
folder. The catalog holds only the URL: endpoint, region and credentials come from
the environment (AWS_ENDPOINT_URL[_S3], AWS_REGION / AWS_DEFAULT_REGION,
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) or a profile
(AWS_PROFILE, ~/.aws/config), as every AWS tool reads them.

boto3 is imported only when a bucket is used (the `s3` extra): the CLI's start
stays fast, and a catalog with a folder store never needs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from regtui.catalog.datasets import redact
from regtui.errors import ArtifactError, StoreUnreachable, UsageError
from regtui.hashing import CHUNK, Digest

SCHEME = "s3://"
INSTALL_HINT = "pip install 'regtui[s3]'"
# Bucket names as S3 allows them (3–63 of a-z 0-9 . -, starting and ending alnum).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Bucket:
    """An object-store location: a bucket and a key prefix (no slashes at its ends)."""

    bucket: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"

    def full_key(self, key: str) -> str:
        """The object key of `key` (relative to the store, as stored_path records it)."""
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        """The object URL of a kept copy, for serving systems that read S3 themselves."""
        return f"{SCHEME}{self.bucket}/{self.full_key(key)}"


def is_bucket_url(text: str) -> bool:
    return text[:5].lower() == SCHEME


def parse(text: str) -> Bucket:
    """`s3://bucket[/prefix]` as a Bucket. Refused (UsageError, one line): a URL
    holding credentials (they belong in the environment or a profile, never in the
    catalog), a query or fragment, a bad bucket name, `.`/`..`/empty segments."""
    # Never echo what may be a secret: userinfo, or a query (a presigned URL's).
    shown = _CONTROL.sub("?", re.split(r"[?#@]", text, maxsplit=1)[0])[:300]
    if not is_bucket_url(text):
        raise UsageError(f"{shown}: not an s3:// URL")
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise UsageError(
            "an s3:// store URL must not hold credentials: give them through "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE; nothing was changed"
        )
    if parts.query or parts.fragment or "?" in text or "#" in text or _CONTROL.search(text):
        raise UsageError(f"{shown}: an s3:// store is s3://bucket/prefix, nothing more")
    if not _BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise UsageError(f"{shown}: not a bucket name S3 allows")
    prefix = parts.path.strip("/")
    if prefix and any(seg in ("", ".", "..") for seg in prefix.split("/")):
        raise UsageError(f"{shown}: the prefix has an empty, '.' or '..' part")
    return Bucket(parts.netloc, prefix)


def part_bytes() -> int:
    """Files above this size upload in parts of this size (REGTUI_S3_PART_BYTES;
    64 MiB by default). Each part is held in memory while it is sent."""
    raw = os.environ.get("REGTUI_S3_PART_BYTES", "")
    try:
        return max(int(raw), 1) if raw.strip() else 64 << 20
    except ValueError:
        raise UsageError(f"REGTUI_S3_PART_BYTES={raw[:40]!r}: not a number of bytes") from None


_clients: dict[tuple[str, ...], Any] = {}


def _settings() -> tuple[str, ...]:
    """What the client is made from, so a change of environment makes a new one."""
    names = (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SESSION_TOKEN",
    )
    return tuple(os.environ.get(n, "") for n in names)


def client(b: Bucket) -> Any:
    """An S3 client configured from the environment (one per process and settings)."""
    key = _settings()
    if key in _clients:
        return _clients[key]
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise UsageError(f"{b}: an s3:// store needs boto3: {INSTALL_HINT}") from None
    with talking(b):
        # AWS_REGION is what newer AWS SDKs read; botocore reads AWS_DEFAULT_REGION.
        session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
        made = session.client(
            "s3",
            config=Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                # Only what S3 requires: some S3-compatible stores refuse the rest.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
    _clients[key] = made
    return made


@contextlib.contextmanager
def talking(b: Bucket) -> Iterator[None]:
    """Turn what botocore raises into one line naming the store (StoreUnreachable)."""
    try:
        yield
    except ImportError:
        raise UsageError(f"{b}: an s3:// store needs boto3: {INSTALL_HINT}") from None
    except Exception as exc:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            raise StoreUnreachable(
                f"{b}: no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            ) from None
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code, msg = str(err.get("Code", "")), str(err.get("Message", ""))
            refused = redact(f"{code} {msg}".strip())
            raise StoreUnreachable(f"{b}: the object store refused: {refused}") from None
        if isinstance(exc, BotoCoreError):
            # An endpoint URL (AWS_ENDPOINT_URL) may carry a password: never echoed.
            raise StoreUnreachable(
                f"{b}: cannot use the object store: {redact(str(exc))}"
            ) from None
        raise


def probe(b: Bucket) -> None:
    """Refuse (StoreUnreachable, one line) a bucket this host cannot use: no
    credentials, an endpoint it cannot reach, no such bucket, access denied."""
    c = client(b)
    with talking(b):
        c.head_bucket(Bucket=b.bucket)


def _missing(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def head(b: Bucket, key: str) -> int | None:
    """The size of the object at `key` (relative to the store), None if there is none."""
    c = client(b)
    with talking(b):
        try:
            return int(c.head_object(Bucket=b.bucket, Key=b.full_key(key))["ContentLength"])
        except Exception as exc:
            if _missing(exc):
                return None
            raise


def members(b: Bucket, key: str) -> list[tuple[str, int]]:
    """The objects under `key/` (a kept bundle folder): relative path and size, sorted
    as `hashing.tree_members` sorts a folder's members."""
    c = client(b)
    below = b.full_key(key) + "/"
    out: list[tuple[str, int]] = []
    with talking(b):
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=b.bucket, Prefix=below):
            out.extend((o["Key"][len(below) :], int(o["Size"])) for o in page.get("Contents", []))
    out.sort()
    return out


def exists(b: Bucket, key: str) -> bool:
    """Whether the store holds anything under `key` (an object, or a folder's members)."""
    return head(b, key) is not None or bool(members(b, key))


def read_chunks(b: Bucket, full_key: str) -> Iterator[bytes]:
    """The object's bytes in CHUNK pieces, streamed (memory stays flat)."""
    c = client(b)
    with talking(b):
        body = c.get_object(Bucket=b.bucket, Key=full_key)["Body"]
        try:
            while chunk := body.read(CHUNK):
                yield chunk
        finally:
            body.close()


def hash_object(b: Bucket, full_key: str) -> Digest:
    digest, size = hashlib.sha256(), 0
    for chunk in read_chunks(b, full_key):
        digest.update(chunk)
        size += len(chunk)
    return Digest(digest.hexdigest(), size)


def hash_stored(b: Bucket, key: str) -> Digest | None:
    """The sha256 of what the store holds at `key`, as `hashing.hash_path` would give
    for the file or folder it stands for; None when nothing is there."""
    if head(b, key) is not None:
        return hash_object(b, b.full_key(key))
    listed = members(b, key)
    if not listed:
        return None
    outer, total = hashlib.sha256(), 0
    for rel, _size in listed:
        d = hash_object(b, f"{b.full_key(key)}/{rel}")
        total += d.size_bytes
        outer.update(f"{rel}\0{d.sha256}\n".encode("utf-8", "surrogateescape"))
    return Digest(outer.hexdigest(), total)


def delete(b: Bucket, key: str) -> None:
    """Remove the object at `key` and any objects under `key/` (a copy that did not
    verify: every key here is named by the sha256 its bytes must have)."""
    c = client(b)
    doomed = [b.full_key(key)] + [f"{b.full_key(key)}/{rel}" for rel, _ in members(b, key)]
    with talking(b):
        for i in range(0, len(doomed), 1000):
            objects = [{"Key": k} for k in doomed[i : i + 1000]]
            c.delete_objects(Bucket=b.bucket, Delete={"Objects": objects, "Quiet": True})


def check(b: Bucket, key: str, sha256: str) -> tuple[str, str]:
    """(state, detail) of the kept copy at `key`: ok, missing or changed."""
    got = hash_stored(b, key)
    if got is None:
        return "missing", "the object is gone"
    if got.sha256 != sha256:
        return "changed", f"sha256 is now {got.sha256[:12]}… ({got.size_bytes} bytes)"
    return "ok", ""


def must_match(b: Bucket, key: str, sha256: str) -> None:
    state, detail = check(b, key, sha256)
    if state != "ok":
        raise ArtifactError(f"{b.uri(key)}: kept copy {state}: {detail}")
