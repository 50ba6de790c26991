"""groundswell simulate: a hashtag movement with ground truth, in every format.

A synthetic follower network (:mod:`.network`), a self-exciting (Hawkes)
process of posts, reposts, replies and quotes over it (:mod:`.process`), texts
from the project's own templates (:mod:`.texts`), writers for every format
ingest reads (:mod:`.writers`) and the ground truth (:mod:`.truth`).

    from groundswell.simulate import simulate, SimConfig
    result = simulate(SimConfig(posts=10_000, seed=1, format="bluesky"), out="sim/")
    result.truth["onset"], result.files     # the truth files: sim/.truth/ (read_truth("sim/"))
"""

from groundswell.simulate.config import FORMATS, SimConfig
from groundswell.simulate.run import SimResult, simulate
from groundswell.simulate.truth import TRUTH_DIR, read_truth, truth_path

__all__ = ["FORMATS", "TRUTH_DIR", "SimConfig", "SimResult", "read_truth", "simulate", "truth_path"]
