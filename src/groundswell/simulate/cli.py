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
from groundswell.simulate.config import COMMUNITY_NAMES, FORMATS, LABELS, SimConfig

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


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate a hashtag movement with ground truth, in any format",
        description="Simulate a hashtag movement over a synthetic social network and write it in one "
        "of the formats ingest reads, with its ground truth in DIR/.truth/ (truth.json, "
        "truth_posts.parquet, truth_accounts.parquet; hidden, so ingest skips it). The same arguments give "
        "byte-identical files.",
    )
    p.add_argument("--posts", type=int, required=True, metavar="N", help="how many posts to write")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument("--format", choices=FORMATS, default=_D.format, help="output format (default: twitter-v2)")
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
    p.add_argument("--compress", choices=("gz", "zst"), default=None, help="compress the posts file(s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> SimConfig:
    cfg = SimConfig(
        posts=args.posts,
        seed=args.seed,
        format=args.format,
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
