"""Forgetting: posts and accounts removed from every table, and from the file's bytes.

:func:`forget` records deletions for posts or a whole account, scrubs the text
and identifying fields from every table (:func:`apply_deletions`, which also
finishes what Jetstream deletes and Twitter compliance files start at ingest)
and rewrites the database file (:func:`compact`) so the old bytes are gone.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any, Iterable

import orjson
import pyarrow as pa

from groundswell.embedded import POST_SCRUB as _POST_SCRUB
from groundswell.embedded import strip_embedded as _strip_embedded
from groundswell.errors import StoreError, UsageError
from groundswell.privacy._sql import columns as _columns
from groundswell.privacy.policy import META, Policy
from groundswell.privacy.pseudonyms import LABEL_HEX, PLATFORMS, Pseudonymizer, _norm_handle
from groundswell.store.duck import Store

__all__ = ["ForgetResult", "apply_deletions", "compact", "forget", "read_id_file"]

_META = META
_PLATFORMS = PLATFORMS
_CORE_TABLES = ("posts", "accounts", "volumes", "deletions", "rejects", "sources", "meta")
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

