"""Language of a post: the platform's tag when it gives one, else py3langid.

py3langid (a fork of langid.py, its model inside the package) scores 97
languages from character n-grams; it runs offline at about 25,000 short texts a
second here. On tweets it is unsure about short or hashtag-only texts, so a
detected language counts only at a normalized probability of 0.9 or more;
below that the language is ``und`` (undetermined). The content models are
trained on English only: a text is *covered* when its language is ``en``;
a text confidently in another language, or whose language is undetermined,
is not labelled (the privacy rules withhold such texts for the same reason:
nothing has judged them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import MissingExtra
from .features import normalize

__all__ = ["COVERED", "MIN_PROB", "detect"]

COVERED = frozenset({"en"})
MIN_PROB = 0.9
# platform tags that mean "no language" (Twitter: und, qme media only, zxx no text, qht hashtags only ...)
_NO_LANGUAGE = frozenset({"", "und", "qme", "qht", "qam", "qct", "qst", "zxx", "art"})
_IDENT: Any = None


def _identifier() -> Any:
    global _IDENT
    if _IDENT is None:
        try:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier
        except ImportError as e:  # pragma: no cover - a core dependency
            raise MissingExtra("language identification", "content") from e
        _IDENT = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _IDENT


def detect(texts: Sequence[str | None], platform_langs: Sequence[str | None] | None = None) -> list[str]:
    """A language code per text: the platform's when usable, else detected, else ``und``."""
    out: list[str] = []
    ident = None
    for i, t in enumerate(texts):
        tag = (platform_langs[i] or "").strip().lower() if platform_langs is not None else ""
        if tag and tag not in _NO_LANGUAGE:
            out.append(tag.split("-")[0])
            continue
        words = normalize(t).replace("httpurl", " ").replace("@user", " ")
        if not words.strip():
            out.append("und")
            continue
        ident = ident or _identifier()
        lang, prob = ident.classify(words)
        out.append(lang if prob >= MIN_PROB else "und")
    return out
