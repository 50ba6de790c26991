"""Keyed pseudonyms, the public-figure rule, and names inside text.

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

A *public figure* is an account that is verified by its platform
(``privacy.verified``, on by default; Twitter's flags, Bluesky's verification;
Mastodon verifies nobody, so a ``verified`` Mastodon account in a store made
before that rule counts for nothing), or has had at least ``privacy.min_followers`` followers (10,000 by
default) in any observation, or is on the allowlist (``privacy.allowlist``:
``@handle``, ``id`` or ``platform:id``). Public figures appear under their
handle. ``identify=True`` (the CLI's ``--identify``) shows everybody's handle,
and the output says so.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from groundswell.errors import StoreError, UsageError
from groundswell.privacy._sql import rows as _rows
from groundswell.privacy.policy import META, Policy
from groundswell.privacy.redaction import redact
from groundswell.store.duck import Store

__all__ = ["ACCOUNT_PREFIX", "LABEL_HEX", "POST_PREFIX", "LabelIndex", "Pseudonymizer", "ensure_pseudonym_key",
           "ensure_secret", "store_secret"]

LABEL_HEX = 12
ACCOUNT_PREFIX = "user-"
POST_PREFIX = "post-"
PLATFORMS = ("twitter", "bluesky", "mastodon")
# platforms without verification: a 'verified' flag there is not the platform's word (older
# Mastodon stores took a rel=me-proved profile link for one) and makes nobody public
UNVERIFIED_PLATFORMS = ("mastodon",)

_SEP = "\x1f"
_META = META
_PLATFORMS = PLATFORMS


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
        self._post_authors: dict[str, str | None] = {}
        self._accounts_known: dict[str, bool] = {}  # twitter\x1fid -> a stored account (runs of digits)
        self._known_posts: dict[str, bool] = {}  # digit runs that are stored Twitter posts
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
                "HAVING (? AND bool_or(coalesce(verified, false) AND platform NOT IN "
                "(SELECT unnest(?::VARCHAR[])))) OR (? AND max(followers) >= ?)",
                [pol.verified, list(UNVERIFIED_PLATFORMS), pol.min_followers is not None, pol.min_followers or 0])
            for p, i, handles in rows:
                pub.add(p + _SEP + i)
                for h in handles or ():
                    self._public_handles.add(p + _SEP + _norm_handle(h))
        if self.store is not None and (self._allow_handles or self._allow_any_ids or self._allow_ids):
            rows = _rows(self.store,
                "SELECT DISTINCT platform, id, lower(handle) FROM accounts WHERE lower(handle) IN "
                "(SELECT unnest(?::VARCHAR[])) OR id IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(self._allow_handles),
                 sorted(self._allow_any_ids | {k.split(_SEP, 1)[1] for k in self._allow_ids})])
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
        if pol.verified and verified and platform not in UNVERIFIED_PLATFORMS:
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
        """Text as an output may show it: mentions and links naming private accounts or their
        posts rewritten (:meth:`texts`), redacted per policy."""
        return self.texts([text], platform)[0]

    def texts(self, texts: Sequence[str | None], platform: str | None, *, redacted: bool | None = None
              ) -> list[str | None]:
        """:meth:`text` over a batch (one store query for all the handles and post ids in it)."""
        out = list(texts)
        if not self.policy.identify:
            out = self._links_in_text(out, platform)
            out = self._mentions_in_text(out, platform)
            out = self._ids_in_text(out)
        if self.policy.redact if redacted is None else redacted:
            out = [redact(t) if t else t for t in out]
        return out

    def _ids_in_text(self, texts: list[str | None]) -> list[str | None]:
        """Bare ids in text (a tweet id written out, a link the text has lost its scheme of)."""
        cand = [t for t in texts if t and _ID_RUN.search(t)]
        if not cand:
            return texts
        self.prefetch_ids(cand)
        return [self._ids_in(t) if t else t for t in texts]

    def _mentions_in_text(self, texts: list[str | None], platform: str | None) -> list[str | None]:
        found: set[str] = set()
        for t in texts:
            if t and ("@" in t or "\uff20" in t):
                found.update(m.group(1) for m in _MENTION_RE.finditer(t))
        out = texts
        if found:
            self._resolve_handles(platform, found)
            repl: dict[str, str] = {}
            for h in found:
                if not self.is_public(platform, None, h):
                    repl[h] = self.label(platform, None, h)

            def sub(m: re.Match[str]) -> str:
                r = repl.get(m.group(1))
                return m.group(0)[0] + r if r else m.group(0)

            out = [(_MENTION_RE.sub(sub, t) if t and ("@" in t or "\uff20" in t) else t) for t in texts]
        if platform in (None, "twitter"):
            out = self._spaced_mentions(out, platform)
        return out

    def _spaced_mentions(self, texts: list[str | None], platform: str | None) -> list[str | None]:
        """GetOldTweets writes a mention as "@ name": the name is rewritten too, unless it is a
        common word ("meet @ home") or a public figure's handle."""
        found = {m.group(1) for t in texts if t and "@ " in t for m in _SPACED_MENTION_RE.finditer(t)
                 if m.group(1).lower() not in _COMMON_WORDS}
        if not found:
            return texts
        self._resolve_handles(platform, found)
        repl = {h: self.label(platform, None, h) for h in found if not self.is_public(platform, None, h)}

        def sub(m: re.Match[str]) -> str:
            r = repl.get(m.group(1))
            return "@ " + r if r else m.group(0)

        return [(_SPACED_MENTION_RE.sub(sub, t) if t and "@ " in t else t) for t in texts]

    # -- links ----------------------------------------------------------------
    def _links_in_text(self, texts: list[str | None], platform: str | None) -> list[str | None]:
        """Links and DIDs naming private accounts or their posts rewritten; t.co links (which
        redirect to a post nobody can see from here) become ``[link]``."""
        cand = [i for i, t in enumerate(texts) if t and ("://" in t or "did:" in t or "pic.twitter.com/" in t)]
        if not cand:
            return texts
        self.prefetch_links([u.group(0) for i in cand for u in _URL_IN_TEXT.finditer(texts[i] or "")])
        out = list(texts)
        for i in cand:
            t = out[i] or ""
            t = _URL_IN_TEXT.sub(lambda m: self._link_in_text(m.group(0)), t)
            if "pic.twitter.com/" in t:
                t = _PIC_RE.sub("[link]", t)
            if "did:" in t:
                t = _DID_RE.sub(lambda m: self._did(m.group(0)), t)
            out[i] = t
        return out

    def _link_in_text(self, u: str) -> str:
        core = u.rstrip(_TRAILING)
        tail = u[len(core):]
        if _TCO_RE.match(core) or _PIC_RE.search(core):
            return "[link]" + tail
        return self.link(core) + tail

    def _did(self, did: str) -> str:
        if self.is_public("bluesky", did):
            return did
        return self.label("bluesky", did)

    def links(self, urls: Sequence[str | None]) -> list[str | None]:
        """:meth:`link` over a batch."""
        self.prefetch_links([u for u in urls if u])
        return [self.link(u) if u else u for u in urls]

    def link(self, url: str) -> str:
        """A link as an output may show it: a link to an account or a post of someone who is not a
        public figure gets their pseudonym and the post label in place of the handle and the id.

        Recognized: ``twitter.com``/``x.com`` status and profile links (and ``/i/web/status/ID``),
        ``bsky.app/profile/ACTOR[/post/RKEY]``, ``at://ACTOR/COLLECTION/RKEY``, and on any host
        ``/@name[@domain][/ID]`` and ``/users/name[/statuses/ID]`` (Mastodon and others).
        Then, on any site (a thread unroller, an archive, a viewer), what the link carries of
        someone who is not a public figure (:meth:`_carried`): a link inside it (percent-encoded
        or not) is rewritten the same way, a DID gets the account's pseudonym, and a run of 15 to
        20 digits that is the id of a stored Twitter post or account gets its label.
        """
        if self.policy.identify:
            return url
        return self._carried(self._link_shape(url))

    def _carried(self, url: str) -> str:
        """The ids a link carries on any site, rewritten (see :meth:`link`)."""
        if _NEEDS_DECODING.search(url):
            decoded = unquote(url)
            if decoded != url and _INNER_URL.search(decoded, 1):
                url = decoded  # an encoded link inside: shown decoded, rewritten
        if len(url) > 1 and (m := _INNER_URL.search(url, 1)) is not None:
            url = url[:m.start()] + _INNER_URL.sub(lambda x: self.link(x.group(0)), url[m.start():])
        if "did" in url:
            url = _DID_ANYWHERE.sub(lambda x: self._did(x.group(0)), url)
        return self._ids_in(url)

    def _ids_in(self, s: str) -> str:
        """Runs of 15-20 digits that are stored Twitter post ids (or account ids) of people who
        are not public figures, replaced by their post label (or pseudonym)."""
        if not _ID_RUN.search(s):
            return s

        def sub(m: re.Match[str]) -> str:
            i = m.group(0)
            if "twitter" + _SEP + i not in self._accounts_known:
                self.prefetch_ids([i])
            if self._known_posts.get(i):  # a stored post: its label unless its author is public
                author = self._post_authors.get("twitter" + _SEP + i)
                return i if (author is not None and self.is_public("twitter", author)) else \
                    self.post_label("twitter", i)
            if self._accounts_known.get("twitter" + _SEP + i) and not self.is_public("twitter", i):
                return self.label("twitter", i)
            return i

        return _ID_RUN.sub(sub, s)

    def prefetch_ids(self, strings: Iterable[str | None]) -> None:
        """Look up at once the stored Twitter posts (with their authors) and accounts that the
        15-20 digit runs of ``strings`` name (:meth:`_ids_in`)."""
        runs = {m.group(0) for t in strings if t and any(c.isdigit() for c in t) for m in _ID_RUN.finditer(t)}
        want = sorted(r for r in runs if "twitter" + _SEP + r not in self._accounts_known)
        if not want:
            return
        for r in want:
            self._accounts_known["twitter" + _SEP + r] = False
        if self.store is None:
            return
        for kind, i, author in _rows(self.store,
                "SELECT 'p', id, author_id FROM posts WHERE platform = 'twitter' AND id IN "
                "(SELECT unnest(?::VARCHAR[])) "
                "UNION ALL SELECT DISTINCT 'a', id, NULL FROM accounts WHERE platform = 'twitter' AND id IN "
                "(SELECT unnest(?::VARCHAR[])) "
                "UNION ALL SELECT DISTINCT 'a', author_id, NULL FROM posts WHERE platform = 'twitter' AND "
                "author_id IN (SELECT unnest(?::VARCHAR[]))", [want, want, want]):
            if kind == "p":
                self._known_posts[i] = True
                self._post_authors["twitter" + _SEP + i] = author
            else:
                self._accounts_known["twitter" + _SEP + i] = True

    def _link_shape(self, url: str) -> str:
        """:meth:`link` for the shapes of links it knows (the first step)."""
        m = _TW_STATUS.match(url)
        if m:
            pid, handle = m.group("id"), m.group("handle")
            author = self.post_author("twitter", pid)
            if handle.lower() == "i" or handle.lower() == "i/web":
                handle = None
            if self._public_link("twitter", author, handle):
                return url
            who = self.label("twitter", author, handle) if (author or handle) else "i/web"
            return f"{m.group('scheme')}{m.group('host')}/{who}/status/{self.post_label('twitter', pid)}" \
                   f"{m.group('rest') or ''}"
        m = _TW_PROFILE.match(url)
        if m and m.group("handle").lower() not in _TW_RESERVED:
            handle = m.group("handle")
            if self._public_link("twitter", None, handle):
                return url
            return f"{m.group('scheme')}{m.group('host')}/{self.label('twitter', None, handle)}{m.group('rest') or ''}"
        m = _BSKY_RE.match(url)
        if m:
            actor, rkey = m.group("actor"), m.group("rkey")
            did = actor if actor.startswith("did:") else self.resolve_handle("bluesky", actor)
            if self._public_link("bluesky", did, None if actor.startswith("did:") else actor):
                return url
            who = self.label("bluesky", did, None if did else actor)
            out = f"{m.group('scheme')}{m.group('host')}/profile/{who}"
            if rkey:
                out += "/post/" + self.post_label("bluesky", f"at://{did or actor}/app.bsky.feed.post/{rkey}")
            return out + (m.group("rest") or "")
        m = _AT_RE.match(url)
        if m:
            actor, coll, rkey = m.group("actor"), m.group("coll"), m.group("rkey")
            did = actor if actor.startswith("did:") else self.resolve_handle("bluesky", actor)
            if self._public_link("bluesky", did, None if actor.startswith("did:") else actor):
                return url
            who = self.label("bluesky", did, None if did else actor)
            if coll and rkey:
                return f"at://{who}/{coll}/{self.post_label('bluesky', f'at://{did or actor}/{coll}/{rkey}')}" \
                       + (m.group("rest") or "")
            return f"at://{who}" + (f"/{coll}" if coll else "") + (m.group("rest") or "")
        m = _AT_NAME_RE.match(url) or _USERS_RE.match(url)
        if m:
            host, user, domain, sid = m.group("host"), m.group("user"), m.group("domain"), m.group("id")
            home = domain or host
            acc = f"https://{home.lower()}/@{user}"
            handle = f"{user}@{home.lower()}"
            if self._public_link("mastodon", acc, handle):
                return url
            who = self.label("mastodon", acc)
            out = f"{m.group('scheme')}{host}/@{who}"
            if sid:
                uri = (f"https://{host.lower()}/users/{user}/statuses/{sid}" if not domain
                       else f"https://{host.lower()}/@{user}@{domain}/{sid}")
                out += "/" + self.post_label("mastodon", m.group("uri") or uri)
            return out + (m.group("rest") or "")
        return url

    def query(self, q: str | None, platform: str | None) -> str | None:
        """A collection query, rule or API address as an output may show it: accounts it names
        (``from:``/``to:``/``retweets_of:`` operators, ``@mentions``, ``/users/ID`` and
        ``/users/by/username/NAME`` in API paths, links) get their pseudonyms."""
        if q is None or self.policy.identify:
            return q

        def op(m: re.Match[str]) -> str:
            h = m.group("name")
            return m.group("op") + (h if self.is_public(platform, None, h) else self.label(platform, None, h))

        def api(m: re.Match[str]) -> str:
            v = m.group("value")
            if m.group("by"):
                shown = v if self.is_public(platform, None, v) else self.label(platform, None, v)
            else:
                shown = v if self.is_public(platform, v) else self.label(platform, v)
            return m.group("path") + shown

        q = _QUERY_OP.sub(op, q)
        q = _API_USER.sub(api, q)
        return self._links_in_text(self._mentions_in_text([q], platform), platform)[0]

    def _public_link(self, platform: str, account_id: str | None, handle: str | None) -> bool:
        """A link names a public figure only when every name it gives for the account is public."""
        if account_id is None and handle is None:
            return False
        if account_id is not None and not self.is_public(platform, account_id):
            return False
        return handle is None or self.is_public(platform, None, handle)

    def prefetch_links(self, urls: Iterable[str]) -> None:
        """Resolve at once the handles, post authors and ids that a batch of links names."""
        if self.store is None:
            return
        urls = list(urls)
        handles: dict[str, set[str]] = {}
        posts: set[str] = set()
        for u in urls:
            m = _TW_STATUS.match(u)
            if m:
                posts.add(m.group("id"))
                handles.setdefault("twitter", set()).add(m.group("handle"))
                continue
            m = _TW_PROFILE.match(u)
            if m:
                handles.setdefault("twitter", set()).add(m.group("handle"))
                continue
            m = _BSKY_RE.match(u) or _AT_RE.match(u)
            if m and not m.group("actor").startswith("did:"):
                handles.setdefault("bluesky", set()).add(m.group("actor"))
        for plat, hs in handles.items():
            self._resolve_handles(plat, hs)
        self.prefetch_post_authors("twitter", posts)
        self.prefetch_ids(urls if isinstance(urls, list) else list(urls))

    # -- post authors -------------------------------------------------------------
    def post_author(self, platform: str | None, post_id: str) -> str | None:
        """The author id of a post in the store, or None."""
        ck = (platform or "") + _SEP + post_id
        if ck not in self._post_authors:
            self.prefetch_post_authors(platform, [post_id])
        return self._post_authors.get(ck)

    def prefetch_post_authors(self, platform: str | None, ids: Iterable[str]) -> None:
        want = sorted({i for i in ids if (platform or "") + _SEP + i not in self._post_authors})
        if not want:
            return
        for i in want:
            self._post_authors[(platform or "") + _SEP + i] = None
        if self.store is None:
            return
        for p, i, a in _rows(self.store, "SELECT platform, id, author_id FROM posts WHERE platform = ? AND id IN "
                                         "(SELECT unnest(?::VARCHAR[]))", [platform or "", want]):
            self._post_authors[p + _SEP + i] = a

    def sql_macros(self) -> None:
        """Define ``gs_account(platform, id)`` and ``gs_post(platform, id)`` as DuckDB macros
        on the store's connection: the same pseudonyms as :meth:`label` / :meth:`post_label`,
        computed inside DuckDB (HMAC-SHA256 from its ``sha256``), for queries over millions of rows.
        They do not apply the public-figure rule: join :meth:`public_table` for that."""
        if self.store is None:
            raise UsageError("sql_macros needs a store")
        k = (self.secret.ljust(64, b"\0") if len(self.secret) <= 64
             else hashlib.sha256(self.secret).digest().ljust(64, b"\0"))
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


class LabelIndex:
    """Pseudonym -> what it names, for one store: the lookups a page does when it is given a label.

    Labels cannot be reversed, so finding the post behind ``post-…`` means
    hashing ids; this does it once, in DuckDB (:meth:`Pseudonymizer.sql_macros`),
    into two temporary tables with an index on the label, on the store's own
    connection (a read-only store too). When the store has grown (a live
    follower writes), only the new rows are hashed, on the next lookup that
    misses. A label nobody has costs one indexed probe and a row count, never
    a pass over the posts.
    """

    def __init__(self, ps: Pseudonymizer) -> None:
        if ps.store is None:
            raise UsageError("a label index needs a store")
        self.ps = ps
        self.con = ps.store.con
        self._rows: int | None = None  # posts hashed so far

    def _refresh(self) -> bool:
        """Hash what is new since the last look; True when anything was added."""
        con = self.con
        n = con.execute("SELECT count(*) FROM posts").fetchone()[0]  # type: ignore[index]
        if n == self._rows:
            return False
        self.ps.sql_macros()
        if self._rows is None:
            con.execute("CREATE OR REPLACE TEMP TABLE gs_post_labels (label VARCHAR, platform VARCHAR, id VARCHAR)")
            con.execute("CREATE OR REPLACE TEMP TABLE gs_account_labels (label VARCHAR, platform VARCHAR, "
                        "account_id VARCHAR, handle VARCHAR)")
            con.execute("CREATE INDEX gs_post_labels_label ON gs_post_labels (label)")
            con.execute("CREATE INDEX gs_account_labels_label ON gs_account_labels (label)")
        con.execute("INSERT INTO gs_post_labels SELECT gs_post(p.platform, p.id), p.platform, p.id FROM posts p "
                    "ANTI JOIN gs_post_labels l ON l.platform = p.platform AND l.id = p.id")
        con.execute("INSERT INTO gs_account_labels SELECT gs_account(p.platform, p.author_id), p.platform, "
                    "p.author_id, arg_max(p.author_handle, p.created_at) FROM posts p ANTI JOIN gs_account_labels l "
                    "ON l.platform = p.platform AND l.account_id = p.author_id WHERE p.author_id IS NOT NULL "
                    "GROUP BY p.platform, p.author_id")
        # accounts known by a handle alone (a CSV without user ids): their label may come from the handle
        handles = con.execute(
            "SELECT DISTINCT p.platform, p.author_handle FROM posts p ANTI JOIN gs_account_labels l "
            "ON l.platform = p.platform AND l.account_id IS NULL AND lower(l.handle) = lower(p.author_handle) "
            "WHERE p.author_id IS NULL AND p.author_handle IS NOT NULL").fetchall()
        if handles:
            for plat in {p for p, _ in handles}:
                self.ps._resolve_handles(plat, [h for p, h in handles if p == plat])
            rows = [(self.ps.label(p, None, h), p, h) for p, h in handles]
            con.register("_gs_new_labels", pa.table({"label": [r[0] for r in rows], "platform": [r[1] for r in rows],
                                                     "handle": [r[2] for r in rows]}))
            try:
                con.execute("INSERT INTO gs_account_labels SELECT label, platform, NULL, handle FROM _gs_new_labels")
            finally:
                con.unregister("_gs_new_labels")
        self._rows = n
        return True

    def _find(self, query: str, label: str) -> tuple[Any, ...] | None:
        if self._rows is None:
            self._refresh()
        row = self.con.execute(query, [label]).fetchone()
        if row is None and self._refresh():
            row = self.con.execute(query, [label]).fetchone()
        return tuple(row) if row is not None else None

    def post(self, label: str) -> tuple[str, str] | None:
        """(platform, id) of the post labelled ``label``, or None."""
        row = self._find("SELECT platform, id FROM gs_post_labels WHERE label = ? LIMIT 1", label)
        return (row[0], row[1]) if row else None

    def account(self, label: str) -> tuple[str, str | None, str | None] | None:
        """(platform, account id or None, a handle) of the author labelled ``label``, or None."""
        row = self._find("SELECT platform, account_id, handle FROM gs_account_labels WHERE label = ? LIMIT 1", label)
        return (row[0], row[1], row[2]) if row else None


# mentions in text: @name, @name.domain (Bluesky), @user@server (Mastodon); Twitter's full-width
# at sign too; a mention may follow a newline written as a literal \n (twarc-csv's text cells)
_MENTION_RE = re.compile(r"(?:(?<![\w@/\uff20])|(?<=\\n))[@\uff20]"
                         r"([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")

# links (in text: up to a space, a quote or an angle bracket; trailing punctuation is not part of it)
_URL_IN_TEXT = re.compile(r"(?:https?|at)://[^\s<>\"'\\]+", re.I)
_TRAILING = ".,;:!?)]}\u2026"
_TCO_RE = re.compile(r"^https?://t\.co/\w+$", re.I)
# a tweet's media link opens the tweet (its author and id); GetOldTweets glues it to the word before
_PIC_RE = re.compile(r"(?:https?://)?pic\.twitter\.com/\w+", re.I)
_SPACED_MENTION_RE = re.compile(r"(?<![\w@/])@ ([A-Za-z0-9_]{1,15}?)(?=https?://|(?![\w@]))")
_COMMON_WORDS = frozenset(
    "a an the this that these those my your his her its our their me you him us them it i we they all any "
    "some home work school church night noon midnight least last first once times and or but to of in on at "
    "for with by from as up down out about here there now today tonight tomorrow yesterday".split())
_TW_HOST = r"(?P<host>(?:www\.|mobile\.|m\.)?(?:twitter|x)\.com)"
_TW_STATUS = re.compile(r"^(?P<scheme>https?://)" + _TW_HOST +
                        r"/(?P<handle>[A-Za-z0-9_]{1,50}|i/web|i)/status(?:es)?/(?P<id>\d{1,25})(?P<rest>[/?#].*)?$",
                        re.I)
_TW_PROFILE = re.compile(r"^(?P<scheme>https?://)" + _TW_HOST +
                         r"/(?P<handle>[A-Za-z0-9_]{1,50})(?P<rest>(?:/[A-Za-z_]*)?/?(?:[?#].*)?)$", re.I)
_TW_RESERVED = frozenset({"i", "home", "search", "hashtag", "explore", "intent", "share", "settings", "notifications",
                          "messages", "login", "signup", "tos", "privacy", "about", "download", "compose", "account",
                          "logout", "help", "jobs", "en", "rules", "who_to_follow", "lists"})
_BSKY_RE = re.compile(r"^(?P<scheme>https?://)(?P<host>(?:staging\.)?bsky\.app)/profile/(?P<actor>[^/?#\s]+)"
                      r"(?:/post/(?P<rkey>[A-Za-z0-9._~:-]+))?(?P<rest>[/?#].*)?$", re.I)
_AT_RE = re.compile(r"^at://(?P<actor>[^/?#\s]+)(?:/(?P<coll>[A-Za-z0-9.]+)(?:/(?P<rkey>[A-Za-z0-9._~:-]+))?)?"
                    r"(?P<rest>[/?#].*)?$")
_AT_NAME_RE = re.compile(r"^(?P<scheme>https?://)(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,})/@(?P<user>[A-Za-z0-9_.-]+)"
                         r"(?:@(?P<domain>[A-Za-z0-9.-]+\.[A-Za-z]{2,}))?(?:/(?P<id>\d{1,25}))?(?P<uri>)"
                         r"(?P<rest>[/?#].*)?$")
_USERS_RE = re.compile(r"^(?P<uri>(?P<scheme>https?://)(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,})/users/"
                       r"(?P<user>[A-Za-z0-9_.-]+)(?P<domain>)(?:/statuses/(?P<id>\d{1,25}))?)(?P<rest>[/?#].*)?$")
_QUERY_OP = re.compile(r"(?P<op>\b(?:from|to|retweets_of)(?::|%3A))(?P<name>[A-Za-z0-9_.@-]{1,80})", re.I)
_API_USER = re.compile(r"(?P<path>/users/(?P<by>by/username/)?)(?P<value>[A-Za-z0-9_]{1,50})")
_DID_RE = re.compile(r"(?<![\w:/])did:(?:plc|web):[A-Za-z0-9._:%-]+[A-Za-z0-9]")
# what a link on any site may carry: a Twitter id (15-20 digits: every tweet id since 2012, and
# the accounts made since 2013), a DID anywhere (after a slash or '='), a link inside the link
_ID_RUN = re.compile(r"(?<![0-9])[0-9]{15,20}(?![0-9])")
_DID_ANYWHERE = re.compile(r"(?<![A-Za-z0-9])did:(?:plc|web):[A-Za-z0-9._-]+[A-Za-z0-9]")
_INNER_URL = re.compile(r"(?:https?|at)://[^\s<>\"'\\&]+", re.I)
_NEEDS_DECODING = re.compile(r"%3A|%2F", re.I)
