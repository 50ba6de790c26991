"""Outputs: tables, analysis results, networks and exports as a shareable output may show them.

Everything that leaves the store (report, brief, dashboard, exports,
``analyze --json``, ``network``) goes through this module, which applies the
field declaration (:mod:`.fields`), the pseudonyms (:mod:`.pseudonyms`),
withholding (:mod:`.withholding`) and redaction (:mod:`.redaction`).
"""

from __future__ import annotations

import sys
from typing import IO, Any, Callable, Sequence

import pyarrow as pa

from groundswell.errors import UsageError
from groundswell.privacy._sql import rows as _rows
from groundswell.privacy.fields import (
    ACCOUNT_ID_COLUMNS,
    DROP_COLUMNS,
    HANDLE_COLUMNS,
    POST_ID_COLUMNS,
    PROFILE_COLUMNS,
    TEXT_COLUMNS,
    TWARC_CSV_ROLES,
)
from groundswell.privacy.policy import Policy, mark_private, privacy_header
from groundswell.privacy.pseudonyms import Pseudonymizer
from groundswell.privacy.redaction import redact
from groundswell.privacy.withholding import WITHHELD, disclosure_keys
from groundswell.store.duck import Store

__all__ = ["export_safely", "export_transform", "pseudonymize_network", "pseudonymize_result",
           "pseudonymize_table"]


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

