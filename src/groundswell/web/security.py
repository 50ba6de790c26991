"""The dashboard's gate: no way in for another web page.

:class:`Guard` wraps the Starlette app (ASGI middleware) and, before any
route runs:

* answers only requests whose ``Host`` is the bound address, a loopback name
  or an allowed name (:class:`groundswell.hosts.HostCheck`; DNS rebinding gets
  a 400), websocket requests too, and those only without a foreign ``Origin``;
* when a token is set, lets a request in by ``Authorization: Bearer TOKEN``,
  by the session cookie, or by ``?token=TOKEN`` once (a 303 to the same path on
  this site, never ``//other.site``, that sets the cookie). Tokens compare in
  constant time as UTF-8 bytes, so any character is fine (never a 500). The
  cookie holds an HMAC of the token, not the token;
* adds the security headers (Content-Security-Policy, nosniff, no referrer,
  no framing) to every response, refusals included.

:func:`capped` limits the long-lived event streams (the live board's SSE):
beyond the limit a request gets a 503 at once instead of a stream.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from groundswell.hosts import HostCheck, Slots, local_path, same_secret

__all__ = ["Guard", "HostCheck", "Slots", "capped", "cookie_value", "CSP"]

CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
COOKIE = "gs_session"


def cookie_value(token: str) -> str:
    """What the session cookie holds: an HMAC of the token (the token itself never goes into a cookie)."""
    mac = hmac.new(token.encode("utf-8", "surrogateescape"), b"groundswell dashboard session", hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


class Guard:
    """ASGI middleware: Host and Origin checks, the token, security headers (see the module)."""

    def __init__(self, app: Any, token: str | None, hosts: HostCheck | None = None) -> None:
        self.app, self.token = app, token
        self.hosts = hosts or HostCheck()
        self._cookie = cookie_value(token) if token is not None else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if not self.hosts.allowed(headers.get(b"host")):
            await self._refuse(scope, send, 400, self.hosts.refusal(headers.get(b"host")))
            return
        if kind == "websocket" and b"origin" in headers:
            await self._refuse(scope, send, 403, "websocket requests from web pages are refused")
            return
        if self.token is not None and not self._authorized(scope):
            qs = scope.get("query_string", b"").decode("latin-1")
            pairs = parse_qsl(qs, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")
            given = [v for k, v in pairs if k == "token"]
            if kind == "http" and len(given) == 1 and same_secret(given[0], self.token):
                rest = urlencode([(k, v) for k, v in pairs if k != "token"], encoding="utf-8",
                                 errors="surrogateescape")
                loc = local_path(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape"))
                await self._send(send, 303, b"", [
                    (b"location", (loc + ("?" + rest if rest else "")).encode("latin-1")),
                    (b"set-cookie", f"{COOKIE}={self._cookie}; HttpOnly; SameSite=Strict; Path=/".encode())])
                return
            await self._refuse(scope, send, 401, "this dashboard needs its access token: open the URL "
                                                 "'groundswell serve' printed (…?token=…) or send "
                                                 "'Authorization: Bearer TOKEN'")
            return

        async def send_with_headers(msg: Any) -> None:
            if msg["type"] == "http.response.start":
                msg = {**msg, "headers": list(msg.get("headers", [])) + SECURITY_HEADERS}
            await send(msg)

        await self.app(scope, receive, send_with_headers if kind == "http" else send)

    def _authorized(self, scope: Any) -> bool:
        assert self.token is not None and self._cookie is not None
        for k, v in scope.get("headers", []):
            if k == b"authorization":
                scheme, _, given = v.partition(b" ")
                if scheme.lower() == b"bearer" and same_secret(given.strip(), self.token):
                    return True
            elif k == b"cookie":
                for part in v.split(b";"):
                    name, _, val = part.strip().partition(b"=")
                    if name == COOKIE.encode() and same_secret(val, self._cookie):
                        return True
        return False

    async def _refuse(self, scope: Any, send: Any, status: int, message: str) -> None:
        if scope["type"] == "websocket":
            # before accepting: the server answers the handshake with a 403
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        body = json.dumps({"error": message, "status": status}).encode()
        await self._send(send, status, body, [(b"content-type", b"application/json")])

    @staticmethod
    async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": headers + [(b"content-length", str(len(body)).encode())] + SECURITY_HEADERS})
        await send({"type": "http.response.body", "body": body})


def capped(slots: Slots, make: Callable[[], Any], refused: Callable[[], Any]) -> Any:
    """An ASGI response that holds one of ``slots`` while it streams ``make()``, or ``refused()`` (a 503)."""
    if not slots.take():
        return refused()
    try:
        response = make()
    except BaseException:
        slots.give_back()
        raise

    async def run(scope: Any, receive: Any, send: Any) -> None:
        try:
            await response(scope, receive, send)
        finally:
            slots.give_back()
    return run
