"""Forgetting: posts and accounts removed from every table, and from the file's bytes.

:func:`forget` records deletions for posts or a whole account, scrubs the text
and identifying fields from every table (:func:`apply_deletions`, which also
finishes what Jetstream deletes and Twitter compliance files start at ingest)
and rewrites the database file (:func:`compact`) so the old bytes are gone.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import orjson
import pyarrow as pa

from groundswell.embedded import POST_SCRUB as _POST_SCRUB
from groundswell.embedded import strip_embedded as _strip_embedded
from groundswell.errors import StoreError, UsageError
from groundswell.privacy._sql import columns as _columns
from groundswell.privacy._sql import tables as _tables
from groundswell.privacy.policy import META, Policy
from groundswell.privacy.pseudonyms import LABEL_HEX, PLATFORMS, Pseudonymizer, _norm_handle
from groundswell.store import pages as _pages
from groundswell.store.duck import Store

__all__ = ["ForgetResult", "apply_deletions", "compact", "forget", "read_id_file"]

_META = META
_PLATFORMS = PLATFORMS
_CORE_TABLES = ("posts", "accounts", "volumes", "deletions", "rejects", "sources", "meta", "pages", "page_posts")
_SENSITIVE_NAMES = ("text", "raw", "handle", "author_handle", "display_name", "description", "location",
                    "username", "screen_name", "name", "snippet", "excerpt", "body", "content", "quote", "mentions")


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
    by_handle: list[tuple[str, str]] = []
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
            by_handle = sorted({(p, _norm_handle(a)) for p, _ in handle_only})
        else:
            rows = con.execute(
                "SELECT DISTINCT platform, id FROM accounts WHERE id = ? AND (? IS NULL OR platform = ?) "
                "UNION SELECT DISTINCT platform, author_id FROM posts "
                "WHERE author_id = ? AND (? IS NULL OR platform = ?)",
                [a, platform, platform, a, platform, platform]).fetchall()
        acc_keys = [(p, i) for p, i in rows if i is not None]
        if not acc_keys and not keys:
            raise UsageError(f"no account {account!r} in {store.path}: give the account's id, or its handle "
                             f"with '@', as the platform gives them")
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
    now = datetime.now(UTC).replace(tzinfo=None)
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
        if acc_keys or by_handle:
            res.accounts = _forget_accounts(store, acc_keys, by_handle)
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


def _forget_accounts(store: Store, acc_keys: list[tuple[str, str]],
                     handle_only: Sequence[tuple[str, str]] = ()) -> int:
    """Delete the accounts' observations; replace their ids and handles wherever they appear.

    ``handle_only`` are accounts known by handle alone (CSV files without user ids).
    Every column of every table is searched (:func:`_replace_identity`): ids and
    handles as whole values, in lists, in mentions and links inside text, and
    inside raw JSON (an embedded profile of the account is cut out whole).
    """
    con = store.con
    ps = Pseudonymizer(store, Policy())
    forgotten = json.loads(store.meta(_META + "forgotten") or "[]")
    n = 0
    idents: list[_Identity] = []
    for p, i in acc_keys:
        handles = [r[0] for r in con.execute(
            "SELECT DISTINCT handle FROM accounts WHERE platform = ? AND id = ? AND handle IS NOT NULL "
            "UNION SELECT DISTINCT author_handle FROM posts WHERE platform = ? AND author_id = ? "
            "AND author_handle IS NOT NULL", [p, i, p, i]).fetchall()]
        digest = ps.digest("account", p, i)
        n += con.execute("SELECT count(*) FROM accounts WHERE platform = ? AND id = ?", [p, i]).fetchone()[0]  # type: ignore[index]
        con.execute("DELETE FROM accounts WHERE platform = ? AND id = ?", [p, i])
        idents.append(_Identity(p, i, handles, FORGOTTEN_PREFIX + digest[:LABEL_HEX]))
        if digest not in forgotten:
            forgotten.append(digest)
    for p, h in handle_only:
        digest = ps.digest("account", p, "@" + _norm_handle(h))
        idents.append(_Identity(p, None, [h], FORGOTTEN_PREFIX + digest[:LABEL_HEX]))
        if digest not in forgotten:
            forgotten.append(digest)
    for ident in idents:
        _replace_identity(store, ident)
        _replace_identity_in_pages(store, ident)
    store.set_meta(_META + "forgotten", json.dumps(forgotten))
    return n


FORGOTTEN_PREFIX = "forgotten-"
_WORD = r"[A-Za-z0-9_]"
# keys of embedded JSON objects that hold who an account is
_USER_KEYS = ("screen_name", "username", "handle", "acct", "name", "display_name", "description", "location")


class _Identity:
    """One forgotten account: its id and handles, and the label that replaces them."""

    def __init__(self, platform: str, account_id: str | None, handles: Sequence[str], label: str) -> None:
        self.platform, self.id, self.label = platform, account_id, label
        self.handles = sorted({_norm_handle(h) for h in handles if h}, key=len, reverse=True)
        self.exact = {x.casefold() for x in ([account_id] if account_id else []) + self.handles}
        names = [re.escape(h) for h in self.handles]
        parts = []
        if names:
            alt = "|".join(names)
            # @name and "@ name" (GetOldTweets), and /name or /@name in links
            parts.append(rf"(?P<pre>[@\uff20] ?|/@?)(?:{alt})(?!{_WORD}|\.{_WORD})")
        ids = []
        if account_id:
            ids.append(account_id)
            m = re.match(r"^(https?://[^/]+)/@([^/@]+)$", account_id)
            if m:  # a Mastodon account: its statuses live under /users/NAME
                ids.append(f"{m.group(1)}/users/{m.group(2)}")
        distinctive = [re.escape(x) for x in ids if not x.isdigit() or len(x) >= 6]
        if distinctive:
            parts.append(rf"(?<!{_WORD})(?:{'|'.join(distinctive)})(?!{_WORD})")
        short = [re.escape(x) for x in ids if x.isdigit() and len(x) < 6]
        if short:  # a short numeric id only where it is one: after / or = (user_id=101)
            parts.append(rf"(?<=[/=])(?:{'|'.join(short)})(?!{_WORD})")
        self.rx = re.compile("|".join(parts), re.I) if parts else None
        self.needles = sorted({x.casefold() for x in self.handles + ids if x})

    def _sub(self, m: re.Match[str]) -> str:
        return (m.groupdict().get("pre") or "") + self.label

    def text(self, s: str) -> str:
        if s.casefold() in self.exact:
            return self.label
        return self.rx.sub(self._sub, s) if self.rx is not None else s

    def json(self, obj: Any, key: str = "") -> Any:
        if isinstance(obj, dict):
            ident = [obj.get(k) for k in ("id", "id_str", "did")]
            if self.id is not None and any(str(v) == self.id for v in ident if isinstance(v, (str, int))
                                          and not isinstance(v, bool)) and any(k in obj for k in _USER_KEYS):
                return {"id": self.label, "forgotten": True}  # the account's profile, embedded: gone whole
            handle = next((obj.get(k) for k in ("screen_name", "username", "handle", "acct")
                           if isinstance(obj.get(k), str)), None)
            if handle is not None and _norm_handle(handle) in self.handles and any(
                    k in obj for k in ("name", "display_name", "description", "location")):
                return {"id": self.label, "forgotten": True}
            return {k: self.json(v, k) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.json(v, key) for v in obj]
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, int) and not isinstance(obj, bool) and self.id is not None and str(obj) == self.id \
                and key.lower().endswith("id"):
            return self.label
        return obj

    def value(self, v: Any, is_json: bool) -> Any:
        if v is None:
            return None
        if isinstance(v, list):
            return [self.value(x, False) for x in v]
        if not isinstance(v, str):
            return v
        if is_json or (v[:1] in "{[" and v[-1:] in "}]"):
            try:
                obj = orjson.loads(v)
            except orjson.JSONDecodeError:
                return self.text(v)
            new = self.json(obj)
            return v if new == obj else orjson.dumps(new).decode()
        return self.text(v)


def _replace_identity(store: Store, ident: _Identity) -> int:
    """Replace one forgotten account's id and handles in every string column of every table."""
    if not ident.needles:
        return 0
    con = store.con
    changed = 0
    for t in _tables(store):
        for c, typ in _columns(store, t).items():
            if typ not in ("VARCHAR", "VARCHAR[]", "JSON"):
                continue
            x = f'lower(array_to_string("{c}", chr(31)))' if typ.endswith("[]") else f'lower("{c}"::VARCHAR)'
            cond = " OR ".join(f"contains({x}, ?)" for _ in ident.needles)
            if t == "meta":
                cond = f"({cond}) AND key <> '{_META}secret'"
            rows = con.execute(f'SELECT rowid, "{c}" FROM "{t}" WHERE {cond}', list(ident.needles)).fetchall()
            upd = [(rid, ident.value(v, c == "raw" or typ == "JSON")) for rid, v in rows]
            upd = [(rid, nv) for (rid, nv), (_r, v) in zip(upd, rows) if nv != v]
            if not upd:
                continue
            vtype = pa.list_(pa.string()) if typ.endswith("[]") else pa.string()
            con.register("_gs_upd", pa.table({"rid": pa.array([r for r, _ in upd], pa.int64()),
                                              "v": pa.array([v for _, v in upd], vtype)}))
            try:
                con.execute(f'UPDATE "{t}" SET "{c}" = u.v FROM _gs_upd u WHERE "{t}".rowid = u.rid')
            finally:
                con.unregister("_gs_upd")
            changed += len(upd)
    return changed


def _replace_identity_in_pages(store: Store, ident: _Identity) -> int:
    """The stored input pages (:mod:`groundswell.store.pages`) that name a forgotten account:
    its profile cut out whole, its id and handles replaced, as in every other column."""
    if not ident.needles or not store.has_pages():
        return 0
    needles = [n.encode("utf-8") for n in ident.needles]
    hit = []
    cur = store.con.cursor()
    try:
        res = cur.execute("SELECT page, body FROM pages")
        while rows := res.fetchmany(256):
            for page, body in rows:
                data = _pages.decompress(body).lower()
                if any(n in data for n in needles):
                    hit.append(int(page))
    finally:
        cur.close()

    def fn(fmt: str, value: Any) -> tuple[Any, bool]:
        new = ident.json(value)
        return new, new != value

    return _pages.rewrite(store.con, hit, fn)


def _scrub_pages(store: Store) -> int:
    """Every copy of a deleted post, and of a repost of one, in the stored input pages: a tombstone
    in a JSON page, a blanked line in a CSV page. Cheap when nothing is pending (a scrubbed copy
    leaves the pages' index)."""
    if not store.has_pages():
        return 0
    keys = store.con.execute(
        "WITH gone AS (SELECT platform, id FROM deletions UNION SELECT p.platform, p.id FROM posts p "
        "JOIN deletions d ON p.platform = d.platform AND p.repost_of_id = d.id) "
        "SELECT platform, id FROM gone JOIN page_posts USING (platform, id) "
        "UNION SELECT g.platform, g.id FROM gone g JOIN posts p USING (platform, id) "
        "WHERE p.raw_page IS NOT NULL").fetchall()
    return _pages.scrub_posts(store.con, keys)


def apply_deletions(store: Store) -> ForgetResult:
    """Make every recorded deletion complete, in every table.

    For each post in ``deletions`` (Jetstream deletes, compliance files,
    forget): the post row keeps id, author, time, links, hashtags and counts
    but loses ``text``, ``raw``, its author handle, mentions, links, media,
    place and client (:data:`groundswell.embedded.POST_SCRUB`); a repost of it
    loses its text and raw (a retweet's text *is* the original's); every other
    record that embeds a copy of it in its ``raw``, at any depth (a retweet of
    a quote of a reply ..., found by following reposts, quotes, replies and
    threads from the deleted post), and the accounts whose latest ``status``
    embeds one, have that copy cut out. Derived tables (any other table with
    ``platform``/``id`` or ``post_id`` columns) lose their text-like columns
    for those posts; for posts forgotten with :func:`forget`, any string
    column of a derived table holding their words loses them; tables named
    ``cache*`` are dropped (they are rebuilt on demand). Posts of forgotten
    accounts that a later ingest brought back are forgotten again.
    Idempotent and cheap when nothing is pending.
    """
    con = store.con
    res = ForgetResult()
    # posts of forgotten accounts brought back by a later ingest
    forgotten = json.loads(store.meta(_META + "forgotten") or "[]")
    if forgotten and store.meta(_META + "secret"):
        ps = Pseudonymizer(store, Policy())
        ps.sql_macros()
        back = con.execute(
            "SELECT DISTINCT platform, author_id FROM posts WHERE author_id IS NOT NULL "
            f"AND author_id NOT LIKE '{FORGOTTEN_PREFIX}%' "
            "AND substr(gs_account(platform, author_id), 6) IN (SELECT left(unnest(?::VARCHAR[]), 12)) "
            "UNION SELECT DISTINCT platform, id FROM accounts "
            "WHERE substr(gs_account(platform, id), 6) IN (SELECT left(unnest(?::VARCHAR[]), 12))",
            [forgotten, forgotten]).fetchall()
        back = [(p, i) for p, i in back if ps.digest("account", p, i) in forgotten]
        back_h = con.execute(
            "SELECT DISTINCT platform, lower(author_handle) FROM posts WHERE author_id IS NULL AND author_handle "
            "IS NOT NULL AND substr(gs_account(platform, '@' || lower(author_handle)), 6) IN "
            "(SELECT left(unnest(?::VARCHAR[]), 12))", [forgotten]).fetchall()
        back_h = [(p, h) for p, h in back_h if ps.digest("account", p, "@" + h) in forgotten]
        if back or back_h:
            keys = [k for p, i in back for k in con.execute(
                "SELECT platform, id FROM posts WHERE platform = ? AND author_id = ?", [p, i]).fetchall()]
            keys += [k for p, h in back_h for k in con.execute(
                "SELECT platform, id FROM posts WHERE platform = ? AND author_id IS NULL AND lower(author_handle) = ?",
                [p, h]).fetchall()]
            now = datetime.now(UTC).replace(tzinfo=None)
            for p, i in keys:
                con.execute("INSERT INTO deletions VALUES (?, ?, NULL, ?, 'forget', 'forget', 0) "
                            "ON CONFLICT DO NOTHING",
                            [p, i, now])
            res.accounts += _forget_accounts(store, back, back_h)
    pending = con.execute(
        "SELECT p.platform, p.id FROM posts p JOIN deletions d USING (platform, id) WHERE NOT p.deleted "
        f"OR p.text IS NOT NULL OR {store.has_raw_sql('p')} OR p.author_handle IS NOT NULL OR len(p.mentions) > 0 "
        "OR len(p.urls) > 0 OR len(p.media) > 0 OR p.place IS NOT NULL OR p.source IS NOT NULL").fetchall()
    # the words of posts forgotten on request, to find copies of them in derived tables
    words = [r[0] for r in con.execute(
        "SELECT DISTINCT p.text FROM posts p JOIN deletions d USING (platform, id) WHERE d.reason = 'forget' "
        "AND p.text IS NOT NULL AND length(p.text) >= ?", [_MIN_COPY_CHARS]).fetchall()]
    sets = ", ".join(f"{c} = {v}" for c, v in _POST_SCRUB.items())
    ref = ", raw_page = NULL, raw_at = NULL" if store.has_pages() else ""  # the pointer goes with raw
    con.execute("BEGIN TRANSACTION")
    try:
        # the copies in the stored input pages first: a CSV record is found through its row's pointer
        _scrub_pages(store)
        if pending:
            res.posts = len(pending)
            con.execute(f"UPDATE posts SET {sets}{ref}, deleted = true FROM deletions d "
                        "WHERE posts.platform = d.platform AND posts.id = d.id")
        # reposts of deleted posts: their text and raw are the original's
        res.referencing += con.execute(
            f"UPDATE posts SET text = NULL, raw = NULL{ref} FROM deletions d WHERE posts.platform = d.platform "
            f"AND posts.repost_of_id = d.id AND (posts.text IS NOT NULL OR {store.has_raw_sql('posts')})"
        ).fetchone()[0]  # type: ignore[index]
        res.referencing += _strip_copies(store)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if pending or res.accounts:
        r = _scrub_derived(store, words)
        res.derived_rows, res.dropped_caches = r.derived_rows, r.dropped_caches
    return res


_MIN_COPY_CHARS = 12   # shorter forgotten texts are not searched for in derived tables (too many false hits)
_MAX_DEPTH = 64        # reference chains followed from a deleted post


def _strip_copies(store: Store) -> int:
    """Cut embedded copies of deleted posts out of the ``raw`` of every record that may hold one.

    A record can only embed a post it references, directly or through the
    posts it embeds: so the posts that repost, quote, reply to or sit in the
    thread of a deleted post, then those referencing them, and so on, are the
    candidates (and the accounts that wrote any of them, for a user's latest
    ``status``); of these, those whose raw holds the deleted id are parsed and
    cut. Returns the records changed.
    """
    con = store.con
    roots = con.execute("SELECT DISTINCT platform, id FROM deletions").fetchall()
    if not roots:
        return 0
    seen: set[tuple[str, str]] = set(roots)
    frontier = [(p, i, i) for p, i in roots]  # (platform, post id, the deleted post it leads to)
    found: list[tuple[str, str, str]] = []
    depth = 0
    while frontier and depth < _MAX_DEPTH:
        depth += 1
        con.register("_gs_front", pa.table({"platform": pa.array([f[0] for f in frontier], pa.string()),
                                            "id": pa.array([f[1] for f in frontier], pa.string()),
                                            "root": pa.array([f[2] for f in frontier], pa.string())}))
        try:
            nxt = con.execute(" UNION ".join(
                f"SELECT p.platform, p.id, f.root FROM posts p JOIN _gs_front f ON p.platform = f.platform "
                f"AND p.{col} = f.id" for col in ("repost_of_id", "quote_of_id", "reply_to_id", "conversation_id")
            )).fetchall()
        finally:
            con.unregister("_gs_front")
        frontier = []
        for p, i, root in nxt:
            if (p, i) not in seen:
                seen.add((p, i))
                frontier.append((p, i, root))
                found.append((p, i, root))
    cand = pa.table({"platform": pa.array([f[0] for f in found], pa.string()),
                     "id": pa.array([f[1] for f in found], pa.string()),
                     "root": pa.array([f[2] for f in found], pa.string())})
    rows: list[tuple[str, int, str, str]] = []
    con.register("_gs_cand", cand)
    try:
        rows += [("posts", r[0], r[1], r[2]) for r in con.execute(
            "SELECT DISTINCT p.rowid, p.platform, p.raw FROM posts p JOIN _gs_cand c ON p.platform = c.platform "
            "AND p.id = c.id WHERE p.raw IS NOT NULL AND contains(p.raw, c.root)").fetchall()]
    finally:
        con.unregister("_gs_cand")
    # accounts: a profile may embed its latest status (a users lookup), which may be a retweet of a
    # quote of the deleted post; only such profiles are looked at, for every deleted id reached
    reached = pa.table({"platform": pa.array([f[0] for f in found] + [p for p, _ in roots], pa.string()),
                        "root": pa.array([f[2] for f in found] + [i for _, i in roots], pa.string())})
    con.register("_gs_roots", reached)
    try:
        rows += [("accounts", r[0], r[1], r[2]) for r in con.execute(
            "SELECT DISTINCT a.rowid, a.platform, a.raw FROM (SELECT rowid, platform, raw FROM accounts "
            "WHERE raw IS NOT NULL AND (contains(raw, '\"status\"') OR contains(raw, '\"pinned_tweet\"'))) a "
            "JOIN (SELECT DISTINCT platform, root FROM _gs_roots) x ON a.platform = x.platform "
            "AND contains(a.raw, x.root)").fetchall()]
    finally:
        con.unregister("_gs_roots")
    ids_by_plat: dict[str, set[str]] = {}
    for p, i in roots:
        ids_by_plat.setdefault(p, set()).add(i)
    changed = 0
    for tbl, rowid, p, raw in rows:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        new, did = _strip_embedded(obj, ids_by_plat.get(p, set()))
        if did:
            con.execute(f"UPDATE {tbl} SET raw = ? WHERE rowid = ?", [orjson.dumps(new).decode(), rowid])
            changed += 1
    return changed


def _scrub_derived(store: Store, words: Sequence[str] = ()) -> ForgetResult:
    """Derived tables: text-like columns of deleted posts' rows cleared; copies of ``words``
    (forgotten texts) cleared from any string column; ``cache*`` tables dropped."""
    con = store.con
    res = ForgetResult()
    for t in _tables(store):
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
        if idcol is not None and sens:
            join = "x.platform = d.platform AND " if "platform" in cols else ""
            sets = ", ".join(f'"{c}" = NULL' for c in sens)
            notnull = " OR ".join(f'x."{c}" IS NOT NULL' for c in sens)
            n = con.execute(f'UPDATE "{t}" x SET {sets} FROM deletions d WHERE {join}x."{idcol}" = d.id '
                            f'AND ({notnull})').fetchone()[0]  # type: ignore[index]
            res.derived_rows += int(n)
        for c, typ in cols.items():
            if not words or typ not in ("VARCHAR", "VARCHAR[]", "JSON"):
                continue
            for k in range(0, len(words), 50):
                chunk = list(words[k:k + 50])
                if typ.endswith("[]"):
                    hit = " OR ".join("contains(x, ?)" for _ in chunk)
                    n = con.execute(f'UPDATE "{t}" SET "{c}" = list_filter("{c}", lambda x: x IS NULL OR NOT ({hit})) '
                                    f'WHERE len(list_filter("{c}", lambda x: {hit})) > 0', chunk + chunk
                                    ).fetchone()[0]  # type: ignore[index]
                else:
                    hit = " OR ".join(f'contains("{c}"::VARCHAR, ?)' for _ in chunk)
                    n = con.execute(f'UPDATE "{t}" SET "{c}" = NULL WHERE {hit}', chunk).fetchone()[0]  # type: ignore[index]
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

