"""``groundswell follow`` and ``groundswell replay``: thin wrappers around groundswell.live."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from groundswell.errors import GroundswellError, UsageError
from groundswell.live.connection import MAX_FRAME_BYTES, RETRIES
from groundswell.spark_cli import add_db_option
from groundswell.terminal import clean


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_follow(args: argparse.Namespace) -> int:
    from groundswell.live.follower import Follower
    from groundswell.live.trending import Trending

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.max_frame_bytes < 1024:
        raise UsageError("--max-frame-bytes must be at least 1024")

    if args.source == "jetstream":
        from groundswell.live.jetstream import DEFAULT_COLLECTIONS, JetstreamSource

        zdict = None
        if args.zstd_dict:
            try:
                with open(args.zstd_dict, "rb") as f:
                    zdict = f.read()
            except OSError as e:
                raise UsageError(f"cannot read --zstd-dict {args.zstd_dict}: {e.strerror}") from None
        collections = tuple(c for c in (args.collections or ",".join(DEFAULT_COLLECTIONS)).split(",") if c)
        try:
            source: Any = JetstreamSource(args.url, collections=collections, compress=args.compress,
                                          zstd_dict=zdict, max_frame_bytes=args.max_frame_bytes,
                                          retries=args.retries)
        except ValueError as e:
            raise UsageError(str(e)) from None
        if args.after_collect:
            source.start_from(_after_collect(args))
    else:
        if args.after_collect:
            raise UsageError("Mastodon streaming cannot start in the past: start follow, then run the same "
                             "'collect mastodon' again; it collects what is new since its last run")
        from groundswell.live.mastodon import MastodonSource

        try:
            source = MastodonSource(args.url, hashtag=args.hashtag[0] if args.hashtag else None,
                                    timeline=args.timeline, token=os.environ.get("MASTODON_ACCESS_TOKEN"),
                                    insecure=args.insecure, max_frame_bytes=args.max_frame_bytes,
                                    retries=args.retries)
        except ValueError as e:
            raise UsageError(str(e)) from None

    quiet = args.quiet
    tty = sys.stderr.isatty()
    state = {"last": 0.0}

    def on_alert(alert: Any) -> None:
        sys.stdout.write(json.dumps(alert.as_dict()) + "\n")
        sys.stdout.flush()

    def on_status(msg: str) -> None:
        if not quiet:
            _err(("\r\x1b[K" if tty else "") + clean(msg))

    def on_batch(stats: Any) -> None:
        import time

        if quiet or not tty:
            return
        now = time.monotonic()
        if now - state["last"] < 0.5:
            return
        state["last"] = now
        sys.stderr.write(f"\r{stats.stored_posts:,} posts, {stats.rejected:,} rejected, cursor {stats.cursor}\x1b[K")
        sys.stderr.flush()

    follower = Follower(source, args.db, hashtags=args.hashtag or (),
                        batch_events=args.batch_events, batch_seconds=args.batch_ms / 1000.0,
                        trending=Trending(k=args.alert_rank, min_accounts=args.min_accounts),
                        on_alert=on_alert, on_status=on_status, on_batch=on_batch,
                        limit=args.limit, idle_exit=args.idle_exit, parse_workers=args.parse_workers)
    status_server = None
    if args.http is not None:
        from groundswell.live.status import StatusServer

        status_server = StatusServer(follower, port=args.http).start()
        if not quiet:
            _err(f"live status on {status_server.url} (/stats, /trending, /events)")
    try:
        stats = follower.run()
    except GroundswellError:
        # the source cannot be reached, or sends what cannot be skipped: what was stored, then the one error line
        if tty and not quiet:
            sys.stderr.write("\n")
        if not quiet:
            _err(f"follow {clean(source.label)}: gave up: {follower.stats.line()}")
        raise
    finally:
        if status_server is not None:
            status_server.stop()
    if tty and not quiet:
        sys.stderr.write("\n")
    _err(f"follow {clean(source.label)}: stopped ({stats.stopped_because or 'source ended'}): {stats.line()}")
    if args.json:
        print(json.dumps({"event": "summary", **stats.as_dict()}, default=str))
    return 0


def _after_collect(args: argparse.Namespace) -> int:
    """The Jetstream cursor (time_us) where 'collect bluesky' of these hashtags ended in the store."""
    from datetime import datetime

    from groundswell.collect.bluesky import handoff_time
    from groundswell.store import open_store

    if not args.hashtag:
        raise UsageError("--after-collect needs the --hashtag that 'collect bluesky' collected")
    with open_store(args.db, read_only=True) as store:
        at = handoff_time(store, args.hashtag)
    return int((at - datetime(1970, 1, 1)).total_seconds() * 1_000_000)


def cmd_replay(args: argparse.Namespace) -> int:
    from groundswell.live.replay import ReplayServer, load, synthetic_events

    if not args.paths and not args.synthetic:
        raise UsageError("give files to replay, or --synthetic N")
    if args.synthetic:
        recording = synthetic_events(args.synthetic, seed=args.seed)
        if args.paths:
            recording.extend(load(args.paths))
            recording.sort()
    else:
        recording = load(args.paths)
    server = ReplayServer(recording, port=args.port, rate=args.rate, speed=args.speed, quiet=args.quiet)

    import asyncio

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        await server.serve()

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        pass
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {e.strerror or e}") from None
    if not args.quiet:
        _err(f"replay stopped: {server.connections:,} connections, {server.sent:,} events sent")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "follow", help="follow a live feed (Bluesky Jetstream, Mastodon) into the store",
        description="Write a live feed into the store in micro-batches (one transaction each, the cursor "
                    "with them) and keep trending up to date; a JSON line goes to stdout when a hashtag "
                    "enters the top K. Ctrl-C writes what was received and exits with a summary. "
                    "See docs/live.md.")
    p.add_argument("source", choices=("jetstream", "mastodon"))
    p.add_argument("--url", required=True,
                   help="jetstream: wss://jetstream2.us-east.bsky.network/subscribe (or a local replay, "
                        "ws://127.0.0.1:P/subscribe); mastodon: https://INSTANCE (server-sent events) or "
                        "wss://INSTANCE (websocket); token from $MASTODON_ACCESS_TOKEN")
    add_db_option(p)
    p.add_argument("--hashtag", action="append", metavar="TAG",
                   help="follow this hashtag (mastodon: its hashtag timeline; jetstream: keep posts with it, "
                        "and reposts, replies and quotes of them); repeatable for jetstream")
    p.add_argument("--alert-rank", type=int, default=10, metavar="K",
                   help="print a JSON line when a hashtag enters the top K (default 10)")
    p.add_argument("--min-accounts", type=float, default=3.0, metavar="N",
                   help="a hashtag needs at least N (decayed) distinct accounts to be on the board (default 3)")
    p.add_argument("--after-collect", action="store_true",
                   help="jetstream: start where 'collect bluesky' of these --hashtag ended in this store, so "
                        "nothing falls between the two (see docs/collect.md)")
    p.add_argument("--compress", action="store_true", help="jetstream: ask for zstd-compressed frames")
    p.add_argument("--zstd-dict", metavar="FILE", help="jetstream: the zstd dictionary of the server")
    p.add_argument("--collections", metavar="NSID,...",
                   help="jetstream: wantedCollections (default app.bsky.feed.post,app.bsky.feed.repost)")
    p.add_argument("--timeline", choices=("public", "local", "hashtag"), default=None,
                   help="mastodon: which stream (default: hashtag with --hashtag, else public)")
    p.add_argument("--insecure", action="store_true",
                   help="mastodon: allow sending MASTODON_ACCESS_TOKEN over plain http:// or ws:// "
                        "(refused by default)")
    p.add_argument("--batch-events", type=int, default=5_000, metavar="N",
                   help="write at most N frames per transaction (default 5000)")
    p.add_argument("--batch-ms", type=float, default=200.0, metavar="MS",
                   help="write at least every MS milliseconds while frames arrive (default 200)")
    p.add_argument("--limit", type=int, metavar="N", help="stop after exactly N stored posts")
    p.add_argument("--idle-exit", type=float, metavar="SECONDS",
                   help="stop after SECONDS connected without a frame")
    p.add_argument("--retries", type=int, default=RETRIES, metavar="N",
                   help=f"give up (exit 1) after N failed connection attempts in a row (default {RETRIES}, "
                        "about 40 s of backoff); a connection that delivers a frame starts the count again")
    p.add_argument("--max-frame-bytes", type=int, default=MAX_FRAME_BYTES, metavar="N",
                   help="reject and skip frames (and Mastodon event lines) over N bytes, and zstd frames "
                        "inflating beyond N (default 16 MiB)")
    p.add_argument("--http", type=int, metavar="PORT",
                   help="serve /stats, /trending and /events (SSE) on 127.0.0.1:PORT for other processes")
    p.add_argument("--parse-workers", type=int, choices=(0, 1), default=0, metavar="{0,1}",
                   help="1: parse in a worker process, so parsing and store writes use two cores (default 0)")
    p.add_argument("--json", action="store_true", help="end with a summary JSON line on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or connection messages")
    p.set_defaults(func=cmd_follow)

    p = sub.add_parser(
        "replay", help="serve recorded or simulated posts with the Jetstream protocol on 127.0.0.1",
        description="Serve files (any format ingest reads; Jetstream files as they are) as a Jetstream "
                    "endpoint on ws://127.0.0.1:PORT/subscribe, with cursors, wantedCollections and "
                    "compress=true, so 'groundswell follow' can be rehearsed without the network.")
    p.add_argument("paths", nargs="*", metavar="FILE")
    p.add_argument("--port", type=int, required=True, metavar="P", help="port on 127.0.0.1 (0: any free one)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, metavar="N", help="N events per second per connection")
    pace.add_argument("--speed", type=float, metavar="X", help="X times the recorded pace (time_us gaps)")
    p.add_argument("--synthetic", type=int, metavar="N", help="also serve N generated posts (load tests)")
    p.add_argument("--seed", type=int, default=0, help="seed of --synthetic (default 0)")
    p.add_argument("-q", "--quiet", action="store_true", help="no messages")
    p.set_defaults(func=cmd_replay)
