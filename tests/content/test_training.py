"""The training script: a tiny run twice gives byte-identical artifacts."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA, ROOT, shared


@pytest.mark.slow
def test_training_is_reproducible(tmp_path: Path) -> None:
    shared("metooma-bigmm/train_shared.csv")
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "train_content.py"), "--model", "fast", "--limit", "120",
             "--bits", "12", "--data", str(DATA), "--out", str(out)],
            check=True, capture_output=True,
        )
        digests.append(hashlib.sha256((out / "fast.npz").read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    with np.load(tmp_path / "a" / "fast.npz", allow_pickle=False) as z:
        assert z["W"].shape[0] == 4096 and z["W"].dtype == np.float16
        assert set(z.files) == {"W", "b", "spec"}  # weights per hash bucket, no vocabulary


def test_shipped_models_are_small_and_pickle_free() -> None:
    models = ROOT / "src" / "groundswell" / "content" / "models"
    files = sorted(models.glob("*.npz"))
    assert any(f.name == "fast.npz" for f in files)
    assert sum(f.stat().st_size for f in models.iterdir()) < 5 * 1024 * 1024
    for f in files:
        with np.load(f, allow_pickle=False) as z:
            assert set(z.files) == {"W", "b", "spec"}
