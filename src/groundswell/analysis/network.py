"""Networks for Gephi and friends: users, posts or hashtags as nodes.

Built as DocNow's twarc-network builds them (``twarc_network/__init__.py``),
so the node and link counts match it on the same data:

* ``users``: a directed link from a post's author to the author of each post
  it reposts, replies to or quotes (only when that post and its author are
  known: deleted references are skipped), and to each account it mentions
  (a repost's leading ``RT @name`` mention is not counted twice). Nodes are
  handles; a link carries ``weight`` and a count per link type.
* ``posts``: a link from each post to each post it references (type kept).
* ``hashtags``: a link for every ordered pair of hashtags (case-folded, with
  ``#``) on one post, ``weight`` = posts.

Only posts read in full are sources (not those seen only embedded in other
records). Weakly connected components smaller than ``min_component_size`` or
larger than ``max_component_size`` are dropped. Writers: node-link JSON
(``nodes``, ``links``), CSV edge list, GEXF 1.2 (namespace
``http://www.gexf.net/1.2draft``, as the schema declares it; Gephi and
``networkx.read_gexf`` read it) and GraphML.
"""

from __future__ import annotations

import csv
import io
import json
from itertools import combinations
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

from groundswell.analysis import sql
from groundswell.analysis.scope import normalize_tags
from groundswell.errors import UsageError

EDGE_TYPES = ("repost", "reply", "quote", "mention")
NODE_TYPES = ("users", "posts", "hashtags")
_ALIASES = {"retweet": "repost", "tweets": "posts", "reblog": "repost"}

REFS_SQL = """
SELECT d.id, d.author_handle AS src, d.author_id AS src_id, d.created_at, l.type,
       r.id AS target_id, r.author_handle AS dst, r.author_id AS dst_id
FROM posts d
JOIN (SELECT platform, id, 'repost' AS type, repost_of_id AS target FROM posts WHERE repost_of_id IS NOT NULL
      UNION ALL SELECT platform, id, 'reply', reply_to_id FROM posts WHERE reply_to_id IS NOT NULL
      UNION ALL SELECT platform, id, 'quote', quote_of_id FROM posts WHERE quote_of_id IS NOT NULL) l
  ON l.platform = d.platform AND l.id = d.id
JOIN posts r ON r.platform = l.platform AND r.id = l.target
WHERE NOT d.is_reference AND d.author_handle IS NOT NULL AND r.author_handle IS NOT NULL
  AND l.type IN {types} AND {filter}
ORDER BY d.created_at, d.id
"""

MENTIONS_SQL = """
SELECT d.author_handle AS src, d.author_id AS src_id, d.created_at, d.mentions, d.mention_ids,
       CASE WHEN d.kind = 'repost' AND d.text LIKE 'RT @%' THEN true ELSE false END AS rt
FROM posts d WHERE NOT d.is_reference AND d.author_handle IS NOT NULL AND {filter}
  AND d.id IN (SELECT id FROM (SELECT id, unnest(mentions) AS m FROM posts) x)
ORDER BY d.created_at, d.id
"""

TAGS_SQL = """
SELECT d.created_at, d.hashtags FROM posts d
WHERE NOT d.is_reference AND {filter}
  AND d.id IN (SELECT id FROM (SELECT id, unnest(hashtags) AS h FROM posts) x)
ORDER BY d.created_at, d.id
"""


def _when(t: Any) -> str | None:
    return sql.iso(t)


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.links: dict[tuple[str, str], dict[str, Any]] = {}

    def node(self, key: str, **attrs: Any) -> None:
        n = self.nodes.setdefault(key, {})
        for k, v in attrs.items():
            if v is not None and (k != "start_date" or k not in n):
                n.setdefault(k, v)

    def relabel(self, fn: Any) -> None:
        """Rename nodes: ``fn(key, attrs) -> (new_key, new_attrs)`` (pseudonyms for shareable output)."""
        mapping: dict[str, str] = {}
        nodes: dict[str, dict[str, Any]] = {}
        for k, v in self.nodes.items():
            nk, nv = fn(k, v)
            mapping[k] = nk
            nodes[nk] = nv
        self.nodes = nodes
        self.links = {(mapping[a], mapping[b]): v for (a, b), v in self.links.items()}

    def keep(self, keys: set[str]) -> None:
        self.nodes = {k: v for k, v in self.nodes.items() if k in keys}
        self.links = {e: v for e, v in self.links.items() if e[0] in keys and e[1] in keys}


def _filter(hashtag: Any) -> sql.Raw:
    if not hashtag:
        return sql.Raw("true")
    tags = sql.in_list(normalize_tags(hashtag))
    return sql.Raw(f"d.id IN (SELECT id FROM (SELECT id, unnest(hashtags) AS h FROM posts) f WHERE h IN {tags})")


def build_network(store: Any, nodes: str = "users", edges: Any = EDGE_TYPES, hashtag: Any = None,
                  min_component_size: int | None = None, max_component_size: int | None = None) -> Graph:
    """The network of ``nodes`` (users, posts, hashtags) linked by ``edges`` (module doc).

    Misuse is a :class:`UsageError`, never an empty graph: no edge type, edge
    types with hashtag nodes (they are linked by sharing a post), a hashtag no
    post carries, component sizes below 1 or a minimum above the maximum.
    """
    nodes = _ALIASES.get(nodes, nodes)
    if nodes not in NODE_TYPES:
        raise UsageError(f"--nodes must be one of {', '.join(NODE_TYPES)}")
    if isinstance(edges, str):
        edges = edges.split(",")
    types: list[str] = []
    for e in edges:
        if not e.strip():
            continue
        e = _ALIASES.get(e.strip(), e.strip())
        if e not in EDGE_TYPES:
            raise UsageError(f"--edges takes {', '.join(EDGE_TYPES)} (comma-separated), not {e!r}")
        if e not in types:
            types.append(e)
    if not types:
        raise UsageError(f"--edges names no link type: give some of {', '.join(EDGE_TYPES)} "
                         "(comma-separated), or leave it out for all")
    if nodes == "hashtags" and set(types) != set(EDGE_TYPES):
        raise UsageError("--nodes hashtags links two hashtags when one post carries both; "
                         "--edges does not apply to it: leave --edges out")
    for name, v in (("--min-component-size", min_component_size), ("--max-component-size", max_component_size)):
        if v is not None and v < 1:
            raise UsageError(f"{name} must be at least 1, not {v}")
    if min_component_size and max_component_size and min_component_size > max_component_size:
        raise UsageError(f"--min-component-size {min_component_size} is above --max-component-size "
                         f"{max_component_size}: no component could be kept")
    if hashtag:
        tags = normalize_tags(hashtag)
        found = sql.scalar(store, "SELECT count(*) FROM post_hashtags WHERE hashtag IN {tags}",
                           tags=sql.Raw(sql.in_list(tags)))
        if not found:
            raise UsageError(f"no post carries {', '.join('#' + t for t in tags)}: see "
                             "'groundswell hashtags' for the hashtags in the store")
    g = Graph()
    flt = _filter(hashtag)
    if nodes in ("users", "posts"):
        link_types = [t for t in types if t != "mention"]
        if link_types:
            for r in sql.rows(store, REFS_SQL, types=sql.Raw(sql.in_list(link_types)), filter=flt):
                when = _when(r["created_at"])
                if nodes == "users":
                    _user_edge(g, types, r["src"], r["src_id"], r["dst"], r["dst_id"], r["type"], when)
                else:
                    g.node(r["id"], handle=r["src"], account_id=r["src_id"], start_date=when)
                    g.node(r["target_id"], handle=r["dst"], account_id=r["dst_id"], start_date=when)
                    g.links[(r["id"], r["target_id"])] = {"type": r["type"]}
        if nodes == "users" and "mention" in types:
            for r in sql.rows(store, MENTIONS_SQL, filter=flt):
                ms = list(r["mentions"] or [])
                ids = list(r["mention_ids"] or [])
                ids = ids if len(ids) == len(ms) else [None] * len(ms)
                if r["rt"] and ms:
                    ms, ids = ms[1:], ids[1:]
                when = _when(r["created_at"])
                for m, mid in zip(ms, ids):
                    _user_edge(g, types, r["src"], r["src_id"], m, mid, "mention", when)
    else:
        for r in sql.rows(store, TAGS_SQL, filter=flt):
            when = _when(r["created_at"])
            for a, b in combinations(r["hashtags"] or [], 2):
                a, b = "#" + a, "#" + b
                g.node(a, start_date=when)
                g.node(b, start_date=when)
                lk = g.links.setdefault((a, b), {"weight": 0})
                lk["weight"] += 1
    if min_component_size or max_component_size:
        _filter_components(g, min_component_size, max_component_size)
    return g


def _user_edge(g: Graph, types: list[str], src: str, src_id: Any, dst: str, dst_id: Any, kind: str,
               when: str | None) -> None:
    g.node(src, handle=src, account_id=src_id, start_date=when)
    g.node(dst, handle=dst, account_id=dst_id, start_date=when)
    lk = g.links.setdefault((src, dst), {"weight": 0, **{t: 0 for t in types}})
    lk["weight"] += 1
    lk[kind] += 1


def _filter_components(g: Graph, lo: int | None, hi: int | None) -> None:
    import igraph as ig

    names = list(g.nodes)
    idx = {n: i for i, n in enumerate(names)}
    ig_g = ig.Graph(n=len(names), edges=[(idx[a], idx[b]) for a, b in g.links], directed=True)
    keep: set[str] = set()
    for comp in ig_g.connected_components(mode="weak"):
        if lo and len(comp) < lo:
            continue
        if hi and len(comp) > hi:
            continue
        keep.update(names[i] for i in comp)
    g.keep(keep)


def node_link(g: Graph) -> dict[str, Any]:
    return {"directed": True,
            "nodes": [{"id": k, **v} for k, v in g.nodes.items()],
            "links": [{"source": a, "target": b, **v} for (a, b), v in g.links.items()]}


def _attr_keys(items: Any) -> list[str]:
    keys: list[str] = []
    for v in items:
        for k in v:
            if k not in keys:
                keys.append(k)
    return keys


def write_network(g: Graph, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(node_link(g), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        keys = _attr_keys(g.links.values())
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["source", "target", *keys])
        for (a, b), v in g.links.items():
            w.writerow([a, b, *[v.get(k, "") for k in keys]])
    elif fmt == "gexf":
        out.write(_gexf(g))
    elif fmt == "graphml":
        out.write(_graphml(g))
    else:
        raise UsageError("--format must be json, csv, gexf or graphml")


def _typ(keys: list[str], items: Any) -> dict[str, str]:
    t = {}
    for k in keys:
        vals = [v[k] for v in items if v.get(k) is not None]
        t[k] = "long" if vals and all(isinstance(x, int) and not isinstance(x, bool) for x in vals) else "string"
    return t


def _gexf(g: Graph) -> str:
    nk, lk = _attr_keys(g.nodes.values()), _attr_keys(g.links.values())
    nt, lt = _typ(nk, g.nodes.values()), _typ(lk, g.links.values())
    b = io.StringIO()
    b.write('<?xml version="1.0" encoding="UTF-8"?>\n<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
            '<graph defaultedgetype="directed" mode="static">\n<attributes class="node">\n')
    for i, k in enumerate(nk):
        b.write(f'<attribute id="{i}" title={quoteattr(k)} type="{nt[k]}"/>\n')
    b.write('</attributes>\n<attributes class="edge">\n')
    for i, k in enumerate(lk):
        b.write(f'<attribute id="{i}" title={quoteattr(k)} type="{lt[k]}"/>\n')
    b.write("</attributes>\n<nodes>\n")
    for n, v in g.nodes.items():
        b.write(f"<node id={quoteattr(n)} label={quoteattr(n)}><attvalues>")
        for i, k in enumerate(nk):
            if v.get(k) is not None:
                b.write(f'<attvalue for="{i}" value={quoteattr(str(v[k]))}/>')
        b.write("</attvalues></node>\n")
    b.write("</nodes>\n<edges>\n")
    for j, ((s, t), v) in enumerate(g.links.items()):
        wt = f' weight="{v["weight"]}"' if "weight" in v else ""
        b.write(f'<edge id="{j}" source={quoteattr(s)} target={quoteattr(t)}{wt}><attvalues>')
        for i, k in enumerate(lk):
            if v.get(k) is not None:
                b.write(f'<attvalue for="{i}" value={quoteattr(str(v[k]))}/>')
        b.write("</attvalues></edge>\n")
    b.write("</edges>\n</graph>\n</gexf>\n")
    return b.getvalue()


def _graphml(g: Graph) -> str:
    nk, lk = _attr_keys(g.nodes.values()), _attr_keys(g.links.values())
    nt, lt = _typ(nk, g.nodes.values()), _typ(lk, g.links.values())
    b = io.StringIO()
    b.write('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
    for i, k in enumerate(nk):
        b.write(f'<key id="n{i}" for="node" attr.name={quoteattr(k)} attr.type="{nt[k]}"/>\n')
    for i, k in enumerate(lk):
        b.write(f'<key id="e{i}" for="edge" attr.name={quoteattr(k)} attr.type="{lt[k]}"/>\n')
    b.write('<graph edgedefault="directed">\n')
    for n, v in g.nodes.items():
        b.write(f"<node id={quoteattr(n)}>")
        for i, k in enumerate(nk):
            if v.get(k) is not None:
                b.write(f'<data key="n{i}">{escape(str(v[k]))}</data>')
        b.write("</node>\n")
    for (s, t), v in g.links.items():
        b.write(f"<edge source={quoteattr(s)} target={quoteattr(t)}>")
        for i, k in enumerate(lk):
            if v.get(k) is not None:
                b.write(f'<data key="e{i}">{escape(str(v[k]))}</data>')
        b.write("</edge>\n")
    b.write("</graph>\n</graphml>\n")
    return b.getvalue()
