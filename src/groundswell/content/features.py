"""Hashed text features for the fast model, computed with numpy alone.

Each text is lower-cased, links become the token ``httpurl`` and mentions the
token ``@user`` (so no handle or link reaches a model), and the addressing a
platform puts before a reply or a retweet (leading ``@user`` tokens, ``RT
@user:``) is dropped: it says to whom, not what, and the same words must get
the same labels whether they open a thread or answer in it. Three groups of features
are hashed into one space of ``2**bits`` columns:

* word unigrams and word bigrams (a word is a run of letters, digits, ``_``,
  ``#``, ``@``, ``'`` or any non-ASCII byte);
* character 3-, 4- and 5-grams of the text with every run of other characters
  squeezed to one space and a space added at both ends (like scikit-learn's
  ``char_wb``).

The hash is a polynomial rolling hash over UTF-8 bytes (mod 2**64) followed by
the splitmix64 finalizer: deterministic across runs, machines and Python
versions (Python's own ``hash`` is salted per process). The column is the low
bits, the sign (+1/-1) the top bit, as in Weinberger et al. (2009), so
collisions cancel on average. Each group is scaled by ``1/sqrt(count)`` of its
features in the text. No vocabulary is kept anywhere: a model trained on these
features stores weights per hash bucket only.

The whole batch is hashed at once with vectorised numpy (prefix hashes and the
modular inverse of the base), so featurizing costs a few array passes per batch
rather than Python work per n-gram.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["DEFAULT_BITS", "feature_groups", "hash_features", "normalize"]

DEFAULT_BITS = 16
CHAR_NGRAMS = (3, 4, 5)

_M64 = (1 << 64) - 1
_BASE = 1099511628211  # odd, so it has an inverse modulo 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_TAG_WORD = 0x9E3779B97F4A7C15
_TAG_BIGRAM = 0xC2B2AE3D27D4EB4F
_TAG_CHAR = 0x165667B19E3779F9

_URL = re.compile(r"(?:https?://|www\.)\S+")
_MENTION = re.compile(r"@\w+")
_ADDRESS = re.compile(r"^\s*(?:(?:rt\s+)?@user\s*:?\s*)+")  # "@a @b ..." or "rt @a: ..." at the start
_ENTITIES = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("\x00", " "))

# bytes that belong to words: a-z 0-9 _ # @ ' and every non-ASCII byte
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyz0123456789_#@'":
    _WORD_BYTE[_c] = True
_WORD_BYTE[128:] = True


def normalize(text: str | None) -> str:
    """The text the features see: lower case, links and mentions replaced."""
    if not text:
        return ""
    t = text
    for a, b in _ENTITIES:
        t = t.replace(a, b)
    t = _URL.sub(" httpurl ", t.lower())
    return _ADDRESS.sub("", _MENTION.sub(" @user ", t))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer on a uint64 array (wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def _powers(base: int, n: int) -> np.ndarray:
    """base**k mod 2**64 for k in 0..n-1 (uint64 products wrap silently)."""
    p = np.full(n, base, dtype=np.uint64)
    if n:
        p[0] = 1
    return np.cumprod(p, dtype=np.uint64)


def _substring_hashes(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, prefix: np.ndarray, inv: np.ndarray
) -> np.ndarray:
    """Polynomial hash of buf[s:e] for each (s, e), independent of position."""
    hashes: np.ndarray = (prefix[ends] - prefix[starts]) * inv[starts]
    return hashes


def _csr(docs: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_docs: int, dim: int) -> sp.csr_matrix:
    """A CSR matrix from entries already sorted by doc (duplicates kept: they add)."""
    counts = np.bincount(docs, minlength=n_docs)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return sp.csr_matrix((vals, cols, indptr), shape=(n_docs, dim))


def _bucket(h: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    cols = (h & np.uint64((1 << bits) - 1)).astype(np.int32)
    sign = 1.0 - 2.0 * (h >> np.uint64(63)).astype(np.float32)
    return cols, sign.astype(np.float32)


def _scale(docs: np.ndarray, sign: np.ndarray, n_docs: int) -> np.ndarray:
    counts = np.bincount(docs, minlength=n_docs).astype(np.float32)
    scaled: np.ndarray = sign / np.sqrt(np.maximum(counts, 1.0))[docs]
    return scaled


def feature_groups(texts: Sequence[str | None], bits: int = DEFAULT_BITS) -> list[sp.csr_matrix]:
    """The hashed features of the texts as matrices of shape (len(texts), 2**bits)
    that add up to the feature matrix: char 3-, 4-, 5-grams, words, bigrams.

    Entries of one text that fall in the same column add up (a matrix may hold
    duplicate entries; every scipy product treats them as a sum). Scoring with
    ``sum(g @ W for g in groups)`` avoids the cost of summing the matrices.
    """
    n = len(texts)
    dim = 1 << bits
    if n == 0:
        return [sp.csr_matrix((0, dim), dtype=np.float32)]
    joined = "\x00".join(" " + normalize(t) + " " for t in texts)
    raw = np.frombuffer(joined.encode("utf-8", "replace"), dtype=np.uint8)
    # squeeze: non-word bytes become one space; the 0 separators stay
    c = np.where(_WORD_BYTE[raw] | (raw == 0), raw, np.uint8(32))
    keep = np.ones(c.size, dtype=bool)
    keep[1:] = ~((c[1:] == 32) & (c[:-1] == 32))
    c = c[keep]
    m = c.size
    prefix = np.zeros(m + 1, dtype=np.uint64)
    np.cumsum(c.astype(np.uint64) * _powers(_BASE, m), out=prefix[1:])
    inv = _powers(_BASE_INV, m + 1)
    seps = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(c == 0, out=seps[1:])  # seps[i] = separators before position i = doc of i

    groups: list[sp.csr_matrix] = []
    # character n-grams: one group for scaling, one matrix per n (no sorting needed)
    chars = []
    for k in CHAR_NGRAMS:
        s = np.arange(max(m - k + 1, 0))
        s = s[seps[s + k] == seps[s]]  # no separator inside
        h = _mix(_substring_hashes(c, s, s + k, prefix, inv) ^ np.uint64(_TAG_CHAR + k))
        chars.append((seps[s], h))
    total = np.sum([np.bincount(d, minlength=n) for d, _ in chars], axis=0).astype(np.float32)
    norm = 1.0 / np.sqrt(np.maximum(total, 1.0))
    for docs, h in chars:
        cols, sign = _bucket(h, bits)
        groups.append(_csr(docs, cols, sign * norm[docs], n, dim))
    # words
    isw = (c != 32) & (c != 0)
    prev = np.concatenate(([False], isw[:-1]))
    nxt = np.concatenate((isw[1:], [False]))
    ws = np.flatnonzero(isw & ~prev)
    we = np.flatnonzero(isw & ~nxt) + 1
    wdocs = seps[ws]
    wh = _mix(_substring_hashes(c, ws, we, prefix, inv) ^ np.uint64(_TAG_WORD))
    cols, sign = _bucket(wh, bits)
    groups.append(_csr(wdocs, cols, _scale(wdocs, sign, n), n, dim))
    # word bigrams within a text
    same = wdocs[1:] == wdocs[:-1]
    bdocs = wdocs[1:][same]
    bh = _mix((wh[:-1][same] * np.uint64(_BASE)) ^ wh[1:][same] ^ np.uint64(_TAG_BIGRAM))
    cols, sign = _bucket(bh, bits)
    groups.append(_csr(bdocs, cols, _scale(bdocs, sign, n), n, dim))
    return groups


def hash_features(texts: Sequence[str | None], bits: int = DEFAULT_BITS) -> sp.csr_matrix:
    """The (len(texts), 2**bits) hashed feature matrix of the texts (duplicates summed)."""
    groups = feature_groups(texts, bits)
    out = groups[0]
    for g in groups[1:]:
        out = out + g
    out = out.tocsr()
    out.sum_duplicates()
    return out.astype(np.float32)
