"""Cluster graphs and Conjecture 1 for every table row."""

import pytest

from widenets_nb.correlators import NAMED
from widenets_nb.correlators.clusters import (
    cluster_graph,
    component_sizes,
    is_forest,
    predict,
    rows_markdown,
)
from widenets_nb.correlators.figures import cluster_graph_figure

# (n_e, n_o, s_C) of Table 1, rows 1..6.
TABLE = [(0, 2, 0), (0, 4, 0), (1, 0, 0), (0, 2, -1), (1, 0, -1), (0, 2, -2)]


@pytest.mark.parametrize("row", range(1, 7))
def test_table_rows(row):
    n_e, n_o, s = TABLE[row - 1]
    for table in ("table1", "table2"):
        p = predict(NAMED[f"{table}.row{row}"])
        assert (p.n_e, p.n_o, p.s) == (n_e, n_o, s)
    var = predict(NAMED[f"table3.row{row}"])
    assert (var.n_e, var.n_o, var.s) == (n_e, n_o, 2 * s)
    assert var.spec.startswith("var:")
    assert is_forest(NAMED[f"table1.row{row}"])


def test_graph_structure():
    g = cluster_graph("f1_a f2_b f3_ab f4_c f5_d f6_cd")
    assert sorted(g.nodes) == list(range(6))
    assert sorted((min(i, j), max(i, j), k) for i, j, k in g.edges(keys=True)) == [
        (0, 2, "a"), (1, 2, "b"), (3, 5, "c"), (4, 5, "d")]
    assert g.nodes[2]["label"] == "f3_ab"
    assert component_sizes("f1_a f2_b f3_ab f4_c f5_d f6_cd") == (3, 3)
    assert component_sizes("f1 f2_a f3_a") == (1, 2)


@pytest.mark.parametrize(("spec", "sizes", "s", "forest"), [
    ("f1_ab f2_ab", (2,), 0.0, False),  # a double edge: a cycle
    ("f1_aa", (1,), 0.0, False),  # a trace: a self-loop
    ("f1_a f1_a", (2,), 0.0, True),  # repeated input, still two tensors
    ("f1_ab f2_bc f3_ca", (3,), -1.0, False),
    ("f1_a f2_a f3_b f4_b", (2, 2), 0.0, True),
])
def test_other_graphs(spec, sizes, s, forest):
    assert component_sizes(spec) == sizes
    assert predict(spec).s == s
    assert is_forest(spec) is forest


def test_cluster_graph_figure():
    fig = cluster_graph_figure("f1_a f2_b f3_ab f4")
    markers = [t for t in fig.data if t.mode == "markers+text"]
    assert [t.text[0] for t in markers] == ["f1_a", "f2_b", "f3_ab", "f4"]
    assert "s_C = -1" in fig.layout.title.text
    assert len(cluster_graph_figure("f1_aa f2").data) == 3  # loop + two vertices


def test_rows_markdown_lists_the_table_rows():
    lines = rows_markdown("table3").splitlines()
    assert lines[0] == "| name | correlator | n_e, n_o | 2 s_C | formula |" and len(lines) == 8
    assert lines[6].startswith("| `table3.row5` | `var:f1_a f2_b f3_c f4_abc` | 1, 0 | -2 | $")
