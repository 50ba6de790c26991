"""The HTTP client every collector uses: retries, backoff, rate limits, bounded concurrency.

A good citizen on someone else's server:

* **Says who it is.** Every request carries ``User-Agent: groundswell/VERSION
  (hashtag-movement research; collect)``.
* **Obeys rate limits.** After each response it reads the server's budget
  from the headers (Bluesky: ``ratelimit-remaining`` / ``ratelimit-reset``,
  epoch seconds; Mastodon: ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``,
  an ISO time; a small reset number is taken as seconds from now, as in the
  IETF draft). Once the budget left is below the number of requests that may
  be in flight, the next request to that host waits until the reset, measured
  on the server's own clock (its ``Date`` header) when it sends one.
* **Waits when told.** A 429 waits for ``Retry-After`` (seconds or an HTTP
  date), else for the reset, else backs off; then it tries again (at most
  ``max_429`` times in a row).
* **Retries what is worth retrying.** 5xx answers, timeouts, dropped
  connections and 2xx bodies that are not JSON are tried again after an
  exponential backoff with jitter (``backoff`` x 2^n, at most ``max_backoff``
  seconds), ``retries`` times; then :class:`ServerError` (or
  :class:`MalformedResponse`) says what failed and that a rerun resumes.
* **Keeps credentials safe.** A token is sent only over https: asking to send
  one over plain http raises :class:`~groundswell.errors.UsageError`. URLs in
  messages have no query string.
* **Bounded.** At most ``concurrency`` requests are in flight at once.

Waits are reported through ``on_wait(reason, seconds)``, never printed. The
clock (``now``, ``sleep``) and the transport are injectable, so tests run
against recorded responses (httpx's ``MockTransport``) without sleeping.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from groundswell import __version__
from groundswell.errors import GroundswellError, UsageError

__all__ = [
    "USER_AGENT",
    "Clock",
    "SystemClock",
    "Reply",
    "Client",
    "CollectError",
    "ServerError",
    "MalformedResponse",
    "Refused",
    "AuthError",
    "Cancelled",
    "redact",
]

USER_AGENT = f"groundswell/{__version__} (hashtag-movement research; collect)"

RETRY_STATUSES = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})


class CollectError(GroundswellError):
    """A request failed for good (the message says what to do)."""


class ServerError(CollectError):
    """The server kept failing (5xx, timeouts, dropped connections) after every retry."""


class MalformedResponse(CollectError):
    """A 2xx answer whose body is not JSON, after every retry."""


class Cancelled(CollectError):
    """The client was closed while a request waited (Ctrl-C)."""


class Refused(CollectError):
    """The server refused this request (a 4xx other than 429)."""

    def __init__(self, message: str, status: int, error: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error  # the API's error name (XRPC 'error', Mastodon 'error'), when it gives one


class AuthError(Refused):
    """Credentials were refused, or are needed."""

    exit_code = 2


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock; :meth:`interrupt` ends every sleep at once (Ctrl-C)."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if self._stop.wait(max(0.0, seconds)):
            raise Cancelled("stopped while waiting")

    def interrupt(self) -> None:
        self._stop.set()


def redact(url: str) -> str:
    """A URL without credentials or query string (for messages)."""
    p = urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host = f"{host}:{p.port}"
    return urlunsplit((p.scheme, host, p.path, "", ""))


@dataclass
class Reply:
    """A decoded JSON answer."""

    status: int
    headers: httpx.Headers
    body: Any
    url: str          # the full request URL (query included, never a credential)
    fetched_at: datetime  # naive UTC, on our clock
    nbytes: int


class _Limits:
    """What each host's rate-limit headers say is left."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.left: dict[str, tuple[int, float]] = {}  # host -> (remaining, reset as epoch seconds on our clock)

    def note(self, host: str, headers: httpx.Headers, now: float) -> None:
        remaining = headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining")
        reset = headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            left = int(float(remaining))
        except ValueError:
            return
        at = _reset_time(reset, headers.get("date"), now)
        if at is None:
            return
        with self.lock:
            self.left[host] = (left, at)

    def due(self, host: str, reserve: int, now: float) -> float:
        """Seconds to wait before the next request to ``host`` (0: go)."""
        with self.lock:
            left, at = self.left.get(host, (reserve + 1, 0.0))
            if left >= reserve or at <= now:
                return 0.0
            # the wait is taken: the next caller sees a fresh budget only from the next response
            self.left[host] = (reserve, at)
            return at - now


def _reset_time(value: str, date: str | None, now: float) -> float | None:
    """When a rate-limit window resets, on our clock (epoch seconds)."""
    value = value.strip()
    server_now = now
    if date:
        try:
            server_now = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            server_now = now
    try:
        n = float(value)
    except ValueError:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return now + (dt.timestamp() - server_now)
    if n > 1e9:  # epoch seconds (Bluesky)
        return now + (n - server_now)
    return now + n  # seconds from now (IETF RateLimit-Reset)


def _retry_after(value: str | None, date: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        at = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    server_now = now
    if date:
        try:
            server_now = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return max(0.0, at - server_now)


def api_error(body: Any) -> tuple[str | None, str | None]:
    """(error name, message) of an error body: XRPC ``{"error", "message"}``, Mastodon ``{"error"}``."""
    if not isinstance(body, dict):
        return None, None
    err, msg = body.get("error"), body.get("message") or body.get("error_description")
    return (_printable(err)[:80] if isinstance(err, str) else None,
            _printable(msg)[:160] if isinstance(msg, str) else None)


def _printable(text: str) -> str:
    """The server's words without control characters (they could drive the terminal)."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


class Client:
    """One HTTP client for a collection (thread-safe; see the module docstring)."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None, clock: Clock | None = None,
                 timeout: float = 30.0, retries: int = 5, max_429: int = 10, backoff: float = 1.0,
                 max_backoff: float = 120.0, max_wait: float = 3600.0, concurrency: int = 4,
                 on_wait: Callable[[str, float], None] | None = None, rng: random.Random | None = None,
                 user_agent: str = USER_AGENT) -> None:
        if concurrency < 1:
            raise UsageError("concurrency must be at least 1")
        self.clock: Clock = clock or SystemClock()
        self.retries, self.max_429 = retries, max_429
        self.backoff, self.max_backoff, self.max_wait = backoff, max_backoff, max_wait
        self.concurrency = concurrency
        self.on_wait = on_wait
        self.rng = rng or random.Random()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._limits = _Limits()
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False,
                                  headers={"User-Agent": user_agent, "Accept": "application/json"})
        self.requests = 0
        self.waits = 0
        self.waited = 0.0
        self._count_lock = threading.Lock()
        self._aborted = False

    def close(self) -> None:
        self._http.close()

    def abort(self) -> None:
        """End every wait at once and close the connections (requests still running fail fast)."""
        interrupt = getattr(self.clock, "interrupt", None)
        if interrupt is not None:
            interrupt()
        self._aborted = True
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------
    def get(self, url: str, params: Any = None, *, token: str | None = None) -> Reply:
        return self.request("GET", url, params=params, token=token)

    def post(self, url: str, json: Any = None, *, token: str | None = None) -> Reply:
        return self.request("POST", url, json=json, token=token)

    def request(self, method: str, url: str, *, params: Any = None, json: Any = None,
                token: str | None = None) -> Reply:
        """Send one request, retrying as the module docstring says; a decoded 2xx :class:`Reply`."""
        parts = urlsplit(url)
        if token is not None and parts.scheme != "https":
            raise UsageError(f"refusing to send a token to {redact(url)} over plain {parts.scheme or 'http'}: "
                             "use the https:// address")
        host = parts.netloc
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        label = redact(url)
        failures = limited = 0
        started = self.clock.now()
        last = ""
        while True:
            if self._aborted:
                raise Cancelled("stopped")
            due = self._limits.due(host, self.concurrency, self.clock.now())
            if due > 0:
                self._wait(f"{host}: rate limit reached, waiting for its reset", due)
            with self._slots:
                try:
                    r = self._http.request(method, url, params=params, json=json, headers=headers)
                    content = r.content
                except (httpx.TimeoutException, httpx.TransportError) as e:
                    if self._aborted:
                        raise Cancelled("stopped") from None
                    r, content = None, b""
                    last = type(e).__name__
                except RuntimeError:
                    if self._aborted:  # the client was closed under this request
                        raise Cancelled("stopped") from None
                    raise
            with self._count_lock:
                self.requests += 1
            now = self.clock.now()
            if r is not None:
                self._limits.note(host, r.headers, now)
            if r is None or r.status_code in RETRY_STATUSES:
                failures += 1
                if r is not None:
                    last = f"HTTP {r.status_code}"
                if failures > self.retries:
                    raise ServerError(f"{label}: {last} ({failures} tries in {now - started:.0f} s); the server "
                                      "is failing: try again later (a rerun resumes where this one stopped)")
                after = None if r is None else _retry_after(r.headers.get("retry-after"), r.headers.get("date"), now)
                self._wait(f"{host}: {last}, try {failures + 1} of {self.retries + 1}",
                           after if after is not None else self._backoff(failures))
                continue
            if r.status_code == 429:
                limited += 1
                if limited > self.max_429:
                    raise ServerError(f"{label}: still rate limited (HTTP 429) after {limited} waits; "
                                      "try again later (a rerun resumes where this one stopped)")
                after = _retry_after(r.headers.get("retry-after"), r.headers.get("date"), now)
                if after is None:
                    reset = self._limits.left.get(host)
                    after = reset[1] - now if reset and reset[1] > now else self._backoff(limited)
                self._wait(f"{host}: HTTP 429 (rate limited)", after)
                continue
            body: Any = None
            if content:
                try:
                    body = orjson.loads(content)
                except orjson.JSONDecodeError:
                    body = _NOT_JSON
            if r.status_code >= 400:
                raise self._refused(label, r.status_code, body)
            if body is _NOT_JSON:
                failures += 1
                last = "a body that is not JSON"
                if failures > self.retries:
                    raise MalformedResponse(f"{label}: answered {failures} times with a body that is not JSON; "
                                            "try again later (a rerun resumes where this one stopped)")
                self._wait(f"{host}: {last}, try {failures + 1} of {self.retries + 1}", self._backoff(failures))
                continue
            fetched = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
            return Reply(r.status_code, r.headers, body, str(r.request.url), fetched, len(content))

    def _refused(self, label: str, status: int, body: Any) -> Refused:
        err, msg = api_error(body if body is not _NOT_JSON else None)
        what = f"{label}: HTTP {status}" + (f" {err}" if err else "") + (f": {msg}" if msg and msg != err else "")
        if status in (401, 403):
            return AuthError(what, status, err)
        return Refused(what, status, err)

    def _backoff(self, n: int) -> float:
        base = min(self.max_backoff, self.backoff * 2.0 ** (n - 1))
        return float(base * (0.5 + self.rng.random()))

    def _wait(self, reason: str, seconds: float) -> None:
        if seconds > self.max_wait:
            raise ServerError(f"{reason}: asked to wait {seconds:,.0f} s, more than the {self.max_wait:,.0f} s "
                              "allowed; try again later")
        with self._count_lock:
            self.waits += 1
            self.waited += seconds
        if self.on_wait is not None:
            self.on_wait(reason, seconds)
        self.clock.sleep(seconds)


_NOT_JSON = object()
