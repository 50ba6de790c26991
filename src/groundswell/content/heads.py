"""Linear heads: the stored form of every content model, read with numpy only.

A model file (``models/<name>.npz``) holds a weight matrix ``W`` (features x
columns), a bias ``b`` per column and a JSON ``spec`` that says which columns
form which head:

* ``binary`` heads (one column): probability ``sigmoid(x.W + b)``, label when
  the probability reaches the head's ``threshold`` (tuned on out-of-fold
  predictions for F1 at training time);
* ``softmax`` heads (k columns, one per class): probabilities ``softmax``; the
  label is the class with the highest ``log p + bias`` (biases tuned for macro
  F1 at training time; zero when not tuned).

No pickles: the files load with ``numpy.load(allow_pickle=False)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Head", "LinearHeads", "MODELS_DIR"]

MODELS_DIR = Path(__file__).resolve().parent / "models"


@dataclass
class Head:
    name: str
    kind: str  # "binary" or "softmax"
    classes: list[str]  # for binary: [name]; for softmax: class names
    start: int  # first column in W
    threshold: float = 0.5
    bias: list[float] = field(default_factory=list)

    @property
    def width(self) -> int:
        return 1 if self.kind == "binary" else len(self.classes)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "classes": self.classes,
            "start": self.start,
            "threshold": round(float(self.threshold), 6),
            "bias": [round(float(x), 6) for x in self.bias],
        }


@dataclass
class LinearHeads:
    W: np.ndarray
    b: np.ndarray
    heads: list[Head]
    meta: dict[str, Any]

    def head(self, name: str) -> Head:
        for h in self.heads:
            if h.name == name:
                return h
        raise KeyError(name)

    def predict(self, logits: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per head: (probabilities (n, width), decided labels (n,) as class index or bool)."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for h in self.heads:
            z = logits[:, h.start : h.start + h.width].astype(np.float64)
            if h.kind == "binary":
                p = 1.0 / (1.0 + np.exp(-np.clip(z[:, 0], -40, 40)))
                out[h.name] = (p[:, None], p >= h.threshold)
            else:
                z = z - z.max(axis=1, keepdims=True)
                e = np.exp(z)
                p = e / e.sum(axis=1, keepdims=True)
                bias = np.asarray(h.bias if h.bias else [0.0] * h.width)
                with np.errstate(divide="ignore"):
                    dec = np.argmax(np.log(p) + bias, axis=1)
                out[h.name] = (p, dec)
        return out

    def save(self, path: Path) -> str:
        """Write the model (deterministic bytes) and return its sha256."""
        spec = json.dumps({"heads": [h.to_json() for h in self.heads], "meta": self.meta}, sort_keys=True)
        with open(path, "wb") as f:
            np.savez_compressed(f, W=self.W, b=self.b.astype(np.float32), spec=np.array(spec))
        return hashlib.sha256(path.read_bytes()).hexdigest()

    @classmethod
    def load(cls, path: Path) -> LinearHeads:
        with np.load(path, allow_pickle=False) as z:
            W = z["W"].astype(np.float32)
            b = z["b"].astype(np.float32)
            spec = json.loads(str(z["spec"]))
        heads = [Head(**h) for h in spec["heads"]]
        return cls(W=W, b=b, heads=heads, meta=spec["meta"])
