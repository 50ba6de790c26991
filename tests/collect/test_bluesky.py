"""collect bluesky against the stand-in AppView/PDS answering from real recorded responses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from groundswell.collect import Session, collect_bluesky, handoff_time
from groundswell.collect.bluesky import TOPUP_MARGIN
from groundswell.collect.http import AuthError
from groundswell.errors import UsageError
from groundswell.store import open_store

from ..conftest import shared
from .conftest import make_client, snapshot
from .standins import BlueskyStandIn, FakeClock, _tags

ANCHOR = "at://did:plc:ntd53albt5ffa4rgervvgibd/app.bsky.feed.post/3kbi55xm6u62v"  # #rstats, thread + reposts recorded
SEARCH = "app.bsky.feed.searchPosts"


def rstats(bs: BlueskyStandIn) -> set[str]:
    """What the stand-in holds for #rstats: the recorded post views with the tag (a facet, or the
    record's ``tags`` field, as the real ``tag`` parameter matches)."""
    return {u for u, v in bs.pool.items() if "rstats" in _tags(v)}


def movement(store: Any) -> set[str]:
    """The posts a search stored (tests without expansions: every full post that is not a repost)."""
    rows = store.sql("SELECT id FROM posts WHERE NOT is_reference AND kind <> 'repost'").to_pylist()
    return {r["id"] for r in rows}


def run(store: Any, bs: BlueskyStandIn, clock: FakeClock, **kw: Any) -> Any:
    client = make_client(bs, clock, concurrency=kw.pop("concurrency", 4))
    try:
        return collect_bluesky(store, kw.pop("tags", ["rstats"]), client=client, **kw)
    finally:
        client.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bs(clock: FakeClock) -> BlueskyStandIn:
    return BlueskyStandIn(clock)


def test_pages_to_the_end(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    want = rstats(bs)
    assert len(want) == 104
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock)
        assert movement(store) == want
        assert s.ok and s.queries[0].complete and s.movement_posts == 104
    searches = [q for m, q, _ in bs.log if m == SEARCH]
    assert len(searches) == 4  # 30 a page at the stand-in
    assert [q.get("cursor", [None])[0] for q in searches] == [None, "30", "60", "90"]
    assert all(q["q"] == ["#rstats"] and q["tag"] == ["rstats"] and q["sort"] == ["latest"] for q in searches)


def test_limit_is_exact_and_a_rerun_goes_on(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock, limit=45)
        assert len(movement(store)) == 45
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 45
        assert s.queries[0].stopped == "limit" and s.movement_posts == 45
        s = run(store, bs, clock, limit=1000)
        assert movement(store) == rstats(bs)
        assert s.queries[0].complete


def test_ctrl_c_between_pages_then_resume_gives_the_uninterrupted_store(tmp_path: Path) -> None:
    clock_a = FakeClock()
    with open_store(tmp_path / "a.duckdb") as store:
        run(store, BlueskyStandIn(clock_a), clock_a)
        whole = snapshot(store)
    clock = FakeClock()
    bs = BlueskyStandIn(clock)
    pages = []

    def stop_after_two(p: Any) -> None:
        pages.append(p.pages)
        if p.pages == 2:
            raise KeyboardInterrupt

    with open_store(tmp_path / "b.duckdb") as store:
        s = run(store, bs, clock, on_progress=stop_after_two, flush_seconds=0)
        assert s.interrupted and not s.ok and s.queries[0].stopped == "interrupted"
        assert len(movement(store)) == 60
        st = json.loads(store.meta("collect:bluesky:search:#rstats::"))
        assert st["cursor"] == "60" and not st["done"]
        s = run(store, bs, clock)
        assert s.ok and s.queries[0].pages == 2
        assert snapshot(store) == whole
    searches = [q.get("cursor", [None])[0] for m, q, _ in bs.log if m == SEARCH]
    assert searches == [None, "30", "60", "90"]  # no page asked twice


def test_a_crash_inside_a_write_leaves_the_last_whole_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows and cursor are one transaction: a write that dies stores neither."""
    from groundswell.store.duck import Store

    clock_a = FakeClock()
    with open_store(tmp_path / "a.duckdb") as store:
        run(store, BlueskyStandIn(clock_a), clock_a)
        whole = snapshot(store)
    clock = FakeClock()
    bs = BlueskyStandIn(clock)
    real = Store.write_batch
    calls = {"n": 0}

    def dies_inside(self: Any, tables: Any, source: Any = None, meta: Any = None) -> None:
        calls["n"] += 1
        if calls["n"] >= 3:
            # the posts are written, then the process dies before COMMIT (and stays dead)
            self.con.execute("BEGIN TRANSACTION")
            self._write(tables)
            self.con.execute("ROLLBACK")
            raise RuntimeError("killed mid-transaction")
        real(self, tables, source=source, meta=meta)

    monkeypatch.setattr(Store, "write_batch", dies_inside)
    with open_store(tmp_path / "b.duckdb") as store:
        with pytest.raises(RuntimeError):
            run(store, bs, clock, flush_seconds=0)
        assert len(movement(store)) == 60
        assert json.loads(store.meta("collect:bluesky:search:#rstats::"))["cursor"] == "60"
        monkeypatch.setattr(Store, "write_batch", real)
        assert run(store, bs, clock).ok
        assert snapshot(store, drop=("metrics_observed_at",)) == {
            k: [{c: v for c, v in r.items() if c != "metrics_observed_at"} for r in rows] for k, rows in whole.items()}


def test_a_429_waits_for_retry_after(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    bs.faults.add(SEARCH, None, 429)
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock)
        assert s.ok and movement(store) == rstats(bs)
    assert 7.0 in clock.slept and s.waits == 1


def test_rate_limit_headers_are_obeyed(tmp_path: Path, clock: FakeClock) -> None:
    bs = BlueskyStandIn(clock, limit=2, window=300)
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock, concurrency=1)
        assert s.ok and movement(store) == rstats(bs)
    assert bs.window.over == 0  # never past the budget: no 429 was needed
    assert len(clock.slept) == 1 and 290 < clock.slept[0] <= 300


def test_a_500_is_retried(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    bs.faults.add(SEARCH, None, 500, 502)
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock)
        assert s.ok and movement(store) == rstats(bs)
    assert len(clock.slept) == 2


def test_a_failing_server_stops_with_a_message_and_a_rerun_finishes(tmp_path: Path, bs: BlueskyStandIn,
                                                                     clock: FakeClock) -> None:
    bs.faults.add(SEARCH, None, *([500] * 6))
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock)
        assert not s.ok and "HTTP 500" in s.errors[0] and "6 tries" in s.errors[0]
        assert len(movement(store)) == 30
        assert any("run the same command again" in line for line in s.lines())
        s = run(store, bs, clock)
        assert s.ok and movement(store) == rstats(bs)


def test_a_malformed_page_is_a_reject_and_loses_nothing(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    bs.faults.add(SEARCH, None, *(["malformed"] * 6))
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock)
        assert not s.ok and "not JSON" in s.errors[0]
        assert len(movement(store)) == 30
        rejects = store.sql("SELECT source_file, reason FROM rejects").to_pylist()
        assert rejects == [{"source_file": "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts",
                            "reason": "not valid JSON"}]
        s = run(store, bs, clock)
        assert s.ok and movement(store) == rstats(bs)


def test_a_page_without_posts_is_refused_not_taken_for_the_end(tmp_path: Path, bs: BlueskyStandIn,
                                                                clock: FakeClock) -> None:
    original = bs._searchPosts
    calls = {"n": 0}

    def odd(q: Any) -> Any:
        calls["n"] += 1
        return (200, {"postz": []}) if calls["n"] == 2 else original(q)

    bs._searchPosts = odd  # type: ignore[method-assign]
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock)
        assert not s.ok and not s.queries[0].complete
        s = run(store, bs, clock)
        assert s.ok and movement(store) == rstats(bs)


def test_threads_reposts_quotes_profiles_and_follows(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    index = json.loads(shared("bluesky-api-atrrr/index.json").read_text())
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, bs, clock, threads=True, reposts=True, quotes=True, profiles=True, followers=3)
        assert s.ok, s.errors
        # the recorded thread of the anchor: its 4 posts, one conversation
        thread = store.sql("SELECT id FROM posts WHERE conversation_id = ? AND NOT is_reference",
                           [ANCHOR]).to_pylist()
        assert len(thread) == index["app.bsky.feed.getPostThread_72827.json"]["counts"][
            "thread_posts_below_and_incl_anchor"]
        # the recorded reposters of the anchor
        reposts = store.sql("SELECT author_id, created_at FROM posts WHERE repost_of_id = ?", [ANCHOR]).to_pylist()
        assert len(reposts) == index["app.bsky.feed.getRepostedBy_95deb.json"]["counts"]["repostedBy"]
        # the anchor's author's recorded profile: follower counts, the latest observation
        prof = store.sql("SELECT followers, following, posts_count FROM accounts_latest WHERE id = ?",
                         ["did:plc:ntd53albt5ffa4rgervvgibd"]).to_pylist()[0]
        c = index["app.bsky.actor.getProfile_cf402.json"]["counts"]
        assert (prof["followers"], prof["following"], prof["posts_count"]) == (
            c["followersCount"], c["followsCount"], c["postsCount"])
        # follows: 3 actors, each paged (3 a page at the stand-in), 7 edges each
        assert store.sql("SELECT count(DISTINCT follower_id) AS a, count(*) AS n FROM follows").to_pylist() == [
            {"a": 3, "n": 21}]
        assert s.expansions["follows"]["requests"] == 9
        # a rerun has nothing left to do, and changes nothing
        before = snapshot(store, drop=("metrics_observed_at",))
        s = run(store, bs, clock, threads=True, reposts=True, quotes=True, profiles=True, followers=3)
        assert s.ok and s.queries[0].posts == 0
        assert all(c["to do"] == 0 for k, c in s.expansions.items() if k != "profiles"), s.expansions
        assert snapshot(store, drop=("metrics_observed_at",)) == before


def test_ctrl_c_among_the_threads_then_resume(tmp_path: Path) -> None:
    kw = {"threads": True, "reposts": True, "quotes": True}
    clock_a = FakeClock()
    with open_store(tmp_path / "a.duckdb") as store:
        run(store, BlueskyStandIn(clock_a), clock_a, **kw)
        whole = snapshot(store, drop=("metrics_observed_at",))
    clock = FakeClock()
    bs = BlueskyStandIn(clock)
    seen = {"threads": 0}

    def stop(p: Any) -> None:
        if p.phase == "threads":
            seen["threads"] += 1
            if seen["threads"] == 10:
                raise KeyboardInterrupt

    with open_store(tmp_path / "b.duckdb") as store:
        s = run(store, bs, clock, on_progress=stop, **kw)
        assert s.interrupted and "reposts" not in s.expansions
        s = run(store, bs, clock, **kw)
        assert s.ok and 0 < s.expansions["threads"]["to do"] < 28
        # the same rows; only where each was first read differs (the rerun's pages are numbered on)
        got = snapshot(store, drop=("metrics_observed_at", "source_line"))
    assert got == {k: [{c: v for c, v in r.items() if c != "source_line"} for r in rows] for k, rows in whole.items()}


def test_a_post_that_is_gone_is_refused_once(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        run(store, bs, clock)
        gone = sorted(movement(store))[0]
        store.con.execute("UPDATE posts SET reply_count = 3 WHERE id = ?", [gone])
        del bs.pool[gone]
        bs.threads.pop(gone, None)
        s = run(store, bs, clock, threads=True)
        assert s.refused["HTTP 400 NotFound"] == 1 and s.ok
        s = run(store, bs, clock, threads=True)
        assert s.expansions["threads"]["to do"] == 0


def test_concurrency_does_not_change_the_store(tmp_path: Path) -> None:
    got = []
    for n in (1, 4):
        clock = FakeClock()
        with open_store(tmp_path / f"c{n}.duckdb") as store:
            run(store, BlueskyStandIn(clock), clock, threads=True, reposts=True, quotes=True, concurrency=n)
            got.append(snapshot(store, drop=("metrics_observed_at", "observed_at")))
    assert got[0] == got[1]


def test_session_login_expiry_refresh_and_relogin(tmp_path: Path, clock: FakeClock) -> None:
    bs = BlueskyStandIn(clock, accounts={"me.test": "app-pass"}, require_session=True)
    client = make_client(bs, clock)
    session = Session(client, "me.test", "app-pass", "https://pds.example")
    bs.faults.add(SEARCH, None, "expired")
    with open_store(tmp_path / "s.duckdb") as store:
        s = collect_bluesky(store, ["rstats"], client=client, session=session)
        assert s.ok and movement(store) == rstats(bs)
        assert (bs.sessions, bs.refreshes, session.refreshes) == (1, 1, 1)
        auths = [a for m, _, a in bs.log if m == SEARCH]
        assert auths[0] == "Bearer access-1" and auths[-1] == "Bearer access-2"
        # the access token expires and the refresh token is spent too: a new session
        bs.faults.add(SEARCH, "expired")
        bs.refresh = "spent"
        store.con.execute("DELETE FROM meta WHERE key LIKE 'collect:bluesky:search:%'")
        s = collect_bluesky(store, ["rstats"], client=client, session=session)
        assert s.ok and bs.sessions == 2
    client.close()


def test_a_refused_password_is_a_one_line_auth_error(tmp_path: Path, clock: FakeClock) -> None:
    bs = BlueskyStandIn(clock, accounts={"me.test": "app-pass"}, require_session=True)
    client = make_client(bs, clock)
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(AuthError) as e:
            collect_bluesky(store, ["rstats"], client=client, session=Session(client, "me.test", "wrong",
                                                                              "https://pds.example"))
    assert "BSKY_APP_PASSWORD" in str(e.value) and "wrong" not in str(e.value) and e.value.exit_code == 2


def test_the_app_password_never_goes_over_plain_http(clock: FakeClock) -> None:
    bs = BlueskyStandIn(clock)
    with pytest.raises(UsageError):
        Session(make_client(bs, clock), "me.test", "app-pass", "http://pds.example")
    assert bs.log == []


def test_the_archive_ingests_to_the_same_store(tmp_path: Path, cli: Any, bs: BlueskyStandIn, clock: FakeClock) -> None:
    archive = str(tmp_path / "archive")
    with open_store(tmp_path / "c.duckdb") as store:
        s = run(store, bs, clock, threads=True, reposts=True, quotes=True, profiles=True, followers=2,
                archive=archive)
        assert s.ok and s.archive == [f"{archive}/bluesky-api.jsonl"]
        collected = snapshot(store)
    r = cli("ingest", archive, "--db", tmp_path / "i.duckdb", "--json")
    assert r.code == 0, r.err
    with open_store(tmp_path / "i.duckdb", read_only=True) as store:
        assert snapshot(store) == collected
    assert collected["posts"] and collected["follows"] and collected["accounts"]


def test_an_interrupted_archive_is_cut_back_to_what_the_store_holds(tmp_path: Path, bs: BlueskyStandIn,
                                                                    clock: FakeClock, cli: Any) -> None:
    archive = tmp_path / "archive"
    with open_store(tmp_path / "c.duckdb") as store:
        run(store, bs, clock, archive=str(archive), limit=30)
        with open(archive / "bluesky-api.jsonl", "ab") as f:
            f.write(b'{"half a line an interrupted run wrote')  # after its last commit
        s = run(store, bs, clock, archive=str(archive))
        assert s.ok
        collected = snapshot(store)
    assert len((archive / "bluesky-api.jsonl").read_bytes().splitlines()) == 4
    r = cli("ingest", str(archive), "--db", tmp_path / "i.duckdb")
    assert r.code == 0, r.err
    with open_store(tmp_path / "i.duckdb", read_only=True) as store:
        assert snapshot(store) == collected


def test_a_rerun_collects_what_is_new_since_and_hands_off_to_follow(tmp_path: Path, bs: BlueskyStandIn,
                                                                    clock: FakeClock) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        run(store, bs, clock)
        st = json.loads(store.meta("collect:bluesky:search:#rstats::"))
        top = st["covered"]
        # later, a new #rstats post (a copy of a recorded view, posted after the first run)
        clock.advance(3600)
        newest = max(bs.pool.values(), key=lambda v: v["indexedAt"] if "rstats" in _tags(v) else "")
        new = copy.deepcopy(newest)
        new["uri"] = newest["uri"][:-3] + "zzz"
        new["indexedAt"] = "2025-07-17T20:30:00.000Z"
        bs.pool[new["uri"]] = new
        n = len(bs.log)
        s = run(store, bs, clock)
        assert s.ok and s.queries[0].posts == 1 and new["uri"] in movement(store)
        q = [q for m, q, _ in bs.log[n:] if m == SEARCH]
        assert len(q) == 1 and q[0]["since"][0] < top  # from where the last run began, less a margin
        st = json.loads(store.meta("collect:bluesky:search:#rstats::"))
        handoff = handoff_time(store, ["rstats"])
    from groundswell.formats.base import iso_time

    assert handoff == iso_time(st["covered"]) - TOPUP_MARGIN
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(UsageError):
            handoff_time(store, ["metoo"])


def test_bad_options_are_usage_errors(tmp_path: Path, bs: BlueskyStandIn, clock: FakeClock) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        for kw in ({"since": "yesterday"}, {"since": "2025-02-01", "until": "2025-01-01"}, {"tags": ["two words"]},
                   {"tags": []}, {"limit": 0}, {"api": "ftp://x"}):
            with pytest.raises(UsageError):
                run(store, bs, clock, **kw)
    assert bs.log == []
