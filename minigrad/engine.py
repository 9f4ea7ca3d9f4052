"""The engine: a Graph run a depth at a time, each op's nodes at that depth in one numpy call.

``interpret.py`` runs a graph one node at a time: a few microseconds of Python per node.
This module runs the same rules (``ops.py``) much faster by doing *few calls over many
nodes*, the auto-batching of DyNet (Neubig et al. 2017) and TensorFlow Fold (Looks et
al. 2017):

1. **Level the graph once.**  A leaf has depth 0; an operation has depth one more than
   its deepest operand.  Nodes of one depth never depend on each other.
2. **Group** the nodes of one depth by op (and by which operands are literals).  On the
   micrograd moons loss, 65,414 nodes fall into a few dozen groups.
3. **Forward**: each group is one gather of its operands' rows, the op's value rule run
   with the numpy namespace (:data:`NUMPY`) on whole arrays, and one scatter::

       values[out] = rule(NUMPY, values[a], values[b])

4. **Backward**: the groups in reverse; each operand receives ``gradient * partial``,
   summed first where one node is an operand of several nodes of the group (one weight
   in a hundred examples' products: ``numpy.add.reduceat``).  The partials are the
   table's partial rules, on arrays.

Values live in one matrix, a row per node (and per literal: literals become constant
rows) and a column per point.  A float call is the one-point case: one column.  Many
points are many columns, so a batch costs the same number of numpy calls as one point.

**Narrow stretches.**  numpy costs a microsecond or two per call whatever its size, so a
group of a handful of nodes is cheaper in plain Python: a long chain (every depth one
node) or the tail of a long sum.  Consecutive depths with only small groups form a
*stretch*, run node by node with the same rules -- on Python floats for one point (the
float namespace of ``ops.py``), on rows of the matrix for many.  A long sum in a
stretch, as Python's ``sum()`` builds it (a run of adds, each used only by the next),
is one loop of the same additions (:class:`SumRun`).

**Errors.**  numpy does not raise for ``log(-1)``: it returns NaN.  So the engine runs
with numpy's warnings off and checks at the end that every value and gradient is finite
(one pass).  If one is not, the reference interpreter runs again at the first failing
point and raises its :class:`~minigrad.errors.EvaluationError`, naming op, node and
point; the engine never explains an error itself.

What is worked out once per Graph -- the levels and groups (:class:`Schedule`), and per
output the groups that reach it -- is kept by the Graph (``graph.kept``); a pickled or
copied Graph makes its own when first run.  :func:`show_schedule` writes a schedule
out as text (``minigrad.show_code``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from minigrad.errors import EvaluationError, at_point
from minigrad.graph import Graph, garbage_collector_paused
from minigrad.interpret import interpret_backward, interpret_forward
from minigrad.nodes import Constant, Node, Operation, Scalar, describe
from minigrad.ops import FLOATS, OPS, RULE_ERRORS, Op, namespace, rule_text
from minigrad.values import BatchValues, NodeValues, Undefined, batch_size

__all__ = ["NUMPY", "POINTS_PER_PIECE", "Schedule", "run", "schedule_of", "show_schedule"]


# ---------------------------------------------------------------------------------------
# The numpy namespace: the rules over arrays.
# ---------------------------------------------------------------------------------------


def _pointwise(function: Callable[[float], float]) -> Callable[[Any], Any]:
    # numpy has no erf (scipy has): math's, point by point, about 60 ns a point.
    def at_every_point(x: Any) -> Any:
        x = np.asarray(x, dtype=np.float64)
        flat = np.fromiter(map(function, x.ravel().tolist()), np.float64, x.size)
        return flat.reshape(x.shape)

    return at_every_point


#: The numpy namespace: each primitive of ``ops.PRIMITIVES`` as numpy's function.
NUMPY = namespace({
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "pow": np.power, "neg": np.negative,
    "where": np.where, "gt": np.greater, "ge": np.greater_equal, "le": np.less_equal,
    "abs": np.abs, "sign": np.sign, "floor": np.floor, "ceil": np.ceil, "exp": np.exp,
    "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "log2": np.log2,
    "log10": np.log10, "sqrt": np.sqrt, "cbrt": np.cbrt, "hypot": np.hypot,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "atan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh,
    "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
    "erf": _pointwise(math.erf), "erfc": _pointwise(math.erfc),
}, "numpy arrays")


# ---------------------------------------------------------------------------------------
# The schedule: made once per Graph.
# ---------------------------------------------------------------------------------------


#: A node as the engine runs it: its op, its operands' rows, whether each operand is a
#: node (else a literal), and its own row.
Entry = tuple[Op, tuple[int, ...], tuple[bool, ...], int]


@attrs.frozen(eq=False)
class Group:
    """Nodes of one op at one depth, run by one call of each rule.

    ``out`` are their rows; ``args[k]`` the rows of their k-th operands (a literal's
    constant row if ``is_node[k]`` is False: literals have no gradient).  Where a row
    repeats in ``args[k]`` (one weight, used by a hundred examples' products), the
    contributions to it must be summed before they are added: ``repeats[k]`` is then
    (order, starts, rows) -- the contributions sorted by row, where each row's run
    starts, and the rows -- for one ``numpy.add.reduceat``; else None, and ``+=``
    scatters them.
    """

    depth: int
    op: Op
    out: Any
    args: tuple[Any, ...]
    is_node: tuple[bool, ...]
    repeats: tuple[tuple[Any, Any, Any] | None, ...]
    #: Per operand: the literal every node of the group has there, as a float (numpy
    #: computes ``x ** 2.0`` thirty times faster than ``x ** row_of_2.0``), else None.
    scalars: tuple[float | None, ...]


@attrs.frozen(eq=False)
class SumRun:
    """A long sum, as Python's ``sum()`` builds it: ``((start + t1) + t2) + ...``, a run
    of adds each used only by the next.  A stretch runs it as one loop of the same
    additions, in the same order (or one ``numpy.cumsum`` over many points), and passes
    the last node's gradient back to every node and term of it at once: every partial
    of ``+`` is 1, and a node used only by the next has exactly the next's gradient --
    unless the output differentiated is one of the adds before the last: then the run
    is passed back add by add (``_adds_of``).
    """

    start: int  # the place of the first add's first operand
    terms: tuple[int, ...]  # the places of each add's second operand
    kinds: tuple[bool, ...]  # start's and each term's: a node (else a literal)?
    places: tuple[int, ...]  # the places of the adds themselves, in order


@attrs.frozen(eq=False)
class Stretch:
    """Nodes of narrow depths, run one at a time in plain Python.

    ``rows`` are the rows it reads or writes: first the operands computed before it,
    then its own nodes; each node is ``(op, operand places, is_node, place)``, places
    counted in ``rows``, or a :class:`SumRun`.
    """

    depths: tuple[int, int]
    rows: Any
    inputs: int  # how many of ``rows`` are operands from before the stretch
    nodes: tuple[Entry | SumRun, ...]
    #: All of the graph's operations: ``rows`` are all rows, read as they are (the
    #: stretch's own rows are written back too, but so is everything else: harmless).
    whole: bool = False
    #: (place, value) of each literal among ``rows``: many points read it as a float.
    literals: tuple[tuple[int, float], ...] = ()


Step = Group | Stretch


@attrs.frozen(eq=False)
class Schedule:
    """How a Graph runs on the engine, worked out once: rows, constants, steps."""

    nodes: int  # rows 0 .. nodes-1 are graph.order; the rest are literals
    initial: Any  # each row's starting value: leaves', constants' and literals' values
    steps: tuple[Step, ...]
    depth: int
    given: Any  # the rows that are not computed (leaves, constants, literals)
    #: Some op passes no gradient to an operand (``given``'s condition): then not every
    #: node of a one-output graph reaches its output.
    conditions: bool = False

    @property
    def rows(self) -> int:
        return len(self.initial)


#: A group with fewer nodes than this runs node by node in Python: one numpy call costs
#: about as much as a dozen nodes of Python on floats, but only one or two on arrays.
NARROW_FLOATS, NARROW_ARRAYS = 12, 2


@attrs.frozen(eq=False)
class _Levels:
    """One pass over the graph: each operation's depth and entry."""

    initial: list[float]  # each row's starting value (operations: 0.0), then literals
    depth: list[int]  # per position; 0 for leaves and constants
    width: list[int]  # how many operations each depth holds
    entries: list[Entry]  # the operations', in graph order
    given: list[int]  # the rows that are not computed: leaves, constants (and literals)
    uses: list[int]  # per position: how many operands of operations it is
    conditions: bool  # does an op pass no gradient to an operand (given's condition)?


def _levels(graph: Graph) -> _Levels:
    index, order = graph.index, graph.order
    nodes = len(order)
    depth = [0] * nodes
    uses = [0] * nodes
    initial: list[float] = [0.0] * nodes
    width = [0]
    entries: list[Entry] = []
    given: list[int] = []
    literal_rows: dict[float | str, int] = {}  # a literal's row, one per distinct float
    kinds_of: dict[tuple[bool, ...], tuple[bool, ...]] = {}  # one tuple per pattern
    ops_of: dict[str, Op] = {}  # the ops used, by name
    for position, node in enumerate(order):
        if isinstance(node, Operation):
            rows, deepest = [], 0
            for operand in node.args:
                row = index.get(operand)  # type: ignore[arg-type]  # None: a literal
                if row is None:  # a literal's constant row (keyed so that -0.0 is not 0.0)
                    literal: float = operand  # type: ignore[assignment]
                    key = literal if literal else literal.hex()
                    row = literal_rows.get(key)
                    if row is None:
                        row = literal_rows[key] = len(initial)
                        initial.append(literal)
                else:
                    uses[row] += 1
                    if depth[row] > deepest:
                        deepest = depth[row]
                rows.append(row)
            deepest += 1
            depth[position] = deepest
            if deepest == len(width):
                width.append(1)
            else:
                width[deepest] += 1
            kinds = tuple([row < nodes for row in rows])  # operands that are nodes
            op = ops_of.get(node.op) or ops_of.setdefault(node.op, OPS[node.op])
            entries.append((op, tuple(rows), kinds_of.setdefault(kinds, kinds), position))
        elif isinstance(node, Scalar | Constant):
            initial[position] = node.value
            given.append(position)
        else:
            raise TypeError(
                f"{type(node).__name__} is not a node MiniGrad can evaluate: a graph's nodes "
                "are Scalar leaves, Constants and Operations (or subclasses of them)"
            )
    given.extend(range(len(order), len(initial)))  # the literals
    conditions = any(None in op.partial_rules for op in ops_of.values())
    return _Levels(initial, depth, width, entries, given, uses, conditions)


def make_schedule(graph: Graph, narrow: int) -> Schedule:
    """Level and group the graph's nodes; groups under ``narrow`` nodes form stretches.

    A depth's wide groups run after everything before them; its small groups' nodes wait
    in a stretch, which grows through the following narrow depths and is run just before
    the next wide group (which may need them).  If no depth holds ``narrow`` operations,
    the whole graph is one stretch, in its own order: nothing to group.
    """
    levels = _levels(graph)
    steps: list[Step] = []
    if max(levels.width) < narrow:
        if levels.entries:
            steps.append(_stretch(levels, levels.entries, whole=True))
    else:
        by_depth: list[list[Entry]] = [[] for _ in levels.width]
        for entry in levels.entries:
            by_depth[levels.depth[entry[3]]].append(entry)
        pending: list[Entry] = []
        for depth, entries in enumerate(by_depth):
            if len(entries) < narrow:
                pending.extend(entries)
                continue
            groups: dict[tuple[str, tuple[bool, ...]], list[Entry]] = {}
            for entry in entries:
                groups.setdefault((entry[0].name, entry[2]), []).append(entry)
            wide = [members for members in groups.values() if len(members) >= narrow]
            if wide and pending:
                steps.append(_stretch(levels, pending))
                pending = []
            for members in groups.values():
                if len(members) >= narrow:
                    steps.append(_group(depth, members, levels.initial))
                else:
                    pending.extend(members)
        if pending:
            steps.append(_stretch(levels, pending))
    return Schedule(len(graph.order), np.array(levels.initial, dtype=np.float64),
                    tuple(steps), len(levels.width) - 1,
                    np.array(levels.given, dtype=np.intp), levels.conditions)


def _group(depth: int, members: list[Entry], initial: Any) -> Group:
    op, _, kinds, _ = members[0]
    args = [[entry[1][k] for entry in members] for k in range(len(kinds))]
    rows = tuple(np.array(a, dtype=np.intp) for a in args)
    repeats = tuple(None if len(set(a)) == len(a) else _runs(r)
                    for a, r in zip(args, rows, strict=True))
    scalars = tuple(float(initial[a[0]]) if not is_node and len(set(a)) == 1 else None
                    for a, is_node in zip(args, kinds, strict=True))
    out = np.array([entry[3] for entry in members], dtype=np.intp)
    return Group(depth, op, out, rows, kinds, repeats, scalars)


def _runs(rows: Any) -> tuple[Any, Any, Any]:
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return order, starts, ordered[starts]


def _stretch(levels: _Levels, entries: list[Entry], whole: bool = False) -> Stretch:
    """The nodes of ``entries`` (in an order that computes operands first), to run one
    at a time.  ``whole``: they are all of the graph's operations, and each node's place
    is simply its row (no renumbering: the cheapest to make, for a long chain)."""
    depths = (levels.depth[entries[0][3]], levels.depth[entries[-1][3]])
    nodes = len(levels.depth)
    if whole:
        rows = len(levels.initial)
        items = _with_sum_runs(levels, entries, list(range(rows)))
        literals = tuple((row, levels.initial[row]) for row in range(nodes, rows))
        return Stretch(depths, np.arange(rows, dtype=np.intp), rows, items, whole=True,
                       literals=literals)
    own = {entry[3]: i for i, entry in enumerate(entries)}
    inputs: dict[int, int] = {}  # rows computed before the stretch -> their place
    for entry in entries:
        for row in entry[1]:
            if row not in own and row not in inputs:
                inputs[row] = len(inputs)
    first = len(inputs)
    place_of = dict(inputs)
    place_of.update((position, first + i) for position, i in own.items())
    all_rows = np.array([*inputs, *own], dtype=np.intp)
    literals = tuple((place, levels.initial[row]) for row, place in inputs.items()
                     if row >= nodes)
    return Stretch(depths, all_rows, first, _with_sum_runs(levels, entries, place_of),
                   literals=literals)


#: A run of adds at least this long becomes one SumRun.
SUM_RUN = 4


def _with_sum_runs(levels: _Levels, entries: list[Entry],
                   place_of: dict[int, int] | list[int]) -> tuple[Entry | SumRun, ...]:
    """The stretch's nodes, each run of :data:`SUM_RUN` or more adds as one SumRun (at
    its last add's place: every term is computed by then, and nothing else reads the
    adds before the last), with rows turned into places."""
    adds = {e[3]: e for e in entries if e[0].name == "add"}
    follows: dict[int, int] = {}  # an add -> the add that is its only user
    for position, (_, rows, kinds, _) in adds.items():
        if kinds[0] and rows[0] in adds and levels.uses[rows[0]] == 1:
            follows[rows[0]] = position
    runs: dict[int, list[int]] = {}  # the last add of each run -> the run's adds
    followed = set(follows.values())
    for position in follows:
        if position in followed:
            continue  # not the first add of its run
        run = [position]
        while run[-1] in follows:
            run.append(follows[run[-1]])
        if len(run) >= SUM_RUN:
            runs[run[-1]] = run
    if not runs and isinstance(place_of, list):
        return tuple(entries)  # a whole graph with no long sum: places are rows already
    in_runs = {p for run in runs.values() for p in run}
    place = place_of.__getitem__
    items: list[Entry | SumRun] = []
    for op, rows, kinds, position in entries:
        ending = runs.get(position)
        if ending is not None:
            first = adds[ending[0]]
            items.append(SumRun(
                place(first[1][0]), tuple(place(adds[p][1][1]) for p in ending),
                (first[2][0], *(adds[p][2][1] for p in ending)),
                tuple(map(place, ending))))
        elif position not in in_runs:
            items.append((op, tuple(map(place, rows)), kinds, place(position)))
    return tuple(items)


def schedule_of(graph: Graph, points: int) -> Schedule:
    """The graph's schedule for one point or many, made on first use and kept."""
    narrow = NARROW_FLOATS if points == 1 else NARROW_ARRAYS
    kept = graph.kept.schedules.get(narrow)
    if kept is None:
        with garbage_collector_paused():  # many small lists: see graph.py
            kept = graph.kept.schedules[narrow] = make_schedule(graph, narrow)
    assert isinstance(kept, Schedule)
    return kept


# ---------------------------------------------------------------------------------------
# Backward: only the nodes on a path to the output pass gradients back.
# ---------------------------------------------------------------------------------------


#: Outputs whose backward steps a Graph keeps (each a filtered copy of the index arrays).
KEPT_OUTPUTS = 16


#: No rows.
_NONE = np.zeros(0, dtype=np.intp)


def backward_steps(graph: Graph, schedule: Schedule,
                   output: int) -> tuple[tuple[Step, ...], Any]:
    """The steps that pass gradients back to ``output``: the schedule's, keeping only the
    nodes that lie on a path to it (as the reference interpreter does: a node that does
    not reach the output has gradient 0, and its partials are never computed); and the
    rows of the nodes that do not reach it."""
    if graph.outputs == (graph.order[output],) and not schedule.conditions:
        return schedule.steps, _NONE  # the graph is this output's: every node reaches it
    key = (id(schedule), output)
    kept = graph.kept.backward.get(key)
    if kept is None:
        if len(graph.kept.backward) >= KEPT_OUTPUTS:
            graph.kept.backward.pop(next(iter(graph.kept.backward)))
        kept = graph.kept.backward[key] = _reaching(schedule, output)
    assert isinstance(kept, tuple)
    return kept


def _reaching(schedule: Schedule, output: int) -> tuple[tuple[Step, ...], Any]:
    reaches = np.zeros(schedule.rows, dtype=bool)
    reaches[output] = True
    kept: list[Step] = []
    for step in reversed(schedule.steps):
        if isinstance(step, Group):
            mask = reaches[step.out]
            if not mask.any():
                continue
            if not mask.all():  # only the nodes that reach the output
                out, args = step.out[mask].tolist(), [a[mask].tolist() for a in step.args]
                step = _group(step.depth, [(step.op, tuple(rows), step.is_node, position)
                                           for position, *rows in zip(out, *args, strict=True)],
                              schedule.initial)
            for rows, is_node, rule in zip(step.args, step.is_node, step.op.partial_rules,
                                           strict=True):
                if is_node and rule is not None:  # not a literal, nor a condition
                    reaches[rows] = True
        else:
            local = reaches[step.rows].tolist()
            nodes: list[Entry | SumRun] = []
            pending = list(step.nodes)
            while pending:  # from the stretch's last node back
                node = pending.pop()
                if isinstance(node, SumRun):
                    if not local[node.places[-1]]:
                        if any(local[p] for p in node.places[:-1]):
                            pending.extend(_adds_of(node))  # the output is one of its adds
                        continue
                    for p in node.places:  # its adds reach the output with its last
                        local[p] = True
                    places, kinds = (node.start, *node.terms), node.kinds
                else:
                    op, places, kinds, place = node
                    if not local[place]:
                        continue
                    kinds = tuple(is_node and rule is not None  # a condition: not reached
                                  for is_node, rule in zip(kinds, op.partial_rules, strict=True))
                nodes.append(node)
                for p, is_node in zip(places, kinds, strict=True):
                    if is_node:
                        local[p] = True
            if not nodes:
                continue
            reaches[step.rows] = local
            step = Stretch(step.depths, step.rows, step.inputs, tuple(reversed(nodes)),
                           step.whole, step.literals)
        kept.append(step)
    return tuple(reversed(kept)), np.flatnonzero(~reaches[: schedule.nodes])


def _adds_of(run: SumRun) -> list[Entry]:
    """A sum run as its adds, one entry each, in order: for a backward pass whose output
    is one of the adds before the last (whose gradient is then not the last's)."""
    previous = run.start
    adds: list[Entry] = []
    for k, (term, place) in enumerate(zip(run.terms, run.places, strict=True)):
        kinds = (run.kinds[0] if k == 0 else True, run.kinds[k + 1])
        adds.append((OPS["add"], (previous, term), kinds, place))
        previous = place
    return adds


# ---------------------------------------------------------------------------------------
# Running the steps.
# ---------------------------------------------------------------------------------------


def _forward(schedule: Schedule, values: Any) -> None:
    """Every operation's row of ``values`` (rows x points), in place."""
    one_point = values.shape[1] == 1
    for step in schedule.steps:
        if isinstance(step, Group):
            operands = [values[rows] if scalar is None else scalar
                        for rows, scalar in zip(step.args, step.scalars, strict=True)]
            values[step.out] = step.op.value_rule(NUMPY, *operands)
        else:
            _forward_stretch(step, values, one_point)


def _forward_stretch(step: Stretch, values: Any, one_point: bool) -> None:
    if one_point:  # Python floats and the float namespace, read and written in one call
        if step.whole:
            env = values[:, 0].tolist()
        else:
            env = values[step.rows[: step.inputs], 0].tolist()
            env += [0.0] * (len(step.rows) - step.inputs)
        for node in step.nodes:
            if isinstance(node, SumRun):
                total = env[node.start]
                for term, place in zip(node.terms, node.places, strict=True):
                    total = total + env[term]  # the adds, in their order
                    env[place] = total
                continue
            op, places, _, place = node
            env[place] = op.value_rule(FLOATS, *[env[p] for p in places])
        if step.whole:
            values[:, 0] = env
        else:
            values[step.rows[step.inputs:], 0] = env[step.inputs:]
        return
    # Many points: each node's row of the matrix, by numpy's namespace.
    rows = step.rows.tolist()
    env = [values[row] for row in rows]  # views, not copies
    for place, literal in step.literals:
        env[place] = literal
    for node in step.nodes:
        if isinstance(node, SumRun):  # a cumulative sum adds in the same order
            points = (values.shape[1],)  # (a literal is a float: made a row to stack)
            addends = [np.broadcast_to(env[p], points) for p in (node.start, *node.terms)]
            values[[rows[p] for p in node.places]] = np.cumsum(addends, axis=0)[1:]
            continue
        op, places, _, place = node
        values[rows[place]] = op.value_rule(NUMPY, *[env[p] for p in places])


def _backward(steps: Sequence[Step], values: Any, grads: Any) -> None:
    """d output / d row for every row on a path to the output, into ``grads``."""
    one_point = values.shape[1] == 1
    for step in reversed(steps):
        if isinstance(step, Group):
            gradient = grads[step.out]
            operands = [values[rows] if scalar is None else scalar
                        for rows, scalar in zip(step.args, step.scalars, strict=True)]
            out = values[step.out]
            for k, rows in enumerate(step.args):
                rule = step.op.partial_rules[k]
                if not step.is_node[k] or rule is None:
                    continue  # a literal, or a condition: it has no gradient
                partial = rule(NUMPY, *operands, out)
                contribution = gradient * partial if type(partial) is not float or \
                    partial != 1.0 else gradient
                repeats = step.repeats[k]
                if repeats is None:
                    grads[rows] += contribution
                else:  # a node used by several nodes of the group: every share counts
                    order, starts, unique_rows = repeats
                    grads[unique_rows] += np.add.reduceat(contribution[order], starts, axis=0)
        else:
            _backward_stretch(step, values, grads, one_point)


def _backward_stretch(step: Stretch, values: Any, grads: Any, one_point: bool) -> None:
    if one_point:  # Python floats, read and written back in one call each
        rows: Any = slice(None) if step.whole else step.rows
        env, g = values[rows, 0].tolist(), grads[rows, 0].tolist()
        _pass_back(step, env, g, FLOATS)
        grads[rows, 0] = g
        return
    # Many points: rows of the matrices as views, each gradient row added into in place.
    row_list = step.rows.tolist()
    env = [values[row] for row in row_list]
    for place, literal in step.literals:
        env[place] = literal
    _pass_back(step, env, [grads[row] for row in row_list], NUMPY)


def _pass_back(step: Stretch, env: list[Any], g: list[Any], m: Any) -> None:
    """The backward loop of a stretch, node by node from its last: ``g[operand] +=
    g[node] * partial`` (floats, or rows added into in place)."""
    for node in reversed(step.nodes):
        if isinstance(node, SumRun):
            _pass_back_sum(node, g)
            continue
        op, places, kinds, place = node
        gradient, operands = g[place], [env[p] for p in places]
        for k, p in enumerate(places):  # the hot loop of a long chain: kept lean
            if kinds[k]:  # a node, not a literal
                rule = op.partial_rules[k]
                if rule is not None:  # nor a condition (given's second operand)
                    g[p] += gradient * rule(m, *operands, env[place])


def _pass_back_sum(run: SumRun, g: list[Any]) -> None:
    """A sum's backward pass: the last add's gradient is every add's (each is used only
    by the next, through a partial of 1), and every term's share; as the node-by-node
    pass would add them, from the last add back to the first."""
    gradient = g[run.places[-1]]
    for place in run.places[:-1]:
        g[place] += gradient
    for term, is_node in zip(reversed(run.terms), reversed(run.kinds[1:]), strict=True):
        if is_node:
            g[term] += gradient
    if run.kinds[0]:
        g[run.start] += gradient


def _all_finite(matrix: Any) -> bool:
    # One sum, no temporary array: a finite sum proves every entry finite (an inf or
    # NaN makes it non-finite); only a non-finite sum needs the entries looked at.
    return bool(np.isfinite(matrix.sum())) or bool(np.isfinite(matrix).all())


@attrs.define
class _Piece:
    """One run of the steps over some points: its values and gradients (rows x points)."""

    values: Any
    grads: Any | None
    failed: bool  # something was not finite, or a float rule raised
    raised: bool = False  # a float rule raised (one point): the rows are unfinished


#: Work matrices of at most this many entries are reused from call to call (below), at
#: most four of a shape, of the last few shapes (a sweep over batch sizes keeps few).
REUSED_ENTRIES = 2**20
KEPT_SHAPES = 6


def _matrix(graph: Graph, rows: int, points: int) -> Any:
    """A rows x points matrix to compute in: a graph's earlier one if nobody holds it.

    A new matrix costs more than it seems: the operating system hands its memory over
    page by page as it is first written, and on the moons graph that doubles the time
    of a backward pass.  So a graph keeps the matrices of its calls and reuses one once
    nothing else refers to it -- the mappings of an earlier call, and any row of them,
    hold their matrix, so a result is never overwritten while it can still be read.
    """
    if rows * points > REUSED_ENTRIES:
        return np.empty((rows, points))
    if (rows, points) not in graph.kept.matrices and len(graph.kept.matrices) >= KEPT_SHAPES:
        graph.kept.matrices.pop(next(iter(graph.kept.matrices)))  # the oldest shape goes
    pool = graph.kept.matrices.setdefault((rows, points), [])
    for matrix in pool:
        if sys.getrefcount(matrix) == 3:  # the pool, this loop, getrefcount's argument
            return matrix
    matrix = np.empty((rows, points))
    if len(pool) < 4:
        pool.append(matrix)
    return matrix


def _run_piece(graph: Graph, schedule: Schedule, overrides: Mapping[int, Any],
               output: int | None, points: slice, size: int) -> _Piece:
    values = _matrix(graph, schedule.rows, size)  # operations' rows: computed below
    values[schedule.given] = schedule.initial[schedule.given, None]
    for position, value in overrides.items():
        values[position] = value if type(value) is float else value[points]
    grads = None
    if output is not None:
        # -0.0 + c is c for every c: each row takes its first contribution as it is, as
        # the reference interpreter does (interpret.backward_pass, [5]); rows nothing is
        # passed to are set to 0.0 after the pass.
        grads = _matrix(graph, schedule.rows, size)
        grads.fill(-0.0)
    try:
        with np.errstate(all="ignore"):
            _forward(schedule, values)
            failed = not _all_finite(values[: schedule.nodes])
            if grads is not None and output is not None:
                # Also after a failure: the points (columns) that did not fail need it.
                grads[output] = 1.0
                steps, unreached = backward_steps(graph, schedule, output)
                _backward(steps, values, grads)
                grads[unreached] = 0.0
                failed = failed or not _all_finite(grads[: schedule.nodes])
    except RULE_ERRORS:  # a float rule in a stretch (one point): math.log(-1.0)
        return _Piece(values, grads, failed=True, raised=True)
    return _Piece(values, grads, failed)


# ---------------------------------------------------------------------------------------
# Errors: the reference interpreter explains.
# ---------------------------------------------------------------------------------------


def _failing_points(piece: _Piece, nodes: int, gradients: bool) -> Any:
    """The points (columns) where some value (or, with ``gradients``, some value or
    gradient) is not finite."""
    if piece.raised:
        return np.ones(piece.values.shape[1], dtype=bool)
    bad = ~np.isfinite(piece.values[:nodes]).all(axis=0)
    if gradients and piece.grads is not None:
        bad |= ~np.isfinite(piece.grads[:nodes]).all(axis=0)
    return bad


def _at(overrides: Mapping[int, Any], point: int) -> dict[int, float]:
    return {p: v if type(v) is float else float(v[point]) for p, v in overrides.items()}


def _reference(graph: Graph, inputs: dict[int, float],
               output: int | None) -> tuple[list[float], list[float] | None]:
    values = interpret_forward(graph, inputs)
    return values, None if output is None else interpret_backward(graph, values, output)


def _explain(graph: Graph, piece: _Piece, overrides: Mapping[int, Any], output: int | None,
             first: int, batched: bool, offset: int) -> None:
    """Raise the reference interpreter's error at the first failing point.

    Where the reference finds nothing wrong (numpy's last bit differs from math's at the
    edge of overflow, or a float rule raised for a node that does not reach the output)
    its numbers replace the engine's at that point.  An error names no point when it is
    the same at every point: a value of a node that depends on no batched input, or a
    gradient that fails at every point (a gradient depends on what comes after its node
    too).  Over many points this order -- values first, then gradients -- holds within
    each piece of points: a gradient failing in an earlier piece is reported before a
    value failing in a later one.
    """
    if piece.values.shape[1] == 1 and not batched:
        _replace(piece, 0, *_reference(graph, dict(_at(overrides, 0)), output))
        return
    # As over the whole batch: first the forward pass, at every point; then the backward.
    for gradients in (False, True) if output is not None else (False,):
        failing = _failing_points(piece, len(graph.order), gradients)
        for point in np.flatnonzero(failing).tolist():
            try:
                reference = _reference(graph, _at(overrides, point),
                                       output if gradients else None)
            except EvaluationError as error:
                everywhere = (bool(failing.all()) if gradients else True) and not (
                    _depends_on_batch(graph, overrides, error.node))
                if not everywhere:
                    raise at_point(error, first + point + offset,
                                   _inputs_at(graph, overrides, point)) from None
                raise
            _replace(piece, point, *reference)


def _replace(piece: _Piece, point: int, values: list[float], grads: list[float] | None) -> None:
    piece.values[: len(values), point] = values
    if grads is not None and piece.grads is not None:
        piece.grads[: len(grads), point] = grads


def _depends_on_batch(graph: Graph, overrides: Mapping[int, Any], node: object) -> bool:
    """Does ``node`` depend on a batched input?  If not, it fails at every point."""
    if not isinstance(node, Node) or node not in graph.index:
        return True
    batched = {graph.order[p] for p, v in overrides.items() if type(v) is not float}
    for other in graph.order[: graph.index[node] + 1]:
        if isinstance(other, Operation) and any(a in batched for a in other.args
                                                if isinstance(a, Node)):
            batched.add(other)
    return node in batched


def _inputs_at(graph: Graph, overrides: Mapping[int, Any], point: int) -> str:
    """The batched inputs at one point, for the message: ``x=-0.25, y=3.0``."""
    shown = [f"{describe(graph.order[p])}={float(v[point])!r}"
             for p, v in overrides.items() if type(v) is not float]
    return ", ".join(shown[:3]) + (", ..." if len(shown) > 3 else "")


# ---------------------------------------------------------------------------------------
# The entry point.
# ---------------------------------------------------------------------------------------

#: Points per piece, at most.  A piece's matrices take rows x points x 8 bytes each, so
#: a big graph gets fewer points per piece (:func:`_piece_size`); a small one up to
#: 2**14 points, whose rows stay in the processor's cache.
POINTS_PER_PIECE = 2**14
#: Entries (rows x points) of one piece's matrix: 2**22 floats, 32 MiB.
PIECE_ENTRIES = 2**22


def _piece_size(schedule: Schedule) -> int:
    return max(1, min(POINTS_PER_PIECE, PIECE_ENTRIES // schedule.rows))


def run(graph: Graph, overrides: Mapping[int, Any], output: int | None,
        undefined: Undefined, offset: int = 0, wrt: Sequence[int] | None = None,
        ) -> tuple[NodeValues, NodeValues | None]:
    """Values (and gradients of ``output``) of every node, for floats or arrays.

    ``overrides``: leaf position -> float, or 1-D float64 array (checked already, see
    ``values.resolve_inputs``).  ``offset``: the arrays are points ``offset, offset + 1,
    ...`` of a larger batch (a dask block), for the points error messages name.
    ``wrt``: the positions of the leaves whose gradients the caller will read (a fit's
    parameters, not its data); over many points only those are kept as the pieces run,
    and any other gradient is computed again if asked for.  None: every leaf.
    """
    batched = any(type(v) is not float for v in overrides.values())
    size = batch_size(graph, overrides) if batched else 1
    schedule = schedule_of(graph, size)
    piece = _piece_size(schedule)
    if size <= piece:
        values, grads = _run_points(graph, schedule, overrides, output, undefined,
                                    slice(None), size, 0, batched, offset)
        if not batched:  # one point: a column of floats per mapping
            return (NodeValues(graph, values[: schedule.nodes, 0]),
                    None if grads is None else NodeValues(graph, grads[: schedule.nodes, 0]))
        return (BatchValues(graph, values[: schedule.nodes], size),
                None if grads is None else BatchValues(graph, grads[: schedule.nodes], size))
    return _run_in_pieces(graph, schedule, overrides, output, undefined, size, piece, offset,
                          wrt)


def _run_points(graph: Graph, schedule: Schedule, overrides: Mapping[int, Any],
                output: int | None, undefined: Undefined, points: slice, size: int,
                first: int, batched: bool, offset: int) -> tuple[Any, Any | None]:
    """One piece of points: the engine, and what to do if anything failed."""
    result = _run_piece(graph, schedule, overrides, output, points, size)
    if result.failed:
        if undefined == "nan":
            _mark_undefined(graph, result, output)
        else:
            _explain(graph, result, _piece_of(overrides, points), output, first, batched,
                     offset)
    return result.values, result.grads


def _piece_of(overrides: Mapping[int, Any], points: slice) -> dict[int, Any]:
    return {p: v if type(v) is float else v[points] for p, v in overrides.items()}


def _mark_undefined(graph: Graph, piece: _Piece, output: int | None) -> None:
    """``undefined="nan"``: NaN at the failing points, in every operation's value and
    every gradient (the leaves' values are the inputs, as given)."""
    nodes = len(graph.order)
    bad = _failing_points(piece, nodes, gradients=True)
    operations = [i for i, node in enumerate(graph.order) if isinstance(node, Operation)]
    piece.values[np.ix_(operations, bad)] = np.nan
    if piece.grads is not None:
        piece.grads[:nodes, bad] = np.nan


def _run_in_pieces(graph: Graph, schedule: Schedule, overrides: Mapping[int, Any],
                   output: int | None, undefined: Undefined, size: int, piece: int,
                   offset: int, wrt: Sequence[int] | None = None,
                   ) -> tuple[NodeValues, NodeValues | None]:
    """Many points, a piece at a time, keeping the outputs' values and the leaves'
    gradients (those in ``wrt``); any other entry is computed, by the same pieces
    again, when asked for.  A batched leaf's values are its input array itself (a
    private copy, see ``values.as_batch``), handed out read-only: nothing to keep."""
    inputs = {p: v for p, v in overrides.items() if type(v) is not float}
    keep_values = sorted({graph.index[node] for node in graph.outputs} - inputs.keys())
    keep_grads = [graph.index[leaf] for leaf in graph.leaves] if wrt is None else list(wrt)

    def pieces() -> Iterator[tuple[slice, Any, Any]]:
        for first in range(0, size, piece):
            points = slice(first, min(size, first + piece))
            values, grads = _run_points(graph, schedule, overrides, output, undefined,
                                        points, points.stop - first, first, True, offset)
            yield points, values, grads

    # One matrix each (reused from call to call like the pieces' own, see _matrix).
    value_rows = _matrix(graph, len(keep_values), size)
    kept_values = dict(zip(keep_values, value_rows, strict=True))
    kept_grads = {}
    if output is not None:
        kept_grads = dict(zip(keep_grads, _matrix(graph, len(keep_grads), size), strict=True))
    for points, values, grads in pieces():
        for p, array in kept_values.items():
            array[points] = values[p]
        for p, array in kept_grads.items():
            array[points] = grads[p]

    whole: list[tuple[Any, Any | None]] = []

    def everything() -> tuple[Any, Any | None]:
        if not whole:
            values = np.empty((schedule.nodes, size))
            grads = np.empty((schedule.nodes, size)) if output is not None else None
            for points, v, g in pieces():
                values[:, points] = v[: schedule.nodes]
                if grads is not None:
                    grads[:, points] = g[: schedule.nodes]
            whole.append((values, grads))
        return whole[0]

    values = BatchValues(graph, None, size, {**inputs, **kept_values},
                         lambda: everything()[0])
    if output is None:
        return values, None
    return values, BatchValues(graph, None, size, kept_grads, lambda: everything()[1])


# ---------------------------------------------------------------------------------------
# Showing a schedule.
# ---------------------------------------------------------------------------------------


def show_schedule(graph: Graph, schedule: Schedule, output: int | None) -> str:
    """The steps the engine runs, one line per step: depth, op, how many nodes, the
    numpy call its value rule makes, and (for ``output``) the partials passed back."""
    names = ("u", "v")  # not a, b: those are often leaves' names
    lines = [f"{len(graph.order)} nodes, depth {schedule.depth}, "
             f"{len(schedule.steps)} steps ({schedule.rows - schedule.nodes} literal rows)"]
    lines.append("forward, in this order:")
    for step in schedule.steps:
        if isinstance(step, Group):
            args = names[: step.op.arity]
            text = rule_text(step.op.value_rule, *args)
            lines.append(f"  depth {step.depth:>3}  {step.op.name:<8} x{len(step.out):<6} "
                         f"out = {text}")
        else:
            lines.append(f"  depths {step.depths[0]}-{step.depths[1]}: {_count(step)} "
                         "narrow nodes, one at a time in Python")
            lines.extend(_stretch_lines(schedule, step))
    if output is not None:
        steps, _ = backward_steps(graph, schedule, output)
        lines.append(f"backward from node #{output}, in reverse; each operand gets "
                     "g[operand] += g[out] * partial:")
        for step in reversed(steps):
            if isinstance(step, Group):
                args = names[: step.op.arity]
                partials = ", ".join(
                    f"d/d{args[k]} = {rule_text(rule, *args, 'out')}"
                    for k, rule in enumerate(step.op.partial_rules)
                    if step.is_node[k] and rule is not None)
                lines.append(f"  depth {step.depth:>3}  {step.op.name:<8} x{len(step.out):<6} "
                             f"{partials or 'literals only'}")
            else:
                lines.append(f"  depths {step.depths[1]}-{step.depths[0]}: {_count(step)} "
                             "narrow nodes, one at a time in Python, from the last")
                lines.extend(_stretch_backward_lines(schedule, step))
    return "\n".join(lines)


def _count(step: Stretch) -> int:
    """How many nodes a stretch computes (a sum run is many)."""
    return sum(len(node.places) if isinstance(node, SumRun) else 1 for node in step.nodes)


#: A stretch's nodes are listed up to this many; the rest are counted.
LISTED_NODES = 12


def _place_names(schedule: Schedule, step: Stretch) -> Callable[[int], str]:
    """How a stretch's places print: a node as its number ``#3``, a literal as itself."""
    rows = step.rows.tolist()

    def name(place: int) -> str:
        row = rows[place]
        return f"#{row}" if row < schedule.nodes else repr(float(schedule.initial[row]))

    return name


def _stretch_lines(schedule: Schedule, step: Stretch) -> list[str]:
    """A stretch's first nodes, by number: ``#6 = #2 + #5``."""
    name = _place_names(schedule, step)
    lines = []
    for node in step.nodes[:LISTED_NODES]:
        if isinstance(node, SumRun):
            shown = " + ".join(map(name, (node.start, *node.terms[:2])))
            lines.append(f"    {name(node.places[0])} ... {name(node.places[-1])} = the running "
                         f"sums of {shown} + ... ({len(node.terms)} terms, added in order)")
        else:
            op, places, _, place = node
            lines.append(f"    {name(place)} = {rule_text(op.value_rule, *map(name, places))}")
    if len(step.nodes) > LISTED_NODES:
        lines.append(f"    ... and {len(step.nodes) - LISTED_NODES:,} more")
    return lines


def _stretch_backward_lines(schedule: Schedule, step: Stretch) -> list[str]:
    """A backward stretch's first nodes, from its last, one line per operand it passes
    a gradient to: ``g[#3] += g[#4] * (2.0 * #3 ** (2.0 - 1.0))``, the partial's rule
    with the operands' numbers filled in (as ``backward_trace`` prints it)."""
    name = _place_names(schedule, step)
    lines = []
    for node in reversed(step.nodes[-LISTED_NODES:]):
        if isinstance(node, SumRun):
            last = name(node.places[-1])
            lines.append(f"    g[each add and term of {name(node.places[0])} ... {last}] "
                         f"+= g[{last}]   (each partial of + is 1)")
            continue
        op, places, kinds, place = node
        operands = [*map(name, places), name(place)]
        for k, (is_node, rule) in enumerate(zip(kinds, op.partial_rules, strict=True)):
            if is_node and rule is not None:
                partial = rule_text(rule, *operands)
                infix = any(f" {symbol} " in partial for symbol in ("+", "-", "*", "/", "**"))
                shown = f"({partial})" if infix else partial
                lines.append(f"    g[{name(places[k])}] += g[{name(place)}] * {shown}")
    if len(step.nodes) > LISTED_NODES:
        lines.append(f"    ... and {len(step.nodes) - LISTED_NODES:,} more")
    return lines
