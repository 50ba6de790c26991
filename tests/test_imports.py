"""Arrows point down: no module imports a higher layer, and the package graph has no circles.

Read with ``ast`` (nothing is imported). Command-line modules (``cli.py``,
``*/cli.py``, ``*_cli.py``) and the package's ``__init__`` sit on top and may
use everything; every other top-level module or package of ``groundswell``
has a layer below, and may import only its own layer or lower ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "groundswell"

# lowest first; a unit imports only units of its own layer or below
LAYERS: list[set[str]] = [
    {"errors", "model", "embedded", "simulate", "terminal", "progress", "refs", "hosts",
     "addresses", "stats"},                                                          # know nothing of the store
    {"store"},                                                              # knows only model
    {"formats"},                                                            # parses into model, may write through store
    {"export", "queries", "content"},                                       # read through the store
    {"privacy"},                                                            # decides what outputs show
    {"ingest", "spark_ingest", "analysis"},                                 # feed the store / answer questions
    {"live", "collect"},                                                    # sources feeding the store through ingest
    {"report", "web", "accuracy"},                                          # present through privacy; accuracy scores analyze on simulations
]
RANK = {u: i for i, layer in enumerate(LAYERS) for u in layer}


def _is_cli(path: Path, src: Path = SRC) -> bool:
    return path.name == "cli.py" or path.name.endswith("_cli.py") or path == src / "__init__.py"


def _unit(path: Path, src: Path = SRC) -> str:
    return path.relative_to(src).parts[0].removesuffix(".py")


def _imports(path: Path, src: Path = SRC) -> set[str]:
    """The top-level groundswell units a module imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = list(path.relative_to(src).parent.parts)
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for a in n.names:
                if a.name.startswith("groundswell."):
                    out.add(a.name.split(".")[1])
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                base = pkg[: len(pkg) - (n.level - 1)]
                parts = base + (n.module.split(".") if n.module else [])
                if parts:
                    out.add(parts[0])
                else:  # "from . import x" at the top of the package
                    out.update(a.name for a in n.names)
            elif n.module == "groundswell":
                out.update(a.name for a in n.names)
            elif n.module and n.module.startswith("groundswell."):
                out.add(n.module.split(".")[1])
    # `from groundswell import __version__` is the package itself, loaded first whatever is imported
    return {u for u in out if not u.startswith("__")}


def _modules(src: Path = SRC) -> list[Path]:
    return sorted(p for p in src.rglob("*.py") if not _is_cli(p, src))


def _upward(src: Path = SRC) -> list[str]:
    bad = []
    for p in _modules(src):
        me = _unit(p, src)
        for u in sorted(_imports(p, src)):
            if u == me or u not in RANK or me not in RANK:
                continue
            if RANK[u] > RANK[me]:
                bad.append(f"{p.relative_to(src)} imports {u} (layer {RANK[u]} > {me}'s {RANK[me]})")
    return bad


def test_every_unit_has_a_layer() -> None:
    units = {_unit(p) for p in _modules()} - {"cli"}
    missing = sorted(u for u in units if u not in RANK)
    assert not missing, f"give these a layer in tests/test_imports.py LAYERS: {missing}"


def test_no_module_imports_a_higher_layer() -> None:
    bad = _upward()
    assert not bad, "arrows must point down:\n" + "\n".join(bad)


def test_store_imports_neither_ingest_nor_privacy() -> None:
    for p in sorted((SRC / "store").rglob("*.py")):
        assert not _imports(p) & {"ingest", "spark_ingest", "privacy", "formats", "analysis"}, p


def test_the_package_graph_has_no_circles() -> None:
    graph: dict[str, set[str]] = {}
    for p in _modules():
        graph.setdefault(_unit(p), set()).update(u for u in _imports(p) if u != _unit(p))
    seen: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(u: str, path: list[str]) -> None:
        seen[u] = 1
        for v in sorted(graph.get(u, ())):
            if seen.get(v) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(v):] + [v]))
            if v not in seen:
                visit(v, path + [v])
        seen[u] = 2

    for u in sorted(graph):
        if u not in seen:
            visit(u, [u])


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The test is not vacuous: upward imports in a store module, absolute and relative, are found."""
    (tmp_path / "store").mkdir()
    probe = tmp_path / "store" / "probe.py"
    probe.write_text("from groundswell.privacy import Policy\nfrom ..ingest import ingest\n", encoding="utf-8")
    (tmp_path / "store" / "cli.py").write_text("from groundswell.web import app\n", encoding="utf-8")
    assert _imports(probe, tmp_path) == {"privacy", "ingest"}
    assert sorted(_upward(tmp_path)) == ["store/probe.py imports ingest (layer 5 > store's 1)",
                                 "store/probe.py imports privacy (layer 4 > store's 1)"]
