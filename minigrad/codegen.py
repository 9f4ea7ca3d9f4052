"""The fast path: a Graph lowered once to straight-line Python, then run many times.

A Graph never changes, so everything that depends only on its structure -- the order,
which rule each node uses, where each operand lives -- can be worked out once.  The
cheapest form of "worked out" in pure Python is *code*: one statement per node, with
the operands' places and the op's rule pasted in, so running it is nothing but the
arithmetic.  For ``d = a**3/5 + relu(b**2)`` the generated forward pass reads::

    def forward_0(v):
        v1 = v[1] = pow(v[0], 3.0)                   # node 1: pow
        v2 = v[2] = v1 / 5.0                         # node 2: div
        v4 = v[4] = pow(v[3], 2.0)                   # node 4: pow
        v5 = v[5] = v4 if v4 > 0.0 else 0.0          # node 5: relu
        v6 = v[6] = v2 + v5                          # node 6: add

and the backward pass for output ``d`` (``g`` holds the gradients)::

    def backward_0(v, g):
        g2 = g[6]                                    # node 6: add
        g5 = g[6]
        g4 = 0.0 + g5 * (1.0 if v[4] > 0.0 else 0.0) # node 5: relu
        grad = g4                                    # node 4: pow
        g3 = 0.0
        if grad:
            g3 += grad * (pow_d_base(v[3], 2.0))
        ...
        g[0] = g0
        ...

The statements come from the *same rule texts* (``ops.py``) that the reference
interpreters (``interpret.py``) turn into functions, in the same order, so both paths
do the same float operations in the same order and agree to the last bit -- the tests
check this on random graphs.  :func:`show_code` prints the code; it contains no text from
the user (no names, only node positions and number literals written by ``repr``).

When a rule fails (``log(-1)``) or a value is not finite, the fast path does not try to
explain: it re-runs the reference interpreter, which raises the same
``EvaluationError`` naming the same node.  Errors are rare; clarity is not worth a
slower fast path.

Policy: generating and compiling the code costs about as much as 30 to 50 interpreted
calls, and the compiled code then runs about 3 times faster than the interpreter.  So a
graph's first :data:`INTERPRETED_CALLS` calls are interpreted -- a graph evaluated a few
times, like a 10**6-node chain or a short sweep, never pays for compilation -- and from
then on the compiled code runs (training loops, long sweeps).  Forward passes and each
output's backward passes are counted separately.  Code is generated in chunks of
:data:`CHUNK_SIZE` nodes, one function each, so compile time stays linear in graph size.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from minigrad.graph import Graph
from minigrad.interpret import (
    check_gradients_finite,
    first_nonfinite_error,
    interpret_backward,
    interpret_forward,
)
from minigrad.nodes import Node, Operation, Scalar
from minigrad.ops import OPERAND_NAMES, OPS, RULE_ERRORS, RULE_NAMESPACE

__all__ = ["CHUNK_SIZE", "backward_gradients", "forward_values", "show_code"]

#: Nodes per generated function.  Larger chunks mean fewer write-backs of gradients
#: that several chunks touch, smaller ones less work per compile; 3000 measured best.
CHUNK_SIZE = 3000
#: Calls of a graph that are interpreted before its code is generated.
INTERPRETED_CALLS = 10

_RULE_VARIABLE = re.compile(r"\b(a|b|out)\b")  # the names a rule text uses


def fill_in(rule: str, places: dict[str, str]) -> str:
    """A rule text with each of a, b, out replaced by where that value lives.

    >>> fill_in("-out / b", {"a": "v[0]", "b": "2.0", "out": "v3"})
    '-v3 / 2.0'
    """
    return _RULE_VARIABLE.sub(lambda match: places[match.group(1)], rule)


def literal(x: float) -> str:
    """A number as source text: ``repr`` round-trips floats exactly; negatives bracketed."""
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


class _ChunkWriter:
    """Collects statements and cuts them into functions of at most CHUNK_SIZE nodes."""

    def __init__(self, kind: str, parameters: str,
                 end_chunk: Callable[[], None] = lambda: None) -> None:
        self.kind, self.parameters, self.end_chunk = kind, parameters, end_chunk
        self.chunks: list[list[str]] = []
        self.nodes_in_chunk = CHUNK_SIZE  # start a new chunk on the first node

    def start_node(self) -> bool:
        """Count a node; True when it starts a new chunk (locals do not carry over).

        Before a new chunk starts, ``end_chunk()`` may add closing lines to the old one.
        """
        if self.nodes_in_chunk == CHUNK_SIZE:
            if self.chunks:
                self.end_chunk()
            self.chunks.append([])
            self.nodes_in_chunk = 0
        self.nodes_in_chunk += 1
        return self.nodes_in_chunk == 1

    def finish(self) -> None:
        if self.chunks:
            self.end_chunk()
        else:
            self.chunks.append(["    pass"])

    def add(self, line: str) -> None:
        self.chunks[-1].append(line)

    def source(self) -> str:
        functions = []
        for number, body in enumerate(self.chunks):
            functions.append(f"def {self.kind}_{number}({self.parameters}):\n" + "\n".join(body))
        return "\n\n\n".join(functions) + "\n"

    def function_names(self) -> list[str]:
        return [f"{self.kind}_{number}" for number in range(len(self.chunks))]


def _commenter(comments: bool) -> Callable[[str, str], str]:
    """Adds ``# node 5: mul`` to a line for reading (show_code); the code that is
    compiled goes without: comments cost tokenizing time and change nothing."""
    if comments:
        return lambda line, note: f"{line:<48} # {note}"
    return lambda line, note: line


def forward_source(graph: Graph, comments: bool = False) -> tuple[str, list[str]]:
    """Source of the forward pass: ``forward_k(v)`` fills ``v[i]`` for every operation."""
    comment = _commenter(comments)
    writer = _ChunkWriter("forward", "v")
    local: set[int] = set()  # positions whose value is in a local variable in this chunk
    for i, node in enumerate(graph.order):
        if not isinstance(node, Operation):
            continue  # leaves are already in v
        if writer.start_node():
            local = set()
        places = {}
        for name, operand in zip(OPERAND_NAMES, node.args, strict=False):
            places[name] = _place(graph, operand, local)
        expression = fill_in(OPS[node.op].value_rule, places)
        writer.add(comment(f"    v{i} = v[{i}] = {expression}", f"node {i}: {node.op}"))
        local.add(i)
    writer.finish()
    return writer.source(), writer.function_names()


def _place(graph: Graph, operand: Node | float, local: set[int]) -> str:
    if not isinstance(operand, Node):
        return literal(operand)
    j = graph.index[operand]
    return f"v{j}" if j in local else f"v[{j}]"


def backward_source(
    graph: Graph, output: int, comments: bool = False
) -> tuple[str, list[str]]:
    """Source of the backward pass for the output at position ``output``.

    Mirrors :func:`~minigrad.interpret.interpret_backward`: positions from the output
    down, operands left to right, the same products added in the same order.  It
    differs in form only, never in the floats:

    * Within a chunk a gradient lives in a local variable ``g<j>`` (much cheaper than
      ``g[j]``) and is written back to the list at the chunk's end.  It starts as
      ``0.0 + first contribution`` (or from ``g[j]`` if earlier chunks contributed):
      the interpreter starts every gradient at 0.0 and adds, and ``0.0 + c`` is ``c``
      except that it turns -0.0 into 0.0, so the two paths stay bit-identical.
    * Gradients are never -0.0 (they start at +0.0 or 1.0, and sums of floats never turn
      +0.0 into -0.0).  So when the first contribution is just another node's gradient
      (a partial of 1.0, as for both operands of ``+``), ``0.0 +`` it is exactly it, and
      no code is needed at all: the operand's gradient *is* that local until something
      else is added (an alias).  Sums, the commonest op, pass gradients on for free.
    * The interpreter skips nodes whose gradient is zero; here only ops whose partials
      can be infinite test for it (``if grad:``).  For the others a zero gradient adds
      exactly +-0.0 to a gradient that is never -0.0, which changes nothing, so the
      test would cost time for the same bits.
    """
    comment = _commenter(comments)
    in_list: set[int] = {output}  # gradients with contributions in g[...] (the caller's 1.0)
    held: dict[int, str] = {}  # gradients held in this chunk: position -> the local holding it

    def write_back() -> None:  # at the end of each chunk
        for j in sorted(held):
            writer.add(f"    g[{j}] = {held[j]}")
        in_list.update(held)
        held.clear()

    writer = _ChunkWriter("backward", "v, g", end_chunk=write_back)
    for i in range(output, -1, -1):
        node = graph.order[i]
        if not isinstance(node, Operation):
            continue
        writer.start_node()
        rule = OPS[node.op]
        places = {"out": f"v[{i}]"}  # values are read from the list: no locals here
        for name, operand in zip(OPERAND_NAMES, node.args, strict=False):
            places[name] = _place(graph, operand, local=set())
        gradient = held.get(i, f"g[{i}]")
        lines = []  # this node's statements, without indentation
        guarded = not rule.finite_partials
        if guarded:
            lines.append(f"grad = {gradient}")
            # A local first assigned inside `if grad:` must exist when the block is skipped.
            for operand in node.args:
                if isinstance(operand, Node) and held.get(graph.index[operand]) != (
                        own := f"g{graph.index[operand]}"):
                    j = graph.index[operand]
                    start = held.get(j, f"g[{j}]" if j in in_list else "0.0")
                    lines.append(f"{own} = {start}")
                    held[j] = own
            lines.append("if grad:")
            gradient = "grad"
        body_starts = len(lines)
        for argnum, operand in enumerate(node.args):
            if not isinstance(operand, Node):
                continue
            j = graph.index[operand]
            own = f"g{j}"
            sign, term = _contribution(gradient, rule.partial_rules[argnum], places)
            if held.get(j) == own:
                lines.append(f"{own} {sign}= {term}")
            elif j in held:  # an alias: now something is added, so it needs its own local
                lines.append(f"{own} = {held[j]} {sign} {term}")
            elif j in in_list:  # the first contribution in this chunk, not the first ever
                lines.append(f"{own} = g[{j}] {sign} {term}")
            elif sign == "+" and term == gradient and gradient != "grad":
                if "[" not in gradient:  # 0.0 + a gradient held in a local: that local
                    held[j] = gradient
                    continue
                lines.append(f"{own} = {gradient}")  # 0.0 + g[i] is g[i]
            else:  # the first contribution ever
                lines.append(f"{own} = 0.0 {sign} {term}")
            held[j] = own
        for number, line in enumerate(lines):
            nested = guarded and number >= body_starts
            code = ("        " if nested else "    ") + line
            writer.add(comment(code, f"node {i}: {node.op}") if number == 0 else code)
    writer.finish()
    return writer.source(), writer.function_names()


def _contribution(gradient: str, partial_rule: str, places: dict[str, str]) -> tuple[str, str]:
    """(sign, term) such that ``g[j] sign= term`` adds gradient * partial.

    A partial of exactly 1.0 or -1.0 becomes ``+ gradient`` or ``- gradient``: the same
    floats (x * 1.0 == x and x + -y == x - y), less work.
    """
    if partial_rule == "1.0":
        return "+", gradient
    if partial_rule == "-1.0":
        return "-", gradient
    return "+", f"{gradient} * ({fill_in(partial_rule, places)})"


def _compile(source: str, names: list[str], label: str) -> Callable[..., None]:
    namespace: dict[str, object] = dict(RULE_NAMESPACE)
    exec(compile(source, f"<minigrad {label}>", "exec"), namespace)  # our generated code
    functions = [namespace[name] for name in names]

    def run(*arrays: list[float]) -> None:
        for function in functions:
            function(*arrays)  # type: ignore[operator]

    return run


def _compiled_forward(graph: Graph) -> Callable[..., None]:
    forward = graph._cache.get("forward")
    if forward is None:
        source, names = forward_source(graph)
        forward = graph._cache["forward"] = _compile(source, names, "forward")
    return forward  # type: ignore[return-value]


def _compiled_backward(graph: Graph, output: int) -> Callable[..., None]:
    key = f"backward {output}"
    backward = graph._cache.get(key)
    if backward is None:
        source, names = backward_source(graph, output)
        backward = graph._cache[key] = _compile(source, names, key)
    return backward  # type: ignore[return-value]


def _use_compiled(graph: Graph, key: str) -> bool:
    # Count the calls of this graph; interpret the first INTERPRETED_CALLS of them.
    calls = graph._cache.get(key, 0)
    assert isinstance(calls, int)
    graph._cache[key] = calls + 1
    return calls >= INTERPRETED_CALLS


def _leaf_values(graph: Graph) -> list[float]:
    """The values list as it starts: leaf values in place, 0.0 for every operation."""
    initial = graph._cache.get("initial")
    if initial is None:
        initial = graph._cache["initial"] = [
            node.value if isinstance(node, Scalar) else 0.0 for node in graph.order
        ]
    assert isinstance(initial, list)
    return initial


def forward_values(graph: Graph, overrides: dict[int, float]) -> list[float]:
    """The value of every node: interpreted for a graph's first calls, then compiled."""
    if not _use_compiled(graph, "forward calls"):
        return interpret_forward(graph, overrides)
    values = _leaf_values(graph).copy()
    for position, value in overrides.items():
        values[position] = value
    try:
        _compiled_forward(graph)(values)
    except RULE_ERRORS:
        interpret_forward(graph, overrides)  # raises the error that names the node
        raise  # pragma: no cover - the interpreter always raises here
    error = first_nonfinite_error(graph, values)
    if error is not None:
        raise error
    return values


def backward_gradients(graph: Graph, values: list[float], output: int) -> list[float]:
    """d output / d node for every node: interpreted for the first calls, then compiled."""
    if not _use_compiled(graph, f"backward calls {output}"):
        return interpret_backward(graph, values, output)
    grads = [0.0] * len(graph.order)
    grads[output] = 1.0
    try:
        _compiled_backward(graph, output)(values, grads)
    except RULE_ERRORS:
        interpret_backward(graph, values, output)  # raises the error that names the node
        raise  # pragma: no cover - the interpreter always raises here
    check_gradients_finite(graph, grads)
    return grads


def show_code(graph: Graph, output: Node | None = None) -> str:
    """The Python code MiniGrad runs for ``graph``: its forward pass, and the backward
    pass of ``output`` if given.  For reading and stepping through; runs nothing.

    Examples
    --------
    >>> from minigrad import Scalar, Graph
    >>> x = Scalar(3.0, name="x")
    >>> y = x * x + 1
    >>> print(show_code(Graph(y), output=y))
    def forward_0(v):
        v1 = v[1] = v[0] * v[0]                      # node 1: mul
        v2 = v[2] = v1 + 1.0                         # node 2: add
    <BLANKLINE>
    <BLANKLINE>
    def backward_0(v, g):
        g1 = g[2]                                    # node 2: add
        g0 = 0.0 + g1 * (v[0])                       # node 1: mul
        g0 += g1 * (v[0])
        g[0] = g0
        g[1] = g1
    <BLANKLINE>
    """
    parts = [forward_source(graph, comments=True)[0]]
    if output is not None:
        if output not in graph.index:
            raise ValueError(f"{output!r} is not a node of this graph")
        parts.append(backward_source(graph, graph.index[output], comments=True)[0])
    return "\n\n".join(parts)

