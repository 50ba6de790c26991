"""The synthetic social network the movement spreads over.

Accounts belong to communities (:data:`config.COMMUNITIES`); each has an
attractiveness drawn from a Pareto law (tail index 1.2), and follows a
log-normally distributed number of accounts (median 18), 88% of them inside
its own community, picked with probability proportional to attractiveness.
That is preferential attachment in one shot (a fitness model, Caldarelli et
al. 2002), and gives the heavy-tailed follower counts seen on real platforms.
Notable accounts (verified, the most attractive) are placed inside and outside
the origin community; the coordinated group all follow their leader.

The follower graph is kept as CSR arrays: the followers of account ``a`` are
``followers[indptr[a]:indptr[a + 1]]``. A post by ``a`` is seen by exactly
these accounts, so every engagement the simulator draws comes from one of
them (and the ground truth can say whom each repost was seen from).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from groundswell.simulate.config import COMMUNITIES, SimConfig

_ADJ = (
    "quiet", "bright", "wild", "small", "brave", "amber", "silver", "north", "lucky", "salt",
    "sunny", "misty", "rapid", "cosmic", "velvet", "urban", "lunar", "coral", "iron", "maple",
)
_NOUN = (
    "fern", "river", "fox", "owl", "harbor", "pine", "comet", "lark", "stone", "meadow",
    "tide", "ember", "finch", "cedar", "moth", "brook", "otter", "reed", "wren", "dune",
)
_FIRST = (
    "Ada", "Bea", "Cleo", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kit", "Lena",
    "Mo", "Nia", "Oren", "Pia", "Quin", "Rosa", "Sol", "Tess", "Uma", "Vic", "Wes", "Yara", "Zoe",
)
_LAST = (
    "Arden", "Brooks", "Castell", "Dray", "Ellery", "Fenn", "Garza", "Holm", "Ivers", "Jarvik",
    "Kellan", "Lowe", "Marsh", "Noor", "Okafor", "Pell", "Quarry", "Rook", "Sato", "Thorne",
)


@dataclass
class Network:
    n: int
    community: np.ndarray  # int8, index into COMMUNITIES
    lang: list[str]  # per account
    country: list[str]
    indptr: np.ndarray  # int64, n + 1
    followers: np.ndarray  # int32, CSR of followers by followed account
    n_followers: np.ndarray  # int64
    n_following: np.ndarray  # int64
    activity: np.ndarray  # float64, how often an account posts
    created_ms: np.ndarray  # int64, account creation (ms since epoch), strictly increasing
    verified: np.ndarray  # bool
    notables: list[int]  # the seed (call to action) first, then the others by join order (by followers)
    seed_account: int
    coordinated: list[int]  # leader first
    community_members: list[np.ndarray]
    community_cumact: list[np.ndarray]  # cumulative activity inside each community
    all_cumact: np.ndarray

    def handle(self, a: int) -> str:
        """A short handle (<= 15 chars), unique because it ends in the account number."""
        return f"{_ADJ[(a * 7 + 3) % 20]}{_NOUN[(a * 13 + 5) % 20]}{a}"

    def display_name(self, a: int) -> str:
        return f"{_FIRST[(a * 11 + 1) % 25]} {_LAST[(a * 17 + 2) % 20]}"

    def follower_count(self, a: int) -> int:
        return int(self.n_followers[a])

    def follows(self, follower: int, followed: int) -> bool:
        seg = self.followers[self.indptr[followed] : self.indptr[followed + 1]]
        i = np.searchsorted(seg, follower)
        return bool(i < len(seg) and seg[i] == follower)

    def pick_in_community(self, rng: np.random.Generator, c: int, k: int) -> np.ndarray:
        cum = self.community_cumact[c]
        idx = np.searchsorted(cum, rng.random(k) * cum[-1], side="right")
        picked: np.ndarray = self.community_members[c][np.minimum(idx, len(cum) - 1)]
        return picked

    def pick_any(self, rng: np.random.Generator, k: int) -> np.ndarray:
        cum = self.all_cumact
        idx = np.searchsorted(cum, rng.random(k) * cum[-1], side="right")
        picked: np.ndarray = np.minimum(idx, self.n - 1)
        return picked

    def decoys(self, k: int) -> list[int]:
        """``k`` accounts that everyone mentions now and then (brands, the platform's own accounts):
        the most followed accounts that are neither notables nor in the coordinated group."""
        if k <= 0:
            return []
        skip = set(self.notables) | set(self.coordinated)
        order = np.argsort(-self.n_followers, kind="stable")
        return [int(a) for a in order if int(a) not in skip][:k]

    def mean_follower_followers(self) -> float:
        """Mean follower count of a random follower: the offspring multiplier."""
        if len(self.followers) == 0:
            return 1.0
        return float(self.n_followers[self.followers].mean())


def _lang_country(community: np.ndarray, u: np.ndarray) -> tuple[list[str], list[str]]:
    """Each account's (lang, country), drawn from its community's options with ``u``."""
    langs: list[str] = []
    countries: list[str] = []
    pick = np.zeros(len(community), dtype=np.int64)
    base = 0
    for c, (_, _, opts) in enumerate(COMMUNITIES):
        cum = np.cumsum([o[2] for o in opts])
        sel = community == c
        pick[sel] = base + np.minimum(np.searchsorted(cum, u[sel], side="right"), len(opts) - 1)
        langs.extend(o[0] for o in opts)
        countries.extend(o[1] for o in opts)
        base += len(opts)
    return (np.array(langs, dtype=object)[pick].tolist(), np.array(countries, dtype=object)[pick].tolist())


_EDGE_CHUNK = 1 << 21  # follow edges drawn per step: bounds the build's temporaries


def build_network(cfg: SimConfig, rng: np.random.Generator) -> Network:
    """Draw the network. Memory: the CSR arrays (4 bytes a follow, ~60 bytes an
    account) plus the sorted follow keys (8 bytes a follow) while it is built;
    the edges are drawn in chunks of ``_EDGE_CHUNK``."""
    n = cfg.n_accounts
    shares = np.array([c[1] for c in COMMUNITIES])
    shares = shares / shares.sum()
    community = np.sort(rng.choice(len(COMMUNITIES), size=n, p=shares)).astype(np.int8)
    rng.shuffle(community)
    origin = [c[0] for c in COMMUNITIES].index(cfg.origin)
    lang, country = _lang_country(community, rng.random(n))

    attract = (rng.pareto(1.2, n) + 1.0)
    activity = rng.lognormal(0.0, 1.0, n) * (0.5 + 0.5 * np.log1p(attract))

    # notable accounts: the most attractive, some inside the origin community
    n_notable = min(cfg.notables, max(1, n // 20))
    order = np.argsort(-attract, kind="stable")
    in_origin = community[order] == origin
    k_in = max(1, (2 * n_notable + 2) // 3)
    inside = order[in_origin][:k_in].tolist()
    outside = order[~in_origin][: n_notable - len(inside)].tolist()
    notables = inside + outside
    top = float(attract.max())
    for rank, a in enumerate(notables):
        attract[a] = top * (1.5 - 0.08 * rank)  # inflated: they have big followings
    # the call to action comes from the origin community's notable of rank ``seed_rank`` (0: the
    # most followed); it is listed first, the others keep their order
    seed_account = inside[min(cfg.seed_rank, len(inside) - 1)]
    notables = [seed_account] + [a for a in notables if a != seed_account]

    # coordinated group: a leader and members, outside the notables
    coordinated: list[int] = []
    if cfg.coordinated > 0:
        perm = rng.permutation(n)
        coordinated = perm[~np.isin(perm, notables)][: cfg.coordinated + 1].tolist()

    # who follows whom: each follow is a key followed * n + follower (int64), drawn in chunks
    m = np.clip(np.rint(rng.lognormal(np.log(18.0), 0.9, n)), 1, max(1, n // 4)).astype(np.int64)
    members = [np.flatnonzero(community == c) for c in range(len(COMMUNITIES))]
    cum_attract = [np.cumsum(attract[mem]) if len(mem) else None for mem in members]
    ends = np.cumsum(m)
    keys: list[np.ndarray] = []
    a0 = 0
    while a0 < n:
        a1 = int(np.searchsorted(ends, (ends[a0 - 1] if a0 else 0) + _EDGE_CHUNK, side="right"))
        a1 = max(a1, a0 + 1)
        src = np.repeat(np.arange(a0, a1, dtype=np.int64), m[a0:a1])
        same = rng.random(len(src)) < 0.88
        tgt_comm = np.where(same, community[src], rng.choice(len(COMMUNITIES), size=len(src), p=shares).astype(np.int8))
        del same
        dst = src.copy()  # an empty community: self-loops, dropped below
        for c, mem in enumerate(members):
            sel = np.flatnonzero(tgt_comm == c)
            cum = cum_attract[c]  # None for an empty community
            if len(sel) == 0 or cum is None:
                continue
            idx = np.searchsorted(cum, rng.random(len(sel)) * cum[-1], side="right")
            dst[sel] = mem[np.minimum(idx, len(mem) - 1)]
        del tgt_comm
        keep = src != dst
        keys.append(dst[keep] * n + src[keep])
        del src, dst, keep
        a0 = a1
    if coordinated:
        lead = coordinated[0]
        keys.append(lead * n + np.array(coordinated[1:], dtype=np.int64))
    key = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    del keys
    key.sort()  # by followed account, then follower
    if len(key):
        dup = np.empty(len(key), dtype=bool)
        dup[0] = False
        np.equal(key[1:], key[:-1], out=dup[1:])
        if dup.any():
            key = key[~dup]
        del dup
    followers = np.empty(len(key), dtype=np.int32)
    for lo in range(0, len(key), _EDGE_CHUNK):
        followers[lo:lo + _EDGE_CHUNK] = key[lo:lo + _EDGE_CHUNK] % n
    indptr = np.searchsorted(key, np.arange(n + 1, dtype=np.int64) * n).astype(np.int64)
    del key
    n_followers = np.diff(indptr)
    n_following = np.bincount(followers, minlength=n).astype(np.int64)

    # accounts created 2008..2017, strictly increasing in ms (ids derive from it)
    t0, t1 = 1_200_000_000_000, 1_500_000_000_000
    created_ms = np.sort(rng.integers(t0, t1, n)) + np.arange(n, dtype=np.int64)
    rng.shuffle(created_ms)  # account numbers carry no age order
    verified = np.zeros(n, dtype=bool)
    verified[notables] = True
    verified[order[: max(1, n // 200)]] = True

    cumact = [np.cumsum(activity[mem]) if len(mem) else np.zeros(1) for mem in members]
    # notables post through the scheduled joins, not the random background
    return Network(
        n=n,
        community=community,
        lang=lang,
        country=country,
        indptr=indptr,
        followers=followers,
        n_followers=n_followers,
        n_following=n_following,
        activity=activity,
        created_ms=created_ms,
        verified=verified,
        notables=notables,
        seed_account=seed_account,
        coordinated=coordinated,
        community_members=members,
        community_cumact=cumact,
        all_cumact=np.cumsum(activity),
    )
