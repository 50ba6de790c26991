import sys, time, os
import duckdb, pyarrow as pa
from groundswell.formats import twitter_v2_fast as fast
sys.path.insert(0, "/work/wt-perf2/benchmarks")
from ingest_fast_profile import chunks
path=sys.argv[1]
p=next(chunks(path, int(64*2**20)))
con=duckdb.connect()
con.register("_gs_lines", pa.Table.from_batches(p.to_batches(max_chunksize=8)))
def cpu(): r=os.times(); return r.user+r.system
pg=fast._steps()[0][1]
i=pg.index("try(from_json")
risky = pg[pg.index(", ", pg.index("AS p", i))+2 : pg.index("AS risky")]
alts = [fast._LIST_KEYS, fast._LIST_PAGE, fast._NAN, fast._COMMA, *fast._BIG]
combined = "regexp_matches(text, '" + "|".join(f"(?:{a})" for a in alts) + "')"
for k,q in {"current": f"select line, {risky} from _gs_lines", "combined": f"select line, {combined} from _gs_lines"}.items():
    best=9; bc=9
    for _ in range(3):
        t0=time.perf_counter(); c0=cpu(); r=con.sql(q).to_arrow_table(); best=min(best,time.perf_counter()-t0); bc=min(bc,cpu()-c0)
    print(f"{k:10s} wall {best:.3f} cpu {bc:.3f}", r.column(1).to_pylist().count(True))
