"""Accuracy of `groundswell analyze` on drawn movements (groundswell.accuracy).

    python scripts/sim_accuracy.py --seeds dev                 # develop on these
    python scripts/sim_accuracy.py --seeds held-out            # spent (seen at stop 21)
    python scripts/sim_accuracy.py --seeds held-out-2          # report these only, once
    python scripts/sim_accuracy.py --seeds 1000-1019 --intervals hour --leiden 0.5,1,1.5,2,3
    python scripts/sim_accuracy.py --seeds held-out --json out.json --jobs 2

Prints, per interval, how often the ignition was right (against what the files
allow: the post, the account, or "undetermined") and the takeoff within one
hour, with 95% Wilson intervals and the seeds that failed; with --leiden, the
community results per Leiden resolution. Progress goes to stderr; no post
text is ever printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from groundswell.accuracy import INTERVALS, Movement, evaluate, summarize  # noqa: E402
from groundswell.simulate.shapes import seed_range  # noqa: E402


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _ci(ci: list[float] | tuple[float, float] | None) -> str:
    return "-" if not ci else f"{100 * ci[0]:.1f}-{100 * ci[1]:.1f}%"


def table(summary: dict) -> str:
    lines = [f"{summary['movements']} movements; the files allow naming: "
             + ", ".join(f"{k} {v}" for k, v in sorted(summary["expected"].items()))
             + (f"; errors: {summary['errors']}" if summary["errors"] else ""), "",
             f"{'interval':<8} {'ignition right':>15} {'95% CI':>13} {'takeoff <= 1 h':>15} {'95% CI':>13} "
             f"{'median |off| h':>15} {'max |off| h':>12}"]
    for iv, r in summary["intervals"].items():
        lines.append(f"{iv:<8} {r['ignition_right']:>4}/{r['n']:<4} {_pct(r['ignition_share']):>6} {_ci(r['ignition_ci']):>13} "
                     f"{r['takeoff_within_1h']:>4}/{r['n']:<4} {_pct(r['takeoff_share']):>6} {_ci(r['takeoff_ci']):>13} "
                     f"{r['takeoff_median_abs_off_h'] if r['takeoff_median_abs_off_h'] is not None else '-':>15} "
                     f"{r['takeoff_max_abs_off_h'] if r['takeoff_max_abs_off_h'] is not None else '-':>12}")
    lines.append("")
    for iv, r in summary["intervals"].items():
        said = "; ".join(f"expected {e}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                         for e, c in r["said_by_expected"].items())
        lines.append(f"{iv}: said {said}")
        lines.append(f"{iv}: ignition failures {r['ignition_failures']}; takeoff failures {r['takeoff_failures']}")
        lines.append(f"{iv}: named on the second look {r.get('second_look', 0)}, of them right "
                     f"{r.get('second_look_right', 0)}")
    if summary["leiden"]:
        lines += ["", "Leiden resolution (communities against the 9 true ones, over the accounts placed):",
                  f"{'resolution':>10} {'NMI':>7} {'ARI':>7} {'communities':>12} {'outside-share max diff':>23} "
                  f"{'<= 0.05':>9}"]
        for r in summary["leiden"]:
            lines.append(f"{r['resolution']:>10g} {r['nmi_mean'] if r['nmi_mean'] is not None else '-':>7} "
                         f"{r['ari_mean'] if r['ari_mean'] is not None else '-':>7} "
                         f"{r['communities_median'] if r['communities_median'] is not None else '-':>12} "
                         f"{r['outside_max_diff_median'] if r['outside_max_diff_median'] is not None else '-':>23} "
                         f"{r['outside_max_diff_le_0.05']:>4}/{r['outside_measured']:<4}")
        lines.append("(NMI, ARI: means; communities and outside-share difference: medians over movements)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="dev", help="dev, held-out, held-out-2 or A-B (default: dev)")
    ap.add_argument("--intervals", default=",".join(INTERVALS), help="comma-separated (default: minute,hour,day)")
    ap.add_argument("--leiden", default="", help="Leiden resolutions to sweep, comma-separated (e.g. 0.5,1,1.5,2,3)")
    ap.add_argument("--workdir", default=None, help="keep the work here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep each movement's files and store")
    ap.add_argument("--jobs", type=int, default=1, help="processes (default: 1; the machine is shared)")
    ap.add_argument("--json", type=Path, default=None, help="also write every movement's scores here")
    a = ap.parse_args(argv)
    try:
        seeds = seed_range(a.seeds)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    intervals = [i for i in a.intervals.split(",") if i]
    bad = [i for i in intervals if i not in INTERVALS]
    if bad:
        print(f"error: unknown interval {bad[0]!r}; choose from {', '.join(INTERVALS)}", file=sys.stderr)
        return 2
    resolutions = [float(x) for x in a.leiden.split(",") if x]
    done = [0]

    def progress(m: Movement) -> None:
        done[0] += 1
        marks = " ".join(f"{iv}:{'I' if r['ignition'] else 'i'}{'T' if r['takeoff'] else 't'}"
                         for iv, r in m.results.items())
        print(f"[{done[0]}/{len(seeds)}] shape {m.seed} {m.format} {m.expected} {marks}"
              f"{' ERROR ' + m.error if m.error else ''} ({m.seconds:.1f} s)", file=sys.stderr, flush=True)

    movements = evaluate(seeds, intervals, resolutions, workdir=a.workdir, jobs=a.jobs, keep=a.keep,
                         on_movement=progress)
    summary = summarize(movements, intervals)
    print(f"shape seeds {seeds.start}-{seeds.stop - 1}")
    print(table(summary))
    if a.json:
        a.json.write_text(json.dumps({"seeds": [seeds.start, seeds.stop - 1], "summary": summary,
                                      "movements": [m.as_dict() for m in movements]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
