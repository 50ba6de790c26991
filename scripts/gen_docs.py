"""Regenerate the generated parts of docs/ (the data model tables, the CLI reference).

usage: python scripts/gen_docs.py [--check]
"""

from __future__ import annotations

import argparse
import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from groundswell import model  # noqa: E402

BEGIN, END = "<!-- BEGIN GENERATED -->", "<!-- END GENERATED -->"


def model_tables() -> str:
    out = []
    for table, fields in model.DOCS.items():
        out.append(f"### `{table}`\n\n| column | type | meaning |\n| --- | --- | --- |")
        for name, typ, doc in fields:
            out.append(f"| `{name}` | {typ} | {doc} |")
        out.append("")
    return "\n".join(out)


def cli_reference() -> str:
    from groundswell.cli import build_parser

    parser = build_parser()
    out = []
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sorted(sub.choices.items()):  # type: ignore[union-attr]
        buf = io.StringIO()
        with redirect_stdout(buf):
            p.print_help()
        text = buf.getvalue().replace("usage: groundswell", "groundswell")
        out.append(f"### `groundswell {name}`\n\n```\n{text.rstrip()}\n```\n")
    return "\n".join(out)


def render(path: Path, body: str) -> str:
    text = path.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{body}\n{END}{tail}"


TARGETS = {"docs/data-model.md": model_tables, "docs/cli.md": cli_reference}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = []
    for rel, fn in TARGETS.items():
        path = ROOT / rel
        new = render(path, fn())
        if path.read_text() != new:
            if args.check:
                stale.append(rel)
            else:
                path.write_text(new)
    if stale:
        print("stale: " + ", ".join(stale) + " (run python scripts/gen_docs.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
