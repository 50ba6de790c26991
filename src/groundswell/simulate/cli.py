"""``groundswell simulate``: the command line of the movement simulator.

A thin wrapper around :func:`groundswell.simulate.simulate`: options become a
:class:`~groundswell.simulate.config.SimConfig`, progress goes to stderr and
one summary line ends the run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from groundswell.errors import UsageError
from groundswell.simulate.config import COLLECTIONS, COMMUNITY_NAMES, FORMATS, LABELS, SimConfig

_D = SimConfig()


def _shares(value: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"--labels wants LABEL=SHARE pairs, got {part!r}")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--labels: {v!r} is not a number") from None
    return out


def _gap(value: str) -> tuple[str, str]:
    a, sep, b = value.partition("/")
    if not sep or not a or not b:
        raise argparse.ArgumentTypeError(f"--gap wants START/END (ISO 8601 UTC), got {value!r}")
    return a, b


def _sampled(value: str) -> tuple[str, str, float]:
    parts = value.split("/")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"--sampled wants START/END/SHARE, got {value!r}")
    try:
        return parts[0], parts[1], float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sampled: {parts[2]!r} is not a number") from None


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate a hashtag movement with ground truth, in any format",
        description="Simulate a hashtag movement over a synthetic social network and write it in one "
        "of the formats ingest reads, with its ground truth in DIR/.truth/ (truth.json, "
        "truth_posts.parquet, truth_accounts.parquet; hidden, so ingest skips it). The same arguments give "
        "byte-identical files.",
    )
    p.add_argument("--posts", type=int, default=None, metavar="N",
                   help="how many posts to make (required unless --shape); all are written unless the "
                        "collection drops some")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument("--shape", type=int, default=None, metavar="S",
                   help="draw every setting of the movement from shape seed S (docs/simulate.md, Shapes; "
                        "dev seeds 1000-1099, held-out 5000-5099); --posts and --format still apply, "
                        "the other model options are ignored")
    p.add_argument("--format", choices=FORMATS, default=None, help="output format (default: twitter-v2)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write into (created)")
    p.add_argument("--hashtag", default=_D.hashtag, metavar="TAG", help="the movement's hashtag, without '#'")
    p.add_argument("--related-hashtag", default=_D.related_hashtag, metavar="TAG",
                   help="a hashtag that rises alongside ('' for none)")
    p.add_argument("--days", type=float, default=_D.days, metavar="D", help="length of the window (default: 10)")
    p.add_argument("--start", default=_D.start, metavar="TIME", help="window start, ISO 8601 UTC")
    p.add_argument("--onset", default=_D.onset, metavar="TIME",
                   help="when the call to action is posted, ISO 8601 UTC (default: 2017-10-15T20:21Z)")
    p.add_argument("--call-has-hashtag", action=argparse.BooleanOptionalAction, default=_D.call_has_hashtag,
                   help="whether the call to action itself carries the hashtag (default: no)")
    p.add_argument("--accounts", type=int, default=None, metavar="N",
                   help="accounts in the network (default: posts/10, 400..500,000)")
    p.add_argument("--origin", choices=COMMUNITY_NAMES, default=_D.origin, help="the origin community")
    p.add_argument("--notables", type=int, default=_D.notables, metavar="N", help="notable accounts (default: 8)")
    p.add_argument("--waves", type=int, default=_D.waves, metavar="N", help="later news waves (default: 2)")
    p.add_argument("--coordinated", type=int, default=_D.coordinated, metavar="N",
                   help="members of a coordinated group reposting their leader within seconds (default: 0)")
    p.add_argument("--deletions", type=float, default=_D.deletions, metavar="FRACTION",
                   help="share of posts deleted later (default: 0.02)")
    p.add_argument("--background-share", type=float, default=_D.background_share, metavar="FRACTION",
                   help="expected share of background chatter (default: 0.35)")
    p.add_argument("--labels", type=_shares, default=None, metavar="L=S,...",
                   help=f"label shares of movement posts ({', '.join(LABELS)}); must sum to 1")
    p.add_argument("--first-time-share", type=float, default=_D.first_time_share, metavar="FRACTION",
                   help="share of disclosures that are first-time (default: 0.4)")
    p.add_argument("--branching", type=float, default=_D.branching, metavar="R",
                   help="mean offspring per movement post, < 1 (default: 0.8)")
    g = p.add_argument_group("the call to action and the crowd")
    g.add_argument("--call-reposts", type=float, default=_D.call_reposts, metavar="X",
                   help="the call's reposts, as a multiple of an ordinary movement post's (default: 12)")
    g.add_argument("--call-replies", type=float, default=_D.call_replies, metavar="X",
                   help="same, replies (default: 25)")
    g.add_argument("--call-quotes", type=float, default=_D.call_quotes, metavar="X", help="same, quotes (default: 1)")
    g.add_argument("--call-adopts", type=float, default=_D.call_adopts, metavar="X",
                   help="same, own posts with the hashtag that do not link back (default: 1)")
    g.add_argument("--notable-boost", type=float, default=_D.notable_boost, metavar="X",
                   help="notables' and news posts' reposts and replies, as a multiple (default: 4)")
    g.add_argument("--seed-rank", type=int, default=_D.seed_rank, metavar="K",
                   help="the call comes from the origin community's K-th most followed notable (default: 0)")
    g.add_argument("--reply-hashtag-share", type=float, default=_D.reply_hashtag_share, metavar="FRACTION",
                   help="replies that carry the hashtag (default: 0.93)")
    g.add_argument("--call-mentions", type=float, default=_D.call_mention_share, metavar="FRACTION",
                   help="movement posts after the onset that mention the call's author (default: 0)")
    g.add_argument("--call-links", type=float, default=_D.call_link_share, metavar="FRACTION",
                   help="movement posts after the onset that link to the call (default: 0)")
    g.add_argument("--ramp-hours", type=float, default=_D.ramp_hours, metavar="H",
                   help="rise time of the outside rate of movement posts (default: 4)")
    g.add_argument("--decay-hours", type=float, default=_D.decay_hours, metavar="H",
                   help="decay of the outside rate of movement posts (default: 6)")
    g.add_argument("--decoys", type=int, default=_D.decoys, metavar="N",
                   help="accounts mentioned steadily by all kinds of posts, brands or platforms (default: 0)")
    g.add_argument("--decoy-mentions", type=float, default=_D.decoy_mention_share, metavar="FRACTION",
                   help="posts that mention one of the decoys (default: 0.05)")
    c = p.add_argument_group("collection")
    c.add_argument("--collection", choices=COLLECTIONS, default=_D.collection,
                   help="stream: every post; search: only posts carrying the hashtag (default: stream; "
                        "csv-scraped is always a search)")
    c.add_argument("--gap", type=_gap, action="append", default=None, metavar="START/END",
                   help="nothing collected from START to END (ISO 8601 UTC); repeatable")
    c.add_argument("--sampled", type=_sampled, action="append", default=None, metavar="START/END/SHARE",
                   help="from START to END keep each post with probability SHARE; repeatable")
    c.add_argument("--scraped-retweets", type=float, default=_D.scraped_retweet_share, metavar="FRACTION",
                   help="csv-scraped: reposts kept, as 'RT @ name:' rows (default: 0.05)")
    p.add_argument("--compress", choices=("gz", "zst"), default=None, help="compress the posts file(s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> SimConfig:
    if args.shape is not None:
        from groundswell.simulate.shapes import draw_shape

        cfg = draw_shape(args.shape)
        if args.posts is not None:
            cfg.posts = args.posts
        if args.format is not None:
            cfg.format = args.format
        cfg.compress = args.compress
        cfg.quiet = args.quiet or not sys.stderr.isatty()
        return cfg
    if args.posts is None:
        raise UsageError("--posts N is required (or --shape S)")
    cfg = SimConfig(
        posts=args.posts,
        seed=args.seed,
        format=args.format or _D.format,
        hashtag=args.hashtag.lstrip("#"),
        related_hashtag=(args.related_hashtag.lstrip("#") or None) if args.related_hashtag else None,
        start=args.start,
        days=args.days,
        onset=args.onset,
        call_has_hashtag=args.call_has_hashtag,
        accounts=args.accounts,
        origin=args.origin,
        notables=args.notables,
        waves=args.waves,
        coordinated=args.coordinated,
        deletions=args.deletions,
        background_share=args.background_share,
        first_time_share=args.first_time_share,
        branching=args.branching,
        call_reposts=args.call_reposts,
        call_replies=args.call_replies,
        call_quotes=args.call_quotes,
        call_adopts=args.call_adopts,
        notable_boost=args.notable_boost,
        seed_rank=args.seed_rank,
        reply_hashtag_share=args.reply_hashtag_share,
        call_mention_share=args.call_mentions,
        call_link_share=args.call_links,
        ramp_hours=args.ramp_hours,
        decay_hours=args.decay_hours,
        decoys=args.decoys,
        decoy_mention_share=args.decoy_mentions,
        collection=args.collection,
        gaps=args.gap or [],
        sampled=args.sampled or [],
        scraped_retweet_share=args.scraped_retweets,
        compress=args.compress,
        quiet=args.quiet or not sys.stderr.isatty(),
    )
    if args.labels is not None:
        cfg.label_shares = args.labels
    return cfg


def run(args: argparse.Namespace) -> int:
    from groundswell.simulate.run import simulate

    try:
        cfg = config_from_args(args)
    except ValueError as e:
        raise UsageError(str(e)) from None
    result = simulate(cfg, out=args.out)
    print(result.summary(), file=sys.stderr)
    return 0
