"""Run a simulation end to end: network, process, writer and truth.

:func:`simulate` builds the network, runs the Hawkes process
(:mod:`groundswell.simulate.process`), streams the posts to the chosen
format's writer and the truth recorder, and returns a :class:`SimResult`.
"""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from groundswell.errors import UsageError
from groundswell.simulate.collection import Collection
from groundswell.simulate.config import SimConfig
from groundswell.simulate.network import build_network
from groundswell.simulate.process import Delete, Simulation
from groundswell.simulate.truth import TRUTH_DIR, TRUTH_FILES, TruthRecorder
from groundswell.simulate.writers import WRITERS, write_follows

_OUTPUTS = frozenset({"posts.jsonl", "posts.csv", "compliance.jsonl", "follows.csv"})
# files of runs from before the truth moved into TRUTH_DIR (ingest reads them no longer)
_OLD_TRUTH = frozenset(TRUTH_FILES)


@dataclass
class SimResult:
    """What a run wrote: the directory, the data files, and the summary truth (truth.json's
    content; its ``deleted`` list is a :class:`~groundswell.simulate.truth.DeletedList`,
    read back from truth.json when used). The truth files are in :attr:`truth_dir`."""

    out: Path
    files: list[Path]
    truth: dict[str, Any] = field(repr=False)
    seconds: float = 0.0

    @property
    def truth_dir(self) -> Path:
        """``out/.truth``: truth.json, truth_posts.parquet, truth_accounts.parquet (hidden, so ingest
        of ``out`` skips them)."""
        return self.out / TRUTH_DIR

    @property
    def posts(self) -> int:
        return int(self.truth["posts"])

    def summary(self) -> str:
        t = self.truth
        rate = self.posts / self.seconds if self.seconds > 0 else 0.0
        kept = t.get("collection", {}).get("posts_collected", self.posts)
        return (
            f"simulated {self.posts} {t['format']} posts of #{t['hashtag']} "
            + (f"({kept} collected) " if kept != self.posts else "")
            + f"({t['counts']['by_topic'].get('movement', 0)} in the movement, onset {t['onset']}, "
            f"takeoff {t['takeoff']['at']}) in {self.seconds:.1f} s ({rate:,.0f} posts/s) -> {self.out}"
        )


def simulate(cfg: SimConfig | None = None, out: str | Path = ".", **options: Any) -> SimResult:
    """Simulate a movement and write it, with its ground truth, into ``out``.

    ``options`` override fields of ``cfg`` (``simulate(posts=1000, seed=1,
    format="bluesky", out=tmp)``). The cyclic garbage collector is paused
    for the run (and restored after it); see docs/simulate.md, Scale.
    """
    cfg = replace(cfg if cfg is not None else SimConfig(), **options)
    cfg.validate()
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create --out {out}: {e.strerror}") from None
    for old in out.iterdir():  # a previous run's files would be read with this one's
        base = old.name.removesuffix(".gz").removesuffix(".zst")
        if old.is_file() and (base in _OUTPUTS or base in _OLD_TRUTH):
            old.unlink()
    truth_dir = out / TRUTH_DIR
    if truth_dir.is_dir():
        for old in truth_dir.iterdir():
            if old.is_file() and (old.name in TRUTH_FILES or old.name.startswith("tmp")):
                old.unlink()
    # The run makes no reference cycles (only its ~400 setup objects are cyclic), but
    # the collector would walk every post in flight again and again: at 10M posts
    # that was a quarter of the time, growing with posts per hour. Off for the run.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(cfg, out)
    finally:
        if was_enabled:
            gc.enable()


def _run(cfg: SimConfig, out: Path) -> SimResult:
    t0 = time.perf_counter()
    progress = not cfg.quiet
    if progress:
        print(f"simulate: building a network of {cfg.n_accounts} accounts", file=sys.stderr)
    net = build_network(cfg, np.random.default_rng([cfg.seed, 1]))
    sim = Simulation(cfg, net)
    writer = WRITERS[cfg.format](out, cfg, net, sim.end)
    coll = Collection(cfg)
    rec = TruthRecorder(out, cfg, net, sim, writer, coll)
    step = max(10_000, cfg.posts // 20)
    for ev in sim.events(writer.assign, coll.keep):
        if isinstance(ev, Delete):
            if ev.collected:  # a deletion is seen only for a post the archive holds
                writer.delete(ev)
                rec.delete(ev)
            continue
        if ev.collected:
            writer.post(ev)
        rec.post(ev)
        if progress and (ev.i + 1) % step == 0:
            el = time.perf_counter() - t0
            print(f"simulate: {ev.i + 1:,}/{cfg.posts:,} posts, {(ev.i + 1) / el:,.0f}/s", file=sys.stderr)
    writer.close(rec.last_ms)
    if writer.writes_follows:
        writer.files.append(write_follows(out, net, writer))
    truth = rec.close(writer.files)
    return SimResult(out=out, files=list(writer.files), truth=truth, seconds=time.perf_counter() - t0)
