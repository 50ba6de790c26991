"""twarc2 list-lookup pages (``twitter-lists``): read, nothing stored.

``twarc2 lists owned``/``followed``/``lookup`` write pages whose ``data``
are Twitter lists (``{"id", "name", "owner_id", "member_count", ...}``), not
tweets or users. groundswell's data model has no lists, so a page of them is
read (and counted as read, not rejected) and nothing is stored;
:data:`NOTHING_STORED` is what ``ingest`` says about such a file.
"""

from __future__ import annotations

from typing import Any

from groundswell.errors import RecordError
from groundswell.formats.base import Sink

NAME = "twitter-lists"
NOTHING_STORED = ("twarc2 list-lookup pages: Twitter lists are not in groundswell's data model, "
                  "so the file was read and nothing stored")


def _is_list_object(item: Any) -> bool:
    return isinstance(item, dict) and "id" in item and ("member_count" in item or "owner_id" in item) \
        and "text" not in item and "username" not in item


def sniff(obj: Any) -> bool:
    """A page whose ``data`` is a non-empty list of Twitter lists."""
    if not isinstance(obj, dict):
        return False
    data = obj.get("data")
    return isinstance(data, list) and bool(data) and _is_list_object(data[0])


def parse(obj: Any, sink: Sink) -> None:
    """Check that the record is a page of lists; store nothing."""
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        raise RecordError("not a twarc2 list-lookup page: no 'data' list")
    if not all(_is_list_object(x) for x in obj["data"]):
        raise RecordError("a list-lookup page holding something other than lists")
