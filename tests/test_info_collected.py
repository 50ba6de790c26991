"""``info`` counts the collected posts; the posts seen only inside other records come apart.

Truth from outside the project: the real v1.1 search for "gelman"
(``sfm-twitter-harvester``, SOURCES.md) holds 1,229 tweets: 495 originals,
152 replies, 25 quotes, 557 retweets. The embedded originals of its retweets
and quotes are posts of the store too, but not what was collected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, shared
from .spark.conftest import needs_spark

GELMAN = "sfm-twitter-harvester/v1.1_search_gelman_2015.jsonl"


def _truth() -> tuple[int, dict[str, int], set[str]]:
    lines = [json.loads(x) for x in shared(GELMAN).read_text().splitlines() if x.strip()]
    kinds = {"repost": 0, "reply": 0, "quote": 0, "original": 0}
    for t in lines:
        if t.get("retweeted_status"):
            kinds["repost"] += 1
        elif t.get("in_reply_to_status_id_str"):
            kinds["reply"] += 1
        elif t.get("is_quote_status") and t.get("quoted_status"):
            kinds["quote"] += 1
        else:
            kinds["original"] += 1
    own = {t["id_str"] for t in lines}
    embedded = set()
    for t in lines:
        for k in ("retweeted_status", "quoted_status"):
            if t.get(k):
                embedded.add(t[k]["id_str"])
            if t.get("retweeted_status", {}).get("quoted_status"):
                embedded.add(t["retweeted_status"]["quoted_status"]["id_str"])
    return len(lines), kinds, embedded - own


def test_info_counts_collected_posts_and_shows_the_others_apart(tmp_path: Path, cli) -> None:
    n, kinds, embedded = _truth()
    assert n == 1229 and kinds == {"repost": 557, "reply": 152, "quote": 25, "original": 495}  # SOURCES.md
    db = tmp_path / "g.duckdb"
    assert cli("ingest", "--db", db, "--quiet", shared(GELMAN)).code == 0
    d = cli("info", "--db", db, "--json").json()
    assert d["posts"] == 1229
    assert d["kinds"] == kinds
    assert d["platforms"] == {"twitter": 1229}
    assert d["referenced"] == len(embedded)
    assert sum(d["referenced_kinds"].values()) == d["referenced"]
    assert d["first"] == "2015-11-23T19:42:13Z"  # the collected tweets, not a retweeted 2014 original
    text = cli("info", "--db", db).out
    assert "1,229 collected" in text
    assert f"{len(embedded):,} more posts seen only inside other records" in text
    kinds_block = text.split("kinds\n", 1)[1].split("time span", 1)[0]
    assert "  repost     557" in kinds_block and "  quote      25" in kinds_block


@pytest.mark.slow
@needs_spark
def test_info_on_spark_counts_the_same(tmp_path: Path) -> None:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}

    def run(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "groundswell.cli", *map(str, args)], capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=600)

    store = tmp_path / "spark-store"
    opts = ["--engine", "spark", "--spark-master", "local[2]", "--db", store]
    r = run("ingest", shared(GELMAN), *opts, "-q")
    assert r.returncode == 0, r.stderr[-800:]
    d = json.loads(run("info", *opts, "--json").stdout)
    _n, kinds, embedded = _truth()
    assert (d["posts"], d["kinds"], d["referenced"]) == (1229, kinds, len(embedded))
