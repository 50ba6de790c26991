"""Labelling texts, files and the store with the content models."""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import UsageError
from .features import DEFAULT_BITS, feature_groups
from .heads import MODELS_DIR, LinearHeads
from .language import COVERED, detect
from .sentiment import sentiment

__all__ = ["LABELS", "MODELS", "Batch", "classify_batch", "classify_file", "classify_store", "classify_texts"]

MOVEMENT = ("disclosure", "first_time", "support", "news", "opposition", "other")
METOOMA = (
    "relevant",
    "metooma_support",
    "metooma_oppose",
    "allegation",
    "justification",
    "refutation",
    "directed_hate",
    "generalized_hate",
    "sarcasm",
)
LABELS: tuple[str, ...] = MOVEMENT + METOOMA
MODELS = ("fast", "accurate")
UNKNOWN = "unknown"


def load_model(name: str) -> LinearHeads:
    """The model's heads; for ``accurate``, first check that its extra is installed."""
    if name == "accurate":
        from .accurate import require

        require()
    return _load_heads(name)


@lru_cache(maxsize=4)
def _load_heads(name: str) -> LinearHeads:
    if name not in MODELS:
        raise UsageError(f"no content model {name!r}; choose one of: {', '.join(MODELS)}")
    path = MODELS_DIR / f"{name}.npz"
    if not path.exists():
        raise UsageError(f"the {name} content model is not built: run 'python scripts/train_content.py --model {name}'")
    return LinearHeads.load(path)


def _logits(name: str, heads: LinearHeads, texts: Sequence[str]) -> np.ndarray:
    if name == "fast":
        bits = int(heads.meta.get("bits", DEFAULT_BITS))
        groups = feature_groups(texts, bits)
        z = groups[0] @ heads.W
        for g in groups[1:]:
            z += g @ heads.W
    else:
        from .accurate import embed

        z = embed(texts) @ heads.W
    logits: np.ndarray = np.asarray(z) + heads.b
    return logits


@dataclass
class Batch:
    """Labels of a batch of texts as arrays, in :data:`LABELS` order.

    ``scores`` (n, 15) probabilities and ``labels`` (n, 15) booleans are
    meaningful only where ``covered`` is true; ``reason`` says why a row is not.
    """

    scores: np.ndarray
    labels: np.ndarray
    sentiment: list[float | None]
    language: list[str]
    covered: np.ndarray
    reason: list[str | None]

    def row(self, i: int) -> dict[str, Any]:
        if self.covered[i]:
            labels: dict[str, Any] = {k: bool(v) for k, v in zip(LABELS, self.labels[i])}
            scores: dict[str, Any] = {k: round(float(v), 4) for k, v in zip(LABELS, self.scores[i])}
        else:
            labels = dict.fromkeys(LABELS, UNKNOWN)
            scores = dict.fromkeys(LABELS)
        return {
            "labels": labels,
            "scores": scores,
            "sentiment": self.sentiment[i],
            "language": self.language[i],
            "covered": bool(self.covered[i]),
            "reason": self.reason[i],
        }


def classify_batch(
    texts: Sequence[str | None], model: str = "fast", langs: Sequence[str | None] | None = None
) -> Batch:
    """Label a batch of texts; ``langs`` are the platform's language tags, when known."""
    heads = load_model(model)
    n = len(texts)
    clean = [t if isinstance(t, str) else "" for t in texts]
    language = detect(clean, langs)
    reason: list[str | None] = [None] * n
    covered = np.zeros(n, dtype=bool)
    for i, t in enumerate(clean):
        if not t.strip():
            reason[i] = "empty text"
        elif language[i] == "und":
            reason[i] = (f"language undetermined (too short or mixed to tell; models cover: "
                         f"{', '.join(sorted(COVERED))})")
        elif language[i] not in COVERED:
            reason[i] = f"language {language[i]!r} is not covered (models cover: {', '.join(sorted(COVERED))})"
        else:
            covered[i] = True
    scores = np.zeros((n, len(LABELS)), dtype=np.float64)
    labels = np.zeros((n, len(LABELS)), dtype=bool)
    idx = np.flatnonzero(covered)
    if idx.size:
        out = heads.predict(_logits(model, heads, [clean[i] for i in idx]))
        col = {k: j for j, k in enumerate(LABELS)}
        p, dec = out["movement"]
        for c, name in enumerate(heads.head("movement").classes):
            scores[idx, col[name]] = p[:, c]
            labels[idx, col[name]] = dec == c
        p, dec = out["first_time"]
        scores[idx, col["first_time"]] = p[:, 0]
        labels[idx, col["first_time"]] = dec & labels[idx, col["disclosure"]]
        p, dec = out["stance"]
        for c, name in enumerate(heads.head("stance").classes):
            if name in col:
                scores[idx, col[name]] = p[:, c]
                labels[idx, col[name]] = dec == c
        for name in METOOMA:
            if name in out:
                p, dec = out[name]
                scores[idx, col[name]] = p[:, 0]
                labels[idx, col[name]] = dec
    senti: list[float | None] = [None] * n
    for at, s in zip(idx, sentiment([clean[i] for i in idx])):
        senti[at] = s
    return Batch(scores, labels, senti, language, covered, reason)


def classify_texts(
    texts: Sequence[str | None], model: str = "fast", langs: Sequence[str | None] | None = None
) -> list[dict[str, Any]]:
    """Per text: ``labels`` (name -> bool, or ``"unknown"`` when not covered),
    ``scores`` (name -> probability, or None), ``sentiment``, ``language``,
    ``covered`` and ``reason`` (why not covered)."""
    b = classify_batch(texts, model, langs)
    return [b.row(i) for i in range(len(texts))]


# ---------------------------------------------------------------- files


def _open_in(path: str | Path) -> IO[str]:
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _is_jsonl(name: str, first: str) -> bool:
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return True
    if name.endswith((".csv", ".tsv", ".tab")):
        return False
    return first.lstrip().startswith("{")  # stdin or another name: look at the first line


def _rows(path: str | Path, text_column: str) -> Iterator[str | None]:
    name = str(path).lower()
    with _open_in(path) as f:
        first = f.readline()
        lines = itertools.chain([first], f)
        if _is_jsonl(name, first):
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UsageError(f"{path}: line {n} is not JSON ({e.msg})") from None
                if not isinstance(rec, dict):
                    raise UsageError(f"{path}: line {n} is not a JSON object")
                v = rec.get(text_column)
                yield v if isinstance(v, str) else None
        else:
            delim = "\t" if name.endswith((".tsv", ".tab")) or ("\t" in first and "," not in first) else ","
            reader = csv.DictReader(lines, delimiter=delim)
            if reader.fieldnames is None or text_column not in reader.fieldnames:
                names = reader.fieldnames or []
                # a headerless file would show a post as "column names": never print those
                have = (", ".join(names) if all(len(c) <= 40 for c in names)
                        else f"{len(names)} (the first line looks like data, not a header)")
                raise UsageError(f"{path}: no column {text_column!r}; columns: {have}; use --text-column")
            for rec in reader:
                yield rec.get(text_column)


def classify_file(
    input: str | Path,
    text_column: str,
    output: str | Path,
    model: str = "fast",
    batch_size: int = 5000,
) -> int:
    """Label each row of a CSV/TSV/JSONL file; write one JSON line per row, in input order.

    Each line: ``row`` (0-based), ``labels``, ``scores``, ``sentiment``,
    ``language``, ``covered``, ``reason``. Returns the number of rows.
    """
    load_model(model)  # fail before writing anything
    rows = 0
    out: IO[str] = sys.stdout if str(output) == "-" else open(output, "w", encoding="utf-8")
    try:
        batch: list[str | None] = []

        def flush() -> None:
            nonlocal rows
            b = classify_batch(batch, model)
            for i in range(len(batch)):
                out.write(json.dumps({"row": rows + i, **b.row(i)}) + "\n")
            rows += len(batch)
            batch.clear()

        for text in _rows(input, text_column):
            batch.append(text)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    finally:
        if out is not sys.stdout:
            out.close()
    return rows


# ---------------------------------------------------------------- store

_TABLE = "post_labels"
_MODELS_TABLE = "content_models"  # which model file labelled the store, and its measured quality


def _ddl() -> str:
    cols = ["platform VARCHAR NOT NULL", "id VARCHAR NOT NULL", "model VARCHAR NOT NULL"]
    for k in LABELS:
        cols += [f"{k} BOOLEAN", f"{k}_score DOUBLE"]
    cols += ["sentiment DOUBLE", "language VARCHAR", "covered BOOLEAN", "reason VARCHAR"]
    return f"CREATE TABLE IF NOT EXISTS {_TABLE} ({', '.join(cols)}, PRIMARY KEY (platform, id, model))"


def _record_model(con: Any, model: str, heads: LinearHeads) -> None:
    """One row per model in ``content_models``: the file's sha256, the languages it covers and its
    metadata (``evaluation``: recall and precision per label on held-out real texts), so that what
    is said about the labels later is about the model that made them."""
    import hashlib

    path = MODELS_DIR / f"{model}.npz"
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    con.execute(f"CREATE TABLE IF NOT EXISTS {_MODELS_TABLE} (model VARCHAR PRIMARY KEY, file_sha256 VARCHAR, "
                "languages VARCHAR[], meta VARCHAR, recorded_at TIMESTAMP)")
    con.execute(f"INSERT OR REPLACE INTO {_MODELS_TABLE} VALUES (?, ?, ?, ?, CAST(current_timestamp AS TIMESTAMP))",
                [model, digest, list(heads.meta.get("languages") or sorted(COVERED)),
                 json.dumps(heads.meta, sort_keys=True)])


def classify_store(store: Any, model: str = "fast", batch_size: int = 20000, only_new: bool = False,
                   on_progress: Any = None) -> int:
    """Label every post of the store into ``post_labels`` (one row per post and model).

    Idempotent: a post's row for the model is replaced. Deleted posts (text
    NULL) are labelled not covered ("empty text"). ``only_new`` labels only
    posts that have no row for the model yet. The model file's metadata
    (languages covered, quality measured on held-out real texts) goes into
    ``content_models``. Returns the number of posts labelled.
    ``on_progress(done, total)`` is called after each batch.
    """
    import pyarrow as pa

    heads = load_model(model)
    con = store.con
    con.execute(_ddl())
    _record_model(con, model, heads)
    where = ""
    if only_new:
        where = (f" WHERE NOT EXISTS (SELECT 1 FROM {_TABLE} l"
                 " WHERE l.platform = p.platform AND l.id = p.id AND l.model = ?)")
    cur = con.cursor()  # reads on its own cursor while batches are written on con
    cur.execute(
        f"SELECT platform, id, text, lang FROM posts p{where} ORDER BY platform, id", [model] if only_new else []
    )
    done = 0
    total = None
    if on_progress is not None:
        total = con.execute(f"SELECT count(*) FROM posts p{where}", [model] if only_new else []).fetchall()[0][0]
    while True:
        chunk = cur.fetchmany(batch_size)
        if not chunk:
            break
        b = classify_batch([r[2] for r in chunk], model, [r[3] for r in chunk])
        cov = b.covered
        data: dict[str, Any] = {
            "platform": [r[0] for r in chunk],
            "id": [r[1] for r in chunk],
            "model": [model] * len(chunk),
        }
        for j, k in enumerate(LABELS):
            data[k] = pa.array(b.labels[:, j], mask=~cov)
            data[f"{k}_score"] = pa.array(b.scores[:, j], mask=~cov)
        data["sentiment"] = pa.array(b.sentiment, type=pa.float64())
        data["language"] = b.language
        data["covered"] = cov
        data["reason"] = pa.array(b.reason, type=pa.string())
        tbl = pa.table(data)
        con.register("_labels_batch", tbl)
        con.execute(f"INSERT OR REPLACE INTO {_TABLE} SELECT * FROM _labels_batch")
        con.unregister("_labels_batch")
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, total)
    cur.close()
    return done
