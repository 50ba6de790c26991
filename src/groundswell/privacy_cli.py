"""``groundswell forget`` and ``groundswell privacy``: thin wrappers around :mod:`groundswell.privacy`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from groundswell.errors import UsageError
from groundswell.spark_cli import add_db_option


def _db(p: argparse.ArgumentParser) -> None:
    add_db_option(p)


def cmd_forget(args: argparse.Namespace) -> int:
    from groundswell import privacy
    from groundswell.store import open_store

    if not (args.ids or args.account or args.pending):
        raise UsageError("forget what? give --ids FILE, --account ID (or @handle) or --pending")
    # the id file is read before the store is opened: a wrong path leaves the store as it was
    ids = privacy.read_id_file(args.ids) if args.ids and not args.pending else None
    with open_store(args.db, create=False) as store:
        if args.pending:
            res = privacy.apply_deletions(store)
            if not args.no_vacuum:
                res.compacted = privacy.compact(store)
        else:
            res = privacy.forget(store, ids, account=args.account, platform=args.platform,
                                 vacuum=not args.no_vacuum)
    d = res.as_dict()
    if args.json:
        print(json.dumps(d))
    else:
        print(f"forgot {d['posts']:,} posts ({d['referencing']:,} posts embedding them scrubbed), "
              f"{d['accounts']:,} account observations, {d['derived_rows']:,} derived rows"
              + (f", dropped {', '.join(d['dropped_caches'])}" if d["dropped_caches"] else "")
              + ("; file rewritten" if d["compacted"] else "; file NOT rewritten (old bytes may remain)"),
              file=sys.stderr)
    return 0


def _followers(v: str) -> int | None:
    if v.lower() in ("none", "off", ""):
        return None
    try:
        n = int(v.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--min-followers wants a number or 'none', got {v!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("--min-followers must be 0 or more")
    return n


def cmd_privacy(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from groundswell import privacy
    from groundswell.store import open_store

    with open_store(args.db, create=False) as store:
        privacy.ensure_secret(store)
        pol = privacy.Policy.from_store(store)
        changes: dict[str, Any] = {}
        if args.verified is not None:
            changes["verified"] = args.verified
        if args.min_followers is not False:
            changes["min_followers"] = args.min_followers
        allow = set(pol.allowlist)
        allow.update(a.strip() for a in args.allow or () if a.strip())
        allow.difference_update(a.strip() for a in args.disallow or ())
        if allow != set(pol.allowlist):
            changes["allowlist"] = frozenset(allow)
        if args.redact_exports is not None:
            changes["redact"] = args.redact_exports
        if changes:
            replace(pol, **changes).save(store)
        if args.redact_store is not None:
            store.set_meta("privacy.redact_store", "true" if args.redact_store else "false")
        if args.expires is not None:
            privacy.set_expiry(store, None if args.expires.lower() in ("never", "none", "") else args.expires)
        d = privacy.settings(store)
    if args.json:
        print(json.dumps(d))
        return 0
    pf = d["public_figures"]
    rule = []
    if pf["verified"]:
        rule.append("verified")
    if pf["min_followers"] is not None:
        rule.append(f">= {pf['min_followers']:,} followers")
    if pf["allowlist"]:
        rule.append("allowlist: " + ", ".join(pf["allowlist"]))
    print(f"public figures   {' or '.join(rule) or 'nobody'} (everyone else appears as a pseudonym)")
    print(f"redact exports   {'yes' if d['redact_exports'] else 'no'}")
    print(f"redact at ingest {'yes' if d['redact_store'] else 'no'}")
    print(f"expires          {d['expires'] or 'never'}")
    print(f"forgotten        {d['forgotten_accounts']:,} accounts")
    if d["retention_warning"]:
        print(d["retention_warning"], file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("forget", help="remove posts or an account from the store, for good",
                       description="Record deletions and remove the posts' text and identifying fields from "
                                   "every table, then rewrite the store file so the old bytes are gone.")
    _db(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--ids", metavar="FILE", help="post ids, one per line (ID or PLATFORM,ID); '-' for stdin")
    g.add_argument("--account", metavar="ID", help="an account id or @handle: all its posts and profile")
    g.add_argument("--pending", action="store_true",
                   help="finish deletions already recorded (Jetstream deletes, compliance files) in every table")
    p.add_argument("--platform", help="the platform of the ids or account (default: any)")
    p.add_argument("--no-vacuum", action="store_true",
                   help="skip rewriting the file (faster; freed blocks may still hold old bytes)")
    p.add_argument("--json", action="store_true", help="print what was done as JSON")
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser("privacy", help="the store's privacy settings: public figures, redaction, expiry",
                       description="Show or change the store's privacy settings. Outputs are pseudonymous "
                                   "by default: accounts that are not public figures appear as stable "
                                   "pseudonyms keyed by a per-store secret (created here if missing).")
    _db(p)
    v = p.add_mutually_exclusive_group()
    v.add_argument("--verified", dest="verified", action="store_true", default=None,
                   help="verified accounts are public figures (default)")
    v.add_argument("--no-verified", dest="verified", action="store_false",
                   help="verification alone does not make a public figure")
    p.add_argument("--min-followers", type=_followers, default=False, metavar="N",
                   help="followers that make a public figure (default 10000; 'none' to turn off)")
    p.add_argument("--allow", action="append", metavar="WHO", help="add @handle, id or platform:id to the allowlist")
    p.add_argument("--disallow", action="append", metavar="WHO", help="remove from the allowlist")
    r = p.add_mutually_exclusive_group()
    r.add_argument("--redact-store", dest="redact_store", action="store_true", default=None,
                   help="redact e-mails, phone numbers and addresses in text at ingest")
    r.add_argument("--no-redact-store", dest="redact_store", action="store_false")
    e = p.add_mutually_exclusive_group()
    e.add_argument("--redact-exports", dest="redact_exports", action="store_true", default=None,
                   help="redact in outputs by default (the default)")
    e.add_argument("--no-redact-exports", dest="redact_exports", action="store_false")
    p.add_argument("--expires", metavar="DATE", help="the store's expiry date (YYYY-MM-DD, or 'never')")
    p.add_argument("--json", action="store_true", help="print the settings as JSON")
    p.set_defaults(func=cmd_privacy)
