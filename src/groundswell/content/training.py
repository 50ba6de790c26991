"""Building the content models from ``shared/data`` (needs scikit-learn).

Used by ``scripts/train_content.py`` (to write the shipped models) and by
``benchmarks/content_eval.py`` (to train on folds and score held-out rows).
Nothing here runs at classification time.

What each head is trained on
----------------------------
* MeTooMA heads (``relevant``, stance ``neither``/``metooma_support``/
  ``metooma_oppose``, the six dialogue acts and hate/sarcasm labels): the
  human labels of ``metooma-bigmm/train_shared.csv``, on the rows whose text
  is not empty (an empty text says nothing about its label: 907 rows).
* ``movement`` (disclosure / support / news / opposition / other), one
  softmax head: human labels where they exist -- the #WhyIDidntReport
  testimony texts and the antinetwork ``story`` rows -> disclosure, MeTooMA
  Support -> support, Oppose -> opposition, not relevant -> other -- and the
  weak rules of :mod:`groundswell.content.weak` on every other text (the 2017
  GetOldTweets scrapes, the first-day texts, the rest of MeTooMA and of the
  antinetwork rows). Texts no rule fires on are not used. Nothing comes from
  the project's simulator: a model that learned the simulator's templates
  would only be measured against itself.
* ``first_time``: positive where a text labelled disclosure above matches the
  never-told rule; every other movement text is a negative. No real text
  carries a human first-time label, so this head is *not measured*: its
  quality is unknown, and the model file says so.

Only texts in a covered language (:data:`groundswell.content.language.COVERED`,
or undetermined) are used: the model covers what it was trained on.

Texts are deduplicated on a normalized key; the first label seen wins, human
labels being read first. Keys in ``exclude`` (held-out evaluation rows) are
dropped from every source, weak ones included.

Held-out split
--------------
:func:`split_sources` keeps a fixed quarter of every source out of training
(chosen by a hash of the text's normalized key, so copies of one text fall on
the same side): the shipped models are trained on the rest, and
:func:`evaluate_heads` measures them on that quarter, label by label, against
the human labels (never on a training row). The figures go into the model
file (``meta.evaluation``) and from there into ``analyze`` and the brief.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from groundswell.stats import wilson

from .features import normalize
from .heads import Head, LinearHeads
from .weak import first_time_rule, movement_rule

__all__ = [
    "METOOMA_BINARY",
    "MOVEMENT_CLASSES",
    "STANCE_CLASSES",
    "Sources",
    "load_sources",
    "metooma_targets",
    "movement_set",
    "split_sources",
    "evaluate_heads",
    "held_out",
    "text_key",
    "train_heads",
]

METOOMA_BINARY = {
    "relevant": "Text_Only_Informative",
    "allegation": "Allegation",
    "justification": "Justification",
    "refutation": "Refutation",
    "directed_hate": "Directed_Hate",
    "generalized_hate": "Generalized_Hate",
    "sarcasm": "Sarcasm",
}
STANCE_CLASSES = ["neither", "metooma_support", "metooma_oppose"]
MOVEMENT_CLASSES = ["disclosure", "support", "news", "opposition", "other"]

_KEY = re.compile(r"[^a-z0-9#]+")


def text_key(text: str) -> str:
    """A key under which near-identical texts (case, links, punctuation) collide."""
    return _KEY.sub(" ", normalize(text)).strip()


HELD_OUT_SHARE = 0.25


def held_out(key: str) -> bool:
    """Whether a text (by its :func:`text_key`) belongs to the held-out quarter (a fixed hash)."""
    h = hashlib.sha256(("groundswell-content-split:" + key).encode()).digest()
    return h[0] < int(256 * HELD_OUT_SHARE)


@dataclass
class Sources:
    metooma: list[dict[str, str]]
    testimony: list[str]
    over100: list[tuple[str, bool]]
    first_day: list[str]
    scraped: list[str]
    fingerprint: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    part: str = "all"  # all, train or held-out


def split_sources(src: Sources, part: str) -> Sources:
    """The ``train`` or ``held-out`` part of every source (see :func:`held_out`)."""
    if part not in ("train", "held-out"):
        raise ValueError(f"part is train or held-out, not {part!r}")
    want = part == "held-out"

    def keep(t: str | None) -> bool:
        return bool(t) and held_out(text_key(t or "")) == want

    out = Sources(
        metooma=[r for r in src.metooma if keep(r.get("tweet"))],
        testimony=[t for t in src.testimony if keep(t)],
        over100=[(t, v) for t, v in src.over100 if keep(t)],
        first_day=[t for t in src.first_day if keep(t)],
        scraped=[t for t in src.scraped if keep(t)],
        fingerprint=src.fingerprint,
        part=part,
    )
    out.counts = {"metooma": len(out.metooma), "testimony": len(out.testimony), "over100": len(out.over100),
                  "first_day": len(out.first_day), "scraped": len(out.scraped)}
    return out


def _read_csv(path: Path, **kw: Any) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, **kw))


def _read_jsonl_texts(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def _covered(texts: list[str]) -> list[bool]:
    """Whether each text is in a covered language (or undetermined), as classification decides."""
    from .language import COVERED, detect

    return [lang in COVERED or lang == "und" for lang in detect(texts)]


def load_sources(data_dir: Path, limit: int | None = None, covered_only: bool = True) -> Sources:
    """Read the training sources; ``limit`` keeps the first N rows of each (tiny runs);
    ``covered_only`` drops texts in a language the models do not cover (counted in ``counts``)."""
    d = Path(data_dir)
    files = {
        "metooma": d / "metooma-bigmm" / "train_shared.csv",
        "testimony": d / "metoo-antinetwork" / "whyididntreport_testimony_shared.jsonl",
        "over100": d / "metoo-antinetwork" / "over_100_retweets_shared.tsv",
        "first_day": d / "metoo-antinetwork" / "first_day_2017-10-15_shared.jsonl",
        "scraped_day": d / "metoo-getoldtweets-2017" / "tweets_2017-10-15_all.csv",
        "scraped_sample": d / "metoo-getoldtweets-2017" / "tweets_sample_100_per_day.csv",
    }
    sha = hashlib.sha256()
    for name in sorted(files):
        sha.update(name.encode())
        sha.update(hashlib.sha256(files[name].read_bytes()).digest())
    cut = slice(None, limit)
    metooma = _read_csv(files["metooma"])[cut]
    testimony = _read_jsonl_texts(files["testimony"])[cut]
    over100 = [(r["text"], r["story"].strip().upper() == "TRUE")
               for r in _read_csv(files["over100"], delimiter="\t")][cut]
    first_day = _read_jsonl_texts(files["first_day"])[cut]
    scraped = [r["text"] for r in _read_csv(files["scraped_day"])][cut] + [
        r["text"] for r in _read_csv(files["scraped_sample"])
    ][cut]
    n_before = len(metooma) + len(testimony) + len(over100) + len(first_day) + len(scraped)
    if covered_only:
        # an empty MeTooMA text has no language: it stays (training leaves empty texts out anyway)
        metooma = [r for r, c in zip(metooma, _covered([r.get("tweet") or "" for r in metooma]))
                   if c or not (r.get("tweet") or "").strip()]
        testimony = [t for t, c in zip(testimony, _covered(testimony)) if c]
        over100 = [x for x, c in zip(over100, _covered([t for t, _ in over100])) if c]
        first_day = [t for t, c in zip(first_day, _covered(first_day)) if c]
        scraped = [t for t, c in zip(scraped, _covered(scraped)) if c]
    counts = {
        "metooma": len(metooma),
        "testimony": len(testimony),
        "over100": len(over100),
        "first_day": len(first_day),
        "scraped": len(scraped),
    }
    counts["language_not_covered"] = n_before - sum(counts.values())
    return Sources(metooma, testimony, over100, first_day, scraped,
                   sha.hexdigest() + (f":limit={limit}" if limit else ""), counts)


def metooma_targets(
    rows: Sequence[dict[str, str]], keep_empty: bool = False
) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    """MeTooMA texts (non-empty ones unless ``keep_empty``), their binary targets
    and their stance (0 neither, 1 support, 2 oppose)."""
    keep = [r for r in rows if keep_empty or (r.get("tweet") or "").strip()]
    texts = [r.get("tweet") or "" for r in keep]
    y = {name: np.array([float(r[col] or 0) >= 0.5 for r in keep], dtype=np.int8)
         for name, col in METOOMA_BINARY.items()}
    stance = np.array(
        [1 if float(r["Support"] or 0) >= 0.5 else 2 if float(r["Oppose"] or 0) >= 0.5 else 0 for r in keep],
        dtype=np.int8,
    )
    return texts, y, stance


def movement_set(
    src: Sources, exclude: frozenset[str] = frozenset()
) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, int]]:
    """Texts, movement class index, first_time flag and how many labels came from humans and from rules."""
    seen: set[str] = set(exclude)
    texts: list[str] = []
    ys: list[int] = []
    fts: list[bool] = []
    origin = {"human": 0, "rule": 0}
    cls = {c: i for i, c in enumerate(MOVEMENT_CLASSES)}

    def add(t: str, label: str | None, how: str, first_time: bool | None = None) -> None:
        if not t or not t.strip() or label is None:
            return
        k = text_key(t)
        if not k or k in seen:
            return
        seen.add(k)
        texts.append(t)
        ys.append(cls[label])
        fts.append(label == "disclosure" and (first_time_rule(t) if first_time is None else first_time))
        origin[how] += 1

    for t in src.testimony:
        add(t, "disclosure", "human")
    for t, story in src.over100:
        if story:
            add(t, "disclosure", "human")
    for r in src.metooma:
        t = r.get("tweet") or ""
        rule = movement_rule(t)
        if rule == "disclosure":
            add(t, rule, "rule")
        elif float(r["Oppose"] or 0) >= 0.5:
            add(t, "opposition", "human")
        elif float(r["Support"] or 0) >= 0.5:
            add(t, "support", "human")
        elif float(r["Text_Only_Informative"] or 0) < 0.5:
            add(t, "other", "human")
        else:
            add(t, rule, "rule")
    for t, story in src.over100:
        if not story:
            rule = movement_rule(t)
            add(t, rule if rule != "disclosure" else None, "rule")
    for t in src.first_day + src.scraped:
        add(t, movement_rule(t), "rule")
    y = np.array(ys, dtype=np.int8)
    ft = np.array(fts, dtype=np.int8)
    return texts, y, ft, origin


# ---------------------------------------------------------------- fitting


def _lr(C: float, balanced: bool = False) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, class_weight="balanced" if balanced else None)


def _fit(X: Any, y: np.ndarray, C: float, balanced: bool = False) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # lbfgs may stop at max_iter on the tiny training runs of the tests
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _lr(C, balanced).fit(X, y)


def _oof(X: Any, y: np.ndarray, C: float, folds: int, balanced: bool = False) -> np.ndarray | None:
    """Out-of-fold probabilities, or None when a class is too rare to fold."""
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(y)
    if len(counts) < 2 or counts.min() < folds:
        return None
    P = np.zeros((len(y), len(counts)))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        P[te] = _fit(X[tr], y[tr], C, balanced).predict_proba(X[te])
    return P


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    scores = [f1_score(y, p >= t, zero_division=0) for t in grid]
    return float(grid[int(np.argmax(scores))])


def _best_bias(y: np.ndarray, P: np.ndarray) -> list[float]:
    from sklearn.metrics import f1_score

    logp = np.log(np.clip(P, 1e-12, 1))
    best = (-1.0, [0.0, 0.0, 0.0])
    for a in np.arange(-1.0, 1.01, 0.25):
        for c in np.arange(-1.0, 1.51, 0.25):
            bias = np.array([0.0, a, c])
            s = f1_score(y, np.argmax(logp + bias, axis=1), average="macro", zero_division=0)
            if s > best[0] + 1e-12:
                best = (s, [0.0, float(a), float(c)])
    return best[1]


def _coef(model: Any, width: int) -> tuple[np.ndarray, np.ndarray]:
    coef = np.asarray(model.coef_, dtype=np.float64)
    icpt = np.asarray(model.intercept_, dtype=np.float64)
    if width == 1:
        return coef[:1].T, icpt[:1]
    if coef.shape[0] != width:  # a class absent from a tiny training set
        raise ValueError(f"softmax head needs {width} classes, training data has {coef.shape[0]}")
    return coef.T, icpt


def train_heads(
    featurize: Callable[[list[str]], Any],
    src: Sources,
    *,
    name: str,
    features: str,
    C: float = 1.0,
    dtype: Any = np.float32,
    exclude: frozenset[str] = frozenset(),
    metooma_rows: Sequence[dict[str, str]] | None = None,
    folds: int = 3,
    parts: tuple[str, ...] = ("movement", "metooma"),
) -> LinearHeads:
    """Train the heads; ``featurize`` maps texts to a (n, d) matrix (sparse or dense).

    ``parts`` picks the movement heads, the MeTooMA heads or both (the
    benchmark trains only the part it scores on each fold).
    """
    import sklearn

    rows = src.metooma if metooma_rows is None else metooma_rows
    m_texts, m_y, stance = metooma_targets(rows)
    mv_texts, mv_y, ft_y, origin = movement_set(src, exclude)
    cols: list[np.ndarray] = []
    bias: list[np.ndarray] = []
    heads: list[Head] = []
    start = 0

    def put(head: Head, model: Any) -> None:
        nonlocal start
        w, b = _coef(model, head.width)
        head.start = start
        cols.append(w)
        bias.append(b)
        heads.append(head)
        start += head.width

    if "movement" in parts:
        Xv = featurize(mv_texts)
        # movement: softmax, balanced (the class mix of this set is an artefact of the rules)
        put(Head("movement", "softmax", list(MOVEMENT_CLASSES), 0), _fit(Xv, mv_y, C, balanced=True))
        th = _oof(Xv, ft_y, C, folds)
        thr = _best_threshold(ft_y, th[:, 1]) if th is not None else 0.5
        put(Head("first_time", "binary", ["first_time"], 0, threshold=thr), _fit(Xv, ft_y, C))
    if "metooma" in parts:
        Xm = featurize(m_texts)
        # stance: softmax, class biases tuned for macro F1 on out-of-fold probabilities
        P = _oof(Xm, stance, C, folds)
        sb = _best_bias(stance, P) if P is not None else [0.0] * 3
        put(Head("stance", "softmax", list(STANCE_CLASSES), 0, bias=sb), _fit(Xm, stance, C))
        for label in METOOMA_BINARY:
            y = m_y[label]
            th = _oof(Xm, y, C, folds)
            thr = _best_threshold(y, th[:, 1]) if th is not None else 0.5
            put(Head(label, "binary", [label], 0, threshold=thr), _fit(Xm, y, C))

    W = np.concatenate(cols, axis=1).astype(dtype)
    b = np.concatenate(bias).astype(np.float32)
    from .language import COVERED

    meta = {
        "name": name,
        "features": features,
        "format": 1,
        "C": C,
        "languages": sorted(COVERED),
        "trained_on_part": src.part,
        "simulator_texts": 0,
        "sources_sha256": src.fingerprint,
        "source_rows": src.counts,
        "trained_on": {
            "metooma_texts": len(m_texts),
            "movement_texts": len(mv_texts),
            "movement_classes": {c: int((mv_y == i).sum()) for i, c in enumerate(MOVEMENT_CLASSES)},
            "movement_label_origin": origin,
            "first_time_positives": int(ft_y.sum()),
        },
        "sklearn": sklearn.__version__,
    }
    return LinearHeads(W=W, b=b, heads=heads, meta=meta)


# ---------------------------------------------------------------- evaluation

MEASURED_ON = {
    "disclosure": "held-out #WhyIDidntReport testimony and antinetwork story rows (human: a first-person "
                  "account) against held-out antinetwork rows the authors judged not to be one",
    "support": "held-out MeTooMA rows, human label Support",
    "opposition": "held-out MeTooMA rows, human label Oppose",
    "other": "held-out MeTooMA rows, human label not relevant (Text_Only_Informative = 0)",
    "relevant": "held-out MeTooMA rows, human label Text_Only_Informative",
    "metooma_support": "held-out MeTooMA rows, human label Support",
    "metooma_oppose": "held-out MeTooMA rows, human label Oppose",
    **{k: f"held-out MeTooMA rows, human label {v}" for k, v in METOOMA_BINARY.items() if k != "relevant"},
}
NOT_MEASURED = {
    "news": "no real text carries a human news label (the head learns from a rule)",
    "first_time": "no real text carries a human first-time label (the head learns from the never-told rule); "
                  "its recall and precision are unknown",
}


def binary_scores(truth: np.ndarray, pred: np.ndarray, on: str) -> dict[str, Any]:
    """Recall and precision (with 95% Wilson intervals) of ``pred`` against ``truth``, and the
    always-positive baseline (recall 1, precision = prevalence)."""
    truth = np.asarray(truth, dtype=bool)
    pred = np.asarray(pred, dtype=bool)
    n, pos, got = len(truth), int(truth.sum()), int(pred.sum())
    tp = int((truth & pred).sum())
    return {
        "measured": True, "on": on, "texts": n, "positives": pos, "predicted": got, "true_positives": tp,
        "recall": round(tp / pos, 4) if pos else None, "recall_ci": wilson(tp, pos),
        "precision": round(tp / got, 4) if got else None, "precision_ci": wilson(tp, got),
        "f1": round(2 * tp / (pos + got), 4) if pos + got else None,
        "always_positive": {"recall": 1.0 if pos else None, "precision": round(pos / n, 4) if n else None,
                            "f1": round(2 * pos / (pos + n), 4) if n else None},
    }


def evaluate_heads(heads: LinearHeads, featurize: Callable[[list[str]], Any], test: Sources) -> dict[str, Any]:
    """Per label, recall and precision of ``heads`` on the held-out part ``test`` against the human
    labels (see :data:`MEASURED_ON`); labels without human truth say why (:data:`NOT_MEASURED`)."""
    W = heads.W.astype(np.float32)  # as the shipped file is loaded (float16 weights widened)

    def predict(texts: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return heads.predict(np.asarray(featurize(texts) @ W) + heads.b)

    out: dict[str, Any] = {}
    names = heads.head("movement").classes if any(h.name == "movement" for h in heads.heads) else []
    # disclosure: testimony and story rows against the antinetwork rows judged not to be a story
    items = [(t, True) for t in test.testimony] + list(test.over100)
    if items and names:
        dec = predict([t for t, _ in items])["movement"][1]
        out["disclosure"] = binary_scores(np.array([v for _, v in items]), dec == names.index("disclosure"),
                                          MEASURED_ON["disclosure"])
    rows = [r for r in test.metooma if (r.get("tweet") or "").strip()]
    if rows:
        texts, y, stance = metooma_targets(rows)
        res = predict(texts)
        if names:
            dec = res["movement"][1]
            out["support"] = binary_scores(stance == 1, dec == names.index("support"), MEASURED_ON["support"])
            out["opposition"] = binary_scores(stance == 2, dec == names.index("opposition"), MEASURED_ON["opposition"])
            out["other"] = binary_scores(y["relevant"] == 0, dec == names.index("other"), MEASURED_ON["other"])
        if "stance" in res:
            sdec = res["stance"][1]
            out["metooma_support"] = binary_scores(stance == 1, sdec == 1, MEASURED_ON["metooma_support"])
            out["metooma_oppose"] = binary_scores(stance == 2, sdec == 2, MEASURED_ON["metooma_oppose"])
        for label in METOOMA_BINARY:
            if label in res:
                out[label] = binary_scores(y[label] == 1, res[label][1], MEASURED_ON[label])
    for label, why in NOT_MEASURED.items():
        out[label] = {"measured": False, "why": why}
    return out
