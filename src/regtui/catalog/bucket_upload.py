"""Keeping a copy in a bucket: uploaded (in parts for large files, resuming an
interrupted upload rather than restarting it), then read back and re-hashed;
only a copy whose bytes hash to the version's sha256 counts.

An interrupted multipart upload stays pending in the bucket under the copy's own
key; the next attempt finds it (ListMultipartUploads), keeps each part whose size
and MD5 ETag match the bytes it would send again (ListParts) and sends only the
rest. The source is re-read whole either way: its sha256 must be the version's
before the upload is completed, so a training output rewritten meanwhile never
becomes the object.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from regtui.catalog.bucket import Bucket, client, exists, hash_stored, part_bytes, talking
from regtui.catalog.bucket import delete as delete_copy
from regtui.catalog.store import copy_key
from regtui.errors import ArtifactError, StoreUnreachable
from regtui.hashing import open_regular, tree_members

MAX_PARTS = 10_000  # S3's limit: a larger file gets larger parts

# Called after each part is sent (part number, parts in all): tests interrupt here.
PartHook = Callable[[int, int], None]
on_part_sent: PartHook | None = None


def keep(name: str, sha256: str, b: Bucket, sources: Sequence[Path]) -> tuple[str, str]:
    """Make sure the bucket holds the bytes with `sha256` at their key, uploaded
    from the first of `sources` that still matches; idempotent. Returns the key
    and how: "reused" (there and matching) or "upload". ArtifactError when no
    source matches; StoreUnreachable at once when the store cannot be used."""
    key = copy_key(sha256, name)
    here = hash_stored(b, key)
    if here is not None and here.sha256 == sha256:
        return key, "reused"
    if here is not None:
        delete_copy(b, key)  # changed: named by a sha256 it does not have
    problems: list[str] = []
    for given in sources:
        src = Path(os.path.realpath(given))
        if not src.exists():
            problems.append(f"{given}: artifact is gone")
            continue
        try:
            _upload(b, key, src, sha256)
        except StoreUnreachable:
            # Another host keeping the same bytes may have completed (or aborted)
            # the pending upload this one resumed: its copy counts if it verifies.
            here = hash_stored(b, key)
            if here is not None and here.sha256 == sha256:
                return key, "reused"
            raise
        except ArtifactError as exc:
            problems.append(str(exc))
            continue
        except OSError as exc:
            problems.append(f"{given}: cannot read: {exc.strerror or exc}")
            continue
        return key, "upload"
    raise ArtifactError(
        "; ".join(problems or [f"{name}: nothing to copy"]) + "; cannot keep a copy"
    )


def _upload(b: Bucket, key: str, src: Path, sha256: str) -> None:
    """Upload a file or a bundle folder's members, then check the stored bytes."""
    if src.is_dir():
        for rel, full in tree_members(src):
            send_file(b, f"{b.full_key(key)}/{rel}", full)
    else:
        got = send_file(b, b.full_key(key), src)
        if got != sha256:
            delete_copy(b, key)
            raise ArtifactError(
                f"{src}: changed since it was registered (sha256 {got[:12]}…); not kept"
            )
    # Read back: only bytes the store gives back as the version's count.
    stored = hash_stored(b, key)
    if stored is None or stored.sha256 != sha256:
        if exists(b, key):
            delete_copy(b, key)
        shown = "nothing" if stored is None else f"sha256 {stored.sha256[:12]}…"
        raise ArtifactError(f"{src}: the store gave back {shown}, not the registered bytes")


def send_file(b: Bucket, full_key: str, src: Path) -> str:
    """Upload one file to `full_key`; its sha256 as read while sending. A file larger
    than a part goes in parts, resuming a pending upload of the same key."""
    part = part_bytes()
    with os.fdopen(open_regular(src), "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size <= part:
            data = fh.read()
            c = client(b)
            with talking(b):
                c.put_object(Bucket=b.bucket, Key=full_key, Body=data, ContentMD5=_md5_b64(data))
            return hashlib.sha256(data).hexdigest()
        part = max(part, -(-size // MAX_PARTS))
        return _send_parts(b, full_key, fh, size, part)


def _send_parts(b: Bucket, full_key: str, fh: Any, size: int, part: int) -> str:
    c = client(b)
    count = -(-size // part)
    upload_id, sent = _pending(b, full_key)
    with talking(b):
        if upload_id is None:
            upload_id = c.create_multipart_upload(Bucket=b.bucket, Key=full_key)["UploadId"]
        digest = hashlib.sha256()
        parts = []
        for number in range(1, count + 1):
            data = fh.read(part)
            digest.update(data)
            md5 = hashlib.md5(data, usedforsecurity=False)
            etag = f'"{md5.hexdigest()}"'
            if sent.get(number) != (len(data), etag):
                etag = c.upload_part(
                    Bucket=b.bucket,
                    Key=full_key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                    ContentMD5=base64.b64encode(md5.digest()).decode(),
                )["ETag"]
                if on_part_sent is not None:
                    on_part_sent(number, count)
            parts.append({"PartNumber": number, "ETag": etag})
        if fh.read(1):
            raise ArtifactError(f"{fh.name}: grew while it was uploaded; not kept")
        c.complete_multipart_upload(
            Bucket=b.bucket, Key=full_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    _abort_others(b, full_key)
    return digest.hexdigest()


def _pending(b: Bucket, full_key: str) -> tuple[str | None, dict[int, tuple[int, str]]]:
    """The newest pending multipart upload of `full_key` and its parts sent so far
    (number → (size, ETag))."""
    c = client(b)
    with talking(b):
        found = c.list_multipart_uploads(Bucket=b.bucket, Prefix=full_key).get("Uploads", [])
        mine = sorted((u for u in found if u["Key"] == full_key), key=lambda u: u["Initiated"])
        if not mine:
            return None, {}
        upload_id = mine[-1]["UploadId"]
        sent: dict[int, tuple[int, str]] = {}
        marker = 0
        while True:
            page = c.list_parts(
                Bucket=b.bucket, Key=full_key, UploadId=upload_id, PartNumberMarker=marker
            )
            for p in page.get("Parts", []):
                sent[int(p["PartNumber"])] = (int(p["Size"]), str(p["ETag"]))
            if not page.get("IsTruncated"):
                return upload_id, sent
            marker = int(page["NextPartNumberMarker"])


def _abort_others(b: Bucket, full_key: str) -> None:
    """Abort uploads of this key still pending (older interrupted attempts)."""
    c = client(b)
    with talking(b):
        found = c.list_multipart_uploads(Bucket=b.bucket, Prefix=full_key).get("Uploads", [])
        for u in found:
            if u["Key"] == full_key:
                c.abort_multipart_upload(Bucket=b.bucket, Key=full_key, UploadId=u["UploadId"])


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
