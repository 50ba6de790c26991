"""Property tests of the API readers on mutated real responses: no crash, no good record lost."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from groundswell.errors import RecordError
from groundswell.formats import bluesky_api, envelope, mastodon_api
from groundswell.formats.base import ListSink

from ..conftest import shared
from ..fuzz import strategies as S

TOLERATED = (RecordError, KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError)
FUZZ = settings(max_examples=60, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WHEN = datetime(2025, 7, 4, 8, 49, 25)

SEARCH = json.loads(shared("bluesky-api-atrrr/app.bsky.feed.searchPosts_bb16d.json").read_text())["posts"][:8]
THREAD = json.loads(shared("bluesky-api-atrrr/app.bsky.feed.getPostThread_72827.json").read_text())
STATUSES = json.loads(shared("mastodon-api-rtoot/handle_params_max_id.0.json").read_text())["body"][:8]


def _bsky(body: Any) -> dict[str, Any]:
    return envelope.wrap("bluesky", "app.bsky.feed.searchPosts", body, fetched_at=WHEN, server="x")


def _masto(body: Any) -> dict[str, Any]:
    return envelope.wrap("mastodon", "timelines/tag", body, fetched_at=WHEN, server="mastodon.social")


@FUZZ
@given(data=st.data())
def test_bluesky_reader_never_crashes(data: st.DataObject) -> None:
    obj = data.draw(st.sampled_from([_bsky({"posts": SEARCH}), _bsky(THREAD), {"posts": SEARCH}, THREAD]))
    bad = data.draw(st.one_of(S.mutated(obj), S.json_values))
    try:
        bluesky_api.parse(bad, ListSink())
    except TOLERATED:
        pass


@FUZZ
@given(data=st.data())
def test_mastodon_reader_never_crashes(data: st.DataObject) -> None:
    bad = data.draw(st.one_of(S.mutated(_masto(STATUSES)), S.json_values))
    try:
        mastodon_api.parse(bad, ListSink())
    except TOLERATED:
        pass


@FUZZ
@given(data=st.data())
def test_one_broken_post_loses_no_other(data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(SEARCH) - 1))
    posts = list(SEARCH)
    posts[i] = data.draw(S.mutated(posts[i]))
    sink = ListSink()
    bluesky_api.parse(_bsky({"posts": posts}), sink)
    got = {p["id"] for p in sink.posts}
    assert {p["uri"] for j, p in enumerate(SEARCH) if j != i} <= got


@FUZZ
@given(data=st.data())
def test_one_broken_status_loses_no_other(data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(STATUSES) - 1))
    statuses = list(STATUSES)
    statuses[i] = data.draw(S.mutated(statuses[i]))
    sink = ListSink()
    mastodon_api.parse(_masto(statuses), sink)
    got = {p["id"] for p in sink.posts}
    assert {s["uri"] for j, s in enumerate(STATUSES) if j != i} <= got
