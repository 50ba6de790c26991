"""Every one-value change of a real record is read or rejected, never a crash.

A systematic companion to the random fuzzing in ``test_parsers``: records
from ``../shared/data`` (each platform's real output), and every value in
them (the first two items of each list) replaced in turn by a value of
another JSON type. A parser may reject the record or a part of it
(``RecordError``); any other exception would stop an ingest with an internal
error. twarc2 pages are also tried without ``__twarc`` (pages saved without
twarc), where accounts are observed at their tweets' times: that path once
crashed on a user that was not an object.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from groundswell.errors import RecordError
from groundswell.formats import detect, envelope
from groundswell.formats.base import ListSink

from ..conftest import shared

OTHERS: list[Any] = [5, "x", None, [], {}, [5], True]

# (format, file, how many of its records)
INPUTS = [
    ("twitter-v2", "twarc-network/test-data/tweets.jsonl", 1),
    ("twitter-v2", "twarc-csv/test-data/counts.jsonl", 1),
    ("twitter-v2", "twarc-csv/test-data/users.jsonl", 1),
    ("twitter-v2", "twarc-csv/test-data/media_tweet.jsonl", 1),
    ("twitter-v2", "twarc-csv/test-data/geo_tweets.jsonl", 2),
    ("twitter-v2-flat", "twarc-csv/test-data/flat.jsonl", 2),
    ("twitter-v1", "sfm-twitter-harvester/v1.1_search_gelman_2015.jsonl", 2),
    ("mastodon", "mastodon-py/statuses.jsonl", 2),
    ("bluesky", "bluesky-jetstream/subscribe__golden_v1.jsonl", 6),
    ("bluesky-api", "bluesky-api-atrrr/app.bsky.feed.searchPosts_0e3ec.json", 1),
    ("bluesky-api", "bluesky-api-atrrr/app.bsky.feed.getPostThread_72827.json", 1),
    ("mastodon-api", "mastodon-api-rtoot/get_context_default.0.json", 1),
    ("mastodon-api", "mastodon-api-rtoot/get_timeline_hashtag_default.0.json", 1),
]
# the recorded responses as `groundswell collect` keeps them: the body in a collect envelope
ENVELOPED = {"bluesky-api": ("bluesky", None), "mastodon-api": ("mastodon", "mastodon.social")}


def _enveloped(fmt: str, rel: str, rec: Any) -> Any:
    if fmt not in ENVELOPED:
        return rec
    platform, server = ENVELOPED[fmt]
    body = rec.get("body", rec)
    if platform == "mastodon":
        method = "statuses/context" if "context" in rel else "timelines/tag"
    else:
        method = Path(rel).name.split("_")[0]  # app.bsky.feed.searchPosts
    return envelope.wrap(platform, method, body, fetched_at=datetime(2025, 7, 17), server=server)


def _records(rel: str, n: int) -> list[Any]:
    path = Path(shared(rel))
    if path.suffix == ".json":
        return [json.loads(path.read_text(encoding="utf-8"))]
    with open(path, encoding="utf-8") as f:
        return [json.loads(next(f)) for _ in range(n)]


def _trim(obj: Any, keep: int = 2) -> Any:
    """The record with every list cut to its first items (the mutations stay few)."""
    if isinstance(obj, dict):
        return {k: _trim(v, keep) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_trim(v, keep) for v in obj[:keep]]
    return obj


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _with(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(obj)
    at = out
    for step in path[:-1]:
        at = at[step]
    at[path[-1]] = value
    return out


def _variants(fmt: str, rec: Any) -> list[Any]:
    rec = _trim(rec)
    if fmt == "twitter-v2" and isinstance(rec, dict) and "__twarc" in rec:
        return [rec, {k: v for k, v in rec.items() if k != "__twarc"}]
    return [rec]


@pytest.mark.parametrize(("fmt", "rel", "n"), INPUTS, ids=[f"{f}:{Path(r).name}" for f, r, _ in INPUTS])
def test_every_value_changed_is_read_or_rejected(fmt: str, rel: str, n: int) -> None:
    parser = detect.json_format(fmt)
    tried, crashes = 0, []
    for rec in _records(rel, n):
        for variant in _variants(fmt, _enveloped(fmt, rel, rec)):
            whole = ListSink()
            parser.parse(copy.deepcopy(variant), whole)  # the record itself is read, without a reject
            assert whole.rejects == [], rel
            for path in _paths(variant):
                for value in OTHERS:
                    tried += 1
                    try:
                        parser.parse(_with(variant, path, value), ListSink())
                    except RecordError:
                        pass
                    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
                        # the path and the value put there, never the record's texts
                        crashes.append(f"{'/'.join(map(str, path))} = {value!r}: {type(exc).__name__}")
    assert tried > 100
    assert crashes == [], f"{len(crashes)} of {tried} changes crash, e.g. {crashes[:5]}"
