"""A merge into a big store spares the row groups that hold no key of the batch
(groundswell.store.zones): the narrowing must never miss a stored key, and must narrow."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from groundswell.store import open_store, zones
from tests.conftest import shared

ROW_GROUP = 122_880


def _fill(st, n: int, start: int = 0, plant: dict[int, str] | None = None) -> None:
    """n synthetic posts by SQL (ids that grow with the row, as archives ingested one after
    another leave them), committed and checkpointed: row groups with statistics. ``plant``:
    row number -> the id of a thin earlier sighting (a reference, no text) stored there."""
    case = " ".join(f"WHEN i = {i} THEN '{pid}'" for i, pid in (plant or {}).items())
    ident = f"CASE {case} ELSE (1500000000000000000 + i * 97)::VARCHAR END" if plant else \
        "(1500000000000000000 + i * 97)::VARCHAR"
    st.con.execute(f"""
        INSERT INTO posts BY NAME SELECT 'twitter' AS platform, {ident} AS id,
          'en' AS lang, 'original' AS kind, {'i IN (' + ','.join(map(str, plant)) + ')' if plant else 'false'}
          AS is_reference, false AS deleted, 'synthetic.csv' AS source_file, i + 2 AS source_line
        FROM range({start}, {start + n}) t(i)""")
    st.con.execute("CHECKPOINT")


def _mixed_ids(st) -> None:
    """Row groups of other shapes of id: Bluesky and Mastodon URIs, ids of other lengths,
    and some that are not ASCII."""
    st.con.execute(f"""
        INSERT INTO posts BY NAME SELECT 'bluesky' AS platform,
          'at://did:plc:' || (i % 7) || '/app.bsky.feed.post/3k' || lpad(i::VARCHAR, 9, '0') AS id,
          'original' AS kind, false AS is_reference, false AS deleted, 'b' AS source_file, i AS source_line
        FROM range({ROW_GROUP + 5000}) t(i)""")
    st.con.execute("""
        INSERT INTO posts BY NAME SELECT 'mastodon' AS platform,
          CASE WHEN i % 3 = 0 THEN 'https://bücher.example/users/ö' || i || '/statuses/' || (110000000 + i)
               WHEN i % 3 = 1 THEN (i * 7919)::VARCHAR ELSE 'https://a.example/statuses/' || i END AS id,
          'original' AS kind, false AS is_reference, false AS deleted, 'm' AS source_file, i AS source_line
        FROM range(60000) t(i)""")
    st.con.execute("CHECKPOINT")


def _found(st, ids: list[str], narrow: bool) -> list[int]:
    batch = pa.table({"id": pa.array(ids, pa.string())})
    st.con.register("_b", batch)
    try:
        cond = st._narrow("posts", "p", batch.column("id"), "_b") if narrow else ""
        return sorted(r[0] for r in st.con.execute(
            f"SELECT p.rowid FROM posts p JOIN _b b ON p.id = b.id{cond}").fetchall())
    finally:
        st.con.unregister("_b")


def _kept(st, ids: list[str]) -> tuple[str, int, int]:
    """The condition for a batch of ``ids``, and the stored rows (twitter's, all) it keeps."""
    batch = pa.table({"id": pa.array(ids, pa.string())})
    st.con.register("_b", batch)
    try:
        cond = st._narrow("posts", "p", batch.column("id"), "_b")
    finally:
        st.con.unregister("_b")
    twitter, kept = st.con.execute("SELECT count(*) FILTER (WHERE platform = 'twitter'), count(*) "
                                   f"FROM posts p WHERE true{cond}").fetchall()[0]
    return cond, twitter, kept


def test_narrowed_merge_finds_every_stored_key(db: Path) -> None:
    """Batches of stored keys from anywhere in the table, keys between them, beside them and past
    them: the narrowed join finds exactly what the whole join finds; a batch of new keys on both
    sides of the stored ones (the posts it quotes are older) looks at none of the stored rows."""
    rng = random.Random(5)
    with open_store(db) as st:
        _fill(st, 3 * ROW_GROUP)
        _mixed_ids(st)
        stored = [r[0] for r in st.con.execute("SELECT id FROM posts").fetchall()]
        narrowed = 0
        for trial in range(24):
            ids = rng.sample(stored, rng.choice([0, 0, 1, 5, 300]))
            ids += [str(1500000000000000000 + rng.randrange(3 * ROW_GROUP) * 97 + rng.randrange(1, 97))
                    for _ in range(rng.choice([0, 50]))]  # between stored ids: in range, never stored
            ids += [str(1600000000000000000 + i) for i in range(rng.randrange(1, 2000))]
            ids += [str(1400000000000000000 + i) for i in range(rng.randrange(1, 50))]
            ids += [s + "x" for s in rng.sample(stored, rng.choice([0, 2, 20]))] + ["a'quote", "\u00fcber"]
            narrowed += bool(_kept(st, ids)[0])
            assert _found(st, ids, narrow=True) == _found(st, ids, narrow=False), trial
        assert narrowed >= 3
        new = [str(1600000000000000000 + i) for i in range(5000)] + [str(1400000000000000000 + i) for i in range(9)]
        cond, twitter, kept = _kept(st, new)
        # only the row group whose statistics DuckDB reports escaped (ids past ASCII) is kept whole
        assert cond and twitter == 0 and kept < len(stored) / 5


def test_wrong_statistics_never_lose_a_key(db: Path, monkeypatch) -> None:
    """Statistics that are stale or wrong only spare less: the condition holds every key of the
    batch by construction, and one that would not (an order of text other than DuckDB's) is
    caught by the check and not used."""
    rng = random.Random(11)
    with open_store(db) as st:
        _fill(st, 2 * ROW_GROUP)
        stored = [r[0] for r in st.con.execute("SELECT id FROM posts").fetchall()]
        z = st._zones.setdefault("posts", zones.Zones(st.con, "posts"))
        z._read(2 * ROW_GROUP)
        for trial in range(10):
            bounds = [sorted(rng.sample(stored, 2)) for _ in range(5)]
            z._segments = [(200_000, a.encode()[:rng.choice([12, 19])], b.encode()[:rng.choice([12, 19])])
                           for a, b in bounds]
            ids = rng.sample(stored, 40) + [str(1400000000000000000 + i) for i in range(30)]
            assert _found(st, ids, narrow=True) == _found(st, ids, narrow=False), trial
        real = z.ranges
        ids = [str(1400000000000000000 + i) for i in range(30)] + [str(1600000000000000000 + i) for i in range(30)]
        z._segments = None
        assert len(real(pa.array(ids))) == 2
        monkeypatch.setattr(zones.Zones, "ranges", lambda self, keys: real(keys)[1:])  # loses the first range
        assert _kept(st, ids)[0] == ""


def test_narrowing_survives_deleted_rows_and_other_writers(db: Path) -> None:
    """Rows deleted (a checkpoint then drops or renumbers rows) or added after the statistics
    were read: every stored key is still found."""
    with open_store(db) as st:
        _fill(st, 3 * ROW_GROUP)
        st._narrow("posts", "p", pa.array(["1"]), "(SELECT '1' AS id)")  # read now
        st.con.execute(f"DELETE FROM posts WHERE rowid < {ROW_GROUP + 17} OR rowid % 1000 = 0")
        st.con.execute("CHECKPOINT")
        tail = [r[0] for r in st.con.execute(
            "SELECT id FROM posts ORDER BY id DESC LIMIT 3").fetchall()]
        assert len(_found(st, tail + ["1600000000000000000"], narrow=True)) == 3
        _fill(st, 1000, start=10**6)
        new = [str(1500000000000000000 + (10**6 + 500) * 97), "1400000000000000000", "1600000000000000000"]
        assert len(_found(st, new, narrow=True)) == 1


def test_ingest_into_a_big_store_merges_what_it_holds(tmp_path: Path, cli) -> None:
    """A real twarc2 file ingested into a store of 300,000 other posts, some of whose rows (in
    its first, middle and last row groups) are earlier, thinner sightings of the file's posts
    and accounts: each post and account is stored once, the planted ones merged, and the rest
    is what the same ingest into an empty store gives."""
    src = shared("twarc-csv/test-data/entities_test.jsonl")
    ref, big = tmp_path / "ref.duckdb", tmp_path / "big.duckdb"
    assert cli("ingest", src, "--db", ref, "-q").code == 0
    with open_store(ref, read_only=True) as st:
        posts = st.sql("SELECT id FROM posts WHERE NOT is_reference ORDER BY id").column("id").to_pylist()
        acct = st.sql("SELECT id, observed_at FROM accounts ORDER BY id LIMIT 3").to_pylist()
    assert len(posts) >= 10 and len(acct) == 3
    plant = posts[:3]
    with open_store(big) as st:
        _fill(st, 300_000, plant=dict(zip((5, 150_000, 299_990), plant)))
        for a in acct:
            st.con.execute("INSERT INTO accounts BY NAME SELECT 'twitter' AS platform, ? AS id, ? AS observed_at, "
                           "'old' AS handle, 'synthetic.csv' AS source_file, 1 AS source_line",
                           [a["id"], a["observed_at"]])
        st.con.execute("CHECKPOINT")
    assert cli("ingest", src, "--db", big, "-q").code == 0
    with open_store(big, read_only=True) as st:
        st.con.execute(f"ATTACH '{ref}' AS ref (READ_ONLY)")
        q = st.con.execute
        assert q("SELECT count(*) - count(DISTINCT (platform, id)) FROM posts").fetchall()[0][0] == 0
        assert q("SELECT count(*) FROM posts").fetchall()[0][0] == 300_000 - 3 + q(
            "SELECT count(*) FROM ref.posts").fetchall()[0][0]
        merged = q("SELECT count(*) FROM posts WHERE id IN (?, ?, ?) AND NOT is_reference AND text IS NOT NULL",
                   plant).fetchall()[0][0]
        assert merged == 3
        cols = "platform, id, author_id, created_at, text, kind, hashtags, repost_count, like_count, raw_at"
        for a, b in (("posts", "ref.posts"), ("ref.posts", "posts")):
            extra = q(f"SELECT count(*) FROM (SELECT {cols} FROM {a} WHERE source_file <> 'synthetic.csv' "
                      f"AND id NOT IN (?, ?, ?) EXCEPT ALL SELECT {cols} FROM {b} "
                      f"WHERE id NOT IN (?, ?, ?))", plant + plant).fetchall()[0][0]
            assert extra == 0, (a, b)
        dup = q("SELECT count(*) - count(DISTINCT (platform, id, observed_at)) FROM accounts").fetchall()[0][0]
        assert dup == 0
        assert q("SELECT count(*) FROM accounts").fetchall()[0][0] == q(
            "SELECT count(*) FROM ref.accounts").fetchall()[0][0]


def test_a_batch_holding_a_post_twice_merges_it_into_a_big_store(db: Path) -> None:
    """A batch that holds posts more than once is merged a sighting at a time (rounds in one
    transaction); with the narrowing on, the second round still finds the row the first inserted,
    and a stored post in the middle of the table is merged, not stored again."""
    from groundswell.ingest import records_to_table
    from groundswell.store.duck import merge_post

    def rec(i: str, **kw):
        return {"platform": "twitter", "id": i, "kind": "original", "source_file": "f", "source_line": 1} | kw

    mid = str(1500000000000000000 + ROW_GROUP * 97)
    new_a, new_b = rec("1600000000000000001", is_reference=True), rec("1600000000000000001", lang="fr")
    batch = [new_a, rec(mid, lang="de"), new_b, rec("1600000000000000002"), rec(mid, like_count=7)]
    with open_store(db) as st:
        _fill(st, 3 * ROW_GROUP)
        before = st.sql("SELECT * FROM posts WHERE id = ?", [mid]).to_pylist()[0]
        assert _kept(st, [r["id"] for r in batch])[2] < 2 * ROW_GROUP  # narrowed
        st.write_batch({"posts": records_to_table("posts", batch)})
        q = st.con.execute
        assert q("SELECT count(*), count(DISTINCT id) FROM posts").fetchall()[0] == (3 * ROW_GROUP + 2,) * 2
        got = st.sql("SELECT * FROM posts WHERE id IN (?, ?)", [mid, new_a["id"]]).to_pylist()
    by_id = {r["id"]: r for r in got}
    want_mid = merge_post(merge_post(before, batch[1]), batch[4])
    want_new = merge_post(new_a, new_b)
    for want in (want_mid, want_new):
        row = records_to_table("posts", [want]).to_pylist()[0]
        assert {k: by_id[want["id"]][k] for k in ("lang", "like_count", "is_reference")} == \
            {k: row[k] for k in ("lang", "like_count", "is_reference")}


def test_accounts_seen_at_times_beyond_python_are_merged(db: Path) -> None:
    """Accounts seen at a time Python's datetime cannot hold (year 10000, infinity), in the batch
    or stored (DuckDB then reports the segment's bounds as text): the write goes on, narrowed where
    it can be, and each account is stored once."""
    from groundswell.ingest import records_to_table

    def batch(us: list[int], ids: list[str]) -> pa.Table:
        t = records_to_table("accounts", [{"platform": "twitter", "id": i, "observed_at": None,
                                           "source_file": "f", "source_line": 1} for i in ids])
        return t.set_column(t.column_names.index("observed_at"), "observed_at", pa.array(us, pa.timestamp("us")))

    with open_store(db) as st:
        st.con.execute("""INSERT INTO accounts BY NAME SELECT 'twitter' AS platform, i::VARCHAR AS id,
            TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS observed_at, 's' AS source_file, i AS source_line
            FROM range(2 * 122880) t(i)""")
        st.con.execute("CHECKPOINT")
        st.con.execute("INSERT INTO accounts BY NAME SELECT 'twitter' AS platform, 'far' AS id, "
                       "TIMESTAMP '20000-01-01' AS observed_at, 's' AS source_file, 1 AS source_line")
        st.con.execute("CHECKPOINT")
        at_5s = 1577836800000000 + 5_000_000  # stored: account '5', 2020-01-01 00:00:05
        later = 1609459200000000  # 2021-01-01
        for us, ids in (([253402300800000000 + 10**12, 2**63 - 1], ["y10k", "inf"]),
                        ([at_5s, later, later + 1], ["5", "new", "new2"])):
            st.write_batch({"accounts": batch(us, ids)})
        assert st._zones["accounts"]._segments  # the statistics were read, the far segment left out
        assert all(isinstance(lo, datetime) for _n, lo, _hi in st._zones["accounts"]._segments)
        rows = st.con.execute("SELECT count(*), count(DISTINCT (id, observed_at)) FROM accounts").fetchall()[0]
        assert rows == (2 * 122880 + 1 + 4,) * 2
