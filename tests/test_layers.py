"""The package's layers: nothing imports upward, and no two modules import each other.

Every ``import`` in every module is read -- at the top, inside functions, and under
``TYPE_CHECKING`` -- and the modules and their imports form a graph that must have no
cycle.  One convenience is allowed: ``Node.backward()`` (nodes.py) imports the entry
points (api.py) when called, so that ``d.backward()`` works as in micrograd.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import minigrad

PACKAGE = Path(minigrad.__file__).parent
#: The one upward import, documented in nodes.py: Node.backward() builds a Graph and
#: calls api.backward.
ALLOWED_UPWARD = {("nodes", "api"), ("nodes", "graph")}

#: The layers, bottom first: a module may import only from its own layer or below.
LAYERS = [
    {"ops"},
    {"nodes", "errors"},
    {"graph"},
    {"values", "interpret", "rewrite"},
    {"engine", "derivatives", "batch_dask", "symbolic"},
    {"api"},
    {"trace", "export", "parse", "optimize"},
    {"visualize"},
    {"svg"},
    {"cli", "__main__", "__init__"},
]


def imports_of(path: Path) -> set[str]:
    """The minigrad modules a module imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "minigrad":  # from minigrad import engine
                names = [f"minigrad.{alias.name}" for alias in node.names
                         if (PACKAGE / f"{alias.name}.py").exists()]
        else:
            continue
        found.update(name.split(".")[1] for name in names
                     if name.startswith("minigrad.") and name.count(".") == 1)
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in sorted(PACKAGE.glob("*.py")):
        graph.add_node(path.stem)
        graph.add_edges_from((path.stem, imported) for imported in imports_of(path)
                             if imported != path.stem)
    return graph


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = import_graph()
    graph.remove_edges_from(ALLOWED_UPWARD)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles}"


def test_nothing_imports_upward() -> None:
    graph = import_graph()
    layer_of = {module: level for level, layer in enumerate(LAYERS) for module in layer}
    assert set(graph) == set(layer_of), "every module has a layer (add new ones to LAYERS)"
    upward = [(a, b) for a, b in graph.edges
              if layer_of[b] > layer_of[a] and (a, b) not in ALLOWED_UPWARD]
    assert not upward, f"imports upward: {upward}"


def test_the_allowed_exception_is_real() -> None:
    # If Node.backward() stops importing api, drop the exception.
    assert set(import_graph().edges) >= ALLOWED_UPWARD
