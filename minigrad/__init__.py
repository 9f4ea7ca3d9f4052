"""MiniGrad: reverse-mode automatic differentiation of scalar expressions, readably.

Build an expression from :class:`Scalar` leaves with ordinary operators; it is a frozen
DAG that computes nothing.  Turn it into a :class:`Graph` once, then :func:`evaluate`
and :func:`backward` it as often as you like, with new leaf values each time.

>>> from minigrad import Scalar, Graph, evaluate, backward
>>> a = Scalar(1.5, name="a"); b = Scalar(-4.0, name="b")
>>> d = a**3 / 5 + (b**2).relu()
>>> graph = Graph(d)
>>> evaluate(graph)[d]
16.675
>>> backward(graph, d)[b]
-8.0

Where things live: ``nodes.py`` (the node types and operators), ``ops.py`` (each op's
value and derivative rules), ``graph.py`` (ordering and the networkx view),
``values.py`` (what the passes return, and the checks of ``inputs``),
``interpret.py`` (the forward and backward passes as plain loops: the reference),
``engine.py`` (the same passes a depth at a time with numpy, for one point or many),
``api.py`` (``evaluate``, ``backward``, ``value_and_grad``: values and gradients as
numbers), ``batch_dask.py`` (many points on dask arrays),
``derivatives.py`` and ``rewrite.py`` (derivatives as graphs, and smaller graphs),
``symbolic.py`` (SymPy in and out, and LaTeX),
``trace.py`` (the backward pass step by step, for learning), ``errors.py``,
``visualize.py`` (DOT and graphviz drawings), ``export.py`` (networkx export),
``parse.py``, ``cli.py`` and ``svg.py`` (the ``minigrad`` command and its drawing when
graphviz is not installed).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from minigrad import nodes as _nodes
from minigrad.api import backward, evaluate, show_code, value_and_grad
from minigrad.derivatives import diff, gradient, hessian, jvp
from minigrad.errors import EvaluationError
from minigrad.export import to_networkx
from minigrad.graph import Graph
from minigrad.nodes import FUNCTION_OPS, Constant, Node, Operation, Scalar, describe
from minigrad.ops import OPS
from minigrad.rewrite import simplify
from minigrad.symbolic import from_sympy, to_sympy
from minigrad.trace import backward_trace
from minigrad.values import NodeValues
from minigrad.visualize import draw_graph, to_dot

__all__ = [  # and every function-style op of the table: relu, tanh, ..., atan2, gelu
    "OPS",
    "Constant",
    "EvaluationError",
    "Graph",
    "Node",
    "NodeValues",
    "Operation",
    "Scalar",
    "backward",
    "backward_trace",
    "describe",
    "diff",
    "draw_graph",
    "evaluate",
    "from_sympy",
    "gradient",
    "hessian",
    "jvp",
    "show_code",
    "simplify",
    "to_dot",
    "to_networkx",
    "to_sympy",
    "value_and_grad",
]

# minigrad.relu, minigrad.atan2, ...: one function per function-style row of the op
# table, made in nodes.py (abs is Python's own abs(x)).
for _name in FUNCTION_OPS:
    if _name != "abs":
        globals()[_name] = getattr(_nodes, _name)
        __all__.append(_name)

if TYPE_CHECKING:  # what type checkers see of them

    def __getattr__(name: str) -> Callable[..., Operation]: ...


__version__ = "0.3.0.dev0"  # 0.2 released; the packaging reads it from here
