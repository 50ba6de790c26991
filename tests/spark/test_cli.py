"""The command line on Spark: ingest, info, hashtags and a pseudonymous analyze, end to end.

Each command runs in its own process, as a user runs them (each starts and
stops its own local Spark session).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT
from .conftest import needs_spark

pytestmark = [pytest.mark.slow, needs_spark]


def _run(*args: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    return subprocess.run([sys.executable, "-m", "groundswell.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)


def test_cli_on_spark(sim: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, _truth = sim
    store = tmp_path / "spark-store"
    opts = ["--engine", "spark", "--spark-master", "local[2]", "--db", store]
    r = _run("ingest", src, *opts, "--json", "-q")
    # broken.jsonl's two unreadable lines are rejected: a run that rejected records exits 1
    assert r.returncode == 1, r.stderr[-800:]
    summary = json.loads(r.stdout)
    assert summary["new_posts"] > 0 and not summary["errors"] and summary["rejected"] == 2

    duck = tmp_path / "duck.duckdb"
    assert _run("ingest", src, "--db", duck, "-q").returncode == 1
    spark_info = json.loads(_run("info", *opts, "--json").stdout)
    duck_info = json.loads(_run("info", "--db", duck, "--json").stdout)
    for key in ("posts", "accounts", "rejected", "platforms", "kinds", "first", "last", "top_hashtags"):
        assert spark_info[key] == duck_info[key], key
    assert _run("hashtags", *opts, "--csv").stdout == _run("hashtags", "--db", duck, "--csv").stdout

    a = _run("analyze", *opts, "--hashtag", "metoo", "--json")
    assert a.returncode == 0, a.stderr[-800:]
    d = json.loads(a.stdout)
    assert d["privacy"]["mode"] == "pseudonymous"
    assert d["onset"]["first_post"]["account_id"].startswith("user-")


def test_without_the_extra_spark_prints_the_install_line(tmp_path: Path) -> None:
    """Hide pyspark: --engine spark names the pip line and exits non-zero."""
    code = ("import sys; sys.modules['pyspark'] = None; from groundswell.cli import main; "
            f"sys.exit(main(['info', '--engine', 'spark', '--db', {str(tmp_path / 'x')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode != 0
    assert "pip install 'groundswell[spark]'" in r.stderr
