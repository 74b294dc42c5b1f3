"""Cluster graphs and Conjecture 1 (Def. 1, eq. 4): the predicted width exponent s_C.

The cluster graph G_C has a vertex per tensor and an edge per contracted pair of indices.
With n_e connected components of even size and n_o of odd size (size = number of tensors),

    C = O(n^{s_C}),   s_C = n_e + n_o / 2 - m / 2,

and the variance of the integrand is O(n^{2 s_C}) (Lemma 6).

>>> predict("f1_a f2_b f3_ab f4")
Prediction(spec='f1_a f2_b f3_ab f4', m=4, n_e=0, n_o=2, s=-1.0)
"""

from __future__ import annotations

import dataclasses

import networkx as nx

from .notation import NAMED, Correlator, parse


@dataclasses.dataclass(frozen=True)
class Prediction:
    """Conjecture 1 for one correlator.

    Attributes:
      spec: the canonical spelling of the correlator.
      m: the number of tensors.
      n_e: components of the cluster graph with an even number of tensors.
      n_o: components with an odd number of tensors.
      s: the predicted exponent, s_C (eq. 4), or 2 s_C for a variance (Lemma 6).
    """

    spec: str
    m: int
    n_e: int
    n_o: int
    s: float


def _as_correlator(c: Correlator | str) -> Correlator:
    return c if isinstance(c, Correlator) else parse(c)


def cluster_graph(c: Correlator | str) -> nx.MultiGraph:
    """G_C: node i (0-based factor position) per tensor, one edge per summed letter.

    Nodes carry ``label`` (e.g. ``"f3_ab"``) and ``input``; edges carry ``letter``. A trace
    (``f1_aa``) is a self-loop.
    """
    c = _as_correlator(c)
    graph = nx.MultiGraph()
    for i, factor in enumerate(c.factors):
        graph.add_node(i, label=factor.text, input=factor.input)
    for letter, (i, j) in c.contractions:
        graph.add_edge(i, j, key=letter, letter=letter)
    return graph


def component_sizes(c: Correlator | str) -> tuple[int, ...]:
    """The number of tensors in each connected component of G_C, in order of first factor."""
    graph = cluster_graph(c)
    components = sorted(nx.connected_components(graph), key=min)
    return tuple(len(comp) for comp in components)


def predict(c: Correlator | str) -> Prediction:
    """Conjecture 1 (eq. 4): s_C = n_e + n_o/2 - m/2; doubled for ``var:`` (Lemma 6)."""
    c = _as_correlator(c)
    sizes = component_sizes(c)
    n_e = sum(1 for size in sizes if size % 2 == 0)
    n_o = len(sizes) - n_e
    s = n_e + n_o / 2 - c.m / 2
    return Prediction(spec=c.text, m=c.m, n_e=n_e, n_o=n_o, s=2 * s if c.variance else s)


def is_forest(c: Correlator | str) -> bool:
    """True when the contraction graph has no self-loop, repeated edge or cycle.

    Then the integrand is an exact composition of gradients and directional derivatives
    (``estimate``); otherwise cycles need probes (Hutchinson) or dense tensors.
    """
    return nx.is_forest(cluster_graph(c))


def rows_markdown(table: str = "table1") -> str:
    """The six rows of a paper table by name: correlator, n_e, n_o, the predicted exponent
    (eq. 4) and the formula (LaTeX), as a Markdown table."""
    bound = "2 s_C" if parse(NAMED[f"{table}.row1"]).variance else "s_C"
    lines = [f"| name | correlator | n_e, n_o | {bound} | formula |", "|---|---|---|---|---|"]
    for row in range(1, 7):
        name = f"{table}.row{row}"
        c, p = parse(NAMED[name]), predict(NAMED[name])
        lines.append(f"| `{name}` | `{c.text}` | {p.n_e}, {p.n_o} | {p.s:+g} | ${c.latex}$ |")
    return "\n".join(lines)
