"""The offline report and the written brief, in-process (the browser checks are in test_browser.py)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from .fixtures import simulated_store


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_store(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def views(db: Path) -> dict[str, Any]:
    from groundswell.report.html import analyze_views
    from groundswell.store import open_store

    with open_store(db, read_only=True) as s:
        return analyze_views(s, ["metoo"])[1]


@pytest.fixture(scope="module")
def report(db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    from groundswell.cli import main

    out = tmp_path_factory.mktemp("out")
    html, md = out / "report.html", out / "brief.md"
    assert main(["report", "--hashtag", "metoo", "--db", str(db), "--output", str(html), "--brief", str(md),
                 "--quiet"]) == 0
    return html, md, html.read_text(encoding="utf-8")


def _private_handles(db: Path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT handle FROM accounts GROUP BY platform, id, handle "
                       "HAVING NOT bool_or(coalesce(verified, false)) AND max(coalesce(followers, 0)) < 10000").fetchall()
    con.close()
    return [r[0] for r in rows if r[0]]


def _disclosure_texts(db: Path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT DISTINCT p.text FROM posts p JOIN post_labels l ON l.platform = p.platform "
                       "AND l.id = p.id WHERE l.disclosure AND p.text IS NOT NULL").fetchall()
    con.close()
    return [r[0] for r in rows]


def test_report_is_one_self_contained_file(report: tuple[Path, Path, str]) -> None:
    html_path, _, html = report
    markup = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", html, flags=re.S)
    assert markup.count("<script") == 3  # the spec island, the runtime and the loader, all inline
    # nothing is loaded from elsewhere: no src/href to another resource, and the CSP forbids connections
    assert not re.search(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*\b(?:src|href)\s*=\s*(?![\"']?(?:data:|#))",
                         markup, re.I)
    import html as htmllib

    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', markup)
    assert csp and "connect-src 'none'" in htmllib.unescape(csp.group(1))
    assert "default-src 'none'" in htmllib.unescape(csp.group(1))
    assert "window.vegaEmbed=" in html  # the runtime is inlined
    specs = re.search(r'<script type="application/json" id="gs-specs">(.*?)</script>', html, re.S)
    assert specs and '"timeline"' in specs.group(1) and '"network"' in specs.group(1)
    assert html_path.stat().st_size < 5_000_000


def test_report_has_every_view(report: tuple[Path, Path, str], views: dict[str, Any]) -> None:
    html = report[2]
    for key in ("timeline", "trend_rank", "tree0", "notable", "amplifiers", "languages", "network", "content_mix"):
        assert f'data-chart="{key}"' in html, key
    for sec in ("volume", "trending", "ignition", "notable", "amplifiers", "reach", "hashtags", "content",
                "coordination"):
        assert f'<section id="{sec}"' in html
    # the simulation has no places: the countries chart says why instead of drawing an empty frame
    assert 'data-chart="countries"' not in html and "no country" in html
    assert views["privacy"]["notice"] in html


def test_brief_figures_come_from_the_views(views: dict[str, Any], report: tuple[Path, Path, str]) -> None:
    from groundswell.report.brief import sentences

    s = sentences(views)
    ign = views["onset"]["ignition"]
    first = s[0]
    assert first.startswith("#metoo was set off on 15 October 2017 at 20:21 UTC by ")
    assert ign["author"]["label"] in first
    assert f"shared {ign['shares_24h']:,} times" in first and f"{ign['replies_24h']:,} repl" in first
    assert any(f"{len(views['notable'])} notable accounts joined" in x for x in s)
    assert any(f"{views['totals']['posts']:,} movement posts (posts carrying #metoo and reposts of them) by {views['totals']['authors']:,} accounts" in x for x in s)
    pct = round(100 * views["content"]["overall"]["disclosure"])
    assert any(f"labelled {pct}% (95% interval" in x and "first-person disclosures" in x and "reads English only" in x
               for x in s)
    assert any(x.startswith("By day 3") for x in s)
    md = report[1].read_text(encoding="utf-8")
    assert md.startswith("# #metoo: the brief") and first in _rendered(md) and views["privacy"]["notice"] in _rendered(md)
    assert first in report[2]  # also at the top of the report


def test_a_missing_measure_drops_its_sentence(views: dict[str, Any]) -> None:
    from groundswell.report.brief import sentences

    v = copy.deepcopy(views)
    v["onset"]["ignition"] = None
    v["content"] = None
    v["trending"].update(first_top1=None, first_top10=None, best_rank=None)
    v["notable"] = []
    v["communities"]["outside_seed"] = []
    v["coordination"]["method"] = None
    s = " ".join(sentences(v))
    for gone in ("set off", "disclosures", "trending", "notable", "By day 3", "coordinat"):
        assert gone not in s, gone
    assert "The first post with #metoo" in s  # the first post is still known
    v["onset"]["first_post"] = None
    assert "The first post" not in " ".join(sentences(v))


def _rendered(md: str) -> str:
    """The text a Markdown renderer shows (CommonMark, markdown-it-py), tags dropped."""
    import html as htmllib

    markdown_it = pytest.importorskip("markdown_it")
    return htmllib.unescape(re.sub(r"<[^>]+>", "", markdown_it.MarkdownIt().render(md)))


HOSTILE = ("<img src=x onerror=alert(1)>_*evil*_ [x](javascript:alert(1)) `code` | cell |\n# Heading\n<script>"
           "alert(2)</script> ~~gone~~ ![i](x) &amp;")


def test_brief_markdown_escapes_every_value(views: dict[str, Any]) -> None:
    """Handles, hashtags, languages and places from the data are text in Markdown, never markup or HTML."""
    markdown_it = pytest.importorskip("markdown_it")
    from groundswell.report.brief import markdown, md_escape, sentences

    v = copy.deepcopy(views)
    v["onset"]["ignition"]["author"]["label"] = HOSTILE
    v["movement"]["hashtags"] = ["metoo_" + HOSTILE]
    v["reach"]["languages"]["totals"][0]["value"] = HOSTILE
    if v["notable"]:
        v["notable"][0]["account"]["label"] = HOSTILE
    md = markdown(v)
    html = markdown_it.MarkdownIt().render(md)
    for tag in ("<img", "<script", "<strong", "<a ", "<code", "<h2", "<table", "<s>", "<del"):
        assert tag not in html, tag
    assert html.count("<h1>") == 1 and html.count("<em>") == 1 and "<p><em>Pseudonymous" in html  # the notice
    text = _rendered(md)
    flat = HOSTILE.replace("\n", " ")
    assert flat in text                                     # shown as it was written, literally
    assert " ".join(sentences(v)).replace("\n", " ") in text.replace("\n", " ")
    assert md_escape("a_b\n#c<d") == "a\\_b \\#c&lt;d"


def test_trending_sentence_orders_times_truthfully(views: dict[str, Any]) -> None:
    from groundswell.report.brief import sentences

    v = copy.deepcopy(views)
    v["trending"]["first_top1"] = "2017-10-16T02:00:00Z"
    assert any("reached the top of the trending hashtags after 5.7 hours" in x for x in sentences(v))
    v["trending"]["first_top1"] = "2017-10-14T20:00:00Z"
    assert any("had already topped the trending hashtags" in x and "before the ignition post" in x
               for x in sentences(v))


def test_private_people_are_pseudonyms_and_disclosures_never_shown(db: Path, report: tuple[Path, Path, str]) -> None:
    html = report[2]
    handles = _private_handles(db)
    assert handles
    leaked = [h for h in handles if re.search(r"(?<![\w])" + re.escape(h) + r"(?![\w])", html)]
    assert not leaked, f"{len(leaked)} private handles in the report"
    assert re.search(r"user-[0-9a-f]{12}", html)
    texts = [t for t in _disclosure_texts(db) if len(t) > 20]
    assert texts
    assert not [t for t in texts if t in html], "disclosure text in the report"
    assert not [t for t in texts if t in report[1].read_text(encoding="utf-8")]


def test_ignition_text_only_for_public_figures(views: dict[str, Any], db: Path) -> None:
    from groundswell.report.views import Presenter, _ignition_post
    from groundswell.store import open_store

    ign = views["onset"]["ignition"]
    # the simulated ignition account is verified: its text (not a disclosure) may be shown
    assert ign["author_public"] and not ign["author"]["pseudonymous"]
    with open_store(db, read_only=True) as s:
        pid = s.con.execute("SELECT id FROM posts WHERE author_id IN (SELECT id FROM accounts GROUP BY id "
                            "HAVING NOT bool_or(coalesce(verified, false)) AND max(followers) < 10000) "
                            "AND kind = 'original' AND text IS NOT NULL LIMIT 1").fetchone()[0]
        got = _ignition_post(s, Presenter(s), {"post_id": pid})
    assert got is not None
    assert got["text"] is None and got["text_withheld"] == "its author is not a public figure"
    assert got["author"]["pseudonymous"] and got["ref"].startswith("post-")


def test_identify_says_so(db: Path, tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "r.html"
    r = cli("report", "--hashtag", "#MeToo", "--db", db, "--output", out, "--identify")
    assert r.code == 0
    assert str(out.resolve()) in r.out and "# #metoo: the brief" in r.out
    html = out.read_text(encoding="utf-8")
    assert "IDENTIFIED" in html
    assert any(h in html for h in _private_handles(db))


def test_report_without_labels_and_bad_input(tmp_path: Path, cli: Any) -> None:
    db = simulated_store(tmp_path, posts=800, seed=3, classify=False)
    out = tmp_path / "r.html"
    r = cli("report", "--hashtag", "metoo", "--db", db, "--output", out, "--quiet")
    assert r.code == 0 and r.out == ""
    html = out.read_text(encoding="utf-8")
    assert "groundswell classify" in html and "first-person disclosures" not in html
    r = cli("report", "--hashtag", "nosuchtag", "--db", db, "--output", tmp_path / "x.html")
    assert r.code != 0 and "no posts with #nosuchtag" in r.err and "Traceback" not in r.err
    r = cli("report", "--hashtag", "metoo", "--db", tmp_path / "missing.duckdb", "--output", tmp_path / "y.html")
    assert r.code != 0 and "no store at" in r.err


def test_script_json_cannot_close_the_script() -> None:
    import json

    from groundswell.report.html import script_json

    s = script_json({"a": "</script><script>alert(1)</script>", "b": "&\u2028"})
    assert "<" not in s and ">" not in s and "&" not in s
    assert json.loads(s) == {"a": "</script><script>alert(1)</script>", "b": "&\u2028"}


def test_labels_below_baseline_are_not_drawn_but_named(views: dict[str, Any], report: tuple[Path, Path, str]) -> None:
    """The shipped model's support, opposition and other do no better on held-out real texts than answering
    yes for every post: the content chart leaves them out and the page says why; disclosure stays."""
    import json

    c = views["content"]
    assert {"support", "opposition", "other"} <= set(c["withheld"])
    assert "disclosure" in c["labels"] and not set(c["withheld"]) & set(c["labels"])
    assert not set(c["withheld"]) & set(c["overall"]) and not set(c["withheld"]) & set(c["quality"])
    assert {r["label"] for r in c["per_day"]} == set(c["labels"])
    assert c["not_measured"] == ["news"]
    html = report[2]
    specs = json.loads(re.search(r'<script type="application/json" id="gs-specs">(.*?)</script>', html, re.S).group(1))
    assert set(specs["content_mix"]["encoding"]["color"]["scale"]["domain"]) == set(c["labels"])
    assert "Not drawn: for these labels the model does no better on held-out real texts than answering yes" in html
    assert "<li>support: on 1,093 held-out real texts" in html
    brief = report[1].read_text(encoding="utf-8")
    assert "first-person disclosures" in brief and "not given" not in brief
