"""collect mastodon against stand-in instances answering from the real recorded rtoot responses."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from groundswell.collect import collect_mastodon
from groundswell.collect.mastodon import Instance, instance, next_max_id, snowflake
from groundswell.errors import UsageError
from groundswell.store import open_store

from ..conftest import shared
from .conftest import make_client, snapshot
from .standins import FakeClock, MastodonStandIn, fosstodon, mastodon_social, rtoot

SOCIAL, FOSS = "mastodon.social", "fosstodon.org"
RECORDED = "109294719267373593"  # the mastodon.social status whose context and boosts were recorded


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ms(clock: FakeClock) -> MastodonStandIn:
    return MastodonStandIn(clock, {SOCIAL: mastodon_social(), FOSS: fosstodon()})


def run(store: Any, ms: MastodonStandIn, clock: FakeClock, tags: list[str], hosts: list[str], **kw: Any) -> Any:
    client = make_client(ms, clock, concurrency=kw.pop("concurrency", 4))
    tokens = kw.pop("tokens", {})
    try:
        return collect_mastodon(store, tags, [instance(f"https://{h}", tokens) for h in hosts], client=client, **kw)
    finally:
        client.close()


def uris(*names: str) -> set[str]:
    return {s["uri"] for n in names for s in rtoot(n)["body"]}


def test_the_stand_in_answers_the_recorded_requests_as_mastodon_did(ms: MastodonStandIn) -> None:
    """Its paging model, checked against the four recorded #IchBinHanna pages."""
    client = httpx.Client(transport=httpx.MockTransport(ms))
    for i in range(4):
        rec = rtoot(f"handle_params_max_id.{i}")
        r = client.get(rec["uri"])
        assert [s["id"] for s in r.json()] == [s["id"] for s in rec["body"]]
        assert next_max_id(r.headers["link"]) == next_max_id(rec["headers"]["link"])


def test_pages_by_link_max_id_to_the_end(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    index = json.loads(shared("mastodon-api-rtoot/index.json").read_text())
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL])
        got = {r["id"] for r in store.sql("SELECT id FROM posts WHERE NOT is_reference").to_pylist()}
        assert got == uris(*(f"handle_params_max_id.{i}" for i in range(4)))
        assert len(got) == 160
        replies = store.sql("SELECT count(*) AS n FROM posts WHERE kind = 'reply'").to_pylist()[0]["n"]
        assert replies == sum(index[f"handle_params_max_id.{i}.json"]["counts"]["replies"] for i in range(4)) == 57
        assert s.ok and s.queries[0].complete and s.queries[0].pages == 5 and s.movement_posts == 160
        # every status carries the server it came from (its in_reply_to_id is local to it)
        servers = store.sql("SELECT DISTINCT json_extract_string(raw, '$._server') AS s FROM posts").to_pylist()
        assert servers == [{"s": SOCIAL}]
    tag = [q for h, p, q, _ in ms.log if p.endswith("/ichbinhanna")]
    assert [q.get("max_id", [None])[0] for q in tag] == [
        None, "114630169307317488", "114347272189573465", "113958523521356248", "113755037774745875"]


def test_two_instances_one_status_once(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    """The same five #rstats statuses on two servers (different local ids, same URIs)."""
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, ms, clock, ["rstats"], [SOCIAL, FOSS], limit=None)
        n = store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"]
        assert n == 5 and s.movement_posts == 5
        assert [q.posts for q in s.queries] == [5, 0]
        assert [q.complete for q in s.queries] == [True, True]


def test_limit_counts_a_status_once_across_instances(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, ms, clock, ["ichbinhanna", "rstats"], [SOCIAL], limit=50)
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 50
        assert s.movement_posts == 50 and s.queries[0].stopped == "limit"
        s = run(store, ms, clock, ["ichbinhanna", "rstats"], [SOCIAL])
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 165


def test_ctrl_c_then_resume(tmp_path: Path) -> None:
    clock = FakeClock()
    with open_store(tmp_path / "a.duckdb") as store:
        run(store, MastodonStandIn(clock, {SOCIAL: mastodon_social()}), clock, ["ichbinhanna"], [SOCIAL])
        whole = snapshot(store)
    clock = FakeClock()
    ms = MastodonStandIn(clock, {SOCIAL: mastodon_social()})

    def stop(p: Any) -> None:
        if p.pages == 3:
            raise KeyboardInterrupt

    with open_store(tmp_path / "b.duckdb") as store:
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL], on_progress=stop)
        assert s.interrupted and s.queries[0].pages == 3
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL])
        assert s.ok and s.queries[0].pages == 2
        assert snapshot(store) == whole
    asked = [q.get("max_id", [None])[0] for h, p, q, _ in ms.log]
    assert len(asked) == len(set(asked)) == 5


def test_429_500_and_a_malformed_page(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    ms.faults.add("tag", None, 429, 500, None, "malformed")
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL])
        assert s.ok, s.errors
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 160
    assert 11.0 in clock.slept and len(clock.slept) == 3  # Retry-After, then two backoffs


def test_one_failing_instance_does_not_stop_the_others(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    ms.instances[SOCIAL].token = "needed"
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, ms, clock, ["rstats"], [SOCIAL, FOSS])
        assert not s.ok
        assert "HTTP 401" in s.errors[0] and "--token mastodon.social=TOKEN" in s.errors[0]
        assert s.queries[1].complete and s.movement_posts == 5
        s = run(store, ms, clock, ["rstats"], [SOCIAL, FOSS], tokens={SOCIAL: "needed"})
        assert s.ok
    auth = {h: a for h, p, q, a in ms.log if p.endswith("/rstats")}
    assert auth == {SOCIAL: "Bearer needed", FOSS: None}  # a token goes to its own server only


def test_tokens_only_over_https() -> None:
    with pytest.raises(UsageError) as e:
        Instance("http://mastodon.example", token="SECRET")
    assert "plain http" in str(e.value) and "SECRET" not in str(e.value)
    assert Instance("mastodon.example").base == "https://mastodon.example"
    with pytest.raises(UsageError):
        Instance("https://mastodon.example/@someone")


def test_since_and_until_become_time_based_ids(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    since, until = datetime(2025, 3, 1), datetime(2025, 6, 1)
    with open_store(tmp_path / "s.duckdb") as store:
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL], since="2025-03-01", until="2025-06-01")
        assert s.ok
        rows = store.sql("SELECT json_extract_string(raw, '$.id') AS id FROM posts WHERE NOT is_reference").to_pylist()
    ids = {r["id"] for r in rows}
    want = {s["id"] for i in range(4) for s in rtoot(f"handle_params_max_id.{i}")["body"]
            if snowflake(since) < s["id"] < snowflake(until)}
    assert ids == want and 0 < len(want) < 160
    first = next(q for h, p, q, _ in ms.log)
    assert first["since_id"] == [snowflake(since)] and first["max_id"] == [snowflake(until)]


def test_a_rerun_asks_only_for_what_is_newer(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    inst = ms.instances[SOCIAL]
    newest = rtoot("handle_params_max_id.0")["body"][:5]
    inst.tags["ichbinhanna"] = [s for s in inst.tags["ichbinhanna"] if s not in newest]
    with open_store(tmp_path / "s.duckdb") as store:
        run(store, ms, clock, ["ichbinhanna"], [SOCIAL])
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 155
        inst.add_tag("ichbinhanna", newest)  # posted since
        n = len(ms.log)
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL])
        assert s.ok and s.queries[0].posts == 5
        assert store.sql("SELECT count(*) AS n FROM posts WHERE NOT is_reference").to_pylist()[0]["n"] == 160
    later = ms.log[n:]
    assert len(later) == 1 and later[0][2]["since_id"] == [rtoot("handle_params_max_id.0")["body"][5]["id"]]


def test_contexts_and_boosts(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    index = json.loads(shared("mastodon-api-rtoot/index.json").read_text())
    with open_store(tmp_path / "s.duckdb") as store:
        run(store, ms, clock, ["ichbinhanna"], [SOCIAL])
        # the status whose context and boosts were recorded is not on a recorded tag page: put it in the
        # store as a movement post seen on mastodon.social (its counts as the recordings show them)
        # (its URI as its local replies name it)
        subject = "https://mastodon.social/users/austinkocher/statuses/" + RECORDED
        store.add_posts([{"platform": "mastodon", "id": subject, "kind": "original", "hashtags": ["ichbinhanna"],
                          "reply_count": 59, "repost_count": 40, "created_at": datetime(2022, 11, 6),
                          "raw": json.dumps({"id": RECORDED, "_server": SOCIAL})}])
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL], threads=True, reblogs=True)
        assert s.ok, s.errors
        descendants = rtoot("get_context_default.0")["body"]["descendants"]
        assert len(descendants) == index["get_context_default.0.json"]["counts"]["descendants"] == 59
        got = {r["id"] for r in store.sql("SELECT id FROM posts").to_pylist()}
        assert {d["uri"] for d in descendants} <= got
        # the direct replies point at the subject (by its URI, or by its address on the server that answered)
        direct = store.sql("SELECT count(*) AS n FROM posts WHERE reply_to_id IN (?, ?)",
                           [subject, f"https://{SOCIAL}/api/v1/statuses/{RECORDED}"]).to_pylist()[0]["n"]
        assert direct == sum(d["in_reply_to_id"] == RECORDED for d in descendants)
        boosts = store.sql("SELECT author_id FROM posts WHERE repost_of_id = ?", [subject]).to_pylist()
        assert len(boosts) == index["get_reblogged_by_default.0.json"]["counts"]["accounts"] == 40
        # the derived contexts of the #IchBinHanna statuses with replies were asked of mastodon.social
        asked = [p for h, p, q, a in ms.log if p.endswith("/context")]
        with_replies = store.sql("SELECT count(*) AS n FROM posts WHERE list_contains(hashtags, 'ichbinhanna') "
                                 "AND reply_count > 0 AND NOT is_reference").to_pylist()[0]["n"]
        assert len(asked) == with_replies
        # boosts were paged: the recorded page, then its Link's max_id (nothing more at the stand-in)
        pages = [q for h, p, q, a in ms.log if p.endswith(f"/{RECORDED}/reblogged_by")]
        assert [q.get("max_id", [None])[0] for q in pages] == [None, "109336920912856332"]
        s = run(store, ms, clock, ["ichbinhanna"], [SOCIAL], threads=True, reblogs=True)
        assert s.expansions["threads"]["to do"] == 0 and s.expansions["reblogs"]["to do"] == 0


def test_the_archive_ingests_to_the_same_store(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock, cli: Any) -> None:
    archive = str(tmp_path / "arch")
    with open_store(tmp_path / "c.duckdb") as store:
        s = run(store, ms, clock, ["ichbinhanna", "rstats"], [SOCIAL, FOSS], threads=True, reblogs=True,
                archive=archive)
        assert s.ok
        collected = snapshot(store)
    r = cli("ingest", archive, "--db", tmp_path / "i.duckdb", "--json")
    assert r.code == 0 and r.json()["files"][0]["format"] == "mastodon-api"
    with open_store(tmp_path / "i.duckdb", read_only=True) as store:
        assert snapshot(store) == collected


def test_bad_options(tmp_path: Path, ms: MastodonStandIn, clock: FakeClock) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(UsageError):
            run(store, ms, clock, ["rstats"], [SOCIAL, SOCIAL])
        with pytest.raises(UsageError):
            collect_mastodon(store, ["rstats"], [], client=make_client(ms, clock))
    assert ms.log == []
