"""The ``groundswell`` command line: thin wrappers around library calls.

Data goes to stdout; progress and messages to stderr. Errors are one line
that says how to fix them, and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from groundswell import __version__
from groundswell.errors import GroundswellError, UsageError, check_output
from groundswell.progress import Bar, bar
from groundswell.progress import enabled as progress_enabled
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
    from groundswell.formats.detect import nothing_stored
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    if args.query is not None and args.format != "volume-csv":
        raise UsageError("--query is the query of a volume series: use it with --format volume-csv")

    def on_file(res: Any) -> None:
        if res.error:
            print(f"error: {res.error}", file=sys.stderr)
        elif res.skipped:
            print(f"{res.path}: already ingested ({res.format}); nothing added (--force reads it again)",
                  file=sys.stderr)
        else:
            if not args.quiet:
                resumed = f", resumed after line {res.resumed_from:,}" if res.resumed_from else ""
                other = (f", {res.other_read:,} other records (volume buckets, deletions, follows)"
                         if res.other_read else "")
                print(f"{res.path}: {res.format or 'empty'}, {res.lines:,} lines, {res.posts_read:,} posts read, "
                      f"{res.new_posts:,} new, {res.accounts_read:,} account observations{other}, "
                      f"{res.rejected:,} rejected{resumed} ({res.seconds:.1f} s)", file=sys.stderr)
            note = nothing_stored(res.format)
            if note and not res.rejected:
                print(f"{res.path}: {note}", file=sys.stderr)
            if _all_rejected(res):
                how = f"as {res.format or 'nothing'}" + (" (--format)" if args.format else "")
                print(f"{res.path}: every record was rejected when read {how}: check --format "
                      f"(or --columns); the file can be read again another way", file=sys.stderr)

    def on_skip(path: str, why: str) -> None:
        print(f"{path}: skipped: {why}", file=sys.stderr)

    bars: dict[str, Bar] = {}

    def on_progress(path: str, done: int, total: int | None, posts: int) -> None:
        b = bars.get(path)
        if b is None:
            b = bars[path] = bar(os.path.basename(path) or path, total, bytes_=True, quiet=args.quiet)
        b.to(done, total, f"{posts:,} posts")

    def done_file(res: Any) -> None:
        b = bars.pop(res.path, None)
        if b is not None:
            b.close()
        on_file(res)

    if args.engine == "spark":
        from groundswell.spark_cli import ingest_from_args
        from groundswell.store.engine import Unsupported

        if args.query is not None or args.format == "volume-csv":
            raise Unsupported("spark", "--format volume-csv", "ingest the volume series with the DuckDB "
                              "engine (it is a few thousand rows)")
        if args.encoding or args.delimiter:  # the delimiter is still guessed from each header
            raise Unsupported("spark", "--encoding and --delimiter", "ingest with the DuckDB engine, "
                              "or convert the file to UTF-8 with commas first")

        summary = ingest_from_args(args, on_file=on_file)
        return _ingest_summary(args, summary)
    with open_store(args.db) as store:
        summary = ingest(store, args.paths, format=args.format, columns=args.columns,
                         platform=args.platform.strip().lower() if args.platform else None,
                         progress=False if args.quiet else None, on_file=done_file,
                         chunk_lines=args.chunk_lines, max_line_bytes=args.max_line_bytes, force=args.force,
                         on_skip=on_skip, on_progress=on_progress, encoding=args.encoding, delimiter=args.delimiter,
                         query=args.query)
        if summary.total("rejected"):
            files = [f.path for f in summary.files if f.rejected]
            rows = store.con.execute(
                "SELECT source_file, source_line, reason FROM rejects WHERE source_file IN "
                "(SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2 LIMIT 10", [files]).fetchall()
            print(f"rejected {summary.total('rejected'):,} records (see the rejects table: "
                  f"groundswell export --table rejects), first ones:", file=sys.stderr)
            for f, ln, reason in rows:
                print(f"  {f}:{ln}: {reason}", file=sys.stderr)
    return _ingest_summary(args, summary)


def _all_rejected(f: Any) -> bool:
    """A file read without error of which every record was rejected (a wrong --format, say)."""
    return not f.error and bool(f.rejected) and not (f.posts_read or f.accounts_read or f.other_read)


def _ingest_summary(args: argparse.Namespace, summary: Any) -> int:
    d = summary.as_dict()
    refused = sum(1 for f in summary.files if f.error)
    rejected_whole = sum(1 for f in summary.files if _all_rejected(f))
    failed = refused + rejected_whole
    d["failed"] = failed
    if args.json:
        print(json.dumps(d, default=str))
    else:
        n = len(summary.files)
        if failed:
            why = ", ".join(x for x in (f"{refused} refused" if refused else "",
                                        f"{rejected_whole} with every record rejected" if rejected_whole else "")
                            if x)
            head = f"ingested {n - failed} of {n} file(s), {failed} failed ({why})"
        else:
            head = f"ingested {n} file(s)"
        extra = f", {len(summary.skipped)} skipped" if summary.skipped else ""
        print(f"{head}: {d['posts_read']:,} posts read, {d['new_posts']:,} new, {d['rejected']:,} rejected"
              f"{extra} -> {args.db}", file=sys.stderr)
    return 0 if summary.clean else 1


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
    print(f"posts      {d['posts']:,} collected ({d['deleted']:,} deleted)")
    for k, v in d["platforms"].items():
        print(f"  {c(k):<10} {v:,}")
    print("kinds")
    for k, v in d["kinds"].items():
        print(f"  {c(k):<10} {v:,}")
    print(f"time span  {d['first'] or '-'} .. {d['last'] or '-'}   (collected posts)")
    print(f"referenced {d['referenced']:,} more posts seen only inside other records (not counted above)")
    if d["referenced"]:
        for k, v in d["referenced_kinds"].items():
            print(f"  {c(k):<10} {v:,}")
    print(f"accounts   {d['accounts']:,} ({d['authors']:,} authors)")
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


class _CountingOut:
    """A text or binary output that moves a progress bar one step a line written
    (export writes one row a line; a CSV cell with a line break moves it early,
    the bar never passes its total)."""

    def __init__(self, f: Any, meter: Bar, total: int) -> None:
        self._f, self._meter, self._total, self._lines = f, meter, total, 0

    def write(self, data: Any) -> int:
        self._lines += data.count(b"\n" if isinstance(data, bytes) else "\n")
        self._meter.to(min(self._lines, self._total))
        return int(self._f.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


def _export_total(store: Any, table: str, platform: str | None, include_referenced: bool) -> int:
    if table != "posts":
        return int(store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    conds = ([] if include_referenced else ["NOT is_reference"]) + (["platform = ?"] if platform else [])
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    return int(store.con.execute(f"SELECT count(*) FROM posts{where}", [platform] if platform else []
                                 ).fetchall()[0][0])


def cmd_export(args: argparse.Namespace) -> int:
    from groundswell.privacy import ensure_pseudonym_key, export_safely
    from groundswell.store import open_store

    check_output(args.output, "--output")
    ensure_pseudonym_key(args.db)
    with open_store(args.db, read_only=True) as store:
        platform = _platform(store, args.platform)
        options = dict(table=args.table, platform=platform, include_referenced=args.include_referenced,
                       raw=args.raw, identify=args.identify, redact=False if args.no_redact else None,
                       show_disclosure_text=args.show_disclosure_text, private=args.private)
        if not progress_enabled(args.quiet) or args.format == "parquet" or args.output == "-":
            # stdout is the data; Parquet is written in one go by DuckDB
            n = export_safely(store, args.format, args.output, **options)
        else:
            total = max(1, _export_total(store, args.table, platform, args.include_referenced))
            binary = args.format == "jsonl"
            f = open(args.output, "wb") if binary else open(args.output, "w", newline="", encoding="utf-8")
            with bar(f"export {args.table}", total, unit=" rows") as meter, f:
                out = _CountingOut(f, meter, total)
                n = export_safely(store, args.format, out, **options)  # type: ignore[arg-type]
    print(f"wrote {n:,} rows to {args.output}", file=sys.stderr)
    return 0


def _platform(store: Any, given: str | None) -> str | None:
    """``--platform`` matched without regard to case against the platforms the store holds."""
    if given is None:
        return None
    held = [r[0] for r in store.con.execute("SELECT DISTINCT platform FROM posts ORDER BY 1").fetchall()]
    for name in held:
        if name.casefold() == given.strip().casefold():
            return str(name)
    raise UsageError(f"--platform {given!r}: the store holds no such posts; it holds posts of "
                     f"{', '.join(held) if held else 'no platform'}")


def _positive(value: str) -> int:
    """A positive whole number (``--limit``)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"want 1 or more, got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    from groundswell.formats.detect import FORMAT_NAMES
    from groundswell.spark_cli import register_engine_options

    parser = ArgumentParser(
        prog="groundswell",
        description="How a hashtag movement is born, how it spreads and whom it reaches.")
    parser.add_argument("--version", action="version", version=f"groundswell {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="read archive files into the store",
                       description="Read archive files (twarc, twarc2, Bluesky Jetstream, Mastodon, CSV; "
                                   "gzip, zstd, bz2, xz too; '-' for stdin) into the store. Exits 1 when "
                                   "a record was rejected or a file refused (the summary says how many).")
    p.add_argument("paths", nargs="+", metavar="PATH")
    add_db_option(p)
    p.add_argument("--format", choices=FORMAT_NAMES, help="force a format instead of detecting it")
    p.add_argument("--columns", type=_columns, metavar="NAME=COL,...",
                   help="CSV: map canonical columns (id, author, created_at, text, ...; for --format "
                        "volume-csv: start, count, end, query) to this file's")
    p.add_argument("--query", metavar="TEXT",
                   help="--format volume-csv: the query the counts were made for (e.g. '#metoo'), when the "
                        "file has no query column")
    p.add_argument("--platform", help="CSV: the platform of rows without a platform column (default twitter; "
                                      "any case: BlueSky is bluesky)")
    p.add_argument("--encoding", metavar="NAME",
                   help="CSV: the files' encoding, e.g. cp1252 or latin-1 (default UTF-8)")
    p.add_argument("--delimiter", metavar="CHAR",
                   help="CSV: the field delimiter, e.g. ';' or tab (default: guessed from the header "
                        "among comma, semicolon, tab and '|')")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.add_argument("--force", action="store_true",
                   help="read files again even when already ingested the same way (posts still merge)")
    p.add_argument("--max-line-bytes", type=int, default=64 * 1024 * 1024, metavar="N",
                   help="longer lines are rejected (default 64 MiB)")
    p.add_argument("--chunk-lines", type=int, default=None, help=argparse.SUPPRESS)
    register_engine_options(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("info", help="what the store holds",
                       description="What the store holds: the collected posts (records of their own in the "
                                   "archive) by platform and kind and their time span; the posts seen only inside "
                                   "other records (a retweet's original, a page's includes) counted apart, by "
                                   "platform and kind; accounts, the platform's volume counts, rejects, and the top "
                                   "hashtags with two numbers each: posts (collected posts carrying the tag) and "
                                   "occurrences (times it is written in them). Neither is a movement's posts: "
                                   "analyze also counts untagged reposts of tagged posts. JSON keys: posts, "
                                   "deleted, platforms, kinds, first, last (collected posts); referenced, "
                                   "referenced_platforms, referenced_kinds; accounts, authors, rejected, "
                                   "top_hashtags [{hashtag, posts, occurrences}], volume_buckets, volume_posts "
                                   "(the platform's counts), sources, rejects.")
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
    p.add_argument("--limit", type=_positive, default=None, metavar="N", help="only the N most used")
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
                                   "public figures appear as stable pseudonyms; --identify opts out. Twitter "
                                   "posts as CSV take twarc-csv's 84 columns; with --identify --no-redact "
                                   "--show-disclosure-text --private every cell is what twarc-csv 0.7.2 writes "
                                   "from the same files (each page's __twarc, places, media and polls are read "
                                   "again from the input file when it is there unchanged; a note says how many "
                                   "rows went without).")
    add_db_option(p)
    p.add_argument("--format", required=True, choices=("csv", "parquet", "jsonl"))
    p.add_argument("--output", required=True, metavar="PATH", help="file to write ('-' for stdout)")
    p.add_argument("--table", default="posts",
                   choices=("posts", "accounts", "volumes", "deletions", "follows", "rejects"))
    p.add_argument("--platform", help="only this platform's posts (any case)")
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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_export)

    for mod in _PLUGINS:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name and (mod.startswith(e.name) or e.name == mod):
                continue  # that part is not there
            raise
        register: Callable[[Any], None] = m.register
        register(sub)
    return parser


TRACEBACK_ENV = "GROUNDSWELL_TRACEBACK"
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in groundswell


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``error: groundswell ingest: ...; see --help``.

    Subcommand parsers (plugins' too) are made by ``add_subparsers`` with the
    class of their parent, so every command answers bad options the same way.
    """

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {self.prog}: {message} (see '{self.prog} --help')\n")
        sys.exit(2)


def _oserror_message(e: OSError) -> str:
    """One line for a failed file operation: what, which file, how to fix it."""
    name = e.filename if e.filename is not None else ""
    what = e.strerror or type(e).__name__
    hint = ""
    if isinstance(e, FileNotFoundError) and name:
        folder = os.path.dirname(os.path.abspath(str(name)))
        hint = (f"; the folder {folder} does not exist: create it or choose another path"
                if not os.path.isdir(folder) else "; check the path")
    elif isinstance(e, PermissionError):
        hint = "; choose a path you may write (or read), or change its permissions"
    elif isinstance(e, IsADirectoryError):
        hint = "; give a file name, not a folder"
    elif getattr(e, "errno", None) == 28:  # ENOSPC
        hint = "; free some disk space or write elsewhere"
    return f"{name}: {what}{hint}" if name else f"{what}{hint}"


def _internal(e: BaseException) -> str:
    """Where an unexpected exception came from, without its message (it may hold post text)."""
    tb = e.__traceback__
    where = ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if "groundswell" in path:
            where = f" in {path[path.rfind('groundswell'):]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return (f"internal error ({type(e).__name__}{where}); this is a bug in groundswell {__version__}: "
            f"run again with {TRACEBACK_ENV}=1 to see the traceback, and report it")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Exit status: 0 done; 1 refused or failed (one ``error:``
    line says why); 2 bad arguments; 70 a bug (``GROUNDSWELL_TRACEBACK=1``
    shows its traceback); 130 interrupted."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named with the command they were given to
            prog = f"{parser.prog} {args.command}" if getattr(args, "command", None) else parser.prog
            ArgumentParser(prog=prog).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:  # --help, --version, or a bad option (already reported)
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except GroundswellError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted: what was committed before stays; run the command again to go on", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. '| head'): not an error; keep Python quiet at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except OSError as e:
        if os.environ.get(TRACEBACK_ENV):
            raise
        print(f"error: {_oserror_message(e)}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        if os.environ.get(TRACEBACK_ENV):
            raise
        import duckdb

        if isinstance(e, duckdb.InterruptException):
            print("interrupted: what was committed before stays; run the command again to go on",
                  file=sys.stderr)
            return 130
        if isinstance(e, duckdb.Error):
            db = getattr(args, "db", None)
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            print(f"error: the store{f' {db}' if db else ''}: {first}", file=sys.stderr)
            return 1
        print(f"error: {_internal(e)}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
