"""Content mix: what the movement's posts say, over time, per community and
among notable accounts, from the content classifier's ``post_labels`` table
(one boolean per label and post, per model; :mod:`groundswell.content`).

Counted over the movement's own words: posts that are not reposts. Every
share says what it is a share of:

* ``coverage``: of those posts, how many the model labelled (``covered``),
  how many it could not label and why (``not_covered``: empty text, a
  language it does not cover) and how many have no label row at all
  (``not_labelled``: classified before they were ingested, or never), per
  language too. A share of labels speaks for the covered posts only.
* ``shares``: label -> share of the covered posts; ``intervals``: label ->
  its 95% Wilson score interval (Wilson 1927), which says how far the share
  of a few hundred posts can be from the share the same model would give
  many more such posts (the model's own errors are not in it: see
  ``quality``); ``counts``: label -> posts.
* ``quality``: per label, the model's recall and precision measured on
  held-out real texts against human labels, as written into the model file
  when it was trained (``content_models`` table, filled by ``classify``), or
  why a label was not measured. ``first_time_quality`` repeats it for
  first-time disclosures, which a brief may mention only with these figures.
* ``verdicts``: per label, whether its share may be read as a finding
  (:func:`verdict`): ``finding``, ``below baseline`` (on held-out real texts
  the label does no better than answering yes for every post) or ``not
  measured``; ``withheld`` lists the labels below baseline, whose shares the
  report and the brief leave out (they stay here, flagged, for whoever wants
  the model's raw output).

``first_time`` disclosures are also counted per day. Only present when the
store has ``post_labels``.
"""

from __future__ import annotations

import json
from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, bucket
from groundswell.stats import wilson

COLUMNS_SQL = """
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'post_labels'
"""

MODELS_SQL = "SELECT model, count(*) AS n FROM post_labels GROUP BY model ORDER BY n DESC, model"

LABELLED_SQL = """
SELECT m.account, m.created_at, {cols}
FROM {mv} m JOIN post_labels l ON l.platform = m.platform AND l.id = m.id
WHERE l.model = {model} AND m.kind <> 'repost' AND l.covered
"""

COVERAGE_SQL = """
SELECT CASE WHEN l.id IS NULL THEN 'not labelled' ELSE coalesce(l.language, 'und') END AS language,
       CASE WHEN l.id IS NULL THEN 'not labelled' WHEN l.covered THEN 'covered'
            WHEN l.reason = 'empty text' THEN 'empty text' ELSE 'language not covered' END AS status,
       count(*) AS posts
FROM {mv} m LEFT JOIN post_labels l ON l.platform = m.platform AND l.id = m.id AND l.model = {model}
WHERE m.kind <> 'repost'
GROUP BY 1, 2
"""

MIX_SQL = """
SELECT {group} AS g, count(*) AS posts, {sums} FROM gs_labelled x {join} GROUP BY 1 ORDER BY 1
"""

QUALITY_SQL = "SELECT meta FROM content_models WHERE model = {model}"


def verdict(e: dict[str, Any] | None) -> dict[str, Any]:
    """Whether a label's shares may be read as a finding, from its held-out evaluation ``e`` (an entry of a
    model file's ``meta.evaluation``; see ``groundswell.content.training.binary_scores``).

    A label is a ``finding`` when, on held-out real texts, its F1 beats the F1 of answering yes for every
    post *and* the 95% interval of its precision lies above the share of positives (what a random pick
    gets). The second test keeps out a label that beats the first only by saying yes to nearly every
    post, or by luck on a few positives. Otherwise it is ``below baseline``; without an evaluation it is
    ``not measured``. ``why`` says it in words, with the figures.
    """
    if not e or not e.get("measured"):
        why = (e or {}).get("why") or "the model file records no measurement on held-out real texts"
        return {"status": "not measured", "finding": False, "why": why}
    base = e.get("always_positive") or {}
    f1, base_f1, prev = e.get("f1"), base.get("f1"), base.get("precision")
    recall, precision, ci = e.get("recall"), e.get("precision"), e.get("precision_ci")
    texts, said = e.get("texts") or 0, e.get("predicted") or 0
    figures = (f"on {texts:,} held-out real texts ({e.get('positives', 0):,} positive) it says yes to "
               f"{said / texts if texts else 0:.0%} of them, finds {recall or 0:.0%} of the positives and "
               f"{precision or 0:.0%} of those it names are (F1 {f1 or 0:.2f})")
    if f1 is None or base_f1 is None or f1 <= base_f1:
        return {"status": "below baseline", "finding": False,
                "why": f"{figures}; answering yes for every post scores F1 {base_f1 or 0:.2f}"}
    if not ci or prev is None or ci[0] <= prev:
        lo, hi = ci or (0.0, 1.0)
        return {"status": "below baseline", "finding": False,
                "why": f"{figures}; its precision (95% interval {lo:.0%} to {hi:.0%}) is not clearly above the "
                       f"{prev or 0:.0%} that answering yes for every post gets"}
    return {"status": "finding", "finding": True,
            "why": f"{figures}; answering yes for every post scores F1 {base_f1:.2f} ({prev:.0%} right)"}


def _coverage(store: Any, scope: Scope, model: str) -> dict[str, Any]:
    rows = sql.rows(store, COVERAGE_SQL, mv=scope.table, model=model)
    total = sum(r["posts"] for r in rows)
    status: dict[str, int] = {}
    langs: dict[str, dict[str, int]] = {}
    for r in rows:
        status[r["status"]] = status.get(r["status"], 0) + r["posts"]
        lang = langs.setdefault(r["language"], {"posts": 0, "covered": 0})
        lang["posts"] += r["posts"]
        if r["status"] == "covered":
            lang["covered"] += r["posts"]
    covered = status.get("covered", 0)
    return {
        "over": "movement posts that are not reposts",
        "posts": total,
        "covered": covered,
        "covered_share": round(covered / total, 4) if total else None,
        "not_covered": {"empty text": status.get("empty text", 0),
                        "language not covered": status.get("language not covered", 0)},
        "not_labelled": status.get("not labelled", 0),
        "by_language": sorted(({"language": k, **v} for k, v in langs.items()),
                              key=lambda x: (-x["posts"], x["language"])),
    }


def _quality(store: Any, model: str) -> dict[str, Any] | None:
    if not sql.has_table(store, "content_models"):
        return None
    meta = sql.scalar(store, QUALITY_SQL, model=model)
    if meta is None:
        return None
    m = json.loads(meta) if isinstance(meta, str) else meta
    ev = m.get("evaluation")
    if not ev:
        return None
    return {"languages": m.get("languages"), "held_out": m.get("held_out"), "labels": ev}


def below_baseline(store: Any) -> set[str]:
    """Labels that are ``below baseline`` (:func:`verdict`) for every model recorded in the store's
    ``content_models`` table that measured them: a post carrying one is not shown as a finding."""
    if not sql.has_table(store, "content_models"):
        return set()
    status: dict[str, set[str]] = {}
    for r in sql.rows(store, "SELECT meta FROM content_models"):
        meta = r["meta"]
        ev = (json.loads(meta) if isinstance(meta, str) else meta or {}).get("evaluation") or {}
        for label, e in ev.items():
            status.setdefault(label, set()).add(verdict(e)["status"])
    return {k for k, v in status.items() if v == {"below baseline"}}


def content_mix(store: Any, scope: Scope, notable_ids: list[str], has_communities: bool) -> dict[str, Any] | None:
    cols = sql.rows(store, COLUMNS_SQL)
    names = [c["column_name"] for c in cols]
    labels = [c["column_name"] for c in cols if c["data_type"] == "BOOLEAN" and c["column_name"] != "covered"]
    if not labels or "model" not in names:
        return None
    models = sql.rows(store, MODELS_SQL)
    if not models:
        return None
    model = next((m["model"] for m in models if m["model"] == "accurate"), models[0]["model"])
    sql.materialize(store, "gs_labelled", LABELLED_SQL, mv=scope.table, model=model,
                    cols=sql.Raw(", ".join(f'l."{k}" AS "{k}"' for k in labels)))
    sums = sql.Raw(", ".join(f'sum(CASE WHEN x."{k}" THEN 1 ELSE 0 END) AS "{k}"' for k in labels))

    def mix(group: str, join: str = "") -> list[dict[str, Any]]:
        out = []
        for r in sql.rows(store, MIX_SQL, group=sql.Raw(group), sums=sums, join=sql.Raw(join)):
            n = r["posts"]
            g = r["g"]
            counts = {k: int(r[k] or 0) for k in labels}
            out.append({"group": sql.iso(g) if hasattr(g, "isoformat") else g, "posts": n,
                        "shares": {k: round(counts[k] / n, 4) if n else None for k in labels},
                        "intervals": {k: wilson(counts[k], n) for k in labels},
                        "counts": counts})
        return out

    res: dict[str, Any] = {"model": model, "labels": labels,
                           "over": "covered movement posts that are not reposts (see coverage)",
                           "interval": "95% Wilson score interval of each share (sampling only; the model's own "
                                       "errors are in quality)"}
    res["coverage"] = _coverage(store, scope, model)
    res["overall"] = (mix("'all'") or [{}])[0]
    res["overall"].pop("group", None)
    res["over_time"] = [{"time": r.pop("group"), **r} for r in mix(bucket(scope.interval, "x.created_at").sql)]
    if has_communities:
        per = mix("c.community", "JOIN gs_membership c ON c.account = x.account")
        per.sort(key=lambda r: -r["posts"])
        res["per_community"] = [{"community": r.pop("group"), **r} for r in per[:10]]
    if notable_ids:
        nl = sql.Raw(sql.in_list(notable_ids))
        res["notable"] = (mix("'notable'", f"WHERE x.account IN {nl.sql}") or [{"posts": 0}])[0]
        res["notable"].pop("group", None)
    quality = _quality(store, model)
    res["quality"] = quality
    ft = (quality or {}).get("labels", {}).get("first_time")
    res["first_time_quality"] = ft if ft and ft.get("measured") else None
    ev = (quality or {}).get("labels") or {}
    res["verdicts"] = {k: verdict(ev.get(k)) for k in labels}
    res["withheld"] = [k for k in labels if res["verdicts"][k]["status"] == "below baseline"]
    if "first_time" in labels and "disclosure" in labels:
        res["first_time_disclosures_per_day"] = [
            {"day": sql.iso(r["t"]), "posts": r["n"]} for r in sql.rows(
                store, "SELECT date_trunc('day', created_at) AS t, count(*) AS n FROM gs_labelled "
                       "WHERE first_time AND disclosure GROUP BY 1 ORDER BY 1")]
    sql.drop(store, "gs_labelled")
    return res
