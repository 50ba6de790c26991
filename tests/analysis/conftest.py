from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..conftest import shared


@pytest.fixture(scope="session")
def network_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from groundswell.ingest import ingest
    from groundswell.store import open_store

    p = tmp_path_factory.mktemp("net") / "net.duckdb"
    with open_store(p) as s:
        ingest(s, [str(shared("twarc-network/test-data/tweets.jsonl"))], progress=False)
    return p


def simulated(tmp: Path, **cfg: Any) -> tuple[Path, dict[str, Any], Path]:
    """Simulate, ingest; -> (store path, truth, simulation folder). The truth files are in
    ``<simulation folder>/.truth``."""
    from groundswell.ingest import ingest
    from groundswell.simulate import SimConfig, read_truth, simulate
    from groundswell.store import open_store

    out = tmp / "sim"
    res = simulate(SimConfig(**cfg), out=str(out))
    db = tmp / "sim.duckdb"
    with open_store(db) as s:
        ingest(s, [str(f) for f in res.files], progress=False)
    return db, read_truth(out), out
