"""On the real 2017-10-15 #MeToo day, the takeoff is the hour of Alyssa Milano's call (20:00 UTC)."""

from __future__ import annotations

from ..conftest import shared


def test_metoo_takeoff_hour(cli, db):
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    with open_store(db) as s:
        ingest(s, [str(shared("metoo-getoldtweets-2017/tweets_2017-10-15_all.csv"))], progress=False)
    r = cli("analyze", "--hashtag", "MeToo", "--db", db, "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["onset"]["takeoff"] == "2017-10-15T20:00:00Z"
    assert d["timeline"]["posts"] > 13000
    for key in ("timeline", "trending", "onset", "spread", "cascades", "people", "hashtags", "reach",
                "coordination"):
        assert key in d
    assert "content" not in d  # no post_labels in this store
    # shared output is pseudonymous: the first poster is a private person
    assert d["onset"]["first_post"]["post_id"].startswith("post-")
    assert d["privacy"]["mode"] == "pseudonymous"
    ident = cli("analyze", "--hashtag", "MeToo", "--db", db, "--json", "--identify").json()
    assert ident["onset"]["first_post"]["post_id"] == "919365304114929665"
    assert ident["privacy"]["mode"] != "pseudonymous"
    text = cli("analyze", "--hashtag", "#metoo", "--db", db)
    assert text.code == 0 and text.out.startswith("#metoo:") and "2017-10-15T20:00:00Z" in text.out
