"""Which columns and JSON paths name people: the one declaration every output passes through.

Every shareable output is a *layout* (the store's tables as exported, the
twarc-csv layout, the network files, the dashboard's post payloads) and every
column of every layout has a :class:`Field`: its *role* (what it holds, hence
what a pseudonymous output does with it, :data:`ROLES`) and its *encoding*
(a plain string, an Arrow list of strings, a JSON document in a string, or
twarc-csv's text with newlines written as ``\\n``). A layout also names its
*owner* columns: the account whose post or profile the row is (its id and
handle), whose public-figure status decides the row's own post id, profile,
place and text.

:mod:`groundswell.privacy.outputs` applies the declaration; a column that is
not declared is left out of a pseudonymous output (fail closed), and
``tests/privacy/test_fields.py`` fails when any output has such a column. The
roles are applied unless the policy says ``identify`` (handles and ids shown);
text rules (:mod:`.withholding`) and redaction apply in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundswell import model

__all__ = ["CLIENT_MIN_ACCOUNTS", "LAYOUTS", "RESULT_KEYS", "ROLES", "Field", "Layout", "layout_for"]

# role -> what a pseudonymous output does with it
ROLES: dict[str, str] = {
    "none": "names nobody (times, kinds, counts, languages, hashtags, the platform): kept",
    "account": "an account id: the account's pseudonym unless it is a public figure",
    "handle": "a handle: the account's pseudonym unless it is a public figure",
    "post": "a post id: a post label unless its author is a public figure",
    "text": "what a person wrote: shown only as withholding allows (its author's rule; a repost's is the "
            "original author's), with mentions, links and ids of private people rewritten, then redacted",
    "text_derived": "derived from the text (annotations, topics, poll options): kept only when the text "
                    "itself is shown",
    "profile": "the owner's profile (display name, bio, profile links and picture, account creation): "
               "kept only for public figures",
    "location": "where the owner was (place, country, coordinates, profile location): kept only for "
                "public figures",
    "urls": "links: links to accounts and posts (twitter.com/x.com, bsky.app, at://, Mastodon and other "
            "/@name addresses) rewritten with pseudonyms and post labels; on any other site, what the link "
            "carries of a private person (a link inside it, a DID, the id of a stored Twitter post or account) "
            "rewritten the same way",
    "media": "the owner's media: the kind kept, addresses and keys only for public figures",
    "client": "the app a post was made with: kept for public figures, and for others only when at least "
              "CLIENT_MIN_ACCOUNTS accounts in the store used it (a custom app can be named after its owner)",
    "query": "collection queries, rules and API addresses: handles, account ids and links in them rewritten",
    "raw": "the original JSON: never in a pseudonymous or redacted output",
    "provenance": "the input file and line a row came from: kept",
}

ENCODINGS = ("plain", "list", "json", "escaped")
CLIENT_MIN_ACCOUNTS = 10


@dataclass(frozen=True)
class Field:
    role: str
    encoding: str = "plain"  # plain | list (Arrow list of strings) | json (a JSON document) | escaped (\\n)
    prefix: str = ""         # a handle written with its '@' (twarc-csv's entities.mentions)
    own: bool = False        # a post id of the row's owner (their pinned post, an earlier edit)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.encoding!r}")


@dataclass(frozen=True)
class Layout:
    """The columns of one output and whose row it is."""

    name: str
    fields: dict[str, Field]
    owner_id: str | None = None      # the column holding the owner's account id
    owner_handle: str | None = None  # ... and handle
    own_post: str | None = None      # the column holding the row's own post id
    repost_of: str | None = None     # the reposted post (whose author's rule governs the text)
    reposted_author: str | None = None  # the reposted post's author id, when the layout has it
    verified: str | None = None      # the owner's verification and follower count, when the layout has them
    followers: str | None = None

    def role(self, column: str) -> str | None:
        f = self.fields.get(column)
        return f.role if f else None

    def columns(self, role: str) -> list[str]:
        return [c for c, f in self.fields.items() if f.role == role]


_N = Field("none")
_P = Field("provenance")

# ------------------------------------------------------------------ the store's tables

POSTS = Layout("posts", {
    "platform": _N, "id": Field("post"), "author_id": Field("account"), "author_handle": Field("handle"),
    "created_at": _N, "text": Field("text"), "lang": _N, "kind": _N,
    "repost_of_id": Field("post"), "reply_to_id": Field("post"), "reply_to_author_id": Field("account"),
    "quote_of_id": Field("post"), "conversation_id": Field("post"),
    "hashtags": _N, "hashtags_raw": _N, "mentions": Field("handle", "list"), "mention_ids": Field("account", "list"),
    "urls": Field("urls", "list"), "media": Field("media", "list"), "place": Field("location"),
    "country": Field("location"), "source": Field("client"), "sensitive": _N,
    "repost_count": _N, "reply_count": _N, "like_count": _N, "quote_count": _N, "metrics_observed_at": _N,
    "is_reference": _N, "deleted": _N, "raw": Field("raw"), "source_file": _P, "source_line": _P,
}, owner_id="author_id", owner_handle="author_handle", own_post="id", repost_of="repost_of_id")

ACCOUNTS = Layout("accounts", {
    "platform": _N, "id": Field("account"), "observed_at": _N, "handle": Field("handle"),
    "display_name": Field("profile"), "followers": _N, "following": _N, "posts_count": _N, "verified": _N,
    "created_at": Field("profile"), "description": Field("profile"), "location": Field("location"),
    "raw": Field("raw"), "source_file": _P, "source_line": _P,
}, owner_id="id", owner_handle="handle", verified="verified", followers="followers")

VOLUMES = Layout("volumes", {
    "platform": _N, "query": Field("query"), "start": _N, "end": _N, "count": _N,
    "source_file": _P, "source_line": _P,
})

DELETIONS = Layout("deletions", {
    "platform": _N, "id": Field("post"), "author_id": Field("account"), "deleted_at": _N, "reason": _N,
    "source_file": _P, "source_line": _P,
}, owner_id="author_id", own_post="id")

FOLLOWS = Layout("follows", {
    "platform": _N, "follower_id": Field("account"), "followed_id": Field("account"),
    "source_file": _P, "source_line": _P,
})

REJECTS = Layout("rejects", {
    "source_file": _P, "source_line": _P, "format": _N, "reason": _N, "bytes": _N,
})

# ------------------------------------------------------------------ twarc-csv (84 columns)

_J = "json"
TWARC_CSV = Layout("twarc-csv", {
    "id": Field("post"), "conversation_id": Field("post"), "referenced_tweets.replied_to.id": Field("post"),
    "referenced_tweets.retweeted.id": Field("post"), "referenced_tweets.quoted.id": Field("post"),
    "author_id": Field("account"), "in_reply_to_user_id": Field("account"), "in_reply_to_username": Field("handle"),
    "retweeted_user_id": Field("account"), "retweeted_username": Field("handle"),
    "quoted_user_id": Field("account"), "quoted_username": Field("handle"),
    "created_at": _N, "text": Field("text", "escaped"), "lang": _N, "source": Field("client"),
    "public_metrics.impression_count": _N, "public_metrics.reply_count": _N, "public_metrics.retweet_count": _N,
    "public_metrics.quote_count": _N, "public_metrics.like_count": _N, "public_metrics.bookmark_count": _N,
    "reply_settings": _N, "edit_history_tweet_ids": Field("post", _J, own=True),
    "edit_controls.edits_remaining": _N, "edit_controls.editable_until": _N, "edit_controls.is_edit_eligible": _N,
    "possibly_sensitive": _N, "withheld.scope": _N, "withheld.copyright": _N, "withheld.country_codes": _N,
    "entities.annotations": Field("text_derived", _J), "entities.cashtags": _N, "entities.hashtags": _N,
    "entities.mentions": Field("handle", _J, prefix="@"), "entities.urls": Field("urls", _J),
    "context_annotations": Field("text_derived", _J),
    "attachments.media": Field("media", _J), "attachments.media_keys": Field("media", _J),
    "attachments.poll.duration_minutes": _N, "attachments.poll.end_datetime": _N, "attachments.poll.id": _N,
    "attachments.poll.options": Field("text_derived", _J), "attachments.poll.voting_status": _N,
    "attachments.poll_ids": _N,
    "author.id": Field("account"), "author.created_at": Field("profile"), "author.username": Field("handle"),
    "author.name": Field("profile"), "author.description": Field("profile"),
    "author.entities.description.cashtags": Field("profile"), "author.entities.description.hashtags": Field("profile"),
    "author.entities.description.mentions": Field("profile"), "author.entities.description.urls": Field("profile"),
    "author.entities.url.urls": Field("profile"), "author.url": Field("profile"), "author.location": Field("location"),
    "author.pinned_tweet_id": Field("post", own=True), "author.profile_image_url": Field("profile"),
    "author.protected": _N,
    "author.public_metrics.followers_count": _N, "author.public_metrics.following_count": _N,
    "author.public_metrics.listed_count": _N, "author.public_metrics.tweet_count": _N,
    "author.verified": _N, "author.verified_type": _N,
    "author.withheld.scope": _N, "author.withheld.copyright": _N, "author.withheld.country_codes": _N,
    "geo.coordinates.coordinates": Field("location"), "geo.coordinates.type": Field("location"),
    "geo.country": Field("location"), "geo.country_code": Field("location"), "geo.full_name": Field("location"),
    "geo.geo.bbox": Field("location"), "geo.geo.type": Field("location"), "geo.id": Field("location"),
    "geo.name": Field("location"), "geo.place_id": Field("location"), "geo.place_type": Field("location"),
    "matching_rules": Field("query", _J), "__twarc.retrieved_at": _N, "__twarc.url": Field("query"),
    "__twarc.version": _N,
}, owner_id="author_id", owner_handle="author.username", own_post="id",
    repost_of="referenced_tweets.retweeted.id", reposted_author="retweeted_user_id",
    verified="author.verified", followers="author.public_metrics.followers_count")

# ------------------------------------------------------------------ networks (node and link attributes)

_NET_COMMON = {"handle": Field("handle"), "account_id": Field("account"), "start_date": _N}
NETWORK_USERS = Layout("network-users", {"id": Field("handle"), **_NET_COMMON},
                       owner_id="account_id", owner_handle="handle")
NETWORK_POSTS = Layout("network-posts", {"id": Field("post"), **_NET_COMMON},
                       owner_id="account_id", owner_handle="handle", own_post="id")
NETWORK_HASHTAGS = Layout("network-hashtags", {"id": _N, "start_date": _N})
NETWORK_LINKS = Layout("network-links", {
    "source": _N, "target": _N,  # node ids, relabelled with their nodes
    "weight": _N, "type": _N, "repost": _N, "reply": _N, "quote": _N, "mention": _N, "start_date": _N,
})

# ------------------------------------------------------------------ the dashboard's post payload (/api/post/REF)

DASHBOARD_POST = Layout("dashboard-post", {
    "ref": Field("post"), "platform": _N, "author": Field("account"), "author_public": _N, "time": _N,
    "kind": _N, "lang": _N, "hashtags": _N, "labels": _N, "text": Field("text"), "text_withheld": _N,
    "repost_of": Field("post"), "reply_to": Field("post"), "quote_of": Field("post"), "observed": _N,
    "reported": _N, "tree": _N, "privacy": _N,
}, owner_id="author", own_post="ref")

LAYOUTS: dict[str, Layout] = {lay.name: lay for lay in (
    POSTS, ACCOUNTS, VOLUMES, DELETIONS, FOLLOWS, REJECTS, TWARC_CSV,
    NETWORK_USERS, NETWORK_POSTS, NETWORK_HASHTAGS, NETWORK_LINKS, DASHBOARD_POST)}

# the store's tables, as the model defines them: a column added to the model without a role fails a test
STORE_TABLES = {name: LAYOUTS[name] for name in model.SCHEMAS}

# keys of analysis results (``analyze --json``, views) that name people; every other key is an aggregate
RESULT_KEYS: dict[str, Field] = {
    "account_id": Field("account"), "handle": Field("handle"), "author_id": Field("account"),
    "post_id": Field("post"), "join_post_id": Field("post"), "text": Field("text"),
}


def layout_for(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"no layout {name!r}; layouts: {', '.join(LAYOUTS)}") from None
