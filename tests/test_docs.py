"""Docs that can't go stale: the generated references are current, every command is documented."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_generated_docs_are_current() -> None:
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_every_command_is_in_the_reference_and_has_help() -> None:
    from groundswell.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = (ROOT / "docs" / "cli.md").read_text()
    for name, p in sub.choices.items():  # type: ignore[union-attr]
        assert f"### `groundswell {name}`" in text, f"{name} is not in docs/cli.md"
    helps = {a.dest: a.help for a in sub._choices_actions}  # type: ignore[union-attr]
    missing = [n for n in sub.choices if not helps.get(n)]  # type: ignore[union-attr]
    assert not missing, f"commands without a one-line help: {missing}"


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    assert [line.strip() for line in quick.strip().splitlines()] == ["make demo", "make test"]


def test_docs_index_points_at_existing_files() -> None:
    import re

    readme = (ROOT / "README.md").read_text()
    for rel in re.findall(r"`(docs/[\w./-]+\.md)`", readme):
        assert (ROOT / rel).exists(), f"README names {rel}, which does not exist"
