"""Cross-validated scores of the content models on the shared data. Numbers only.

    python benchmarks/content_eval.py                   # fast model, 5 folds
    python benchmarks/content_eval.py --models fast,accurate --folds 5 --json out.json

What it measures (every figure on rows not used to train the model scoring them):

1. MeTooMA (``metooma-bigmm/train_shared.csv``): folds grouped by normalized
   text (so a retweet and its original never sit on both sides) and
   stratified on stance. Stance macro-F1 over neither/support/oppose,
   relevance F1, F1 of each dialogue act and hate/sarcasm label. Scored on
   the non-empty texts (main figure) and on all rows, where an empty text
   gets the training fold's majority answer (what a text-only model can do).
   Beside them: TF-IDF + logistic regression on the same folds (the issue's
   baseline), the majority class, the always-positive answer (for a rare
   label the majority class says "never" and scores F1 0, which flatters
   nothing; "always" scores F1 = 2p/(1+p) at prevalence p: a model must beat
   both), and a label-noise ceiling: how well one copy of a duplicated text
   predicts another copy's stance.
2. Disclosure: the #WhyIDidntReport testimony texts and the antinetwork
   ``story`` rows (positives) against the other antinetwork rows (human
   judged not a first-person story); folds stratified; the test fold's texts
   are removed from every training source, weak ones included. ROC AUC,
   precision, recall and F1 of ``disclosure``, and the weak rule alone.
3. Speed (posts/s): the fast model's labels alone and the whole labelling
   (language and sentiment included); the accurate model on a sample.
4. Simulator: the movement classes of the simulator's English template texts
   (written for this project; the models never learn from them): accuracy,
   recall per class of a model trained on the real sets only. A sanity check,
   not evidence: the simulator's phrasing is the project's own.
5. Sentiment: Pearson r of our shortened VADER with vaderSentiment's compound.
6. Held out (``heldout``): what ``scripts/train_content.py`` writes into the
   model files: trained on three quarters of the real sets, recall and
   precision per label on the fixed held-out quarter against the human
   labels, beside the always-positive and majority answers.
7. Stance (``stance``): each MeTooMA stance label on its own (recall,
   precision, F1, the share of texts the model says yes to, ROC AUC), in
   folds inside the training three quarters and once on the held-out
   quarter, for the fast recipe (as shipped, and with each label's own
   F1-tuned threshold), TF-IDF + LR and a stronger peer, beside answering
   yes every time; and Cohen's kappa of the stance of copies of one text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from groundswell.content.features import hash_features  # noqa: E402
from groundswell.content.training import (  # noqa: E402
    METOOMA_BINARY,
    load_sources,
    metooma_targets,
    text_key,
    train_heads,
)
from groundswell.content.weak import movement_rule  # noqa: E402


def _f1(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, p, zero_division=0))


def _mf1(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, p, average="macro", labels=[0, 1, 2], zero_division=0))


class Cached:
    """A featurizer that computes each distinct text once (embeddings are slow)."""

    def __init__(self, fn, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
        uniq = sorted(set(texts))
        self.row = {t: i for i, t in enumerate(uniq)}
        self.X = fn(uniq)

    def __call__(self, texts: list[str]):  # type: ignore[no-untyped-def]
        return self.X[[self.row[t] for t in texts]]


def featurizer(name: str, texts: list[str]):  # type: ignore[no-untyped-def]
    if name == "fast":
        return hash_features
    from groundswell.content.accurate import embed

    return Cached(embed, texts)


def predict(heads, X):  # type: ignore[no-untyped-def]
    return heads.predict(np.asarray(X @ heads.W) + heads.b)


def metooma_cv(src, models: list[str], folds: int) -> dict:  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    rows = src.metooma
    texts_all, y_all, stance_all = metooma_targets(rows, keep_empty=True)
    empty = np.array([not (r["tweet"] or "").strip() for r in rows])
    groups = [text_key(r["tweet"] or f"__empty{i}") or f"__empty{i}" for i, r in enumerate(rows)]
    splits = list(StratifiedGroupKFold(folds, shuffle=True, random_state=7).split(np.zeros(len(rows)), stance_all, groups))
    out: dict = {"rows": len(rows), "empty_rows": int(empty.sum()), "folds": folds}
    labels = ["stance", *METOOMA_BINARY]
    feats = {m: featurizer(m, [r["tweet"] for r in rows if (r["tweet"] or "").strip()]) for m in models}
    preds = {k: {lab: np.zeros(len(rows), dtype=int) for lab in labels} for k in [*models, "tfidf_lr", "majority"]}
    rel_score = {k: np.zeros(len(rows)) for k in [*models, "tfidf_lr"]}
    for tr, te in splits:
        tr_rows = [rows[i] for i in tr]
        te_ne = [i for i in te if not empty[i]]
        te_e = [i for i in te if empty[i]]
        tr_ne = [i for i in tr if not empty[i]]
        # majority answers of the training fold (used for empty texts and the majority baseline)
        major = {"stance": int(np.bincount(stance_all[tr]).argmax())}
        major.update({lab: int(np.mean(y_all[lab][tr]) >= 0.5) for lab in METOOMA_BINARY})
        for k in preds:
            for lab in labels:
                preds[k][lab][te_e] = major[lab]
        for k in rel_score:
            rel_score[k][te_e] = float(np.mean(y_all["relevant"][tr]))
        for lab in labels:
            preds["majority"][lab][te_ne] = major[lab]
        # the baseline: TF-IDF + logistic regression, default threshold
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        Xtr = vec.fit_transform([rows[i]["tweet"] for i in tr_ne])
        Xte = vec.transform([rows[i]["tweet"] for i in te_ne])
        for lab in labels:
            y = stance_all if lab == "stance" else y_all[lab]
            lr = LogisticRegression(max_iter=2000).fit(Xtr, y[tr_ne])
            preds["tfidf_lr"][lab][te_ne] = lr.predict(Xte)
            if lab == "relevant":
                rel_score["tfidf_lr"][te_ne] = lr.predict_proba(Xte)[:, 1]
        for m in models:
            heads = train_heads(feats[m], src, name=m, features=m, metooma_rows=tr_rows, parts=("metooma",))
            res = predict(heads, feats[m]([rows[i]["tweet"] for i in te_ne]))
            for lab in labels:
                preds[m][lab][te_ne] = res[lab][1]
            rel_score[m][te_ne] = res["relevant"][0][:, 0]
    from sklearn.metrics import f1_score, roc_auc_score

    ne = ~empty
    for k, pr in preds.items():
        d: dict = {}
        for subset, mask in (("nonempty", ne), ("all_rows", np.ones(len(rows), dtype=bool))):
            d[subset] = {"stance_macro_f1": round(_mf1(stance_all[mask], pr["stance"][mask]), 3)}
            for lab in METOOMA_BINARY:
                d[subset][f"{lab}_f1"] = round(_f1(y_all[lab][mask], pr[lab][mask]), 3)
            # relevance F1 alone flatters: 72% of rows are relevant, so "all relevant" scores 0.84
            yr = y_all["relevant"][mask]
            d[subset]["relevant_macro_f1"] = round(float(f1_score(yr, pr["relevant"][mask], average="macro", zero_division=0)), 3)
            if k in rel_score:
                d[subset]["relevant_roc_auc"] = round(float(roc_auc_score(yr, rel_score[k][mask])), 3)
        out[k] = d
    # label-noise ceiling: identical texts, stance of one copy vs another
    by: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if not empty[i]:
            by.setdefault(groups[i], []).append(int(stance_all[i]))
    ys, ps = [], []
    for v in by.values():
        if len(v) > 1:
            for i in range(len(v)):
                ys.append(v[i])
                ps.append(v[(i + 1) % len(v)])
    rel_by: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if not empty[i]:
            rel_by.setdefault(groups[i], []).append(int(y_all["relevant"][i]))
    ry, rp = [], []
    for v in rel_by.values():
        if len(v) > 1:
            for i in range(len(v)):
                ry.append(v[i])
                rp.append(v[(i + 1) % len(v)])
    # the trivial answers for each binary label and each stance class, on the non-empty texts
    base: dict = {}
    for lab in [*METOOMA_BINARY, "stance_support", "stance_oppose"]:
        if lab.startswith("stance_"):
            y = (stance_all[ne] == (1 if lab == "stance_support" else 2)).astype(int)
        else:
            y = y_all[lab][ne].astype(int)
        prev = float(y.mean()) if len(y) else 0.0
        major = int(prev >= 0.5)
        base[lab] = {"prevalence": round(prev, 4),
                     "majority_f1": round(_f1(y, np.full(len(y), major)), 3),
                     "always_positive_f1": round(2 * prev / (1 + prev), 3) if prev else 0.0,
                     "always_positive_precision": round(prev, 4), "always_positive_recall": 1.0}
    out["trivial_baselines"] = base
    out["duplicate_ceiling"] = {
        "duplicated_rows": len(ys),
        "stance_macro_f1": round(_mf1(np.array(ys), np.array(ps)), 3),
        "stance_agreement": round(float(np.mean(np.array(ys) == np.array(ps))), 3),
        "relevant_f1": round(_f1(np.array(ry), np.array(rp)), 3),
    }
    return out


def disclosure_cv(src, models: list[str], folds: int) -> dict:  # type: ignore[no-untyped-def]
    from sklearn.metrics import precision_recall_fscore_support, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    items = [(t, 1) for t in src.testimony] + [(t, int(s)) for t, s in src.over100]
    texts = [t for t, _ in items]
    y = np.array([v for _, v in items])
    out: dict = {"positives": int(y.sum()), "negatives": int((y == 0).sum()), "folds": folds}
    rule = np.array([movement_rule(t) == "disclosure" for t in texts])
    p, r, f, _ = precision_recall_fscore_support(y, rule, average="binary", zero_division=0)
    out["weak_rule"] = {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3)}
    prev = float(y.mean())
    out["always_positive"] = {"precision": round(prev, 3), "recall": 1.0, "f1": round(2 * prev / (1 + prev), 3)}
    out["majority"] = {"answer": "disclosure" if prev >= 0.5 else "not a disclosure",
                       "f1": round(_f1(y, np.full(len(y), int(prev >= 0.5))), 3)}
    from groundswell.content.training import movement_set

    import re

    # the testimony texts share a hashtag (#WhyIDidntReport) the negatives lack:
    # scoring them again with every hashtag removed shows the model does not lean on it
    strip = [re.sub(r"#\w+", " ", t) for t in texts]
    all_mv = movement_set(src)[0]
    for m in models:
        feat = featurizer(m, sorted(set(all_mv) | set(texts) | set(strip)))
        score = np.zeros(len(y))
        dec = np.zeros(len(y), dtype=bool)
        score_s = np.zeros(len(y))
        dec_s = np.zeros(len(y), dtype=bool)
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=7).split(np.zeros(len(y)), y):
            excl = frozenset(text_key(texts[i]) for i in te)
            heads = train_heads(feat, src, name=m, features=m, exclude=excl, parts=("movement",))
            res = predict(heads, feat([texts[i] for i in te]))
            pm, dm = res["movement"]
            score[te] = pm[:, 0]
            dec[te] = dm == 0
            pm, dm = predict(heads, feat([strip[i] for i in te]))["movement"]
            score_s[te] = pm[:, 0]
            dec_s[te] = dm == 0
        out[m] = {}
        for variant, sc, dc in (("as_written", score, dec), ("hashtags_removed", score_s, dec_s)):
            p, r, f, _ = precision_recall_fscore_support(y, dc, average="binary", zero_division=0)
            out[m][variant] = {
                "roc_auc": round(float(roc_auc_score(y, sc)), 3),
                "precision": round(float(p), 3),
                "recall": round(float(r), 3),
                "f1": round(float(f), 3),
            }
    return out


def speed(src, models: list[str]) -> dict:  # type: ignore[no-untyped-def]
    from groundswell.content.classify import _logits, classify_batch, load_model

    base = [t for t in src.scraped if t.strip()]
    texts = (base * (20000 // max(len(base), 1) + 1))[:20000]
    out: dict = {}
    for m in models:
        n = 20000 if m == "fast" else 300
        sample = texts[:n]
        heads = load_model(m)
        _logits(m, heads, sample[:200])
        best = 1e9
        for _ in range(3 if m == "fast" else 1):
            t0 = time.perf_counter()
            heads.predict(_logits(m, heads, sample))
            best = min(best, time.perf_counter() - t0)
        full = 1e9
        for _ in range(2 if m == "fast" else 1):
            t0 = time.perf_counter()
            classify_batch(sample, m)
            full = min(full, time.perf_counter() - t0)
        out[m] = {"texts": n, "labels_per_s": round(n / best), "with_language_and_sentiment_per_s": round(n / full)}
    return out


def sentiment_check(src) -> dict:  # type: ignore[no-untyped-def]
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from groundswell.content.sentiment import sentiment

    texts = [r["tweet"] for r in src.metooma if (r["tweet"] or "").strip()]
    ours = np.array(sentiment(texts))
    sia = SentimentIntensityAnalyzer()
    ref = np.array([sia.polarity_scores(t)["compound"] for t in texts])
    # VADER's own reading of compound: positive >= 0.05, negative <= -0.05, else neutral
    def cat(x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0.05, 1, np.where(x <= -0.05, -1, 0))

    return {"texts": len(texts), "pearson_r_with_vader": round(float(np.corrcoef(ours, ref)[0, 1]), 3),
            "same_category": round(float(np.mean(cat(ours) == cat(ref))), 3)}


SIM_KINDS = ("disclosure", "first_time", "support", "news", "opposition", "other")


def simulated_texts(per_kind: int, seed: int = 2017) -> list[tuple[str, str]]:
    """English texts of the simulator's templates (``groundswell.simulate.texts``), with their kind."""
    import random

    from groundswell.simulate import texts as sim

    rnd = random.Random(seed)
    tags = [["MeToo"], ["metoo"], [], ["MeToo", "TimesUp"]]
    return [(sim.compose(rnd, "en", kind, rnd.choice(tags), tags_first=rnd.random() < 0.2)[0], kind)
            for kind in SIM_KINDS for _ in range(per_kind)]


def simulator_check(src, data: Path, models: list[str], n: int = 200) -> dict:  # type: ignore[no-untyped-def]
    """Movement classes of the simulator's English texts, by a model trained on the real sets only
    (the shipped models never see the simulator's texts)."""
    test = simulated_texts(n, seed=99)
    texts = [t for t, _ in test]
    truth = [k for _, k in test]
    want = np.array([0 if k == "first_time" else ["disclosure", "support", "news", "opposition", "other"].index(k) for k in truth])
    is_ft = np.array([k == "first_time" for k in truth])
    out: dict = {"texts": len(texts), "distinct": len(set(texts))}
    for m in models:
        feat = featurizer(m, sorted(set(texts) | set(_movement_texts(src))))
        heads = train_heads(feat, src, name=m, features=m, parts=("movement",))
        res = predict(heads, feat(texts))
        dec = res["movement"][1]
        ft = res["first_time"][1] & (dec == 0)
        out[m] = {
            "accuracy": round(float(np.mean(dec == want)), 3),
            "recall": {k: round(float(np.mean(dec[np.array(truth) == k] == want[np.array(truth) == k])), 3) for k in SIM_KINDS},
            "first_time_recall": round(float(np.mean(ft[is_ft])), 3),
            "first_time_false_rate": round(float(np.mean(ft[~is_ft])), 3),
        }
    return out


def heldout_check(src, models: list[str]) -> dict:  # type: ignore[no-untyped-def]
    """Train on the train part, score on the fixed held-out part (what the model files record)."""
    from groundswell.content.training import evaluate_heads, split_sources

    train, test = split_sources(src, "train"), split_sources(src, "held-out")
    out: dict = {"train_rows": train.counts, "held_out_rows": test.counts}
    for m in models:
        if m == "fast":
            feat = hash_features
        else:
            every = [r["tweet"] for r in src.metooma if (r["tweet"] or "").strip()] + src.testimony + \
                [t for t, _ in src.over100] + _movement_texts(train)
            feat = featurizer(m, sorted(set(every)))
        heads = train_heads(feat, train, name=m, features=m)
        ev = evaluate_heads(heads, feat, test)
        out[m] = {k: ({key: v[key] for key in ("positives", "texts", "recall", "recall_ci", "precision",
                                                "precision_ci", "f1", "always_positive")}
                      if v.get("measured") else "not measured: " + v["why"]) for k, v in ev.items()}
    return out


def _stance_scores(stance: np.ndarray, dec: np.ndarray | dict, P: np.ndarray | None) -> dict:  # type: ignore[type-arg]
    """Per stance label: recall, precision, F1, positive rate (share of texts it says yes to), ROC AUC of
    the label's probability, and the always-positive answer. ``dec`` is the decided class per text, or
    per class index the texts said to be of it (each label decided on its own)."""
    from sklearn.metrics import roc_auc_score

    out: dict = {}
    for c, lab in ((1, "metooma_support"), (2, "metooma_oppose")):
        y, pred = stance == c, (dec[c] if isinstance(dec, dict) else dec == c)
        pos, got, tp = int(y.sum()), int(pred.sum()), int((y & pred).sum())
        prev = pos / len(y)
        out[lab] = {"positives": pos, "texts": len(y), "recall": round(tp / pos, 3) if pos else None,
                    "precision": round(tp / got, 3) if got else None, "f1": round(2 * tp / (pos + got), 3),
                    "positive_rate": round(got / len(y), 3),
                    "roc_auc": round(float(roc_auc_score(y, P[:, c])), 3) if P is not None else None,
                    "always_positive": {"precision": round(prev, 3), "f1": round(2 * prev / (1 + prev), 3)}}
    return out


def stance_check(src) -> dict:  # type: ignore[no-untyped-def]
    """MeTooMA stance, label by label, on the split the shipped models use: 5 folds grouped by text
    inside the training three quarters (``cv``), then trained on those three quarters and scored once on
    the held-out quarter (``held_out``). The fast recipe (its stance head with biases tuned for macro F1
    on out-of-fold probabilities, as shipped), the same head with each label's own threshold tuned for
    its F1 in the folds, TF-IDF + LR (the issue's peer, argmax) and a stronger peer (TF-IDF words and
    characters, balanced LR). Also: how often copies of one text carry the same stance (Cohen's kappa)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import cohen_kappa_score
    from sklearn.model_selection import StratifiedGroupKFold

    from groundswell.content.training import _best_threshold, split_sources

    train, test = split_sources(src, "train"), split_sources(src, "held-out")
    T, _, S = metooma_targets(train.metooma)
    T2, _, S2 = metooma_targets(test.metooma)
    groups = [text_key(t) for t in T]

    def tfidf(fit: list[str], app: list[str]):  # type: ignore[no-untyped-def]
        v = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        return v.fit_transform(fit), v.transform(app)

    def tfidf_chars(fit: list[str], app: list[str]):  # type: ignore[no-untyped-def]
        w = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        c = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
        return (hstack([w.fit_transform(fit), c.fit_transform(fit)]).tocsr(),
                hstack([w.transform(app), c.transform(app)]).tocsr())

    peers = {"tfidf_lr": (tfidf, {}),
             "tfidf_words_chars_balanced_lr": (tfidf_chars, {"C": 0.5, "class_weight": "balanced"})}

    def fast(fit_rows: list, app: list[str]) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
        heads = train_heads(hash_features, train, name="fast", features="fast", metooma_rows=fit_rows,
                            parts=("metooma",))
        P, dec = predict(heads, hash_features(app))["stance"]
        return P, dec

    def peer(name: str, fit: list[str], y: np.ndarray, app: list[str]) -> np.ndarray:
        feat, kw = peers[name]
        Xa, Xb = feat(fit, app)
        return LogisticRegression(max_iter=3000, **kw).fit(Xa, y).predict_proba(Xb)

    rows = [r for r in train.metooma if (r.get("tweet") or "").strip()]
    names = ["fast", "fast_own_threshold", *peers]
    oof = {k: np.zeros((len(T), 3)) for k in names if k != "fast_own_threshold"}
    dec_oof = {k: np.zeros(len(T), dtype=int) for k in names if k != "fast_own_threshold"}
    for a, b in StratifiedGroupKFold(5, shuffle=True, random_state=7).split(np.zeros(len(T)), S, groups):
        oof["fast"][b], dec_oof["fast"][b] = fast([rows[i] for i in a], [T[i] for i in b])
        for k in peers:
            oof[k][b] = peer(k, [T[i] for i in a], S[a], [T[i] for i in b])
            dec_oof[k][b] = oof[k][b].argmax(1)
    thr = {c: _best_threshold((S == c).astype(np.int8), oof["fast"][:, c]) for c in (1, 2)}

    def own(P: np.ndarray) -> dict:  # type: ignore[type-arg]
        # each label on its own threshold, tuned for its own F1 in the folds (what per-label tuning would do)
        return {c: P[:, c] >= thr[c] for c in (1, 2)}

    cv = {k: _stance_scores(S, dec_oof[k], oof[k]) for k in oof}
    cv["fast_own_threshold"] = _stance_scores(S, own(oof["fast"]), oof["fast"])
    P, dec = fast(rows, T2)
    held = {"fast": _stance_scores(S2, dec, P), "fast_own_threshold": _stance_scores(S2, own(P), P)}
    for k in peers:
        Pk = peer(k, T, S, T2)
        held[k] = _stance_scores(S2, Pk.argmax(1), Pk)
    by: dict[str, list[int]] = {}
    for g, y in zip(groups, S):
        by.setdefault(g, []).append(int(y))
    pairs = [(v[i], v[j]) for v in by.values() for i in range(len(v)) for j in range(i + 1, len(v))]
    a_, b_ = np.array([x for x, _ in pairs]), np.array([y for _, y in pairs])
    return {"train_texts": len(T), "held_out_texts": len(T2), "own_thresholds": thr, "cv": cv, "held_out": held,
            "copies": {"pairs": len(pairs), "stance_agreement": round(float(np.mean(a_ == b_)), 3),
                       "stance_kappa": round(float(cohen_kappa_score(a_, b_)), 3)}}


def _movement_texts(src) -> list[str]:  # type: ignore[no-untyped-def]
    from groundswell.content.training import movement_set

    return movement_set(src)[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--models", default="fast", help="comma-separated: fast,accurate")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--parts", default="metooma,disclosure,speed,simulator,sentiment,heldout,stance")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore", category=UserWarning)
    models = [m for m in a.models.split(",") if m]
    parts = set(a.parts.split(","))
    src = load_sources(a.data)
    res: dict = {}
    if "metooma" in parts:
        res["metooma"] = metooma_cv(src, models, a.folds)
        print(json.dumps({"metooma": res["metooma"]}), flush=True)
    if "disclosure" in parts:
        res["disclosure"] = disclosure_cv(src, models, a.folds)
        print(json.dumps({"disclosure": res["disclosure"]}), flush=True)
    if "speed" in parts:
        res["speed"] = speed(src, models)
        print(json.dumps({"speed": res["speed"]}), flush=True)
    if "simulator" in parts:
        res["simulator"] = simulator_check(src, a.data, models)
        print(json.dumps({"simulator": res["simulator"]}), flush=True)
    if "heldout" in parts:
        res["heldout"] = heldout_check(src, models)
        print(json.dumps({"heldout": res["heldout"]}), flush=True)
    if "stance" in parts:
        res["stance"] = stance_check(src)
        print(json.dumps({"stance": res["stance"]}), flush=True)
    if "sentiment" in parts:
        res["sentiment"] = sentiment_check(src)
        print(json.dumps({"sentiment": res["sentiment"]}), flush=True)
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
