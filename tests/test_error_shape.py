"""Every command answers misuse with one ``error:`` line and a non-zero exit, never a traceback.

The commands are taken from the parser itself (plugins included), so a new
command is checked without being listed here (as datasette's
``tests/test_error_shape.py`` checks every error response).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from groundswell.cli import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


COMMANDS = _commands()


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert "Traceback" not in err, err
    assert len(errors) == 1, err
    return errors[0]


def _filled(name: str, sub: argparse.ArgumentParser, tmp_path: Path, db: str) -> list[str]:
    """The command with every required argument given a plausible value and ``--db`` set."""
    args = [name]
    for a in sub._actions:
        if a.dest == "help":
            continue
        if not a.option_strings:
            if a.nargs in ("*", "?"):
                continue
            args.append(a.choices[0] if a.choices else str(tmp_path / "input.jsonl"))
        elif a.required:
            value = a.choices[0] if a.choices else {"--hashtag": "metoo", "--posts": "10"}.get(
                a.option_strings[-1], str(tmp_path / f"out{a.dest}"))
            args += [a.option_strings[-1], str(value)]
    if any("--db" in a.option_strings for a in sub._actions):
        args += ["--db", db]
    return args


def test_every_command_is_covered() -> None:
    # the list the contract runs over is the parser's own: at least the core and each plugin's
    assert {"ingest", "info", "hashtags", "export", "analyze", "network", "report", "classify",
            "simulate", "serve", "follow", "replay", "forget", "privacy"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_unknown_option_is_one_line_and_exit_2(name: str, cli) -> None:
    r = cli(name, "--no-such-option")
    line = _one_error_line(r.err)
    assert r.code == 2
    assert f"groundswell {name}" in line and "--help" in line


@pytest.mark.parametrize("name", sorted(n for n, p in COMMANDS.items()
                                        if any("--db" in a.option_strings for a in p._actions)))
def test_a_db_that_is_not_a_store_is_refused_untouched(name: str, cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text("id,text\n1,hello\n")
    before = notes.read_bytes()
    r = cli(*_filled(name, COMMANDS[name], tmp_path, str(notes)))
    line = _one_error_line(r.err)
    assert r.code not in (0, 70), r.err
    assert notes.read_bytes() == before
    if name not in ("follow", "replay", "forget"):  # these may refuse their other arguments first
        assert "notes.csv" in line, line


@pytest.mark.parametrize("name", sorted(n for n, p in COMMANDS.items()
                                        if any("--db" in a.option_strings for a in p._actions)))
def test_a_missing_store_is_one_line(name: str, cli, tmp_path: Path) -> None:
    if name in ("ingest", "follow"):
        pytest.skip("these create the store")
    r = cli(*_filled(name, COMMANDS[name], tmp_path, str(tmp_path / "none" / "x.duckdb")))
    _one_error_line(r.err)
    assert r.code not in (0, 70), r.err


def test_simulate_with_bad_numbers(cli, tmp_path: Path) -> None:
    r = cli("simulate", "--posts", "-5", "--out", tmp_path / "sim")
    _one_error_line(r.err)
    assert r.code not in (0, 70)


def test_internal_error_is_one_line_exit_70_and_the_variable_shows_the_traceback(
        cli, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from groundswell import queries

    def broken(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("a secret post text")

    monkeypatch.setattr(queries, "info", broken)
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert cli("ingest", tmp_path / "empty.jsonl", "--db", db, "-q").code == 0  # an empty store
    r = cli("info", "--db", db)
    line = _one_error_line(r.err)
    assert r.code == 70
    assert "ZeroDivisionError" in line and "GROUNDSWELL_TRACEBACK=1" in line
    assert "secret" not in r.err  # the message may hold post text: never printed
    monkeypatch.setenv("GROUNDSWELL_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        cli("info", "--db", db)
