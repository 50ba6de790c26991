"""Shared fixtures: the shared data folder, in-process CLI runs, temp stores."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("GROUNDSWELL_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared(rel: str) -> Path:
    p = DATA / rel
    if not p.exists():
        pytest.fail(f"shared data missing: {p} (expected ../shared/data beside the repo)")
    return p


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the groundswell CLI in-process: cli('info', '--db', p) -> CliResult."""
    from groundswell.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"
