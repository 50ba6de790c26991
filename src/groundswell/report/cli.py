"""``groundswell report``: a thin wrapper around :func:`groundswell.report.html.write`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from groundswell.errors import check_output
from groundswell.spark_cli import add_db_option

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    from groundswell.privacy import ensure_pseudonym_key
    from groundswell.report import brief, html
    from groundswell.store import open_store

    check_output(args.output, "--output")
    if args.brief:
        check_output(args.brief, "--brief")
    if ensure_pseudonym_key(args.db):
        print(f"created the pseudonym key of {args.db}", file=sys.stderr)
    with open_store(args.db, read_only=True) as store:
        views = html.write(store, args.hashtag, args.output, brief_path=args.brief, start=args.start, end=args.end,
                           interval=args.interval, identify=args.identify, followers=args.followers)
    size = os.path.getsize(args.output)
    if not args.quiet:
        print(f"wrote {args.output} ({size / 1e6:.1f} MB)" + (f" and {args.brief}" if args.brief else ""),
              file=sys.stderr)
    print(f"privacy: {views['privacy']['notice']}", file=sys.stderr)
    if not args.quiet:
        sys.stdout.write(os.path.abspath(args.output) + "\n\n" + brief.markdown(views))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="one self-contained HTML report of a movement, and its written brief",
                       description="Analyze a movement and write one HTML file that works offline (charts, "
                                   "brief, scripts and data inlined; no network request), and optionally the "
                                   "brief as Markdown. Accounts that are not public figures appear as pseudonyms; "
                                   "the text of disclosures is never shown.")
    p.add_argument("--hashtag", required=True, action="append", metavar="TAG",
                   help="the movement's hashtag (repeat or comma-separate for a set; case-insensitive)")
    add_db_option(p)
    p.add_argument("--output", "-o", required=True, metavar="REPORT.html", help="the HTML file to write")
    p.add_argument("--brief", metavar="BRIEF.md", help="also write the brief as Markdown")
    p.add_argument("--interval", default="hour", choices=("minute", "hour", "day"))
    p.add_argument("--start", metavar="TIME", help="only posts from this UTC time (ISO 8601)")
    p.add_argument("--end", metavar="TIME", help="only posts before this UTC time (ISO 8601)")
    p.add_argument("--followers", metavar="FILE.parquet", help="follower edges to reconstruct repost cascades")
    p.add_argument("--identify", action="store_true",
                   help="name every account by its handle (the report says so); default: pseudonyms")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the path and the brief")
    p.set_defaults(func=run)
