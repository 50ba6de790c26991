"""Withholding: whose text an output may show.

The verbatim text of a post labelled as a disclosure
(:data:`DISCLOSURE_LABELS`) is withheld unless ``show_disclosure_text`` is
set, and even then only for public figures, or for everybody when the output
is marked private (``private=True``): :func:`safe_text` decides.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from groundswell.privacy._sql import columns as _columns
from groundswell.privacy.policy import Policy
from groundswell.privacy.pseudonyms import Pseudonymizer
from groundswell.privacy.redaction import redact
from groundswell.store.duck import Store

__all__ = ["DISCLOSURE_LABELS", "WITHHELD", "disclosure_keys", "safe_text"]

DISCLOSURE_LABELS = frozenset({"disclosure"})
WITHHELD = "[text withheld: disclosure]"


def disclosure_keys(store: Store, labels: Iterable[str] = DISCLOSURE_LABELS) -> set[tuple[str, str]]:
    """(platform, id) of the posts the content classifier labelled as disclosures (by any model).

    Read from the ``post_labels`` table (one boolean column per label, see
    :mod:`groundswell.content`) when the store has one; empty otherwise.
    """
    cols = _columns(store, "post_labels")
    names = [n for n in sorted(labels) if n in cols]
    if not {"platform", "id"} <= set(cols) or not names:
        return set()
    cond = " OR ".join(f'coalesce("{n}", false)' for n in names)
    rows = store.con.execute(f"SELECT DISTINCT platform, id FROM post_labels WHERE {cond}").fetchall()
    return {(p, i) for p, i in rows}


def safe_text(post: Mapping[str, Any], labels: Iterable[str] | None, policy: Policy, *,
              author_public: bool = False, pseudonymizer: Pseudonymizer | None = None) -> str | None:
    """The text of ``post`` as a shareable output may show it, or None when it must be withheld.

    A post labelled as a disclosure keeps its verbatim text out unless
    ``policy.show_disclosure_text``, and then only when its author is a
    public figure or the output is private. Other text is returned with
    mentions pseudonymized (given a ``pseudonymizer``) and redacted per policy.
    """
    text = post.get("text")
    if text is None:
        return None
    if labels is not None and DISCLOSURE_LABELS & set(labels):
        if not policy.show_disclosure_text:
            return None
        if not (author_public or policy.private):
            return None
    if pseudonymizer is not None:
        return pseudonymizer.text(text, post.get("platform"))
    return redact(text) if policy.redact else text

