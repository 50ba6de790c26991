"""The dashboard's pseudonym lookups (/post/post-…, /account/user-…): hashing every row vs the label index.

    python benchmarks/label_lookup.py --posts 100000 [--db STORE] [--repeat 15]

Simulates and ingests a movement (unless --db names a store), then times, as
medians of --repeat lookups, a known and an unknown post label and account
label: the old way (``gs_post(platform, id) = ?`` over every row, what the
dashboard did under its lock) and :class:`groundswell.privacy.LabelIndex`
(one build, then indexed probes). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--db", help="an existing store (else a movement is simulated)")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()

    from groundswell import privacy
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    tmp = tempfile.mkdtemp(prefix="gs-labels-")
    db = args.db
    if db is None:
        from groundswell.simulate import SimConfig, simulate

        res = simulate(SimConfig(posts=args.posts, seed=11), out=str(Path(tmp) / "sim"))
        db = str(Path(tmp) / "s.duckdb")
        with open_store(db) as s:
            ingest(s, [str(f) for f in res.files], progress=False)
            privacy.ensure_secret(s)
    with open_store(db, read_only=True) as s:
        n = s.con.execute("SELECT count(*) FROM posts").fetchone()[0]
        ps = privacy.Pseudonymizer(s)
        ps.sql_macros()
        plat, pid, aid = s.con.execute("SELECT platform, id, author_id FROM posts WHERE author_id IS NOT NULL "
                                       "ORDER BY id DESC LIMIT 1").fetchone()
        post, acc = ps.post_label(plat, pid), ps.label(plat, aid)
        unknown_post, unknown_acc = "post-000000000000", "user-000000000000"

        def old_post(label: str) -> Any:
            return s.con.execute("SELECT platform, id FROM posts WHERE gs_post(platform, id) = ? LIMIT 1",
                                 [label]).fetchone()

        def old_acc(label: str) -> Any:
            return s.con.execute("SELECT platform, author_id FROM posts WHERE author_id IS NOT NULL AND "
                                 "gs_account(platform, author_id) = ? LIMIT 1", [label]).fetchone()

        idx = privacy.LabelIndex(ps)
        t = time.perf_counter()
        idx.post(post)
        build = time.perf_counter() - t
        assert idx.post(post) == (plat, pid) and old_post(post) == (plat, pid)
        rows = [
            ("post label, known", _median_ms(lambda: old_post(post), args.repeat),
             _median_ms(lambda: idx.post(post), args.repeat)),
            ("post label, unknown", _median_ms(lambda: old_post(unknown_post), args.repeat),
             _median_ms(lambda: idx.post(unknown_post), args.repeat)),
            ("account label, known", _median_ms(lambda: old_acc(acc), args.repeat),
             _median_ms(lambda: idx.account(acc), args.repeat)),
            ("account label, unknown", _median_ms(lambda: old_acc(unknown_acc), args.repeat),
             _median_ms(lambda: idx.account(unknown_acc), args.repeat)),
        ]
    print(f"{n:,} posts; index built in {build:.2f} s (once; then only new rows)")
    print(f"{'lookup':<24} {'hash every row (ms)':>20} {'index (ms)':>11} {'ratio':>7}")
    for name, old, new in rows:
        print(f"{name:<24} {old:>20.2f} {new:>11.3f} {old / new:>6.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
