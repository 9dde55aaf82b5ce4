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
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any

from regtui.text import printable

OUTPUT_LIMIT = 2048


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
    with (
        tempfile.TemporaryDirectory(prefix="regtui-hook-") as cwd,
        tempfile.TemporaryFile() as out,
    ):
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env={**os.environ, **env},
                start_new_session=True,  # its own group: a timeout kills all it started
            )
        except OSError as exc:
            return Outcome(False, None, f"cannot start: {exc}", time.monotonic() - start)
        timed_out = False
        try:
            proc.communicate(body, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            proc.wait()
        except BrokenPipeError:  # it did not read its stdin: fine
            proc.wait()
        duration = time.monotonic() - start
        text = _read_head(out)
    if timed_out:
        return Outcome(False, None, f"timed out after {timeout:g} s\n{text}", duration)
    return Outcome(proc.returncode == 0, proc.returncode, text, duration)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(proc.pid, signal.SIGKILL)


def _read_head(out: IO[bytes]) -> str:
    out.seek(0)
    return _bounded(out.read(OUTPUT_LIMIT))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new place to send the event (and its signature)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST `body` as JSON; ok on a 2xx answer."""
    start = time.monotonic()
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
