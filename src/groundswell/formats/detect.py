"""Which format is this file in?

JSON formats are recognised from their first decoded record by each format
module's ``sniff``, in the order below (most specific first); CSV from its
header line. ``--format`` skips detection.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

# (format name, module, attribute holding the format object or None for the module)
_JSON_FORMATS: list[tuple[str, str, str | None]] = [
    ("twitter-compliance", "groundswell.formats.twitter_compliance", None),
    ("twitter-v2", "groundswell.formats.twitter_v2", None),
    ("twitter-v2-flat", "groundswell.formats.twitter_v2_flat", None),
    ("twitter-v1", "groundswell.formats.twitter_v1", None),
    ("bluesky", "groundswell.formats.bluesky", None),
    ("mastodon", "groundswell.formats.mastodon", None),
    ("bluesky-api", "groundswell.formats.bluesky_api", None),
    ("mastodon-api", "groundswell.formats.mastodon_api", None),
]
CSV_FORMAT = "csv"
FOLLOWS_FORMAT = "follows"

FORMAT_NAMES: tuple[str, ...] = tuple(n for n, _, _ in _JSON_FORMATS) + (CSV_FORMAT, FOLLOWS_FORMAT)

_cache: dict[str, Any] = {}


def json_format(name: str) -> Any:
    """The parser object (module) for a JSON format name."""
    if name in _cache:
        return _cache[name]
    for n, mod, attr in _JSON_FORMATS:
        if n == name:
            m: ModuleType = importlib.import_module(mod)
            obj = getattr(m, attr) if attr else m
            _cache[name] = obj
            return obj
    raise KeyError(name)


# formats with a DuckDB-native fast path: module with convert(con, lines, source_file)
_FAST = {"twitter-v2": "groundswell.formats.twitter_v2_fast"}


def fast_path(name: str) -> Any:
    """The fast-path module for a format, or None (set GROUNDSWELL_NO_FAST_PATH=1 to disable)."""
    import os

    mod = _FAST.get(name)
    if mod is None or os.environ.get("GROUNDSWELL_NO_FAST_PATH"):
        return None
    try:
        m = importlib.import_module(mod)
    except ImportError:
        return None
    return m if hasattr(m, "convert") else None


def available_json_formats() -> list[str]:
    out = []
    for n, _, _ in _JSON_FORMATS:
        try:
            json_format(n)
        except (ImportError, AttributeError):
            continue
        out.append(n)
    return out


def sniff_json(obj: Any) -> str | None:
    """The name of the first JSON format that claims this decoded record."""
    probe = obj
    if isinstance(obj, list):
        if not obj:
            return None
        probe = obj[0]
    for name in available_json_formats():
        try:
            if json_format(name).sniff(probe):
                return name
        except Exception:  # noqa: BLE001 - a sniff must never decide by crashing
            continue
    return None


def sniff_csv_header(header: list[str]) -> bool:
    from groundswell.formats import csv as csvfmt

    return bool(csvfmt.sniff_header(header))
