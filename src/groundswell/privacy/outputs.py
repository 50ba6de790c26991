"""Outputs: tables, analysis results, networks and exports as a shareable output may show them.

Everything that leaves the store (report, brief, dashboard, exports,
``analyze --json``, ``network``) goes through this module, which applies the
field declaration (:mod:`.fields`) with the pseudonyms (:mod:`.pseudonyms`),
withholding (:mod:`.withholding`) and redaction (:mod:`.redaction`). A
column the declaration does not know is left out (fail closed).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import IO, Any

import pyarrow as pa

from groundswell.errors import UsageError
from groundswell.privacy._sql import platforms as _platforms
from groundswell.privacy._sql import rows as _rows
from groundswell.privacy.fields import (
    CLIENT_MIN_ACCOUNTS,
    LAYOUTS,
    NETWORK_HASHTAGS,
    NETWORK_LINKS,
    NETWORK_POSTS,
    NETWORK_USERS,
    RESULT_KEYS,
    Field,
    Layout,
)
from groundswell.privacy.policy import Policy, mark_private, privacy_header
from groundswell.privacy.pseudonyms import Pseudonymizer
from groundswell.privacy.withholding import PLACEHOLDERS, Tally, Withholder
from groundswell.store.duck import Store

__all__ = ["Shareable", "export_safely", "export_transform", "pseudonymize_network", "pseudonymize_result",
           "pseudonymize_table"]


def _default_platform(store: Any) -> str | None:
    if store is None:
        return None
    plats = _platforms(store)
    return plats[0] if len(plats) == 1 else None


def _truthy(v: Any) -> bool | None:
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v)


def _int(v: Any) -> int | None:
    if v is None or v == "":
        return None
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


class Shareable:
    """One shareable output: its policy, pseudonymizer, withholder and what it withheld.

    Every table, result and network of the output goes through one instance,
    so one person keeps one pseudonym and the notice counts everything
    withheld (:meth:`header`).
    """

    def __init__(self, store: Store | None, policy: Policy | None = None, *,
                 pseudonymizer: Pseudonymizer | None = None, judge: bool = True,
                 disclosures: set[tuple[str, str]] | None = None) -> None:
        if pseudonymizer is None:
            if store is None:
                raise UsageError("a shareable output needs a store or a pseudonymizer")
            pseudonymizer = Pseudonymizer(store, policy)
        self.store = store
        self.ps = pseudonymizer
        self.policy = policy if policy is not None else pseudonymizer.policy
        self.tally = Tally()
        self.withholder = Withholder(store, self.policy, pseudonymizer=pseudonymizer, judge=judge, tally=self.tally)
        self.known = disclosures or set()
        self.default_platform = _default_platform(store)
        self._clients: set[str] | None = None

    def header(self) -> dict[str, Any]:
        return privacy_header(self.policy, self.tally)

    def common_clients(self) -> set[str]:
        """Client apps used by at least :data:`CLIENT_MIN_ACCOUNTS` accounts of the store."""
        if self._clients is None:
            self._clients = set()
            if self.store is not None and hasattr(self.store, "con"):
                self._clients = {r[0] for r in _rows(self.store,
                    "SELECT source FROM posts WHERE source IS NOT NULL GROUP BY source "
                    "HAVING count(DISTINCT coalesce(author_id, lower(author_handle))) >= ?",
                    [CLIENT_MIN_ACCOUNTS])}
        return self._clients

    # ------------------------------------------------------------------ tables
    def table(self, table: pa.Table, layout: str | Layout = "posts", platform: str | None = None) -> pa.Table:
        """An Arrow table in ``layout`` as this output may show it (see :mod:`.fields`)."""
        lay = layout if isinstance(layout, Layout) else LAYOUTS[layout]
        pol, ps = self.policy, self.ps
        names = table.column_names
        n = table.num_rows
        col = {c: table.column(c).to_pylist() for c in names}
        if "platform" in names:
            plats: list[str | None] = col["platform"]
        else:
            plats = [platform or self.default_platform or ("twitter" if lay.name == "twarc-csv" else None)] * n

        def get(c: str | None) -> list[Any]:
            return col[c] if c is not None and c in col else [None] * n

        owner_ids, owner_handles = get(lay.owner_id), get(lay.owner_handle)
        verified = [_truthy(v) for v in get(lay.verified)]
        followers = [_int(v) for v in get(lay.followers)]
        owner_public = [ps.is_public(p, i, h, v, f) if (i is not None or h is not None) else False
                        for p, i, h, v, f in zip(plats, owner_ids, owner_handles, verified, followers)]
        if lay.name == "accounts":
            # every observation of an account shares the verdict of the account
            by_acc: dict[tuple[Any, Any], bool] = {}
            for p, i, pub in zip(plats, owner_ids, owner_public):
                by_acc[(p, i)] = by_acc.get((p, i), False) or pub
            owner_public = [by_acc[(p, i)] for p, i in zip(plats, owner_ids)]

        text_shown = self._texts(lay, col, plats, owner_public, n)
        out_cols: dict[str, pa.Array] = {}
        keep_raw = pol.identify and not pol.redact
        for c in names:
            f = lay.fields.get(c)
            if f is None:
                continue  # not declared: never in a shareable output
            vals = col[c]
            arr_type = table.schema.field(c).type
            if f.role == "raw":
                if keep_raw:
                    out_cols[c] = table.column(c)
                continue
            if f.role in ("none", "provenance"):
                out_cols[c] = table.column(c)
                continue
            if f.role == "text":
                out_cols[c] = pa.array(text_shown[c], arr_type)
                continue
            if f.role == "text_derived":
                shown = text_shown.get("__row__")
                new = [v if shown is None or shown[k] else None for k, v in enumerate(vals)]
                out_cols[c] = pa.array(new, arr_type)
                continue
            if pol.identify:
                out_cols[c] = table.column(c)
                continue
            new = self._column(lay, c, f, vals, plats, owner_public, owner_ids, col)
            out_cols[c] = pa.array(new, arr_type)
        return pa.table(out_cols) if out_cols else table.select([])

    def _column(self, lay: Layout, c: str, f: Field, vals: list[Any], plats: list[str | None],
                owner_public: list[bool], owner_ids: list[Any], col: dict[str, list[Any]]) -> list[Any]:
        ps = self.ps
        role = f.role
        if role in ("profile", "location"):
            return [v if pub else None for v, pub in zip(vals, owner_public)]
        if role == "client":
            common = self.common_clients()
            return [v if pub or v in common else None for v, pub in zip(vals, owner_public)]
        if role == "media":
            # twarc-csv writes {} for an attachment its page did not include: its key (the next
            # column) still says the kind
            keys = col.get("attachments.media_keys") if c == "attachments.media" else None
            return [_media_filled(v, f.encoding, keys[k] if keys else None) if pub
                    else _media_kind(v, f.encoding, keys[k] if keys else None)
                    for k, (v, pub) in enumerate(zip(vals, owner_public))]
        if role == "account":
            # the owner's id (wherever it stands) takes the owner's verdict; any other account its own
            def account(p: str | None, i: Any, pub: bool) -> Callable[[str], str]:
                return lambda s: ((s if pub else ps.label(p, s)) if s == i
                                  else (s if ps.is_public(p, s) else ps.label(p, s)))

            return [_map(v, f, account(p, i, pub)) for p, v, i, pub in zip(plats, vals, owner_ids, owner_public)]
        if role == "handle":
            if c == lay.owner_handle:
                return [None if h is None else (h if pub else ps.label(p, i, h))
                        for p, i, h, pub in zip(plats, owner_ids, vals, owner_public)]
            for p in set(plats):
                ps._resolve_handles(p, [s for v, q in zip(vals, plats) if q == p for s in _strings(v, f)])
            owner_h = col.get(lay.owner_handle or "", [None] * len(vals))

            def handle(p: str | None, i: Any, h: Any, pub: bool) -> Callable[[str], str]:
                return lambda s: ((s if pub else ps.label(p, i, s)) if h is not None and s.lower() == str(h).lower()
                                  else (s if ps.is_public(p, None, s) else ps.label(p, None, s)))

            return [_map(v, f, handle(p, i, h, pub))
                    for p, v, i, h, pub in zip(plats, vals, owner_ids, owner_h, owner_public)]
        if role == "post":
            if c == lay.own_post or f.own:
                def own_post(p: str | None, pub: bool) -> Callable[[str], str]:
                    return lambda s: s if pub else ps.post_label(p, s)

                return [_map(v, f, own_post(p, pub)) for p, v, pub in zip(plats, vals, owner_public)]
            # someone's post: public only when its author (in this table or the store) is
            authors = self._authors(lay, col, plats, [(p, s) for p, v in zip(plats, vals) for s in _strings(v, f)])

            def post(p: str | None) -> Callable[[str], str]:
                return lambda s: (s if (authors.get((p, s)) is not None and ps.is_public(p, authors[(p, s)]))
                                  else ps.post_label(p, s))

            return [_map(v, f, post(p)) for p, v in zip(plats, vals)]
        if role == "urls":
            ps.prefetch_links([s for v in vals for s in _strings(v, f)])
            return [_map(v, f, ps.link) for v in vals]
        if role == "query":
            def query(p: str | None) -> Callable[[str], str]:
                return lambda s: ps.query(s, p) or s

            return [_map(v, f, query(p), deep=True) for p, v in zip(plats, vals)]
        raise AssertionError(f"role {role!r} not handled")

    def _authors(self, lay: Layout, col: dict[str, list[Any]], plats: list[str | None],
                 want: list[tuple[Any, Any]]) -> dict[tuple[Any, Any], Any]:
        out: dict[tuple[Any, Any], Any] = {}
        if lay.own_post in col and lay.owner_id in col:
            for p, i, a in zip(plats, col[lay.own_post], col[lay.owner_id]):
                out[(p, i)] = a
        missing: dict[Any, list[str]] = {}
        for p, s in want:
            if (p, s) not in out:
                missing.setdefault(p, []).append(s)
        for p, ids in missing.items():
            self.ps.prefetch_post_authors(p, ids)
            for s in ids:
                out[(p, s)] = self.ps.post_author(p, s)
        return out

    def _texts(self, lay: Layout, col: dict[str, list[Any]], plats: list[str | None], owner_public: list[bool],
               n: int) -> dict[str, list[Any]]:
        """Each text column as shown (placeholders where withheld); '__row__' says which rows' text is shown."""
        out: dict[str, list[Any]] = {}
        texts_cols = [c for c in lay.columns("text") if c in col]
        if not texts_cols:
            return out
        ps = self.ps
        own = col.get(lay.own_post or "", [None] * n)
        reposts = col.get(lay.repost_of or "", [None] * n)
        reposted_by = col.get(lay.reposted_author or "", [None] * n)
        langs = col.get("lang", [None] * n)
        keys = list(zip(plats, own))
        originals = [(p, r) if r else None for p, r in zip(plats, reposts)]
        # a repost shows the original's words: the original author's rule
        text_public = list(owner_public)
        for p in set(plats):
            ps.prefetch_post_authors(p, [r for q, r in zip(plats, reposts) if q == p and r])
        for k, r in enumerate(reposts):
            if r:
                a = reposted_by[k] or ps.post_author(plats[k], r)
                text_public[k] = a is not None and ps.is_public(plats[k], a)
        row_shown = [True] * n
        for c in texts_cols:
            escaped = lay.fields[c].encoding == "escaped"
            raw = [(t.replace("\\n", "\n") if escaped and t else t) for t in col[c]]
            raw = [t if t != "" else None for t in raw] if escaped else raw
            reasons = self.withholder.decide(keys, raw, text_public, langs, originals, self.known)
            shown_idx = [k for k in range(n) if raw[k] is not None and reasons[k] is None]
            new: list[Any] = [PLACEHOLDERS[r] if r is not None else None for r in reasons]
            by_plat: dict[Any, list[int]] = {}
            for k in shown_idx:
                by_plat.setdefault(plats[k], []).append(k)
            for p, idx in by_plat.items():
                for k, t in zip(idx, ps.texts([raw[k] for k in idx], p)):
                    new[k] = t
            for k in range(n):
                if raw[k] is not None and reasons[k] is not None:
                    row_shown[k] = False
            if escaped:
                new = [("" if t is None else t.replace("\r", "").replace("\n", "\\n")) if col[c][k] is not None
                       else None for k, t in enumerate(new)]
            out[c] = new
        out["__row__"] = row_shown
        return out

    # ------------------------------------------------------------------ analysis results
    def result(self, result: Any) -> dict[str, Any]:
        """A JSON-able analysis result as this output may show it (the notice added as ``privacy``).

        Every dict carrying ``account_id``, ``author_id`` and/or ``handle`` is one
        account: for people who are not public figures they become the pseudonym,
        and the post ids beside them (``post_id``, ``join_post_id``) become post
        labels; a ``text`` beside them is shown only as withholding allows. A
        ``platform`` key gives the platform, else the store's only platform.
        """
        ps = self.ps
        default = self.default_platform
        acc_keys = [k for k, f in RESULT_KEYS.items() if f.role == "account"]
        post_keys = [k for k, f in RESULT_KEYS.items() if f.role == "post"]

        def fix(o: Any) -> Any:
            if isinstance(o, list):
                return [fix(x) for x in o]
            if not isinstance(o, dict):
                return o
            d = {k: fix(v) for k, v in o.items()}
            plat = d.get("platform") or default
            aid = next((d[k] for k in acc_keys if isinstance(d.get(k), str) and d.get(k)), None)
            handle = d.get("handle") if isinstance(d.get("handle"), str) else None
            public = False
            if aid or handle:
                info = ps.account(plat, aid, handle, d.get("verified"), d.get("followers"))
                public = not info["pseudonymous"]
                if info["pseudonymous"]:
                    for k in acc_keys + ["handle"]:
                        if d.get(k):
                            d[k] = info["label"]
            if not self.policy.identify:
                for k in post_keys:
                    v = d.get(k)
                    if isinstance(v, (str, int)) and not isinstance(v, bool):
                        mine = public if (aid or handle) else bool(
                            (a := ps.post_author(plat, str(v))) is not None and ps.is_public(plat, a))
                        if not mine:
                            d[k] = ps.post_label(plat, str(v))
            if isinstance(d.get("text"), str):
                pid = o.get("post_id") if isinstance(o.get("post_id"), str) else None
                reason = self.withholder.decide([(plat, pid)], [d["text"]], [public], [d.get("lang")])[0]
                d["text"] = PLACEHOLDERS[reason] if reason else ps.text(d["text"], plat)
            return d

        out = fix(result)
        return mark_private(out if isinstance(out, dict) else {"result": out}, self.policy, self.tally)

    # ------------------------------------------------------------------ networks
    def network(self, graph: Any, nodes: str) -> None:
        """Relabel a :class:`groundswell.analysis.network.Graph` in place for sharing.

        Account nodes (``users``) of people who are not public figures become
        their pseudonyms (key, ``handle`` and ``account_id``); post nodes
        (``posts``) by them become post labels. Node and link attributes the
        declaration does not know are dropped.
        """
        lay = {"users": NETWORK_USERS, "posts": NETWORK_POSTS, "tweets": NETWORK_POSTS}.get(nodes, NETWORK_HASHTAGS)
        ps = self.ps
        plat = self.default_platform

        def fn(key: str, attrs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
            attrs = {k: v for k, v in attrs.items() if k in lay.fields}
            if lay is NETWORK_HASHTAGS or self.policy.identify:
                return key, attrs
            info = ps.account(plat, attrs.get("account_id"), attrs.get("handle"))
            if not info["pseudonymous"]:
                return key, attrs
            new = dict(attrs)
            for k in ("handle", "account_id"):
                if k in new:
                    new[k] = info["label"]
            return (info["label"] if lay is NETWORK_USERS else ps.post_label(plat, key)), new

        graph.relabel(fn)
        for k, v in list(graph.links.items()):
            graph.links[k] = {a: b for a, b in v.items() if a in NETWORK_LINKS.fields}


def _strings(v: Any, f: Field) -> list[str]:
    if v is None:
        return []
    if f.encoding == "list":
        return [x for x in v if isinstance(x, str)]
    if f.encoding == "json":
        try:
            d = json.loads(v) if isinstance(v, str) else v
        except ValueError:
            return []
        return [x[len(f.prefix):] if f.prefix and x.startswith(f.prefix) else x
                for x in (d if isinstance(d, list) else []) if isinstance(x, str)]
    return [v] if isinstance(v, str) else []


def _map(v: Any, f: Field, fn: Callable[[str], str], deep: bool = False) -> Any:
    """Apply ``fn`` to the strings of one cell in the field's encoding."""
    if v is None:
        return None
    if f.encoding == "list":
        return [fn(x) if isinstance(x, str) else x for x in v]
    if f.encoding == "json":
        try:
            d = json.loads(v) if isinstance(v, str) else v
        except ValueError:
            return None  # unreadable: nothing can be said about whom it names

        def walk(x: Any) -> Any:
            if isinstance(x, str):
                if f.prefix and x.startswith(f.prefix):
                    return f.prefix + fn(x[len(f.prefix):])
                return fn(x)
            if isinstance(x, list):
                return [walk(y) for y in x]
            if isinstance(x, dict) and deep:
                return {k: walk(y) for k, y in x.items()}
            return x

        return json.dumps(walk(d))
    return fn(v) if isinstance(v, str) else v


def _kind(media: dict[str, Any]) -> str:
    """The kind of one media object: its ``type``, else what its key's prefix says (a page that did
    not include the object: twarc-csv writes ``{}``), else 'unknown'; never an empty object."""
    t = media.get("type")
    if isinstance(t, str) and t:
        return t
    key = media.get("media_key")
    if isinstance(key, str) and "_" in key:
        from groundswell.formats.twitter_v2 import media_type

        return media_type(key)
    return "unknown"


def _keys_for(d: list[Any], keys: Any) -> list[Any]:
    try:
        ks = json.loads(keys) if isinstance(keys, str) and keys else []
    except ValueError:
        ks = []
    return ks if isinstance(ks, list) and len(ks) == len(d) else [None] * len(d)


def _media_filled(v: Any, encoding: str, keys: Any = None) -> Any:
    """A public figure's media as they are, except that an attachment the page did not include
    (twarc-csv's ``{}``) says its key and kind."""
    if encoding != "json" or not isinstance(v, str) or "{}" not in v:
        return v
    try:
        d = json.loads(v)
    except ValueError:
        return v
    if not isinstance(d, list) or not all(isinstance(x, dict) for x in d):
        return v
    out = []
    for x, k in zip(d, _keys_for(d, keys)):
        if not x and isinstance(k, str):
            x = {"media_key": k, "type": _kind({"media_key": k})}
        elif not x:
            x = {"type": "unknown"}
        out.append(x)
    return json.dumps(out)


def _media_kind(v: Any, encoding: str, keys: Any = None) -> Any:
    """Media of a private person: the kind of each attachment, no address or key (``keys``: the
    row's media keys, JSON, in the attachments' order, for objects that lack their type)."""
    if v is None:
        return None
    if encoding == "list":
        return [x.split(":", 1)[0] if isinstance(x, str) else None for x in v]
    if encoding == "json":
        try:
            d = json.loads(v) if isinstance(v, str) else v
        except ValueError:
            return None
        if isinstance(d, list) and all(isinstance(x, dict) for x in d):
            ks = _keys_for(d, keys)
            return json.dumps([{"type": _kind(x if x.get("media_key") or not isinstance(k, str)
                                             else {**x, "media_key": k})} for x, k in zip(d, ks)]) if d else v
        return None
    return None


# ---------------------------------------------------------------------- the functional API

def pseudonymize_table(store: Store | None, table: pa.Table, policy: Policy | None = None, *,
                       pseudonymizer: Pseudonymizer | None = None, kind: str | None = None,
                       layout: str | Layout | None = None, platform: str | None = None,
                       disclosures: set[tuple[str, str]] | None = None,
                       output: Shareable | None = None) -> pa.Table:
    """An Arrow table as a shareable output may show it (:meth:`Shareable.table`).

    ``layout`` (or ``kind``: 'posts', 'accounts', 'deletions', 'twarc-csv', …,
    see :data:`.fields.LAYOUTS`; default 'posts') says what each column holds.
    Account ids and handles of people who are not public figures become
    pseudonyms; post ids by such people become ``post-…`` labels; their
    profile, place and media addresses are left out; links naming them are
    rewritten; ``raw`` is dropped; text is shown only as withholding allows,
    with mentions and links rewritten, and redacted. With ``policy.identify``
    only withholding and redaction apply.
    """
    sh = output or Shareable(store, policy, pseudonymizer=pseudonymizer, disclosures=disclosures)
    return sh.table(table, layout or kind or "posts", platform)


def pseudonymize_result(store: Store, result: Any, policy: Policy) -> dict[str, Any]:
    """A JSON-able analysis result (``analyze``) as a shareable output may show it (:meth:`Shareable.result`)."""
    return Shareable(store, policy).result(result)


def pseudonymize_network(store: Store, graph: Any, policy: Policy, nodes: str) -> None:
    """Relabel a network in place for sharing (:meth:`Shareable.network`)."""
    Shareable(store, policy).network(graph, nodes)


def export_transform(store: Store, policy: Policy, output: Shareable | None = None
                     ) -> Callable[[pa.Table, str], pa.Table]:
    """The per-batch transform a shareable export applies (see :func:`export_safely`)."""
    sh = output or Shareable(store, policy)

    def transform(t: pa.Table, layout: str) -> pa.Table:
        return sh.table(t, layout, "twitter" if layout == "twarc-csv" else None)

    return transform


def export_safely(store: Store, fmt: str, output: str, *, table: str = "posts", platform: str | None = None,
                  include_referenced: bool = False, raw: bool = False, identify: bool = False,
                  redact: bool | None = None, show_disclosure_text: bool = False, private: bool = False,
                  policy: Policy | None = None, log: IO[str] | None = None) -> int:
    """:func:`groundswell.export.export`, pseudonymous and redacted unless asked otherwise.

    Every batch goes through :class:`Shareable` (pseudonyms for people who are
    not public figures, links rewritten, text withheld unless judged, redacted,
    no ``raw``), in the same columns as the plain export (twarc-csv's 84 for
    Twitter CSV). ``identify=True`` with ``redact=False`` and
    ``show_disclosure_text`` with ``private`` is the plain export. The
    privacy notice, with what was withheld, goes to ``log`` (stderr by
    default) once the export is written. Returns the rows written.
    """
    from groundswell import export as ex

    pol = policy or Policy.from_store(store, identify=identify, redact=redact,
                                      show_disclosure_text=show_disclosure_text, private=private)
    log = sys.stderr if log is None else log
    plain = pol.identify and not pol.redact and pol.show_disclosure_text and pol.private
    sh = None if plain else Shareable(store, pol)
    notes: list[str] = []
    n = ex.export(store, fmt, output, table=table, platform=platform, include_referenced=include_referenced,
                  raw=raw, transform=None if sh is None else export_transform(store, pol, sh), notes=notes)
    for note in notes:
        print(f"note: {note}", file=log)
    header = sh.header() if sh is not None else privacy_header(pol)
    print(f"privacy: {header['notice']}", file=log)
    return n
