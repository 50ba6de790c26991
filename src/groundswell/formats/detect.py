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
    ("twitter-lists", "groundswell.formats.twitter_lists", None),
    ("twitter-v2-flat", "groundswell.formats.twitter_v2_flat", None),
    ("twitter-v1", "groundswell.formats.twitter_v1", None),
    ("bluesky", "groundswell.formats.bluesky", None),
    ("mastodon", "groundswell.formats.mastodon", None),
    ("bluesky-api", "groundswell.formats.bluesky_api", None),
    ("mastodon-api", "groundswell.formats.mastodon_api", None),
]
CSV_FORMAT = "csv"
FOLLOWS_FORMAT = "follows"
VOLUME_CSV_FORMAT = "volume-csv"  # only with --format: a header of a time and a number says too little
# the CSV formats, and the module of each that reads it (``read(text, sink, ...)``)
CSV_READERS: dict[str, str] = {CSV_FORMAT: "groundswell.formats.csv", FOLLOWS_FORMAT: "groundswell.formats.follows",
                               VOLUME_CSV_FORMAT: "groundswell.formats.volume_csv"}

FORMAT_NAMES: tuple[str, ...] = tuple(n for n, _, _ in _JSON_FORMATS) + tuple(CSV_READERS)


def csv_reader(name: str) -> Any:
    """The module reading the CSV format ``name``."""
    return importlib.import_module(CSV_READERS[name])


def nothing_stored(name: str | None) -> str | None:
    """What to say of a file read as ``name`` when that format stores nothing by design, or None."""
    if name is None or name not in FORMAT_NAMES or name in CSV_READERS:
        return None
    try:
        return getattr(json_format(name), "NOTHING_STORED", None)
    except (ImportError, KeyError):
        return None

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
