"""Stores for the report and dashboard tests: a simulated movement, labelled; and a hostile one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAYLOAD_MARK = "__gs_pwned"
TEXT_PAYLOAD = (f' <script>window.{PAYLOAD_MARK}=1</script> <img src=x onerror="window.{PAYLOAD_MARK}=2"> '
                f'javascript:window.{PAYLOAD_MARK}=3 "><svg onload=window.{PAYLOAD_MARK}=4>')
HANDLE_PAYLOAD = f"<img src=x onerror=window.{PAYLOAD_MARK}=5>"
TAG_PAYLOAD = f"x<svg/onload=window.{PAYLOAD_MARK}=6>"

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHROMIUM = "/usr/bin/chromium"


def simulated_store(tmp: Path, *, posts: int = 3000, seed: int = 1, classify: bool = True,
                    hostile: bool = False) -> Path:
    """Simulate a movement, optionally poison it with script payloads, ingest, label."""
    from groundswell import privacy
    from groundswell.ingest import ingest
    from groundswell.simulate import SimConfig, simulate
    from groundswell.store import open_store

    out = tmp / "sim"
    res = simulate(SimConfig(posts=posts, seed=seed), out=str(out))
    files = [Path(f) for f in res.files]
    if hostile:
        files = [_poison(f) if f.name.startswith("posts") else f for f in files]
    db = tmp / "store.duckdb"
    with open_store(db) as s:
        ingest(s, [str(f) for f in files], progress=False)
        privacy.ensure_secret(s)
        if classify:
            from groundswell.content import classify_store

            classify_store(s, model="fast")
    return db


def _poison(path: Path) -> Path:
    """Every text, handle, name, URL and hashtag of a twarc2 file gets a script payload."""
    out = path.with_name("hostile-" + path.name)
    with open(path, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for line in f:
            page: dict[str, Any] = json.loads(line)
            tweets = list(page.get("data") or []) + list((page.get("includes") or {}).get("tweets") or [])
            for t in tweets:
                t["text"] = t.get("text", "") + TEXT_PAYLOAD
                ents = t.setdefault("entities", {})
                ents.setdefault("hashtags", []).append({"start": 0, "end": 1, "tag": TAG_PAYLOAD})
                ents["urls"] = [{"start": 0, "end": 1, "url": f"javascript:window.{PAYLOAD_MARK}=7",
                                 "expanded_url": f"javascript:window.{PAYLOAD_MARK}=7"}]
            for u in (page.get("includes") or {}).get("users") or []:
                u["username"] = HANDLE_PAYLOAD + u["username"]
                u["name"] = TEXT_PAYLOAD
                u["description"] = TEXT_PAYLOAD
            g.write(json.dumps(page) + "\n")
    return out


def launch(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
