"""Small synthetic archives for the privacy tests (no real person's text)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def user(uid: str, name: str, followers: int = 10, verified: bool = False) -> dict[str, Any]:
    return {"id": uid, "username": name, "name": f"Name {name}", "description": f"bio of {name}",
            "location": f"Town of {name}", "verified": verified,
            "public_metrics": {"followers_count": followers, "following_count": 1, "tweet_count": 5}}


def tweet(tid: str, author: str, text: str, refs: list[tuple[str, str]] = (), mentions: list[str] = ()
          ) -> dict[str, Any]:
    t: dict[str, Any] = {"id": tid, "author_id": author, "text": text, "created_at": "2017-10-16T12:00:00.000Z",
                         "conversation_id": tid, "lang": "en"}
    if refs:
        t["referenced_tweets"] = [{"type": k, "id": i} for k, i in refs]
    ents: dict[str, Any] = {}
    if mentions:
        ents["mentions"] = [{"username": m, "start": 0, "end": len(m) + 1} for m in mentions]
    if "#MeToo" in text:
        ents["hashtags"] = [{"tag": "MeToo", "start": 0, "end": 6}]
    if ents:
        t["entities"] = ents
    return t


def page(data: list[dict[str, Any]], users: list[dict[str, Any]], inc_tweets: list[dict[str, Any]] = ()
         ) -> dict[str, Any]:
    return {"data": data, "includes": {"users": users, "tweets": list(inc_tweets)},
            "meta": {"result_count": len(data)},
            "__twarc": {"retrieved_at": "2017-10-17T00:00:00+00:00", "url": "x", "version": "2"}}


def write_jsonl(path: Path, objs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


SECRET_A = "MARKERALPHAqz7Kx9Wv"   # in the post to forget
SECRET_B = "MARKERBRAVOpq3Jr8Ty"   # in the posts a compliance file deletes
KEEP = "KEEPSAKEcharlie5Lm2Nb"     # in a post that must survive


def movement(tmp: Path) -> Path:
    """A twarc2 file: a private person's disclosure and reactions, a public figure, bystanders."""
    alice = user("101", "alice_private", followers=12)
    bob = user("102", "bob_private", followers=40)
    star = user("103", "famous_star", followers=2_000_000, verified=True)
    carol = user("104", "carol_bystander", followers=3)
    p1 = tweet("9001", "101", f"#MeToo it happened to me {SECRET_A} write jane.doe@example.com or +44 20 7946 0958")
    rt = tweet("9002", "102", f"RT @alice_private: #MeToo it happened to me {SECRET_A}", [("retweeted", "9001")],
               ["alice_private"])
    q = tweet("9003", "104", "@alice_private we believe you #MeToo", [("quoted", "9001")], ["alice_private"])
    s1 = tweet("9004", "103", f"#MeToo I stand with survivors {KEEP}")
    b1 = tweet("9005", "102", f"#MeToo {SECRET_B} one", [], [])
    b2 = tweet("9006", "104", f"#MeToo {SECRET_B} two", [("replied_to", "9005")], ["bob_private"])
    pg = page([p1, rt, q, s1, b1, b2], [alice, bob, star, carol], [p1])
    return write_jsonl(tmp / "movement.jsonl", [pg])
