"""What an output may show, and the notice every output carries about itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from groundswell.store.duck import Store

__all__ = ["DEFAULT_MIN_FOLLOWERS", "META", "Policy", "mark_private", "privacy_header"]

DEFAULT_MIN_FOLLOWERS = 10_000
META = "privacy."  # the prefix of the store's privacy settings in ``meta``
_META = META

def _bool(v: str | None, default: bool) -> bool:
    if v is None or v == "":
        return default
    return v.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Policy:
    """What an output may show.

    ``verified``, ``min_followers`` and ``allowlist`` make the public-figure
    rule (``min_followers=None`` turns the follower rule off). ``identify``
    shows every handle; ``redact`` removes e-mails, phone numbers and street
    addresses from text; ``show_disclosure_text`` lets the verbatim text of
    disclosures appear (public figures only unless ``private``); ``private``
    marks the output as not for sharing.
    """

    verified: bool = True
    min_followers: int | None = DEFAULT_MIN_FOLLOWERS
    allowlist: frozenset[str] = field(default_factory=frozenset)
    identify: bool = False
    redact: bool = True
    show_disclosure_text: bool = False
    private: bool = False

    @classmethod
    def from_store(cls, store: Store, **overrides: Any) -> Policy:
        """The store's settings (``privacy.*`` in ``meta``), then ``overrides`` (None ones ignored)."""
        kw: dict[str, Any] = {}
        v = store.meta(_META + "verified")
        if v is not None:
            kw["verified"] = _bool(v, True)
        v = store.meta(_META + "min_followers")
        if v is not None:
            kw["min_followers"] = int(v) if v.strip() else None
        v = store.meta(_META + "allowlist")
        if v:
            kw["allowlist"] = frozenset(json.loads(v))
        v = store.meta(_META + "redact")
        if v is not None:
            kw["redact"] = _bool(v, True)
        kw.update({k: v for k, v in overrides.items() if v is not None})
        if "allowlist" in kw and not isinstance(kw["allowlist"], frozenset):
            kw["allowlist"] = frozenset(kw["allowlist"])
        return cls(**kw)

    def save(self, store: Store) -> None:
        """Keep the public-figure rule and the redaction default in the store."""
        store.set_meta(_META + "verified", "true" if self.verified else "false")
        store.set_meta(_META + "min_followers", "" if self.min_followers is None else str(self.min_followers))
        store.set_meta(_META + "allowlist", json.dumps(sorted(self.allowlist)))
        store.set_meta(_META + "redact", "true" if self.redact else "false")

    @property
    def rule(self) -> str:
        parts = []
        if self.verified:
            parts.append("verified")
        if self.min_followers is not None:
            parts.append(f"at least {self.min_followers:,} followers")
        if self.allowlist:
            parts.append(f"on the allowlist ({len(self.allowlist)})")
        return " or ".join(parts) if parts else "nobody"


def privacy_header(policy: Policy, withheld: Any = None) -> dict[str, Any]:
    """What every output must state about itself (a dict; ``notice`` is one line to show).

    ``withheld`` (a :class:`groundswell.privacy.withholding.Tally`) adds what
    this output withheld, by reason, with counts.
    """
    if policy.show_disclosure_text:
        disclosures = "shown (private output)" if policy.private else "shown for public figures only"
    else:
        disclosures = "withheld"
    mode = "identified" if policy.identify else "pseudonymous"
    if policy.identify:
        who = "IDENTIFIED: this output names every account (--identify)"
    else:
        who = f"Pseudonymous: accounts that are not public figures ({policy.rule}) appear as pseudonyms"
    if policy.show_disclosure_text and policy.private:
        texts = "every text shown"
    else:
        texts = ("text of people who are not public figures shown only when a model covering its language "
                 "judged it not a disclosure")
    notice = f"{who}; personal details in text {'redacted' if policy.redact else 'NOT redacted'}; " \
             f"disclosure text {disclosures}; {texts}"
    counts = None
    if withheld is not None:
        counts = withheld.as_dict()
        notice += f"; {withheld.sentence()}"
    notice += "."
    if policy.private:
        notice = "PRIVATE - not for sharing. " + notice
    return {"mode": mode, "public_figures": policy.rule, "redacted": policy.redact,
            "disclosure_text": disclosures, "private": policy.private, "withheld": counts, "notice": notice}


def mark_private(output: dict[str, Any], policy: Policy, withheld: Any = None) -> dict[str, Any]:
    """Return ``output`` (a JSON-able dict) with its ``privacy`` header added.

    Every structured output carries the header; ``private`` is true when the
    user opted in to showing disclosure text of private people, and then the
    ``notice`` starts with ``PRIVATE``.
    """
    out = dict(output)
    out["privacy"] = privacy_header(policy, withheld)
    return out
