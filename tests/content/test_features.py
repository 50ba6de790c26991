"""The hashed features: deterministic, per-text, numpy only."""

from __future__ import annotations

import numpy as np

from groundswell.content.features import feature_groups, hash_features, normalize

TEXTS = [
    "It happened to me at work years ago. #MeToo",
    "",
    "Read the report on the allegations http://example.org/a @someone",
    "I stand with every survivor who spoke up today",
]


def test_same_features_alone_and_in_a_batch() -> None:
    batch = hash_features(TEXTS).toarray()
    for i, t in enumerate(TEXTS):
        alone = hash_features([t]).toarray()[0]
        np.testing.assert_allclose(batch[i], alone, rtol=1e-6)


def test_deterministic_values_and_shape() -> None:
    a = hash_features(TEXTS, bits=12)
    b = hash_features(TEXTS, bits=12)
    assert a.shape == (4, 4096)
    assert (a != b).nnz == 0
    assert a[1].nnz == 0  # an empty text has no features
    assert a[0].nnz > 20


def test_groups_add_up_to_the_matrix() -> None:
    total = sum(g.toarray() for g in feature_groups(TEXTS, bits=10))
    np.testing.assert_allclose(total, hash_features(TEXTS, bits=10).toarray(), rtol=1e-5, atol=1e-6)


def test_links_and_mentions_are_replaced() -> None:
    t = normalize("See https://t.co/abc and @Somebody now")
    assert "t.co" not in t and "somebody" not in t
    assert "httpurl" in t and "@user" in t
    # two texts that differ only in link and handle have the same features
    a = hash_features(["x https://a.example/1 @one", "x https://b.example/2 @two"]).toarray()
    np.testing.assert_allclose(a[0], a[1])


def test_non_ascii_and_nul_bytes() -> None:
    X = hash_features(["café \x00 naïve …", "日本語のテキスト"])
    assert X.shape[0] == 2 and X[0].nnz > 0 and X[1].nnz > 0


def test_reply_and_retweet_addressing_is_not_content() -> None:
    assert normalize("@one @two I was there") == normalize("I was there") == "i was there"
    assert normalize("RT @one: me too #MeToo") == normalize("me too #MeToo")
    assert "@user" in normalize("ask @one about it")  # a mention inside the text stays
    a = hash_features(["@someone It happened to me too.", "RT @x: It happened to me too.",
                       "It happened to me too."]).toarray()
    np.testing.assert_allclose(a[0], a[2])
    np.testing.assert_allclose(a[1], a[2])
