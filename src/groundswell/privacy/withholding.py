"""Withholding: whose text an output may show, failing closed.

The text of a post by a person who is not a public figure appears in a
shareable output only when a content model that covers its language has
judged it not a disclosure. The judgement comes from the store's
``post_labels`` (``groundswell classify``), else the fast model judges the
text on the fly, in memory (the store is never written to by an output).
A language the models do not cover (:data:`groundswell.content.language.COVERED`;
an undetermined language counts as not covered) is never judged "fine". The
language is the one detected from the text's own words whenever that is
confident, whatever the platform's tag says (a Bluesky post's tag is the
poster's app setting); the platform's tag counts only when detection is unsure.

* **disclosure**: a model labelled it a disclosure (any model, stored or on the fly);
* **language**: its language is not covered, so no model can judge it;
* **not judged**: no stored judgement and no model to judge it here.

A repost shows the original's words, so the original author's rule applies
(and the original's labels); a post whose author is unknown is treated as a
private person's. A public figure's text is shown unless it is judged a
disclosure; a disclosure is shown only with ``show_disclosure_text``, and
then for public figures only, or for everybody when the output is marked
private (``private=True``, the notice says PRIVATE). :class:`Withholder`
decides for a batch and counts what it withheld, by reason, for the notice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from groundswell.errors import GroundswellError
from groundswell.privacy._sql import columns as _columns
from groundswell.privacy._sql import rows as _rows
from groundswell.privacy.policy import Policy
from groundswell.privacy.pseudonyms import Pseudonymizer
from groundswell.privacy.redaction import redact
from groundswell.store.duck import Store

__all__ = ["DISCLOSURE_LABELS", "PLACEHOLDERS", "REASONS", "WITHHELD", "Tally", "Verdict", "Withholder",
           "covered_languages", "disclosure_keys", "safe_text"]

DISCLOSURE_LABELS = frozenset({"disclosure"})
REASONS = ("disclosure", "language", "not_judged")
PLACEHOLDERS = {
    "disclosure": "[text withheld: disclosure]",
    "language": "[text withheld: language not covered]",
    "not_judged": "[text withheld: not judged]",
}
WITHHELD = PLACEHOLDERS["disclosure"]
JUDGE_MODEL = "fast"  # the model that judges unlabelled text on the fly
# platform language tags that say nothing about the language (Twitter: und, qme media only, zxx no text ...)
_NO_LANGUAGE = frozenset({"", "und", "qme", "qht", "qam", "qct", "qst", "zxx", "art"})


def covered_languages() -> frozenset[str]:
    """The languages the content models cover (read at call time: the models may be retrained)."""
    from groundswell.content.language import COVERED

    return frozenset(COVERED)


@dataclass
class Tally:
    """Texts withheld by one output, by reason (and by language, for 'language')."""

    counts: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    shown: int = 0
    judged_here: int = 0  # texts the fast model judged on the fly for this output

    def add(self, reason: str | None, language: str | None = None) -> None:
        if reason is None:
            self.shown += 1
            return
        self.counts[reason] += 1
        if reason == "language":
            self.languages[language or "und"] += 1

    def merge(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.languages.update(other.languages)
        self.shown += other.shown
        self.judged_here += other.judged_here

    def as_dict(self) -> dict[str, Any]:
        return {"disclosure": self.counts["disclosure"], "language": self.counts["language"],
                "not_judged": self.counts["not_judged"], "languages": dict(self.languages.most_common()),
                "judged_on_the_fly": self.judged_here}

    def sentence(self) -> str:
        """One sentence for the notice: what was withheld and why, with counts."""
        c = self.counts
        langs = ", ".join(f"{k} {v:,}" for k, v in self.languages.most_common(5))
        return (f"withheld here: {c['disclosure']:,} judged disclosures, {c['language']:,} in a language the "
                f"models do not cover{f' ({langs})' if langs else ''}, {c['not_judged']:,} not judged")


@dataclass(frozen=True)
class Verdict:
    """A model's judgement of one text: None reason = judged not a disclosure."""

    reason: str | None
    language: str | None = None


class Withholder:
    """Decides, for batches of posts, which texts an output may show; counts the rest.

    ``judge`` (default True) lets the fast model judge texts the store has no
    labels for; without it (or without a model) they are 'not judged'.
    """

    def __init__(self, store: Store | None, policy: Policy, *, pseudonymizer: Pseudonymizer | None = None,
                 judge: bool = True, tally: Tally | None = None) -> None:
        self.store = store
        self.policy = policy
        self.ps = pseudonymizer
        self.judge = judge
        self.tally = tally if tally is not None else Tally()
        self.covered = covered_languages()
        self._labels: dict[tuple[str, str], Verdict] = {}
        self._cols = _columns(store, "post_labels") if store is not None and hasattr(store, "con") else {}
        self._model_error: str | None = None

    # -- stored judgements ---------------------------------------------------------
    def stored(self, keys: Iterable[tuple[str | None, str | None]]) -> dict[tuple[str, str], Verdict]:
        """The verdicts ``post_labels`` gives for these posts (absent: no usable judgement)."""
        want = sorted({(p or "", i) for p, i in keys if i is not None} - set(self._labels))
        if want and self._cols and {"platform", "id"} <= set(self._cols):
            for k in want:
                self._labels[k] = Verdict("not_judged")
            names = [n for n in sorted(DISCLOSURE_LABELS) if n in self._cols]
            long = "label" in self._cols
            lang = '"language"' if "language" in self._cols else "NULL"
            cov = 'coalesce("covered", false)' if "covered" in self._cols else "false"
            if long:
                disc = "label IN (SELECT unnest(?::VARCHAR[]))"
                params: list[Any] = [sorted(DISCLOSURE_LABELS)]
            else:
                disc = " OR ".join(f'coalesce("{n}", false)' for n in names) or "false"
                params = []
            # a row judges a text safe when its model covered it, in a covered language, and found no disclosure
            safe = f"({cov} AND NOT ({disc}) AND " + (" AND ".join(f'"{n}" IS NOT NULL' for n in names) or "false") + \
                   f" AND lower({lang}) IN (SELECT unnest(?::VARCHAR[])))"
            keys_t = pa.table({"platform": pa.array([p for p, _ in want], pa.string()),
                               "id": pa.array([i for _, i in want], pa.string())})
            cur = self.store.con.cursor()  # type: ignore[union-attr]  # its own: the caller may be mid-result
            try:
                cur.register("_gs_keys", keys_t)
                rows = cur.execute(
                    f"SELECT l.platform, l.id, bool_or({disc}), bool_or({safe}), "
                    f"arg_max(lower({lang}), {cov}) FROM post_labels l JOIN _gs_keys k "
                    f"ON l.platform = k.platform AND l.id = k.id GROUP BY 1, 2",
                    params + params + [sorted(self.covered)]).fetchall()
            finally:
                cur.close()
            for p, i, is_disc, is_safe, language in rows:
                if is_disc:
                    self._labels[(p, i)] = Verdict("disclosure", language)
                elif is_safe:
                    self._labels[(p, i)] = Verdict(None, language)
        return {k: v for k in want + [k for k in self._labels] if (v := self._labels.get(k)) is not None}

    # -- judging on the fly --------------------------------------------------------
    def languages(self, texts: Sequence[str]) -> list[str | None]:
        """Each text's language as detected from its words alone (``und`` when unsure; None: no detector)."""
        if not texts:
            return []
        try:
            from groundswell.content.language import detect

            return list(detect(list(texts)))
        except (GroundswellError, ImportError, OSError):
            return [None] * len(texts)

    def judge_texts(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[Verdict]:
        """The fast model's verdict on each text (nothing is stored)."""
        if not texts:
            return []
        if not self.judge or self._model_error is not None:
            return [Verdict("not_judged")] * len(texts)
        try:
            from groundswell.content.classify import LABELS, classify_batch

            b = classify_batch(list(texts), JUDGE_MODEL, list(langs))
        except (GroundswellError, ImportError, OSError) as e:
            self._model_error = str(e)
            return [Verdict("not_judged")] * len(texts)
        self.tally.judged_here += len(texts)
        cols = [LABELS.index(n) for n in DISCLOSURE_LABELS if n in LABELS]
        out = []
        for k in range(len(texts)):
            lang = (b.language[k] or "und").lower()
            if not b.covered[k] or lang not in self.covered:
                out.append(Verdict("language", lang))
            elif any(bool(b.labels[k, c]) for c in cols):
                out.append(Verdict("disclosure", lang))
            else:
                out.append(Verdict(None, lang))
        return out

    # -- the decision --------------------------------------------------------------
    def verdicts(self, keys: Sequence[tuple[str | None, str | None]], texts: Sequence[str | None],
                 langs: Sequence[str | None] | None = None,
                 originals: Sequence[tuple[str | None, str | None] | None] | None = None,
                 known: set[tuple[str, str]] | None = None) -> list[Verdict | None]:
        """A verdict per text (None for a missing text): stored labels of the post and of the
        original it reposts, else the fast model on the text itself. ``known`` adds posts known
        to be disclosures."""
        n = len(texts)
        langs = langs if langs is not None else [None] * n
        originals = originals if originals is not None else [None] * n
        stored = self.stored([k for k in keys] + [o for o in originals if o is not None])
        # the text's own language, whatever the platform's tag says (a Bluesky post's tag is the poster's
        # app setting): a text confidently in a language no model covers is never judged by one
        own = self.languages([t or "" for t in texts])
        out: list[Verdict | None] = [None] * n
        todo: list[int] = []
        for k in range(n):
            if texts[k] is None:
                continue
            foreign = own[k] not in ("und", None) and own[k] not in self.covered
            orig = originals[k]
            mine = [(keys[k][0] or "", keys[k][1])] + ([(orig[0] or "", orig[1])] if orig is not None else [])
            vs = [stored.get((p, i)) for p, i in mine if i is not None]
            if known and any(x in known for x in mine):
                out[k] = Verdict("disclosure")
            elif any(v is not None and v.reason == "disclosure" for v in vs):
                out[k] = next(v for v in vs if v is not None and v.reason == "disclosure")
            elif foreign:
                out[k] = Verdict("language", own[k])
            elif any(v is not None and v.reason is None for v in vs):
                out[k] = next(v for v in vs if v is not None and v.reason is None)
            else:
                todo.append(k)
        # the model reads the language found here (no second detection); an undetermined language
        # with no platform tag to say otherwise is not covered, whatever the model would say
        model: list[int] = []
        for k in todo:
            tag = (langs[k] or "").strip().lower().split("-")[0]
            if own[k] == "und" and (not tag or tag in _NO_LANGUAGE):
                out[k] = Verdict("language", "und")
            else:
                model.append(k)
        for k, v in zip(model, self.judge_texts([texts[k] or "" for k in model],
                                                [own[k] if own[k] in self.covered else langs[k] for k in model])):
            out[k] = v
        return out

    def shown(self, verdict: Verdict | None, owner_public: bool) -> bool:
        """Whether an output may show a text with this verdict, by an owner who is (not) a public figure."""
        pol = self.policy
        if pol.show_disclosure_text and pol.private:
            return True
        if verdict is None or verdict.reason is None:
            return True
        if verdict.reason == "disclosure":
            return pol.show_disclosure_text and owner_public
        return owner_public

    def decide(self, keys: Sequence[tuple[str | None, str | None]], texts: Sequence[str | None],
               owners_public: Sequence[bool], langs: Sequence[str | None] | None = None,
               originals: Sequence[tuple[str | None, str | None] | None] | None = None,
               known: set[tuple[str, str]] | None = None) -> list[str | None]:
        """Per text: None when it may be shown, else the reason it is withheld (counted in :attr:`tally`)."""
        vs = self.verdicts(keys, texts, langs, originals, known)
        out: list[str | None] = []
        for t, v, pub in zip(texts, vs, owners_public):
            if t is None:
                out.append(None)
                continue
            ok = self.shown(v, pub)
            reason = None if ok else (v.reason if v is not None and v.reason else "not_judged")
            self.tally.add(reason, v.language if v is not None else None)
            out.append(reason)
        return out


def disclosure_keys(store: Store, labels: Iterable[str] = DISCLOSURE_LABELS) -> set[tuple[str, str]]:
    """(platform, id) of the posts the content classifier labelled as disclosures (by any model).

    Read from the ``post_labels`` table (one boolean column per label, or a
    long ``label`` column) when the store has one; empty otherwise.
    """
    cols = _columns(store, "post_labels")
    if not {"platform", "id"} <= set(cols):
        return set()
    if "label" in cols:
        rows = _rows(store, "SELECT DISTINCT platform, id FROM post_labels WHERE label IN "
                            "(SELECT unnest(?::VARCHAR[]))", [sorted(labels)])
        return {(p, i) for p, i in rows}
    names = [n for n in sorted(labels) if n in cols]
    if not names:
        return set()
    cond = " OR ".join(f'coalesce("{n}", false)' for n in names)
    rows = _rows(store, f"SELECT DISTINCT platform, id FROM post_labels WHERE {cond}", [])
    return {(p, i) for p, i in rows}


def safe_text(post: Mapping[str, Any], labels: Iterable[str] | None, policy: Policy, *,
              author_public: bool = False, pseudonymizer: Pseudonymizer | None = None,
              judged: bool = False) -> str | None:
    """The text of one ``post`` as a shareable output may show it, or None when it must be withheld.

    ``labels`` are the post's content labels (None: not judged). A disclosure
    is shown only with ``policy.show_disclosure_text``, and then only when its
    author is a public figure or the output is private. A private person's
    text is shown only when ``judged`` says a model covering its language found
    no disclosure (:class:`Withholder` decides that for batches from the store).
    Shown text has mentions and links rewritten (given a ``pseudonymizer``) and
    is redacted per policy.
    """
    text = post.get("text")
    if text is None:
        return None
    if labels is not None and DISCLOSURE_LABELS & set(labels):
        verdict: Verdict | None = Verdict("disclosure")
    else:
        verdict = Verdict(None) if judged else Verdict("not_judged")
    if not Withholder(None, policy, judge=False).shown(verdict, author_public):
        return None
    if pseudonymizer is not None:
        return pseudonymizer.text(text, post.get("platform"))
    return redact(text) if policy.redact else text
