"""``groundswell collect bluesky|mastodon``: a thin wrapper around :mod:`groundswell.collect`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from groundswell.errors import UsageError
from groundswell.spark_cli import add_db_option

_BLUESKY_ONLY = ("api", "reposts", "quotes", "profiles", "followers")
_MASTODON_ONLY = ("instance", "reblogs", "token")


def _tokens(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        host, sep, token = v.partition("=")
        if not sep or not host.strip() or not token.strip():
            raise UsageError(f"--token wants HOST=TOKEN (or HOST=@FILE), got {v.split('=', 1)[0]!r}=...")
        token = token.strip()
        if token.startswith("@"):
            try:
                with open(token[1:], encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError as e:
                raise UsageError(f"cannot read the token file {token[1:]}: {e.strerror}") from None
        h = host.strip()
        out[urlsplit(h if "://" in h else "https://" + h).netloc] = token
    return out


class _Meter:
    """One progress line on stderr, only on a terminal and without --quiet."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0.0
        self.drawn = False

    def page(self, p: Any) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.25:
            return
        self.last = now
        span = ""
        if p.oldest is not None:
            span = f", reached {p.oldest:%Y-%m-%d %H:%M}"
        sys.stderr.write(f"\r{p.query} [{p.phase}]: {p.pages:,} pages, {p.posts:,} movement posts, "
                         f"{p.stored:,} posts read ({p.rate:,.0f}/s){span}\x1b[K")
        sys.stderr.flush()
        self.drawn = True

    def wait(self, reason: str, seconds: float) -> None:
        if not self.enabled:
            return
        sys.stderr.write(f"\r{reason}: waiting {seconds:,.1f} s\x1b[K")
        sys.stderr.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def cmd_collect(args: argparse.Namespace) -> int:
    from groundswell.collect.http import Client
    from groundswell.store import open_store

    platform = args.platform
    wrong = _BLUESKY_ONLY if platform == "mastodon" else _MASTODON_ONLY
    for name in wrong:
        value = getattr(args, name)
        if value not in (None, False, 0, []):
            other = "bluesky" if platform == "mastodon" else "mastodon"
            hint = {"reposts": " (mastodon: --reblogs)", "reblogs": " (bluesky: --reposts)"}.get(name, "")
            raise UsageError(f"--{name} is for 'collect {other}'{hint}")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    meter = _Meter(sys.stderr.isatty() and not args.quiet)
    client = Client(concurrency=args.concurrency, on_wait=meter.wait, timeout=args.timeout)
    try:
        with open_store(args.db) as store:
            if platform == "bluesky":
                summary = _bluesky(args, store, client, meter)
            else:
                summary = _mastodon(args, store, client, meter)
    finally:
        client.close()
        meter.end()
    if args.json:
        print(json.dumps(summary.as_dict(), default=str))
    if not args.quiet or not summary.ok:
        for line in summary.lines():
            print(line, file=sys.stderr)
    if summary.interrupted:
        return 130
    return 0 if summary.ok else 1


def _bluesky(args: argparse.Namespace, store: Any, client: Any, meter: _Meter) -> Any:
    from groundswell.collect.bluesky import DEFAULT_API, DEFAULT_PDS, Session, collect_bluesky

    handle, password = os.environ.get("BSKY_HANDLE"), os.environ.get("BSKY_APP_PASSWORD")
    if bool(handle) != bool(password):
        raise UsageError("set both BSKY_HANDLE and BSKY_APP_PASSWORD (an app password), or neither")
    session = Session(client, handle, password, os.environ.get("BSKY_PDS") or DEFAULT_PDS) \
        if handle and password else None
    return collect_bluesky(store, args.hashtag, client=client, since=args.since, until=args.until,
                           api=args.api or DEFAULT_API, session=session, threads=args.threads,
                           reposts=args.reposts, quotes=args.quotes, profiles=args.profiles,
                           followers=args.followers or 0, limit=args.limit, archive=args.archive,
                           concurrency=args.concurrency, on_progress=meter.page)


def _mastodon(args: argparse.Namespace, store: Any, client: Any, meter: _Meter) -> Any:
    from groundswell.collect.mastodon import collect_mastodon, instance

    if not args.instance:
        raise UsageError("collect mastodon needs --instance https://HOST (repeatable)")
    tokens = _tokens(args.token)
    default = os.environ.get("MASTODON_TOKEN") or None
    if default and len(args.instance) > 1:
        raise UsageError("MASTODON_TOKEN is one server's token and would go to every --instance: with several, "
                         "give --token HOST=TOKEN for each server that needs one (and unset MASTODON_TOKEN)")
    instances = [instance(url, tokens, default) for url in args.instance]
    unknown = set(tokens) - {i.host for i in instances}
    if unknown:
        raise UsageError(f"--token for {', '.join(sorted(unknown))}, which is not an --instance")
    return collect_mastodon(store, args.hashtag, instances, client=client, since=args.since, until=args.until,
                            threads=args.threads, reblogs=args.reblogs, limit=args.limit, archive=args.archive,
                            concurrency=args.concurrency, on_progress=meter.page)


def _concurrency(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= n <= 16:
        raise argparse.ArgumentTypeError("between 1 and 16")
    return n


def register(sub: Any) -> None:
    p = sub.add_parser(
        "collect", help="backfill a movement from Bluesky search or Mastodon hashtag timelines",
        description="Collect a movement's past from the platforms' APIs into the store: Bluesky's post search "
                    "(with threads, reposts, quotes, profiles, follows) or Mastodon hashtag timelines on one or "
                    "more instances (with contexts and boosts). Responses go through the same readers as "
                    "'ingest'. Each page is stored with its cursor in one transaction: Ctrl-C and the same "
                    "command again continue where it stopped, adding nothing twice. Rate limits are obeyed. "
                    "Bluesky credentials: BSKY_HANDLE and BSKY_APP_PASSWORD (BSKY_PDS for your own PDS). "
                    "See docs/collect.md.")
    p.add_argument("platform", choices=("bluesky", "mastodon"))
    p.add_argument("--hashtag", action="append", required=True, metavar="TAG",
                   help="a hashtag of the movement (without '#'); repeatable (posts with any of them)")
    p.add_argument("--since", metavar="TIME", help="only posts from TIME on (2025-01-31 or 2025-01-31T18:00:00Z; UTC)")
    p.add_argument("--until", metavar="TIME", help="only posts before TIME")
    add_db_option(p)
    p.add_argument("--api", metavar="URL",
                   help="bluesky: the AppView to call without a session (default https://public.api.bsky.app)")
    p.add_argument("--instance", action="append", metavar="URL",
                   help="mastodon: a server to ask, https://HOST; repeatable (statuses are deduplicated by URI)")
    p.add_argument("--token", action="append", metavar="HOST=TOKEN",
                   help="mastodon: the access token for HOST (HOST=@FILE reads it from FILE); repeatable. "
                        "With one --instance, MASTODON_TOKEN works too. Sent only over https")
    p.add_argument("--threads", action="store_true",
                   help="also the conversation of each movement post with replies (bluesky getPostThread, "
                        "mastodon statuses/:id/context)")
    p.add_argument("--reposts", action="store_true", help="bluesky: who reposted each movement post (getRepostedBy)")
    p.add_argument("--reblogs", action="store_true", help="mastodon: who boosted each movement status (reblogged_by)")
    p.add_argument("--quotes", action="store_true", help="bluesky: the posts quoting each movement post (getQuotes)")
    p.add_argument("--profiles", action="store_true",
                   help="bluesky: the profile (follower counts) of every participant (getProfiles)")
    p.add_argument("--followers", type=int, metavar="N",
                   help="bluesky: whom the N most active participants follow (getFollows), for cascades")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N movement posts (exactly; a rerun goes on)")
    p.add_argument("--archive", metavar="DIR",
                   help="also keep every response in DIR/<format>.jsonl ('groundswell ingest DIR' rebuilds the "
                        "same store)")
    p.add_argument("--concurrency", type=_concurrency, default=4, metavar="N",
                   help="requests in flight at once for threads, reposts, profiles... (1-16, default 4)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, and no summary unless something failed")
    p.set_defaults(func=cmd_collect)
