"""Redaction of e-mails, phone numbers and street addresses (synthetic text only)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundswell.privacy import redact, redact_posts_table


@pytest.mark.parametrize("text, token", [
    ("write to jane.doe@example.com today", "[email]"),
    ("x+tag@mail.example.co.uk", "[email]"),
    ("call +44 20 7946 0958", "[phone]"),
    ("call +1 (555) 123-4567", "[phone]"),
    ("call (555) 123-4567", "[phone]"),
    ("call 555-123-4567", "[phone]"),
    ("call 555.123.4567", "[phone]"),
    ("call 5551234567", "[phone]"),
    ("appelle 06 12 34 56 78", "[phone]"),
    ("ruf an 0049 30 1234567", "[phone]"),
    ("ring 020 7946 0958", "[phone]"),
    ("at 221B Baker Street tonight", "[address]"),
    ("at 1600 Pennsylvania Ave NW", "[address]"),
    ("at 42 Elm St, Apt 4", "[address]"),
    ("wohne Hauptstraße 12a", "[address]"),
    ("wohne Musterstr. 5", "[address]"),
    ("wohne Berliner Straße 3", "[address]"),
    ("woon Kerkstraat 4", "[address]"),
    ("au 12 rue de la Paix", "[address]"),
    ("in Via Roma 10", "[address]"),
    ("en Calle de Alcalá 42", "[address]"),
])
def test_redacts(text: str, token: str) -> None:
    out = redact(text)
    assert token in out
    # the personal part is gone: no run of 4+ digits and no '@domain' survives
    assert "@example" not in out and "7946" not in out and "1234" not in out


@pytest.mark.parametrize("text", [
    "#MeToo since 2017, I was 19",
    "on 2017-10-15 and 15.10.2017",
    "1 234 567 posts and 10,000 likes",
    "tweet 921234567890123456 is gone",
    "follow @alice@mastodon.social and @bob.bsky.social",
    "3 times in 12 months, 45 minutes",
    "the main street is busy",
])
def test_leaves_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_none_and_empty() -> None:
    assert redact(None) is None
    assert redact("") == ""


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_redact_never_crashes_and_is_idempotent(text: str) -> None:
    once = redact(text)
    assert isinstance(once, str)
    assert redact(once) == once


@settings(max_examples=60, deadline=None)
@given(user=st.from_regex(r"[a-z][a-z0-9._]{0,15}", fullmatch=True),
       host=st.from_regex(r"[a-z][a-z0-9-]{1,10}\.(com|org|de|fr)", fullmatch=True),
       before=st.sampled_from(["", "mail ", "(", "write: "]), after=st.sampled_from(["", " now", ").", ","]))
def test_any_email_is_redacted(user: str, host: str, before: str, after: str) -> None:
    addr = f"{user}@{host}"
    out = redact(before + addr + after)
    assert addr not in out and "[email]" in out


def test_redact_posts_table_drops_raw_only_where_text_changed() -> None:
    t = pa.table({"id": ["1", "2", "3"],
                  "text": ["mail a.b@example.org", "nothing here", None],
                  "raw": ['{"text": "mail a.b@example.org"}', '{"text": "nothing here"}', None]})
    out = redact_posts_table(t)
    assert out.column("text").to_pylist() == ["mail [email]", "nothing here", None]
    assert out.column("raw").to_pylist() == [None, '{"text": "nothing here"}', None]
    assert out.schema == t.schema
