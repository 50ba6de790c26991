"""Conversations: the reply threads a movement takes part in, tag or no tag.

The movement (``gs_movement``, see :mod:`.scope`) holds the posts carrying its
hashtags. Most of what people write back does not repeat the hashtag: the
"me too" replies under a call to action, the questions under a rumour. The
movement's *conversation* is every reply thread the movement takes part in:

* ``above``: walking up ``reply_to_id`` from each movement reply, through
  posts without the hashtag, to the thread's root (a post that replies to
  nothing, or whose parent the store does not hold); an ancestor that also
  descends from a movement post counts here (``ancestors.below_a_movement_post``
  says how many);
* ``below``: every other reply in the store that descends from a movement
  post, tag or no tag (a reply to a reply to a movement post is in, even if
  neither carries the hashtag);
* ``thread``: every other reply descending from one of those ancestors (the
  untagged replies beside the tagged ones under a root without the hashtag);
* ``movement``: the movement's own replies.

:func:`conversation` materializes it once per scope as the temporary table
``gs_conversation``: one row per reply (``platform``, ``id``, ``reply_to_id``,
``created_at``, ``in_movement``, ``via``), so its rows are exactly the edges of
the reply trees, and the roots are the ``reply_to_id`` values that are not
rows themselves. Replies below the movement must fall in the scope's window
(as the movement's posts do); ancestors are taken whatever their time, as the
context of a movement reply.

The movement's posts are the rows of ``scope.table``, whatever put them
there (so the walk serves any set of seed posts). Both walks are bounded
loops of joins, one level a step and at most :data:`MAX_HOPS` each
way (no recursive SQL, so they run on any engine): the walk up joins the
current frontier (the parents not yet seen) with the posts that something
replies to (``gs_conv_parents``, read from ``posts`` once); the walk down
joins the previous level with the store's replies outside the movement
(``gs_conv_candidates``), so each step costs one pass over those replies,
never over the movement or the store. ``posts`` is read twice in all: for
its replies (``gs_conv_replies``) and for the posts they answer. The levels below are kept as separate
temporary tables and joined into ``gs_conversation`` once at the end (the
ancestors, usually few, are re-made each hop up). Which ancestors descend
from a movement post is found by a third loop, down the ancestors alone.
When a cap stops a walk, ``walk.truncated`` says how many posts were left
unwalked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from groundswell.analysis import sql
from groundswell.analysis.scope import Scope

MAX_HOPS = 200
TABLE = "gs_conversation"


def _reply(a: str) -> str:
    """A reply (of the table aliased ``a``): a repost answers nothing, whatever its record says."""
    return f"{a}reply_to_id IS NOT NULL AND coalesce({a}kind, '') <> 'repost'"


# Every reply in the store, and what they reply to.
REPLIES_SQL = f"""
SELECT p.platform, p.id, p.reply_to_id, p.created_at FROM posts p WHERE {_reply("p.")}
"""

REPLIED_SQL = "SELECT DISTINCT platform, reply_to_id AS id FROM {replies}"

# The posts something replies to: every post the walk up can meet (read from ``posts`` once, so a
# deep thread costs one pass over the store, not one per level).
PARENTS_SQL = f"""
SELECT p.platform, p.id, CASE WHEN {_reply("p.")} THEN p.reply_to_id END AS reply_to_id, p.created_at
FROM posts p JOIN {{replied}} r ON r.platform = p.platform AND r.id = p.id
"""

# The movement's posts the walks can meet: its replies, and the posts something in the store replies
# to. Every later step joins this table instead of the whole movement (most of whose posts, reposts
# above all, nothing answers).
KEYS_SQL = f"""
SELECT m.platform, m.id, m.reply_to_id, m.created_at,
       CASE WHEN {_reply("m.")} THEN true ELSE false END AS is_reply
FROM {{mv}} m LEFT JOIN {{replied}} r ON r.platform = m.platform AND r.id = m.id
WHERE {_reply("m.")} OR r.id IS NOT NULL
"""

# The first frontier: the posts the movement's replies answer, other than the movement's own posts.
UP_FRONT_SQL = """
SELECT DISTINCT m.platform, m.reply_to_id AS id FROM {mv} m
LEFT JOIN {mv} x ON x.platform = m.platform AND x.id = m.reply_to_id
WHERE m.is_reply AND x.id IS NULL
"""

# One level up: the frontier looked up in the posts replied to (kept when the store does not hold
# it: a root known only by its id). ``under``: its parent is a movement post (the walk stops there).
# (The parents found in the movement are joined as their own step, so the engine builds its hash
# table on the few posts of this level, not on the movement.)
UP_STEP_SQL = """
WITH s AS (SELECT f.platform, f.id, p.reply_to_id, p.created_at,
                  CASE WHEN p.id IS NULL THEN false ELSE true END AS stored
           FROM {front} f LEFT JOIN {parents} p ON p.platform = f.platform AND p.id = f.id),
w AS (SELECT DISTINCT s.platform, s.id FROM s JOIN {mv} x ON x.platform = s.platform AND x.id = s.reply_to_id)
SELECT s.platform, s.id, s.reply_to_id, s.created_at, s.stored,
       CASE WHEN w.id IS NULL THEN false ELSE true END AS under, {hop} AS hop
FROM s LEFT JOIN w ON w.platform = s.platform AND w.id = s.id
"""

# The next frontier: the parents of this level not yet seen on the way up, other than movement posts.
UP_NEXT_SQL = """
SELECT DISTINCT s.platform, s.reply_to_id AS id FROM {step} s
LEFT JOIN {up} u ON u.platform = s.platform AND u.id = s.reply_to_id
WHERE s.reply_to_id IS NOT NULL AND NOT s.under AND u.id IS NULL
"""

# Spark (4.x) cannot checkpoint a union whose later branches are bare checkpointed tables made by
# joins (its constraint rewriting looks for the join's other columns: "key not found"); a branch that
# projects a literal column is fine. Every union of intermediate tables here does so.
UP_UNION_SQL = """
SELECT * FROM {up}
UNION ALL SELECT platform, id, reply_to_id, created_at, stored, under, {hop} AS hop FROM {step}
"""

# Ancestors that also descend from a movement post (a tagged post, an untagged reply, a tagged reply
# to it): found level by level down the ancestors from those whose parent is a movement post.
UNDER_FIRST_SQL = "SELECT platform, id, 0 AS hop FROM {up} WHERE under"

UNDER_STEP_SQL = """
SELECT u.platform, u.id, {hop} AS hop
FROM {up} u JOIN {prev} p ON p.platform = u.platform AND p.id = u.reply_to_id
WHERE NOT u.under
"""

UNDER_MARK_SQL = """
SELECT u.platform, u.id, u.reply_to_id, u.created_at, u.stored,
       CASE WHEN w.id IS NULL THEN false ELSE true END AS under, u.hop
FROM {up} u LEFT JOIN {under} w ON w.platform = u.platform AND w.id = u.id
"""

# Replies that could hang below the movement: in the window, neither movement posts nor ancestors
# (those are rows already), reposts excluded. A reply has one parent, so a reply found below can
# never be met again: no step needs to look back at earlier levels.
CANDIDATES_SQL = """
SELECT p.platform, p.id, p.reply_to_id, p.created_at FROM {replies} p
LEFT JOIN {up} u ON u.platform = p.platform AND u.id = p.id
LEFT JOIN {mv} x ON x.platform = p.platform AND x.id = p.id
WHERE p.created_at IS NOT NULL AND {window} AND u.id IS NULL AND x.id IS NULL
"""

# The first level down: replies to a movement post or to an ancestor; ``below``: under a movement post.
DOWN_FIRST_SQL = """
SELECT c.platform, c.id, c.reply_to_id, c.created_at, true AS below, 1 AS hop
FROM {cand} c JOIN {mv} m ON m.platform = c.platform AND m.id = c.reply_to_id
UNION ALL
SELECT c.platform, c.id, c.reply_to_id, c.created_at, u.under AS below, 1 AS hop
FROM {cand} c JOIN {up} u ON u.platform = c.platform AND u.id = c.reply_to_id
"""

DOWN_STEP_SQL = """
SELECT c.platform, c.id, c.reply_to_id, c.created_at, f.below, {hop} AS hop
FROM {cand} c JOIN {prev} f ON f.platform = c.platform AND f.id = c.reply_to_id
"""

CONVERSATION_SQL = """
SELECT platform, id, reply_to_id, created_at, true AS in_movement, 'movement' AS via
FROM {mv} WHERE is_reply
UNION ALL
SELECT platform, id, reply_to_id, created_at, false AS in_movement, 'above' AS via
FROM {up} WHERE reply_to_id IS NOT NULL
"""

DOWN_PART_SQL = """
SELECT platform, id, reply_to_id, created_at, false AS in_movement,
       CASE WHEN below THEN 'below' ELSE 'thread' END AS via FROM {level}
"""

UP_COUNTS_SQL = """
SELECT count(*) AS ancestors,
       sum(CASE WHEN stored AND reply_to_id IS NULL THEN 1 ELSE 0 END) AS roots,
       sum(CASE WHEN stored THEN 0 ELSE 1 END) AS not_in_store,
       sum(CASE WHEN under THEN 1 ELSE 0 END) AS under
FROM {up}
"""

VIA_COUNTS_SQL = "SELECT via, count(*) AS n FROM {conv} GROUP BY via"

# Replies whose parent is a movement post: what the platform's reply counters on those posts count.
DIRECT_SQL = """
SELECT count(*) AS n FROM {conv} c JOIN {mv} m ON m.platform = c.platform AND m.id = c.reply_to_id
"""

VIAS = ("movement", "below", "thread", "above")


@dataclass
class Conversation:
    """The materialized conversation of one scope and what the walk found."""

    table: sql.Raw
    replies: dict[str, int] = field(default_factory=dict)  # per ``via``
    ancestors: dict[str, int] = field(default_factory=dict)
    hops: dict[str, int] = field(default_factory=dict)
    truncated: dict[str, int] = field(default_factory=dict)
    direct: int = 0  # replies, tagged or not, whose parent is a movement post

    @property
    def tagged(self) -> int:
        return self.replies.get("movement", 0)

    @property
    def untagged(self) -> int:
        return sum(v for k, v in self.replies.items() if k != "movement")

    def describe(self) -> dict[str, Any]:
        """The counts, JSON-ready, each named for what it counts."""
        return {
            "replies": {"total": self.tagged + self.untagged, "tagged": self.tagged, "untagged": self.untagged},
            "untagged": {"below_a_movement_post": self.replies.get("below", 0),
                         "elsewhere_in_its_threads": self.replies.get("thread", 0),
                         "above_a_movement_post": self.replies.get("above", 0)},
            "ancestors": dict(self.ancestors),
            "walk": {"hops_up": self.hops.get("up", 0), "hops_down": self.hops.get("down", 0),
                     "max_hops": MAX_HOPS, "truncated": dict(self.truncated)},
        }


def _count(store: Any, table: str) -> int:
    return int(sql.scalar(store, f"SELECT count(*) AS n FROM {table}") or 0)


def _walk_up(store: Any, mv: sql.Raw, parents: sql.Raw) -> tuple[int, int]:
    """Materialize ``gs_conv_up``, the movement replies' ancestors outside the movement;
    -> (hops, posts left on the frontier when the cap stopped the walk)."""
    front, step, up = sql.Raw("gs_conv_front"), sql.Raw("gs_conv_step"), sql.Raw("gs_conv_up")
    sql.materialize(store, front.sql, UP_FRONT_SQL, mv=mv)
    # the first level is the ancestors table itself (even when empty: a table made by a join, as
    # Spark mishandles a union with an empty relation)
    sql.materialize(store, up.sql, UP_STEP_SQL, front=front, mv=mv, parents=parents, hop=1)
    hops = 1 if _count(store, up.sql) else 0
    sql.materialize(store, front.sql, UP_NEXT_SQL, step=up, up=up)
    left = 0
    while True:
        n = _count(store, front.sql)
        if n == 0:
            break
        if hops == MAX_HOPS:
            left = n
            break
        hops += 1
        sql.materialize(store, step.sql, UP_STEP_SQL, front=front, mv=mv, parents=parents, hop=hops)
        sql.materialize(store, "gs_conv_up_next", UP_UNION_SQL, up=up, step=step, hop=hops)
        sql.materialize(store, up.sql, "SELECT * FROM gs_conv_up_next")
        sql.materialize(store, front.sql, UP_NEXT_SQL, step=step, up=up)
    for name in ("gs_conv_front", "gs_conv_step", "gs_conv_up_next"):
        sql.drop(store, name)
    if hops:
        _mark_under(store)
    return hops, left


def _mark_under(store: Any) -> None:
    """Mark the ancestors that descend from a movement post (``under``), level by level down from
    those whose parent is one; the levels are at most as many as the hops up."""
    up = sql.Raw("gs_conv_up")
    levels = ["gs_conv_under_0"]
    sql.materialize(store, levels[0], UNDER_FIRST_SQL, up=up)
    if not _count(store, levels[0]):
        sql.drop(store, levels[0])
        return
    while len(levels) <= MAX_HOPS:
        name = f"gs_conv_under_{len(levels)}"
        sql.materialize(store, name, UNDER_STEP_SQL, up=up, prev=sql.Raw(levels[-1]), hop=len(levels))
        if not _count(store, name):
            sql.drop(store, name)
            break
        levels.append(name)
    sql.materialize(store, "gs_conv_under", " UNION ALL ".join(f"SELECT platform, id, {k} AS hop FROM {lv}"
                                                                for k, lv in enumerate(levels)))
    sql.materialize(store, "gs_conv_up_next", UNDER_MARK_SQL, up=up, under=sql.Raw("gs_conv_under"))
    sql.materialize(store, "gs_conv_up", "SELECT * FROM gs_conv_up_next")
    for name in levels + ["gs_conv_under", "gs_conv_up_next"]:
        sql.drop(store, name)


def _walk_down(store: Any, scope: Scope, mv: sql.Raw, replies: sql.Raw) -> tuple[list[str], int]:
    """Materialize one table per level below the movement and its ancestors;
    -> (the level tables, posts on the last level when the cap stopped the walk)."""
    up = sql.Raw("gs_conv_up")
    cand = sql.materialize(store, "gs_conv_candidates", CANDIDATES_SQL, up=up, mv=mv, replies=replies,
                           window=scope.window_sql("p.created_at"))
    levels: list[str] = []
    left = 0
    try:
        name = "gs_conv_down_1"
        sql.materialize(store, name, DOWN_FIRST_SQL, cand=cand, mv=mv, up=up)
        while _count(store, name):
            levels.append(name)
            if len(levels) == MAX_HOPS:
                left = _count(store, name)
                break
            name = f"gs_conv_down_{len(levels) + 1}"
            sql.materialize(store, name, DOWN_STEP_SQL, cand=cand, prev=sql.Raw(levels[-1]),
                            hop=len(levels) + 1)
        else:
            sql.drop(store, name)
        if left:  # the cap: are there replies below the last level?
            sql.materialize(store, "gs_conv_probe", DOWN_STEP_SQL, cand=cand, prev=sql.Raw(levels[-1]),
                            hop=len(levels) + 1)
            left = _count(store, "gs_conv_probe")
            sql.drop(store, "gs_conv_probe")
    finally:
        sql.drop(store, "gs_conv_candidates")
    return levels, left


def conversation(store: Any, scope: Scope) -> Conversation:
    """The movement's conversation, materialized as ``gs_conversation`` (once per scope)."""
    cached = getattr(scope, "_gs_conversation", None)
    if isinstance(cached, Conversation):
        return cached
    replies = sql.materialize(store, "gs_conv_replies", REPLIES_SQL)
    replied = sql.materialize(store, "gs_conv_replied", REPLIED_SQL, replies=replies)
    mv = sql.materialize(store, "gs_conv_mv", KEYS_SQL, mv=scope.table, replied=replied)
    parents = sql.materialize(store, "gs_conv_parents", PARENTS_SQL, replied=replied)
    sql.drop(store, replied.sql)
    levels: list[str] = []
    try:
        up_hops, up_left = _walk_up(store, mv, parents)
        sql.drop(store, parents.sql)
        levels, down_left = _walk_down(store, scope, mv, replies)
        sql.drop(store, replies.sql)
        query = CONVERSATION_SQL + "".join(
            "UNION ALL" + DOWN_PART_SQL.replace("{level}", lv) for lv in levels)
        table = sql.materialize(store, TABLE, query, mv=mv, up=sql.Raw("gs_conv_up"))
        up_counts = sql.rows(store, UP_COUNTS_SQL, up=sql.Raw("gs_conv_up"))[0]
        direct = int(sql.scalar(store, DIRECT_SQL, conv=table, mv=mv) or 0)
    finally:
        for name in levels + ["gs_conv_up", mv.sql, parents.sql, replies.sql]:
            sql.drop(store, name)
    via = {r["via"]: int(r["n"]) for r in sql.rows(store, VIA_COUNTS_SQL, conv=table)}
    conv = Conversation(
        table=table,
        replies={k: via.get(k, 0) for k in VIAS},
        ancestors={"posts": int(up_counts["ancestors"] or 0), "roots": int(up_counts["roots"] or 0),
                   "not_in_store": int(up_counts["not_in_store"] or 0),
                   "below_a_movement_post": int(up_counts["under"] or 0)},
        hops={"up": up_hops, "down": len(levels)},
        truncated={"up": up_left, "down": down_left},
        direct=direct,
    )
    scope._gs_conversation = conv
    return conv
