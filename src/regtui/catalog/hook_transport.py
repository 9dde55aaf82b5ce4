"""Delivering one payload once: to a command (`sh -c`, the JSON on stdin) or to a
URL (an HTTP POST signed with HMAC-SHA256, GitHub's scheme). Nothing here reads
the catalog; catalog.hook_delivery decides what to send, when, and how often.

The command is the admin's, configured in the catalog with `regtui hook add`,
never anything from an artifact or its folder. It runs in a fresh empty folder
(not an artifact's), in its own process group, killed whole at the timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import select
import selectors
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from regtui.text import printable

OUTPUT_LIMIT = 2048
LEFT_RUNNING_GRACE = 0.2  # s to drain after it exited, if a child holds its output


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None  # exit code or HTTP status; None: no answer
    output: str  # at most OUTPUT_LIMIT bytes of it, as text
    duration: float


def signature(secret: str, body: bytes) -> str:
    """The X-Regtui-Signature-256 header's value: `sha256=` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _bounded(data: bytes) -> str:
    cut = data[:OUTPUT_LIMIT].decode("utf-8", "replace")
    return printable(cut, OUTPUT_LIMIT, one_line=False)


def run_command(command: str, body: bytes, env: dict[str, str], timeout: float) -> Outcome:
    """Run `sh -c command` with `body` on stdin and `env` added to the environment."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="regtui-hook-") as cwd:
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env={**os.environ, **env},
                start_new_session=True,  # its own group: a timeout kills all it started
            )
        except (OSError, ValueError) as exc:  # ValueError: a NUL in its command or environment
            return Outcome(False, None, f"cannot start: {exc}", time.monotonic() - start)
        try:
            head, timed_out = _feed_and_drain(proc, body, start + timeout)
            if timed_out:
                _kill_group(proc)
                proc.wait()
        finally:
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    pipe.close()  # type: ignore[union-attr]
        duration = time.monotonic() - start
    text = _bounded(head)
    if timed_out:
        return Outcome(False, None, f"timed out after {timeout:g} s\n{text}", duration)
    return Outcome(proc.returncode == 0, proc.returncode, text, duration)


def _feed_and_drain(
    proc: subprocess.Popen[bytes], body: bytes, deadline: float
) -> tuple[bytes, bool]:
    """Write `body` to its stdin and read its output until it exits, keeping the first
    OUTPUT_LIMIT bytes and dropping the rest as it comes (a command printing without
    end fills no disk and no memory); True as well if the deadline passed first. A
    child it left running that holds the output open is not waited for (it gets
    SIGPIPE if it writes there later: a daemon should send its output elsewhere)."""
    assert proc.stdin is not None and proc.stdout is not None
    sel = selectors.DefaultSelector()
    pending = memoryview(body)
    if pending:
        sel.register(proc.stdin, selectors.EVENT_WRITE)
    else:
        proc.stdin.close()
    sel.register(proc.stdout, selectors.EVENT_READ)
    kept = bytearray()
    exited_at: float | None = None
    with sel:
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                return bytes(kept), True
            if proc.poll() is not None:
                exited_at = exited_at or now
                if now - exited_at > LEFT_RUNNING_GRACE:
                    break
            for key, _mask in sel.select(min(deadline - now, 0.05)):
                if key.fileobj is proc.stdin:
                    try:
                        pending = pending[os.write(key.fd, pending[: select.PIPE_BUF]) :]
                    except BrokenPipeError:  # it did not read its stdin: fine
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(proc.stdout)
                elif len(kept) < OUTPUT_LIMIT:
                    kept += chunk[: OUTPUT_LIMIT - len(kept)]
    try:
        proc.wait(max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return bytes(kept), True
    return bytes(kept), False


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(proc.pid, signal.SIGKILL)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new place to send the event (and its signature)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST `body` as JSON; ok on a 2xx answer. The whole attempt, answer included,
    ends at `timeout`: a socket's timeout bounds each read, not their sum, so a
    receiver trickling its answer would otherwise hold the deliverer (and every
    other hook behind it) past the lease. The request runs in a thread left to end
    by its own socket timeout."""
    start = time.monotonic()
    box: list[Outcome] = []
    worker = threading.Thread(
        target=lambda: box.append(_post(url, body, headers, timeout, start)),
        name="regtui-hook-post",
        daemon=True,
    )
    worker.start()
    worker.join(timeout)
    if box:
        return box[0]
    return Outcome(False, None, f"timed out after {timeout:g} s", time.monotonic() - start)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float, start: float) -> Outcome:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            status = int(answer.status)
            text = _bounded(answer.read(OUTPUT_LIMIT))
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            text = _bounded(exc.read(OUTPUT_LIMIT))
        except OSError:
            text = ""
        finally:
            exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(False, None, printable(str(reason), 500), time.monotonic() - start)
    return Outcome(200 <= status < 300, status, text, time.monotonic() - start)
