"""Helpers for the live tests: everything on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from groundswell.live.replay import Recording, synthetic_events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def write_recording(rec: Recording, path: Path) -> Path:
    with path.open("wb") as f:
        for p in rec.payloads:
            f.write(p + b"\n")
    return path


def synthetic_file(path: Path, n: int, **kw: Any) -> tuple[Path, Recording]:
    rec = synthetic_events(n, **kw)
    return write_recording(rec, path), rec


def post_uris(rec: Recording) -> set[str]:
    import orjson

    out = set()
    for p in rec.payloads:
        ev = orjson.loads(p)
        c = ev["commit"]
        out.add(f"at://{ev['did']}/{c['collection']}/{c['rkey']}")
    return out
