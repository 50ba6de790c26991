"""Identifiers in each platform's own style, derived from time.

* Twitter: 64-bit snowflakes, ``(ms - 1288834974657) << 22 | sequence``;
  user ids are snowflakes of the account's creation time (older accounts:
  smaller numbers growing with it).
* Bluesky: ``did:plc:`` + 24 base32 characters per account; record keys are
  TIDs (13 characters of base32-sortable: 53 bits of microseconds, 10 bits of
  clock id); a post is ``at://DID/app.bsky.feed.post/TID``; CIDs are
  ``bafyrei`` + 52 base32 characters of a BLAKE2b hash of the URI.
* Mastodon: ``ms << 16 | sequence`` (Mastodon's own id scheme), for
  statuses and accounts.

The sequence parts come from a running counter, so ids are unique and, like
the real ones, sort by time.
"""

from __future__ import annotations

import base64
import hashlib

TWITTER_EPOCH_MS = 1_288_834_974_657
_S32 = "234567abcdefghijklmnopqrstuvwxyz"


def snowflake(ms: int, seq: int) -> str:
    return str(((ms - TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF))


def twitter_user_id(created_ms: int, seq: int) -> str:
    """Snowflake of the creation time; before snowflakes (Nov 2010), a smaller
    number growing with time (creation times are distinct, so ids are too)."""
    if created_ms >= TWITTER_EPOCH_MS + 60_000:  # snowflakes >= 2.5e11: above every old-style id
        return snowflake(created_ms, seq)
    return str(created_ms - 1_199_999_999_999)  # accounts are made from 2008-01-10 (1.2e12 ms) on


def snowflake_ms(id_: str) -> int:
    return (int(id_) >> 22) + TWITTER_EPOCH_MS


def mastodon_id(ms: int, seq: int) -> str:
    return str((ms << 16) | (seq & 0xFFFF))


def tid(us: int, clock: int) -> str:
    v = ((us & ((1 << 53) - 1)) << 10) | (clock & 0x3FF)
    out = []
    for _ in range(13):
        out.append(_S32[v & 31])
        v >>= 5
    return "".join(reversed(out))


def did(seed: int, account: int) -> str:
    h = hashlib.blake2b(f"did:{seed}:{account}".encode(), digest_size=15).digest()
    return "did:plc:" + base64.b32encode(h).decode().lower()


def cid(uri: str) -> str:
    h = hashlib.blake2b(uri.encode(), digest_size=32).digest()
    return "bafyrei" + base64.b32encode(h).decode().lower().rstrip("=")[:52]
