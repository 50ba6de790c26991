"""``groundswell analyze`` and ``groundswell network``: thin wrappers around
:func:`groundswell.analysis.analyze` and :func:`groundswell.analysis.build_network`."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from groundswell.errors import UsageError
from groundswell.spark_cli import add_db_option

ANALYZE_MEMORY_LIMIT = "2GB"

_SIZE = re.compile(r"(\d{1,12}(?:\.\d{1,6})?)\s?((?:[KMGT]I?)?B)", re.IGNORECASE)


def memory_limit(value: str) -> str:
    """``--memory-limit`` checked: a number and a unit (B, KB, MB, GB, TB, KiB ... TiB), as DuckDB writes them.

    Anything else is refused before it reaches DuckDB, and the value goes to
    DuckDB as a bound parameter, never as SQL text."""
    m = _SIZE.fullmatch(value.strip())
    if m is None:
        raise UsageError(f"--memory-limit {value[:40]!r}: give a size such as 2GB, 500MB or 1.5GiB "
                         "(a number and B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)")
    unit = m.group(2).upper().replace("IB", "iB")
    return f"{m.group(1)}{unit}"


def _cap_memory(store: Any, args: argparse.Namespace) -> None:
    """DuckDB's buffer pool for the analysis (default 2 GB; DuckDB spills beyond it).

    Without a cap DuckDB may take 80% of the machine; with 3 GB a 10M-post
    analysis peaked at 4.0-4.2 GB (igraph and Python come on top), with 2 GB at
    3.5 GB and no slower (docs/analysis.md, Speed)."""
    value = getattr(args, "memory_limit", None)
    if not value:
        return
    size = memory_limit(value)
    if getattr(store, "engine", None) == "duckdb":
        import duckdb

        try:
            store.con.execute("SET memory_limit = ?", [size])
        except duckdb.Error as e:  # DuckDB names what it could not use
            raise UsageError(f"--memory-limit {size}: {str(e).splitlines()[0]}") from None


def _memory_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-limit", default=ANALYZE_MEMORY_LIMIT, metavar="SIZE",
                   help=f"with the DuckDB engine: its memory cap (default {ANALYZE_MEMORY_LIMIT}; "
                        "it spills to disk beyond it)")


def cmd_analyze(args: argparse.Namespace) -> int:
    from groundswell import privacy
    from groundswell.analysis.movement import analyze, render_text
    from groundswell.spark_cli import store_from_args
    from groundswell.terminal import clean, clean_text

    memory_limit(args.memory_limit)  # refused before anything is opened
    if args.engine == "duckdb":
        privacy.ensure_pseudonym_key(args.db)
    with store_from_args(args) as store:
        _cap_memory(store, args)
        result = analyze(store, args.hashtag, args.start, args.end, args.interval, followers=args.followers)
        policy = privacy.Policy.from_store(store, identify=args.identify)
        result = privacy.pseudonymize_result(store, result, policy)
    print(f"privacy: {clean(result['privacy']['notice'])}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(clean_text(render_text(result)))  # hashtags and handles come from the data
    return 0


def cmd_network(args: argparse.Namespace) -> int:
    from groundswell.analysis.network import build_network, write_network

    edges: list[str] = []
    for e in args.edges or ["repost,reply,quote,mention"]:
        edges += [x for x in e.split(",") if x.strip()]
    from groundswell import privacy
    from groundswell.spark_cli import store_from_args

    memory_limit(args.memory_limit)  # refused before anything is opened
    if args.engine == "duckdb":
        privacy.ensure_pseudonym_key(args.db)
    with store_from_args(args) as store:
        _cap_memory(store, args)
        g = build_network(store, nodes=args.nodes, edges=edges, hashtag=args.hashtag,
                          min_component_size=args.min_component_size, max_component_size=args.max_component_size)
        policy = privacy.Policy.from_store(store, identify=args.identify)
        privacy.pseudonymize_network(store, g, policy, args.nodes)
    print(f"privacy: {privacy.privacy_header(policy)['notice']}", file=sys.stderr)
    if args.output in (None, "-"):
        write_network(g, args.format, sys.stdout)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            write_network(g, args.format, f)
        print(f"wrote {len(g.nodes):,} nodes and {len(g.links):,} links to {args.output}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    from groundswell.spark_cli import register_engine_options

    p = sub.add_parser("analyze", help="every answer about a hashtag movement",
                       description="Timeline, trending rank, onset and ignition, spread, cascades, people, "
                                   "related hashtags, reach and coordination of a movement.")
    p.add_argument("--hashtag", required=True, action="append", metavar="TAG",
                   help="the movement's hashtag (repeat or comma-separate for a set; case-insensitive)")
    add_db_option(p)
    p.add_argument("--interval", default="hour", choices=("minute", "hour", "day"))
    p.add_argument("--start", metavar="TIME", help="only posts from this UTC time (ISO 8601)")
    p.add_argument("--end", metavar="TIME", help="only posts before this UTC time (ISO 8601)")
    p.add_argument("--followers", metavar="FILE.parquet",
                   help="follower edge list (follower_id, followed_id) to reconstruct repost cascades")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    _memory_option(p)
    p.add_argument("--identify", action="store_true",
                   help="real account ids and handles instead of pseudonyms for people who are not public figures")
    register_engine_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("network", help="a users, posts or hashtags network for Gephi",
                       description="Write the network of accounts, posts or hashtags (as twarc-network does).")
    add_db_option(p)
    p.add_argument("--nodes", default="users", choices=("users", "posts", "tweets", "hashtags"))
    p.add_argument("--edges", action="append", metavar="TYPES",
                   help="repost,reply,quote,mention (default all; 'retweet' is accepted for repost)")
    p.add_argument("--hashtag", action="append", metavar="TAG", help="only posts carrying this hashtag")
    p.add_argument("--min-component-size", type=int, metavar="N")
    p.add_argument("--max-component-size", type=int, metavar="N")
    p.add_argument("--format", default="json", choices=("json", "csv", "gexf", "graphml"))
    p.add_argument("--output", metavar="PATH", help="file to write (default stdout)")
    _memory_option(p)
    p.add_argument("--identify", action="store_true",
                   help="real handles instead of pseudonyms for people who are not public figures")
    register_engine_options(p)
    p.set_defaults(func=cmd_network)
