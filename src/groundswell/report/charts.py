"""Vega-Lite specs (plain dicts, schema v5) for the views of :mod:`.views`.

:func:`charts` returns ``[(key, title, caption, spec)]`` for the charts the
data supports; a chart whose measure is missing is left out, and
:func:`missing` says why, so a page can say so instead of drawing an empty
frame. The specs carry their data inline (``data.values``); the runtime that
draws them is vega-embed (see :mod:`.assets`). Times are UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
WIDTH = "container"
INK = "#1f2933"
ACCENT = "#b3261e"      # the movement
BLUE = "#2f5d8a"
GREY = "#9aa5b1"
KIND_COLORS = {"root": ACCENT, "repost": BLUE, "reply": "#d08c2e", "quote": "#3c8d5a", "original": GREY}
LABEL_COLORS = {"disclosure": "#7b3294", "support": "#3c8d5a", "news": BLUE, "opposition": ACCENT, "other": GREY}
TIME_AXIS = {"format": "%b %d %H:%M", "formatType": "utc", "labelAngle": 0, "labelOverlap": True, "title": None}
DAY_AXIS = {"format": "%b %d", "formatType": "utc", "labelAngle": 0, "labelOverlap": True, "title": None}

CONFIG: dict[str, Any] = {
    "font": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    "view": {"stroke": None},
    "axis": {"labelColor": "#52606d", "titleColor": "#323f4b", "gridColor": "#e4e7eb", "domainColor": "#9aa5b1",
             "tickColor": "#9aa5b1", "labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": 600},
    "legend": {"labelColor": "#323f4b", "titleColor": "#323f4b", "labelFontSize": 11, "titleFontSize": 11,
               "orient": "top"},
    "title": {"color": INK, "fontSize": 13, "anchor": "start"},
}


def _spec(data: Any, height: int = 240, **rest: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"$schema": VL_SCHEMA, "width": WIDTH, "height": height, "config": CONFIG,
                           "data": {"values": data}}
    out.update(rest)
    return out


def timeline(v: Mapping[str, Any]) -> dict[str, Any] | None:
    rows = v["timeline"]
    if not rows:
        return None
    marks = []
    on = v["onset"]
    if on.get("takeoff"):
        marks.append({"time": on["takeoff"], "what": "takeoff", "row": 2})
    ign = on.get("ignition") or {}
    if ign.get("time"):
        marks.append({"time": ign["time"], "what": "ignition post", "row": 16})
    interval = v["movement"].get("interval", "hour")
    layers: list[dict[str, Any]] = [
        {"mark": {"type": "area", "color": "#c9d6e3", "line": {"color": BLUE, "strokeWidth": 1},
                  "interpolate": "step-after"},
         "encoding": {"x": {"field": "time", "type": "temporal", "scale": {"type": "utc"}, "axis": TIME_AXIS},
                      "y": {"field": "posts", "type": "quantitative", "title": f"posts per {interval}"},
                      "tooltip": [{"field": "time", "type": "temporal", "format": "%Y-%m-%d %H:%M UTC",
                                   "formatType": "utc"},
                                  {"field": "posts", "type": "quantitative"},
                                  {"field": "new_authors", "type": "quantitative", "title": "new authors"}]}},
        {"mark": {"type": "line", "color": ACCENT, "strokeWidth": 1.5, "interpolate": "step-after"},
         "encoding": {"x": {"field": "time", "type": "temporal"},
                      "y": {"field": "new_authors", "type": "quantitative"}}},
    ]
    if marks:
        layers.append({"data": {"values": marks},
                       "mark": {"type": "rule", "strokeDash": [4, 3], "color": INK},
                       "encoding": {"x": {"field": "time", "type": "temporal"}}})
        layers.append({"data": {"values": marks},
                       "mark": {"type": "text", "align": "left", "dx": 4, "dy": -4, "baseline": "top",
                                "color": INK, "fontSize": 11},
                       "encoding": {"x": {"field": "time", "type": "temporal"},
                                    "y": {"field": "row", "type": "quantitative", "scale": None},
                                    "text": {"field": "what"}}})
    return _spec(rows, 260, layer=layers, resolve={"scale": {"y": "shared"}})


def trend_rank(v: Mapping[str, Any]) -> dict[str, Any] | None:
    ranks = v["trending"]["ranks"]
    if not ranks:
        return None
    worst = max(r["rank"] for r in ranks)
    return _spec(ranks, 200, mark={"type": "line", "point": {"size": 18, "color": ACCENT}, "color": ACCENT,
                                   "interpolate": "step-after"},
                 encoding={"x": {"field": "time", "type": "temporal", "scale": {"type": "utc"}, "axis": TIME_AXIS},
                           "y": {"field": "rank", "type": "quantitative", "title": "trending rank",
                                 "scale": {"reverse": True, "domain": [1, max(worst, 10)], "nice": False},
                                 "axis": {"tickMinStep": 1}},
                           "tooltip": [{"field": "time", "type": "temporal", "format": "%Y-%m-%d %H:%M UTC",
                                        "formatType": "utc"}, {"field": "rank"}, {"field": "accounts"}]})


def tree(t: Mapping[str, Any]) -> dict[str, Any]:
    kinds = [k for k in KIND_COLORS if any(n["kind"] == k for n in t["nodes"])]
    noaxis = {"axis": None, "scale": {"zero": False, "nice": False, "padding": 8}}
    return _spec(t["nodes"], 300, layer=[
        {"data": {"values": t["links"]}, "mark": {"type": "rule", "color": "#bcccdc", "strokeWidth": 0.8},
         "encoding": {"x": {"field": "x", "type": "quantitative", **noaxis},
                      "y": {"field": "y", "type": "quantitative", **noaxis},
                      "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
        {"mark": {"type": "circle", "opacity": 0.9, "stroke": "white", "strokeWidth": 0.5},
         "encoding": {"x": {"field": "x", "type": "quantitative", **noaxis},
                      "y": {"field": "y", "type": "quantitative", **noaxis},
                      "size": {"condition": {"test": "datum.kind === 'root'", "value": 140}, "value": 36},
                      "color": {"field": "kind", "type": "nominal", "title": None,
                                "scale": {"domain": kinds, "range": [KIND_COLORS[k] for k in kinds]}},
                      "tooltip": [{"field": "kind"}, {"field": "depth"},
                                  {"field": "minutes", "title": "minutes after the root"}]}}],
        width=300)


def notable(v: Mapping[str, Any]) -> dict[str, Any] | None:
    rows = [{"account": n["account"]["label"], "joined_at": n["joined_at"], "followers": n.get("followers") or 0,
             "posts": n.get("posts")} for n in v["notable"]]
    if not rows:
        return None
    return _spec(rows, max(120, 22 * len(rows)),
                 mark={"type": "circle", "color": ACCENT, "opacity": 0.85},
                 encoding={"x": {"field": "joined_at", "type": "temporal", "scale": {"type": "utc"},
                                 "axis": {**TIME_AXIS, "title": "first post with the hashtag (UTC)"}},
                           "y": {"field": "account", "type": "nominal", "sort": {"field": "joined_at"}, "title": None},
                           "size": {"field": "followers", "type": "quantitative", "title": "followers"},
                           "tooltip": [{"field": "account"}, {"field": "joined_at", "type": "temporal",
                                                              "format": "%Y-%m-%d %H:%M UTC", "formatType": "utc"},
                                       {"field": "followers"}, {"field": "posts"}]})


def amplifiers(v: Mapping[str, Any]) -> dict[str, Any] | None:
    rows = [{"account": a["account"]["label"], "pagerank": a.get("pagerank") or 0, "posts": a.get("posts")}
            for a in v["amplifiers"]]
    if not rows:
        return None
    return _spec(rows, max(120, 22 * len(rows)), mark={"type": "bar", "color": BLUE},
                 encoding={"x": {"field": "pagerank", "type": "quantitative",
                                 "title": "PageRank in the interaction graph"},
                           "y": {"field": "account", "type": "nominal", "sort": "-x", "title": None},
                           "tooltip": [{"field": "account"}, {"field": "pagerank", "format": ".4f"},
                                       {"field": "posts"}]})


def totals_bar(rows: list[Mapping[str, Any]], what: str) -> dict[str, Any] | None:
    if not rows:
        return None
    data = [{"value": r["value"] or "unknown", "posts": r["posts"]} for r in rows[:15]]
    return _spec(data, max(100, 22 * len(data)), mark={"type": "bar", "color": BLUE},
                 encoding={"x": {"field": "posts", "type": "quantitative", "title": "posts"},
                           "y": {"field": "value", "type": "nominal", "sort": "-x", "title": what},
                           "tooltip": [{"field": "value", "title": what}, {"field": "posts"}]})


def languages_per_day(v: Mapping[str, Any]) -> dict[str, Any] | None:
    rows = v["reach"]["languages"].get("per_day") or []
    if len({r["day"] for r in rows}) < 2:
        return None
    return _spec(rows, 200, mark={"type": "area"},
                 encoding={"x": {"field": "day", "type": "temporal", "scale": {"type": "utc"}, "axis": DAY_AXIS},
                           "y": {"field": "posts", "type": "quantitative", "stack": "normalize",
                                 "title": "share of posts", "axis": {"format": "%"}},
                           "color": {"field": "language", "type": "nominal", "scale": {"scheme": "tableau10"}},
                           "tooltip": [{"field": "day", "type": "temporal", "format": "%Y-%m-%d", "formatType": "utc"},
                                       {"field": "language"}, {"field": "posts"}]})


def network(v: Mapping[str, Any]) -> dict[str, Any] | None:
    net = v["hashtags"]["network"]
    if len(net["nodes"]) < 2:
        return None
    noaxis = {"axis": None, "scale": {"zero": False, "nice": False, "padding": 30}}
    return _spec(net["nodes"], 340, layer=[
        {"data": {"values": net["links"]}, "mark": {"type": "rule", "color": "#bcccdc"},
         "encoding": {"x": {"field": "x", "type": "quantitative", **noaxis},
                      "y": {"field": "y", "type": "quantitative", **noaxis},
                      "x2": {"field": "x2"}, "y2": {"field": "y2"},
                      "strokeWidth": {"field": "posts", "type": "quantitative", "scale": {"range": [0.5, 6]},
                                      "legend": None},
                      "tooltip": [{"field": "a"}, {"field": "b"}, {"field": "posts", "title": "posts with both"}]}},
        {"mark": {"type": "circle", "opacity": 0.9},
         "encoding": {"x": {"field": "x", "type": "quantitative", **noaxis},
                      "y": {"field": "y", "type": "quantitative", **noaxis},
                      "size": {"field": "posts", "type": "quantitative", "scale": {"range": [40, 900]}, "legend": None},
                      "color": {"condition": {"test": "datum.movement", "value": ACCENT}, "value": BLUE},
                      "tooltip": [{"field": "hashtag"}, {"field": "posts"}]}},
        {"mark": {"type": "text", "dy": -12, "fontSize": 11, "color": INK},
         "encoding": {"x": {"field": "x", "type": "quantitative", **noaxis},
                      "y": {"field": "y", "type": "quantitative", **noaxis},
                      "text": {"field": "hashtag"}}}])


def content_mix(v: Mapping[str, Any]) -> dict[str, Any] | None:
    c = v.get("content")
    if not c or not c["per_day"]:
        return None
    labels = c["labels"]
    return _spec(c["per_day"], 220, mark={"type": "line", "point": True, "interpolate": "monotone"},
                 encoding={"x": {"field": "day", "type": "temporal", "scale": {"type": "utc"}, "axis": DAY_AXIS},
                           "y": {"field": "share", "type": "quantitative",
                                 "title": "share of the day's posts (labels overlap)", "axis": {"format": "%"}},
                           "color": {"field": "label", "type": "nominal", "title": None,
                                     "scale": {"domain": labels, "range": [LABEL_COLORS[k] for k in labels]}},
                           "tooltip": [{"field": "day", "type": "temporal", "format": "%Y-%m-%d", "formatType": "utc"},
                                       {"field": "label"}, {"field": "share", "format": ".1%"},
                                       {"field": "posts"}]})


def first_time(v: Mapping[str, Any]) -> dict[str, Any] | None:
    c = v.get("content")
    rows = (c or {}).get("first_time_per_day") or []
    if not rows:
        return None
    return _spec(rows, 180, mark={"type": "bar", "color": LABEL_COLORS["disclosure"]},
                 encoding={"x": {"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate", "axis": DAY_AXIS},
                           "y": {"field": "posts", "type": "quantitative", "title": "first-time disclosures"},
                           "tooltip": [{"field": "day", "type": "temporal", "format": "%Y-%m-%d", "formatType": "utc"},
                                       {"field": "posts"}]})


def coordination(v: Mapping[str, Any]) -> dict[str, Any] | None:
    groups = v["coordination"]["groups"]
    if not groups:
        return None
    rows = [{"group": f"group {i + 1}", "accounts": g["size"], "amplified": g["amplified"]["label"] or "-"}
            for i, g in enumerate(groups[:20])]
    return _spec(rows, max(80, 22 * len(rows)), mark={"type": "bar", "color": ACCENT},
                 encoding={"x": {"field": "accounts", "type": "quantitative", "title": "accounts in the group"},
                           "y": {"field": "group", "type": "nominal", "sort": None, "title": None},
                           "tooltip": [{"field": "group"}, {"field": "accounts"},
                                       {"field": "amplified", "title": "amplifies"}]})


def charts(v: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every chart the views support, by key (missing measures are absent)."""
    out: dict[str, dict[str, Any] | None] = {
        "timeline": timeline(v), "trend_rank": trend_rank(v), "notable": notable(v),
        "amplifiers": amplifiers(v),
        "languages": totals_bar(v["reach"]["languages"]["totals"], "language"),
        "languages_per_day": languages_per_day(v),
        "countries": totals_bar(v["reach"]["countries"]["totals"], "country"),
        "network": network(v), "content_mix": content_mix(v), "first_time": first_time(v),
        "coordination": coordination(v),
    }
    for i, t in enumerate(v["cascades"]["trees"]):
        out[f"tree{i}"] = tree(t)
    return {k: s for k, s in out.items() if s is not None}


def missing(v: Mapping[str, Any]) -> dict[str, str]:
    """Why a chart is absent, by key, in one sentence."""
    why: dict[str, str] = {}
    if not v["trending"]["ranks"]:
        why["trend_rank"] = "The movement never ranked among the trending hashtags in this window."
    if not v["notable"]:
        why["notable"] = "No notable (verified) account used the hashtag."
    if not v["amplifiers"]:
        why["amplifiers"] = "The interaction graph is empty: nobody reposted, replied to or quoted anybody."
    cov = v["reach"]["countries"]["coverage"]
    if not v["reach"]["countries"]["totals"]:
        why["countries"] = (f"The posts carry no country (place) information"
                            f"{'' if cov is None else f' (coverage {cov:.0%})'}.")
    if not v["reach"]["languages"]["totals"]:
        why["languages"] = "The posts carry no language codes."
    if len(v["hashtags"]["network"]["nodes"]) < 2:
        why["network"] = "No other hashtag appears with the movement's hashtags."
    if not v.get("content"):
        why["content_mix"] = ("The store has no content labels: run 'groundswell classify' to label the posts "
                              "(disclosure, support, news, opposition, other).")
        why["first_time"] = why["content_mix"]
    elif not (v["content"].get("first_time_per_day") or []):
        why["first_time"] = "The classifier found no first-time disclosures."
    if not v["coordination"]["groups"]:
        why["coordination"] = "No coordinated group was found."
    if not v["cascades"]["trees"]:
        why["trees"] = "No cascade to draw."
    return why
