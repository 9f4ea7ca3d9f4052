"""Batches beyond one machine: dask arrays in, dask arrays out.

When the points are too many for one machine's memory, give the leaves *dask* arrays::

    xs = dask.array.linspace(-6, 6, 10**9, chunks=10**6)
    values, grads = value_and_grad(graph, f, inputs={x: xs})
    values[f], grads[x]          # dask arrays: nothing is computed yet
    grads[x].mean().compute()    # now, block by block, on dask's scheduler or cluster

Each block of points is an ordinary numpy batch on the engine (``engine.py``), so a
block's work is the same as on one machine.  There is no scheduler here: dask's
(threads, processes, or a ``distributed`` cluster, whichever the user has set up)
decides where each block runs.  The graph travels to the workers inside each task, by
pickle (Graphs pickle at any depth).

What a block returns is one 2-D array: the outputs' values and the gradients of every
leaf, one row each -- what training loops and sweeps ask for -- so that asking for
``values[f]``, ``grads[x]`` and ``grads[w]`` together runs each block once
(``dask.compute(values[f], grads[x], grads[w])``).  Any other node's entry is its own
pass over the blocks, made when asked for.

Inputs are checked when the blocks are computed (a dask array's numbers are not known
before): NaN or infinity in a block raises ``ValueError`` naming the point, a domain
error ``EvaluationError`` naming op, node and point, as on one machine -- but where
several blocks fail, the error is the one dask meets first, so its point may not be
the first failing point of the whole batch.  Shapes and dtypes are checked at once.
Needs dask (``pip install "dask[array,distributed]"``, or the ``dask`` extra).
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Mapping
from typing import Any

import dask.array as da
import numpy as np

from minigrad import engine
from minigrad.graph import Graph
from minigrad.nodes import Node, Scalar, describe
from minigrad.values import NodeValues, as_batch, batch_size, check_shape_and_dtype, is_dask

__all__ = ["DaskValues", "run_dask"]


def _check(graph: Graph, overrides: Mapping[int, Any]) -> dict[int, da.Array]:
    """The batched inputs as dask arrays of one length, chunked alike; clear errors for
    shapes and dtypes at once (numbers are checked per block)."""
    arrays = {position: v for position, v in overrides.items() if type(v) is not float}
    for position, value in arrays.items():
        if is_dask(value):
            what = f"inputs[{describe(graph.order[position])}]"
            check_shape_and_dtype(value, what)
            if math.isnan(value.shape[0]):
                raise ValueError(f"{what} has unknown length; call .compute_chunk_sizes()")
    batch_size(graph, arrays)  # one length, or the error that says so
    chunks = next(a for a in arrays.values() if is_dask(a)).chunks
    return {
        position: (a.rechunk(chunks) if is_dask(a) else da.from_array(a, chunks))
        for position, a in arrays.items()
    }


def _block(
    graph: Graph,
    floats: dict[int, float],
    positions: tuple[int, ...],
    output: int | None,
    undefined: str,
    rows: tuple[tuple[str, int], ...],
    *blocks: np.ndarray,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray:
    """One block of points: the numpy batch path, and the rows asked for, stacked.

    ``rows`` are ("value", position) or ("gradient", position) pairs.
    """
    offset = block_info[0]["array-location"][0][0] if block_info else 0
    overrides: dict[int, Any] = dict(floats)
    for position, block in zip(positions, blocks, strict=True):
        what = f"inputs[{describe(graph.order[position])}]"
        overrides[position] = as_batch(block, what, offset)
    values, grads = engine.run(graph, overrides, output, undefined, offset)  # type: ignore[arg-type]
    size = len(blocks[0])
    stacked = np.empty((len(rows), size))
    for row, (kind, position) in enumerate(rows):
        source = values if kind == "value" else grads
        assert source is not None
        stacked[row] = source[graph.order[position]]
    return stacked


class DaskValues(NodeValues):
    """Values or gradients over a dask batch: node -> 1-D dask array (lazy).

    The entries made with the others (the outputs' values, the leaves' gradients) are
    rows of one computation; a batched input's value is the input itself; any other
    node's entry is a computation of its own.
    """

    __slots__ = ("_inputs", "_kind", "_make", "_rows", "_stacked")

    def __init__(self, graph: Graph, kind: str, stacked: da.Array, rows: dict[int, int],
                 inputs: dict[int, da.Array], make: Any) -> None:
        super().__init__(graph, [])
        self._kind, self._stacked, self._rows, self._inputs = kind, stacked, rows, inputs
        self._make = make

    def __getitem__(self, node: Node) -> Any:
        position = self._graph.index.get(node)
        if position is None:
            raise KeyError(f"{node!r} is not a node of this graph")
        row = self._rows.get(position)
        if row is not None:
            return self._stacked[row]
        if self._kind == "value" and position in self._inputs:
            return self._inputs[position]
        return self._make(((self._kind, position),))[0]

    def __len__(self) -> int:
        return len(self._graph.order)

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("dask results do not pickle; compute them (or pickle the Graph)")

    def __copy__(self) -> DaskValues:
        return self  # lazy and read-only: nothing in it can change

    def __deepcopy__(self, memo: dict[int, Any]) -> DaskValues:
        return self

    def __repr__(self) -> str:
        return f"DaskValues({len(self)} nodes, {len(self._stacked.chunks[1])} blocks)"


def run_dask(graph: Graph, overrides: Mapping[int, Any], output: int | None,
             undefined: str) -> tuple[DaskValues, DaskValues | None]:
    """Values (and gradients of ``output``) as lazy dask arrays, block by block."""
    arrays = _check(graph, overrides)
    positions = tuple(arrays)
    floats = {p: v for p, v in overrides.items() if p not in arrays}
    chunks = arrays[positions[0]].chunks[0]

    token = uuid.uuid4().hex  # this call's: asking twice for an entry gives one array

    @functools.cache
    def make(rows: tuple[tuple[str, int], ...]) -> da.Array:
        needs_gradients = any(kind == "gradient" for kind, _ in rows)
        function = functools.partial(_block, graph, floats, positions,
                                     output if needs_gradients else None, undefined, rows)
        return da.map_blocks(
            function, *arrays.values(), new_axis=0, chunks=((len(rows),), chunks),
            dtype=np.float64, meta=np.empty((0, 0)),
            name=f"minigrad-{token}-{len(rows)}-{rows[0][0]}-{rows[0][1]}",
        )

    value_rows = [("value", graph.index[node]) for node in graph.outputs]
    gradient_rows = []
    if output is not None:
        gradient_rows = [
            ("gradient", graph.index[leaf]) for leaf in graph.leaves if isinstance(leaf, Scalar)
        ]
    rows = tuple(value_rows + gradient_rows)
    stacked = make(rows)
    values = DaskValues(graph, "value", stacked,
                        {p: row for row, (_, p) in enumerate(value_rows)}, arrays, make)
    if output is None:
        return values, None
    first = len(value_rows)
    grads = DaskValues(graph, "gradient", stacked,
                       {p: first + row for row, (_, p) in enumerate(gradient_rows)}, {}, make)
    return values, grads
