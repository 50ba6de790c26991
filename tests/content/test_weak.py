"""The weak labelling rules (sentences written for these tests)."""

from __future__ import annotations

from groundswell.content.weak import first_time_rule, movement_rule


def test_rules() -> None:
    assert movement_rule("My boss groped me at the office party when I was 22.") == "disclosure"
    assert movement_rule("I was harassed on the bus for months") == "disclosure"
    assert movement_rule("I believe you. You are not alone.") == "support"
    assert movement_rule("This is a witch hunt and false accusations ruin lives") == "opposition"
    assert movement_rule("Report: director accused of misconduct http://example.org/x") == "news"
    assert movement_rule("Lovely weather for a walk") is None
    assert movement_rule("") is None and movement_rule(None) is None


def test_first_time() -> None:
    assert first_time_rule("I have never told anyone this before")
    assert first_time_rule("First time I say this out loud")
    assert not first_time_rule("I told my sister the next day")
