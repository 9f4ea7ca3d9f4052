"""Derivatives as graphs: :func:`gradient`, :func:`diff`, :func:`hessian`, :func:`jvp`.

:func:`~minigrad.backward` computes gradients as *numbers*.  The functions here compute
them as *nodes*: the derivative of an expression is another expression over the same
leaves, which you can evaluate with new inputs, draw, print, export -- and differentiate
again, which is how second and higher derivatives come about.

They are the two passes of the reference interpreter in ``interpret.py``, run on nodes
instead of numbers, with the same rules from ``ops.py``:

* The **backward pass** (:func:`gradient`).  Walking the graph from the output back,
  each node's gradient (now a node) is multiplied by each operand's partial (now built
  by the op's partial rule run with the node namespace, ``builder.ops``: ``cos(x)`` for
  ``sin(x)``) and added into the operand's gradient.  One sweep gives the gradients
  with respect to all the leaves you ask for; evaluated, they are the floats of the
  reference interpreter's backward pass, bit for bit (the engine that runs
  :func:`~minigrad.backward` may add a node's contributions in another order, and
  differ in the last bit).
* The **forward pass** (:func:`jvp`).  Walking the graph from the leaves, each node's
  *tangent* -- its derivative along a chosen direction, d node / dx for ``{x: 1.0}`` --
  is the sum over its operands of partial times the operand's tangent.  As the backward
  pass computes every partial on the way whatever the gradient, this computes every
  partial on the way whatever the tangent: ``step(x)``'s tangent is 0, and ``asin`` of
  it passes on ``asin' * 0``, which raises at x = 1 where ``asin'`` is infinite.

Higher derivatives use the forward pass, because a node's tangent is the same whatever
the output (a gradient is not): :func:`diff` differentiates ``n`` times keeping every
tangent it has built, so the (n+1)-th derivative only needs the tangents of the nodes
the n-th one added.  :func:`hessian` is forward over reverse: the gradient as nodes,
then one forward pass per leaf through it.  Everything is built through
:class:`~minigrad.rewrite.NodeBuilder` (constants folded, ``1.0 * g`` is ``g``, equal
subexpressions merged); together these keep an 8th derivative within a few times the
size of SymPy's ``diff`` plus ``cse`` instead of doubling with every order.

Conventions are those of the rules: ``relu'`` is ``step``, whose own slope is 0, so
``relu'' = 0``; ``sqrt'`` is ``0.5 / sqrt(x)``, so ``diff(sqrt(x), x)`` evaluated at 0
raises :class:`~minigrad.errors.EvaluationError` (a division by zero), never inf.

**A derivative keeps the domain of what it differentiates.**  ``backward()`` raises
where the expression cannot be evaluated, and where a partial or a gradient on the way
back is not finite.  A derivative graph does too:

* The derivative of ``log(x)`` is ``1/x``, a number at x = -1.  So every result is
  ``given(d, f)`` (``ops.py``): the value of the derivative ``d``, where ``f``, the
  expression differentiated, is defined -- evaluating it evaluates ``f``, and raises,
  naming ``f``'s failing node, wherever ``f`` does.  One node, and ``f``'s own nodes
  (most are in ``d`` already).  An ``f`` made only of total ops -- sin, tanh, relu, ...,
  ``total`` in the table -- is defined everywhere and needs none: ``diff(sin(x), x)``
  is ``cos(x)``.  ``diff(f, x, n)`` is ``given(d, f)`` too; the derivative of a
  derivative graph ``h`` is ``given(h', h)``, defined where ``h`` is.
* Every partial and every product of the chain rule on the way back is a node of ``d``:
  the builder folds none away (``x * 0`` is not rewritten), so ``d`` raises where one
  is infinite -- ``0.0 * sqrt(x)`` at x = 0 raises on 0 * inf, as ``backward`` does.
* Every rule's steps stay finite where its result is (``ops.py``), so ``d`` never raises
  where ``backward`` gives a number.

So :func:`gradient` evaluated gives ``backward``'s floats for its leaves -- bit for bit,
the sign of zero included, as the reference interpreter computes them -- or raises
exactly where ``backward`` raises on the way to them.  (``backward`` also raises for a
gradient nobody asked about here: that of another leaf, or of a constant.)  :func:`jvp`
and :func:`diff` multiply the slopes in the other order, from the leaves up: their
numbers are ``backward``'s up to rounding, and where a product of slopes overflows, near
1e308, one may raise and the other not.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence

from minigrad.graph import Graph, garbage_collector_paused, topological_order
from minigrad.interpret import backward_pass
from minigrad.nodes import Node, Operation, Scalar, as_finite_float, brief_repr
from minigrad.ops import OPS
from minigrad.rewrite import NodeBuilder, Term, as_node

__all__ = ["diff", "gradient", "hessian", "jvp"]


def _check_output(output: object, function: str) -> Node:
    if not isinstance(output, Node):
        raise TypeError(f"{function} differentiates a node, got {type(output).__name__}")
    return output


def _check_leaves(wrt: object, function: str) -> tuple[Scalar, ...]:
    """``wrt`` as a tuple of leaves; a clear error for a single node, a non-leaf or junk."""
    if isinstance(wrt, Node | str | bytes) or not isinstance(wrt, Sequence):
        raise TypeError(
            f"{function} needs a list of leaves to differentiate by, e.g. [x, y]; "
            f"got {type(wrt).__name__}"
        )
    for leaf in wrt:
        _check_leaf(leaf, function)
    return tuple(wrt)


def _check_leaf(leaf: object, function: str) -> Scalar:
    if isinstance(leaf, Scalar):
        return leaf
    if isinstance(leaf, Node):
        raise ValueError(
            f"{function} differentiates with respect to leaves (Scalar), and {leaf!r} is "
            "not one; to differentiate by a subexpression, make it a Scalar of its own"
        )
    raise TypeError(f"{function}: expected a Scalar leaf, got {type(leaf).__name__}")


def _partial(builder: NodeBuilder, node: Operation, argnum: int) -> Term:
    """d node / d operand ``argnum``: the op's partial rule run on nodes (the operands,
    and ``out``, the node itself), so it builds the partial as new nodes."""
    rule = OPS[node.op].partial_rules[argnum]
    assert rule is not None  # a condition (given's second operand) is never differentiated
    result: Term = rule(builder.ops, *node.args, node)
    return result


def _given(builder: NodeBuilder, derivative: Term, output: Node, order: Sequence[Node]) -> Node:
    """The derivative as a node that is defined only where ``output`` is:
    ``given(derivative, output)`` -- unless every op of ``output`` (its graph in
    ``order``) is total, so that it evaluates everywhere."""
    if all(OPS[node.op].total for node in order if isinstance(node, Operation)):
        return as_node(derivative)
    return as_node(builder.apply("given", (derivative, output)))


def _depends_on(order: Sequence[Node], leaves: Sequence[Scalar]) -> set[Node]:
    """The nodes whose value depends on any of the leaves (the leaves included)."""
    depends: set[Node] = set(leaves)
    for node in order:
        if any(operand in depends for operand in node.args if isinstance(operand, Node)):
            depends.add(node)
    return depends


def _reverse_sweep(output: Node, leaves: tuple[Scalar, ...], builder: NodeBuilder) -> list[Term]:
    """The backward pass on nodes: d output / d leaf for each leaf, as terms.

    The reference interpreter's loop (``interpret.backward_pass``), run with the node
    namespace: each node's "value" is the node itself, and every product and sum of
    the chain rule is built as a node (through the builder, which folds ``1.0 * g``).
    """
    graph = Graph(output)
    builder.register(graph.order)  # partials reuse nodes the graph has already
    grads = backward_pass(
        graph, builder.ops, list(graph.order), graph.index[output],
        lambda node, argnum, operands, out: _partial(builder, node, argnum),
        along=_depends_on(graph.order, leaves),
    )
    return [grads[graph.index[leaf]] if leaf in graph.index else 0.0 for leaf in leaves]


def gradient(output: Node, wrt: Sequence[Scalar]) -> tuple[Node, ...]:
    """d output / d leaf for each leaf in ``wrt``, as nodes, from one reverse sweep.

    Each result is an ordinary node over the same leaves: evaluate it (by node or by
    name), draw it, differentiate it again.  Evaluated, the nodes give the numbers
    :func:`~minigrad.backward` gives, or raise where it raises on the way to them: each
    is ``given(derivative, output)`` (module docstring).  A derivative of an expression
    defined everywhere that is constant is a :class:`~minigrad.nodes.Constant` node.

    Examples
    --------
    >>> import math
    >>> from minigrad import Scalar, Graph, evaluate, describe
    >>> x = Scalar(0.5, name="x"); y = Scalar(2.0, name="y")
    >>> gx, gy = gradient(x * y + x.sin(), [x, y])
    >>> describe(gx), describe(gy)
    ('given(cos(x) + y, x*y + sin(x))', 'given(x, x*y + sin(x))')
    >>> evaluate(Graph(gx), inputs={"y": 3.0})[gx] == 3.0 + math.cos(0.5)
    True
    >>> describe(gradient(x.relu().sin(), [x])[0])  # relu and sin are defined everywhere
    'cos(relu(x))*step(x)'
    """
    output = _check_output(output, "gradient")
    leaves = _check_leaves(wrt, "gradient")
    builder = NodeBuilder()
    with garbage_collector_paused():
        order = topological_order((output,))
        return tuple(_given(builder, g, output, order)
                     for g in _reverse_sweep(output, leaves, builder))


#: Tangents while sweeping forward: a node's tangent, or None for a node that does not
#: depend on the direction's leaves at all (its tangent is 0, and passes nothing on).
Tangents = dict[Node, Term | None]


def _forward_sweep(outputs: tuple[Node, ...], tangent: Tangents,
                   builder: NodeBuilder) -> list[Term]:
    """The forward pass on nodes: d output along the direction that ``tangent`` starts
    with (leaf -> tangent), for each output, from one sweep over their graph.  Fills in
    ``tangent`` for every node it visits and skips nodes already there, so a later call
    on a graph that contains these nodes (the next derivative) only builds what is new.
    Leaves not in it have tangent 0.

    As the backward pass computes every partial on a path to the output, whatever the
    gradient, this computes every partial on a path from the direction's leaves,
    whatever the tangent: a tangent that is 0 (``step(x)``'s, 0 * 1) still passes on
    ``partial * 0``, which raises where the partial is infinite (``asin(step(x))`` at 1,
    as ``backward()`` does).  Only a node that does not depend on the leaves passes
    nothing on."""
    order = topological_order(outputs)
    builder.register(order)  # partials reuse nodes the graph has already
    for node in order:
        if node in tangent or not isinstance(node, Operation):
            continue
        total: Term | None = None
        rules = OPS[node.op].partial_rules
        for argnum, operand in enumerate(node.args):
            operand_tangent = tangent.get(operand) if isinstance(operand, Node) else None
            if operand_tangent is None or rules[argnum] is None:
                continue  # a literal, a condition, or a node that does not depend on x
            term = builder.apply("mul", (_partial(builder, node, argnum), operand_tangent))
            # the first term as it is (as the backward pass takes a first contribution)
            total = term if total is None else builder.apply("add", (total, term))
        tangent[node] = total
    return [_or_zero(tangent.get(output)) for output in outputs]


def _or_zero(term: Term | None) -> Term:
    return 0.0 if term is None else term


def diff(output: Node, wrt: Scalar, n: int = 1) -> Node:
    """The ``n``-th derivative of ``output`` with respect to the leaf ``wrt``, as a node.

    The forward pass ``n`` times, keeping every tangent from one order to the next
    (module docstring): ``given(derivative, output)``, unless ``output`` is defined
    everywhere.  (For the first derivative with ``backward()``'s very floats, bit for
    bit, use ``gradient(output, [wrt])``: the forward pass multiplies the same slopes in
    another order.)

    Examples
    --------
    >>> from minigrad import Scalar, describe
    >>> x = Scalar(3.0, name="x")
    >>> describe(diff(x**3, x))  # 3x**2, where x**3 is defined (it overflows from 5.6e102)
    'given(3*x**2, x**3)'
    >>> describe(diff(x**3, x, 2)), describe(diff(x**3, x, 4))
    ('given(3*(2*x), x**3)', 'given(0, x**3)')
    >>> describe(diff(x.sin(), x, 2))  # sin is defined everywhere
    '-sin(x)'
    """
    output = _check_output(output, "diff")
    leaf = _check_leaf(wrt, "diff")
    try:  # an int, or what stands for one (numpy's integers): not a bool, not 2.0
        order = operator.index(n) if not isinstance(n, bool) else -1
    except TypeError:
        order = -1
    if order < 0:
        raise ValueError(f"diff: n must be a whole number >= 0, got {brief_repr(n)}")
    if order == 0:
        return output
    builder = NodeBuilder()
    tangent: Tangents = {leaf: 1.0}  # d/dx of each node, kept from order to order
    result: Term = output
    with garbage_collector_paused():
        for _ in range(order):
            if not isinstance(result, Node):
                result = 0.0  # a constant: its derivatives are 0
                break
            (result,) = _forward_sweep((result,), tangent, builder)
        return _given(builder, result, output, topological_order((output,)))


def hessian(output: Node, wrt: Sequence[Scalar]) -> tuple[tuple[Node, ...], ...]:
    """The matrix of second derivatives, ``H[i][j] = d2 output / d wrt[i] d wrt[j]``.

    Forward over reverse: the gradient as nodes (one backward sweep), then row ``i`` as
    the tangents of those nodes along ``wrt[i]`` (one forward sweep each).  One builder
    serves all, so what the rows share is built once.

    Examples
    --------
    >>> from minigrad import Scalar, describe
    >>> x = Scalar(1.0, name="x"); y = Scalar(2.0, name="y")
    >>> H = hessian(x * x * y, [x, y])
    >>> [[describe(h) for h in row] for row in H]
    [['given(y + y, x*x*y)', 'given(x + x, x*x*y)'], ['given(x + x, x*x*y)', 'given(0, x*x*y)']]
    """
    output = _check_output(output, "hessian")
    leaves = _check_leaves(wrt, "hessian")
    builder = NodeBuilder()
    with garbage_collector_paused():
        order = topological_order((output,))
        first = _reverse_sweep(output, leaves, builder)
        gradient_nodes = tuple(g for g in first if isinstance(g, Node))  # constants: 0
        rows = []
        for leaf in leaves:  # one forward sweep through all of the gradient per row
            tangents = iter(_forward_sweep(gradient_nodes, {leaf: 1.0}, builder))
            rows.append(tuple(
                _given(builder, next(tangents) if isinstance(g, Node) else 0.0, output, order)
                for g in first
            ))
    return tuple(rows)


def jvp(output: Node, tangents: Mapping[Scalar, object]) -> Node:
    """Forward mode: the derivative of ``output`` along the direction ``tangents``.

    ``jvp(f, {x: 1.0, y: 0.5})`` is ``df/dx * 1.0 + df/dy * 0.5``, built by one forward
    sweep; leaves not in ``tangents`` have tangent 0.  Tangents may be numbers or nodes.

    Examples
    --------
    >>> from minigrad import Scalar, describe
    >>> x = Scalar(1.0, name="x"); y = Scalar(2.0, name="y")
    >>> describe(jvp(x * y, {x: 1.0, y: 0.5}))
    'given(y + x*0.5, x*y)'
    """
    output = _check_output(output, "jvp")
    if not isinstance(tangents, Mapping):
        raise TypeError(f"jvp needs a mapping leaf -> tangent, got {type(tangents).__name__}")
    tangent: Tangents = {}
    for leaf, direction in tangents.items():
        _check_leaf(leaf, "jvp")
        tangent[leaf] = (
            direction if isinstance(direction, Node)
            else as_finite_float(direction, f"the tangent of {leaf!r}")
        )
    builder = NodeBuilder()
    with garbage_collector_paused():
        (result,) = _forward_sweep((output,), tangent, builder)
        return _given(builder, result, output, topological_order((output,)))
