"""The strictest arrows (STYLE.md, "The shape"): ``store/`` and ``formats/`` know only the model.

``tests/test_imports.py`` checks the layers of every package; this file pins the two rules the
issue spells out: the store imports neither ingest nor privacy (nor formats), and the formats do
not import the store.

Read with ``ast`` (imports inside functions count too), so a lazy import that
would close a circle fails here instead of at some user's run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "groundswell"

# package (or module) -> what it may import from groundswell besides itself
ALLOWED: dict[str, set[str]] = {
    "store": {"model", "errors", "embedded", "addresses"},  # embedded: what a deletion clears, beside the model
    "formats": {"model", "errors", "refs", "addresses"},  # addresses: Mastodon status addresses to URIs
    "model": {"errors"},
    "errors": set(),
}


def _unit(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    return rel.parts[0]


def _imports(path: Path, root: Path = SRC) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[int, str]] = []
    pkg = path.relative_to(root).parent.parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("groundswell."):
                    out.append((node.lineno, a.name.split(".")[1]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = list(pkg[: len(pkg) - node.level + 1])
                target = base + (node.module.split(".") if node.module else [])
                if target:
                    out.append((node.lineno, target[0]))
                else:
                    out += [(node.lineno, a.name) for a in node.names]
            elif node.module == "groundswell":
                out += [(node.lineno, a.name) for a in node.names]
            elif node.module and node.module.startswith("groundswell."):
                out.append((node.lineno, node.module.split(".")[1]))
    return out


def _files(unit: str) -> list[Path]:
    p = SRC / unit
    return sorted(p.rglob("*.py")) if p.is_dir() else [p.with_suffix(".py")]


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_lower_packages_import_only_lower_ones(unit: str) -> None:
    bad = []
    for f in _files(unit):
        for line, target in _imports(f):
            if target != unit and target not in ALLOWED[unit]:
                bad.append(f"{f.relative_to(SRC)}:{line} imports groundswell.{target}")
    assert not bad, "\n".join(bad)


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    root = tmp_path / "groundswell"
    (root / "store").mkdir(parents=True)
    f = root / "store" / "x.py"
    f.write_text("import groundswell.ingest\n"
                 "from groundswell import privacy\n"
                 "from groundswell.analysis.sql import run\n"
                 "from ..web import app\n"
                 "from . import duck\n"
                 "def later():\n    from groundswell.live.columns import x\n")
    assert [t for _, t in _imports(f, root)] == ["ingest", "privacy", "analysis", "web", "store", "live"]
