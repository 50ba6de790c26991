"""Sentiment in [-1, 1] from the VADER lexicon, with simplified VADER rules.

The lexicon (7,500 words and emoticons rated by people, Hutto & Gilbert 2014)
is read from the installed ``vaderSentiment`` package; the scoring is a
shortened VADER written for speed (about 10x faster than vaderSentiment's own
``polarity_scores``): the valences of the words are summed, a valence is
scaled by -0.74 when one of the three words before it is a negation, words
before a "but" count half and words after it 1.5 times, and the sum ``s`` is
squashed as ``s / sqrt(s*s + 15)`` (VADER's compound). Capitals, boosters and
punctuation emphasis are left out. ``benchmarks/content_eval.py`` reports how
closely it follows the full VADER compound score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from ..errors import MissingExtra
from .features import normalize

__all__ = ["sentiment"]

_TOKEN = re.compile(r"[a-z][a-z'\-]*|(?<!\S)(?:[:;=8][\-o']?[()\[\]dpo/\\|*]|<3)(?!\S)")
_NEGATE = frozenset(
    "aint arent cannot cant couldnt darent didnt doesnt dont hadnt hasnt havent isnt mightnt mustnt "
    "neither neednt never none nope nor not nothing nowhere oughtnt shant shouldnt wasnt werent "
    "without wont wouldnt rarely seldom despite".split()
)
_ALPHA = 15.0


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, float]:
    try:
        text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as e:  # pragma: no cover - a core dependency
        raise MissingExtra("sentiment scoring", "content") from e
    lex: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if len(parts) >= 2:
            lex[parts[0]] = float(parts[1])
    return lex


def _score(text: str | None, lex: dict[str, float]) -> float:
    if not text:
        return 0.0
    toks = _TOKEN.findall(normalize(text))  # links gone first: "://" is no emoticon
    if not toks:
        return 0.0
    total = 0.0
    but = -1
    for i, w in enumerate(toks):
        if w == "but":
            but = i
    for i, w in enumerate(toks):
        v = lex.get(w)
        if v is None:
            continue
        for j in range(max(0, i - 3), i):
            p = toks[j].replace("'", "")
            if p in _NEGATE or p.endswith("nt") and p[:-2] + "nt" in _NEGATE:
                v *= -0.74
                break
        if but >= 0:
            v *= 0.5 if i < but else 1.5 if i > but else 1.0
        total += v
    return total / math.sqrt(total * total + _ALPHA)


def sentiment(texts: Sequence[str | None]) -> list[float]:
    """A score in [-1, 1] per text (0.0 for empty texts)."""
    lex = _lexicon()
    return [round(_score(t, lex), 4) for t in texts]
