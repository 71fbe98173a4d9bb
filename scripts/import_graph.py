"""duolib's internal import graph, read from the source (nothing is imported or run).

    python scripts/import_graph.py          # prints each module's duolib imports, then cycles

Exits 1 if the module-level imports form a cycle. ``tests/test_packaging.py`` runs the same
check, and also checks that no function body imports anything but the optional packages.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "duolib"
# Packages a function may import lazily: extras that a plain install does not have.
OPTIONAL = frozenset({"wilds", "myst_nb"})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    if node.module is None or node.level and not node.module:
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def graph() -> dict[str, set[str]]:
    """module -> the duolib modules it imports at module level."""
    sources = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {}
    for module, path in sources.items():
        tree = ast.parse(path.read_text())
        targets = set()
        for node in tree.body:  # module level only (incl. inside `with` / `try` blocks)
            for inner in ast.walk(node):
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    break
                if isinstance(inner, ast.Import):
                    targets |= {a.name for a in inner.names}
                elif isinstance(inner, ast.ImportFrom):
                    targets |= set(_resolve(module, path.name == "__init__.py", inner))
        edges[module] = {t for t in targets if t in sources and t != module}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by depth-first search (each reported once, from its smallest node).

    A package's ``__init__`` importing its own submodules is not a cycle of the data flow.
    """
    found, seen = [], set()

    def visit(node, path):
        for nxt in sorted(edges.get(node, ())):
            if nxt in path:
                cycle = path[path.index(nxt) :]
                if all(c.startswith(cycle[0]) or cycle[0].startswith(c) for c in cycle):
                    continue  # a package and its own submodules
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle + [nxt])
            else:
                visit(nxt, path + [nxt])

    for start in sorted(edges):
        visit(start, [start])
    return found


def lazy_imports() -> list[str]:
    """``path:line module`` for every import inside a function body, optional packages aside."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import):
                        names = [a.name for a in inner.names]
                    elif isinstance(inner, ast.ImportFrom):
                        names = [("." * inner.level) + (inner.module or "")]
                    else:
                        continue
                    for name in names:
                        if name.split(".")[0] not in OPTIONAL:
                            found.append(
                                f"{path.relative_to(PACKAGE.parent)}:{inner.lineno} {name}"
                            )
    return found


def main() -> int:
    edges = graph()
    for module in sorted(edges):
        print(f"{module:<32} -> {', '.join(sorted(edges[module])) or '-'}")
    found = cycles(edges)
    print(f"\nimport cycles: {len(found)}")
    for cycle in found:
        print("  " + " -> ".join(cycle))
    lazy = lazy_imports()
    print(f"imports inside functions (optional packages aside): {len(lazy)}")
    for line in lazy:
        print("  " + line)
    return 1 if found or lazy else 0


if __name__ == "__main__":
    sys.exit(main())
