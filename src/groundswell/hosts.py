"""Which requests the servers groundswell runs on this machine answer.

``serve`` (the dashboard), ``follow --http`` (the live status endpoint) and
``replay`` (a Jetstream websocket) listen on 127.0.0.1 by default. Binding to
loopback keeps other machines out, not other web pages: a page the user
opens elsewhere can point a name it controls at 127.0.0.1 (DNS rebinding) and
read the answers as its own, or open a websocket to any local port. So:

* **Host.** A request is answered only when its ``Host`` names the address
  the server is bound to, a loopback address (127.0.0.0/8, ``::1``) or
  ``localhost``, or a name the user allowed (``serve --allow-host``). A
  rebinding page's requests carry its own name and get a 400. A server bound
  to every interface (``0.0.0.0``, ``::``) also answers any IP address
  literal: an address cannot be rebound, only a name can.
* **Origin.** A websocket request that carries an ``Origin`` comes from a web
  page (browsers always send one; ``follow`` and other programs do not), and
  is refused unless that origin was allowed.
* **Tokens** are compared in constant time as UTF-8 bytes, whatever their
  characters (:func:`same_secret`).
* **Redirects** go to a path on the same site (:func:`local_path`).

Nothing here needs a web framework; :mod:`groundswell.web.security` applies it
to the dashboard, :mod:`groundswell.live.status` and
:mod:`groundswell.live.replay` to theirs.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import threading
from collections.abc import Iterable

__all__ = ["HostCheck", "Slots", "is_loopback", "local_path", "same_secret", "split_host"]

LOOPBACK_NAMES = frozenset({"localhost"})
WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})
_HOST_CHARS = re.compile(r"[A-Za-z0-9._:\[\]-]{1,300}")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ``::1``, ``[::1]``)."""
    name = host.strip().lower().rstrip(".")
    if name in LOOPBACK_NAMES:
        return True
    ip = _ip(name)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def split_host(value: str | bytes | None) -> str | None:
    """The host name of a ``Host`` header (lower case, no port, IPv6 without brackets), or None if malformed."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    v = value.strip()
    if not _HOST_CHARS.fullmatch(v):
        return None  # browsers send names in ASCII (IDNA), so anything else is not a browser's
    if v.startswith("["):
        end = v.find("]")
        if end < 0:
            return None
        name, rest = v[1:end], v[end + 1:]
        if _ip(name) is None:
            return None
    else:
        name, sep, port = v.partition(":")
        rest = sep + port
        if ":" in port:
            return None  # a bare IPv6 address: not a valid Host
    if rest and not (rest[0] == ":" and rest[1:].isdigit() and len(rest) <= 6):
        return None
    name = name.lower().rstrip(".")
    return name or None


class HostCheck:
    """Decides whether a request's ``Host`` header is one this server answers to."""

    def __init__(self, bound: str = "127.0.0.1", allow: Iterable[str] = ()) -> None:
        self.bound = bound.strip().lower().strip("[]").rstrip(".")
        self.wildcard = bound.strip() in WILDCARDS
        self.allow = frozenset(a.strip().lower().strip("[]").rstrip(".") for a in allow if a.strip())

    def allowed(self, header: str | bytes | None) -> bool:
        name = split_host(header)
        if name is None:
            return False
        if is_loopback(name) or name in self.allow:
            return True
        if not self.wildcard:
            return name == self.bound
        return _ip(name) is not None

    def names(self) -> str:
        """The names answered, for messages."""
        out = sorted({"127.0.0.1", "localhost", "[::1]"} | ({self.bound} if not self.wildcard else set())
                     | set(self.allow))
        if self.wildcard:
            out.append("any IP address")
        return ", ".join(out)

    def refusal(self, header: str | bytes | None) -> str:
        """The one-line message of a refused request (the header shown only when it is well-formed)."""
        name = split_host(header)
        shown = f"Host {name!r}" if name else "a missing or malformed Host header"
        return (f"this server answers requests for {self.names()} only; {shown} is refused so that other web "
                "pages cannot read it (serve --allow-host NAME adds a name)")


def same_secret(given: str | bytes | None, secret: str) -> bool:
    """``given == secret`` in constant time, for any characters (compared as UTF-8 bytes)."""
    if given is None:
        return False
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, secret.encode("utf-8", "surrogateescape"))


def local_path(raw_path: str | bytes) -> str:
    """A redirect target on this site: the request's path, never ``//host`` or ``/\\host``.

    ``raw_path`` is the path as sent (still percent-encoded, so it holds no
    CR or LF); leading slashes and backslashes collapse to one slash, which
    browsers read as a path and not as another site.
    """
    if isinstance(raw_path, bytes):
        raw_path = raw_path.decode("latin-1")
    path = raw_path.split("?", 1)[0]
    path = "".join(c for c in path if 0x21 <= ord(c) < 0x7f)
    return "/" + path.lstrip("/\\")


class Slots:
    """At most ``limit`` of something at once (long-lived streams): thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.refused = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.used >= self.limit:
                self.refused += 1
                return False
            self.used += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.used = max(0, self.used - 1)
