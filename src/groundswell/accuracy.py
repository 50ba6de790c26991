"""How right the movement analysis is on drawn movements: the accuracy harness.

Unlike the rest of :mod:`groundswell.simulate` (which writes platform files
and knows nothing of the store), this module sits on top of everything: for
each shape seed it simulates the movement (:func:`.shapes.draw_shape`),
ingests the files into a fresh store, runs :func:`groundswell.analysis.analyze`
at each interval and scores the answers against the truth:

* **ignition**: against ``truth["ignition"]["expected"]``: ``post`` -- the
  call's post must be named; ``account`` -- the call's id is nowhere in the
  files, so its account must be named, with no other post; ``undetermined``
  -- fewer than 10 collected posts point at the call or its author: any answer
  but a wrong name is right ("undetermined", the call, or its account). An
  answer whose ``confidence`` is ``"undetermined"`` names nothing, whatever
  ids it lists.
* **takeoff**: ``onset.takeoff`` within one hour of ``truth["takeoff"]["at"]``.
* **communities** (:func:`leiden_sweep`): the Leiden partition of the
  participants at several resolutions against the true communities
  (normalized mutual information and adjusted Rand index over the accounts
  placed in a community), how many communities were found (there are 9),
  and the largest gap between the share of hashtag posts from outside the
  seed community per hour and the truth's share from outside the origin
  community (hours with at least 30 posts of known community), so the
  resolution is chosen from a table, not fitted to one movement.

``evaluate(seeds)`` returns one :class:`Movement` per seed; ``summarize``
aggregates them; ``scripts/sim_accuracy.py`` prints the tables. Develop on
:data:`.shapes.DEV_SEEDS`; quote :data:`.shapes.HELD_OUT_SEEDS` only.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from groundswell.stats import wilson

INTERVALS = ("minute", "hour", "day")
RESOLUTIONS = (0.5, 1.0, 1.5, 2.0, 3.0)
TAKEOFF_TOLERANCE = timedelta(hours=1)


@dataclass
class Movement:
    """One drawn movement and how the analysis did on it."""

    seed: int
    format: str = ""
    posts: int = 0
    collected: int = 0
    collection: str = ""
    call_has_hashtag: bool = False
    expected: str = ""
    truth_takeoff: str | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # interval -> scores
    leiden: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _t(value: Any) -> datetime | None:
    """ISO 8601 text -> naive UTC."""
    if not value:
        return None
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return dt.replace(tzinfo=None) - (dt.utcoffset() or timedelta(0))


def score_ignition(ign: dict[str, Any] | None, truth: dict[str, Any]) -> tuple[bool, str]:
    """(right, what was said) for an ``onset.ignition`` answer against ``truth["ignition"]``.

    What was said: ``post`` (the call), ``account`` (the call's account, no post), ``undetermined``,
    ``other post`` or ``other account`` (a wrong name).
    """
    ign = ign or {}
    undetermined = str(ign.get("confidence") or "").lower() == "undetermined"
    post = None if undetermined else ign.get("post_id")
    account = None if undetermined else ign.get("account_id")
    handle = None if undetermined else ign.get("handle")
    acct_ok = (account is not None and account == truth["account_id"]) or (
        handle is not None and str(handle).lower().lstrip("@") == str(truth["handle"]).lower())
    if post is not None:
        said = "post" if post == truth["post_id"] else "other post"
    elif account is not None or handle is not None:
        said = "account" if acct_ok else "other account"
    else:
        said = "undetermined"
    if said == "post" and account is not None and not acct_ok:
        said = "other account"  # the right post under a wrong account is still a wrong name
    expected = truth["expected"]
    if expected == "post":
        right = said == "post"
    elif expected == "account":
        right = said in ("post", "account")
    else:
        right = said in ("post", "account", "undetermined")
    return right, said


def score_takeoff(found: Any, truth_at: Any) -> tuple[bool, float | None]:
    """(within the tolerance, hours off) of a takeoff answer."""
    a, b = _t(found), _t(truth_at)
    if a is None or b is None:
        return False, None
    off = (a - b) / timedelta(hours=1)
    return abs(off) <= TAKEOFF_TOLERANCE / timedelta(hours=1), round(off, 3)


def _truth_outside(truth_dir: Path, origin: str, tag: str) -> dict[str, float]:
    """Per hour (ISO), the share of collected hashtag posts from outside the origin community."""
    import pyarrow.parquet as pq

    rows = pq.read_table(truth_dir / "truth_posts.parquet",
                         columns=["created_at", "hashtags", "community", "collected"]).to_pylist()
    n: Counter[datetime] = Counter()
    out: Counter[datetime] = Counter()
    for r in rows:
        if r["collected"] and tag in (r["hashtags"] or []):
            h = r["created_at"].replace(minute=0, second=0, microsecond=0)
            n[h] += 1
            out[h] += r["community"] != origin
    return {k.strftime("%Y-%m-%dT%H:%M:%SZ"): out[k] / n[k] for k in n}


def leiden_sweep(store: Any, truth: dict[str, Any], truth_dir: Path,
                 resolutions: Sequence[float] = RESOLUTIONS) -> list[dict[str, Any]]:
    """The community results of one stored movement at each Leiden resolution (see the module doc)."""
    import igraph as ig
    import pyarrow.parquet as pq

    from groundswell.analysis import sql
    from groundswell.analysis.cascades import store_follows
    from groundswell.analysis.people import people
    from groundswell.analysis.scope import movement_scope
    from groundswell.analysis.timeline import timeline_rows

    tag = truth["hashtag"].casefold()
    true_comm = {r["id"]: r["community"] for r in
                 pq.read_table(truth_dir / "truth_accounts.parquet", columns=["id", "community"]).to_pylist()}
    curve = _truth_outside(truth_dir, truth["config"]["origin"], tag)
    scope = movement_scope(store, [tag], interval="hour")
    follows = store_follows(store, scope)
    rows = timeline_rows(store, scope)
    seed_account = (truth.get("ignition") or {}).get("account_id")
    out = []
    try:
        for res in resolutions:
            p = people(store, scope, rows, seed_account, follows, resolution=res)
            cm = p["communities"]
            memb = sql.rows(store, "SELECT account, community FROM gs_membership") if cm.get("count") else []
            pairs = [(true_comm[m["account"]], int(m["community"])) for m in memb if m["account"] in true_comm]
            names = {c: i for i, c in enumerate(sorted({a for a, _ in pairs}))}
            if len(pairs) >= 2:
                a = [names[x] for x, _ in pairs]
                b = [y for _, y in pairs]
                nmi = ig.compare_communities(a, b, method="nmi")
                ari = ig.compare_communities(a, b, method="adjusted_rand")
            else:
                nmi = ari = None
            diffs = [abs(r["share"] - curve[r["time"]]) for r in cm.get("outside_seed", [])
                     if r["share"] is not None and r["known"] >= 30 and r["time"] in curve]
            out.append({"resolution": cm.get("resolution", res), "basis": cm.get("basis"),
                        "communities": cm.get("count", 0),
                        "placed": len(pairs), "nmi": None if nmi is None else round(float(nmi), 4),
                        "ari": None if ari is None else round(float(ari), 4),
                        "outside_max_diff": round(max(diffs), 4) if diffs else None})
            sql.drop(store, "gs_membership")
    finally:
        for name in ("gs_membership", "gs_movement", "gs_follows"):
            sql.drop(store, name)
    return out


def run_movement(seed: int, workdir: str | Path, intervals: Sequence[str] = INTERVALS,
                 resolutions: Sequence[float] = (), keep: bool = False, posts: int | None = None) -> Movement:
    """Simulate shape ``seed``, ingest it, analyze it at each interval and score the answers.
    ``posts`` overrides the drawn size (quick checks; not for reported figures)."""
    from groundswell.analysis import analyze
    from groundswell.ingest import ingest
    from groundswell.simulate.run import simulate
    from groundswell.simulate.shapes import draw_shape
    from groundswell.store import open_store

    t0 = time.perf_counter()
    cfg = draw_shape(seed)
    if posts is not None:
        cfg.posts = posts
    m = Movement(seed=seed, format=cfg.format, collection=cfg.collection, call_has_hashtag=cfg.call_has_hashtag)
    base = Path(workdir) / f"shape-{seed}"
    shutil.rmtree(base, ignore_errors=True)
    try:
        res = simulate(cfg, out=base / "sim")
        truth = res.truth
        ign_truth = truth["ignition"]
        m.posts, m.collected = truth["posts"], truth["collection"]["posts_collected"]
        m.expected, m.truth_takeoff = ign_truth["expected"], truth["takeoff"]["at"]
        db = base / "store.duckdb"
        with open_store(db) as s:
            ingest(s, [str(base / "sim")], progress=False)
        with open_store(db, read_only=True) as s:
            for iv in intervals:
                try:
                    r = analyze(s, [truth["hashtag"]], interval=iv)
                except Exception as e:  # noqa: BLE001 - a failed analysis is a wrong answer, recorded
                    m.results[iv] = {"ignition": False, "said": "error", "takeoff": False, "takeoff_off_h": None,
                                     "error": f"{type(e).__name__}: {e}"}
                    continue
                on = r.get("onset") or {}
                ign = on.get("ignition")
                right, said = score_ignition(ign, ign_truth)
                ok, off = score_takeoff(on.get("takeoff"), truth["takeoff"]["at"])
                m.results[iv] = {"ignition": right, "said": said, "confidence": (ign or {}).get("confidence"),
                                 "second_look": bool((ign or {}).get("second_look")),
                                 "post_by": (ign or {}).get("post_by"), "takeoff": ok, "takeoff_off_h": off}
            if resolutions:
                m.leiden = leiden_sweep(s, truth, res.truth_dir, resolutions)
    except Exception as e:  # noqa: BLE001 - the harness reports, it does not stop at one movement
        m.error = f"{type(e).__name__}: {e}"
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    m.seconds = round(time.perf_counter() - t0, 2)
    return m


def _one(args: tuple[int, str, tuple[str, ...], tuple[float, ...], bool]) -> Movement:
    return run_movement(*args)


def evaluate(seeds: Iterable[int], intervals: Sequence[str] = INTERVALS, resolutions: Sequence[float] = (),
             workdir: str | Path | None = None, jobs: int = 1, keep: bool = False,
             on_movement: Callable[[Movement], None] | None = None) -> list[Movement]:
    """Run and score the movements of ``seeds`` (in seed order; ``jobs`` processes)."""
    seeds = list(seeds)
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="gs-accuracy-")
        workdir = tmp.name
    args = [(s, str(workdir), tuple(intervals), tuple(resolutions), keep) for s in seeds]
    out: list[Movement] = []
    try:
        if jobs <= 1:
            for a in args:
                out.append(_one(a))
                if on_movement is not None:
                    on_movement(out[-1])
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawned, not forked: the caller may hold threads (DuckDB's, a test runner's) a fork would copy mid-work
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                for m in pool.map(_one, args):
                    out.append(m)
                    if on_movement is not None:
                        on_movement(m)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return out


def summarize(movements: Sequence[Movement], intervals: Sequence[str] = INTERVALS) -> dict[str, Any]:
    """Per interval: ignition and takeoff scores (with Wilson intervals), what was said by what
    was expected, the seeds that failed; per resolution: the community figures (means, medians)."""
    out: dict[str, Any] = {"movements": len(movements), "errors": [m.seed for m in movements if m.error],
                           "expected": dict(Counter(m.expected for m in movements)), "intervals": {}}
    for iv in intervals:
        rows = [(m, m.results.get(iv)) for m in movements]
        n = len(rows)
        ign = sum(1 for _, r in rows if r and r["ignition"])
        tk = sum(1 for _, r in rows if r and r["takeoff"])
        offs = sorted(abs(r["takeoff_off_h"]) for _, r in rows if r and r["takeoff_off_h"] is not None)
        said: dict[str, Counter[str]] = defaultdict(Counter)
        for m, r in rows:
            said[m.expected][r["said"] if r else "error"] += 1
        out["intervals"][iv] = {
            "n": n,
            "ignition_right": ign, "ignition_share": round(ign / n, 4) if n else None, "ignition_ci": wilson(ign, n),
            "takeoff_within_1h": tk, "takeoff_share": round(tk / n, 4) if n else None, "takeoff_ci": wilson(tk, n),
            "takeoff_median_abs_off_h": offs[len(offs) // 2] if offs else None,
            "takeoff_max_abs_off_h": offs[-1] if offs else None,
            "said_by_expected": {k: dict(v) for k, v in sorted(said.items())},
            "ignition_failures": [m.seed for m, r in rows if not (r and r["ignition"])],
            # names given on the second look (mentions to the end of the main stretch), and how many right
            "second_look": sum(1 for _, r in rows if r and r.get("second_look")),
            "second_look_right": sum(1 for _, r in rows if r and r.get("second_look") and r["ignition"]),
            "takeoff_failures": [m.seed for m, r in rows if not (r and r["takeoff"])],
        }
    by_res: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for m in movements:
        for row in m.leiden:
            by_res[row["resolution"]].append(row)

    def mean(xs: list[float]) -> float | None:
        return round(sum(xs) / len(xs), 4) if xs else None

    def median(xs: list[float]) -> float | None:
        xs = sorted(xs)
        return xs[len(xs) // 2] if xs else None

    out["leiden"] = [{
        "resolution": res, "movements": len(rows),
        "nmi_mean": mean([r["nmi"] for r in rows if r["nmi"] is not None]),
        "ari_mean": mean([r["ari"] for r in rows if r["ari"] is not None]),
        "communities_median": median([r["communities"] for r in rows]),
        "outside_max_diff_median": median([r["outside_max_diff"] for r in rows if r["outside_max_diff"] is not None]),
        "outside_max_diff_le_0.05": sum(1 for r in rows if r["outside_max_diff"] is not None
                                        and r["outside_max_diff"] <= 0.05),
        "outside_measured": sum(1 for r in rows if r["outside_max_diff"] is not None),
    } for res, rows in sorted(by_res.items())]
    return out
