"""The movement as a self-exciting point process over the follower graph.

Model
-----
Posts arrive as a multivariate Hawkes process in its branching (cluster)
form (Hawkes & Oakes 1974): *immigrants* arrive from outside at rates that
vary in time, and every post has *offspring*, drawn when it is made.

* Immigrants: background chatter (other hashtags, a diurnal Poisson rate over
  the whole window); before the onset a trickle of posts already using the
  hashtag; at the onset the call to action by the seed account (with or without
  the hashtag, ``call_has_hashtag``); after it, movement posts at a rate that
  rises over 4 hours and decays as ``1 / (1 + t / 6h)``, with a bump at each
  news wave (``exp(-t / 12h)``), drawn from the origin community at first and
  from the other communities with probability ``1 - exp(-t / 1.5 days)``;
  notable accounts posting their own at join times spread over days
  (``2h * 2.3**k``), news accounts at each wave, and the coordinated group's
  leader every ~8 hours.
* Offspring: each follower of the author of a post (or of a repost of it) sees
  it and independently reposts, replies, quotes, or posts their own with the
  hashtag ("adopts") with probability ``p = branching / F`` split 62/14/6/18
  (background: 0.45/F, 60/30/10/0), where ``F`` is the mean follower count of a
  random follower, so the mean offspring per post is ``branching`` (< 1:
  subcritical). Replies expose their followers with weight 0.3. The seed's
  call to action draws ``call_reposts`` x the reposts, ``call_replies`` x the
  replies, ``call_quotes`` x the quotes and ``call_adopts`` x the adoptions
  of an ordinary post (defaults 12, 25, 1, 1; the shapes of
  :mod:`.shapes` draw each from a wide range), notables and news posts
  ``notable_boost`` x the reposts and replies. Replies carry the hashtag with
  probability ``reply_hashtag_share`` (other movement posts 0.93).
* Mentions and links: a post (not a repost) mentions one of the ``decoys``
  (steadily mentioned accounts: brands, platforms) with probability
  ``decoy_mention_share``, before and after the onset alike; a movement post
  after the onset mentions the call's author with probability
  ``call_mention_share`` and links to the call with ``call_link_share``. These
  draws come from a generator of their own, so they leave the movement as it was.
  Because the chance of being engaged scales with followers and follower
  counts are heavy-tailed, cascade sizes are heavy-tailed too, and
  their structural virality (Goel et al. 2016) ranges from broadcasts (one
  big hub) to deep chains.
* Delays after the post seen are log-normal (medians: repost 30 min, reply
  20 min, quote 45 min, adoption 3 h; sigma 1.3-1.6; at least 1 s), the
  heavy-tailed response times seen in real cascades; the coordinated group
  reposts its leader within 2-40 seconds.
* A retweet of a retweet is recorded by the platform as a retweet of the
  original; the truth keeps both the platform's parent and the post actually
  seen (``true_parent``) and the account it was seen from.

Rates are scaled so the expected number of posts by the end of ``days`` is
10% above ``posts``; the run stops at exactly ``posts`` posts (or goes on past
the window if the process fell short, which is rare). Events are produced in
time order from a calendar queue of scheduled posts (:class:`_Queue`: a list
per minute of simulated time, only the current minute's kept as a heap), so
the cost of scheduling does not grow with the number of posts in flight, and
memory holds only the posts in flight: those scheduled and not yet written,
and written ones that still have scheduled children (or, for a deletion, only
its id and times). Their number grows with the posts per hour (``posts /
days``), not with the length of the run.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import numpy as np

from groundswell.simulate.config import COMMUNITIES, SimConfig
from groundswell.simulate.network import Network
from groundswell.simulate.texts import CHATTER_TAGS, compose

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# child kinds: (share, exposure weight of the child, lognormal median s, sigma)
_MOVE = {"repost": 0.62, "reply": 0.14, "quote": 0.06, "adopt": 0.18}
_BG = {"repost": 0.60, "reply": 0.30, "quote": 0.10, "adopt": 0.0}
_DELAY = {"repost": (1800.0, 1.6), "reply": (1200.0, 1.5), "quote": (2700.0, 1.5), "adopt": (10800.0, 1.3)}
# measured: movement trees come out ~0.8 of the mean-field size (an account
# reposts a post once, and the follower graph has overlapping neighbourhoods)
_MOVE_EFF = 0.8
_EXPOSE = {"original": 1.0, "quote": 1.0, "repost": 1.0, "reply": 0.3}


class Post:
    """One simulated post (or a scheduled one, until it is emitted)."""

    __slots__ = (
        "i", "kind", "t", "author", "parent", "seen", "topic", "origin", "label",
        "first_time", "text", "tags", "lang", "n_repost", "n_reply", "n_quote",
        "n_like", "deleted_at", "coord", "id", "conv", "cascade", "depth", "x", "frag",
        "mentions", "link", "collected",
    )

    def __init__(self, kind: str, t: int, author: int, topic: str, origin: str,
                 parent: Post | None = None, seen: Post | None = None) -> None:
        self.i = -1
        self.kind = kind  # original, repost, reply, quote
        self.t = t  # ms since the epoch
        self.author = author
        self.parent = parent  # the platform's parent: reposted / replied-to / quoted post
        self.seen = seen  # the post actually seen (for reposts, maybe a repost)
        self.topic = topic  # movement or background
        self.origin = origin  # background, baseline, exogenous, seed, notable, wave, coordinated, child
        self.label = "other"
        self.first_time = False
        self.text = ""
        self.tags: list[tuple[str, int, int]] = _NO_TAGS
        self.lang = "en"
        self.n_repost = self.n_reply = self.n_quote = self.n_like = 0
        self.deleted_at: int | None = None
        self.coord = False
        self.id = ""
        self.conv = ""
        self.cascade = ""
        self.depth = 0
        self.x: object = None  # writer-specific extra (e.g. mastodon's numeric id)
        self.frag: object = None  # the writer's serialized form, reused when embedded
        self.mentions: tuple[int, ...] = ()  # accounts mentioned in the text (beyond a reply's parent)
        self.link: Post | None = None  # a post linked in the text by its URL (not a quote)
        self.collected = True  # whether the collection kept it (written to the files)


_NO_TAGS: list[tuple[str, int, int]] = []  # shared, never mutated (compose returns new lists)


class Delete:
    """A post's deletion at ``t``: only what the writers and the truth need of the
    post (its id, creation time and author), so the post itself is not kept."""

    __slots__ = ("id", "created", "author", "t", "collected")

    def __init__(self, post: Post, t: int) -> None:
        self.id = post.id
        self.created = post.t
        self.author = post.author
        self.t = t
        self.collected = post.collected  # a deletion is seen only for a post in the collection


_BUCKET_MS = 60_000


class _Queue:
    """Scheduled items in ``(t, seq)`` order: a list per minute of simulated time,
    and the current minute's items as a heap (a calendar queue, Brown 1988).

    A push is an append (or a push onto the small current heap); a pop works on
    that one minute's heap, so neither slows down, or walks memory, as the
    number of items in flight grows (a single heap of them all did both).
    """

    __slots__ = ("cur", "near", "far", "keys", "n")

    def __init__(self) -> None:
        self.cur = -1 << 62
        self.near: list[tuple[int, int, object]] = []
        self.far: dict[int, list[tuple[int, int, object]]] = {}
        self.keys: list[int] = []  # heap of the minutes in ``far``
        self.n = 0

    def push(self, item: tuple[int, int, object]) -> None:
        self.n += 1
        b = item[0] // _BUCKET_MS
        if b <= self.cur:
            heapq.heappush(self.near, item)
            return
        lst = self.far.get(b)
        if lst is None:
            self.far[b] = lst = []
            heapq.heappush(self.keys, b)
        lst.append(item)

    def pop(self) -> tuple[int, int, object]:
        near = self.near
        while not near:
            b = heapq.heappop(self.keys)  # IndexError when empty, like heappop
            self.cur = b
            near = self.near = self.far.pop(b)
            heapq.heapify(near)
        self.n -= 1
        return heapq.heappop(near)

    def __len__(self) -> int:
        return self.n


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


class Simulation:
    """Generates the movement's posts and deletions in time order."""

    def __init__(self, cfg: SimConfig, net: Network) -> None:
        self.cfg = cfg
        self.net = net
        self.rnd = random.Random(cfg.seed * 7919 + 17)
        self.gen = np.random.default_rng([cfg.seed, 2])
        self.xrnd = random.Random(cfg.seed * 7919 + 29)  # mentions and links only
        self.start = _ms(cfg.start_dt)
        self.onset = _ms(cfg.onset_dt)
        self.end = _ms(cfg.start_dt + timedelta(days=cfg.days))
        self.queue = _Queue()
        self._seq = 0
        self.hashtag = cfg.hashtag
        self.tag_fold = cfg.hashtag.casefold()
        self.fbar = max(1.0, net.mean_follower_followers())
        self.p_move = cfg.branching / self.fbar
        self.p_bg = 0.45 / self.fbar
        self.coord_members = set(net.coordinated[1:])
        self.joined = np.full(net.n, -1, dtype=np.int64)  # first hashtag post from the onset on
        self.notable_set = set(net.notables)
        self.call_mult = {"repost": cfg.call_reposts, "reply": cfg.call_replies, "quote": cfg.call_quotes,
                          "adopt": cfg.call_adopts}
        self.notable_mult = {"repost": cfg.notable_boost, "reply": cfg.notable_boost, "quote": 1.0, "adopt": 1.0}
        self.decoys = net.decoys(cfg.decoys)
        self.decoy_mentions = [0] * len(self.decoys)
        self.seed_post: Post | None = None
        self.waves: list[int] = []
        self.notable_plan: dict[int, int] = {}
        self._plan()

    # ---- scheduling -------------------------------------------------------

    def _push(self, t: int, obj: object) -> None:
        self._seq += 1
        self.queue.push((t, self._seq, obj))

    @staticmethod
    def _q(shares: dict[str, float], branching: float) -> float:
        """Expected subtree size of a typical offspring (a follower of someone)."""
        w = sum(s * _EXPOSE["reply" if k == "reply" else "original"] for k, s in shares.items())
        return 1.0 / (1.0 - branching * w)

    def _expected_tree(self, author: int, mult: dict[str, float]) -> float:
        direct: float = (sum(min(0.5, self.p_move * _MOVE[k] * m) for k, m in mult.items())
                         * self.net.n_followers[author])
        return (1.0 + direct * self.q_move) * _MOVE_EFF

    def _plan(self) -> None:
        cfg, net, rnd = self.cfg, self.net, self.rnd
        margin = 1.10
        span_h = max(1, math.ceil((self.end - self.start) / HOUR_MS))
        # immigrants are picked by activity, which goes with followers
        f_act = float((net.activity * net.n_followers).sum() / max(1e-9, net.activity.sum()))
        self.q_move = self._q(_MOVE, cfg.branching)
        e_bg = 1.0 + self.p_bg * f_act * self._q(_BG, 0.45)
        e_move = (1.0 + self.p_move * f_act * self.q_move) * _MOVE_EFF
        self.bg_per_hour = cfg.background_share * cfg.posts * margin / e_bg / span_h
        move_budget = (1 - cfg.background_share) * cfg.posts * margin

        # the call to action
        seed = Post("original", self.onset, net.seed_account, "movement", "seed")
        self.seed_post = seed
        self._push(seed.t, seed)
        move_budget -= self._expected_tree(net.seed_account, self.call_mult)

        # notables join over days (the seed is notables[0])
        for k, a in enumerate(net.notables[1:]):
            t = self.onset + int(2 * HOUR_MS * (2.3 ** k) * rnd.uniform(0.7, 1.3))
            self.notable_plan[a] = t
            if t < self.end:
                self._push(t, Post("original", t, a, "movement", "notable"))
                move_budget -= self._expected_tree(a, self.notable_mult)

        # news waves: a news account posts, and the exogenous rate bumps
        news = [int(a) for a in net.community_members[1][np.argsort(-net.n_followers[net.community_members[1]])]]
        news = [a for a in news if a not in self.notable_set and a not in self.coord_members] or [net.seed_account]
        for k in range(cfg.waves):
            t = self.onset + int((self.end - self.onset) * (k + 1) / (cfg.waves + 1.5)) + DAY_MS // 3
            t = min(t, self.end - HOUR_MS)
            if t <= self.onset:
                continue
            self.waves.append(t)
            a = news[k % len(news)]
            self._push(t, Post("original", t, a, "movement", "wave"))
            move_budget -= self._expected_tree(a, self.notable_mult)

        # the coordinated group's leader, every ~8 hours from half a day after the onset
        if net.coordinated:
            lead = net.coordinated[0]
            t = self.onset + DAY_MS // 2
            while t < self.end:
                self._push(t, Post("original", t, lead, "movement", "coordinated"))
                move_budget -= 1 + len(net.coordinated) - 1
                t += int(8 * HOUR_MS * rnd.uniform(0.6, 1.4))

        # the hashtag before the onset
        n_base = max(3, int(0.002 * cfg.posts))
        for _ in range(n_base):
            t = rnd.randrange(self.start, max(self.start + 1, self.onset - HOUR_MS))
            self._push(t, Post("original", t, self._pick_any(), "movement", "baseline"))
        move_budget -= n_base * e_move

        # exogenous movement posts: shape normalised over the window
        hours = np.arange(self.onset // HOUR_MS, self.end // HOUR_MS + 1)
        shape = np.array([self._shape(h * HOUR_MS + HOUR_MS // 2) for h in hours.tolist()])
        self.exo_norm = max(0.0, move_budget) / e_move / max(1e-9, shape.sum())
        self._push(self.start - self.start % HOUR_MS, "tick")

    def _shape(self, t: int) -> float:
        if t < self.onset:
            return 0.0
        dt_h = (t - self.onset) / HOUR_MS
        s = (1 - math.exp(-dt_h / self.cfg.ramp_hours)) / (1 + dt_h / self.cfg.decay_hours)
        for w in self.waves:
            if t > w:
                s += 0.6 * math.exp(-(t - w) / (12.0 * HOUR_MS)) / (1 + (w - self.onset) / (6.0 * HOUR_MS)) * 3
        return s * self._diurnal(t)

    @staticmethod
    def _diurnal(t: int) -> float:
        h = (t % DAY_MS) / HOUR_MS
        return 1.0 + 0.45 * math.sin(2 * math.pi * (h - 9.0) / 24.0)

    def _pick_any(self) -> int:
        return int(self.net.pick_any(self.gen, 1)[0])

    def _tick(self, t: int) -> None:
        """Schedule the immigrants of the hour starting at ``t``."""
        net, gen = self.net, self.gen
        mid = t + HOUR_MS // 2
        k_bg = int(gen.poisson(self.bg_per_hour * self._diurnal(mid)))
        if k_bg:
            times = np.sort(gen.integers(t, t + HOUR_MS, k_bg))
            authors = net.pick_any(gen, k_bg)
            for tt, a in zip(times.tolist(), authors.tolist()):
                self._push(tt, Post("original", tt, a, "background", "background"))
        lam = self.exo_norm * self._shape(mid)
        k_mv = int(gen.poisson(lam)) if lam > 0 else 0
        if k_mv:
            origin = [c[0] for c in COMMUNITIES].index(self.cfg.origin)
            p_home = max(0.15, math.exp(-(mid - self.onset) / (1.5 * DAY_MS)))
            times = np.sort(gen.integers(t, t + HOUR_MS, k_mv))
            for tt in times.tolist():
                if self.rnd.random() < p_home:
                    c = origin
                else:
                    c = self.rnd.randrange(len(COMMUNITIES))
                if len(net.community_members[c]) == 0:
                    c = origin
                a = int(net.pick_in_community(gen, c, 1)[0])
                self._push(tt, Post("original", tt, a, "movement", "exogenous"))
        self._push(t + HOUR_MS, "tick")

    # ---- making a post ------------------------------------------------------

    def _materialize(self, p: Post) -> None:
        """Give a source post its label and text, and draw its offspring."""
        cfg, rnd, net = self.cfg, self.rnd, self.net
        p.lang = net.lang[p.author]
        tags: list[str] = []
        if p.topic == "background":
            p.label = "other"
            kind = "chatter"
            if rnd.random() < 0.5:
                tags.append(rnd.choice(CHATTER_TAGS[COMMUNITIES[net.community[p.author]][0]]))
        else:
            if p.origin == "seed":
                p.label, kind = "support", "call"
            elif p.origin == "wave":
                p.label, kind = "news", "news"
            elif p.origin == "coordinated":
                p.label, kind = "opposition", "opposition"
            elif p.origin == "notable":
                p.label = kind = "support" if rnd.random() < 0.5 else "disclosure"
            else:
                p.label = kind = self._label()
            if p.label == "disclosure" and rnd.random() < cfg.first_time_share:
                p.first_time = True
                kind = "first_time"
            if p.origin == "seed":
                has_tag = cfg.call_has_hashtag
            elif p.origin in ("notable", "wave", "coordinated", "baseline"):
                has_tag = True
            else:
                has_tag = rnd.random() < (cfg.reply_hashtag_share if p.kind == "reply" else 0.93)
            if has_tag:
                u = rnd.random()
                tags.append(self.hashtag if u < 0.85 else self.hashtag.lower() if u < 0.95 else self.hashtag.upper())
            if cfg.related_hashtag and p.t > self.onset:
                x = (p.t - self.onset - 2 * DAY_MS) / (12 * HOUR_MS)
                if rnd.random() < 0.35 / (1 + math.exp(-x)):
                    tags.append(cfg.related_hashtag)
        p.text, p.tags = compose(rnd, p.lang, kind, tags, tags_first=rnd.random() < 0.2)
        p.conv = p.parent.conv if p.kind == "reply" and p.parent is not None else p.id
        self._refer(p)
        self._engage(p)
        if cfg.deletions > 0 and p.origin != "seed" and rnd.random() < cfg.deletions:
            p.deleted_at = self._last_child + int(rnd.lognormvariate(math.log(DAY_MS), 1.0))

    def _refer(self, p: Post) -> None:
        """Mentions of decoys and of the call's author, links to the call (own generator)."""
        cfg, x = self.cfg, self.xrnd
        mentions: list[int] = []
        if self.decoys and x.random() < cfg.decoy_mention_share:
            k = x.randrange(len(self.decoys))
            if self.decoys[k] != p.author:
                mentions.append(self.decoys[k])
                self.decoy_mentions[k] += 1
        call = self.seed_post
        if p.topic == "movement" and p.origin in ("exogenous", "child") and call is not None and p.t > call.t:
            if x.random() < cfg.call_mention_share and call.author != p.author and call.author not in mentions:
                mentions.append(call.author)
            if x.random() < cfg.call_link_share and p.parent is not call:
                p.link = call
        if mentions:
            p.mentions = tuple(mentions)

    def _label(self) -> str:
        u = self.rnd.random()
        acc = 0.0
        for name, share in self.cfg.label_shares.items():
            acc += share
            if u < acc:
                return name
        return "other"

    def _engage(self, x: Post) -> None:
        """Draw everything that ``x`` (and its reposts) set off, with times."""
        net, rnd, gen = self.net, self.rnd, self.gen
        move = x.topic == "movement"
        shares = _MOVE if move else _BG
        base = self.p_move if move else self.p_bg
        c_rep = shares["repost"]
        c_reply = c_rep + shares["reply"]
        c_quote = c_reply + shares["quote"]
        mult = self.call_mult if x.origin == "seed" else self.notable_mult if x.origin in ("notable", "wave") else None
        nodes = [x]
        reposters = {x.author}
        indptr, followers = net.indptr, net.followers
        last = x.t
        j = 0
        while j < len(nodes):
            v = nodes[j]
            j += 1
            u = v.author
            lo = int(indptr[u])
            f = int(indptr[u + 1]) - lo
            if f == 0:
                continue
            p = base * _EXPOSE[v.kind]
            if j == 1 and mult is not None:
                # the call (and notables' posts) draw each kind of response at its own multiple
                kinds = []
                for kind in ("repost", "reply", "quote", "adopt"):
                    kinds += [kind] * int(gen.binomial(f, min(0.5, p * shares[kind] * mult[kind])))
            else:
                k = int(gen.binomial(f, min(1.0, p)))
                if k == 0:
                    continue
                kinds = []
                for _ in range(k):
                    r = rnd.random()
                    kinds.append("repost" if r < c_rep else "reply" if r < c_reply
                                 else "quote" if r < c_quote else "adopt")
            for kind in kinds:
                a = int(followers[lo + rnd.randrange(f)])
                med, sig = _DELAY[kind]
                t = v.t + max(1000, int(1000 * rnd.lognormvariate(math.log(med), sig)))
                if kind == "repost":
                    if a in reposters or a in self.coord_members:
                        continue
                    reposters.add(a)
                    c = Post("repost", t, a, x.topic, "child", parent=x, seen=v)
                    x.n_repost += 1
                    nodes.append(c)
                elif kind == "adopt":
                    c = Post("original", t, a, x.topic, "child", seen=v)
                else:
                    c = Post(kind, t, a, x.topic, "child", parent=x, seen=v)
                    if kind == "reply":
                        x.n_reply += 1
                    else:
                        x.n_quote += 1
                if t > last:
                    last = t
                self._push(t, c)
        if x.origin == "coordinated":
            for a in self.net.coordinated[1:]:
                t = x.t + 2000 + rnd.randrange(38_000)
                c = Post("repost", t, a, x.topic, "child", parent=x, seen=x)
                c.coord = True
                x.n_repost += 1
                last = max(last, t)
                self._push(t, c)
        x.n_like = (x.n_repost * rnd.randint(1, 4) + x.n_reply // 2
                    + int(gen.poisson(0.3 + 0.002 * net.n_followers[x.author])))
        self._last_child = last

    # ---- the stream ---------------------------------------------------------

    def events(self, assign_id: Callable[[Post], None],
               keep: Callable[[Post], bool] | None = None) -> Iterator[Post | Delete]:
        """Posts and deletions in time order, ``posts`` posts in all.

        ``assign_id`` gives each post its platform id as it is made (before its
        offspring are drawn, since they refer to it). ``keep`` decides whether
        the collection keeps a post (``Post.collected``; a deletion of a post
        not kept carries ``collected`` False).
        """
        n = 0
        queue = self.queue
        while queue.n and n < self.cfg.posts:
            t, _, obj = queue.pop()
            if obj == "tick":
                self._tick(t)
                continue
            if isinstance(obj, Delete):
                yield obj
                continue
            p: Post = obj  # type: ignore[assignment]
            p.i = n
            n += 1
            assign_id(p)
            if p.kind != "repost":
                self._materialize(p)
            seen = p.seen
            p.cascade = seen.cascade if seen is not None else p.id
            p.depth = seen.depth + 1 if seen is not None else 0
            if p.kind == "repost":
                x = p.parent
                assert x is not None
                p.label, p.first_time, p.text, p.tags, p.lang = x.label, x.first_time, x.text, x.tags, x.lang
                p.mentions, p.link = x.mentions, x.link
            if keep is not None:
                p.collected = keep(p)
            if p.deleted_at is not None:
                self._push(p.deleted_at, Delete(p, p.deleted_at))
            if p.t >= self.onset and p.topic == "movement" and self.joined[p.author] < 0 and any(
                tg[0].casefold() == self.tag_fold for tg in p.tags
            ):
                self.joined[p.author] = p.t
            yield p
