"""POST hooks against a local receiver on 127.0.0.1: the body is the event's JSON,
the signature verifies (recomputed here with the secret), the delivery id is the
same for every attempt at one event, a failing answer is retried, a redirect is
an answer (never followed), and a hook without a secret sends no signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.catalog.hook_delivery import Retry
from regtui.catalog.hook_transport import signature
from regtui.catalog.service import Catalog
from tests.support.hook_receiver import Receiver, receiver
from tests.unit.helpers import catalog_with_versions

SECRET = "k3y-for-tests"


@pytest.fixture(scope="module")
def server() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def hub(server: Receiver) -> Receiver:
    server.requests.clear()
    server.answers.clear()
    return server


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    return catalog_with_versions(str(tmp_path / "c.sqlite"), tmp_path / "art", 3)


def verifies(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (the README's lines): HMAC the exact body, compare."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def test_a_signed_post_carries_the_event_and_its_signature_verifies(
    cat: Catalog, hub: Receiver
) -> None:
    cat.add_hook("ci", ["approved", "promoted"], post=hub.url, secret=SECRET)
    cat.approve("churn:2", "ok")
    cat.promote("churn:2", "production", reason="go")
    attempts = []
    cat.hook_deliverer(Retry(1, 0), on_attempt=attempts.append).run_once()
    assert [(a.ok, a.status) for a in attempts] == [(True, 200), (True, 200)]
    got = hub.wait_for(2, 5)
    assert [json.loads(r.body)["event"] for r in got] == ["approved", "promoted"]
    for r in got:
        assert r.path == "/hook"
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["X-Regtui-Event"] == json.loads(r.body)["event"]
        assert verifies(SECRET, r.body, r.headers["X-Regtui-Signature-256"])
        assert not verifies(SECRET + "x", r.body, r.headers["X-Regtui-Signature-256"])
        assert not verifies(SECRET, r.body + b" ", r.headers["X-Regtui-Signature-256"])
    assert len({r.headers["X-Regtui-Delivery"] for r in got}) == 2
    promoted = json.loads(got[1].body)
    assert (promoted["model"], promoted["version"], promoted["stage"]) == ("churn", 2, "production")


def test_a_failing_answer_is_retried_with_the_same_delivery_id(cat: Catalog, hub: Receiver) -> None:
    hub.answers.extend([500, 503])
    cat.add_hook("ci", ["approved"], post=hub.url, secret=SECRET)
    cat.approve("churn:1", "ok")
    attempts = []
    cat.hook_deliverer(Retry(4, 0.01), on_attempt=attempts.append).run_once()
    assert [(a.attempt, a.status, a.ok) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    got = hub.wait_for(3, 5)
    assert len({r.headers["X-Regtui-Delivery"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    [status] = cat.hooks()
    assert (status.delivered, status.failed) == (1, 0)
    assert status.last_failure is not None and status.last_failure.status == 503


def test_a_redirect_is_a_failed_answer_not_followed(cat: Catalog, hub: Receiver) -> None:
    hub.answers.append(302)
    cat.add_hook("ci", ["approved"], post=hub.url)
    cat.approve("churn:1", "ok")
    attempts = []
    cat.hook_deliverer(Retry(1, 0), on_attempt=attempts.append).run_once()
    assert [(a.status, a.ok) for a in attempts] == [(302, False)]
    assert len(hub.wait_for(1, 5)) == 1
    assert "X-Regtui-Signature-256" not in hub.requests[0].headers


def test_no_answer_is_a_failure_with_no_status(cat: Catalog) -> None:
    cat.add_hook("ci", ["approved"], post="http://127.0.0.1:9/closed", timeout=2)
    cat.approve("churn:1", "ok")
    attempts = []
    cat.hook_deliverer(Retry(2, 0.01), on_attempt=attempts.append).run_once()
    assert [(a.status, a.ok, a.final) for a in attempts] == [
        (None, False, False),
        (None, False, True),
    ]
    assert attempts[0].output


def test_hook_test_sends_the_newest_matching_event_marked_as_a_test(
    cat: Catalog, hub: Receiver
) -> None:
    cat.add_hook("ci", ["approved"], post=hub.url, secret=SECRET)
    ev, attempt = cat.test_hook("ci")
    assert ev.seq == 0 and attempt.ok  # nothing matched yet: a made-up event
    cat.approve("churn:3", "ok")
    ev, attempt = cat.test_hook("ci")
    assert ev.action == "approved" and ev.target == "churn:3" and attempt.ok
    first, second = hub.wait_for(2, 5)
    made_up = json.loads(first.body)
    assert (made_up["test"], made_up["model"], made_up["path"]) == (True, "example", None)
    assert json.loads(second.body)["test"] is True and json.loads(second.body)["version"] == 3
    assert verifies(SECRET, second.body, second.headers["X-Regtui-Signature-256"])
    assert cat.hook_attempts() == []  # shown, not recorded: the cursor's work is untouched


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40), st.binary(max_size=200))
def test_the_signature_is_githubs_scheme(secret: str, body: bytes) -> None:
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    assert signature(secret, body) == f"sha256={mac}"
