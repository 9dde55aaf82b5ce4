"""Hooks: `regtui hook add|list|remove|test` (the catalog's hooks, each change an
audit event) and `regtui hooks run` (the deliverer, catalog.hook_delivery)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from regtui.cli import values
from regtui.cli.access import open_catalog
from regtui.cli.command import arg, command
from regtui.errors import UsageError

if TYPE_CHECKING:
    from regtui.catalog.hooks import Attempt, HookStatus

EVENT_HELP = (
    "an event to fire on, repeatable: registered, approved, rejected, promoted, "
    "rolled_back, demoted, archived, metrics_logged (as a hook's payload names them; "
    "rolled-back and metrics-logged work too)"
)


@command(
    "hook",
    "add, list, remove or test the catalog's hooks (commands or URLs told of events)",
    arg(
        "verb",
        choices=("add", "list", "remove", "test"),
        metavar="add|list|remove|test",
        help="add NAME (--on … and --run or --post), list, remove NAME --reason, test NAME",
    ),
    arg("name", nargs="?", metavar="NAME", help="the hook's name (letters, digits, . _ -)"),
    arg("--on", action="append", default=[], metavar="EVENT", help=EVENT_HELP),
    arg("--model", type=values.model_name, help="only this model's events"),
    arg("--stage", help="only moves of this stage (with promoted, rolled_back, demoted)"),
    arg(
        "--run",
        metavar="COMMAND",
        help="run `sh -c COMMAND` (the event as JSON on stdin and REGTUI_* variables)",
    ),
    arg("--post", metavar="URL", help="POST the event as JSON to this http(s) URL"),
    arg(
        "--secret",
        help="sign each POST: X-Regtui-Signature-256 = HMAC-SHA256 of the body "
        "(kept in the catalog, never shown or logged; '-' reads it from stdin, "
        "out of the process list and shell history)",
    ),
    arg(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long one attempt may take (default: %(default)s)",
    ),
    arg("--reason", help="why (required by remove: kept in the audit log)"),
)
def cmd_hook(args: argparse.Namespace) -> int:
    from regtui.cli import output

    if args.verb != "list" and not args.name:
        raise UsageError(f"hook {args.verb} needs a NAME")
    adding_only = ("on", "model", "stage", "run", "post", "secret")
    if args.verb != "add" and any(getattr(args, k) not in (None, []) for k in adding_only):
        raise UsageError("--on, --model, --stage, --run, --post, --secret are for hook add")
    with open_catalog(args) as cat:
        if args.verb == "add":
            if args.secret == "-":
                args.secret = sys.stdin.readline().rstrip("\r\n")
            hook = cat.add_hook(
                args.name,
                args.on,
                run=args.run,
                post=args.post,
                secret=args.secret,
                model=args.model,
                stage=args.stage,
                timeout=args.timeout,
            )
            output.emit(args, hook.to_json, f"added hook {output.safe(hook.name)}")
            return 0
        if args.verb == "remove":
            cat.remove_hook(args.name, args.reason)
            output.emit(args, lambda: {"removed": args.name}, f"removed hook {args.name}")
            return 0
        if args.verb == "test":
            event, attempt = cat.test_hook(args.name)
            output.emit(
                args,
                lambda: {**attempt.to_json(), "event": event.to_json()},
                lambda: print(
                    f"event {event.seq or '(made up)'} {output.safe(event.action)} "
                    f"{output.safe(event.target)}: {attempt_text(attempt)}"
                ),
            )
            return 0 if attempt.ok else 1
        hooks = [h for h in cat.hooks() if args.name in (None, h.hook.name)]
    output.emit(args, lambda: [h.to_json() for h in hooks], lambda: print_hooks(hooks))
    return 0


def attempt_text(a: Attempt) -> str:
    """`✓ 200 in 0.12 s` / `✗ exit 3 in 1.0 s (attempt 2): first line of output`."""
    from regtui.cli import output

    mark = "✓" if a.ok else "✗"
    status = "no answer" if a.status is None else str(a.status)
    text = f"{mark} {status} in {a.duration:.2f} s"
    if a.attempt > 1:
        text += f" (attempt {a.attempt})"
    first = a.output.strip().splitlines()[0] if a.output.strip() else ""
    if not a.ok and first:
        text += f": {output.safe(first, 200)}"
    return text


def print_hooks(hooks: list[HookStatus]) -> None:
    from regtui.catalog.clock import iso
    from regtui.cli import output

    if not hooks:
        print("no hooks")
        return
    for s in hooks:
        h = s.hook
        what = f"run {h.target}" if h.kind == "run" else f"post {h.target}"
        signed = " (signed)" if h.has_secret else ""
        only = "".join(f" {k}={v}" for k, v in (("model", h.model), ("stage", h.stage)) if v)
        events = ",".join(s.to_json()["events"])
        print(f"{output.safe(h.name)}: on {events}{output.safe(only)}: {output.safe(what)}{signed}")
        line = f"  delivered {s.delivered}, failed {s.failed}, up to event {s.cursor}"
        if s.last_delivery:
            a = s.last_delivery
            line += f"; last delivery: event {a.seq} at {iso(a.at)} {attempt_text(a)}"
        print(line)
        if s.lease:
            print(
                f"  lease held by deliverer {output.safe(s.lease.owner, 200)} until "
                f"{iso(s.lease.until)} (if it is gone, delivery resumes then)"
            )
        if s.last_failure:
            a = s.last_failure
            print(f"  last failure: event {a.seq} at {iso(a.at)} {attempt_text(a)}")
        if s.problem:
            print(f"  REFUSED: {output.safe(s.problem, 500)}")


@command(
    "hooks",
    "deliver hook events from the audit log (until stopped, or --once)",
    arg("verb", choices=("run",), metavar="run", help="run the deliverer"),
    arg("--once", action="store_true", help="deliver what is due, then exit"),
    arg(
        "--attempts",
        type=int,
        default=5,
        metavar="N",
        help="attempts per event before it is marked failed (default: %(default)s)",
    ),
    arg(
        "--backoff",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="wait before the 2nd attempt, doubled after each (default: %(default)s)",
    ),
)
def cmd_hooks(args: argparse.Namespace) -> int:
    from regtui.catalog.hook_delivery import Retry
    from regtui.cli import output
    from regtui.text import json_text

    if args.attempts < 1 or args.backoff < 0:
        raise UsageError("--attempts is at least 1 and --backoff at least 0")
    stop = threading.Event()

    def shown(a: Attempt) -> None:
        line = (
            json_text(a.to_json(), separators=(",", ":"))
            if args.json
            else f"{output.safe(a.hook)} event {a.seq}: {attempt_text(a)}"
        )
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            stop.set()

    def report(line: str) -> None:
        print(f"regtui: {output.safe(line, 2000)}", file=sys.stderr, flush=True)

    with open_catalog(args) as cat, stopped_by_signals(stop):
        deliverer = cat.hook_deliverer(
            Retry(args.attempts, args.backoff), report=report, on_attempt=shown, stop=stop
        )
        if args.once:
            deliverer.run_once()
        else:
            deliverer.run()
    return 0


@contextmanager
def stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (a clean exit 0) instead of raising."""

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        # Not stop.set() here: the handler runs in the main thread, which may be
        # inside stop.wait() holding the event's lock at that moment, and set()
        # would wait for that lock forever (the signal then seems ignored).
        threading.Thread(target=stop.set, name="regtui-stop", daemon=True).start()

    saved: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved[sig] = signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
