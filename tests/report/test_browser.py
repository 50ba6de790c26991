"""The report in headless Chromium (Debian's, driven by Playwright): charts drawn, no network, no script injection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .fixtures import HANDLE_PAYLOAD, PAYLOAD_MARK, TEXT_PAYLOAD, launch, simulated_store

pytestmark = pytest.mark.slow
pytest.importorskip("playwright")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _write_report(tmp: Path, **kw: Any) -> Path:
    from groundswell.cli import main

    db = simulated_store(tmp, **kw)
    out = tmp / "report.html"
    assert main(["report", "--hashtag", "metoo", "--db", str(db), "--output", str(out), "--quiet"]) == 0
    return out


def open_checked(page: Any, url: str, shot: Path) -> dict[str, Any]:
    """Open a page; wait for every chart; return what happened (requests, dialogs, errors, charts)."""
    seen: dict[str, Any] = {"requests": [], "dialogs": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(url)
    page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')]"
                           ".every(e => e.dataset.rendered || e.dataset.error)", timeout=30_000)
    seen["charts"] = page.eval_on_selector_all(
        "[data-chart]", "els => els.map(e => [e.dataset.chart, e.dataset.rendered || null, e.dataset.error || null, "
                        "e.querySelectorAll('svg .mark-symbol path, svg .mark-rect path, svg .mark-area path, "
                        "svg .mark-line path, svg .mark-rule line, svg .mark-text text').length])")
    seen["pwned"] = page.evaluate(f"() => window.{PAYLOAD_MARK} === undefined ? null : window.{PAYLOAD_MARK}")
    page.screenshot(path=str(shot), full_page=True)
    return seen


def test_report_draws_every_chart_offline(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    report = _write_report(tmp_path, posts=2500, seed=4)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            seen = open_checked(page, report.as_uri(), tmp_path / "report.png")
        finally:
            browser.close()
    assert seen["requests"] == [report.as_uri()], "the report made a network request"
    assert not seen["errors"] and not seen["dialogs"]
    charts = {k: (ok, err, marks) for k, ok, err, marks in seen["charts"]}
    assert {"timeline", "trend_rank", "tree0", "notable", "amplifiers", "network", "content_mix"} <= set(charts)
    for key, (ok, err, marks) in charts.items():
        assert ok == "1" and err is None and marks > 0, (key, err, marks)
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_no_payload_executes_in_the_report(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    report = _write_report(tmp_path, posts=1500, seed=5, hostile=True)
    html = report.read_text(encoding="utf-8")
    # the payloads reached the report (escaped), so the check below means something
    assert "&lt;img src=x onerror=window." + PAYLOAD_MARK in html
    assert HANDLE_PAYLOAD not in html and TEXT_PAYLOAD.strip() not in html
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            seen = open_checked(page, report.as_uri(), tmp_path / "hostile-report.png")
            # hover every mark so tooltips render the hostile labels too
            for el in page.query_selector_all("svg .mark-symbol path")[:40]:
                el.hover()
            pwned_after = page.evaluate(f"() => window.{PAYLOAD_MARK} === undefined ? null : 1")
            shown = page.inner_text("body")
        finally:
            browser.close()
    assert seen["pwned"] is None and pwned_after is None and not seen["dialogs"]
    assert seen["requests"] == [report.as_uri()]
    assert "<img src=x onerror=window." + PAYLOAD_MARK in shown  # shown as text, not run


def test_report_of_a_never_classified_store_shows_no_private_words(tmp_path: Path) -> None:
    """What a person sees, in Chromium, of the report of crafted private disclosures in four languages
    that no model ever labelled (tests/privacy/test_fail_closed.py): no words, no names, no post ids."""
    from playwright.sync_api import sync_playwright

    from groundswell.cli import main

    from ..privacy.test_fail_closed import archive, assert_names_nobody

    db = tmp_path / "s.duckdb"
    assert main(["ingest", *map(str, archive(tmp_path)), "--db", str(db), "--quiet"]) == 0
    out = tmp_path / "report.html"
    assert main(["report", "--hashtag", "metoo", "--db", str(db), "--output", str(out), "--quiet"]) == 0
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            seen = open_checked(page, out.as_uri(), tmp_path / "private.png")
            for el in page.query_selector_all("svg .mark-symbol path")[:60]:
                el.hover(force=True, timeout=2_000)  # tooltips too
            shown = page.inner_text("body") + " ".join(page.eval_on_selector_all(
                "svg text, #vg-tooltip-element, [role=tooltip]", "els => els.map(e => e.textContent)"))
        finally:
            browser.close()
    assert seen["requests"] == [out.as_uri()] and not seen["errors"]
    assert "not a disclosure" in shown and "Pseudonymous" in shown
    assert_names_nobody(shown)
