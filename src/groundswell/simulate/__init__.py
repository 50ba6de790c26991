"""groundswell simulate: a hashtag movement with ground truth, in every format.

A synthetic follower network (:mod:`.network`), a self-exciting (Hawkes)
process of posts, reposts, replies and quotes over it (:mod:`.process`), texts
from the project's own templates (:mod:`.texts`), writers for every format
ingest reads (:mod:`.writers`) and the ground truth (:mod:`.truth`).

    from groundswell.simulate import simulate, SimConfig
    result = simulate(SimConfig(posts=10_000, seed=1, format="bluesky"), out="sim/")
    result.truth["onset"], result.files
"""

from groundswell.simulate.config import FORMATS, SimConfig
from groundswell.simulate.run import SimResult, simulate

__all__ = ["FORMATS", "SimConfig", "SimResult", "simulate"]
