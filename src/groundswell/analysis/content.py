"""Content mix: what the movement's posts say, over time, per community and
among notable accounts, from the content classifier's ``post_labels`` table
(one boolean per label and post, per model; :mod:`groundswell.content`).

Counted over the movement's own words: posts that are not reposts and that
the classifier covered. Shares are of those posts; ``first_time`` disclosures
are also counted per day. Only present when the store has ``post_labels``.
"""

from __future__ import annotations

from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope, bucket

COLUMNS_SQL = """
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'post_labels'
"""

MODELS_SQL = "SELECT model, count(*) AS n FROM post_labels GROUP BY model ORDER BY n DESC, model"

LABELLED_SQL = """
SELECT m.account, m.created_at, {cols}
FROM {mv} m JOIN post_labels l ON l.platform = m.platform AND l.id = m.id
WHERE l.model = {model} AND m.kind <> 'repost' AND l.covered
"""

MIX_SQL = """
SELECT {group} AS g, count(*) AS posts, {sums} FROM gs_labelled x {join} GROUP BY 1 ORDER BY 1
"""


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
            out.append({"group": sql.iso(g) if hasattr(g, "isoformat") else g, "posts": n,
                        "shares": {k: round((r[k] or 0) / n, 4) if n else None for k in labels}})
        return out

    res: dict[str, Any] = {"model": model, "labels": labels, "over": "covered movement posts that are not reposts"}
    res["overall"] = (mix("'all'") or [{}])[0]
    res["over_time"] = [{"time": r.pop("group"), **r} for r in mix(bucket(scope.interval, "x.created_at").sql)]
    if has_communities:
        per = mix("c.community", "JOIN gs_membership c ON c.account = x.account")
        per.sort(key=lambda r: -r["posts"])
        res["per_community"] = [{"community": r.pop("group"), **r} for r in per[:10]]
    if notable_ids:
        nl = sql.Raw(sql.in_list(notable_ids))
        res["notable"] = (mix("'notable'", f"WHERE x.account IN {nl.sql}") or [{"posts": 0}])[0]
        res["notable"].pop("group", None)
    if "first_time" in labels and "disclosure" in labels:
        res["first_time_disclosures_per_day"] = [
            {"day": sql.iso(r["t"]), "posts": r["n"]} for r in sql.rows(
                store, "SELECT date_trunc('day', created_at) AS t, count(*) AS n FROM gs_labelled "
                       "WHERE first_time AND disclosure GROUP BY 1 ORDER BY 1")]
    sql.drop(store, "gs_labelled")
    return res
