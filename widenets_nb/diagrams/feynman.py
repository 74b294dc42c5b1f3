"""Feynman diagrams and double-line graphs of deep linear networks (Def. 2-6, Thm 5, Lemma 2).

A diagram gamma in Gamma(C) is one Wick matching per layer type (U, W_1, b_1, ..., V), with
every summed letter placed as a *forced* edge on the layer type its derivative acts on.
Its double-line graph DL(gamma) (Def. 3, 5) has a node (a, l) per tensor a and hidden level
l; U, b and V edges are single lines, W_l edges double lines (levels l and l+1). Every node
has degree 2, so DL(gamma) is a union of cycles: the faces (index loops) l_gamma, and

    s_gamma = l_gamma - sum_a (k_a - 1) / 2 = chi - m / 2,   chi = v - e + f,

with k_a the degree of tensor a (d + 1 without biases). Each connected component is a
surface with at least one boundary (the cycles of the V and input matchings, the faces a
single line leaves out), so chi_c <= 2 - b_c <= 1 and s_gamma <= c_gamma - m/2 (Lemma 2).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

import networkx as nx

from ..correlators import Correlator
from .exact import as_correlator, check_depth, forced_options, layer_types, letter_pairs
from .matchings import Matching, Pair, perfect_matchings

Node = tuple[int, int]  # (tensor a, hidden level l)


@dataclasses.dataclass(frozen=True)
class DoubleLineEdge:
    """One Kronecker delta of a diagram: nodes (a, l), (b, l), its layer type and loop."""

    u: Node
    v: Node
    layer: str
    forced: bool
    loop: int


@dataclasses.dataclass(frozen=True)
class Component:
    """A connected component of a diagram as a surface (Lemma 2).

    Attributes:
      tensors: the 0-based tensors in it.
      euler: chi_c = v - e + f of the triangulation.
      boundaries: b_c, the boundary cycles (V and input matchings).
      orientable: whether the surface is orientable. A W_l pairing joins row to row and
        column to column (E[W_ij W_kl] = delta_ik delta_jl), a twisted ribbon; the surface
        is orientable iff flipping vertices can untwist every ribbon, i.e. iff the
        component is bipartite.
    """

    tensors: tuple[int, ...]
    euler: int
    boundaries: int
    orientable: bool

    @property
    def closed_euler(self) -> int:
        """chi_c + b_c: the closed surface with its boundaries capped (<= 2; even if
        orientable, 2 - 2 genus)."""
        return self.euler + self.boundaries

    @property
    def surface(self) -> str:
        """The surface by name: disc, annulus, Moebius band, or genus and boundaries."""
        names = {(1, 1, True): "disc", (0, 2, True): "annulus",
                 (0, 1, False): "Moebius band"}
        key = (self.euler, self.boundaries, self.orientable)
        if key in names:
            return names[key]
        if self.orientable:
            return f"genus-{(2 - self.closed_euler) // 2} surface, {self.boundaries} boundaries"
        return (f"non-orientable surface with {2 - self.closed_euler} crosscaps, "
                f"{self.boundaries} boundaries")


@dataclasses.dataclass(frozen=True)
class Diagram:
    """One Feynman diagram (Def. 2; with biases Def. 4).

    Attributes:
      depth: d, the number of hidden layers.
      starts: s_a per tensor: 0 when tensor a starts from U x, s > 0 from the bias b_s
        (degree k_a = d - s_a + 1).
      matchings: (layer type, its matching of 0-based tensors) in network order.
      forced: (letter, layer type, pair) for every contracted derivative pair.
    """

    depth: int
    starts: tuple[int, ...]
    matchings: tuple[tuple[str, Matching], ...]
    forced: tuple[tuple[str, str, Pair], ...]

    @property
    def m(self) -> int:
        return len(self.starts)

    def matching(self, layer: str) -> Matching:
        return dict(self.matchings)[layer]

    def is_forced(self, layer: str, pair: Pair) -> bool:
        return any(t == layer and p == pair for _, t, p in self.forced)

    @property
    def degrees(self) -> tuple[int, ...]:
        """k_a: the number of layer types tensor a touches."""
        return tuple(self.depth - s + 1 for s in self.starts)

    def _lower(self, level: int) -> list[tuple[str, Pair]]:
        """Edges below hidden level ``level``: U (level 1), else W_{l-1} and b_{l-1}."""
        names = ("U",) if level == 1 else (f"W{level - 1}", f"b{level - 1}")
        return [(t, e) for t, mt in self.matchings if t in names for e in mt]

    def _upper(self, level: int) -> list[tuple[str, Pair]]:
        name = "V" if level == self.depth else f"W{level}"
        return [(name, e) for e in self.matching(name)]

    def double_line_graph(self) -> nx.MultiGraph:
        """DL(gamma) (Def. 3, 5): node (a, l) per tensor and level; edge attribute ``layer``."""
        graph = nx.MultiGraph()
        for a, s in enumerate(self.starts):
            graph.add_nodes_from((a, l) for l in range(s + 1, self.depth + 1))
        for level in range(1, self.depth + 1):
            for layer, (a, b) in self._lower(level) + self._upper(level):
                graph.add_edge((a, level), (b, level), layer=layer,
                               forced=self.is_forced(layer, (a, b)))
        return graph

    def double_line_edges(self) -> list[DoubleLineEdge]:
        """The edges of DL(gamma), each labelled with the loop (face) it belongs to."""
        graph = self.double_line_graph()
        loop_of = {node: i for i, comp in enumerate(_ordered(graph)) for node in comp}
        return [DoubleLineEdge(u, v, data["layer"], data["forced"], loop_of[u])
                for u, v, data in graph.edges(data=True)]

    @property
    def level_loops(self) -> tuple[int, ...]:
        """Index loops at each hidden level 1..d (cycles of the two adjacent matchings)."""
        graph = self.double_line_graph()
        counts = [0] * self.depth
        for comp in nx.connected_components(graph):
            counts[next(iter(comp))[1] - 1] += 1
        return tuple(counts)

    @property
    def loops(self) -> int:
        """l_gamma: the faces of the triangulation (loops of DL(gamma))."""
        return sum(self.level_loops)

    @property
    def exponent(self) -> int:
        """s_gamma = l_gamma - sum_a (k_a - 1)/2 (Thm 5, 6): the diagram is n^{s_gamma}."""
        return self.loops - sum(k - 1 for k in self.degrees) // 2

    @property
    def edges(self) -> int:
        """e: edges of the Feynman diagram (each tensor has one per layer type it touches)."""
        return sum(self.degrees) // 2

    @property
    def euler(self) -> int:
        """chi = v - e + f of the triangulated surface."""
        return self.m - self.edges + self.loops

    def feynman_graph(self) -> nx.MultiGraph:
        """The Feynman diagram: node per tensor, edges with ``layer`` and ``forced``."""
        graph = nx.MultiGraph()
        graph.add_nodes_from(range(self.m))
        for layer, matching in self.matchings:
            for a, b in matching:
                graph.add_edge(a, b, layer=layer, forced=self.is_forced(layer, (a, b)))
        return graph

    def boundary_graph(self) -> nx.MultiGraph:
        """The V matching with the input matchings (U, b_s): its cycles are the boundaries."""
        graph = nx.MultiGraph()
        graph.add_nodes_from(range(self.m))
        for layer, matching in self.matchings:
            if layer == "V" or layer == "U" or layer.startswith("b"):
                graph.add_edges_from(matching)
        return graph

    @property
    def boundaries(self) -> int:
        return nx.number_connected_components(self.boundary_graph())

    def components(self) -> tuple[Component, ...]:
        """The connected components of gamma with their Euler characteristic and boundaries."""
        dl = self.double_line_graph()
        faces: dict[int, int] = {}
        for comp in nx.connected_components(dl):
            a = next(iter(comp))[0]
            faces[a] = faces.get(a, 0) + 1
        boundary = self.boundary_graph()
        out = []
        feynman = self.feynman_graph()
        for comp in _ordered(feynman):
            tensors = tuple(sorted(comp))
            f = sum(1 for c in nx.connected_components(dl) if next(iter(c))[0] in comp)
            e = sum(self.degrees[a] for a in tensors) // 2
            b = nx.number_connected_components(boundary.subgraph(tensors))
            out.append(Component(tensors, len(tensors) - e + f, b,
                                 nx.is_bipartite(feynman.subgraph(tensors))))
        return tuple(out)

    @property
    def n_components(self) -> int:
        """c_gamma: connected components of the Feynman diagram."""
        return nx.number_connected_components(self.feynman_graph())

    @property
    def u_pairing(self) -> Matching:
        return self.matching("U")

    def summary(self) -> dict[str, object]:
        """A JSON-able description (1-based tensors)."""
        return {
            "exponent": self.exponent,
            "vertices": self.m,
            "edges": self.edges,
            "loops": self.loops,
            "level_loops": list(self.level_loops),
            "euler": self.euler,
            "boundaries": self.boundaries,
            "components": self.n_components,
            "surfaces": [c.surface for c in self.components()],
            "degrees": list(self.degrees),
            "matchings": {t: [[a + 1, b + 1] for a, b in mt] for t, mt in self.matchings},
            "forced": {letter: t for letter, t, _ in sorted(self.forced)},
        }


def _ordered(graph: nx.Graph) -> list[set]:
    return sorted(nx.connected_components(graph), key=min)


def _vertex_sets(starts: tuple[int, ...], types: tuple[str, ...]) -> list[tuple[int, ...]]:
    """The tensors each layer type touches: U (s = 0), W_l (s < l), b_l (s = l), V (all)."""
    out = []
    for t in types:
        if t == "U":
            keep = [a for a, s in enumerate(starts) if s == 0]
        elif t == "V":
            keep = list(range(len(starts)))
        elif t.startswith("W"):
            keep = [a for a, s in enumerate(starts) if s < int(t[1:])]
        else:
            keep = [a for a, s in enumerate(starts) if s == int(t[1:])]
        out.append(tuple(keep))
    return out


def feynman_diagrams(c: Correlator | str, depth: int, bias: bool = False) -> Iterator[Diagram]:
    """Every diagram of Gamma(C) (Def. 2, 4), lazily; the total is ``n_diagrams`` of
    ``exact_correlator`` (which counts them without listing them)."""
    c = as_correlator(c)
    check_depth(depth)
    contractions = letter_pairs(c)
    pairs = [pair for _, pair in contractions]
    full = (1 << len(pairs)) - 1
    if c.m % 2 or any(i == j for i, j in pairs):
        return
    bias = bias and depth > 1
    types = layer_types(depth, bias)
    all_starts = itertools.product(range(depth), repeat=c.m) if bias else [(0,) * c.m]
    for starts in all_starts:
        sets = _vertex_sets(starts, types)
        yield from _extend(depth, starts, types, sets, contractions, pairs, full, (), 0)


def _extend(depth, starts, types, sets, contractions, pairs, full, chosen, used):
    level = len(chosen)
    if level == len(types):
        if used == full:
            forced = tuple((contractions[k][0], t, contractions[k][1])
                           for t, _, mask in chosen for k in range(len(pairs)) if mask >> k & 1)
            yield Diagram(depth, starts, tuple((t, mt) for t, mt, _ in chosen), forced)
        return
    for matching in perfect_matchings(sets[level]):
        for mask in forced_options(matching, pairs):
            if not mask & used:
                yield from _extend(depth, starts, types, sets, contractions, pairs, full,
                                   chosen + ((types[level], matching, mask),), used | mask)


def leading_diagrams(c: Correlator | str, depth: int, bias: bool = False,
                     limit: int = 50, scan: int = 5000) -> tuple[list[Diagram], bool]:
    """Up to ``limit`` diagrams, highest power of n first; ``(diagrams, is_sorted)``.

    Sorting needs every diagram: with more than ``scan`` of them the first ``limit``
    enumerated are returned in enumeration order and ``is_sorted`` is False.
    """
    found = list(itertools.islice(feynman_diagrams(c, depth, bias), scan + 1))
    if len(found) > scan:
        return found[:limit], False
    found.sort(key=lambda g: -g.exponent)
    return found[:limit], True
