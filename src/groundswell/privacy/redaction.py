"""Redaction: e-mail addresses, phone numbers and street addresses out of text.

On by default in every output (``--no-redact`` turns it off);
``privacy.redact_store`` applies it at ingest too (:func:`redact_posts_table`).
A safety net, not anonymisation: see :func:`redact` for the patterns and
their limits.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from groundswell.privacy.policy import META, _bool

__all__ = ["redact", "redact_posts_table", "redact_store_enabled"]

_EMAIL_RE = re.compile(r"(?<![\w.%+@-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_PHONE_RE = re.compile(
    r"(?<![\w+/#.-])"
    r"(?:\+\d{1,3}[\s.-]?|00\d{1,3}[\s.-]?)?"          # +49 / 0049
    r"(?:\(\d{1,5}\)[\s.-]?)?"                         # (555) / (0)
    r"\d{1,12}(?:[\s.-]\d{1,10}){0,5}"
    r"(?![\w-]|[.,]\d)"
)
_DATE_RE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
_US_STREET = (r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
              r"Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Close|Crescent|Row")
_ADDRESS_RES = [
    # US / UK: 221B Baker Street, 1600 N. Pennsylvania Ave NW, Apt 4
    re.compile(r"\b\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][\w'’.-]*\s+){1,4}(?:" + _US_STREET + r")\b\.?"
               r"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*[\w-]+)?"),
    # German / Dutch / Scandinavian compounds: Hauptstraße 12a, Musterstr. 5, Kerkstraat 12, Storgatan 3
    re.compile(r"\b[A-ZÄÖÜÅ][\wäöüßåé-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|ring|ufer|"
               r"straat|laan|gracht|plein|gatan|vägen|gade|vej)\s+\d{1,4}\s?[a-zA-Z]?\b", re.IGNORECASE),
    # Multi-word German: Berliner Straße 3, Am Markt 4 is not matched (too common a phrase)
    re.compile(r"\b[A-ZÄÖÜ][\wäöüß-]+\s+(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse)\s+\d{1,4}\s?[a-zA-Z]?\b"),
    # French: 12 rue de la Paix, 5 bis avenue Victor Hugo
    re.compile(r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|impasse|allée|chemin|"
               r"quai|cours|route)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*(?:[A-ZÀ-Ý][\w'’-]*)(?:\s+[A-ZÀ-Ý][\w'’-]*){0,3}",
               re.IGNORECASE),
    # Spanish / Italian / Portuguese: Calle de Alcalá 42, Via Roma 10, Rua Augusta 100
    re.compile(r"\b(?:Calle|C/|Avenida|Avda\.|Plaza|Paseo|Via|Viale|Piazza|Corso|Vicolo|Rua|Travessa|Largo)\s+"
               r"(?:(?:de|del|della|dei|di|da|do|dos|la|las|los)\s+)*(?:[A-ZÀ-Ý][\w'’-]*\s+){1,3},?\s*(?:n\.?\s*)?\d{1,4}\b"),
]


def _phone_ok(s: str) -> bool:
    digits = sum(c.isdigit() for c in s)
    if digits < 7 or digits > 15:
        return False
    if _DATE_RE.match(s):
        return False
    if s[0] in "+(" or s.startswith("00"):
        return True
    groups = re.split(r"[\s.-]+", s.replace("(", " ").replace(")", " ").strip())
    if len(groups) == 1:
        # an unbroken run: only a 10-digit North American or a 0-prefixed national number
        return (digits == 10 and s[0] in "23456789") or (s[0] == "0" and 9 <= digits <= 11)
    if s[0] == "0":
        return True
    # separated groups: the last group must be 2-4 digits (1 234 567 is a count, not a number)
    if len(groups) >= 2 and all(len(g) == 3 for g in groups):
        return False
    return 2 <= len(groups[-1]) <= 4 and digits >= 10 or (len(groups) >= 3 and digits >= 9)


def redact(text: str | None) -> str | None:
    """Replace e-mail addresses, phone numbers and street addresses.

    Patterns (and their limits): e-mails are ``name@domain.tld`` (a
    ``@user@server`` Mastodon handle is not one); phone numbers are 7-15 digits
    with an international prefix (``+44 20 7946 0958``, ``0049 30 1234567``),
    a North American form (``(555) 123-4567``, ``555.123.4567``,
    ``5551234567``) or a 0-prefixed national form (``06 12 34 56 78``,
    ``020 7946 0958``); dates, counts written with thin groups (``1 234 567``)
    and numbers of other lengths are left alone. Street addresses are a house
    number followed by capitalized words and a street type (US/UK:
    ``221B Baker Street``), the German/Dutch/Nordic compounds with a number
    (``Hauptstraße 12``, ``Kerkstraat 4``), French ``12 rue de la Paix`` and
    Spanish/Italian/Portuguese ``Via Roma 10``. Not covered: addresses
    without a house number, PO boxes, postcodes alone, numbers written in
    words, and lower-case addresses in English.
    """
    if not text:
        return text
    if "@" in text:
        text = _EMAIL_RE.sub("[email]", text)
    for rx in _ADDRESS_RES:
        text = rx.sub("[address]", text)
    if sum(c.isdigit() for c in text) >= 7:
        text = _PHONE_RE.sub(lambda m: "[phone]" if _phone_ok(m.group(0)) else m.group(0), text)
    return text


def redact_posts_table(table: pa.Table) -> pa.Table:
    """A posts batch with :func:`redact` applied to ``text`` (the store option ``privacy.redact_store``).

    ``raw`` is left as the platform sent it unless it held something the
    redaction removed; then it is dropped (NULL), since the original JSON
    would give it back.
    """
    if "text" not in table.column_names or table.num_rows == 0:
        return table
    texts = table.column("text").to_pylist()
    new = [redact(t) for t in texts]
    changed = [a != b for a, b in zip(texts, new)]
    if not any(changed):
        return table
    i = table.column_names.index("text")
    table = table.set_column(i, table.field(i), pa.array(new, pa.string()))
    if "raw" in table.column_names:
        j = table.column_names.index("raw")
        raw = table.column("raw")
        table = table.set_column(j, table.field(j),
                                 pc.if_else(pa.array(changed), pa.nulls(len(changed), pa.string()), raw))
    return table


def redact_store_enabled(store: Any) -> bool:
    """Whether ingest must apply :func:`redact_posts_table` to every posts batch."""
    return _bool(store.meta(META + "redact_store"), False)

