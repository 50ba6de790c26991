"""groundswell network reproduces DocNow/twarc-network's graph sizes on its own test data."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from ..conftest import shared


def _expected() -> list[dict]:
    return json.loads(shared("twarc-network/expected.json").read_text())["checks"]


def _ours(args: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "--edges":
            edges = []
            while i < len(args) and args[i] == "--edges":
                edges.append(args[i + 1])
                i += 2
            out += ["--edges", ",".join(edges)]
            continue
        out.append(a)
        i += 1
    return out


@pytest.mark.parametrize("check", _expected(), ids=lambda c: " ".join(c["args"]))
def test_peer_counts(cli, network_db, check):
    r = cli("network", "--db", network_db, *_ours(check["args"]))
    assert r.code == 0, r.err
    if "csv_rows" in check:
        rows = list(csv.reader(io.StringIO(r.out)))
        assert rows[0][:2] == ["source", "target"]
        assert len(rows) - 1 == check["csv_rows"]
        return
    g = r.json()
    assert len(g["nodes"]) == check["nodes"]
    if "links" in check:
        assert len(g["links"]) == check["links"]
    ids = {n["id"] for n in g["nodes"]}
    assert all(lk["source"] in ids and lk["target"] in ids for lk in g["links"])


def test_same_links_as_peer_output(cli, network_db):
    exp = json.loads(shared("twarc-network/expected-output/network_users.json").read_text())
    g = cli("network", "--db", network_db, "--format", "json", "--identify").json()
    ours = {(lk["source"], lk["target"]): lk["weight"] for lk in g["links"]}
    theirs = {(lk["source"], lk["target"]): lk["weight"] for lk in exp["links"]}
    assert ours == theirs
    users = {n["id"]: n.get("account_id") for n in g["nodes"]}
    assert all(v is None or isinstance(v, str) for v in users.values())


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_xml_formats(cli, network_db, tmp_path, fmt):
    out = tmp_path / f"g.{fmt}"
    r = cli("network", "--db", network_db, "--format", fmt, "--output", out, "--edges", "retweet,reply,quote")
    assert r.code == 0, r.err
    root = ET.parse(out).getroot()
    nodes = [e for e in root.iter() if e.tag.endswith("}node")]
    edges = [e for e in root.iter() if e.tag.endswith("}edge")]
    assert (len(nodes), len(edges)) == (484, 391)


def test_hashtag_filter_and_bad_edges(cli, network_db):
    full = cli("network", "--db", network_db).json()
    some = cli("network", "--db", network_db, "--hashtag", "BlackLivesMatter").json()
    assert 0 < len(some["links"]) < len(full["links"])
    r = cli("network", "--db", network_db, "--edges", "likes")
    assert r.code == 2 and "--edges" in r.err


def test_network_is_pseudonymous_by_default(network_db, cli) -> None:
    """Users who are not public figures appear as pseudonyms; the graph keeps its shape."""
    real = cli("network", "--db", network_db, "--format", "json", "--identify").json()
    shared = cli("network", "--db", network_db, "--format", "json").json()
    assert len(real["nodes"]) == len(shared["nodes"]) and len(real["links"]) == len(shared["links"])
    pseudo = [n for n in shared["nodes"] if n["id"].startswith("user-")]
    assert pseudo, "no node was pseudonymized"
    real_ids = {n["id"] for n in real["nodes"]}
    assert not {n["id"] for n in pseudo} & real_ids
    # public figures (verified or >= 10,000 followers) keep their handles
    assert len(pseudo) < len(shared["nodes"])


def test_memory_limit_option(cli, network_db):
    """The DuckDB cap is applied (same answer under a small one) and a bad size is a usage error."""
    full = cli("network", "--db", network_db).json()
    small = cli("network", "--db", network_db, "--memory-limit", "64MB").json()
    assert len(small["nodes"]) == len(full["nodes"]) and len(small["links"]) == len(full["links"])
    r = cli("analyze", "--db", network_db, "--hashtag", "BlackLivesMatter", "--memory-limit", "lots")
    assert r.code != 0 and "--memory-limit" in r.err
