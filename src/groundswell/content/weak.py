"""Weak labelling rules for the movement classes (training only).

No human-labelled data exist for the movement classes except the antinetwork
testimony and story sets, so ``scripts/train_content.py`` labels unlabelled
#MeToo texts with these rules and trains the models on the result (together
with the human labels it has: testimony -> disclosure, MeTooMA Support ->
support, Oppose -> opposition, not relevant -> other). The rules are patterns
of first-person experience, of never having told, and small lexicons of
solidarity, backlash and news wording; they are written here from general
knowledge of how such posts are phrased, not copied from any data set.

The rules are deliberately high-precision and low-recall: a text no rule fires
on is left unlabelled (``None``), not called "other".
"""

from __future__ import annotations

import re

from .features import normalize

__all__ = ["movement_rule", "first_time_rule", "is_first_person"]

_FLAGS = re.IGNORECASE

_ACTS = (
    r"raped|assaulted|molested|groped|harassed|abused|grabbed|touched|fondled|stalked|"
    r"drugged|followed|cornered|forced|flashed|exposed himself|catcalled|violated|kissed"
)
_PEOPLE = (
    r"he|she|they|a (?:man|guy|boy|coworker|co-worker|colleague|teacher|professor|boss|manager|"
    r"stranger|friend|neighbou?r|doctor|coach|priest|relative)|my (?:\w+ )?(?:boss|manager|teacher|"
    r"professor|uncle|cousin|brother|father|stepfather|dad|ex|boyfriend|husband|friend|coach|"
    r"coworker|co-worker|colleague|neighbou?r|doctor|pastor|priest|date|landlord|supervisor)"
)

_DISCLOSURE = [
    re.compile(rf"\b(?:{_PEOPLE}) (?:\w+ )?(?:{_ACTS}) me\b", _FLAGS),
    re.compile(rf"\b(?:i was|i've been|i have been|i got|i was being|i'd been) (?:\w+ )?(?:{_ACTS}|sexually \w+)\b",
               _FLAGS),
    re.compile(r"\bhappened to me\b|\bdone to me\b"
               r"|\bmy (?:rapist|abuser|attacker|harasser|assaulter|assault|rape|abuse)\b", _FLAGS),
    re.compile(r"\bwhen i was (?:\d+|young|little|a (?:child|kid|teen\w*|girl|boy|student)"
               r"|in (?:high school|college|middle school|grade))\b", _FLAGS),
    re.compile(r"\bi (?:didn'?t|did not|never) report(?:ed)?\b|\bi (?:reported it|told (?:my|the|a) \w+) and\b",
               _FLAGS),
    re.compile(r"\b(?:me too|#?metoo)[.,:!]* i (?:was|have been|got)\b", _FLAGS),
    re.compile(r"\b(?:i was|i am|i'm) a (?:survivor|victim)\b", _FLAGS),
]

_FIRST_TIME = [
    re.compile(r"\b(?:never|not|haven'?t|didn'?t|have not|did not) (?:ever )?"
               r"(?:told|tell|said|say|spoken|spoke|talked|shared|admitted|mentioned)\b"
               r"(?: (?:this|it|that|anyone|anybody|a soul|about))?", _FLAGS),
    re.compile(r"\bfirst time (?:i(?:'ve| have)? )?(?:ever )?"
               r"(?:said|say|saying|shar\w*|talk\w*|spoke|speak\w*|admit\w*|told|tell\w*|post\w*|writ\w*)\b", _FLAGS),
    re.compile(r"\bno ?one (?:knows|knew)\b|\bnever told (?:anyone|anybody|a soul)\b|\buntil (?:now|today)\b", _FLAGS),
]

_SUPPORT = [
    re.compile(r"\bi believe (?:you|her|him|them|survivors|women|victims)\b|#ibelieve\w+", _FLAGS),
    re.compile(r"\bstand(?:s|ing)? (?:with|by) (?:you|her|them|survivors|women|victims|all)\b|\bsolidarity\b",
               _FLAGS),
    re.compile(r"\byou(?: are|'re) not alone\b|\bso brave\b|\bcourage\b|\bproud of (?:you|her|them|all)\b",
               _FLAGS),
    re.compile(r"\bthank(?:s| you) (?:for|to) (?:sharing|speaking|everyone|all)\b|\bsending (?:love|hugs|strength)\b",
               _FLAGS),
    re.compile(r"\bsupport(?:ing)? (?:all )?(?:the )?(?:survivors|victims|women|#?metoo|movement)\b|#timesup\b",
               _FLAGS),
]

_OPPOSITION = [
    re.compile(r"\bwitch ?-?hunts?\b|#himtoo\b|#mentoo\b|\bhoax\b|\bfeminazis?\b|\bgold ?diggers?\b", _FLAGS),
    re.compile(r"\bfalse(?:ly)? (?:accus\w*|allegations?|claims?|cases?)\b|\battention[- ]seek\w*", _FLAGS),
    re.compile(r"\b(?:ruin\w*|destroy\w*) (?:men|lives|careers|his (?:life|career)|innocent)\b", _FLAGS),
    re.compile(r"\b(?:gone|going|went) too far\b|\bmob justice\b|\btrial by (?:media|twitter|social media)\b"
               r"|\bdue process\b", _FLAGS),
    re.compile(r"\b(?:why (?:now|after \d+ years|did she wait))\b|\bmisuse of #?metoo\b"
               r"|\bmetoo is (?:a )?(?:joke|fake|scam)\b", _FLAGS),
]

_NEWS = re.compile(
    r"\b(?:report(?:s|ed)?|says|said|accused|allegations?|according to|breaking|article|interview|"
    r"opinion|study|poll|survey|via|resign(?:s|ed)?|fired|steps? down|charged|lawsuit|statement|"
    r"sued|arrested|headlines?|news|op-ed|podcast|panel|reveals?|latest)\b",
    _FLAGS,
)
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|i'm|i've|i'd|myself)\b", _FLAGS)


def is_first_person(text: str) -> bool:
    return bool(_FIRST_PERSON.search(normalize(text)))


def _any(patterns: list[re.Pattern[str]], t: str) -> bool:
    return any(p.search(t) for p in patterns)


def first_time_rule(text: str | None) -> bool:
    """True when the text says it is told for the first time (never told before)."""
    return bool(text) and _any(_FIRST_TIME, normalize(text))


def movement_rule(text: str | None) -> str | None:
    """The movement class the rules give the text, or None when no rule is sure.

    Priority: disclosure > opposition > support > news. A text where both a
    support and an opposition rule fire is left unlabelled.
    """
    if not text:
        return None
    t = normalize(text)
    if _any(_DISCLOSURE, t):
        return "disclosure"
    opp = _any(_OPPOSITION, t)
    sup = _any(_SUPPORT, t)
    if opp and sup:
        return None
    if opp:
        return "opposition"
    if sup:
        return "support"
    if "httpurl" in t and _NEWS.search(t) and not _FIRST_PERSON.search(t):
        return "news"
    return None
