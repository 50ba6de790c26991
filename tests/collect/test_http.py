"""The collect HTTP client: rate limits obeyed, 429/5xx/timeouts retried, tokens only over https."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from groundswell.collect.http import (
    USER_AGENT,
    AuthError,
    Client,
    MalformedResponse,
    Refused,
    ServerError,
    _reset_time,
)
from groundswell.errors import UsageError

from .standins import FakeClock


def client(handler: Any, clock: FakeClock | None = None, **kw: Any) -> tuple[Client, FakeClock, list[Any]]:
    clock = clock or FakeClock()
    waits: list[Any] = []
    c = Client(transport=httpx.MockTransport(handler), clock=clock, on_wait=lambda r, s: waits.append((r, s)), **kw)
    return c, clock, waits


def replies(*answers: Any) -> Any:
    """A handler answering with these, in order (callables get the request)."""
    todo = list(answers)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        a = todo.pop(0)
        return a(request) if callable(a) else a

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


OK = httpx.Response(200, json={"ok": True})


def test_user_agent_names_groundswell_and_its_version() -> None:
    from groundswell import __version__

    h = replies(OK)
    c, _, _ = client(h)
    c.get("https://example.test/x")
    assert h.seen[0].headers["user-agent"] == USER_AGENT
    assert f"groundswell/{__version__}" in USER_AGENT


def test_429_waits_for_retry_after_then_succeeds() -> None:
    h = replies(httpx.Response(429, headers={"retry-after": "7"}, json={"error": "RateLimitExceeded"}), OK)
    c, clock, waits = client(h)
    r = c.get("https://example.test/x")
    assert r.body == {"ok": True}
    assert clock.slept == [7.0]
    assert "429" in waits[0][0]


def test_429_without_retry_after_waits_for_the_reset_on_the_servers_clock() -> None:
    # the server's clock runs 1000 s ahead of ours; its reset is 30 s after its 'now'
    clock = FakeClock()
    server_now = clock.now() + 1000
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(server_now))
    h = replies(httpx.Response(429, headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(server_now) + 30),
                                             "date": date}), OK)
    c, clock, _ = client(h, clock)
    c.get("https://example.test/x")
    assert clock.slept == [pytest.approx(30, abs=1)]


def test_exhausted_budget_waits_for_the_reset_before_the_next_request() -> None:
    clock = FakeClock()
    reset = clock.now() + 120

    def spent(_r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={}, headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(reset))})

    h = replies(spent, OK)
    c, clock, waits = client(h, clock, concurrency=1)
    c.get("https://example.test/a")
    assert clock.slept == []
    c.get("https://example.test/b")
    assert clock.slept == [pytest.approx(120, abs=1)]
    assert "rate limit" in waits[0][0]


def test_mastodon_reset_is_an_iso_time() -> None:
    now = 1_752_782_400.0
    assert _reset_time("2025-07-17T20:05:00.393632Z", None, now) == pytest.approx(now + 300.39, abs=0.01)
    assert _reset_time("1752782700", None, now) == pytest.approx(now + 300)
    assert _reset_time("42", None, now) == pytest.approx(now + 42)  # IETF draft: seconds from now


def test_5xx_and_timeouts_retry_with_growing_backoff_then_succeed() -> None:
    def timeout(r: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=r)

    h = replies(httpx.Response(500), httpx.Response(503), timeout, OK)
    c, clock, _ = client(h, backoff=1.0)
    assert c.get("https://example.test/x").body == {"ok": True}
    assert len(clock.slept) == 3
    # exponential with jitter in [0.5, 1.5): 1, 2, 4 seconds nominal
    for n, s in enumerate(clock.slept):
        assert 0.5 * 2 ** n <= s < 1.5 * 2 ** n


def test_a_server_that_keeps_failing_is_a_clear_error() -> None:
    h = replies(*[httpx.Response(500, json={"error": "InternalServerError"})] * 4)
    c, clock, _ = client(h, retries=3)
    with pytest.raises(ServerError) as e:
        c.get("https://example.test/xrpc/app.bsky.feed.searchPosts?q=secret")
    msg = str(e.value)
    assert "HTTP 500" in msg and "4 tries" in msg and "rerun resumes" in msg
    assert "secret" not in msg  # no query string in messages
    assert len(clock.slept) == 3


def test_a_body_that_is_not_json_is_retried_then_refused() -> None:
    bad = httpx.Response(200, content=b'{"posts": [')
    h = replies(bad, OK)
    c, _, _ = client(h)
    assert c.get("https://example.test/x").body == {"ok": True}
    h = replies(bad, bad, bad)
    c, _, _ = client(h, retries=2)
    with pytest.raises(MalformedResponse):
        c.get("https://example.test/x")


def test_4xx_is_refused_at_once_with_the_api_error_name() -> None:
    h = replies(httpx.Response(400, json={"error": "NotFound", "message": "Post not found: at://x\x1b[31m"}))
    c, clock, _ = client(h)
    with pytest.raises(Refused) as e:
        c.get("https://example.test/x")
    assert e.value.status == 400 and e.value.error == "NotFound"
    assert "\x1b" not in str(e.value)  # a server's message cannot drive the terminal
    assert clock.slept == []
    h = replies(httpx.Response(401, json={"error": "The access token is invalid"}))
    c, _, _ = client(h)
    with pytest.raises(AuthError) as a:
        c.get("https://example.test/x", token="t")
    assert a.value.exit_code == 2


def test_a_token_is_never_sent_over_plain_http() -> None:
    h = replies(OK)
    c, _, _ = client(h)
    with pytest.raises(UsageError) as e:
        c.get("http://mastodon.example/api/v1/timelines/tag/x", token="SECRET")
    assert "plain http" in str(e.value) and "SECRET" not in str(e.value)
    assert h.seen == []
    c.get("https://mastodon.example/api/v1/timelines/tag/x", token="SECRET")
    assert h.seen[0].headers["authorization"] == "Bearer SECRET"


def test_concurrency_is_bounded() -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def slow(_r: httpx.Request) -> httpx.Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return httpx.Response(200, json={})

    c = Client(transport=httpx.MockTransport(slow), clock=FakeClock(), concurrency=3)
    threads = [threading.Thread(target=c.get, args=(f"https://example.test/{i}",)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["peak"] == 3
    assert c.requests == 12
