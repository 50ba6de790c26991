"""What posts say: movement classes, MeTooMA labels, sentiment and language.

    from groundswell.content import classify_texts, LABELS
    classify_texts(["..."])            # -> [{"labels": {...}, "scores": {...}, ...}]
    classify_store(store, model="fast")  # -> fills the post_labels table
    classify_file("in.csv", "text", "out.jsonl")

Two models share one set of heads (see ``docs/content.md``): ``fast`` (hashed
word and character n-grams, numpy only) and ``accurate`` (MiniLM sentence
embeddings; the ``accurate`` extra). Only English is covered: other languages
and empty texts are labelled ``unknown`` with a reason.
"""

from __future__ import annotations

from .classify import LABELS, METOOMA, MODELS, MOVEMENT, classify_batch, classify_file, classify_store, classify_texts

__all__ = ["LABELS", "METOOMA", "MODELS", "MOVEMENT", "classify_batch", "classify_file", "classify_store",
           "classify_texts"]
