"""Helpers for the benchmark scripts: run a command, time it, read its peak memory."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GROUNDSWELL_SHARED", ROOT.parent / "shared"))

_RUNNER = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
dt = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": dt, "peak_mb": ru.ru_maxrss / 1024, "cpu_seconds": ru.ru_utime + ru.ru_stime,
                  "returncode": p.returncode, "stderr_tail": p.stderr.decode(errors="replace")[-400:]}))
"""


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` once in a fresh process; wall seconds, CPU seconds and peak RSS (MB)."""
    out = subprocess.run([sys.executable, "-c", _RUNNER, *cmd], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=True)
    res = json.loads(out.stdout)
    if res["returncode"] != 0:
        raise SystemExit(f"benchmark command failed ({res['returncode']}): {' '.join(cmd)}\n{res['stderr_tail']}")
    return res


def median_of(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mb", "cpu_seconds")}


def scaled_twarc2(work: Path, copies: int) -> Path:
    """The twarc2 file of ``copies`` copies of the real pages (../shared/tools/scale_twarc2.py), made once
    in ``work``."""
    src = work / f"twarc2_x{copies}.jsonl"
    if not src.exists():
        subprocess.run([sys.executable, str(SHARED / "tools" / "scale_twarc2.py"), str(src), str(copies)],
                       check=True, stdout=subprocess.DEVNULL)
    return src
