"""evaluate() and inputs: values, validation at the boundary, and purity."""

from __future__ import annotations

import time

import pytest

from minigrad import Graph, NodeValues, Scalar, evaluate


def make() -> tuple[Graph, Scalar, Scalar, object]:
    a = Scalar(1.5, name="a")
    b = Scalar(-4.0, name="b")
    d = a**3 / 5 + (b**2).relu()
    return Graph(d), a, b, d


def test_values_of_every_node() -> None:
    graph, a, _, d = make()
    values = evaluate(graph)
    assert isinstance(values, NodeValues)
    assert len(values) == len(graph) == 7
    assert values[d] == 16.675
    assert values[a] == 1.5
    assert list(values) == list(graph.order)
    assert values.by_name() == {"a": 1.5, "b": -4.0}


def test_inputs_by_node_and_by_name() -> None:
    graph, a, b, d = make()
    assert evaluate(graph, inputs={a: 2.0, b: 3.0})[d] == evaluate(graph, {"a": 2, "b": 3})[d]
    assert evaluate(graph, inputs={"a": 2.0})[b] == -4.0  # others keep their values


def test_inputs_never_change_leaves() -> None:
    graph, a, _, d = make()
    evaluate(graph, inputs={a: 100.0})
    assert a.value == 1.5
    assert evaluate(graph)[d] == 16.675


def test_each_call_returns_a_new_mapping() -> None:
    graph, *_ = make()
    assert evaluate(graph) is not evaluate(graph)
    assert evaluate(graph) == evaluate(graph)


def test_unknown_name_is_a_key_error_listing_names() -> None:
    graph, *_ = make()
    with pytest.raises(KeyError, match=r"no leaf is named 'z'.*'a', 'b'"):
        evaluate(graph, inputs={"z": 1.0})


def test_unknown_name_among_many_leaves_is_a_short_message() -> None:
    # The message listed every leaf name: 789 KB with 100,000 leaves.
    leaves = [Scalar(1.0, name=f"x{i}") for i in range(100_000)]
    graph = Graph(*leaves)
    start = time.perf_counter()
    with pytest.raises(KeyError) as info:
        evaluate(graph, inputs={"x100000": 1.0})
    assert time.perf_counter() - start < 2.0  # difflib on every name would take seconds
    message = str(info.value)
    assert len(message) < 200, message
    assert "no leaf is named 'x100000'; did you mean 'x10000' or" in message
    assert "(100,000 named leaves)" in message
    with pytest.raises(KeyError, match=r"no leaf is named 'zzz'; the graph has 100,000 named"):
        evaluate(graph, inputs={"zzz": 1.0})
    with pytest.raises(KeyError) as info:
        evaluate(graph, inputs={"q" * 10**6: 1.0})
    assert len(str(info.value)) < 200


def test_leaf_of_another_graph_is_a_key_error() -> None:
    graph, *_ = make()
    with pytest.raises(KeyError, match="not a leaf of this graph"):
        evaluate(graph, inputs={Scalar(1.0): 2.0})


def test_non_leaf_node_is_a_value_error() -> None:
    graph, _, _, d = make()
    with pytest.raises(ValueError, match="not a leaf"):
        evaluate(graph, inputs={d: 1.0})


def test_shared_name_is_a_value_error() -> None:
    x1, x2 = Scalar(1.0, name="x"), Scalar(2.0, name="x")
    graph = Graph(x1 + x2)
    with pytest.raises(ValueError, match="2 leaves are named 'x'"):
        evaluate(graph, inputs={"x": 3.0})
    assert evaluate(graph, inputs={x1: 3.0, x2: 4.0})[graph.outputs[0]] == 7.0


def test_same_leaf_twice_is_a_value_error() -> None:
    graph, a, *_ = make()
    with pytest.raises(ValueError, match="given twice"):
        evaluate(graph, inputs={a: 1.0, "a": 2.0})


def test_by_name_refuses_to_drop_a_leaf() -> None:
    # It silently kept one of two leaves named "x".
    x1, x2, y = Scalar(1.0, name="x"), Scalar(2.0, name="x"), Scalar(3.0, name="y")
    values = evaluate(Graph(x1 + x2 + y))
    with pytest.raises(ValueError, match=r"several leaves are named 'x'.*values\[leaf\]"):
        values.by_name()
    assert (values[x1], values[x2]) == (1.0, 2.0)
    unique = evaluate(Graph(x1 + y, Scalar(0.0)))  # unnamed leaves are simply left out
    assert unique.by_name() == {"x": 1.0, "y": 3.0}


def test_repr_of_values_looks_at_five_entries_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # It built every (node, value) pair to show five: 2.2 s at 1.7 million nodes.
    graph, a, *_ = make()
    values = evaluate(graph)
    text = repr(values)
    assert text.startswith("NodeValues({Scalar(1.5, name='a'): 1.5, ") and text.endswith(", ...})")
    assert repr(evaluate(Graph(a))) == "NodeValues({Scalar(1.5, name='a'): 1.5})"

    def no_walking(self: NodeValues) -> object:
        raise AssertionError("repr must not walk the whole mapping")

    monkeypatch.setattr(NodeValues, "__iter__", no_walking)
    monkeypatch.setattr(NodeValues, "__getitem__", no_walking)
    assert repr(values) == text


@pytest.mark.parametrize("bad", ["2", None, 1j, {2.0}, True])  # [2.0] is a batch
def test_non_numeric_value_is_a_type_error(bad: object) -> None:
    graph, *_ = make()
    with pytest.raises(TypeError, match=r"inputs\['a'\] must be a real number"):
        evaluate(graph, inputs={"a": bad})


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_value_is_a_value_error(bad: float) -> None:
    graph, *_ = make()
    with pytest.raises(ValueError, match="finite"):
        evaluate(graph, inputs={"a": bad})


def test_bad_keys_and_containers() -> None:
    graph, *_ = make()
    with pytest.raises(TypeError, match="keys must be Scalar leaves"):
        evaluate(graph, inputs={3: 1.0})
    with pytest.raises(TypeError, match="must be a mapping"):
        evaluate(graph, inputs=[("a", 1.0)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a Graph"):
        evaluate(graph.outputs[0])  # type: ignore[arg-type]


def test_values_mapping_rejects_foreign_nodes() -> None:
    graph, *_ = make()
    other = Scalar(1.0)
    values = evaluate(graph)
    assert other not in values
    with pytest.raises(KeyError, match="not a node of this graph"):
        values[other]
    with pytest.raises(TypeError):
        values[other] = 1.0  # type: ignore[index]  # read-only


def test_a_name_or_a_missing_name_gets_a_hint_not_a_bare_key_error() -> None:
    """micrograd habits (issue 21): ``values["a"]`` points to by_name(), and by_name()
    says it holds the named leaves only; a number or a list as a key says what it got."""
    graph, a, _, _ = make()
    values = evaluate(graph)
    with pytest.raises(KeyError, match=r"by node, not by name: .*by_name\(\)\['a'\]"):
        values["a"]  # type: ignore[index]
    with pytest.raises(KeyError, match="no leaf of this graph is named 'c'"):
        values["c"]  # type: ignore[index]
    with pytest.raises(KeyError, match="indexed by node, got int 3"):
        values[3]  # type: ignore[index]
    with pytest.raises(KeyError, match="indexed by node, got list"):
        values[[a]]  # type: ignore[index]
    named = values.by_name()
    assert named == {"a": 1.5, "b": -4.0} and isinstance(named, dict)
    with pytest.raises(KeyError, match=r"named leaves only \('a', 'b'\), not 'c'.*values\[node\]"):
        named["c"]
    assert named.get("c") is None  # a dict still: get() and `in` say nothing
