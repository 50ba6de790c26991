"""Text for a terminal: values from the data, with the control characters dropped.

A hashtag, handle, file name or reject reason comes from the data, and the
data may be hostile: ``#metoo\\x1b]0;pwned\\x07`` retitles a terminal window,
``\\x1b[2J`` clears it, an OSC 52 sequence writes the clipboard, and the
Unicode bidirectional overrides make text read in another order than it is
stored ("Trojan Source", CVE-2021-42574). Everything the command line prints
for a person to read goes through :func:`clean` (one value on one line) or
:func:`clean_text` (a block of lines). JSON output needs neither: ``json.dumps``
escapes control characters. The store keeps the values as they were.

Dropped: the C0 controls (U+0000-U+001F, so ESC and BEL too), DEL, the C1
controls (U+0080-U+009F, CSI among them) and the bidirectional embeddings,
overrides and isolates (U+202A-U+202E, U+2066-U+2069). Kept: everything
printable, and the joiners (U+200C, U+200D) that Persian, Indic scripts and
emoji sequences need.
"""

from __future__ import annotations

import re

__all__ = ["clean", "clean_text"]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """``str(value)`` without control characters (newlines and tabs too: one value, one line)."""
    return _CONTROL.sub("", str(value))


def clean_text(text: str) -> str:
    """``text`` without control characters, its newlines and tabs kept (a block of lines)."""
    return _CONTROL_BUT_LINES.sub("", text)
