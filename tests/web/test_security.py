"""No way in for another web page: Host, tokens of any characters, redirects, capped streams."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from groundswell.hosts import HostCheck, Slots, is_loopback, local_path, same_secret, split_host

from ..report.fixtures import simulated_store

pytest.importorskip("starlette")
pytest.importorskip("httpx")

LOCAL = "http://127.0.0.1"
ROUTES = ["/", "/movement?hashtag=metoo", "/trending", "/api/hashtags", "/api/movement?hashtag=metoo",
          "/api/trending", "/api/trending/events?limit=1", "/openapi.json", "/export/posts.csv?hashtag=metoo",
          "/static/style.css", "/no/such/page"]
FOREIGN = ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example:8000",
           "rebind.test", "10.0.0.7", "[2001:db8::1]:8000", "localhost@evil.example", "a b", "[::1", "::1",
           "127.0.0.1:80:80", "evil.example/x", ""]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from groundswell.store import open_store

    db = simulated_store(tmp_path_factory.mktemp("websec"), posts=800, seed=3)
    s = open_store(db, read_only=True)
    yield s
    s.close()


def _client(app: Any, base: str = LOCAL) -> Any:
    from starlette.testclient import TestClient

    return TestClient(app, base_url=base, raise_server_exceptions=False)


# ------------------------------------------------------------------------- the rules, as functions

def test_host_rules() -> None:
    assert [split_host(h) for h in ("LocalHost.:8000", "[::1]:80", "127.0.0.1", "Example.org")] == \
        ["localhost", "::1", "127.0.0.1", "example.org"]
    assert [split_host(h) for h in ("", "::1", "a b", "x:y", "[::1", "h:123456", "u@h", "h/p", None)] == [None] * 9
    assert is_loopback("127.9.9.9") and is_loopback("[::1]") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("localhost.evil.example") and not is_loopback("::")
    local = HostCheck("127.0.0.1")
    assert all(local.allowed(h) for h in ("127.0.0.1:8000", "localhost", "LOCALHOST:1", "[::1]:8000", "127.0.0.2"))
    assert not any(local.allowed(h) for h in FOREIGN)
    lan = HostCheck("192.168.1.5", allow=["dash.lan"])
    assert lan.allowed("192.168.1.5:8000") and lan.allowed("dash.lan") and lan.allowed("localhost")
    assert not lan.allowed("192.168.1.6") and not lan.allowed("evil.example")
    every = HostCheck("0.0.0.0")
    assert every.allowed("192.168.1.5:8000") and every.allowed("[2001:db8::1]") and not every.allowed("evil.example")
    assert "malformed" in local.refusal(b"\x1b[2Jrebind") and "'evil.example'" in local.refusal(b"evil.example")


def test_secrets_compare_in_any_characters() -> None:
    assert same_secret("pässwört☃", "pässwört☃") and same_secret("pässwört☃".encode(), "pässwört☃")
    assert not same_secret("passwort", "pässwört☃") and not same_secret(b"\xff\xfe", "x")
    assert not same_secret(None, "x")


@pytest.mark.parametrize("raw, expected", [
    (b"/", "/"), (b"/movement", "/movement"), (b"//evil.example/", "/evil.example/"),
    (b"/\\evil.example", "/evil.example"), (b"///\\\\evil.example", "/evil.example"),
    (b"/%2F%2Fevil.example", "/%2F%2Fevil.example"), (b"/a%0d%0aSet-Cookie:x", "/a%0d%0aSet-Cookie:x"),
    (b"/a\r\nb", "/ab"), (b"/p?token=x", "/p")])
def test_redirects_stay_on_the_site(raw: bytes, expected: str) -> None:
    assert local_path(raw) == expected


def test_slots() -> None:
    s = Slots(2)
    assert s.take() and s.take() and not s.take() and s.refused == 1
    s.give_back()
    assert s.take() and s.used == 2


# ------------------------------------------------------------------------- the dashboard in-process

def test_a_foreign_host_gets_a_400_everywhere(store: Any) -> None:
    from groundswell.web.app import create_app

    with _client(create_app(store)) as c:
        for host in FOREIGN:
            for route in ROUTES:
                r = c.get(route, headers={"host": host})
                assert r.status_code == 400, (host, route, r.status_code)
                assert "answers requests for" in r.json()["error"] and "metoo" not in r.text
                assert r.headers["content-security-policy"].startswith("default-src 'self'")
        for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "127.0.0.1"):
            assert c.get("/api/hashtags", headers={"host": host}).status_code == 200, host


def test_bound_address_and_allowed_names(store: Any) -> None:
    from groundswell.web.app import create_app

    with _client(create_app(store, host="192.168.1.5", allow_hosts=["dash.lan"], token="t")) as c:
        auth = {"authorization": "Bearer t"}
        for host, code in (("192.168.1.5:8000", 200), ("dash.lan", 200), ("localhost", 200),
                           ("192.168.1.6", 400), ("evil.example", 400)):
            assert c.get("/api/hashtags", headers={**auth, "host": host}).status_code == code, host
        # the Host is checked before the token: a rebinding page learns nothing, token or not
        assert c.get("/api/hashtags", headers={"host": "evil.example"}).status_code == 400


@pytest.mark.parametrize("token", ["s3cret", "pässwört☃-🔑", "a;b c=d"])
def test_tokens_of_any_characters(store: Any, token: str) -> None:
    from urllib.parse import quote

    from groundswell.web.app import create_app

    with _client(create_app(store, token=token)) as c:
        bearer = ("Bearer " + token).encode()
        assert c.get("/api/hashtags", headers={"authorization": bearer}).status_code == 200  # type: ignore[dict-item]
        for wrong in ("Bearer wrong", "Bearer ümlaut", "Basic " + token, "Bearer"):
            r = c.get("/api/hashtags", headers={"authorization": wrong.encode()})  # type: ignore[dict-item]
            assert r.status_code == 401, wrong
        for q in ("%C3%A9", "%FF%FE", "%00", quote("☃" * 200), "a&token=b"):
            r = c.get("/api/hashtags?token=" + q, follow_redirects=False)
            assert r.status_code == 401, q
        r = c.get("/movement?hashtag=metoo&token=" + quote(token, safe=""), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/movement?hashtag=metoo"
        assert token not in r.headers["set-cookie"]
        assert c.get("/movement?hashtag=metoo").status_code == 200  # by the cookie


def _asgi(app: Any, raw_path: bytes, query: bytes, host: bytes = b"127.0.0.1:8000") -> tuple[int, dict[bytes, bytes]]:
    """One request straight into the ASGI app, with the path bytes exactly as a client could send them."""
    import asyncio
    from urllib.parse import unquote_to_bytes

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: Any) -> None:
        sent.append(msg)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"), "raw_path": raw_path,
             "query_string": query, "headers": [(b"host", host)], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


def test_the_token_redirect_stays_on_the_site(store: Any) -> None:
    from groundswell.web.app import create_app

    app = create_app(store, token="s3cret")
    for raw in (b"//evil.example/", b"/\\evil.example/", b"//evil.example/%2e%2e", b"/%0d%0aSet-Cookie:%20x=1",
                b"////\\evil.example"):
        status, headers = _asgi(app, raw, b"token=s3cret&x=1")
        assert status == 303, raw
        loc = headers[b"location"].decode("latin-1")
        assert loc.startswith("/") and not loc.startswith(("//", "/\\")), loc
        assert loc.endswith("?x=1") and "\r" not in loc and "\n" not in loc
        assert headers[b"set-cookie"].startswith(b"gs_session=")
    assert _asgi(app, b"//evil.example/", b"token=s3cret", host=b"evil.example")[0] == 400


# ------------------------------------------------------------------------- over real sockets (uvicorn)

def _read_head(s: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_rebinding_and_capped_streams_over_sockets(store: Any) -> None:
    pytest.importorskip("uvicorn")
    from groundswell.web.app import create_app

    from .serving import Served, raw_request

    app = create_app(store, max_streams=2)
    with Served(app) as base:
        port = int(base.rsplit(":", 1)[1])
        out = raw_request(port, b"GET /api/hashtags HTTP/1.1\r\nHost: rebind.test:%d\r\nConnection: close" % port)
        assert out.startswith(b"HTTP/1.1 400") and b"metoo" not in out
        out = raw_request(port, b"GET /api/hashtags HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close" % port)
        assert out.startswith(b"HTTP/1.1 200") and b"metoo" in out
        head = b"GET /api/trending/events?every=0.5 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
        held = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(head)
            assert _read_head(s).startswith(b"HTTP/1.1 200")
            held.append(s)
        out = raw_request(port, head[:-4] + b"\r\nConnection: close")
        assert out.startswith(b"HTTP/1.1 503") and b"too many live board streams" in out
        assert json.loads(out.split(b"\r\n\r\n", 1)[1])["status"] == 503
        held.pop().close()  # a client goes away: its slot is given back
        deadline = time.monotonic() + 15
        while app.app.state.streams.used > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.app.state.streams.used == 1
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(head)
        assert _read_head(s).startswith(b"HTTP/1.1 200")
        held.append(s)
        for s in held:
            s.close()


def test_serve_passes_its_address(tmp_path: Path, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --host/--allow-host`` reach the app (uvicorn itself is not started)."""
    import uvicorn

    from groundswell.cli import main

    seen: dict[str, Any] = {}

    def fake_run(app: Any, host: str, port: int, **kw: Any) -> None:
        seen["app"], seen["host"] = app, host

    monkeypatch.setattr(uvicorn, "run", fake_run)
    db = store.path
    assert main(["serve", "--db", str(db), "--host", "0.0.0.0", "--allow-host", "dash.lan", "--token", "t"]) == 0
    guard = seen["app"]
    assert guard.hosts.allowed("dash.lan") and guard.hosts.allowed("192.168.1.5") and not guard.hosts.allowed("x.y")
    assert guard.token == "t"
