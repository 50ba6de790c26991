"""Progress bars for long commands, on stderr, drawn by tqdm.

The one place commands get a bar from (ingest, export, classify, ...). Library
code never draws: it takes a callback (``on_progress``) and the command
passes :meth:`Bar.to`. A bar shows the percentage and the time left where the
size is known, the rate otherwise; it draws only when stderr is a terminal,
and never with ``--quiet`` (the commands print their one-line summary anyway).
Models: sqlite-utils ``utils.progressbar``, minet ``cli/loading_bar.py``.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any

__all__ = ["Bar", "bar", "enabled"]


def enabled(quiet: bool = False) -> bool:
    """Draw at all? Only on a terminal, without --quiet (``GROUNDSWELL_PROGRESS=1`` forces it)."""
    if quiet:
        return False
    if os.environ.get("GROUNDSWELL_PROGRESS") == "1":
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Bar:
    """One bar: :meth:`to` sets how far (absolute), :meth:`add` adds; a context manager."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "it", *, bytes_: bool = False,
                 quiet: bool = False) -> None:
        self._bar: Any = None
        self._n = 0
        if not enabled(quiet):
            return
        from tqdm import tqdm

        self._bar = tqdm(total=total if total else None, desc=desc, unit="B" if bytes_ else unit,
                         unit_scale=bytes_, unit_divisor=1024 if bytes_ else 1000, file=sys.stderr,
                         leave=False, dynamic_ncols=True, mininterval=0.25, smoothing=0.1)

    @property
    def drawing(self) -> bool:
        return self._bar is not None

    def to(self, done: int, total: int | None = None, note: str | None = None) -> None:
        """Callback form: ``done`` so far (of ``total``, when it became known)."""
        if self._bar is None:
            return
        if total and self._bar.total != total:
            self._bar.total = total
        step = done - self._n
        if step > 0:
            self._bar.update(step)
            self._n = done
        if note is not None:
            self._bar.set_postfix_str(note, refresh=False)

    def add(self, n: int) -> None:
        self.to(self._n + n)

    def close(self) -> None:
        if self._bar is not None:
            # the last state is drawn even when it came within tqdm's minimum interval of the one before
            # (a small file is read between two redraws: its bar would end at 0%)
            self._bar.refresh()
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def bar(desc: str, total: int | None = None, unit: str = "it", *, bytes_: bool = False,
        quiet: bool = False) -> Bar:
    """A :class:`Bar` (silent when not on a terminal or ``quiet``)."""
    return Bar(desc, total, unit, bytes_=bytes_, quiet=quiet)
