"""``groundswell serve``: the dashboard (:func:`groundswell.web.app.create_app`) under uvicorn."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from urllib.parse import quote

from groundswell.errors import UsageError
from groundswell.spark_cli import add_db_option

__all__ = ["register", "run"]


def _follower(args: argparse.Namespace) -> Any:
    from groundswell.live.follower import Follower

    if args.source == "jetstream":
        from groundswell.live.jetstream import JetstreamSource

        try:
            source: Any = JetstreamSource(args.follow)
        except ValueError as e:
            raise UsageError(str(e)) from None
    else:
        from groundswell.live.mastodon import MastodonSource

        try:
            source = MastodonSource(args.follow, hashtag=args.hashtag[0] if args.hashtag else None,
                                    token=os.environ.get("MASTODON_ACCESS_TOKEN"), insecure=args.insecure)
        except ValueError as e:
            raise UsageError(str(e)) from None
    return Follower(source, args.db, hashtags=args.hashtag or (),
                    on_status=lambda msg: print(f"follow: {msg}", file=sys.stderr))


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ModuleNotFoundError:
        raise UsageError("the dashboard needs uvicorn: pip install 'groundswell[web]'") from None
    from groundswell.privacy import ensure_pseudonym_key
    from groundswell.store import open_store
    from groundswell.store.duck import Store
    from groundswell.web.app import create_app, loopback, new_token

    token = args.token or os.environ.get("GROUNDSWELL_TOKEN") or None
    if not loopback(args.host) and token is None:
        token = new_token()
    follower = None
    if args.follow:
        follower = _follower(args)
        from groundswell import privacy

        privacy.ensure_secret(follower.store)
        store = Store(follower.reader(), follower.store.path, read_only=False)
    else:
        if ensure_pseudonym_key(args.db):
            print(f"created the pseudonym key of {args.db}", file=sys.stderr)
        store = open_store(args.db, read_only=True)
    app = create_app(store, token=token, identify=args.identify, follower=follower, host=args.host,
                     allow_hosts=args.allow_host or ())
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}/" + (f"?token={quote(token, safe='')}" if token else "")
    print(f"groundswell dashboard on {url} ({'following ' + args.follow if follower else 'read-only'}; "
          f"Ctrl-C to stop)", file=sys.stderr)
    if follower is not None:
        follower.start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        if follower is not None:
            stats = follower.stop()
            print(f"follow: {stats.line()}", file=sys.stderr)
        else:
            store.close()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="the web dashboard (read-only; live trending with --follow)",
                       description="Serve the dashboard: movements with the report's views, filters, drill-down "
                                   "to posts and accounts, a live trending board, exports and a JSON API "
                                   "(/openapi.json). Opens the store read-only; binds to 127.0.0.1; any other "
                                   "address requires an access token.")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--token", metavar="TOKEN",
                   help="access token (also GROUNDSWELL_TOKEN); made up and printed when --host is not loopback")
    p.add_argument("--allow-host", action="append", metavar="NAME",
                   help="also answer requests for this host name (a reverse proxy's, the machine's); by default "
                        "only the bound address and loopback names are answered, so that other web pages "
                        "cannot read the dashboard (DNS rebinding)")
    p.add_argument("--identify", action="store_true", help="name every account by its handle (pages say so)")
    p.add_argument("--follow", metavar="URL",
                   help="also follow this live source into the store (this process then writes the store)")
    p.add_argument("--source", choices=("jetstream", "mastodon"), default="jetstream",
                   help="the kind of --follow source (default jetstream)")
    p.add_argument("--hashtag", action="append", metavar="TAG", help="--follow: keep only posts with these hashtags")
    p.add_argument("--insecure", action="store_true",
                   help="--follow: allow sending MASTODON_ACCESS_TOKEN over plain http:// or ws://")
    p.set_defaults(func=run)
