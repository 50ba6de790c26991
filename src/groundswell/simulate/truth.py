"""The ground truth of a simulated movement.

Written into the hidden folder ``.truth/`` of the output directory (so that
``groundswell ingest DIR`` never reads the answer key: ingest skips hidden
files and folders): ``truth.json`` (summary-level truth),
``truth_posts.parquet`` (one row per post made, streamed in row groups) and
``truth_accounts.parquet`` (one row per account, in row groups). All ids and
handles are the ones in the posts file(s) of the same run.
:func:`read_truth` reads truth.json back. docs/simulate.md describes every field.

Nothing per post is held for the whole run: the post rows go out in row
groups of ``BATCH``, the deletions (``truth.json``'s one per-post list) to an
anonymous spool file that is copied into ``truth.json`` at the end, and the
rest are counters, hourly series and the few scheduled posts (seed, notables,
the coordinated leader's).

Takeoff is defined on the hourly series of posts carrying the movement
hashtag (any kind, reposts included, counted by UTC hour; every post made,
collected or not: it is the movement's takeoff, not the archive's): the
*baseline* is the mean count over the whole hours before the onset's hour;
*takeoff* is the start of the first hour, from the onset's hour on, whose
count is at least ``TAKEOFF_MIN_POSTS`` (5) and improbable under the
baseline: a Poisson variable with the baseline as its mean reaches it with
probability below ``TAKEOFF_P`` (0.001). That is the first hour in which the
rise is both visible and no chance fluctuation, whatever the hashtag's use
before. ``at_collected`` applies the same definition to the collected posts.

The *ignition* is the call to action (the seed's post at the onset): the
truth says where it lives (in the files or not, its URL), what in the files
points at it, by kind, and what an honest detector can be expected to name
(``expected``): the post, when at least ``IGNITION_MIN_EVIDENCE`` (10)
collected posts point at it or its author and its id is in the files; its
account only, when they do but the id is nowhere in the files; otherwise
nothing ("undetermined" is then the right answer).
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from groundswell.simulate.collection import Collection
from groundswell.simulate.config import COMMUNITIES, LABELS, SimConfig
from groundswell.simulate.network import Network
from groundswell.simulate.process import HOUR_MS, Delete, Post, Simulation
from groundswell.simulate.writers import Writer, iso_ms

_UTC = UTC
_ts = pa.timestamp("us")

POST_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("index", pa.int64()),
    ("id", pa.string()),
    ("created_at", _ts),
    ("author_id", pa.string()),
    ("author_handle", pa.string()),
    ("account", pa.int32()),
    ("kind", pa.string()),
    ("topic", pa.string()),
    ("origin", pa.string()),
    ("label", pa.string()),
    ("first_time", pa.bool_()),
    ("parent_id", pa.string()),
    ("true_parent_id", pa.string()),
    ("seen_from", pa.string()),
    ("cascade_id", pa.string()),
    ("depth", pa.int32()),
    ("conversation_id", pa.string()),
    ("hashtags", pa.list_(pa.string())),
    ("hashtags_raw", pa.list_(pa.string())),
    ("community", pa.string()),
    ("lang", pa.string()),
    ("country", pa.string()),
    ("notable", pa.bool_()),
    ("coordinated", pa.bool_()),
    ("deleted_at", _ts),
    ("repost_count", pa.int64()),
    ("reply_count", pa.int64()),
    ("quote_count", pa.int64()),
    ("like_count", pa.int64()),
    ("collected", pa.bool_()),
    ("mentioned_ids", pa.list_(pa.string())),
    ("linked_id", pa.string()),
]
TRUTH_DIR = ".truth"
TRUTH_FILES = ("truth.json", "truth_posts.parquet", "truth_accounts.parquet")


def truth_path(out: str | Path, name: str = "truth.json") -> Path:
    """Where a run into ``out`` wrote its truth file ``name``."""
    return Path(out) / TRUTH_DIR / name


def read_truth(out: str | Path) -> dict[str, Any]:
    """The truth.json of a run into ``out``."""
    return orjson.loads(truth_path(out).read_bytes())  # type: ignore[no-any-return]


POSTS_SCHEMA = pa.schema([pa.field(n, t) for n, t in POST_COLUMNS])
BATCH = 16_384
ACCOUNT_BATCH = 65_536
_DELETED_SLOT = "\x00deleted\x00"  # placeholder for the streamed list in truth.json


class DeletedList(Sequence[dict[str, str]]):
    """``truth["deleted"]`` as returned by a run: read from ``truth.json`` (the
    byte range where the run wrote it) when used, so a run with millions of
    posts does not keep its deletions in memory. Iterates like the list of
    ``{"id", "deleted_at"}`` dicts that ``json.load`` gives."""

    def __init__(self, path: Path, start: int, end: int, count: int) -> None:
        # the length as ``n``: an attribute ``count`` would hide Sequence.count()
        self.path, self.start, self.end, self.n = path, start, end, count

    def _load(self) -> list[dict[str, str]]:
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            return orjson.loads(fh.read(self.end - self.start))  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        return self._load()[i]

    def __iter__(self) -> Iterator[dict[str, str]]:
        return iter(self._load())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DeletedList({self.n} deletions in {self.path.name})"


def _dt(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, _UTC).replace(tzinfo=None)


_PLURAL = {"reply": "replies", "quote": "quotes", "repost": "reposts"}
TAKEOFF_P = 0.001
TAKEOFF_MIN_POSTS = 5
IGNITION_MIN_EVIDENCE = 10


def poisson_threshold(mean: float, p: float = TAKEOFF_P) -> int:
    """The smallest k with P(X >= k) < p for X ~ Poisson(mean)."""
    if mean <= 0:
        return 1
    term = math.exp(-mean)  # P(X = 0)
    below = 0.0  # P(X < k)
    k = 0
    while 1.0 - below >= p:
        below += term
        k += 1
        term *= mean / k
    return k


class TruthRecorder:
    """Collects the truth as posts are written; writes it out at the end."""

    def __init__(self, out: Path, cfg: SimConfig, net: Network, sim: Simulation, writer: Writer,
                 collection: Collection | None = None) -> None:
        self.out = out / TRUTH_DIR
        self.coll = collection if collection is not None else Collection(cfg)
        self.out.mkdir(exist_ok=True)
        self.cfg = cfg
        self.net = net
        self.sim = sim
        self.w = writer
        self.cols: dict[str, list[Any]] = {n: [] for n, _ in POST_COLUMNS}
        self.pq = pq.ParquetWriter(self.out / "truth_posts.parquet", POSTS_SCHEMA, compression="zstd")
        self.tag = cfg.hashtag.casefold()
        self.rel = cfg.related_hashtag.casefold() if cfg.related_hashtag else None
        self.hour0 = sim.start // HOUR_MS
        self.h_tag: list[int] = []
        self.h_move: list[int] = []
        self.h_rel: list[int] = []
        self.h_tag_kept: list[int] = []
        self.kinds: Counter[str] = Counter()
        self.topics: Counter[str] = Counter()
        self.labels: Counter[str] = Counter()
        self.first_time = 0
        self.n_deleted = 0
        self.spool: IO[bytes] = tempfile.TemporaryFile(dir=self.out)  # the deletions, as truth.json items
        self.seed_post: Post | None = None
        self.notable_posts: dict[int, str] = {}
        self.coord_posts: list[str] = []
        self.coord_reposts = 0
        self.first_ms: int | None = None
        self.last_ms = 0
        self.n = 0
        # what the collected posts hold of the call to action, by kind
        self.call_evidence: Counter[str] = Counter()
        # movement posts in [onset, onset + 3h): all, of the call's tree; collected: same
        self.call_window = [0, 0, 0, 0]

    def post(self, p: Post) -> None:
        net, w, c = self.net, self.w, self.cols
        a = p.author
        tags = [t for t, _, _ in p.tags]
        folded = [t.casefold() for t in tags]
        c["index"].append(p.i)
        c["id"].append(p.id)
        c["created_at"].append(p.t * 1000)
        c["author_id"].append(w.account_id(a))
        c["author_handle"].append(w.account_handle(a))
        c["account"].append(a)
        c["kind"].append(p.kind)
        c["topic"].append(p.topic)
        c["origin"].append(p.origin)
        c["label"].append(p.label)
        c["first_time"].append(p.first_time)
        c["parent_id"].append(p.parent.id if p.parent is not None else None)
        c["true_parent_id"].append(p.seen.id if p.seen is not None else None)
        c["seen_from"].append(w.account_id(p.seen.author) if p.seen is not None else None)
        c["cascade_id"].append(p.cascade)
        c["depth"].append(p.depth)
        c["conversation_id"].append(p.conv or p.id)
        c["hashtags"].append(folded)
        c["hashtags_raw"].append(tags)
        c["community"].append(COMMUNITIES[net.community[a]][0])
        c["lang"].append(p.lang)
        c["country"].append(net.country[a])
        c["notable"].append(a in self.sim.notable_set)
        c["coordinated"].append(p.coord)
        c["deleted_at"].append(p.deleted_at * 1000 if p.deleted_at is not None else None)
        rep = p.kind == "repost"
        c["repost_count"].append(p.n_repost)
        c["reply_count"].append(p.n_reply)
        c["quote_count"].append(p.n_quote)
        c["like_count"].append(p.n_like)
        c["collected"].append(p.collected)
        c["mentioned_ids"].append([w.account_id(m) for m in p.mentions])
        c["linked_id"].append(p.link.id if p.link is not None else None)
        if len(c["id"]) >= BATCH:
            self._flush()

        self.n += 1
        if self.first_ms is None:
            self.first_ms = p.t
        self.last_ms = p.t
        h = p.t // HOUR_MS - self.hour0
        while len(self.h_tag) <= h:
            self.h_tag.append(0)
            self.h_move.append(0)
            self.h_rel.append(0)
            self.h_tag_kept.append(0)
        if h >= 0:
            if self.tag in folded:
                self.h_tag[h] += 1
                self.h_tag_kept[h] += p.collected
            if self.rel is not None and self.rel in folded:
                self.h_rel[h] += 1
            if p.topic == "movement":
                self.h_move[h] += 1
        self.kinds[p.kind] += 1
        self.topics[p.topic] += 1
        if p.topic == "movement" and not rep:
            self.labels[p.label] += 1
            self.first_time += p.first_time
        if p.origin == "seed":
            self.seed_post = p
        elif p.origin == "notable":
            self.notable_posts[a] = p.id
        elif p.origin == "coordinated":
            self.coord_posts.append(p.id)
        if p.coord:
            self.coord_reposts += 1
        call = self.sim.seed_post
        if call is not None and call.id:
            if p.collected:
                if p.parent is call:
                    self.call_evidence[_PLURAL[p.kind]] += 1
                if p.link is call:
                    self.call_evidence["links"] += 1
                if call.author in p.mentions:
                    self.call_evidence["mentions"] += 1
                if p.cascade == call.id and p is not call:
                    self.call_evidence["descendants"] += 1
            if p.topic == "movement" and call.t <= p.t < call.t + 3 * HOUR_MS:
                ours = p.cascade == call.id
                self.call_window[0] += 1
                self.call_window[1] += ours
                self.call_window[2] += p.collected
                self.call_window[3] += ours and p.collected

    def delete(self, d: Delete) -> None:
        self.spool.write(b"%s    {\n      \"id\": %s,\n      \"deleted_at\": %s\n    }" % (
            b",\n" if self.n_deleted else b"", orjson.dumps(d.id), orjson.dumps(iso_ms(d.t))))
        self.n_deleted += 1

    def _flush(self) -> None:
        if not self.cols["id"]:
            return
        table = pa.Table.from_arrays(
            [pa.array(self.cols[n], type=t) for n, t in POST_COLUMNS], schema=POSTS_SCHEMA
        )
        self.pq.write_table(table)
        for v in self.cols.values():
            v.clear()

    def _takeoff(self, onset_h: int, series: list[int] | None = None) -> tuple[float, int, int | None]:
        """(baseline per hour, threshold, takeoff hour or None) of an hourly series (see the docstring)."""
        hours = self.h_tag if series is None else series
        before = hours[: max(0, onset_h)]
        baseline = sum(before) / len(before) if before else 0.0
        threshold = max(TAKEOFF_MIN_POSTS, poisson_threshold(baseline))
        for h in range(max(0, onset_h), len(hours)):
            if hours[h] >= threshold:
                return baseline, threshold, h
        return baseline, threshold, None

    def _accounts(self) -> None:
        """One row per account, written in row groups of ``ACCOUNT_BATCH``."""
        net, w, sim = self.net, self.w, self.sim
        n = net.n
        coord = set(net.coordinated)
        names = [c[0] for c in COMMUNITIES]
        writer: pq.ParquetWriter | None = None
        for lo in range(0, max(n, 1), ACCOUNT_BATCH):
            hi = min(n, lo + ACCOUNT_BATCH)
            r = range(lo, hi)
            joined = sim.joined[lo:hi]
            table = pa.table(
                {
                    "account": pa.array(r, type=pa.int32()),
                    "id": pa.array([w.account_id(a) for a in r], type=pa.string()),
                    "handle": pa.array([w.account_handle(a) for a in r], type=pa.string()),
                    "community": pa.array([names[c] for c in net.community[lo:hi].tolist()], type=pa.string()),
                    "lang": pa.array(net.lang[lo:hi], type=pa.string()),
                    "country": pa.array(net.country[lo:hi], type=pa.string()),
                    "followers": pa.array(net.n_followers[lo:hi], type=pa.int64()),
                    "following": pa.array(net.n_following[lo:hi], type=pa.int64()),
                    "verified": pa.array(net.verified[lo:hi], type=pa.bool_()),
                    "notable": pa.array([a in sim.notable_set for a in r], type=pa.bool_()),
                    "coordinated": pa.array([a in coord for a in r], type=pa.bool_()),
                    "joined_at": pa.array(joined * 1000, type=_ts, mask=joined < 0),
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(self.out / "truth_accounts.parquet", table.schema, compression="zstd")
            writer.write_table(table)
        if writer is not None:
            writer.close()

    def close(self, files: list[Path]) -> dict[str, Any]:
        self._flush()
        self.pq.close()
        self._accounts()
        cfg, net, sim, w = self.cfg, self.net, self.sim, self.w
        onset_h = sim.onset // HOUR_MS - self.hour0
        baseline, threshold, take_h = self._takeoff(onset_h)
        baseline_kept, threshold_kept, take_kept = self._takeoff(onset_h, self.h_tag_kept)
        seed = self.seed_post
        origin_name = cfg.origin
        notables = []
        for a in net.notables:
            notables.append({
                "account_id": w.account_id(a),
                "handle": w.account_handle(a),
                "community": COMMUNITIES[net.community[a]][0],
                "inside_origin": COMMUNITIES[net.community[a]][0] == origin_name,
                "followers": int(net.n_followers[a]),
                "is_seed": a == net.seed_account,
                "joined_at": iso_ms(int(sim.joined[a])) if sim.joined[a] >= 0 else None,
                "join_post_id": (seed.id if seed is not None and a == net.seed_account else self.notable_posts.get(a)),
                "planned_join_at": iso_ms(sim.notable_plan[a]) if a in sim.notable_plan else None,
            })
        n_move = sum(self.labels.values())
        ev = self.call_evidence
        evidence = {k: ev.get(k, 0) for k in ("replies", "quotes", "reposts", "links", "mentions", "descendants")}
        pointing = sum(evidence[k] for k in ("replies", "quotes", "reposts", "links", "mentions"))
        # the call's id is in the files when it was collected, or a collected post carries its id: a quote or
        # link always, a reply or repost unless the format names only the author (a scrape)
        carrying = evidence["quotes"] + evidence["links"] + (
            evidence["replies"] + evidence["reposts"] if w.reply_ids_in_files else 0)
        id_in_files = seed is not None and (seed.collected or carrying > 0)
        expected = ("undetermined" if seed is None or pointing < IGNITION_MIN_EVIDENCE
                    else "post" if id_in_files else "account")
        truth: dict[str, Any] = {
            "generator": "groundswell simulate",
            "format": w.name,
            "files": [p.name for p in files],
            "config": cfg.as_dict(),
            "posts": self.n,
            "window": {"start": iso_ms(sim.start), "end": iso_ms(sim.end)},
            "first_post_at": iso_ms(self.first_ms) if self.first_ms is not None else None,
            "last_post_at": iso_ms(self.last_ms),
            "collected_at": iso_ms(w.collected_ms),
            "hashtag": cfg.hashtag,
            "related_hashtag": cfg.related_hashtag,
            "onset": iso_ms(sim.onset),
            "seed": None if seed is None else {
                "post_id": seed.id,
                "account_id": w.account_id(seed.author),
                "handle": w.account_handle(seed.author),
                "community": COMMUNITIES[net.community[seed.author]][0],
                "created_at": iso_ms(seed.t),
                "has_hashtag": any(t.casefold() == self.tag for t, _, _ in seed.tags),
                "reposts": seed.n_repost,
                "replies": seed.n_reply,
                "quotes": seed.n_quote,
            },
            "ignition": None if seed is None else {
                "post_id": seed.id,
                "account_id": w.account_id(seed.author),
                "handle": w.account_handle(seed.author),
                "created_at": iso_ms(seed.t),
                "has_hashtag": any(t.casefold() == self.tag for t, _, _ in seed.tags),
                "collected": seed.collected,
                "url": w.status_url(seed),
                "multipliers": {"reposts": cfg.call_reposts, "replies": cfg.call_replies, "quotes": cfg.call_quotes,
                                "adopts": cfg.call_adopts},
                "evidence_collected": evidence,
                "id_in_files": id_in_files,
                "expected": expected,
                "expected_definition": f"post: at least {IGNITION_MIN_EVIDENCE} collected posts reply to, quote, "
                "repost, link to the call or mention its author, and the call's id is in the files (the call "
                "collected, or a quote or link to it, or a reply or repost where the format records the post it "
                "answers: not csv-scraped, whose '@ name' and 'RT @name:' name only the author); account: as "
                "many point at it but its id is nowhere in the files; undetermined: fewer",
                "evidence_definition": "collected posts that reply to, quote, repost, link to (a status URL in the "
                "text) or mention the author of the call, by the post's kind whatever way the format shows it "
                "(csv-scraped shows a quote as a link, a reply as a leading '@ name'); descendants: collected posts "
                "in the call's true diffusion tree (cascade_id), links or not",
                "takeoff_window": {"movement_posts": self.call_window[0], "in_call_tree": self.call_window[1],
                                   "collected": self.call_window[2], "collected_in_call_tree": self.call_window[3],
                                   "definition": "movement posts made in the 3 hours from the call; in_call_tree: "
                                   "those whose true diffusion tree is the call's"},
            },
            "decoys": [{"account_id": w.account_id(a), "handle": w.account_handle(a), "mentions": n}
                       for a, n in zip(sim.decoys, sim.decoy_mentions)],
            "collection": self.coll.describe(iso_ms),
            "takeoff": {
                "at": iso_ms((self.hour0 + take_h) * HOUR_MS) if take_h is not None else None,
                "at_collected": iso_ms((self.hour0 + take_kept) * HOUR_MS) if take_kept is not None else None,
                "baseline_per_hour": baseline,
                "baseline_per_hour_collected": baseline_kept,
                "threshold": threshold,
                "threshold_collected": threshold_kept,
                "definition": "start of the first UTC hour from the onset's hour on in which the posts carrying "
                f"the hashtag (any kind, every post made) number at least threshold = max({TAKEOFF_MIN_POSTS}, the "
                f"smallest count a Poisson variable with the baseline as mean reaches with probability < {TAKEOFF_P}); "
                "baseline = mean hourly count over the whole hours before the onset's hour; at_collected: the same "
                "over the collected posts",
            },
            "hourly": {
                "start": iso_ms(self.hour0 * HOUR_MS),
                "hashtag_posts": self.h_tag,
                "hashtag_posts_collected": self.h_tag_kept,
                "related_hashtag_posts": self.h_rel,
                "movement_posts": self.h_move,
            },
            "counts": {
                "by_kind": dict(sorted(self.kinds.items())),
                "by_topic": dict(sorted(self.topics.items())),
                "movement_labels": {k: self.labels.get(k, 0) for k in LABELS},
                "first_time_disclosures": self.first_time,
                "deleted": self.n_deleted,
            },
            "label_shares": {
                "configured": cfg.label_shares,
                "observed": {k: (self.labels.get(k, 0) / n_move if n_move else 0.0) for k in LABELS},
                "over": "movement posts that are not reposts",
            },
            "notables": notables,
            "waves": [iso_ms(t) for t in sim.waves],
            "coordinated": {
                "leader": w.account_id(net.coordinated[0]) if net.coordinated else None,
                "members": [w.account_id(a) for a in net.coordinated[1:]],
                "leader_posts": self.coord_posts,
                "reposts": self.coord_reposts,
            },
            "deleted": _DELETED_SLOT,  # streamed in from the spool below
            "communities": [
                {
                    "name": name,
                    "accounts": int((net.community == k).sum()),
                    "origin": name == origin_name,
                }
                for k, (name, _, _) in enumerate(COMMUNITIES)
            ],
            "network": {
                "accounts": net.n,
                "follows": int(len(net.followers)),
                "max_followers": int(net.n_followers.max()) if net.n else 0,
                "mean_follower_followers": sim.fbar,
            },
        }
        if net.n <= 20_000:
            truth["accounts"] = {w.account_id(a): COMMUNITIES[net.community[a]][0] for a in range(net.n)}
        truth["deleted"] = self._write_json(truth)
        return truth

    def _write_json(self, truth: dict[str, Any]) -> DeletedList:
        """Write truth.json, copying the deletions in from the spool in blocks."""
        text = orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n"
        head, tail = text.split(orjson.dumps(_DELETED_SLOT), 1)
        path = self.out / "truth.json"
        with open(path, "wb") as fh:
            fh.write(head)
            start = fh.tell()
            if self.n_deleted:
                fh.write(b"[\n")
                self.spool.seek(0)
                while block := self.spool.read(1 << 20):
                    fh.write(block)
                fh.write(b"\n  ]")
            else:
                fh.write(b"[]")
            end = fh.tell()
            fh.write(tail)
        self.spool.close()
        return DeletedList(path, start, end, self.n_deleted)
