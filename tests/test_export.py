"""to_networkx: a plain graph that files can hold, with every number exact."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from minigrad import OPS, Graph, Scalar, evaluate, exp, relu, to_networkx, value_and_grad


def expression() -> tuple[Graph, Scalar]:
    x = Scalar(0.1, name="x")
    t = Scalar(-1 / 3, name="t")
    y = x * 1.0000001 + 123456789  # exported as "n0 1" and "n1 1.23457e+08" before
    z = relu(y * t - 2.5e-300) + exp(t / 7.000000000000001) + y ** 1.2345678901234567
    return Graph(z), x


def recompute_from_file(path: Path) -> dict[str, float]:
    """Every node's value from the file alone: leaf values, then op(args) in order."""
    loaded = nx.read_graphml(path)
    values: dict[str, float] = {}
    for node_id in nx.topological_sort(loaded):
        data = loaded.nodes[node_id]
        if data["op"] == "scalar":
            values[node_id] = float(data["value"])
            continue
        operands = [
            values[token] if token in loaded else float(token) for token in data["args"].split()
        ]
        values[node_id] = OPS[data["op"]].value(*operands)
    return values


def test_graphml_file_recomputes_every_value_exactly(tmp_path: Path) -> None:
    graph, _ = expression()
    output = graph.outputs[0]
    exported = to_networkx(graph, output=output)
    path = tmp_path / "graph.graphml"
    nx.write_graphml(exported, path)

    values, grads = value_and_grad(graph, output)
    recomputed = recompute_from_file(path)
    for i, node in enumerate(graph.order):
        assert recomputed[f"n{i}"] == values[node]  # exactly: the same floats

    loaded = nx.read_graphml(path)
    for i, node in enumerate(graph.order):
        assert float(loaded.nodes[f"n{i}"]["value"]) == values[node]
        assert float(loaded.nodes[f"n{i}"]["grad"]) == grads[node]
    assert loaded.nodes["n1"]["args"] == "n0 1.0000001"
    assert loaded.nodes["n2"]["args"] == "n1 123456789.0"


def test_literals_are_written_with_repr() -> None:
    graph, _ = expression()
    exported = to_networkx(graph)
    literals = [
        float(token)
        for _, args in exported.nodes(data="args")
        if args is not None
        for token in args.split()
        if not token.startswith("n")
    ]
    assert literals == [1.0000001, 123456789.0, 2.5e-300, 7.000000000000001, 1.2345678901234567]
    assert "grad" not in exported.nodes["n0"]


def test_values_follow_inputs() -> None:
    graph, x = expression()
    exported = to_networkx(graph, inputs={x: 0.25})
    assert exported.nodes["n0"]["value"] == 0.25 == evaluate(graph, {x: 0.25})[x]
    with pytest.raises(TypeError, match="needs a Graph"):
        to_networkx(x)  # type: ignore[arg-type]
