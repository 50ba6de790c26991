"""``groundswell classify``: label the store or a file with the content models."""

from __future__ import annotations

import argparse
import gzip
import json
import sys

from ..errors import UsageError, check_output
from ..progress import bar
from ..spark_cli import add_db_option

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "classify",
        help="label posts: disclosure, support, news, opposition, MeTooMA labels, sentiment, language",
        description=(
            "Label every post of the store (into the post_labels table) or, with --input, "
            "each row of a CSV/TSV/JSONL file (one JSON line per row to --output)."
        ),
    )
    add_db_option(p)
    p.add_argument("--model", choices=("fast", "accurate"), default="fast",
                   help="fast (default, numpy only) or accurate (needs groundswell[accurate])")
    p.add_argument("--input", metavar="FILE", help="label this CSV/TSV/JSONL file ('-' for stdin) instead of the store")
    p.add_argument("--text-column", default="text", metavar="COL", help="the column holding the text (default: text)")
    p.add_argument("--output", default="-", metavar="OUT.jsonl", help="where --input results go (default: stdout)")
    p.add_argument("--only-new", action="store_true", help="store: label only posts without labels from this model")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .classify import classify_file, classify_store

    if args.input:
        check_output(args.output, "--output")
        if args.input != "-":
            _check_json_lines_column(args.input, args.text_column)
        n = classify_file(args.input, args.text_column, args.output, model=args.model)
        if not args.quiet:
            print(f"labelled {n} rows with the {args.model} model -> {args.output}", file=sys.stderr)
        return 0
    if args.output != "-":
        raise UsageError("--output goes with --input; the store's labels go to its post_labels table")
    from ..store import open_store

    with open_store(args.db, create=False) as st, bar(f"classify ({args.model})", unit=" posts",
                                                      quiet=args.quiet) as meter:
        n = classify_store(st, model=args.model, only_new=args.only_new, on_progress=meter.to)
    if not args.quiet:
        print(f"labelled {n} posts with the {args.model} model into post_labels of {args.db}", file=sys.stderr)
    return 0


def _check_json_lines_column(path: str, column: str, probe: int = 1000) -> None:
    """A JSON-lines input whose first ``probe`` records all lack ``column`` is
    refused (every row would be labelled "empty text"). CSV and TSV inputs are
    checked against their header by the reader itself."""
    try:
        f = gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--input {path}: no such file") from None
    keys: list[str] = []
    with f:
        seen = 0
        try:
            for line in f:
                text = line.strip()
                if not text:
                    continue
                if not text.startswith("{"):
                    return  # not JSON lines: the CSV reader checks its header
                try:
                    rec = json.loads(text)
                except json.JSONDecodeError:
                    return  # the reader reports it with its line number
                if isinstance(rec, dict):
                    if column in rec:
                        return
                    keys += [k for k in rec if k not in keys]
                seen += 1
                if seen >= probe:
                    break
        except UnicodeDecodeError:
            return  # the reader reports it
    if seen:
        shown = ", ".join(k for k in keys[:30] if len(k) <= 40)
        raise UsageError(f"{path}: no record of the first {seen:,} has the field {column!r} "
                         f"(fields: {shown}); name the text field with --text-column")
