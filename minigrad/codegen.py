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

and the backward pass for output ``d`` (``g`` holds the gradients, ``g[6]`` is 1.0)::

    def backward_0(v, g):
        g2 = g[6]                                    # node 6: add
        g5 = g[6]
        g4 = 0.0 + g5 * (step(v[4]))                 # node 5: relu
        g3 = 0.0 + g4 * (2.0 * pow(v[3], 2.0 - 1.0)) # node 4: pow
        g1 = 0.0 + g2 * (1.0 / 5.0)                  # node 2: div
        g0 = 0.0 + g1 * (3.0 * pow(v[0], 3.0 - 1.0)) # node 1: pow
        g[0] = g0
        ...

The statements come from the *same rule texts* (``ops.py``) that the reference
interpreters (``interpret.py``) turn into functions, in the same order, so both paths
do the same float operations in the same order and agree to the last bit -- the tests
check this on random graphs.  :func:`show_code` prints the code; it contains no text from
the user (no names, only node positions and number literals written by ``repr``).

This module only writes and compiles code; *when* to use it (a graph's first calls are
interpreted) and what to do when compiled code meets an error (ask the interpreter,
which names the node) is decided in ``fastpath.py``.  Code is generated and compiled in
chunks of :data:`CHUNK_SIZE` nodes, one function each, so compile time and memory stay
linear in the graph's size and bounded by one chunk's text at a time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from minigrad.graph import Graph
from minigrad.nodes import Node, Operation
from minigrad.ops import OPERAND_NAMES, OPS, RULE_NAMESPACE

__all__ = ["CHUNK_SIZE", "CompiledPass", "compile_backward", "compile_forward", "show_code"]

class Rules(Protocol):
    """A row's rule texts: an :class:`~minigrad.ops.Op`, or its numpy form (batch.py)."""

    @property
    def value_rule(self) -> str: ...

    @property
    def partial_rules(self) -> tuple[str, ...]: ...


#: Which row of rules a node's statement uses: ``(position, node) -> row``.  By default
#: the op's own row in ops.py; the batched path (``batch.py``) passes one that gives
#: numpy's forms of the same rows for the nodes that depend on an array.
RulesOf = Callable[[int, Operation], Rules]


def _own_row(position: int, node: Operation) -> Rules:
    return OPS[node.op]

#: Nodes per generated function.  Larger chunks mean fewer write-backs of gradients
#: that several chunks touch, smaller ones less work per compile; 3000 measured best.
CHUNK_SIZE = 3000

_RULE_VARIABLE = re.compile(r"\b(a|b|out)\b")  # the names a rule text uses


def fill_in(rule: str, places: dict[str, str]) -> str:
    """A rule text with each of a, b, out replaced by where that value lives.

    >>> fill_in("-out / b", {"a": "v[0]", "b": "2.0", "out": "v3"})
    '-v3 / 2.0'
    """
    return _RULE_VARIABLE.sub(lambda match: places[match.group(1)], rule)


def literal(x: float) -> str:
    """A number as source text: ``repr`` round-trips floats exactly; negatives bracketed.

    Only plain finite floats are written into code (``Operation`` converts every literal
    to one): the ``repr`` of anything else -- a float subclass, ``nan`` -- could be
    text that means something else, or nothing, when run.
    """
    if type(x) is not float or not math.isfinite(x):
        raise TypeError(f"only finite floats are written into generated code, got {x!r:.40}")
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def _function(name: str, parameters: str, body: list[str]) -> str:
    """``def name(parameters):`` and the body; ``pass`` if there is nothing to do."""
    return f"def {name}({parameters}):\n" + ("\n".join(body) if body else "    pass")


def _commenter(comments: bool) -> Callable[[str, str], str]:
    """Adds ``# node 5: mul`` to a line for reading (show_code); the code that is
    compiled goes without: comments cost tokenizing time and change nothing."""
    if comments:
        return lambda line, note: f"{line:<48} # {note}"
    return lambda line, note: line


def _place(graph: Graph, operand: Node | float, local: set[int]) -> str:
    """Where an operand's value lives: a local ``v3``, the list ``v[3]``, or a literal."""
    if not isinstance(operand, Node):
        return literal(operand)
    j = graph.index[operand]
    return f"v{j}" if j in local else f"v[{j}]"


def forward_chunks(
    graph: Graph, comments: bool = False, rules: RulesOf = _own_row
) -> Iterator[tuple[str, str]]:
    """The forward pass as source, one function ``forward_k(v)`` of at most
    :data:`CHUNK_SIZE` nodes at a time, as (name, source) pairs.

    Each function fills ``v[i]`` for its operations.  Chunks are yielded one by one so
    that each can be compiled and its text dropped before the next is written: the
    text and syntax tree of a whole million-node graph at once would take gigabytes.
    """
    comment = _commenter(comments)
    body: list[str] = []
    local: set[int] = set()  # positions whose value is in a local variable in this chunk
    number = 0
    for i, node in enumerate(graph.order):
        if not isinstance(node, Operation):
            continue  # leaves are already in v
        if len(body) == CHUNK_SIZE:  # one line per node
            yield f"forward_{number}", _function(f"forward_{number}", "v", body)
            body, local, number = [], set(), number + 1
        places = {
            name: _place(graph, operand, local)
            for name, operand in zip(OPERAND_NAMES, node.args, strict=False)
        }
        expression = fill_in(rules(i, node).value_rule, places)
        body.append(comment(f"    v{i} = v[{i}] = {expression}", f"node {i}: {node.op}"))
        local.add(i)
    yield f"forward_{number}", _function(f"forward_{number}", "v", body)


def backward_chunks(
    graph: Graph,
    output: int,
    comments: bool = False,
    rules: RulesOf = _own_row,
    arrays: bool = False,
) -> Iterator[tuple[str, str]]:
    """The backward pass for the output at position ``output``, as source, one function
    ``backward_k(v, g)`` of at most :data:`CHUNK_SIZE` nodes at a time.

    Mirrors :func:`~minigrad.interpret.interpret_backward`: positions from the output
    down, only nodes on a path to the output, operands left to right, the same products
    added in the same order.  It differs in form only, never in the floats:

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
    * Nodes whose operands are all literals (``sqrt(2.0)``) have nobody to pass a
      gradient to and get no code.
    * The interpreter checks each partial is finite; here an infinite partial makes a
      gradient inf or NaN, the caller sees it in the finished list and re-runs the
      interpreter to raise its error.

    ``arrays=True`` is for gradients that are numpy arrays (``batch.py``): ``g3 = g3 +
    term`` instead of ``g3 += term``, which would write into the array itself -- and
    another gradient may still be that array (an alias); and a first contribution is
    just ``term``, without the ``0.0 +`` that only serves bit-identity with the float
    interpreter (its batch twin starts from the first contribution too).
    """
    comment = _commenter(comments)
    index = graph.index
    reaches = [False] * (output + 1)  # on a path to the output (as in the interpreter)
    reaches[output] = True
    in_list: set[int] = {output}  # gradients with contributions in g[...] (the caller's 1.0)
    held: dict[int, str] = {}  # gradients held in this chunk: position -> the local holding it
    body: list[str] = []
    nodes_in_chunk = number = 0

    def write_back() -> None:  # at the end of each chunk
        body.extend(f"    g[{j}] = {held[j]}" for j in sorted(held))
        in_list.update(held)
        held.clear()

    for i in range(output, -1, -1):
        node = graph.order[i]
        if not reaches[i] or not isinstance(node, Operation):
            continue
        if not any(isinstance(operand, Node) for operand in node.args):
            continue  # only literals below: no gradient to pass on
        if nodes_in_chunk == CHUNK_SIZE:
            write_back()
            yield f"backward_{number}", _function(f"backward_{number}", "v, g", body)
            body, nodes_in_chunk, number = [], 0, number + 1
        nodes_in_chunk += 1
        places = {"out": f"v[{i}]"}  # values are read from the list: no locals here
        for name, operand in zip(OPERAND_NAMES, node.args, strict=False):
            places[name] = _place(graph, operand, local=set())
        gradient = held.get(i, f"g[{i}]")
        partial_rules = rules(i, node).partial_rules
        note = f"node {i}: {node.op}"
        for argnum, operand in enumerate(node.args):
            if not isinstance(operand, Node):
                continue  # a literal has no gradient
            j = index[operand]
            reaches[j] = True
            own = f"g{j}"
            sign, term = _contribution(gradient, partial_rules[argnum], places)
            if held.get(j) == own:
                line = f"{own} = {own} {sign} {term}" if arrays else f"{own} {sign}= {term}"
            elif j in held:  # an alias: now something is added, so it needs its own local
                line = f"{own} = {held[j]} {sign} {term}"
            elif j in in_list:  # the first contribution in this chunk, not the first ever
                line = f"{own} = g[{j}] {sign} {term}"
            elif sign == "+" and term == gradient:
                if "[" not in gradient:  # 0.0 + a gradient held in a local: that local
                    held[j] = gradient
                    continue
                line = f"{own} = {gradient}"  # 0.0 + g[i] is g[i]
            elif arrays:  # the first contribution ever, an array: itself
                line = f"{own} = {term}" if sign == "+" else f"{own} = -{term}"
            else:  # the first contribution ever
                line = f"{own} = 0.0 {sign} {term}"
            held[j] = own
            body.append(comment(f"    {line}", note) if note else f"    {line}")
            note = ""  # the node's first line carries its comment
    write_back()
    yield f"backward_{number}", _function(f"backward_{number}", "v, g", body)


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


class CompiledPass:
    """A compiled forward or backward pass: call it with the lists it fills in.

    It runs its chunk functions one after another; each is compiled from its own source
    text, which is then dropped (the text of a big graph is larger than its code).
    """

    __slots__ = ("functions",)

    def __init__(
        self,
        chunks: Iterator[tuple[str, str]],
        label: str,
        names: Mapping[str, object] = RULE_NAMESPACE,
    ) -> None:
        namespace: dict[str, object] = dict(names)  # what the rules call, by name
        functions = []
        for name, source in chunks:
            exec(compile(source, f"<minigrad {label}>", "exec"), namespace)  # our own code
            functions.append(namespace.pop(name))
        self.functions: tuple[Callable[..., None], ...] = tuple(functions)  # type: ignore[arg-type]

    def __call__(self, *lists: list[float]) -> None:
        for function in self.functions:
            function(*lists)


def compile_forward(graph: Graph) -> CompiledPass:
    """The forward pass of ``graph`` compiled: ``run(v)`` fills in every operation's value."""
    return CompiledPass(forward_chunks(graph), "forward")


def compile_backward(graph: Graph, output: int) -> CompiledPass:
    """The backward pass of the output at position ``output`` compiled: ``run(v, g)``
    adds every gradient into ``g``, which must hold 1.0 at ``output`` and 0.0 elsewhere."""
    return CompiledPass(backward_chunks(graph, output), f"backward {output}")


def _source(chunks: Iterator[tuple[str, str]]) -> str:
    return "\n\n\n".join(source for _, source in chunks) + "\n"


def show_code(
    graph: Graph, output: Node | None = None, inputs: Mapping[object, object] | None = None
) -> str:
    """The Python code MiniGrad runs for ``graph``: its forward pass, and the backward
    pass of ``output`` if given.  For reading and stepping through; runs nothing.

    With ``inputs`` that give some leaves arrays (a batch, ``batch.py``), the code that
    runs for those: nodes that depend on them call numpy's forms of the rules
    (``vec_sin``, ``vec_where``), the rest stay float code.

    Each statement is commented with its node's position in ``graph.order`` (the same
    numbers ``#i`` as ``draw_graph(..., numbers=True)`` and ``backward_trace``) and op.
    ``v`` holds values and ``g`` gradients, both indexed by position; the caller puts
    the leaves' values into ``v`` and 1.0 into ``g[output]`` (d output / d output)
    before the backward pass starts.  In the backward pass a gradient's first
    contribution reads ``0.0 + ...``, because the interpreter starts every gradient at
    0.0 and adds (so both give the same bits), and a gradient passed on unchanged --
    both operands of ``+`` -- is no statement at all: the operand's gradient is the same
    local (``g2 = g[6]`` then later ``... g2 ...``).  :func:`backward_chunks` says more.

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
    if not isinstance(graph, Graph):
        raise TypeError(f"show_code needs a Graph, got {type(graph).__name__}; try Graph(node)")
    rules, arrays = _own_row, False
    if inputs:
        from minigrad.evaluate import has_arrays, resolve_inputs  # (they import this module)

        overrides = resolve_inputs(graph, inputs, arrays=True)
        if has_arrays(overrides):
            from minigrad.batch import make_plan

            plan = make_plan(graph, [i for i, v in overrides.items() if type(v) is not float])
            rules, arrays = plan.rules, True
    parts = [_source(forward_chunks(graph, comments=True, rules=rules))]
    if output is not None:
        if output not in graph.index:
            raise ValueError(f"{output!r} is not a node of this graph")
        chunks = backward_chunks(graph, graph.index[output], comments=True, rules=rules,
                                 arrays=arrays)
        parts.append(_source(chunks))
    return "\n\n".join(parts)

