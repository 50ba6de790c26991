"""What the live sources share about connecting: backoff, giving up, limits, and saying why.

* **Retries are bounded.** A source that cannot be reached (refused, unknown
  host, no answer, a handshake error, an HTTP error status, or a connection
  that ends without a frame within the longest backoff) is tried again with
  exponential backoff and jitter (0.1 s doubling to 10 s by default). After
  ``retries`` such failures in a row (default 10, about 40 s) it raises
  :class:`~groundswell.errors.SourceError` with the last reason, and
  ``follow`` exits 1 with that one line. A connection that delivers a frame
  resets the count, so a long-running follower survives any number of
  separate outages, each shorter than the budget.
* **Frames are bounded.** A frame (or, for server-sent events, a line) over
  ``max_frame_bytes`` (default 16 MiB), or a zstd frame that inflates beyond
  it, is rejected, counted (``oversized``, and a row in ``rejects``) and
  skipped; the stream goes on after it. To reject a frame it must be read:
  frames up to :data:`CEILING` times the limit are read and skipped on the same
  connection; a larger one makes the websocket library close the connection
  (it never holds such a frame). The source then reconnects from its cursor;
  if the server sends that frame again :data:`OVERSIZED_REPEATS` times in a
  row, the source stops with a :class:`~groundswell.errors.SourceError`
  that says so, instead of reconnecting forever.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
from collections.abc import Callable

from groundswell.errors import SourceError

__all__ = ["Attempts", "CEILING", "MAX_FRAME_BYTES", "OVERSIZED_REPEATS", "Oversized", "RETRIES", "describe"]

MAX_FRAME_BYTES = 16 << 20
CEILING = 4
OVERSIZED_REPEATS = 3
RETRIES = 10


def describe(e: BaseException) -> str:
    """Why a connection failed, in a few words (never a token, never a frame's content)."""
    if isinstance(e, socket.gaierror):
        return "unknown host: the name does not resolve"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused: nothing listens there"
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "no answer in time"
    if isinstance(e, ssl.SSLError):
        return f"TLS error ({e.reason or type(e).__name__})"
    status = getattr(getattr(e, "response", None), "status_code", None)
    if status is not None:
        return f"HTTP {status}"
    sent = getattr(e, "sent", None)
    if getattr(sent, "code", None) == 1009:
        return "a frame over the size limit"
    if type(e).__name__.startswith("ConnectionClosed"):
        return "the server closed the connection"
    if isinstance(e, ConnectionError):
        return "the connection was reset"
    msg = str(e).splitlines()[0][:80] if str(e) else ""
    return f"{type(e).__name__}" + (f": {msg}" if msg else "")


class Attempts:
    """Consecutive failed connection attempts of one source, the backoff, and when to give up."""

    def __init__(self, label: str, backoff: tuple[float, float], retries: int | None,
                 clock: Callable[[], float] | None = None) -> None:
        if retries is not None and retries < 0:
            raise ValueError("retries must be 0 or more")
        self.label = label
        self.backoff = backoff
        self.retries = retries
        self.delay = backoff[0]
        self.failures = 0
        self.last_reason: str | None = None
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._since: float | None = None

    def delivered(self) -> None:
        """A frame arrived: the source is reachable; the count and the backoff start again."""
        self.failures = 0
        self.delay = self.backoff[0]
        self._since = None

    def failed(self, reason: str) -> None:
        """One more failed attempt; raises SourceError when the budget is spent."""
        if self._since is None:
            self._since = self._clock()
        self.failures += 1
        self.last_reason = reason
        if self.retries is not None and self.failures > self.retries:
            spent = self._clock() - self._since
            raise SourceError(f"cannot reach {self.label}: {reason} ({self.failures} attempts in {spent:.0f} s); "
                              "check the URL and the network, or give more --retries")

    def pause(self) -> float:
        """Seconds to wait before the next attempt (with jitter); the next pause doubles, up to the cap."""
        wait = self.delay * (0.75 + random.random() / 2)
        self.delay = min(self.delay * 2, self.backoff[1])
        return wait


class Oversized:
    """Frames over the ceiling that closed the connection, at the same cursor in a row."""

    def __init__(self, label: str, ceiling: int) -> None:
        self.label, self.ceiling = label, ceiling
        self.at: object = None
        self.repeats = 0

    def closed(self, cursor: object) -> None:
        """The library closed the connection on a frame over the ceiling; ``cursor``: where the source stood.

        The count goes on only while the cursor stays where it was (the same
        frame again); a source that got further starts it again."""
        self.repeats = self.repeats + 1 if cursor == self.at else 1
        self.at = cursor
        if self.repeats >= OVERSIZED_REPEATS:
            where = f"after cursor {cursor}" if cursor is not None else "at the start of the stream"
            raise SourceError(f"{self.label} sent a frame over {self.ceiling:,} bytes {where} {self.repeats} times; "
                              f"a frame that large is not read, so it cannot be skipped; --max-frame-bytes "
                              f"{self.ceiling} reads frames up to {CEILING * self.ceiling:,} bytes to skip them")
