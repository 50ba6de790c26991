"""The dashboard in-process (Starlette's test client over the ASGI app)."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

import pytest

from ..report.fixtures import simulated_store

pytest.importorskip("starlette")
pytest.importorskip("httpx")

LOCAL = "http://127.0.0.1"  # the dashboard answers only its own address and loopback names


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_store(tmp_path_factory.mktemp("web"), posts=2000, seed=2)


@pytest.fixture(scope="module")
def store(db: Path) -> Iterator[Any]:
    from groundswell.store import open_store

    s = open_store(db, read_only=True)
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(store: Any) -> Iterator[Any]:
    from starlette.testclient import TestClient

    from groundswell.web.app import create_app

    with TestClient(create_app(store), base_url=LOCAL) as c:
        yield c


def _private_author(store: Any) -> tuple[str, str]:
    row = store.con.execute(
        "SELECT id, author_handle FROM posts WHERE author_id IN (SELECT id FROM accounts GROUP BY id HAVING NOT "
        "bool_or(coalesce(verified, false)) AND max(followers) < 10000) AND NOT is_reference LIMIT 1").fetchone()
    return row[0], row[1]


def test_pages_render_with_the_report_views(client: Any) -> None:
    r = client.get("/")
    assert r.status_code == 200 and 'href="/movement?hashtag=metoo"' in r.text
    r = client.get("/movement?hashtag=metoo")
    assert r.status_code == 200
    for key in ("timeline", "trend_rank", "tree0", "notable", "amplifiers", "network", "content_mix"):
        assert f'data-chart="{key}"' in r.text
    assert "was set off on" in r.text and 'id="privacy-notice"' in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "'unsafe-inline'" not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    r = client.get("/trending")
    assert r.status_code == 200 and 'id="board"' in r.text and "#metoo" in r.text


def test_filters_change_the_answer(client: Any) -> None:
    a = client.get("/api/movement?hashtag=metoo").json()
    b = client.get("/api/movement?hashtag=metoo&lang=fr&platform=twitter").json()
    c = client.get("/api/movement?hashtag=metoo&start=2017-10-16T00:00:00Z&end=2017-10-17T00:00:00Z&interval=day").json()
    assert 0 < b["totals"]["posts"] < a["totals"]["posts"]
    assert [x["value"] for x in b["reach"]["languages"]["totals"]] == ["fr"]
    assert c["movement"]["interval"] == "day" and 0 < c["totals"]["posts"] < a["totals"]["posts"]
    assert all(r["time"].startswith("2017-10-16") for r in c["timeline"])
    # the store itself is untouched by a filter
    assert client.get("/api/movement?hashtag=metoo").json()["totals"] == a["totals"]


@pytest.mark.parametrize("query, message", [
    ("hashtag=metoo&colour=red", "unknown query parameter 'colour'"),
    ("hashtag=metoo&start=yesterday", "not an ISO 8601 time"),
    ("hashtag=metoo&interval=week", "interval must be minute, hour or day"),
    ("hashtag=metoo&platform=myspace", "unknown platform 'myspace'"),
    ("hashtag=metoo&lang=%3Cscript%3E", "not a language code"),
    ("hashtag=%3Cb%3E", "not a hashtag"),
    ("start=2017-10-16", "name a hashtag"),
    ("hashtag=metoo&start=2017-10-17&end=2017-10-16", "start must be before end"),
    ("hashtag=metoo&interval=hour&interval=day", "give 'interval' once"),
    ("hashtag=nosuchtag", "no posts with #nosuchtag"),
])
def test_bad_requests_get_a_clear_4xx(client: Any, query: str, message: str) -> None:
    r = client.get("/api/movement?" + query)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"] and "Traceback" not in r.text
    page = client.get("/movement?" + query)
    assert page.status_code == 400 and "Traceback" not in page.text


def test_drill_down_by_the_labels_pages_show(client: Any, store: Any) -> None:
    html = client.get("/movement?hashtag=metoo").text
    posts = set(re.findall(r'href="/post/([^"]+)"', html))
    accounts = set(re.findall(r'href="/account/([^"]+)"', html))
    assert any(p.startswith("post-") for p in posts) and any(a.startswith("user-") for a in accounts)
    for ref in sorted(posts)[:4]:
        r = client.get(f"/post/{ref}")
        assert r.status_code == 200 and ref in r.text
        assert client.get(f"/api/post/{ref}").json()["ref"] == ref
    for ref in sorted(accounts)[:4]:
        r = client.get(f"/account/{ref}")
        assert r.status_code == 200
        d = client.get(f"/api/account/{ref}").json()
        assert d["account"]["label"] == ref and d["posts"] > 0
    # a private person's post is not reachable by its real id, nor its account by handle
    pid, handle = _private_author(store)
    assert client.get(f"/post/{pid}").status_code == 404
    assert client.get(f"/api/account/{handle}").status_code == 404
    assert client.get("/post/post-000000000000").status_code == 404
    assert client.get("/post/x?y=1").status_code == 400


def test_private_text_and_handles_stay_out(client: Any, store: Any) -> None:
    pid, handle = _private_author(store)
    text = store.con.execute("SELECT text FROM posts WHERE id = ?", [pid]).fetchone()[0]
    for url in ("/movement?hashtag=metoo", "/api/movement?hashtag=metoo", "/trending"):
        body = client.get(url).text
        assert not re.search(r"(?<![\w])" + re.escape(handle) + r"(?![\w])", body)
        assert text not in body
    disclosures = [r[0] for r in store.con.execute(
        "SELECT p.text FROM posts p JOIN post_labels l USING (platform, id) WHERE l.disclosure AND p.text IS NOT NULL "
        "LIMIT 50").fetchall()]
    csv_body = client.get("/export/posts.csv?hashtag=metoo").text
    assert disclosures and not [t for t in disclosures if t in csv_body]


def test_exports(client: Any, store: Any) -> None:
    n = client.get("/api/movement?hashtag=metoo").json()["totals"]["posts"]
    r = client.get("/export/posts.csv?hashtag=metoo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="metoo-posts.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == n and "raw" not in rows[0]
    pid, _ = _private_author(store)
    assert all(row["id"] != pid for row in rows)
    assert any(row["author_id"].startswith("user-") for row in rows)
    import pyarrow.parquet as pq

    r = client.get("/export/posts.parquet?hashtag=metoo&lang=en")
    t = pq.read_table(io.BytesIO(r.content))
    assert 0 < t.num_rows < n and set(t.column("lang").to_pylist()) == {"en"}
    for nodes in ("users", "hashtags"):
        r = client.get(f"/export/network.gexf?hashtag=metoo&nodes={nodes}")
        assert r.status_code == 200
        root = ET.fromstring(r.content)
        ns = {"g": "http://www.gexf.net/1.2draft"}
        ids = [x.get("id") for x in root.findall(".//g:node", ns)]
        assert ids and root.findall(".//g:edge", ns)
        if nodes == "users":
            assert any(i.startswith("user-") for i in ids)
            _pid, handle = _private_author(store)
            assert handle
            assert handle.encode() not in r.content, "a private person's handle is in the network export"
    assert client.get("/export/network.gexf?hashtag=metoo&nodes=posts").status_code == 400
    assert client.get("/export/posts.csv?hashtag=metoo&interval=day").status_code == 400


def test_openapi_describes_every_api_route(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    app = client.app.app  # inside the guard
    paths = {getattr(r, "path", "") for r in app.routes}
    documented = set(spec["paths"])
    api = {p.replace(":path}", "}") for p in paths if p.startswith(("/api/", "/export/"))}
    assert api == documented
    for p, ops in spec["paths"].items():
        params = {x["name"] for x in ops["get"]["parameters"]}
        if p == "/api/movement":
            assert params == {"hashtag", "start", "end", "platform", "lang", "interval"}


def test_trending_events_stream(client: Any) -> None:
    with client.stream("GET", "/api/trending/events?limit=1&every=0.1") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    assert body.startswith("event: board\ndata: {") and '"hashtag": "metoo"' in body
    assert client.get("/api/trending/events?every=0").status_code == 400
    assert client.get("/api/trending?limit=5").json()["board"][0]["rank"] == 1


def test_token_when_required(store: Any) -> None:
    from starlette.testclient import TestClient

    from groundswell.web.app import create_app, loopback

    assert loopback("127.0.0.1") and loopback("::1") and loopback("localhost") and not loopback("0.0.0.0")
    with TestClient(create_app(store, token="s3cret"), base_url=LOCAL) as c:
        r = c.get("/api/hashtags")
        assert r.status_code == 401 and "access token" in r.json()["error"]
        assert c.get("/api/hashtags", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/hashtags", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        r = c.get("/?token=s3cret", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("gs_session=") and "s3cret" not in cookie and "HttpOnly" in cookie
        assert c.get("/").status_code == 200  # the client kept the cookie
        c.cookies.clear()
        c.cookies.set("gs_session", "s3cret")
        assert c.get("/").status_code == 401


def test_errors_never_show_a_stack_trace(store: Any, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from starlette.testclient import TestClient

    from groundswell.web import app as webapp

    def boom(self: Any, limit: int = 40) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(webapp.Dashboard, "hashtags", boom)
    with TestClient(webapp.create_app(store), raise_server_exceptions=False, base_url=LOCAL) as c:
        r = c.get("/api/hashtags")
        assert r.status_code == 500 and r.json() == {"error": "internal error; the server log has the details",
                                                     "status": 500}
        r = c.get("/")
        assert r.status_code == 500 and "boom" not in r.text and "Traceback" not in r.text
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_post_page_sets_labels_below_baseline_apart(client: Any, store: Any) -> None:
    """A post's labels that the model gives no better than answering yes (the shipped model's support,
    stance ...) are listed apart from its findings, with why."""
    from groundswell.analysis.content import below_baseline

    weak = below_baseline(store)
    assert {"metooma_support", "metooma_oppose", "support", "opposition"} <= weak and "disclosure" not in weak
    html = client.get("/movement?hashtag=metoo").text
    seen = 0
    for ref in sorted(set(re.findall(r'href="/post/([^"]+)"', html))):
        d = client.get(f"/api/post/{ref}").json()
        assert not set(d["labels"]) & weak
        if d["labels_below_baseline"]:
            seen += 1
            assert set(d["labels_below_baseline"]) <= weak
            assert "does no better for these than answering yes" in client.get(f"/post/{ref}").text
    assert seen
