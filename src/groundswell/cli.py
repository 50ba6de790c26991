"""The ``groundswell`` command line: thin wrappers around library calls.

Data goes to stdout; progress and messages to stderr. Errors are one line
that says how to fix them, and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import sys
from typing import Any, Callable, Sequence

from groundswell import __version__
from groundswell.errors import GroundswellError, UsageError
from groundswell.spark_cli import add_db_option

# feature packages that add their own subcommands: module with register(subparsers)
_PLUGINS = (
    "groundswell.simulate.cli",
    "groundswell.content.cli",
    "groundswell.analysis.cli",
    "groundswell.report.cli",
    "groundswell.web.cli",
    "groundswell.live.cli",
    "groundswell.collect.cli",
    "groundswell.privacy_cli",
)



def _columns(value: str) -> dict[str, str]:
    out = {}
    for part in value.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"--columns wants NAME=COLUMN pairs, got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip().lower()] = v.strip()
    return out


def cmd_ingest(args: argparse.Namespace) -> int:
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    def on_file(res: Any) -> None:
        if res.error:
            print(f"error: {res.error}", file=sys.stderr)
        elif res.skipped:
            print(f"{res.path}: already ingested ({res.format}); nothing added", file=sys.stderr)
        elif not args.quiet:
            resumed = f", resumed after line {res.resumed_from:,}" if res.resumed_from else ""
            print(f"{res.path}: {res.format or 'empty'}, {res.lines:,} lines, {res.posts_read:,} posts read, "
                  f"{res.new_posts:,} new, {res.accounts_read:,} account observations, "
                  f"{res.rejected:,} rejected{resumed} ({res.seconds:.1f} s)", file=sys.stderr)

    if args.engine == "spark":
        from groundswell.spark_cli import ingest_from_args
        from groundswell.store.engine import Unsupported

        if args.encoding or args.delimiter:  # the delimiter is still guessed from each header
            raise Unsupported("spark", "--encoding and --delimiter", "ingest with the DuckDB engine, "
                              "or convert the file to UTF-8 with commas first")

        summary = ingest_from_args(args, on_file=on_file)
        return _ingest_summary(args, summary)
    with open_store(args.db) as store:
        summary = ingest(store, args.paths, format=args.format, columns=args.columns,
                         platform=args.platform, progress=False if args.quiet else None, on_file=on_file,
                         chunk_lines=args.chunk_lines, max_line_bytes=args.max_line_bytes,
                         encoding=args.encoding, delimiter=args.delimiter)
        if summary.total("rejected"):
            rows = store.con.execute(
                "SELECT source_file, source_line, reason FROM rejects WHERE source_file IN "
                "(SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2 LIMIT 10", [list(args.paths)]).fetchall()
            print(f"rejected {summary.total('rejected'):,} records (see the rejects table), first ones:",
                  file=sys.stderr)
            for f, ln, reason in rows:
                print(f"  {f}:{ln}: {reason}", file=sys.stderr)
    return _ingest_summary(args, summary)


def _ingest_summary(args: argparse.Namespace, summary: Any) -> int:
    d = summary.as_dict()
    if args.json:
        print(json.dumps(d, default=str))
    else:
        print(f"ingested {len(summary.files)} file(s): {d['posts_read']:,} posts read, {d['new_posts']:,} new, "
              f"{d['rejected']:,} rejected -> {args.db}", file=sys.stderr)
    return 0 if summary.ok else 1


def cmd_info(args: argparse.Namespace) -> int:
    from groundswell.privacy import check_retention
    from groundswell.queries import info
    from groundswell.spark_cli import store_from_args

    with store_from_args(args) as store:
        d = info(store)
        warning = check_retention(store)
    if warning:
        print(warning, file=sys.stderr)
        d["retention_warning"] = warning
    if args.json:
        print(json.dumps(d, default=str))
        return 0
    from groundswell.terminal import clean as c

    print(f"store      {c(d['db'])}")
    print(f"posts      {d['posts']:,} ({d['referenced']:,} seen only inside other records, {d['deleted']:,} deleted)")
    for k, v in d["platforms"].items():
        print(f"  {c(k):<10} {v:,}")
    print("kinds")
    for k, v in d["kinds"].items():
        print(f"  {c(k):<10} {v:,}")
    print(f"accounts   {d['accounts']:,} ({d['authors']:,} authors)")
    print(f"time span  {d['first'] or '-'} .. {d['last'] or '-'}")
    if d["volume_buckets"]:
        print(f"volumes    {d['volume_buckets']:,} buckets, {d['volume_posts']:,} posts counted by the platform")
    print(f"{'top hashtags':<32} {'posts':>10} {'occurrences':>12}   (posts carrying the tag; times it is written)")
    for h in d["top_hashtags"]:
        print(f"  #{c(h['hashtag']):<29} {h['posts']:>10,} {h['occurrences']:>12,}")
    print(f"rejected   {d['rejected']:,}")
    for r in d["rejects"][:10]:
        print(f"  {c(r['file'])}:{r['line']}: {c(r['reason'])}")
    return 0


def cmd_hashtags(args: argparse.Namespace) -> int:
    from groundswell.queries import hashtag_counts, hashtag_occurrences
    from groundswell.spark_cli import store_from_args

    from groundswell.terminal import clean as c

    with store_from_args(args) as store:
        if args.twarc_hashtags:
            w = csv.writer(sys.stdout, lineterminator="\n")
            w.writerow(["hashtag", "tweets"])
            w.writerows((c(h), n) for h, n in hashtag_occurrences(store, args.limit))
            return 0
        rows = hashtag_counts(store, args.limit)
    if args.json:
        print(json.dumps(rows))
    elif args.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["hashtag", "posts", "occurrences"])
        w.writerows([c(r["hashtag"]), r["posts"], r["occurrences"]] for r in rows)
    else:
        print(f"{'posts':>10} {'occurrences':>12}  hashtag")
        for r in rows:
            print(f"{r['posts']:>10,} {r['occurrences']:>12,}  #{c(r['hashtag'])}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from groundswell.privacy import ensure_pseudonym_key, export_safely
    from groundswell.store import open_store

    ensure_pseudonym_key(args.db)
    with open_store(args.db, read_only=True) as store:
        n = export_safely(store, args.format, args.output, table=args.table, platform=args.platform,
                          include_referenced=args.include_referenced, raw=args.raw, identify=args.identify,
                          redact=False if args.no_redact else None,
                          show_disclosure_text=args.show_disclosure_text, private=args.private)
    print(f"wrote {n:,} rows to {args.output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from groundswell.formats.detect import FORMAT_NAMES
    from groundswell.spark_cli import register_engine_options

    parser = argparse.ArgumentParser(
        prog="groundswell",
        description="How a hashtag movement is born, how it spreads and whom it reaches.")
    parser.add_argument("--version", action="version", version=f"groundswell {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="read archive files into the store",
                       description="Read archive files (twarc, twarc2, Bluesky Jetstream, Mastodon, CSV; "
                                   "gzip/zstd too; '-' for stdin) into the store.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    add_db_option(p)
    p.add_argument("--format", choices=FORMAT_NAMES, help="force a format instead of detecting it")
    p.add_argument("--columns", type=_columns, metavar="NAME=COL,...",
                   help="CSV: map canonical columns (id, author, created_at, text, ...) to this file's")
    p.add_argument("--platform", help="CSV: the platform of rows without a platform column (default twitter)")
    p.add_argument("--encoding", metavar="NAME",
                   help="CSV: the files' encoding, e.g. cp1252 or latin-1 (default UTF-8)")
    p.add_argument("--delimiter", metavar="CHAR",
                   help="CSV: the field delimiter, e.g. ';' or tab (default: guessed from the header "
                        "among comma, semicolon, tab and '|')")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.add_argument("--max-line-bytes", type=int, default=64 * 1024 * 1024, metavar="N",
                   help="longer lines are rejected (default 64 MiB)")
    p.add_argument("--chunk-lines", type=int, default=None, help=argparse.SUPPRESS)
    register_engine_options(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("info", help="what the store holds",
                       description="What the store holds: posts by platform and kind (posts seen only inside "
                                   "other records counted apart), accounts, time span, the platform's volume "
                                   "counts, rejects, and the top hashtags with two numbers each: posts (collected "
                                   "posts carrying the tag) and occurrences (times it is written in them). "
                                   "Neither is a movement's posts: analyze also counts untagged reposts of tagged "
                                   "posts. JSON keys: posts, referenced, deleted, accounts, authors, rejected, "
                                   "platforms, kinds, first, last, top_hashtags [{hashtag, posts, occurrences}], "
                                   "volume_buckets, volume_posts (the platform's counts), sources, rejects.")
    add_db_option(p)
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    register_engine_options(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("hashtags", help="posts and occurrences per hashtag",
                       description="Per hashtag (case-folded), most carried first: posts (collected posts "
                                   "carrying it) and occurrences (times it is written in them; a post writing "
                                   "#MeToo twice is one post, two occurrences). Posts seen only inside other "
                                   "records do not count. Neither number is a movement's posts: analyze also "
                                   "counts untagged reposts of tagged posts.")
    add_db_option(p)
    p.add_argument("--limit", type=int, default=None, metavar="N")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="CSV: hashtag,posts,occurrences")
    out.add_argument("--json", action="store_true", help="JSON: [{hashtag, posts, occurrences}, ...]")
    out.add_argument("--twarc-hashtags", action="store_true",
                     help="CSV exactly as twarc-hashtags writes it: hashtag,tweets, where its 'tweets' "
                          "counts occurrences (ties by hashtag, descending)")
    register_engine_options(p)
    p.set_defaults(func=cmd_hashtags)

    p = sub.add_parser("export", help="write posts (or another table) as CSV, Parquet or JSON lines",
                       description="Write a table. Pseudonymous and redacted by default: people who are not "
                                   "public figures appear as stable pseudonyms; --identify opts out.")
    add_db_option(p)
    p.add_argument("--format", required=True, choices=("csv", "parquet", "jsonl"))
    p.add_argument("--output", required=True, metavar="PATH", help="file to write ('-' for stdout)")
    p.add_argument("--table", default="posts",
                   choices=("posts", "accounts", "volumes", "deletions", "follows", "rejects"))
    p.add_argument("--platform", help="only this platform's posts")
    p.add_argument("--include-referenced", action="store_true",
                   help="also posts seen only inside other records (twarc-csv's --inline-referenced-tweets)")
    p.add_argument("--raw", action="store_true",
                   help="include the original JSON (a private output: needs --identify --no-redact "
                        "--show-disclosure-text --private)")
    p.add_argument("--identify", action="store_true",
                   help="real account ids and handles instead of pseudonyms for people who are not public figures")
    p.add_argument("--no-redact", action="store_true",
                   help="keep e-mail addresses, phone numbers and street addresses in texts")
    p.add_argument("--show-disclosure-text", action="store_true",
                   help="show the text of posts labelled as disclosures (public figures only, unless --private)")
    p.add_argument("--private", action="store_true",
                   help="mark the output private (not for sharing): disclosure texts of everyone may be shown")
    p.set_defaults(func=cmd_export)

    for mod in _PLUGINS:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name and (mod.startswith(e.name) or e.name == mod):
                continue  # that part is not there
            raise
        register: Callable[[Any], None] = getattr(m, "register")
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except GroundswellError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
