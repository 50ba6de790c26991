"""Fuzz every format parser for longer than the test suite does; print executions and findings.

    python benchmarks/fuzz.py                      # hypothesis, 2,000 examples per format
    python benchmarks/fuzz.py --examples 20000
    python benchmarks/fuzz.py --atheris --seconds 60   # coverage-guided, where atheris installs

A *finding* is an exception a parser lets out that the ingest driver does not
turn into a reject (anything but RecordError, KeyError, TypeError,
AttributeError, ValueError, IndexError, OverflowError), or a valid record the
parser does not read whole ("good record lost"). Each finding is printed once
per (format, exception type, place) with a minimal input (post texts are never
printed: inputs are shown with strings replaced by their length).
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))          # tests.fuzz.strategies
sys.path.insert(0, str(ROOT / "src"))

import orjson  # noqa: E402

from groundswell.errors import RecordError  # noqa: E402
from groundswell.formats import detect  # noqa: E402
from groundswell.formats.base import ListSink  # noqa: E402

TOLERATED = (RecordError, KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError)
FORMATS = ("twitter-v1", "twitter-v2", "twitter-v2-flat", "bluesky", "mastodon", "twitter-compliance")


def _shape(obj: Any) -> Any:
    """The input with every string replaced by its length (no post text in the report)."""
    if isinstance(obj, dict):
        return {k: _shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shape(v) for v in obj]
    if isinstance(obj, str):
        return f"<str {len(obj)}>"
    return obj


class Findings:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], Any] = {}
        self.execs = 0

    def check(self, fmt: str, obj: Any, want_ids: list[str] | None = None) -> None:
        self.execs += 1
        sink = ListSink()
        try:
            detect.json_format(fmt).parse(obj, sink)
        except TOLERATED:
            return
        except Exception as e:  # noqa: BLE001 - a finding
            tb = traceback.extract_tb(e.__traceback__)[-1]
            key = (fmt, type(e).__name__, f"{Path(tb.filename).name}:{tb.lineno}")
            self.seen.setdefault(key, _shape(obj))
            return
        if want_ids is not None:
            got = {p.get("id") for p in sink.posts}
            if not set(want_ids) <= got or sink.rejects:
                key = (fmt, "good record lost", ",".join(sink.rejects)[:80])
                self.seen.setdefault(key, _shape(obj))

    def report(self, seconds: float, engine: str) -> None:
        print(f"engine       {engine}")
        print(f"executions   {self.execs:,} in {seconds:.1f} s ({self.execs / max(seconds, 1e-9):,.0f}/s)")
        print(f"findings     {len(self.seen)}")
        for (fmt, what, where), obj in sorted(self.seen.items()):
            print(f"  {fmt:<18} {what:<22} {where}")
            print(f"    input shape: {orjson.dumps(obj).decode()[:400]}")


def run_hypothesis(examples: int, formats: list[str]) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.fuzz import strategies as S

    f = Findings()
    started = time.monotonic()
    def runner(fmt: str) -> Any:
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            obj, ids = data.draw(S.valid(fmt, data.draw(st.integers(1, 2**60))))
            f.check(fmt, orjson.loads(orjson.dumps(obj)), ids)
            f.check(fmt, data.draw(S.mutated(obj)))
            f.check(fmt, data.draw(S.json_values))

        return run

    for fmt in formats:
        if fmt == "twitter-compliance":
            continue
        t0 = time.monotonic()
        runner(fmt)()
        print(f"{fmt:<18} {time.monotonic() - t0:6.1f} s", file=sys.stderr)
    f.report(time.monotonic() - started, f"hypothesis ({examples:,} examples per format)")


def run_atheris(seconds: float, formats: list[str]) -> None:
    """libFuzzer runs until ``-max_total_time`` and then exits the process itself: findings are
    printed as they are found, and libFuzzer's last line ('Done N runs in S second(s)') gives
    the executions."""
    import atexit
    import tempfile

    import atheris  # type: ignore[import-not-found]

    from tests.fuzz import strategies as S

    f = Findings()
    started = time.monotonic()

    def one(data: bytes) -> None:
        if not data:
            return
        fmt = formats[data[0] % len(formats)]
        try:
            obj = orjson.loads(data[1:])
        except orjson.JSONDecodeError:
            return
        before = len(f.seen)
        f.check(fmt, obj)
        if len(f.seen) > before:
            (fmt_, what, where), shape = list(f.seen.items())[-1]
            print(f"FINDING {fmt_} {what} {where}: {orjson.dumps(shape).decode()[:400]}", flush=True)

    atexit.register(lambda: f.report(time.monotonic() - started, "atheris (coverage-guided, libFuzzer)"))
    corpus = Path(tempfile.mkdtemp(prefix="gs-fuzz-"))
    for i, fmt in enumerate(formats):
        if fmt == "twitter-compliance":
            obj: Any = {"id": "1", "action": "delete", "created_at": "2021-01-01T00:00:00.000Z", "reason": "deleted"}
        else:
            obj = S.valid(fmt, 10**15).example()[0]
        (corpus / f"seed{i}").write_bytes(bytes([i]) + orjson.dumps(obj))
    atheris.instrument_all()
    atheris.Setup([sys.argv[0], str(corpus), "-max_len=20000", f"-max_total_time={int(seconds)}",
                   f"-artifact_prefix={tempfile.gettempdir()}/gs-fuzz-"], one)
    atheris.Fuzz()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=2000, help="hypothesis examples per format")
    ap.add_argument("--atheris", action="store_true", help="coverage-guided fuzzing with atheris")
    ap.add_argument("--seconds", type=float, default=60, help="atheris: how long")
    ap.add_argument("--format", action="append", choices=FORMATS, help="only these formats")
    args = ap.parse_args()
    formats = args.format or list(FORMATS)
    if args.atheris:
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            print("atheris is not installed (pip install atheris); using hypothesis", file=sys.stderr)
        else:
            run_atheris(args.seconds, formats)
            return
    run_hypothesis(args.examples, formats)


if __name__ == "__main__":
    main()
