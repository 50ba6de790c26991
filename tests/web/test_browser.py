"""The dashboard in headless Chromium: charts drawn, the live board updates, no script injection."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from ..report.fixtures import ARGS, CHROMIUM, PAYLOAD_MARK, simulated_store
from ..report.test_browser import open_checked
from .serving import Served

pytestmark = pytest.mark.slow
pytest.importorskip("playwright")
pytest.importorskip("uvicorn")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # rebind.test resolves to 127.0.0.1 in this browser: a DNS rebinding attacker's name, for the Host test
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=ARGS + ["--host-resolver-rules=MAP rebind.test 127.0.0.1"])
        yield b
        b.close()


def _serve_store(db: Path) -> tuple[Any, Any]:
    from groundswell.store import open_store
    from groundswell.web.app import create_app

    store = open_store(db, read_only=True)
    return store, create_app(store)


def test_dashboard_draws_the_views(tmp_path: Path, browser: Any) -> None:
    db = simulated_store(tmp_path, posts=2000, seed=6)
    store, app = _serve_store(db)
    try:
        with Served(app) as base:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            seen = open_checked(page, base + "/movement?hashtag=metoo", tmp_path / "dashboard.png")
            charts = {k: (ok, err, marks) for k, ok, err, marks in seen["charts"]}
            assert {"timeline", "trend_rank", "tree0", "notable", "amplifiers", "network"} <= set(charts)
            for key, (ok, err, marks) in charts.items():
                assert ok == "1" and err is None and marks > 0, (key, err)
            assert all(u.startswith(base) for u in seen["requests"]), "a request left the dashboard"
            assert not seen["errors"]
            # filters through the form, then drill down to a pseudonymous account and a post
            page.select_option("select[name=lang]", "en")
            page.click("button[type=submit]")
            page.wait_for_url("**lang=en**")
            page.wait_for_function("() => document.querySelector('[data-chart=timeline]').dataset.rendered")
            page.click("a.acct.pseudo >> nth=0")
            page.wait_for_url("**/account/user-**")
            assert "A pseudonym" in page.inner_text("header")
            page.click("a.post >> nth=0")
            page.wait_for_url("**/post/**")
            page.screenshot(path=str(tmp_path / "post.png"), full_page=True)
            page.close()
    finally:
        store.close()


def test_no_payload_executes_in_the_dashboard(tmp_path: Path, browser: Any) -> None:
    db = simulated_store(tmp_path, posts=1500, seed=5, hostile=True)
    store, app = _serve_store(db)
    try:
        with Served(app) as base:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            seen = open_checked(page, base + "/movement?hashtag=metoo", tmp_path / "hostile.png")
            assert "<img src=x onerror=window." + PAYLOAD_MARK in page.inner_text("body")
            pwned = [seen["pwned"]]
            for el in page.query_selector_all("svg .mark-symbol path")[:30]:
                el.hover()
            for link in ["/", "/trending"] + [a.get_attribute("href") for a in page.query_selector_all("a.acct")[:3]] \
                    + [a.get_attribute("href") for a in page.query_selector_all("a.post")[:3]]:
                page.goto(base + link)
                page.wait_for_load_state("load")
                pwned.append(page.evaluate(f"() => window.{PAYLOAD_MARK} === undefined ? null : 1"))
            assert pwned == [None] * len(pwned) and not seen["dialogs"]
            page.close()
    finally:
        store.close()


def test_live_board_updates_while_a_source_writes(tmp_path: Path, browser: Any) -> None:
    from groundswell import privacy
    from groundswell.live.follower import Follower
    from groundswell.live.jetstream import JetstreamSource
    from groundswell.live.replay import ReplayServer, synthetic_events
    from groundswell.store.duck import Store
    from groundswell.web.app import create_app

    replay = ReplayServer(synthetic_events(6000, seed=1, accounts=400), rate=1500).start()
    follower = Follower(JetstreamSource(replay.url), str(tmp_path / "live.duckdb"), batch_seconds=0.1)
    privacy.ensure_secret(follower.store)
    store = Store(follower.reader(), follower.store.path, read_only=False)
    app = create_app(store, follower=follower)
    follower.start()
    try:
        with Served(app) as base:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.goto(base + "/trending")
            page.wait_for_function("() => Number(document.getElementById('board').dataset.updates || 0) >= 2 "
                                   "&& document.querySelectorAll('#board tbody tr').length > 0", timeout=30_000)
            rows = page.eval_on_selector_all("#board tbody tr", "rs => rs.map(r => r.innerText)")
            page.screenshot(path=str(tmp_path / "trending.png"), full_page=True)
            page.close()
        assert rows and all("#" in r for r in rows)
        assert follower.stats.stored_posts > 0
    finally:
        follower.stop()
        replay.stop()


def test_a_rebinding_page_gets_nothing(tmp_path: Path, browser: Any) -> None:
    """DNS rebinding in the browser: a name the attacker controls, resolved to 127.0.0.1, gets a 400."""
    db = simulated_store(tmp_path, posts=600, seed=8)
    store, app = _serve_store(db)
    try:
        with Served(app) as base:
            port = base.rsplit(":", 1)[1]
            page = browser.new_page()
            r = page.goto(f"http://rebind.test:{port}/movement?hashtag=metoo")
            assert r is not None and r.status == 400
            assert "answers requests for" in page.inner_text("body")
            # the attacker's script, running on that origin, reads the API: refused too
            got = page.evaluate("() => fetch('/api/movement?hashtag=metoo')"
                                ".then(r => r.text().then(t => [r.status, t]))")
            assert got[0] == 400 and "metoo" not in got[1]
            r = page.goto(f"http://localhost:{port}/movement?hashtag=metoo")
            assert r is not None and r.status == 200 and "#metoo" in page.inner_text("body")
            page.close()
    finally:
        store.close()
