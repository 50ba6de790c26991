"""Care for the people in the data: pseudonyms, redaction, deletion, retention.

Everything that leaves the store (report, brief, dashboard, exports,
``analyze --json``) goes through this module. The defaults protect the people
in the data; every opt-out is explicit and every output says which mode it is
in (:func:`privacy_header`).

Pseudonyms
----------
An account that is not a *public figure* appears as ``user-<12 hex>``: the
first 48 bits of HMAC-SHA256 over ``"{platform}\\x1f{account id}"`` keyed with a
per-store secret (``meta`` key ``privacy.secret``, 32 random bytes, created on
first use). One person keeps one pseudonym within a store (and across its
outputs); without the key a pseudonym cannot be reversed or recomputed from a
known id. An account known only by its handle (CSV files without a user id) is
keyed by ``"{platform}\\x1f@{handle, case-folded}"``; a handle that the
store's ``accounts`` table resolves to an id gets the id's pseudonym.
Post ids are pseudonymized the same way (``post-<12 hex>``) unless their author
is public: a tweet id can be looked up, a Bluesky at:// URI holds the author's
DID and a Mastodon URI their username. 48 bits make a collision between two
accounts unlikely below some ten million accounts (about 0.2 % at one
million); analyses count by the real ids inside the store, so a collision can
only make two people share a label on a page.

A *public figure* is an account that is verified (``privacy.verified``, on by
default), or has had at least ``privacy.min_followers`` followers (10,000 by
default) in any observation, or is on the allowlist (``privacy.allowlist``:
``@handle``, ``id`` or ``platform:id``). Public figures appear under their
handle. ``identify=True`` (the CLI's ``--identify``) shows everybody's handle,
and the output says so.

Text
----
:func:`redact` replaces e-mail addresses, phone numbers and street addresses
with ``[email]``, ``[phone]`` and ``[address]`` (on by default in every output;
``--no-redact`` turns it off; ``privacy.redact_store`` applies it at ingest
too, see :func:`redact_posts_table`). Mentions of private accounts in the
text become their pseudonyms. The verbatim text of a post labelled as a
disclosure (:data:`DISCLOSURE_LABELS`) is withheld unless
``show_disclosure_text`` is set, and even then only for public figures, or for
everybody when the output is marked private (``private=True``):
:func:`safe_text` decides.

Deletion
--------
:func:`forget` records deletions for posts or a whole account, scrubs the text
and identifying fields from every table (:func:`apply_deletions`, which also
finishes what Jetstream deletes and Twitter compliance files start at ingest)
and rewrites the database file (:func:`compact`) so the old bytes are gone.

Retention
---------
``privacy.expires`` (a date) makes :func:`check_retention` return a warning
once the date has passed.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import IO, Any, Callable, Iterable, Mapping, Sequence

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from groundswell.errors import StoreError, UsageError
from groundswell.store.duck import Store

__all__ = [
    "DEFAULT_MIN_FOLLOWERS",
    "DISCLOSURE_LABELS",
    "ForgetResult",
    "Policy",
    "Pseudonymizer",
    "apply_deletions",
    "check_retention",
    "compact",
    "disclosure_keys",
    "ensure_secret",
    "export_safely",
    "forget",
    "mark_private",
    "privacy_header",
    "pseudonymize_table",
    "read_id_file",
    "redact",
    "redact_posts_table",
    "safe_text",
    "set_expiry",
]

DEFAULT_MIN_FOLLOWERS = 10_000
LABEL_HEX = 12
ACCOUNT_PREFIX = "user-"
POST_PREFIX = "post-"
DISCLOSURE_LABELS = frozenset({"disclosure"})
WITHHELD = "[text withheld: disclosure]"

_SEP = "\x1f"
_META = "privacy."
_CORE_TABLES = ("posts", "accounts", "volumes", "deletions", "rejects", "sources", "meta")
_PLATFORMS = ("twitter", "bluesky", "mastodon")

# default column roles, by name (analysis outputs that use these names need no arguments)
ACCOUNT_ID_COLUMNS = ("author_id", "reply_to_author_id", "mention_ids", "account_id", "user_id",
                      "source_author_id", "target_author_id")
HANDLE_COLUMNS = ("author_handle", "mentions", "handle", "username", "screen_name")
POST_ID_COLUMNS = ("repost_of_id", "reply_to_id", "quote_of_id", "conversation_id", "post_id",
                   "source_id", "target_id")
TEXT_COLUMNS = ("text",)
PROFILE_COLUMNS = ("display_name", "description", "location", "author_name")
DROP_COLUMNS = ("raw",)


# --------------------------------------------------------------------------- policy

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
    def from_store(cls, store: Store, **overrides: Any) -> "Policy":
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


def privacy_header(policy: Policy) -> dict[str, Any]:
    """What every output must state about itself (a dict; ``notice`` is one line to show)."""
    if policy.show_disclosure_text:
        disclosures = "shown (private output)" if policy.private else "shown for public figures only"
    else:
        disclosures = "withheld"
    mode = "identified" if policy.identify else "pseudonymous"
    if policy.identify:
        who = "IDENTIFIED: this output names every account (--identify)"
    else:
        who = f"Pseudonymous: accounts that are not public figures ({policy.rule}) appear as pseudonyms"
    notice = f"{who}; personal details in text {'redacted' if policy.redact else 'NOT redacted'}; " \
             f"disclosure text {disclosures}."
    if policy.private:
        notice = "PRIVATE - not for sharing. " + notice
    return {"mode": mode, "public_figures": policy.rule, "redacted": policy.redact,
            "disclosure_text": disclosures, "private": policy.private, "notice": notice}


def mark_private(output: dict[str, Any], policy: Policy) -> dict[str, Any]:
    """Return ``output`` (a JSON-able dict) with its ``privacy`` header added.

    Every structured output carries the header; ``private`` is true when the
    user opted in to showing disclosure text of private people, and then the
    ``notice`` starts with ``PRIVATE``.
    """
    out = dict(output)
    out["privacy"] = privacy_header(policy)
    return out


def pseudonymize_result(store: Store, result: Any, policy: Policy) -> dict[str, Any]:
    """A JSON-able analysis result (``analyze``, ``network``) as a shareable output may show it.

    Every dict carrying ``account_id`` and/or ``handle`` is one account: for
    people who are not public figures both become the pseudonym, and the post
    ids beside them (``post_id``, ``join_post_id``) become post labels; a
    ``text`` beside them is shown as :meth:`Pseudonymizer.text` allows. A
    ``platform`` key gives the platform, else the store's only platform.
    The privacy header is added (:func:`mark_private`).
    """
    ps = Pseudonymizer(store, policy)
    plats = [r[0] for r in _rows(store, "SELECT DISTINCT platform FROM posts", [])]
    default = plats[0] if len(plats) == 1 else None

    def fix(o: Any) -> Any:
        if isinstance(o, list):
            return [fix(x) for x in o]
        if not isinstance(o, dict):
            return o
        d = {k: fix(v) for k, v in o.items()}
        if ("account_id" in d or "handle" in d) and (d.get("account_id") or d.get("handle")):
            plat = d.get("platform") or default
            info = ps.account(plat, d.get("account_id"), d.get("handle"), d.get("verified"), d.get("followers"))
            if info["pseudonymous"]:
                for k in ("account_id", "handle"):
                    if k in d:
                        d[k] = info["label"]
                for k in ("post_id", "join_post_id"):
                    if d.get(k):
                        d[k] = ps.post_label(plat, str(d[k]))
            if isinstance(d.get("text"), str):
                d["text"] = ps.text(d["text"], plat)
        return d

    out = fix(result)
    return mark_private(out if isinstance(out, dict) else {"result": out}, policy)


def pseudonymize_network(store: Store, graph: Any, policy: Policy, nodes: str) -> None:
    """Relabel a :class:`groundswell.analysis.network.Graph` in place for sharing.

    Account nodes (``users``) of people who are not public figures become their
    pseudonyms (id, ``handle`` and ``account_id``); post nodes (``posts``) by
    them become post labels. Hashtag nodes are left as they are.
    """
    if nodes not in ("users", "posts", "tweets"):
        return
    ps = Pseudonymizer(store, policy)
    plats = [r[0] for r in _rows(store, "SELECT DISTINCT platform FROM posts", [])]
    plat = plats[0] if len(plats) == 1 else None

    def fn(key: str, attrs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        info = ps.account(plat, attrs.get("account_id"), attrs.get("handle"))
        if not info["pseudonymous"]:
            return key, attrs
        new = dict(attrs, handle=info["label"], account_id=info["label"])
        return (info["label"] if nodes == "users" else ps.post_label(plat, key)), new

    graph.relabel(fn)


# --------------------------------------------------------------------------- secret

def _rows(store: Any, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of a query on the store's engine (DuckDB's connection, else the engine's ``sql``)."""
    con = getattr(store, "con", None)
    if con is not None:
        return con.execute(query, params).fetchall()
    return [tuple(r.values()) for r in store.sql(query, params).to_pylist()]


def store_secret(store: Store, *, create: bool = True) -> bytes:
    """The store's pseudonym key (created and kept in ``meta`` on first use)."""
    v = store.meta(_META + "secret")
    if v:
        return bytes.fromhex(v)
    if not create:
        raise StoreError("the store has no privacy secret")
    if store.read_only:
        raise StoreError(f"{store.path} has no pseudonym key yet and is open read-only: run "
                         f"'groundswell privacy --db {store.path}' once to create it")
    key = secrets.token_bytes(32)
    store.set_meta(_META + "secret", key.hex())
    return key


def ensure_secret(store: Store) -> None:
    """Create the store's pseudonym key unless it has one (call after ingest)."""
    store_secret(store, create=True)


def ensure_pseudonym_key(db: str) -> bool:
    """Create the key of the store file ``db`` if it has none (one short read-write open); True if created.

    Outputs name private people by keyed pseudonyms and open the store
    read-only; the first output of a store that was never ingested through
    :func:`groundswell.ingest.ingest` makes its key here.
    """
    from groundswell.store import open_store

    with open_store(db, read_only=True) as s:
        if s.meta(_META + "secret"):
            return False
    with open_store(db) as s:
        ensure_secret(s)
    return True


def _digest(key: bytes, msg: str) -> str:
    return hmac.new(key, msg.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- pseudonymizer

def _norm_handle(h: str) -> str:
    return h.lstrip("@").casefold()


class Pseudonymizer:
    """Stable keyed pseudonyms for one store (or one secret, without a store).

    With a store, the public-figure rule is evaluated against its ``accounts``
    (any observation verified, or the highest follower count seen), and
    handles are resolved to account ids. With a bare secret only what the
    caller passes (``verified``, ``followers``) and the allowlist decide.
    """

    def __init__(self, store_or_secret: Store | bytes | str, policy: Policy | None = None) -> None:
        if isinstance(store_or_secret, (bytes, str)):
            self.store: Store | None = None
            key = store_or_secret
            self.secret = bytes.fromhex(key) if isinstance(key, str) else key
            self.policy = policy or Policy()
        else:
            self.store = store_or_secret
            self.secret = store_secret(store_or_secret)
            self.policy = policy or Policy.from_store(store_or_secret)
        if len(self.secret) < 16:
            raise UsageError("a pseudonym key must have at least 16 bytes")
        self._labels: dict[str, str] = {}
        self._public: set[str] | None = None  # platform\x1fid
        self._public_handles: set[str] = set()  # platform\x1fhandle
        self._handle_ids: dict[str, str | None] = {}
        self._allow_ids: set[str] = set()
        self._allow_any_ids: set[str] = set()
        self._allow_handles: set[str] = set()
        for entry in self.policy.allowlist:
            e = entry.strip()
            if not e:
                continue
            if e.startswith("@"):
                self._allow_handles.add(_norm_handle(e))
            elif e.split(":", 1)[0] in _PLATFORMS and ":" in e and not e.startswith("did:"):
                p, i = e.split(":", 1)
                self._allow_ids.add(p + _SEP + i)
            else:
                self._allow_any_ids.add(e)

    # -- keys ---------------------------------------------------------------
    def digest(self, kind: str, platform: str | None, key: str) -> str:
        """The full hex HMAC of one key (``kind`` is 'account' or 'post')."""
        msg = (platform or "") + _SEP + key if kind == "account" else "post" + _SEP + (platform or "") + _SEP + key
        return _digest(self.secret, msg)

    def label(self, platform: str | None, account_id: str | None = None, handle: str | None = None) -> str:
        """The pseudonym of an account (by id, else by handle)."""
        if account_id is None and handle is not None:
            account_id = self.resolve_handle(platform, handle)
        if account_id is not None:
            ck = "a" + (platform or "") + _SEP + account_id
            key = account_id
        elif handle is not None:
            key = "@" + _norm_handle(handle)
            ck = "a" + (platform or "") + _SEP + key
        else:
            raise UsageError("an account needs an id or a handle")
        got = self._labels.get(ck)
        if got is None:
            got = ACCOUNT_PREFIX + self.digest("account", platform, key)[:LABEL_HEX]
            self._labels[ck] = got
        return got

    def post_label(self, platform: str | None, post_id: str) -> str:
        ck = "p" + (platform or "") + _SEP + post_id
        got = self._labels.get(ck)
        if got is None:
            got = POST_PREFIX + self.digest("post", platform, post_id)[:LABEL_HEX]
            self._labels[ck] = got
        return got

    # -- who is public --------------------------------------------------------
    def _load_public(self) -> set[str]:
        if self._public is not None:
            return self._public
        pub: set[str] = set()
        pol = self.policy
        if self.store is not None and (pol.verified or pol.min_followers is not None):
            rows = _rows(self.store,
                "SELECT platform, id, list(DISTINCT lower(handle)) FILTER (WHERE handle IS NOT NULL) "
                "FROM accounts GROUP BY platform, id "
                "HAVING (? AND bool_or(coalesce(verified, false))) OR (? AND max(followers) >= ?)",
                [pol.verified, pol.min_followers is not None, pol.min_followers or 0])
            for p, i, handles in rows:
                pub.add(p + _SEP + i)
                for h in handles or ():
                    self._public_handles.add(p + _SEP + _norm_handle(h))
        if self.store is not None and (self._allow_handles or self._allow_any_ids or self._allow_ids):
            rows = self.store.con.execute(
                "SELECT DISTINCT platform, id, lower(handle) FROM accounts WHERE lower(handle) IN "
                "(SELECT unnest(?::VARCHAR[])) OR id IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(self._allow_handles), sorted(self._allow_any_ids | {k.split(_SEP, 1)[1] for k in self._allow_ids})]
            ).fetchall()
            for p, i, h in rows:
                if (h is not None and _norm_handle(h) in self._allow_handles) or i in self._allow_any_ids \
                        or p + _SEP + i in self._allow_ids:
                    pub.add(p + _SEP + i)
                    if h:
                        self._public_handles.add(p + _SEP + _norm_handle(h))
        self._public = pub
        return pub

    def is_public(self, platform: str | None, account_id: str | None = None, handle: str | None = None,
                  verified: bool | None = None, followers: int | None = None) -> bool:
        pol = self.policy
        if pol.verified and verified:
            return True
        if pol.min_followers is not None and followers is not None and followers >= pol.min_followers:
            return True
        p = platform or ""
        if account_id is not None:
            if account_id in self._allow_any_ids or p + _SEP + account_id in self._allow_ids:
                return True
        if handle is not None and _norm_handle(handle) in self._allow_handles:
            return True
        pub = self._load_public()
        if account_id is None and handle is not None:
            if p + _SEP + _norm_handle(handle) in self._public_handles:
                return True
            account_id = self.resolve_handle(platform, handle)
        return account_id is not None and p + _SEP + account_id in pub

    def resolve_handle(self, platform: str | None, handle: str) -> str | None:
        """The account id a handle belongs to (its latest holder in the store), or None."""
        if self.store is None:
            return None
        ck = (platform or "") + _SEP + _norm_handle(handle)
        if ck not in self._handle_ids:
            self._resolve_handles(platform, [handle])
        return self._handle_ids.get(ck)

    def _resolve_handles(self, platform: str | None, handles: Iterable[str]) -> None:
        want = sorted({_norm_handle(h) for h in handles
                       if (platform or "") + _SEP + _norm_handle(h) not in self._handle_ids})
        if not want or self.store is None:
            return
        for h in want:
            self._handle_ids[(platform or "") + _SEP + h] = None
        inlist = ", ".join("'" + h.replace("'", "''") + "'" for h in want)
        rows = _rows(self.store,
            "SELECT h, arg_max(id, observed_at) FROM (SELECT lower(handle) AS h, id, observed_at FROM accounts "
            f"WHERE platform = ? AND lower(handle) IN ({inlist})) GROUP BY h", [platform or ""])
        for h, i in rows:
            self._handle_ids[(platform or "") + _SEP + h] = i

    # -- the API ----------------------------------------------------------------
    def account(self, platform: str | None, account_id: str | None, handle: str | None = None,
                verified: bool | None = None, followers: int | None = None) -> dict[str, Any]:
        """``{"label", "pseudonymous"}`` for one account as an output may show it."""
        if self.policy.identify or self.is_public(platform, account_id, handle, verified, followers):
            shown = handle if handle else (self._latest_handle(platform, account_id) if account_id else None)
            return {"label": shown or account_id, "pseudonymous": False}
        return {"label": self.label(platform, account_id, handle), "pseudonymous": True}

    def _latest_handle(self, platform: str | None, account_id: str) -> str | None:
        if self.store is None:
            return None
        rows = _rows(self.store,
            "SELECT handle FROM accounts WHERE platform = ? AND id = ? AND handle IS NOT NULL "
            "ORDER BY observed_at DESC LIMIT 1", [platform or "", account_id])
        return rows[0][0] if rows else None

    def accounts(self, records: Sequence[Mapping[str, Any]], *, platform_key: str = "platform",
                 id_key: str = "id", handle_key: str = "handle") -> list[dict[str, Any]]:
        """The batch form of :meth:`account` over dicts (verified/followers read when present)."""
        out = []
        for r in records:
            out.append(self.account(r.get(platform_key), r.get(id_key), r.get(handle_key),
                                    r.get("verified"), r.get("followers")))
        return out

    def text(self, text: str | None, platform: str | None) -> str | None:
        """Text as an output may show it: mentions of private accounts pseudonymized, redacted per policy."""
        if text is None:
            return None
        if not self.policy.identify:
            text = self._mentions_in_text([text], platform)[0]
        if self.policy.redact:
            text = redact(text)
        return text

    def _mentions_in_text(self, texts: list[str | None], platform: str | None) -> list[str | None]:
        found: set[str] = set()
        for t in texts:
            if t and "@" in t:
                found.update(m.group(1) for m in _MENTION_RE.finditer(t))
        if not found:
            return texts
        self._resolve_handles(platform, found)
        repl: dict[str, str] = {}
        for h in found:
            if not self.is_public(platform, None, h):
                repl[h] = self.label(platform, None, h)

        def sub(m: re.Match[str]) -> str:
            r = repl.get(m.group(1))
            return "@" + r if r else m.group(0)

        return [(_MENTION_RE.sub(sub, t) if t and "@" in t else t) for t in texts]

    def sql_macros(self) -> None:
        """Define ``gs_account(platform, id)`` and ``gs_post(platform, id)`` as DuckDB macros
        on the store's connection: the same pseudonyms as :meth:`label` / :meth:`post_label`,
        computed inside DuckDB (HMAC-SHA256 from its ``sha256``), for queries over millions of rows.
        They do not apply the public-figure rule: join :meth:`public_table` for that."""
        if self.store is None:
            raise UsageError("sql_macros needs a store")
        k = self.secret.ljust(64, b"\0") if len(self.secret) <= 64 else hashlib.sha256(self.secret).digest().ljust(64, b"\0")
        ipad = bytes(b ^ 0x36 for b in k).hex()
        opad = bytes(b ^ 0x5C for b in k).hex()
        hm = (f"sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || encode(MSG))))")
        acc = hm.replace("MSG", "coalesce(p, '') || chr(31) || i")
        post = hm.replace("MSG", "'post' || chr(31) || coalesce(p, '') || chr(31) || i")
        con = self.store.con
        con.execute(f"CREATE OR REPLACE TEMP MACRO gs_account(p, i) AS "
                    f"CASE WHEN i IS NULL THEN NULL ELSE '{ACCOUNT_PREFIX}' || left({acc}, {LABEL_HEX}) END")
        con.execute(f"CREATE OR REPLACE TEMP MACRO gs_post(p, i) AS "
                    f"CASE WHEN i IS NULL THEN NULL ELSE '{POST_PREFIX}' || left({post}, {LABEL_HEX}) END")

    def public_table(self) -> pa.Table:
        """The public figures as an Arrow table (platform, id) to join in SQL."""
        pub = sorted(self._load_public())
        ps = [k.split(_SEP, 1) for k in pub]
        return pa.table({"platform": pa.array([p for p, _ in ps], pa.string()),
                         "id": pa.array([i for _, i in ps], pa.string())})


# mentions in text: @name, @name.domain (Bluesky), @user@server (Mastodon)
_MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")


# --------------------------------------------------------------------------- redaction

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
        table = table.set_column(j, table.field(j), pc.if_else(pa.array(changed), pa.nulls(len(changed), pa.string()), raw))
    return table


def redact_store_enabled(store: Store) -> bool:
    """Whether ingest must apply :func:`redact_posts_table` to every posts batch."""
    return _bool(store.meta(_META + "redact_store"), False)


# --------------------------------------------------------------------------- disclosure text

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


# --------------------------------------------------------------------------- tables

def _columns(store: Store, table: str) -> dict[str, str]:
    rows = store.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = 'main' ORDER BY ordinal_position", [table]).fetchall()
    return {n: t for n, t in rows}


def _keys(platforms: pa.Array | None, values: pa.Array, platform: str | None) -> list[tuple[str | None, str | None]]:
    vs = values.to_pylist()
    ps = platforms.to_pylist() if platforms is not None else [platform] * len(vs)
    return list(zip(ps, vs))


def _is_list(arr: pa.ChunkedArray) -> bool:
    return pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)


def _map_column(col: pa.ChunkedArray, plats: list[str | None], fn: Callable[[str | None, str], str | None]) -> pa.Array:
    """Apply fn(platform, value) to each string (or each element of list cells), caching per (platform, value)."""
    cache: dict[tuple[str | None, str], str | None] = {}

    def one(p: str | None, v: Any) -> Any:
        if v is None:
            return None
        k = (p, v)
        if k not in cache:
            cache[k] = fn(p, v)
        return cache[k]

    vals = col.to_pylist()
    if _is_list(col):
        out = [None if cell is None else [one(p, v) for v in cell] for p, cell in zip(plats, vals)]
        return pa.array(out, pa.list_(pa.string()))
    return pa.array([one(p, v) for p, v in zip(plats, vals)], pa.string())


def pseudonymize_table(store: Store | None, table: pa.Table, policy: Policy | None = None, *,
                       pseudonymizer: Pseudonymizer | None = None, kind: str | None = None,
                       account_columns: Sequence[str] | None = None,
                       handle_columns: Sequence[str] | None = None,
                       post_id_columns: Sequence[str] | None = None,
                       text_columns: Sequence[str] | None = None,
                       profile_columns: Sequence[str] | None = None,
                       drop_columns: Sequence[str] | None = None,
                       platform: str | None = None,
                       disclosures: set[tuple[str, str]] | None = None) -> pa.Table:
    """An Arrow table as a shareable output may show it.

    Columns are found by name unless given (see ``*_COLUMNS`` in this
    module); ``kind`` ('posts', 'accounts', 'deletions') says what the ``id``
    column is. Account ids and handles of people who are not public figures
    become pseudonyms (a handle column in a row whose account id is known takes
    that id's pseudonym); post ids by such people become ``post-…`` labels;
    profile columns (display name, description, location) of private people
    become NULL; ``raw`` is dropped; text is redacted, its mentions
    pseudonymized and disclosure text withheld (:func:`safe_text`). With
    ``policy.identify`` only redaction and disclosure rules apply.
    A ``platform`` column gives each row's platform, else ``platform``.
    """
    if pseudonymizer is None:
        if store is None:
            raise UsageError("pseudonymize_table needs a store or a pseudonymizer")
        pseudonymizer = Pseudonymizer(store, policy)
    ps = pseudonymizer
    pol = ps.policy if policy is None else policy
    names = table.column_names

    def pick(given: Sequence[str] | None, default: Sequence[str]) -> list[str]:
        return [c for c in (given if given is not None else default) if c in names]

    acc_cols = pick(account_columns, ACCOUNT_ID_COLUMNS)
    hnd_cols = pick(handle_columns, HANDLE_COLUMNS)
    post_cols = pick(post_id_columns, POST_ID_COLUMNS)
    txt_cols = pick(text_columns, TEXT_COLUMNS)
    prof_cols = pick(profile_columns, PROFILE_COLUMNS)
    drop = pick(drop_columns, DROP_COLUMNS)
    if kind == "accounts" and "id" in names and account_columns is None:
        acc_cols.append("id")
    if kind in ("posts", "deletions") and "id" in names and post_id_columns is None:
        post_cols.append("id")
    n = table.num_rows
    plat_arr = table.column("platform") if "platform" in names else None
    if plat_arr is None and platform is None and store is not None:
        ps_ = [r[0] for r in store.con.execute("SELECT DISTINCT platform FROM posts").fetchall()]
        platform = ps_[0] if len(ps_) == 1 else None
    plats: list[str | None] = plat_arr.to_pylist() if plat_arr is not None else [platform] * n

    # the row's own account (author), to pseudonymize its handle consistently and decide its text
    owner_col = "author_id" if "author_id" in names else ("id" if kind == "accounts" else None)
    owner_ids = table.column(owner_col).to_pylist() if owner_col else [None] * n
    owner_handle_col = "author_handle" if "author_handle" in names else ("handle" if kind == "accounts" else None)
    owner_handles = table.column(owner_handle_col).to_pylist() if owner_handle_col else [None] * n
    verified = table.column("verified").to_pylist() if kind == "accounts" and "verified" in names else [None] * n
    followers = table.column("followers").to_pylist() if kind == "accounts" and "followers" in names else [None] * n
    owner_public = [ps.is_public(p, i, h, v, f) if (i is not None or h is not None) else False
                    for p, i, h, v, f in zip(plats, owner_ids, owner_handles, verified, followers)]
    if kind == "accounts":
        # every observation of an account shares the verdict of the account
        by_acc: dict[tuple[Any, Any], bool] = {}
        for p, i, pub in zip(plats, owner_ids, owner_public):
            by_acc[(p, i)] = by_acc.get((p, i), False) or pub
        owner_public = [by_acc[(p, i)] for p, i in zip(plats, owner_ids)]

    out = table
    if not pol.identify:
        def acc_fn(p: str | None, v: str) -> str:
            return v if ps.is_public(p, v) else ps.label(p, v)

        def handle_fn(p: str | None, v: str) -> str:
            return v if ps.is_public(p, None, v) else ps.label(p, None, v)

        for c in acc_cols:
            if c == owner_col:
                arr = pa.array([None if i is None else (i if pub else ps.label(p, i))
                                for p, i, pub in zip(plats, owner_ids, owner_public)], pa.string())
            else:
                arr = _map_column(table.column(c), plats, acc_fn)
            out = out.set_column(out.column_names.index(c), pa.field(c, arr.type), arr)
        for c in hnd_cols:
            if c == owner_handle_col:
                arr = pa.array([None if h is None else (h if pub else ps.label(p, i, h))
                                for p, i, h, pub in zip(plats, owner_ids, owner_handles, owner_public)], pa.string())
            else:
                col = table.column(c)
                vals = [v for cell in col.to_pylist() if cell is not None
                        for v in (cell if isinstance(cell, list) else [cell]) if v is not None]
                for p in set(plats):
                    ps._resolve_handles(p, vals)
                arr = _map_column(col, plats, handle_fn)
            out = out.set_column(out.column_names.index(c), pa.field(c, arr.type), arr)
        if post_cols:
            authors = _post_authors(store, table, post_cols, plats, kind, owner_ids)
            for c in post_cols:
                def post_fn(p: str | None, v: str) -> str:
                    a = authors.get((p, v))
                    return v if a is not None and ps.is_public(p, a) else ps.post_label(p, v)
                arr = _map_column(table.column(c), plats, post_fn)
                out = out.set_column(out.column_names.index(c), pa.field(c, arr.type), arr)
        for c in prof_cols:
            vals = table.column(c).to_pylist()
            arr = pa.array([v if pub else None for v, pub in zip(vals, owner_public)], table.column(c).type)
            out = out.set_column(out.column_names.index(c), pa.field(c, arr.type), arr)
    if txt_cols:
        if disclosures is None:
            disclosures = disclosure_keys(store) if store is not None else set()
        ids = table.column("id").to_pylist() if "id" in names and kind in (None, "posts") else [None] * n
        for c in txt_cols:
            texts = table.column(c).to_pylist()
            if not pol.identify:
                by_plat: dict[str | None, list[int]] = {}
                for k, p in enumerate(plats):
                    by_plat.setdefault(p, []).append(k)
                for p, rows in by_plat.items():
                    sub = ps._mentions_in_text([texts[k] for k in rows], p)
                    for k, t in zip(rows, sub):
                        texts[k] = t
            new = []
            for k, t in enumerate(texts):
                if t is not None and (plats[k], ids[k]) in disclosures:
                    if not pol.show_disclosure_text or not (owner_public[k] or pol.private):
                        t = WITHHELD
                if t is not None and t != WITHHELD and pol.redact:
                    t = redact(t)
                new.append(t)
            arr = pa.array(new, pa.string())
            out = out.set_column(out.column_names.index(c), pa.field(c, pa.string()), arr)
    if drop and not (pol.identify and not pol.redact):
        out = out.drop_columns(drop)
    return out


def _post_authors(store: Store | None, table: pa.Table, post_cols: list[str], plats: list[str | None],
                  kind: str | None, owner_ids: list[Any]) -> dict[tuple[Any, Any], str | None]:
    """(platform, post id) -> author id for every post id in ``post_cols`` (from the row or the store)."""
    out: dict[tuple[Any, Any], str | None] = {}
    want: set[tuple[Any, Any]] = set()
    for c in post_cols:
        for p, cell in zip(plats, table.column(c).to_pylist()):
            for v in (cell if isinstance(cell, list) else [cell]):
                if v is not None:
                    want.add((p, v))
    if kind == "posts" and "id" in table.column_names:
        for p, i, a in zip(plats, table.column("id").to_pylist(), owner_ids):
            out[(p, i)] = a
    missing = [k for k in want if k not in out]
    if missing and store is not None:
        keys = pa.table({"platform": pa.array([p or "" for p, _ in missing], pa.string()),
                         "id": pa.array([i for _, i in missing], pa.string())})
        store.con.register("_gs_want", keys)
        try:
            for p, i, a in store.con.execute(
                    "SELECT p.platform, p.id, p.author_id FROM posts p JOIN _gs_want w "
                    "ON p.platform = w.platform AND p.id = w.id").fetchall():
                out[(p, i)] = a
        finally:
            store.con.unregister("_gs_want")
    return out


# --------------------------------------------------------------------------- exports

# twarc-csv's columns by role, for pseudonymous Twitter CSV exports
TWARC_CSV_ROLES: dict[str, tuple[str, ...]] = {
    "account": ("author_id", "in_reply_to_user_id", "retweeted_user_id", "quoted_user_id", "author.id"),
    "handle": ("in_reply_to_username", "retweeted_username", "quoted_username", "author.username"),
    "post": ("id", "conversation_id", "referenced_tweets.replied_to.id", "referenced_tweets.retweeted.id",
             "referenced_tweets.quoted.id"),
    "text": ("text",),
    "profile": ("author.name", "author.description", "author.location", "author.url",
                "author.profile_image_url", "author.pinned_tweet_id", "author.entities.description.cashtags",
                "author.entities.description.hashtags", "author.entities.description.mentions",
                "author.entities.description.urls", "author.entities.url.urls",
                "geo.coordinates.coordinates", "geo.coordinates.type", "geo.full_name", "geo.id", "geo.name",
                "geo.place_id", "geo.geo.bbox"),
    # JSON lists naming other people or the post's own ids: emptied unless --identify
    "blank": ("entities.mentions", "edit_history_tweet_ids"),
}


def export_transform(store: Store, policy: Policy) -> Callable[[pa.Table, str], pa.Table]:
    """The per-batch transform a shareable export applies (see :func:`export_safely`)."""
    ps = Pseudonymizer(store, policy)
    disclosures = disclosure_keys(store)

    def transform(t: pa.Table, layout: str) -> pa.Table:
        if layout == "twarc-csv":
            r = TWARC_CSV_ROLES
            out = pseudonymize_table(store, t, pseudonymizer=ps, platform="twitter", disclosures=disclosures,
                                     account_columns=r["account"], handle_columns=r["handle"],
                                     post_id_columns=r["post"], text_columns=r["text"],
                                     profile_columns=r["profile"], drop_columns=())
            if not policy.identify:
                for c in r["blank"]:
                    i = out.column_names.index(c)
                    out = out.set_column(i, c, pa.nulls(out.num_rows, pa.string()))
            return out
        kind = layout if layout in ("posts", "accounts", "deletions") else None
        return pseudonymize_table(store, t, pseudonymizer=ps, kind=kind,
                                  disclosures=disclosures if layout == "posts" else set())

    return transform


def export_safely(store: Store, fmt: str, output: str, *, table: str = "posts", platform: str | None = None,
                  include_referenced: bool = False, raw: bool = False, identify: bool = False,
                  redact: bool | None = None, show_disclosure_text: bool = False, private: bool = False,
                  policy: Policy | None = None, log: IO[str] | None = None) -> int:
    """:func:`groundswell.export.export`, pseudonymous and redacted unless asked otherwise.

    Every batch goes through :func:`export_transform` (pseudonyms for people
    who are not public figures, redacted text, withheld disclosure text, no
    ``raw``), in the same columns as the plain export (twarc-csv's 84 for
    Twitter CSV). ``identify=True`` with ``redact=False`` is the plain export.
    The privacy notice goes to ``log`` (stderr by default). Returns the rows written.
    """
    from groundswell import export as ex

    pol = policy or Policy.from_store(store, identify=identify, redact=redact,
                                      show_disclosure_text=show_disclosure_text, private=private)
    log = sys.stderr if log is None else log
    print(f"privacy: {privacy_header(pol)['notice']}", file=log)
    plain = pol.identify and not pol.redact and (not pol.show_disclosure_text or pol.private)
    transform = None if plain else export_transform(store, pol)
    return ex.export(store, fmt, output, table=table, platform=platform,
                     include_referenced=include_referenced, raw=raw, transform=transform)


# --------------------------------------------------------------------------- deletion

@dataclass
class ForgetResult:
    posts: int = 0          # posts whose text and identifying fields were removed
    referencing: int = 0    # other posts that embedded them and were scrubbed too
    accounts: int = 0       # account observations deleted
    derived_rows: int = 0   # rows of derived tables scrubbed
    dropped_caches: list[str] = field(default_factory=list)
    compacted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# post columns that identify a person beyond the kept id/author/time/links
_POST_SCRUB = {"text": "NULL", "raw": "NULL", "author_handle": "NULL", "mentions": "[]", "mention_ids": "[]",
               "urls": "[]", "media": "[]", "place": "NULL", "country": "NULL", "source": "NULL"}
_SENSITIVE_NAMES = ("text", "raw", "handle", "author_handle", "display_name", "description", "location",
                    "username", "screen_name", "name", "snippet", "excerpt", "body", "content", "quote", "mentions")


def read_id_file(path: str) -> list[tuple[str | None, str]]:
    """Ids to forget, one per line: ``ID`` or ``PLATFORM<TAB or comma>ID``; '#' starts a comment."""
    out: list[tuple[str | None, str]] = []
    fh: IO[str]
    fh = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for line in fh:
            line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("at://") else line.strip()
            if not line or line.lower() in ("id", "platform,id", "platform\tid"):
                continue
            for sep in ("\t", ","):
                if sep in line:
                    p, i = line.split(sep, 1)
                    if p.strip() in _PLATFORMS:
                        out.append((p.strip(), i.strip()))
                        break
            else:
                out.append((None, line))
    finally:
        if fh is not sys.stdin:
            fh.close()
    return out


def forget(store: Store, ids: Iterable[tuple[str | None, str] | str] | None = None, *,
           account: str | None = None, platform: str | None = None, reason: str = "forget",
           vacuum: bool = True) -> ForgetResult:
    """Forget posts (``ids``: ids or (platform, id)) or a whole ``account`` (an id or @handle).

    Records a deletion for each post (so a later ingest of the same post stays
    deleted), removes text and identifying fields from every table
    (:func:`apply_deletions`); for an account also deletes its observations in
    ``accounts`` and replaces its id in posts by a ``forgotten-…`` pseudonym
    (distinct-author counts stay honest); then rewrites the file
    (:func:`compact`) unless ``vacuum=False``.
    """
    if store.read_only:
        raise StoreError(f"{store.path} is open read-only; forget needs to write")
    if ids is None and account is None:
        raise UsageError("forget needs ids or an account")
    con = store.con
    keys: list[tuple[str | None, str]] = []
    for x in ids or ():
        keys.append((platform, x) if isinstance(x, str) else (x[0] or platform, x[1]))
    acc_keys: list[tuple[str, str]] = []
    if account is not None:
        a = account.strip()
        if a.startswith("@"):
            rows = con.execute(
                "SELECT DISTINCT platform, id FROM accounts WHERE lower(handle) = ? AND (? IS NULL OR platform = ?) "
                "UNION SELECT DISTINCT platform, author_id FROM posts WHERE lower(author_handle) = ? "
                "AND author_id IS NOT NULL AND (? IS NULL OR platform = ?)",
                [_norm_handle(a), platform, platform, _norm_handle(a), platform, platform]).fetchall()
            handle_only = con.execute(
                "SELECT platform, id FROM posts WHERE lower(author_handle) = ? AND author_id IS NULL "
                "AND (? IS NULL OR platform = ?)", [_norm_handle(a), platform, platform]).fetchall()
            keys.extend((p, i) for p, i in handle_only)
        else:
            rows = con.execute(
                "SELECT DISTINCT platform, id FROM accounts WHERE id = ? AND (? IS NULL OR platform = ?) "
                "UNION SELECT DISTINCT platform, author_id FROM posts WHERE author_id = ? AND (? IS NULL OR platform = ?)",
                [a, platform, platform, a, platform, platform]).fetchall()
        acc_keys = [(p, i) for p, i in rows if i is not None]
        if not acc_keys and not keys:
            raise UsageError(f"no account {account!r} in {store.path}")
        for p, i in acc_keys:
            keys.extend(con.execute("SELECT platform, id FROM posts WHERE platform = ? AND author_id = ?",
                                    [p, i]).fetchall())
    # resolve platform-less ids against the store
    resolved: list[tuple[str, str]] = []
    loose = sorted({i for p, i in keys if p is None})
    if loose:
        found = con.execute("SELECT platform, id FROM posts WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                            [loose]).fetchall()
        got = {i for _, i in found}
        resolved.extend(found)
        # an id not in the store is still recorded, for the platforms present, so a later ingest honours it
        plats = [r[0] for r in con.execute("SELECT DISTINCT platform FROM posts").fetchall()] or ["twitter"]
        resolved.extend((p, i) for i in loose if i not in got for p in plats)
    resolved.extend((p, i) for p, i in keys if p is not None)
    resolved = sorted(set(resolved))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    dels = pa.table({
        "platform": pa.array([p for p, _ in resolved], pa.string()),
        "id": pa.array([i for _, i in resolved], pa.string()),
        "author_id": pa.nulls(len(resolved), pa.string()),
        "deleted_at": pa.array([now] * len(resolved), pa.timestamp("us")),
        "reason": pa.array([reason] * len(resolved), pa.string()),
        "source_file": pa.array(["forget"] * len(resolved), pa.string()),
        "source_line": pa.array([0] * len(resolved), pa.int64()),
    })
    res = ForgetResult()
    con.execute("BEGIN TRANSACTION")
    try:
        if resolved:
            con.register("_gs_forget", dels)
            con.execute("INSERT INTO deletions SELECT * FROM _gs_forget ON CONFLICT DO NOTHING")
            con.unregister("_gs_forget")
        if acc_keys:
            res.accounts = _forget_accounts(store, acc_keys)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    r2 = apply_deletions(store)
    res.posts, res.referencing = r2.posts, r2.referencing
    res.derived_rows, res.dropped_caches = r2.derived_rows, r2.dropped_caches
    if vacuum:
        res.compacted = compact(store)
    return res


def _forget_accounts(store: Store, acc_keys: list[tuple[str, str]]) -> int:
    """Delete the accounts' observations; replace their ids and handles wherever they appear."""
    con = store.con
    ps = Pseudonymizer(store, Policy())
    forgotten = json.loads(store.meta(_META + "forgotten") or "[]")
    n = 0
    for p, i in acc_keys:
        handles = [r[0] for r in con.execute(
            "SELECT DISTINCT handle FROM accounts WHERE platform = ? AND id = ? AND handle IS NOT NULL "
            "UNION SELECT DISTINCT author_handle FROM posts WHERE platform = ? AND author_id = ? "
            "AND author_handle IS NOT NULL", [p, i, p, i]).fetchall()]
        digest = ps.digest("account", p, i)
        gone = "forgotten-" + digest[:LABEL_HEX]
        n += con.execute("SELECT count(*) FROM accounts WHERE platform = ? AND id = ?", [p, i]).fetchone()[0]  # type: ignore[index]
        con.execute("DELETE FROM accounts WHERE platform = ? AND id = ?", [p, i])
        con.execute("UPDATE posts SET author_id = ?, author_handle = NULL WHERE platform = ? AND author_id = ?",
                    [gone, p, i])
        con.execute("UPDATE posts SET reply_to_author_id = ? WHERE platform = ? AND reply_to_author_id = ?",
                    [gone, p, i])
        con.execute("UPDATE posts SET mention_ids = list_transform(mention_ids, lambda x: CASE WHEN x = ? THEN ? "
                    "ELSE x END) WHERE platform = ? AND list_contains(mention_ids, ?)", [i, gone, p, i])
        low = [h.lower() for h in handles]
        if low:
            con.execute("UPDATE posts SET mentions = list_transform(mentions, lambda x: CASE WHEN "
                        "list_contains(?::VARCHAR[], lower(x)) THEN ? ELSE x END) WHERE platform = ? AND "
                        "list_has_any(list_transform(mentions, lambda x: lower(x)), ?::VARCHAR[])",
                        [low, gone, p, low])
        con.execute("UPDATE deletions SET author_id = ? WHERE platform = ? AND author_id = ?", [gone, p, i])
        if digest not in forgotten:
            forgotten.append(digest)
    store.set_meta(_META + "forgotten", json.dumps(forgotten))
    return n


def _strip_embedded(obj: Any, ids: set[str]) -> tuple[Any, bool]:
    """Replace embedded copies of the posts ``ids`` (dicts with text) by ``{"id": …}``."""
    if isinstance(obj, dict):
        for k in ("id_str", "id", "uri"):
            v = obj.get(k)
            if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v) in ids and (
                    "text" in obj or "full_text" in obj or "content" in obj or "extended_tweet" in obj
                    or "record" in obj or "note_tweet" in obj):
                return {"id": str(v), "deleted": True}, True
        changed = False
        out = {}
        for k, v in obj.items():
            nv, c = _strip_embedded(v, ids)
            out[k] = nv
            changed = changed or c
        return (out, True) if changed else (obj, False)
    if isinstance(obj, list):
        changed = False
        lst = []
        for v in obj:
            nv, c = _strip_embedded(v, ids)
            lst.append(nv)
            changed = changed or c
        return (lst, True) if changed else (obj, False)
    return obj, False


def apply_deletions(store: Store) -> ForgetResult:
    """Make every recorded deletion complete, in every table.

    For each post in ``deletions`` (Jetstream deletes, compliance files,
    forget): the post row keeps id, author, time, links, hashtags and counts
    but loses ``text``, ``raw``, its author handle, mentions, links, media,
    place and client; a repost of it loses its text and raw (a retweet's text
    *is* the original's); other posts and accounts that embed a copy of it in
    their ``raw`` (quotes, flattened references, a user's latest ``status``)
    have that copy cut out. Derived tables (any other table with
    ``platform``/``id`` or ``post_id`` columns) lose their text-like columns
    for those posts, and tables named ``cache*`` are dropped (they are rebuilt
    on demand). Posts of forgotten accounts that a later ingest brought back
    are forgotten again. Idempotent and cheap when nothing is pending.
    """
    con = store.con
    res = ForgetResult()
    # posts of forgotten accounts brought back by a later ingest
    forgotten = json.loads(store.meta(_META + "forgotten") or "[]")
    if forgotten and store.meta(_META + "secret"):
        ps = Pseudonymizer(store, Policy())
        ps.sql_macros()
        back = con.execute(
            "SELECT DISTINCT platform, author_id FROM posts WHERE author_id IS NOT NULL AND author_id NOT LIKE 'forgotten-%' "
            "AND substr(gs_account(platform, author_id), 6) IN (SELECT left(unnest(?::VARCHAR[]), 12)) "
            "UNION SELECT DISTINCT platform, id FROM accounts "
            "WHERE substr(gs_account(platform, id), 6) IN (SELECT left(unnest(?::VARCHAR[]), 12))",
            [forgotten, forgotten]).fetchall()
        back = [(p, i) for p, i in back if ps.digest("account", p, i) in forgotten]
        if back:
            keys = [k for p, i in back for k in con.execute(
                "SELECT platform, id FROM posts WHERE platform = ? AND author_id = ?", [p, i]).fetchall()]
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            for p, i in keys:
                con.execute("INSERT INTO deletions VALUES (?, ?, NULL, ?, 'forget', 'forget', 0) ON CONFLICT DO NOTHING",
                            [p, i, now])
            res.accounts += _forget_accounts(store, back)
    pending = con.execute(
        "SELECT p.platform, p.id FROM posts p JOIN deletions d USING (platform, id) WHERE NOT p.deleted "
        "OR p.text IS NOT NULL OR p.raw IS NOT NULL OR p.author_handle IS NOT NULL OR len(p.mentions) > 0 "
        "OR len(p.urls) > 0 OR len(p.media) > 0 OR p.place IS NOT NULL OR p.source IS NOT NULL").fetchall()
    sets = ", ".join(f"{c} = {v}" for c, v in _POST_SCRUB.items())
    con.execute("BEGIN TRANSACTION")
    try:
        if pending:
            res.posts = len(pending)
            con.execute(f"UPDATE posts SET {sets}, deleted = true FROM deletions d "
                        "WHERE posts.platform = d.platform AND posts.id = d.id")
        # reposts of deleted posts: their text and raw are the original's
        res.referencing += con.execute(
            "UPDATE posts SET text = NULL, raw = NULL FROM deletions d WHERE posts.platform = d.platform "
            "AND posts.repost_of_id = d.id AND (posts.text IS NOT NULL OR posts.raw IS NOT NULL)").fetchone()[0]  # type: ignore[index]
        # raw copies embedded in quotes, replies, threads; and users' latest status
        for tbl, cond in (("posts", "(r.quote_of_id = d.id OR r.reply_to_id = d.id OR r.conversation_id = d.id)"),
                          ("accounts", "r.id = (SELECT author_id FROM posts q WHERE q.platform = d.platform AND q.id = d.id)")):
            rows = con.execute(
                f"SELECT DISTINCT r.rowid, r.platform, r.raw FROM {tbl} r JOIN deletions d ON r.platform = d.platform "
                f"AND {cond} WHERE r.raw IS NOT NULL AND contains(r.raw, d.id)").fetchall()
            if not rows:
                continue
            ids_by_plat: dict[str, set[str]] = {}
            for p in {r[1] for r in rows}:
                ids_by_plat[p] = {x[0] for x in con.execute("SELECT id FROM deletions WHERE platform = ?", [p]).fetchall()}
            for rowid, p, raw in rows:
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                new, changed = _strip_embedded(obj, ids_by_plat[p])
                if changed:
                    con.execute(f"UPDATE {tbl} SET raw = ? WHERE rowid = ?", [orjson.dumps(new).decode(), rowid])
                    res.referencing += 1
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if pending or res.accounts:
        r = _scrub_derived(store)
        res.derived_rows, res.dropped_caches = r.derived_rows, r.dropped_caches
    return res


def _scrub_derived(store: Store) -> ForgetResult:
    con = store.con
    res = ForgetResult()
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()]
    for t in tables:
        if t in _CORE_TABLES:
            continue
        if t.lower().startswith("cache"):
            con.execute(f'DROP TABLE "{t}"')
            res.dropped_caches.append(t)
            continue
        cols = _columns(store, t)
        idcol = "post_id" if "post_id" in cols else ("id" if "id" in cols else None)
        sens = [c for c, typ in cols.items()
                if c.lower() in _SENSITIVE_NAMES or "text" in c.lower()]
        sens = [c for c in sens if c != idcol and c not in ("platform", "label")]
        if idcol is None or not sens:
            continue
        join = "x.platform = d.platform AND " if "platform" in cols else ""
        sets = ", ".join(f'"{c}" = NULL' for c in sens)
        notnull = " OR ".join(f'x."{c}" IS NOT NULL' for c in sens)
        n = con.execute(f'UPDATE "{t}" x SET {sets} FROM deletions d WHERE {join}x."{idcol}" = d.id AND ({notnull})'
                        ).fetchone()[0]  # type: ignore[index]
        res.derived_rows += int(n)
    return res


def compact(store: Store) -> bool:
    """Rewrite the database file so bytes of deleted values are gone from it.

    DuckDB reuses freed blocks but does not wipe them, so a checkpoint alone
    can leave old text on disk. The store is copied (``COPY FROM DATABASE``)
    into a fresh file beside it, which then atomically replaces the old one;
    the WAL is checkpointed first and removed. The store's connection is
    reopened on the new file. Returns False for an in-memory store.
    """
    import duckdb

    path = store.path
    if path == ":memory:" or not path:
        return False
    if store.read_only:
        raise StoreError(f"{path} is open read-only; compacting needs to write")
    con = store.con
    con.execute("CHECKPOINT")
    tmp = f"{path}.compact-{os.getpid()}"
    for f in (tmp, tmp + ".wal"):
        if os.path.exists(f):
            os.remove(f)
    src = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    con.execute(f"ATTACH '{tmp.replace(chr(39), chr(39) * 2)}' AS gs_compact")
    try:
        con.execute(f'COPY FROM DATABASE "{src}" TO gs_compact')
        con.execute("CHECKPOINT gs_compact")
    finally:
        con.execute("DETACH gs_compact")
    con.close()
    os.replace(tmp, path)
    for f in (tmp + ".wal", path + ".wal"):
        if os.path.exists(f):
            os.remove(f)
    store.con = duckdb.connect(path)
    return True


# --------------------------------------------------------------------------- retention

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
    today = today or datetime.now(timezone.utc).date()
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

