"""Retention: the store's expiry date, and the settings ``groundswell privacy`` shows.

``privacy.expires`` (a date) makes :func:`check_retention` return a warning
once the date has passed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from groundswell.errors import UsageError
from groundswell.privacy.policy import META, Policy
from groundswell.privacy.redaction import redact_store_enabled
from groundswell.store.duck import Store

__all__ = ["check_retention", "set_expiry", "settings"]

_META = META


def set_expiry(store: Store, when: date | str | None) -> None:
    """Set (or, with None, clear) the store's expiry date (``privacy.expires``)."""
    if when is None:
        store.set_meta(_META + "expires", None)
        return
    d = when if isinstance(when, date) else _parse_date(when)
    store.set_meta(_META + "expires", d.isoformat())


def _parse_date(s: str) -> date:
    try:
        return date.fromisoformat(s.strip())
    except ValueError:
        raise UsageError(f"not a date: {s!r}; write YYYY-MM-DD") from None


def check_retention(store: Store, today: date | None = None) -> str | None:
    """The warning ``groundswell info`` must print once the store's expiry date has passed, else None."""
    v = store.meta(_META + "expires")
    if not v:
        return None
    try:
        exp = date.fromisoformat(v)
    except ValueError:
        return f"warning: the store's expiry date {v!r} is unreadable; set it again with " \
               f"'groundswell privacy --db {store.path} --expires YYYY-MM-DD'"
    today = today or datetime.now(UTC).date()
    if today > exp:
        days = (today - exp).days
        return (f"warning: this store expired on {exp.isoformat()} ({days} day{'s' if days != 1 else ''} ago): "
                f"its retention period is over; delete {store.path}, or extend it with "
                f"'groundswell privacy --db {store.path} --expires YYYY-MM-DD'")
    return None


def settings(store: Store) -> dict[str, Any]:
    """The store's privacy settings (never the secret)."""
    pol = Policy.from_store(store)
    return {
        "public_figures": {"verified": pol.verified, "min_followers": pol.min_followers,
                           "allowlist": sorted(pol.allowlist)},
        "redact_exports": pol.redact,
        "redact_store": redact_store_enabled(store),
        "expires": store.meta(_META + "expires"),
        "has_secret": bool(store.meta(_META + "secret")),
        "forgotten_accounts": len(json.loads(store.meta(_META + "forgotten") or "[]")),
        "retention_warning": check_retention(store),
    }

