"""The package's floors (docs/ARCHITECTURE.md): every module imports only from its own floor or below.

foundation -> models -> tools -> data/train -> workflows/apps -> report -> CLI. Imports are read from the
source (``import cnnlab.x`` / ``from cnnlab.x import ...`` / ``from cnnlab import x``), including imports
inside functions. The zoo's loading of application model modules goes through ``importlib`` by the names
in ``cnnlab.apps.MODEL_MODULES`` (a registration hook, like an entry point), not through an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "cnnlab"

FLOORS = {
    1: ("errors", "shapes", "io", "pictures", "htmlparts", "quality", "epochline", "_lazy", "preprocess", "runfolder"),
    2: ("layers", "blocks", "spec", "zoo", "bundle"),
    3: ("analysis", "explain", "scratch", "art"),
    4: ("data", "train"),
    5: ("workflows", "apps"),
    6: ("report",),
    7: ("cli",),
}
FLOOR = {name: level for level, names in FLOORS.items() for name in names}


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "cnnlab" else None


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, _top(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "cnnlab":
                for alias in node.names:
                    yield node.lineno, alias.name
            else:
                yield node.lineno, _top(node.module)


def test_every_package_has_a_floor():
    packages = {p.stem if p.is_file() else p.name for p in SRC.iterdir()
                if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert packages - set(FLOOR) - {"__main__"} == set()


def test_no_module_imports_from_a_floor_above_it():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts == ("__init__.py",):
            continue  # the lazy public API names everything
        top = rel.parts[0].removesuffix(".py")
        if top == "__main__":
            continue
        own = FLOOR[top]
        for line, target in _imports(path):
            if target in FLOOR and FLOOR[target] > own:
                bad.append(f"{rel}:{line} imports cnnlab.{target} (floor {FLOOR[target]} > {own})")
    assert bad == []
