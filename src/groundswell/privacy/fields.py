"""Which columns and JSON paths name people: the one declaration every output passes through."""

from __future__ import annotations

__all__ = ["ACCOUNT_ID_COLUMNS", "DROP_COLUMNS", "HANDLE_COLUMNS", "POST_ID_COLUMNS", "PROFILE_COLUMNS",
           "TEXT_COLUMNS", "TWARC_CSV_ROLES"]

# default column roles, by name (analysis outputs that use these names need no arguments)
ACCOUNT_ID_COLUMNS = ("author_id", "reply_to_author_id", "mention_ids", "account_id", "user_id",
                      "source_author_id", "target_author_id")
HANDLE_COLUMNS = ("author_handle", "mentions", "handle", "username", "screen_name")
POST_ID_COLUMNS = ("repost_of_id", "reply_to_id", "quote_of_id", "conversation_id", "post_id",
                   "source_id", "target_id")
TEXT_COLUMNS = ("text",)
PROFILE_COLUMNS = ("display_name", "description", "location", "author_name")
DROP_COLUMNS = ("raw",)


# twarc-csv's columns by role, for pseudonymous Twitter CSV exports
TWARC_CSV_ROLES: dict[str, tuple[str, ...]] = {
    "account": ("author_id", "in_reply_to_user_id", "retweeted_user_id", "quoted_user_id", "author.id"),
    "handle": ("in_reply_to_username", "retweeted_username", "quoted_username", "author.username"),
    "post": ("id", "conversation_id", "referenced_tweets.replied_to.id", "referenced_tweets.retweeted.id",
             "referenced_tweets.quoted.id"),
    "text": ("text",),
    "profile": ("author.name", "author.description", "author.location", "author.url",
                "author.profile_image_url", "author.pinned_tweet_id", "author.entities.description.cashtags",
                "author.entities.description.hashtags", "author.entities.description.mentions",
                "author.entities.description.urls", "author.entities.url.urls",
                "geo.coordinates.coordinates", "geo.coordinates.type", "geo.full_name", "geo.id", "geo.name",
                "geo.place_id", "geo.geo.bbox"),
    # JSON lists naming other people or the post's own ids: emptied unless --identify
    "blank": ("entities.mentions", "edit_history_tweet_ids"),
}

